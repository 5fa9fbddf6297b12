/**
 * The FHIR side of the single enforcement point: role policy and scopes (AccessControl), the
 * patient relationship for every clinical resource read, searched or written, and the audit
 * entry for each — appended in the same transaction as the access itself.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import { auditInsertSql, type AuditEntry, type AuditLog } from '../audit/audit.ts';
import { gone, notFound } from '../fhir/outcome.ts';
import { parseStored } from '../fhir/repository.ts';
import type { Restriction } from '../fhir/search.ts';
import type { IndexRows } from '../fhir/searchparams.ts';
import { AccessControl, AccessDenied } from './access.ts';
import type { AccessContext } from './actor.ts';
import { POLICY, type FhirAction } from './policy.ts';

export interface AccessOutcome {
  patients: string[];
  viaBreakGlass: boolean;
}

export class FhirGuard {
  constructor(
    readonly access: AccessControl,
    readonly audit: AuditLog,
  ) {}

  assertAction(ctx: AccessContext, action: FhirAction, resourceType: string): void {
    this.access.assertAction(ctx.actor, action, resourceType);
  }

  restriction(ctx: AccessContext): Restriction | undefined {
    return (bind, alias) => this.access.restriction(ctx.actor, bind, alias);
  }

  /** Type and system history show every patient's versions: only for unrestricted actors. */
  assertHistoryAllowed(ctx: AccessContext, resourceType?: string): void {
    const a = ctx.actor;
    if (a.via === 'test') return;
    if (resourceType) this.assertAction(ctx, 'search', resourceType);
    const clinical = !resourceType || this.access.kindOf(resourceType) === 'clinical';
    if (clinical && (!a.role || POLICY[a.role].clinicalReach !== 'all' || a.patientId)) {
      throw new AccessDenied('Lịch sử theo loại tài nguyên chỉ dành cho hệ thống tích hợp (type/system history is limited to integration systems)');
    }
  }

  private async assertPatients(q: Queryable, ctx: AccessContext, patients: string[], what: string): Promise<AccessOutcome> {
    let viaBreakGlass = false;
    for (const p of patients) {
      const a = await this.access.patientAccess(q, ctx.actor, p);
      if (!a.allowed) {
        const glass = !!ctx.actor.role && POLICY[ctx.actor.role].domain.includes('breakglass.use');
        throw new AccessDenied(
          `Không có quyền truy cập hồ sơ của người bệnh này (${what}: Patient/${p} is not in your care${glass ? '; emergency access (break-the-glass) is available' : ''})`,
          403,
          glass,
          p,
        );
      }
      viaBreakGlass ||= a.viaBreakGlass;
    }
    return { patients, viaBreakGlass };
  }

  /** Parameter ids that link compartment resources to their Patient (for readStored). */
  get linkParams(): number[] {
    return this.access.compartmentParamIds;
  }

  /** A stored resource may be read if every patient it belongs to is reachable. */
  async assertReadable(q: Queryable, ctx: AccessContext, stored: { rid: number; resource: Resource; patients?: string[] }): Promise<AccessOutcome> {
    const { resourceType, id } = stored.resource;
    const patients =
      resourceType === 'Patient' ? [id!] : !this.access.compartmentTypes.has(resourceType) ? [] : (stored.patients ?? (await this.access.patientsOfStored(q, stored.rid, resourceType, id!)));
    if (this.access.kindOf(resourceType) === 'clinical' && patients.length === 0 && resourceType !== 'Patient') {
      // Clinical data linked to no patient at all: only unrestricted actors.
      if (ctx.actor.via !== 'test' && (!ctx.actor.role || POLICY[ctx.actor.role].clinicalReach !== 'all')) {
        throw new AccessDenied(`${resourceType}/${id} is not linked to a patient you can reach`);
      }
    }
    return this.assertPatients(q, ctx, patients, `${resourceType}/${id}`);
  }

  /**
   * One statement reads the resource, decides access from its patients and appends the audit row
   * only if the read is allowed: a single round trip and a single transaction for the commonest request.
   */
  async readAudited(q: Queryable, ctx: AccessContext, type: string, id: string): Promise<Resource> {
    const params: unknown[] = [];
    const bind = (v: unknown) => `$${params.push(v)}`;
    const t = bind(type);
    const i = bind(id);
    const clinical = this.access.kindOf(type) === 'clinical';
    const patients =
      type === 'Patient'
        ? 'ARRAY[r.id]'
        : this.access.compartmentTypes.has(type)
          ? `ARRAY(SELECT DISTINCT target_id FROM idx_reference x WHERE x.rid = r.rid AND x.param = ANY(${bind(this.access.compartmentParamIds)}::smallint[]) AND x.target_type = 'Patient')`
          : 'ARRAY[]::text[]';
    const reach = ctx.actor.role ? POLICY[ctx.actor.role].clinicalReach : 'none';
    const sql = clinical ? this.access.patientsAllowedSql(ctx.actor, bind, 't.patients') : { allowed: 'true', glass: 'false' };
    // Clinical data tied to no patient is for unrestricted actors only.
    const orphan = clinical && type !== 'Patient' && reach !== 'all' ? ' AND cardinality(t.patients) > 0' : '';
    const insert = auditInsertSql(bind, { ...actorFields(ctx), action: 'read', outcome: 'success', resourceType: type, resourceId: id, reason: ctx.purpose }, { patientIds: 'a.patients', breakGlass: 'a.glass' }, 'a', 'a.allowed AND NOT a.deleted');
    const r = await q.query<{ deleted: boolean; content: string | null; patients: string[]; allowed: boolean }>(
      `WITH t AS (
         SELECT r.rid, r.deleted, v.content::text AS content, ${patients} AS patients
         FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
         WHERE r.resource_type = ${t} AND r.id = ${i}
       ), a AS (SELECT t.*, (${sql.allowed}${orphan}) AS allowed, (${sql.glass}) AS glass FROM t),
       ins AS (${insert} RETURNING 1)
       SELECT a.deleted, a.content, a.patients, a.allowed FROM a`,
      params,
      { prepare: true },
    );
    const row = r.rows[0];
    if (!row) throw notFound(`${type}/${id} not found`);
    if (row.deleted || row.content === null) throw gone(`${type}/${id} was deleted`);
    if (!row.allowed) {
      // Same answer (and break-the-glass hint) as the step-by-step check gives.
      await this.assertReadable(q, ctx, { rid: 0, resource: parseStored(row.content), patients: row.patients });
      throw new AccessDenied(`${type}/${id} is not linked to a patient you can reach`);
    }
    return parseStored(row.content);
  }

  /** Before a clinician registers a new patient: it belongs to their own facility. */
  prepareCreate(ctx: AccessContext, resource: Resource): Resource {
    const a = ctx.actor;
    if (resource.resourceType === 'Patient' && a.role && POLICY[a.role].clinicalReach === 'relationship' && a.organizationId) {
      const p = resource as Resource & { managingOrganization?: { reference?: string } };
      if (!p.managingOrganization) return { ...p, managingOrganization: { reference: `Organization/${a.organizationId}` } } as Resource;
      if (p.managingOrganization.reference !== `Organization/${a.organizationId}`) {
        throw new AccessDenied('Chỉ được đăng ký người bệnh cho cơ sở của mình (a new patient must be registered at your own facility)');
      }
    }
    if (resource.resourceType === 'Patient' && a.role === 'citizen') throw new AccessDenied('Citizens cannot create patient records');
    return resource;
  }

  /**
   * A write may name only patients the actor can already reach (checked against the state before
   * the write, so a write cannot create its own permission), or patients created in the same request.
   */
  async assertWritable(q: Queryable, ctx: AccessContext, resource: Resource, rows: IndexRows, createdPatients: Set<string>): Promise<AccessOutcome> {
    const patients = this.access.patientsOfRows(resource, rows.reference);
    if (resource.resourceType === 'Patient' && createdPatients.has(resource.id!)) return { patients, viaBreakGlass: false };
    if (this.access.kindOf(resource.resourceType) === 'clinical' && patients.length === 0 && ctx.actor.via !== 'test' && (!ctx.actor.role || POLICY[ctx.actor.role].clinicalReach !== 'all')) {
      throw new AccessDenied(`A ${resource.resourceType} must name the patient it is about`);
    }
    return this.assertPatients(q, ctx, patients.filter((p) => !createdPatients.has(p)), `${resource.resourceType}`).then((o) => ({ ...o, patients }));
  }

  /** The patients whose data a list of matched rows holds (for the audit entry). */
  async patientsOfRows(q: Queryable, rows: { rid: number }[], types: Map<number, { type: string; id: string }>): Promise<string[]> {
    if (rows.length === 0) return [];
    const out = new Set<string>();
    for (const [, t] of types) if (t.type === 'Patient') out.add(t.id);
    const r = await q.query<{ target_id: string }>(
      "SELECT DISTINCT target_id FROM idx_reference WHERE rid = ANY($1::bigint[]) AND param = ANY($2::smallint[]) AND target_type = 'Patient'",
      [rows.map((x) => x.rid), this.access.compartmentParamIds],
    );
    for (const x of r.rows) out.add(x.target_id);
    return [...out];
  }

  async record(q: Queryable, ctx: AccessContext, e: Omit<AuditEntry, 'accountId' | 'username' | 'role' | 'organizationId' | 'clientId' | 'ip'>): Promise<void> {
    if (ctx.actor.via === 'test') return;
    await this.audit.append(q, { ...actorFields(ctx), ...e, reason: e.reason ?? ctx.purpose });
  }
}

export function actorFields(ctx: AccessContext): Pick<AuditEntry, 'accountId' | 'username' | 'role' | 'organizationId' | 'clientId' | 'ip'> {
  const a = ctx.actor;
  return { accountId: a.accountId, username: a.username, role: a.role, organizationId: a.organizationId, clientId: a.clientId, ip: ctx.ip };
}
