/**
 * What the devices and monitoring workflow owns (src/fhir/ownership.ts): a plain FHIR write to
 * one of these — creating one, changing or deleting one, or turning another resource into one —
 * is refused with a 422 OperationOutcome naming the route to use.
 *
 *   - alert Flags (one per alert episode, marked by the alert-severity extension): opened and
 *     closed by the readings themselves (ingest), acknowledged through the alerts inbox;
 *   - the monitoring targets (CarePlan and Goals marked with the remote-monitoring-targets
 *     category): set through PUT /api/patients/{id}/targets, which keeps alert limits in step.
 *
 * Rules: the markers live next to the code that writes them (alerts.ts, monitoring.ts); only a
 * repository acting through a devices action, or the system, may write such resources.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/store.ts';
import { isAlertFlag } from './alerts.ts';
import { isTargetsResource } from './monitoring.ts';

export function registerDeviceRules(store: FhirStore): void {
  store.owns({
    domain: 'devices',
    label: 'Cảnh báo theo dõi từ xa',
    route: 'POST /api/alerts/{id}/acknowledge',
    owns: (r: Resource) => isAlertFlag(r as Resource & { extension?: { url?: string }[] }),
  });
  store.owns({
    domain: 'devices',
    label: 'Mục tiêu theo dõi từ xa',
    route: 'PUT /api/patients/{id}/targets',
    owns: (r: Resource) => isTargetsResource(r as Resource & { category?: { coding?: { system?: string; code?: string }[] }[] }),
  });
}
