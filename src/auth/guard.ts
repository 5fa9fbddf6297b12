/**
 * The FHIR side of the single enforcement point, used only by the repository
 * (src/fhir/repository.ts): role policy and scopes (AccessControl), the patient relationship for
 * every clinical resource read, searched or written, and the audit entry for each — appended in
 * the same transaction as the access itself. Every method takes the principal the repository was
 * built for; nothing here can be switched off.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import { auditInsertSql, type AuditEntry, type AuditLog } from '../audit/audit.ts';
import { gone, notFound } from '../fhir/outcome.ts';
import { parseStored } from '../fhir/storage.ts';
import type { Restriction } from '../fhir/search.ts';
import type { IndexRows } from '../fhir/searchparams.ts';
import { assertDirectoryWrite } from './directory-scope.ts';
import { AccessControl, AccessDenied, REACH_ALL } from './access.ts';
import { POLICY, type FhirAction } from './policy.ts';
import { scopeAllows } from './scopes.ts';
import { principalFields, type Principal } from './principal.ts';

export interface AccessOutcome {
  patients: string[];
  viaBreakGlass: boolean;
}

export class FhirGuard {
  constructor(
    readonly access: AccessControl,
    readonly audit: AuditLog,
  ) {}

  /**
   * Role policy and scopes for an action on a type. The system is not an actor; a domain action
   * was checked against the policy table when its repository was built, and replaces the type
   * policy — but an app token's scopes still narrow it.
   */
  assertAction(p: Principal, action: FhirAction, resourceType: string): void {
    if (p.kind === 'system') return;
    if (p.domain) {
      const actor = p.ctx.actor;
      if (!actor.role) throw new AccessDenied('Cần đăng nhập (authentication required)', 401);
      // An app's token narrows even a domain action: it reaches only the types and actions its scopes name.
      if (actor.scopes && !scopeAllows(actor.scopes, action, resourceType)) {
        throw new AccessDenied(
          `Token không có phạm vi cho ${action} ${resourceType} (token scope does not allow ${action} on ${resourceType}, needed by ${p.domain})`,
        );
      }
      return;
    }
    this.access.assertAction(p.ctx.actor, action, resourceType);
  }

  /** The same decision as assertAction, as a yes/no (to filter includes, history, $everything). */
  mayRead(p: Principal, resourceType: string): boolean {
    try {
      this.assertAction(p, 'read', resourceType);
      return true;
    } catch {
      return false;
    }
  }

  restriction(p: Principal): Restriction | undefined {
    if (p.kind === 'system') return undefined;
    const actor = p.ctx.actor;
    // Search shows what a read would allow: clinical data linked to no patient too, where orphanAllowed.
    const orphans = this.orphanAllowed(p);
    return (bind, alias) => this.access.restriction(actor, bind, alias, orphans);
  }

  /**
   * Type and system history show every patient's versions: only for principals that reach every
   * patient (integration systems, the platform), and then only of the types they may read.
   */
  assertHistoryAllowed(p: Principal, resourceType?: string): void {
    if (p.kind === 'system') return;
    const a = p.ctx.actor;
    if (resourceType) this.assertAction(p, 'search', resourceType);
    const clinical = !resourceType || this.access.kindOf(resourceType) === 'clinical';
    if (clinical && (!a.role || POLICY[a.role].clinicalReach !== 'all' || a.patientId)) {
      throw new AccessDenied('Lịch sử theo loại tài nguyên chỉ dành cho hệ thống tích hợp (type/system history is limited to integration systems)');
    }
  }

  private async assertPatients(q: Queryable, p: Principal, patients: string[], what: string): Promise<AccessOutcome> {
    if (p.kind === 'system') return { patients, viaBreakGlass: false };
    const actor = p.ctx.actor;
    let viaBreakGlass = false;
    for (const id of patients) {
      const a = await this.access.patientAccess(q, actor, id);
      if (!a.allowed) {
        const glass = !!actor.role && POLICY[actor.role].domain.includes('breakglass.use');
        // The patient is named only to those who may open the record in an emergency (the break-the-glass
        // dialog needs it); to anyone else a resource id is not mapped to the patient it belongs to.
        throw new AccessDenied(
          glass
            ? `Không có quyền truy cập hồ sơ của người bệnh này (${what}: Patient/${id} is not in your care; emergency access (break-the-glass) is available)`
            : `Không có quyền truy cập hồ sơ của người bệnh này (${what}: the patient is not in your care)`,
          403,
          glass,
          id,
        );
      }
      viaBreakGlass ||= a.viaBreakGlass;
    }
    return { patients, viaBreakGlass };
  }

  /** Can this principal reach patient P's record right now (no audit: the caller records the access)? */
  async reaches(q: Queryable, p: Principal, patientId: string): Promise<boolean> {
    if (p.kind === 'system') return true;
    return (await this.access.patientAccess(q, p.ctx.actor, patientId)).allowed;
  }

  /** Clinical data linked to no patient at all: only for principals that reach everyone (or a domain that decided). */
  private orphanAllowed(p: Principal): boolean {
    if (p.kind === 'system' || p.domain) return true;
    const role = p.ctx.actor.role;
    return !!role && POLICY[role].clinicalReach === 'all' && !p.ctx.actor.patientId;
  }

  /** A stored resource (or one version of it) may be read if every patient it belongs to (`patients`: its row's, or the version's) is reachable. */
  async assertReadable(q: Queryable, p: Principal, stored: { resource: Resource; patients: string[] }): Promise<AccessOutcome> {
    const { resourceType, id } = stored.resource;
    const patients = stored.patients;
    if (this.access.kindOf(resourceType) === 'clinical' && patients.length === 0 && resourceType !== 'Patient' && !this.orphanAllowed(p)) {
      throw new AccessDenied(`${resourceType}/${id} is not linked to a patient you can reach`);
    }
    return this.assertPatients(q, p, patients, `${resourceType}/${id}`);
  }

  /**
   * For a plain FHIR read: one statement reads the resource and decides access from its patients.
   * Inside a transaction (`grouped` false) the same statement appends the audit row, so it commits
   * with the unit of work; outside one, the statement only reads and the audit row goes to the
   * grouped append (src/audit/group.ts), awaited before the content is returned — many reads share
   * one commit, and a read whose entry cannot be written fails.
   */
  async readAudited(q: Queryable, p: Principal & { kind: 'actor' }, type: string, id: string, grouped = false): Promise<Resource> {
    const ctx = p.ctx;
    const params: unknown[] = [];
    const bind = (v: unknown) => `$${params.push(v)}`;
    const t = bind(type);
    const i = bind(id);
    const clinical = this.access.kindOf(type) === 'clinical';
    // Whose data the row is: kept on it (resource.patients).
    const patients = 'r.patients';
    const reach = clinical ? this.access.patientsReachSql(ctx.actor, bind, 't.patients') : REACH_ALL;
    // Clinical data tied to no patient is for unrestricted actors only.
    const orphan = clinical && type !== 'Patient' && !this.orphanAllowed(p) ? ' AND cardinality(t.patients) > 0' : '';
    const entry: AuditEntry = { ...principalFields(p), action: 'read', outcome: 'success', resourceType: type, resourceId: id };
    const insert = grouped
      ? ''
      : `, ins AS (${auditInsertSql(bind, entry, { patientIds: 'a.patients', breakGlass: 'a.glass' }, 'a', 'a.allowed AND NOT a.deleted')} RETURNING 1)`;
    const r = await q.query<{ deleted: boolean; content: string | null; patients: string[]; allowed: boolean; glass: boolean }>(
      `WITH t AS (
         SELECT r.rid, r.deleted, v.content::text AS content, ${patients} AS patients
         FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
         WHERE r.resource_type = ${t} AND r.id = ${i}
       ), a AS (SELECT t.*, (x.allowed${orphan}) AS allowed, x.glass FROM t, LATERAL (${reach}) x)${insert}
       SELECT a.deleted, a.content, a.patients, a.allowed, a.glass FROM a`,
      params,
      { prepare: true },
    );
    const row = r.rows[0];
    if (!row) throw notFound(`${type}/${id} not found`);
    if (row.deleted || row.content === null) throw gone(`${type}/${id} was deleted`);
    if (!row.allowed) {
      // Same answer (and break-the-glass hint) as the step-by-step check gives.
      await this.assertReadable(q, p, { resource: parseStored(row.content), patients: row.patients });
      throw new AccessDenied(`${type}/${id} is not linked to a patient you can reach`);
    }
    if (grouped) await this.audit.group.append({ ...entry, patientIds: row.patients, breakGlass: row.glass });
    return parseStored(row.content);
  }

  /** Before a clinician registers a new patient: it belongs to their own facility. */
  prepareCreate(p: Principal, resource: Resource): Resource {
    if (p.kind === 'system' || resource.resourceType !== 'Patient') return resource;
    const a = p.ctx.actor;
    if (a.role === 'citizen') throw new AccessDenied('Citizens cannot create patient records');
    if (a.role && POLICY[a.role].clinicalReach === 'relationship' && a.organizationId) {
      const patient = resource as Resource & { managingOrganization?: { reference?: string } };
      if (!patient.managingOrganization) return { ...patient, managingOrganization: { reference: `Organization/${a.organizationId}` } } as Resource;
      if (patient.managingOrganization.reference !== `Organization/${a.organizationId}`) {
        throw new AccessDenied('Chỉ được đăng ký người bệnh cho cơ sở của mình (a new patient must be registered at your own facility)');
      }
    }
    return resource;
  }

  /**
   * A write may name only patients the principal can already reach (checked against the state
   * before the write, so a write cannot create its own permission), or patients created in the
   * same request.
   */
  async assertWritable(q: Queryable, p: Principal, resource: Resource, rows: IndexRows, createdPatients: Set<string>): Promise<AccessOutcome> {
    // Directory data: the facility's own only (the version a write replaces is checked by update and delete).
    await assertDirectoryWrite(q, p, undefined, resource);
    const patients = rows.patients;
    if (resource.resourceType === 'Patient' && createdPatients.has(resource.id!)) return { patients, viaBreakGlass: false };
    if (this.access.kindOf(resource.resourceType) === 'clinical' && patients.length === 0 && resource.resourceType !== 'Patient' && !this.orphanAllowed(p)) {
      throw new AccessDenied(`A ${resource.resourceType} must name the patient it is about`);
    }
    const outcome = await this.assertPatients(
      q,
      p,
      patients.filter((x) => !createdPatients.has(x)),
      `${resource.resourceType}`,
    );
    return { ...outcome, patients };
  }

  /**
   * A SQL expression over a resource row alias: the patients the row names (its `patients` column:
   * a Patient itself, and every patient its compartment references point at) — read with a
   * search's rows, so its audit entry needs no statement of its own (patientsOfRows).
   */
  readonly patientsOfRowSql = (alias: string): string => `${alias}.patients`;

  /** The patients whose data matched rows hold (for the audit entry): each row read with patientsOfRowSql. */
  patientsOfRows(rows: { rid: number; patients?: string[] }[]): string[] {
    const out = new Set<string>();
    for (const r of rows) {
      if (!r.patients) throw new Error(`row ${r.rid} was read without its patients (patientsOfRowSql)`);
      for (const x of r.patients) out.add(x);
    }
    return [...out];
  }

  /**
   * Records an access. Plain FHIR interactions get a row each, now; a domain or system unit of
   * work with an open transaction collects its accesses into the one row the unit writes.
   */
  async record(q: Queryable, p: Principal, e: Omit<AuditEntry, 'accountId' | 'username' | 'role' | 'organizationId' | 'clientId' | 'ip'>): Promise<void> {
    const entry = this.entryFor(p, e);
    if (entry) await this.audit.append(q, entry);
  }

  /**
   * Records an access that wrote nothing, outside any transaction: its entry goes to the grouped
   * append (src/audit/group.ts) and this resolves once it is committed — answer only after it.
   */
  async recordGrouped(p: Principal, e: Omit<AuditEntry, 'accountId' | 'username' | 'role' | 'organizationId' | 'clientId' | 'ip'>): Promise<void> {
    const entry = this.entryFor(p, e);
    if (entry) await this.audit.group.append(entry);
  }

  /**
   * The audit row an access needs, for a caller that appends it in the statement performing the
   * access (it must commit with it); undefined when an open unit of work collected it instead.
   */
  entryFor(p: Principal, e: Omit<AuditEntry, 'accountId' | 'username' | 'role' | 'organizationId' | 'clientId' | 'ip'>): AuditEntry | undefined {
    const unit = p.kind === 'system' || p.domain ? p.unit : undefined;
    if (unit?.open) {
      unit.add(e);
      return undefined;
    }
    const who = principalFields(p);
    const detail = p.kind === 'actor' && p.domain ? { ...e.detail, via: p.domain } : e.detail;
    return { ...who, ...e, reason: e.reason ?? who.reason, ...(detail ? { detail } : {}) };
  }
}
