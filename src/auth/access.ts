/**
 * Relationship-based access to patient data, consent and break-the-glass.
 *
 * A clinician reaches patient P when (P is in their care OR P consented to sharing with their
 * facility) AND P has not withdrawn sharing with their facility — or when they hold an active
 * break-the-glass grant for P. "In their care" comes from the care_relationship table, which
 * this module keeps in step with the resources it is derived from (Patient.managingOrganization
 * and generalPractitioner, Encounter, Appointment, ServiceRequest, CareTeam, EpisodeOfCare
 * participants) inside the same write transaction. A citizen reaches their own compartment and
 * those of the family members they manage (family_link, recorded by staff with a proof).
 */
import { randomUUID } from 'node:crypto';
import type { Consent, Reference, Resource } from '@medplum/fhirtypes';
import type { Db, Queryable } from '../db/db.ts';
import { DIRECTORY_TYPES, POLICY, fhirAllowed, type FhirAction, type ResourceKind } from './policy.ts';
import type { Actor } from './actor.ts';
import { scopeAllows } from './scopes.ts';
import type { HistoryEntry } from '../fhir/storage.ts';
import type { SearchRegistry } from '../fhir/searchparams.ts';

export class AccessDenied extends Error {
  constructor(
    message: string,
    readonly status: 401 | 403 = 403,
    /** True when a break-the-glass grant would open this patient's record. */
    readonly breakGlassPossible = false,
    readonly patientId?: string,
  ) {
    super(message);
  }
}

export interface PatientAccess {
  allowed: boolean;
  viaBreakGlass: boolean;
}

/** patientsReachSql for an actor who reaches every patient. */
export const REACH_ALL = 'SELECT true AS allowed, false AS glass';

const ref = (r: Reference | undefined, type: string): string | undefined => {
  const m = r?.reference ? new RegExp(`^${type}/([A-Za-z0-9\\-.]{1,64})$`).exec(r.reference) : null;
  return m?.[1];
};

export class AccessControl {
  /** Resource types in the Patient compartment, and the parameter ids linking each to its patient. */
  readonly compartmentTypes: Set<string>;
  readonly compartmentParamIds: number[];
  /** Types that hold patient data: the compartment (minus directory types such as Schedule) and Binary. */
  readonly clinicalTypes: string[];
  /** The two lists above as SQL literals. */
  readonly compartmentParamsSql: string;
  readonly clinicalTypesSql: string;

  constructor(
    private readonly db: Db,
    registry: SearchRegistry,
    compartment: Map<string, number[]>,
    readonly breakGlassMinutes = 60,
  ) {
    this.compartmentTypes = new Set([...compartment.keys(), 'Patient']);
    this.compartmentParamIds = [...compartment.values()].flat();
    this.clinicalTypes = [...this.compartmentTypes, 'Binary'].filter((t) => !DIRECTORY_TYPES.has(t));
    // Fixed for the process: written into the statement text (prepared once) rather than sent with every request.
    this.compartmentParamsSql = `'{${this.compartmentParamIds.join(',')}}'::smallint[]`;
    this.clinicalTypesSql = `ARRAY[${this.clinicalTypes.map((t) => `'${t.replace(/[^A-Za-z]/g, '')}'`).join(',')}]::text[]`;
    void registry;
  }

  kindOf(resourceType: string): ResourceKind {
    if (DIRECTORY_TYPES.has(resourceType)) return 'directory'; // e.g. Schedule: in the compartment definition, but a practitioner's calendar
    if (this.clinicalTypes.includes(resourceType)) return 'clinical';
    return 'other';
  }

  /** Role policy and token scopes for an action on a type (before any patient is considered). */
  assertAction(actor: Actor, action: FhirAction, resourceType: string): void {
    if (!actor.role) throw new AccessDenied('Cần đăng nhập (authentication required)', 401);
    if (actor.mfaPending) throw new AccessDenied('Cần xác thực hai lớp trước (complete two-factor sign-in first)', 401);
    const kind = this.kindOf(resourceType);
    if (!fhirAllowed(actor.role, action, resourceType, kind)) {
      throw new AccessDenied(`Vai trò ${actor.role} không được phép ${action} ${resourceType} (role ${actor.role} may not ${action} ${resourceType})`);
    }
    if (actor.scopes && !scopeAllows(actor.scopes, action, resourceType)) {
      throw new AccessDenied(`Token không có phạm vi cho ${action} ${resourceType} (token scope does not allow ${action} on ${resourceType})`);
    }
  }

