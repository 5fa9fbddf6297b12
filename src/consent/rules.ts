/**
 * What the consent domain owns: the Consents that decide who may read a record (permit or deny,
 * per facility, for treatment or research — src/auth/access.ts reads them). They are the person's
 * own decision, so they change only through /api/me/consents (the person, or the family member
 * who manages their record), never through plain FHIR — not even by the clinicians who would gain
 * or lose access by them. A consent to record a video call is the video domain's and is left out.
 */
import type { Consent, Resource } from '@medplum/fhirtypes';
import { RECORDING_CONSENT } from '../auth/access.ts';
import type { FhirStore } from '../fhir/store.ts';

export function isAccessConsent(r: Resource): boolean {
  if (r.resourceType !== 'Consent') return false;
  const recording = (r as Consent).category?.some((c) => c.coding?.some((x) => x.system === RECORDING_CONSENT.system && x.code === RECORDING_CONSENT.code));
  return !recording;
}

export function registerConsentRules(store: FhirStore): void {
  store.owns({
    domain: 'consent',
    label: 'Sự đồng ý chia sẻ hồ sơ (Consent)',
    route: 'POST /api/me/consents (và /api/me/consents/{id}/withdraw)',
    owns: isAccessConsent,
  });
}
