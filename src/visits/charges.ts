/**
 * The day's charges of a facility (a documented export: docs/visits.md), as rows, CSV or JSON.
 *
 * Rules: through `charges.export`, for the actor's own facility only. The export is billing, not
 * care: the facility's administrators hold it without reaching its patients' records, so the
 * platform reads the facility's ChargeItems of the day (a system repository, audited with its
 * reason) and the export is recorded against the actor, naming every patient in it (`export`).
 * A CSV cell that starts like a formula is quoted.
 */
import type { ChargeItem } from '@medplum/fhirtypes';
import { AccessDenied } from '../auth/access.ts';
import type { AccessContext } from '../auth/actor.ts';
import type { FhirStore } from '../fhir/store.ts';
import { searchAll } from './all-pages.ts';
import type { ChargeRow } from './contract.ts';
import { chargeSummary, idOf, localInstant } from './model.ts';

export const CHARGE_COLUMNS: (keyof ChargeRow)[] = [
  'chargeId',
  'occurredAt',
  'facilityId',
  'patientId',
  'patientName',
  'serviceCode',
  'serviceName',
  'priceVnd',
  'payer',
  'bhytCard',
  'encounterId',
  'practitionerId',
];

export function chargesCsv(rows: ChargeRow[]): string {
  const cell = (v: unknown) => {
    const s = String(v ?? '');
    return /[",\r\n]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; // quoted; formula-looking cells too
  };
  return [CHARGE_COLUMNS.join(','), ...rows.map((r) => CHARGE_COLUMNS.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}

export class Charges {
  constructor(private readonly store: FhirStore) {}

  /** The charges of the actor's facility on a day (Việt Nam time). */
  async ofDay(ctx: AccessContext, date: string): Promise<ChargeRow[]> {
    const repo = this.store.as(ctx, 'charges.export');
    const orgId = ctx.actor.organizationId;
    if (!orgId) throw new AccessDenied('Tài khoản chưa gắn với cơ sở y tế (your account has no facility)');
    const from = localInstant(date, '00:00');
    const to = new Date(new Date(from).getTime() + 86_400_000).toISOString();
    const reader = this.store.system(`charges export for ${ctx.actor.username ?? ctx.actor.accountId ?? 'staff'} (${orgId})`, 'visits');
    const items = await reader.transaction((tx) =>
      searchAll<ChargeItem>(tx, 'ChargeItem', { 'performing-organization': `Organization/${orgId}`, occurrence: [`ge${from}`, `lt${to}`] }),
    );
    const rows = items.map((c): ChargeRow => {
      const s = chargeSummary(c);
      return {
        chargeId: c.id!,
        occurredAt: c.occurrenceDateTime!,
        facilityId: orgId,
        patientId: idOf(c.subject, 'Patient')!,
        patientName: c.subject.display ?? '',
        serviceCode: s.serviceCode ?? '',
        serviceName: s.serviceName ?? '',
        priceVnd: s.price,
        payer: s.payer,
        bhytCard: s.bhytCard ?? '',
        encounterId: idOf(c.context, 'Encounter') ?? '',
        practitionerId: idOf(c.enterer, 'Practitioner') ?? '',
      };
    });
    rows.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
    await repo.record({
      action: 'export',
      resourceType: 'ChargeItem',
      patientIds: [...new Set(rows.map((r) => r.patientId))],
      detail: { charges: date, facility: orgId, n: rows.length },
    });
    return rows;
  }
}