  /**
   * Whether one patient (a SQL expression of their id) is reachable by this actor, as SQL booleans
   * correlated on that id — `normal` through care, consent and role, `glass` through an active
   * break-the-glass grant — so a read or a page checks only its own patients, by index, instead of
   * building the set of everyone the facility reaches. 'all' / 'none' need no SQL.
   */
  private reachPredicate(actor: Actor, bind: (v: unknown) => string): ((id: string) => { normal: string; glass: string }) | 'all' | 'none' {
    const reach = actor.role ? POLICY[actor.role].clinicalReach : 'none';
    if (actor.patientId) {
      // A signed-in citizen reaches their own record and the family members they manage (a
      // relation staff verified); a patient-context token only its patient.
      const own = bind(actor.patientId);
      const family = actor.role === 'citizen' && actor.via === 'session';
      return (id) => ({
        normal: family
          ? `(${id} = ${own}::text OR EXISTS (SELECT 1 FROM family_link acc_f WHERE acc_f.manager_patient_id = ${own}::text AND acc_f.patient_id = ${id} AND acc_f.revoked_at IS NULL))`
          : `(${id} = ${own}::text)`,
        glass: 'false',
      });
    }
    if (reach === 'all') return 'all';
    if (reach !== 'relationship') return 'none';
    const org = bind(actor.organizationId ?? '');
    const prac = bind(actor.practitionerId ?? '');
    const account = bind(actor.accountId ?? '');
    return (id) => ({
      normal: `((EXISTS (SELECT 1 FROM care_relationship acc_c WHERE acc_c.patient_id = ${id} AND (acc_c.organization_id = ${org}::text OR acc_c.practitioner_id = ${prac}::text))
          OR EXISTS (SELECT 1 FROM consent_state acc_s WHERE acc_s.patient_id = ${id} AND acc_s.purpose = 'treatment' AND acc_s.decision = 'permit' AND acc_s.organization_id IN (${org}::text, '*')))
        AND NOT EXISTS (SELECT 1 FROM consent_state acc_d WHERE acc_d.patient_id = ${id} AND acc_d.purpose = 'treatment' AND acc_d.decision = 'deny' AND acc_d.organization_id IN (${org}::text, '*')))`,
      glass: `EXISTS (SELECT 1 FROM break_glass acc_b WHERE acc_b.account_id = ${account}::text AND acc_b.patient_id = ${id} AND acc_b.expires_at > now())`,
    });
  }

  /**
   * A one-row subquery with columns `allowed` (every patient reachable) and `glass` (some patient
   * reachable only through break-the-glass) over an array expression of patient ids, evaluating
   * each patient's reach once (a CASE, in order: the normal reach, then break-the-glass) — for
   * statements that need both, as `LATERAL (…) x`.
   */
  patientsReachSql(actor: Actor, bind: (v: unknown) => string, patients: string): string {
    const reaches = this.reachPredicate(actor, bind);
    if (reaches === 'all') return REACH_ALL;
    if (reaches === 'none') return `SELECT cardinality(${patients}) = 0 AS allowed, false AS glass`;
    const p = reaches('pp.id');
    // OFFSET 0 keeps the subquery whole: flattened into the two aggregates, each patient's
    // relationship, consent and break-the-glass lookups ran twice (seen in EXPLAIN, 2026-12-05).
    return `SELECT coalesce(bool_and(s.reach < 2), true) AS allowed, coalesce(bool_or(s.reach = 1), false) AS glass
      FROM (SELECT CASE WHEN ${p.normal} THEN 0 WHEN ${p.glass} THEN 1 ELSE 2 END AS reach FROM unnest(${patients}) AS pp(id) OFFSET 0) s`;
  }

  /** Can this actor reach patient P's record right now? */
  async patientAccess(q: Queryable, actor: Actor, patientId: string): Promise<PatientAccess> {
    const params: unknown[] = [];
    const bind = (v: unknown) => `$${params.push(v)}`;
    const ids = bind([patientId]);
    const reach = this.patientsReachSql(actor, bind, `${ids}::text[]`);
    if (reach === REACH_ALL) return { allowed: true, viaBreakGlass: false };
    const r = await q.query<{ allowed: boolean; glass: boolean }>(reach, params);
    return { allowed: r.rows[0].allowed, viaBreakGlass: r.rows[0].allowed && r.rows[0].glass };
  }

