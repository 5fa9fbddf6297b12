/**
 * The indicators' source tables, kept in step with the record inside every write's transaction
 * (whichever way the write came: a workflow, the FHIR API, a bulk load, the demo seed):
 *
 *   ServiceRequest / Task of a case conference → programme_consult (one row per case) and its
 *       contribution to programme_consult_month (added and removed exactly, never recounted);
 *   Organization with a facility code → programme_facility (the register; declaration status kept);
 *   Location → programme_location (which facility a bridge point belongs to);
 *   meeting Encounter → programme_meeting_site (one row per site that joined, with minutes);
 *   other finished virtual Encounter → programme_visit (remote examination, ICD-10 reason);
 *   MedicationRequest with a prescription code → programme_prescription;
 *   Patient, home Device → programme_patient_facility, programme_monitoring_device (device-listeners.ts).
 *
 * Rules: listeners get the programme's DomainSql only; no patient identifier is copied into these
 * tables (case, encounter and prescription keys are opaque ids, nothing names a person).
 */
import type { Device, Encounter, Location, MedicationRequest, Organization, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { DomainSql } from '../db/domain-sql.ts';
import type { DomainWriteListener } from '../fhir/store.ts';
import { facilityDigest, facilityOf } from './model.ts';
import { onDevice, onPatient } from './device-listeners.ts';
import { CONSULT_CATEGORY, CONSULT_ID_SYSTEM, isParam, SPECIALTY_SYSTEM, STATE_SYSTEM } from '../consult/model.ts';
import { isInstant, vietnamDay } from '../platform/vietnam-time.ts';

const TRIAGED = new Set(['accepted', 'declined', 'info-requested', 'scheduled', 'concluded', 'acknowledged', 'closed']);
const ACCEPTED = new Set(['accepted', 'scheduled', 'concluded', 'acknowledged', 'closed']);
const CONCLUDED = new Set(['concluded', 'acknowledged', 'closed']);
export const URGENCY_OF: Record<string, string> = { stat: 'emergency', asap: 'emergency', urgent: 'urgent', routine: 'routine' };

export interface ConsultRow {
  case_id: string;
  requesting_org: string | null;
  receiving_org: string | null;
  specialty: string | null;
  urgency: string | null;
  requested_at: string | null;
  triaged_at: string | null;
  assigned_at: string | null;
  concluded_at: string | null;
  accepted: boolean;
  agg_month: string | null;
  agg_province: number | null;
  agg_level: string | null;
  /** The signed conclusion advised transfer to a higher level (null: no conclusion yet, or not recorded). */
  transfer_advised?: boolean | null;
  /** The follow-up outcome the requesting facility recorded. */
  outcome?: string | null;
}

/** Local treatment advised and the patient, followed up, was not transferred. */
export const transferAvoided = (r: Pick<ConsultRow, 'transfer_advised' | 'outcome'>) =>
  r.transfer_advised === false && !!r.outcome && r.outcome !== 'transferred' && r.outcome !== 'unknown';

const orgOf = (ref: string | undefined) => (ref?.startsWith('Organization/') ? ref.slice(13) : null);
const iso = (t: string | undefined) => (t && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : null);
const firstOf = (a: string | null, b: string | null) => (a && b ? (a < b ? a : b) : (a ?? b));

function isConsultSr(s: ServiceRequest): boolean {
  return (
    !!s.category?.some((c) => c.coding?.some((x) => x.system === CONSULT_CATEGORY.system && x.code === CONSULT_CATEGORY.code)) ||
    !!s.identifier?.some((i) => i.system === CONSULT_ID_SYSTEM)
  );
}

export async function loadRow(sql: DomainSql, caseId: string): Promise<ConsultRow | undefined> {
  const r = await sql.query<ConsultRow>(
    `SELECT case_id, requesting_org, receiving_org, specialty, urgency, requested_at, triaged_at, assigned_at, concluded_at, accepted,
            to_char(agg_month, 'YYYY-MM-DD') AS agg_month, agg_province, agg_level, transfer_advised, outcome
       FROM programme_consult WHERE case_id = $1`,
    [caseId],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  const t = (v: unknown) => (v == null ? null : new Date(v as string).toISOString());
  return { ...row, requested_at: t(row.requested_at), triaged_at: t(row.triaged_at), assigned_at: t(row.assigned_at), concluded_at: t(row.concluded_at) };
}

/** Adds (sign 1) or removes (sign -1) one case's contribution to the monthly counts. */
async function contribute(sql: DomainSql, row: ConsultRow, sign: 1 | -1): Promise<void> {
  if (!row.agg_month || row.agg_province == null || !row.agg_level) return;
  const is = (x: boolean) => (x ? sign : 0);
  await sql.query(
    `INSERT INTO programme_consult_month (month, province_code, level, specialty, urgency, requested, accepted, concluded,
                                          followed_up, improved, stable, transferred, died, local_advised, transfers_avoided)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (month, province_code, level, specialty, urgency) DO UPDATE SET
       requested = programme_consult_month.requested + EXCLUDED.requested,
       accepted = programme_consult_month.accepted + EXCLUDED.accepted,
       concluded = programme_consult_month.concluded + EXCLUDED.concluded,
       followed_up = programme_consult_month.followed_up + EXCLUDED.followed_up,
       improved = programme_consult_month.improved + EXCLUDED.improved,
       stable = programme_consult_month.stable + EXCLUDED.stable,
       transferred = programme_consult_month.transferred + EXCLUDED.transferred,
       died = programme_consult_month.died + EXCLUDED.died,
       local_advised = programme_consult_month.local_advised + EXCLUDED.local_advised,
       transfers_avoided = programme_consult_month.transfers_avoided + EXCLUDED.transfers_avoided`,
    [
      row.agg_month,
      row.agg_province,
      row.agg_level,
      row.specialty ?? '',
      row.urgency ?? 'routine',
      sign,
      is(row.accepted),
      is(!!row.concluded_at),
      is(!!row.outcome),
      is(row.outcome === 'improved'),
      is(row.outcome === 'stable'),
      is(row.outcome === 'transferred'),
      is(row.outcome === 'died'),
      is(row.transfer_advised === false),
      is(transferAvoided(row)),
    ],
  );
}

/** Where a case is filed: month of request, province and level of the requesting facility (0/'unregistered' when not in the register). */
async function filing(sql: DomainSql, row: ConsultRow): Promise<Pick<ConsultRow, 'agg_month' | 'agg_province' | 'agg_level'>> {
  if (!row.requested_at || !row.requesting_org) return { agg_month: null, agg_province: null, agg_level: null };
  const f = await sql.query<{ province_code: number; level: string }>('SELECT province_code, level FROM programme_facility WHERE org_id = $1', [
    row.requesting_org,
  ]);
  return {
    agg_month: `${vietnamDay(row.requested_at).slice(0, 7)}-01`,
    agg_province: f.rows[0]?.province_code ?? 0,
    agg_level: f.rows[0]?.level ?? 'unregistered',
  };
}

/** Writes the new version of a case's row and moves its contribution (old out, new in) in the same transaction. */
export async function saveConsult(sql: DomainSql, old: ConsultRow | undefined, next: ConsultRow | undefined): Promise<void> {
  if (old) await contribute(sql, old, -1);
  if (!next) {
    if (old) await sql.query('DELETE FROM programme_consult WHERE case_id = $1', [old.case_id]);
    return;
  }
  Object.assign(next, await filing(sql, next));
  await sql.query(
    `INSERT INTO programme_consult (case_id, requesting_org, receiving_org, specialty, urgency, requested_at, triaged_at, assigned_at, concluded_at, accepted,
                                    agg_month, agg_province, agg_level, transfer_advised, outcome)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (case_id) DO UPDATE SET requesting_org = EXCLUDED.requesting_org, receiving_org = EXCLUDED.receiving_org, specialty = EXCLUDED.specialty,
       urgency = EXCLUDED.urgency, requested_at = EXCLUDED.requested_at, triaged_at = EXCLUDED.triaged_at, assigned_at = EXCLUDED.assigned_at,
       concluded_at = EXCLUDED.concluded_at, accepted = EXCLUDED.accepted, agg_month = EXCLUDED.agg_month, agg_province = EXCLUDED.agg_province, agg_level = EXCLUDED.agg_level,
       transfer_advised = EXCLUDED.transfer_advised, outcome = EXCLUDED.outcome`,
    [
      next.case_id,
      next.requesting_org,
      next.receiving_org,
      next.specialty,
      next.urgency,
      next.requested_at,
      next.triaged_at,
      next.assigned_at,
      next.concluded_at,
      next.accepted,
      next.agg_month,
      next.agg_province,
      next.agg_level,
      next.transfer_advised ?? null,
      next.outcome ?? null,
    ],
  );
  await contribute(sql, next, 1);
}

const empty = (caseId: string): ConsultRow => ({
  case_id: caseId,
  requesting_org: null,
  receiving_org: null,
  specialty: null,
  urgency: null,
  requested_at: null,
  triaged_at: null,
  assigned_at: null,
  concluded_at: null,
  accepted: false,
  agg_month: null,
  agg_province: null,
  agg_level: null,
});

async function onConsultRequest(sql: DomainSql, id: string, sr: ServiceRequest | undefined): Promise<void> {
  const old = await loadRow(sql, id);
  if (!sr) return saveConsult(sql, old, undefined);
  if (!isConsultSr(sr)) return;
  const next = { ...(old ?? empty(id)) };
  next.specialty = sr.code?.coding?.find((c) => c.system === SPECIALTY_SYSTEM)?.code ?? next.specialty ?? '';
  next.urgency = URGENCY_OF[sr.priority ?? 'routine'] ?? 'routine';
  next.receiving_org = orgOf(sr.performer?.[0]?.reference) ?? next.receiving_org;
  await saveConsult(sql, old, next);
}

async function onConsultTask(sql: DomainSql, t: Task): Promise<void> {
  const state = t.businessStatus?.coding?.find((c) => c.system === STATE_SYSTEM)?.code;
  const focus = t.focus?.reference;
  if (!state || !focus?.startsWith('ServiceRequest/')) return;
  const id = focus.slice('ServiceRequest/'.length);
  const old = await loadRow(sql, id);
  const next = { ...(old ?? empty(id)) };
  const at = iso(t.lastModified) ?? iso(t.authoredOn) ?? new Date().toISOString();
  next.requesting_org = orgOf(t.requester?.reference) ?? next.requesting_org;
  next.receiving_org = orgOf(t.owner?.reference) ?? next.receiving_org;
  if (t.priority) next.urgency = URGENCY_OF[t.priority] ?? next.urgency;
  if (state !== 'draft') next.requested_at = firstOf(next.requested_at, at);
  if (TRIAGED.has(state)) next.triaged_at = firstOf(next.triaged_at, at);
  if (ACCEPTED.has(state)) next.accepted = true;
  if (CONCLUDED.has(state)) next.concluded_at = firstOf(next.concluded_at, at);
  if ((t.input ?? []).some((i) => isParam(i, 'specialist'))) next.assigned_at = firstOf(next.assigned_at, at);
  // The conclusion's transfer advice (written when it is signed) and the last follow-up outcome.
  const outputs = t.output ?? [];
  const advice = [...outputs].reverse().find((o) => isParam(o, 'transfer-advised'));
  if (advice && typeof advice.valueBoolean === 'boolean') next.transfer_advised = advice.valueBoolean;
  const outcome = [...outputs].reverse().find((o) => isParam(o, 'outcome'))?.valueCode;
  if (outcome) next.outcome = outcome;
  await saveConsult(sql, old, next);
}

function minutesOf(start?: string, end?: string): number {
  const a = Date.parse(start ?? '');
  const b = Date.parse(end ?? '');
  return Number.isNaN(a) || Number.isNaN(b) || b < a ? 0 : Math.round((b - a) / 60_000);
}

async function onMeetingEncounter(sql: DomainSql, id: string, e: Encounter | undefined, created = false): Promise<void> {
  if (!created) await sql.query('DELETE FROM programme_meeting_site WHERE meeting_id = $1', [id]);
  if (!e) return;
  const perOrg = new Map<string, { day: string; minutes: number }>();
  const locIds = [...new Set((e.location ?? []).map((l) => l.location.reference?.replace(/^Location\//, '')).filter((x): x is string => !!x))];
  if (!locIds.length) return;
  const owners = await sql.query<{ location_id: string; org_id: string }>('SELECT location_id, org_id FROM programme_location WHERE location_id = ANY($1)', [
    locIds,
  ]);
  const orgOfLoc = new Map(owners.rows.map((r) => [r.location_id, r.org_id]));
  for (const l of e.location ?? []) {
    const org = orgOfLoc.get(l.location.reference?.replace(/^Location\//, '') ?? '');
    const start = l.period?.start ?? e.period?.start;
    if (!org || !start || !isInstant(start)) continue;
    const cur = perOrg.get(org) ?? { day: vietnamDay(start), minutes: 0 };
    cur.minutes += minutesOf(start, l.period?.end ?? e.period?.end);
    perOrg.set(org, cur);
  }
  for (const [org, v] of perOrg)
    await sql.query('INSERT INTO programme_meeting_site (meeting_id, org_id, day, minutes) VALUES ($1, $2, $3, $4)', [id, org, v.day, v.minutes]);
}

/** `created`: a new resource (POST), which has no row yet — no DELETE (most Encounters written, e.g. by an import, are new). */
async function onVisitEncounter(sql: DomainSql, id: string, e: Encounter | undefined, created = false): Promise<void> {
  if (!created) await sql.query('DELETE FROM programme_visit WHERE encounter_id = $1', [id]);
  if (!e || e.status !== 'finished' || e.class?.code !== 'VR') return;
  const org = orgOf(e.serviceProvider?.reference);
  const start = e.period?.start ?? e.period?.end;
  if (!org || !start || !isInstant(start)) return;
  const condition = e.reasonCode?.flatMap((r) => r.coding ?? []).find((c) => c.system === 'http://hl7.org/fhir/sid/icd-10')?.code ?? '';
  await sql.query('INSERT INTO programme_visit (encounter_id, org_id, day, condition, minutes) VALUES ($1, $2, $3, $4, $5)', [
    id,
    org,
    vietnamDay(start),
    condition,
    minutesOf(e.period?.start, e.period?.end),
  ]);
}

async function onPrescription(sql: DomainSql, m: MedicationRequest): Promise<void> {
  const code = m.groupIdentifier?.value;
  const enc = m.encounter?.reference?.replace(/^Encounter\//, '');
  if (!code || !enc || m.status === 'entered-in-error') return;
  const v = await sql.query<{ org_id: string }>('SELECT org_id FROM programme_visit WHERE encounter_id = $1', [enc]);
  const day = vietnamDay(m.authoredOn && isInstant(m.authoredOn) ? m.authoredOn : Date.now());
  await sql.query('INSERT INTO programme_prescription (rx_key, org_id, day) VALUES ($1, $2, $3) ON CONFLICT (rx_key) DO NOTHING', [
    `${m.groupIdentifier?.system ?? ''}|${code}`,
    v.rows[0]?.org_id ?? '',
    day,
  ]);
}

const isMeeting = (e: Encounter) => !!e.serviceType?.coding?.some((c) => c.system === CONSULT_CATEGORY.system && c.code === CONSULT_CATEGORY.code);

export const programmeOnWrite: DomainWriteListener = async (sql, e) => {
  const r = e.deleted ? undefined : e.resource;
  switch (e.resourceType) {
    case 'ServiceRequest':
      return onConsultRequest(sql, e.id, r as ServiceRequest | undefined);
    case 'Task':
      if (r) await onConsultTask(sql, r as Task);
      return;
    case 'Organization': {
      const f = r ? facilityOf(r as Organization) : undefined;
      if (!f) {
        // A new Organization (POST) without a facility code was never in the register.
        if (e.method !== 'POST') await sql.query('DELETE FROM programme_facility WHERE org_id = $1', [e.id]);
        return;
      }
      await sql.query(
        `INSERT INTO programme_facility (org_id, code, name, level, owner, province_code, commune_code, digest, location_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT min(location_id) FROM programme_location WHERE org_id = $1))
         ON CONFLICT (org_id) DO UPDATE SET code = EXCLUDED.code, digest = EXCLUDED.digest, location_id = COALESCE(programme_facility.location_id, EXCLUDED.location_id), name = EXCLUDED.name, level = EXCLUDED.level, owner = EXCLUDED.owner,
           province_code = EXCLUDED.province_code, commune_code = EXCLUDED.commune_code, updated_at = now()`,
        [e.id, f.code, f.name, f.level, f.owner, f.provinceCode, f.communeCode, facilityDigest(f)],
      );
      return;
    }
    case 'Location': {
      const org = orgOf((r as Location | undefined)?.managingOrganization?.reference);
      if (!org) return void (await sql.query('DELETE FROM programme_location WHERE location_id = $1', [e.id]));
      await sql.query('INSERT INTO programme_location (location_id, org_id) VALUES ($1, $2) ON CONFLICT (location_id) DO UPDATE SET org_id = EXCLUDED.org_id', [
        e.id,
        org,
      ]);
      await sql.query('UPDATE programme_facility SET location_id = $1 WHERE org_id = $2 AND location_id IS NULL', [e.id, org]);
      return;
    }
    case 'Encounter': {
      const enc = r as Encounter | undefined;
      // A POST creates a new resource (new id, new row): nothing of it is in the programme's tables yet.
      const created = e.method === 'POST';
      if (enc && isMeeting(enc)) return onMeetingEncounter(sql, e.id, enc, created);
      if (!enc) {
        await onMeetingEncounter(sql, e.id, undefined);
        return onVisitEncounter(sql, e.id, undefined);
      }
      return onVisitEncounter(sql, e.id, enc, created);
    }
    case 'MedicationRequest':
      if (r) await onPrescription(sql, r as MedicationRequest);
      return;
    case 'Patient':
      return onPatient(sql, e.id, r as Patient | undefined, e.method === 'POST');
    case 'Device':
      return onDevice(sql, e.id, r as Device | undefined, e.lastUpdated);
  }
};