  /**
   * A SQL predicate over resource rows (alias.rid, alias.resource_type, alias.id) keeping only
   * what the actor may see; undefined when nothing needs hiding.
   */
  restriction(actor: Actor, bind: (v: unknown) => string, alias = 'r', orphans = false): string | undefined {
    const reaches = this.reachPredicate(actor, bind);
    if (reaches === 'all') return undefined;
    const reachable = (id: string) => {
      if (reaches === 'none') return 'false';
      const p = reaches(id);
      return `(${p.normal} OR ${p.glass})`;
    };
    const clinical = this.clinicalTypesSql;
    // Orphans: clinical data linked to no patient at all (e.g. a station's shared Device), for principals a read would allow it to.
    const orphan = orphans
      ? `
      OR (${alias}.resource_type <> 'Patient' AND cardinality(${alias}.patients) = 0)`
      : '';
    // Per row, from the patients kept on it (a Patient names itself): a search by _id or a small
    // page checks its own rows' patients. Like a read, a row shows only when every patient it
    // names is in reach (an Appointment of two patients needs both).
    return `(${alias}.resource_type <> ALL(${clinical})
      OR (cardinality(${alias}.patients) > 0
          AND NOT EXISTS (SELECT 1 FROM unnest(${alias}.patients) AS acc_y(target_id) WHERE NOT ${reachable('acc_y.target_id')}))${orphan})`;
  }

  /** Opens a time-limited emergency access to one patient's record, with a stated reason. */
  async breakGlass(q: Queryable, actor: Actor, patientId: string, reason: string): Promise<{ id: string; expiresAt: Date }> {
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + this.breakGlassMinutes * 60_000);
    await q.query('INSERT INTO break_glass (id, account_id, patient_id, reason, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      id,
      actor.accountId,
      patientId,
      reason,
      expiresAt,
    ]);
    return { id, expiresAt };
  }

  /**
   * Keeps care_relationship and consent_state in step with writes, in their transaction: the rows
   * of every written resource in one INSERT per table (a bundle or batch costs two statements, not
   * one per resource).
   */
  readonly onWrite = async (q: Queryable, entries: (HistoryEntry & { rid: number })[]): Promise<void> => {
    const derived = entries.filter((e) => DERIVED.has(e.resourceType));
    if (derived.length === 0) return;
    // A new resource has nothing derived yet; an update or delete replaces what it had.
    const replaced = derived.filter((e) => e.method !== 'POST');
    const replacedConsents = replaced.filter((e) => e.resourceType === 'Consent').map((e) => e.rid);
    const replacedOthers = replaced.filter((e) => e.resourceType !== 'Consent').map((e) => e.rid);
    if (replacedConsents.length) await q.query('DELETE FROM consent_state WHERE source_rid = ANY($1::bigint[])', [replacedConsents]);
    if (replacedOthers.length) await q.query('DELETE FROM care_relationship WHERE source_rid = ANY($1::bigint[])', [replacedOthers]);
    const consents: (ReturnType<typeof consentRows>[number] & { rid: number })[] = [];
    const rels: (Rel & { rid: number })[] = [];
    for (const e of derived) {
      if (e.deleted || !e.resource) continue;
      if (e.resourceType === 'Consent') consents.push(...consentRows(e.resource as Consent).map((c) => ({ ...c, rid: e.rid })));
      else rels.push(...(await relationshipRows(q, e.resource)).map((r) => ({ ...r, rid: e.rid })));
    }
    if (consents.length) {
      await q.query(
        'INSERT INTO consent_state (source_rid, patient_id, organization_id, purpose, decision) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])',
        [
          consents.map((c) => c.rid),
          consents.map((c) => c.patientId),
          consents.map((c) => c.organizationId),
          consents.map((c) => c.purpose),
          consents.map((c) => c.decision),
        ],
      );
    }
    if (rels.length) {
      await q.query(
        'INSERT INTO care_relationship (source_rid, patient_id, organization_id, practitioner_id, kind) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])',
        [
          rels.map((r) => r.rid),
          rels.map((r) => r.patientId),
          rels.map((r) => r.organizationId ?? null),
          rels.map((r) => r.practitionerId ?? null),
          rels.map((r) => r.kind),
        ],
      );
    }
  };
}

const DERIVED = new Set(['Patient', 'Encounter', 'Appointment', 'ServiceRequest', 'CareTeam', 'EpisodeOfCare', 'Consent']);

interface Rel {
  patientId: string;
  organizationId?: string;
  practitionerId?: string;
  kind: string;
}

/** The facility and practitioner behind a reference to Organization, Practitioner or PractitionerRole. */
async function careParty(q: Queryable, r: Reference | undefined): Promise<{ organizationId?: string; practitionerId?: string } | undefined> {
  const org = ref(r, 'Organization');
  if (org) return { organizationId: org };
  const prac = ref(r, 'Practitioner');
  if (prac) return { practitionerId: prac };
  const roleId = ref(r, 'PractitionerRole');
  if (!roleId) return undefined;
  const row = (
    await q.query<{ content: string }>(
      `SELECT v.content::text AS content FROM resource x JOIN resource_version v ON v.rid = x.rid AND v.version_id = x.version_id
     WHERE x.resource_type = 'PractitionerRole' AND x.id = $1 AND NOT x.deleted`,
      [roleId],
    )
  ).rows[0];
  if (!row) return undefined;
  const pr = JSON.parse(row.content);
  return { organizationId: ref(pr.organization, 'Organization'), practitionerId: ref(pr.practitioner, 'Practitioner') };
}

async function relationshipRows(q: Queryable, resource: Resource): Promise<Rel[]> {
  const out: Rel[] = [];
  const add = async (patientId: string | undefined, party: Reference | undefined, kind: string) => {
    if (!patientId) return;
    const p = await careParty(q, party);
    if (p && (p.organizationId || p.practitionerId)) out.push({ patientId, ...p, kind });
  };
  const r = resource as any;
  switch (resource.resourceType) {
    case 'Patient':
      await add(r.id, r.managingOrganization, 'registered');
      for (const gp of r.generalPractitioner ?? []) await add(r.id, gp, 'gp');
      break;
    case 'Encounter': {
      const pid = ref(r.subject, 'Patient');
      await add(pid, r.serviceProvider, 'encounter');
      for (const p of r.participant ?? []) await add(pid, p.individual, 'encounter');
      break;
    }
    case 'Appointment': {
      const patients = (r.participant ?? []).map((p: any) => ref(p.actor, 'Patient')).filter(Boolean);
      for (const pid of patients) for (const p of r.participant ?? []) await add(pid, p.actor, 'appointment');
      break;
    }
    case 'ServiceRequest': {
      const pid = ref(r.subject, 'Patient');
      await add(pid, r.requester, 'consultation');
      for (const p of r.performer ?? []) await add(pid, p, 'consultation');
      break;
    }
    case 'CareTeam': {
      const pid = ref(r.subject, 'Patient');
      for (const p of r.participant ?? []) await add(pid, p.member, 'care-team');
      for (const o of r.managingOrganization ?? []) await add(pid, o, 'care-team');
      break;
    }
    case 'EpisodeOfCare': {
      const pid = ref(r.patient, 'Patient');
      await add(pid, r.managingOrganization, 'episode');
      await add(pid, r.careManager, 'episode');
      break;
    }
  }
  return out;
}

/** Category of a participant's consent to recording a video session (see src/video). */
export const RECORDING_CONSENT = { system: 'https://cauyte.vn/fhir/CodeSystem/consent-category', code: 'video-recording', display: 'Đồng ý ghi hình cuộc gọi' };

export const CONSENT_SCOPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentscope';

/** An active Consent's effect: permit or deny, per facility (or all), for treatment or research. */
export function consentRows(c: Consent): { patientId: string; organizationId: string; purpose: 'treatment' | 'research'; decision: 'permit' | 'deny' }[] {
  const patientId = ref(c.patient, 'Patient');
  if (!patientId || c.status !== 'active' || !c.provision?.type) return [];
  // A consent to record a video visit says nothing about who may read the record.
  if (c.category?.some((cat) => cat.coding?.some((x) => x.system === RECORDING_CONSENT.system && x.code === RECORDING_CONSENT.code))) return [];
  const research = c.scope?.coding?.some((x) => x.code === 'research') || c.provision.purpose?.some((p) => p.code === 'HRESCH');
  const orgs = (c.provision.actor ?? []).map((a) => ref(a.reference, 'Organization')).filter((x): x is string => !!x);
  return (orgs.length ? orgs : ['*']).map((organizationId) => ({
    patientId,
    organizationId,
    purpose: research ? 'research' : 'treatment',
    decision: c.provision!.type!,
  }));
}
