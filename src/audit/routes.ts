/**
 * Reading the audit trail: the data-protection officer's viewer and chain check, the trail as
 * FHIR AuditEvent (for officers' tools), and a citizen's "who saw my record" — for themselves
 * or for a family member they manage. Reading the trail is itself recorded, with the patients
 * the entries shown are about (so an officer's look shows in their own access logs). A citizen
 * reads their log in words (AccessLogEntry): no staff login name, IP address or ids. Queries are parsed
 * with the contract's schemas and answers have its types (contract.ts).
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../db/db.ts';
import { AccessControl } from '../auth/access.ts';
import { actorFields } from '../auth/principal.ts';
import { ROLE_LABELS, type Role } from '../auth/policy.ts';
import { dataSubject } from '../family/links.ts';
import { parseInput as parse } from '../http/input.ts';
import { iso } from '../http/json.ts';
import { toAuditEvent, type AuditRow } from './audit.ts';
import { accessLogQuery, auditEventQuery, auditQuery, type AccessLogEntry, type AuditEntry, type ChainCheck } from './contract.ts';

/** The audit entry as an officer reads it. */
export function auditView(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: iso(r.at),
    who: r.username ?? r.client_id ?? 'anonymous',
    role: r.role,
    roleLabel: r.role ? ROLE_LABELS[r.role as Role] : undefined,
    organizationId: r.organization_id,
    action: r.action,
    outcome: r.outcome,
    resource: r.resource_type ? `${r.resource_type}${r.resource_id ? `/${r.resource_id}` : ''}` : undefined,
    patients: r.patient_ids,
    reason: r.reason,
    breakGlass: r.break_glass,
    ip: r.ip,
    sealed: r.chain_pos !== null,
  };
}

/**
 * The patients the entries shown are about: an officer's look at them is recorded with them, so it
 * shows in those patients' own access logs (as `/api/audit/search` does).
 */
function patientsIn(rows: AuditRow[]): string[] {
  return [...new Set(rows.flatMap((r) => r.patient_ids ?? []))];
}

export async function auditRoutes(app: FastifyInstance, opts: { db: Db; access: AccessControl }): Promise<void> {
  const { audit } = app;
  const fhirBase = app.store.fhirBase;

  app.get('/api/audit', { config: { access: { domain: 'audit.read' } } }, async (req): Promise<AuditEntry[]> => {
    const q = parse(auditQuery, req.query);
    const rows = await audit.list({ ...q, breakGlass: q.breakGlass === 'true' });
    await audit.record({ ...actorFields(req.ctx), action: 'audit.read', outcome: 'success', patientIds: patientsIn(rows), detail: { filter: q } });
    return rows.map(auditView);
  });

  app.get('/api/audit/verify', { config: { access: { domain: 'audit.read' } } }, async (req): Promise<ChainCheck> => {
    await audit.seal();
    const result = await audit.verify();
    await audit.record({ ...actorFields(req.ctx), action: 'audit.verify', outcome: result.ok ? 'success' : 'failure', detail: { ...result } });
    return result;
  });

  app.get('/fhir/R4/AuditEvent', { config: { access: 'fhir' } }, async (req, reply) => {
    opts.access.assertAction(req.ctx.actor, 'search', 'AuditEvent');
    const q = parse(auditEventQuery, req.query);
    const patient = q.patient?.replace(/^Patient\//, '');
    const rows = await audit.list({ limit: q._count, patientId: patient, before: q._before });
    await audit.record({ ...actorFields(req.ctx), action: 'audit.read', outcome: 'success', patientIds: patientsIn(rows), detail: { fhir: true } });
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: rows.map((r) => ({ fullUrl: `${fhirBase}/AuditEvent/${r.id}`, resource: toAuditEvent(r), search: { mode: 'match' } })),
    };
    return reply.type('application/fhir+json; charset=utf-8').send(bundle);
  });

  app.get('/fhir/R4/AuditEvent/:id', { config: { access: 'fhir' } }, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    opts.access.assertAction(req.ctx.actor, 'read', 'AuditEvent');
    const row = /^\d{1,15}$/.test(req.params.id)
      ? (await opts.db.query<AuditRow>('SELECT * FROM audit_log WHERE id = $1', [Number(req.params.id)])).rows[0]
      : undefined;
    if (!row)
      return reply
        .code(404)
        .type('application/fhir+json; charset=utf-8')
        .send({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: `AuditEvent/${req.params.id} not found` }] });
    await audit.record({
      ...actorFields(req.ctx),
      action: 'audit.read',
      outcome: 'success',
      resourceType: 'AuditEvent',
      resourceId: req.params.id,
      patientIds: patientsIn([row]),
      detail: { fhir: true },
    });
    return reply.type('application/fhir+json; charset=utf-8').send(toAuditEvent(row));
  });

  // The citizen's own view: who accessed my record — and the same for a family member they manage.
  app.get('/api/me/access-log', { config: { access: { domain: 'access-log.own' } } }, async (req): Promise<AccessLogEntry[]> => {
    const repo = app.store.as(req.ctx, 'access-log.own');
    const q = parse(accessLogQuery, req.query);
    const subject = await dataSubject(repo.sql, req.ctx.actor, q.patientId);
    await audit.seal();
    // Others' accesses, refused attempts and one's own actions each have their own share of the page.
    const rows = await audit.forPatient(subject.patientId, { self: req.ctx.actor.accountId, before: q.before });
    // Looking at someone else's access log is itself an access to their data.
    if (subject.asRelatedPerson)
      await audit.record({
        ...actorFields(req.ctx),
        action: 'access-log.read',
        outcome: 'success',
        resourceType: 'Patient',
        resourceId: subject.patientId,
        patientIds: [subject.patientId],
        detail: { as: `RelatedPerson/${subject.asRelatedPerson}` },
      });
    // Who, in words: the person's name on their account and their facility's name (directory data).
    const accountIds = [...new Set(rows.map((r) => r.account_id).filter((x): x is string => !!x))];
    const names = new Map(
      accountIds.length
        ? (await opts.db.query<{ id: string; display_name: string }>('SELECT id, display_name FROM account WHERE id = ANY($1)', [accountIds])).rows.map((a) => [
            a.id,
            a.display_name,
          ])
        : [],
    );
    const orgIds = [...new Set(rows.map((r) => r.organization_id).filter((x): x is string => !!x))];
    const orgs = new Map<string, string>();
    if (orgIds.length)
      for (const o of await app.store
        .system('access log: facility names', 'audit')
        .search<{ resourceType: 'Organization'; id?: string; name?: string }>('Organization', {
          _id: orgIds.join(','),
          _count: String(orgIds.length),
          _elements: 'name',
        }))
        orgs.set(o.id!, o.name ?? '');
    // In words only: no login name, IP address, ids, or other patients an entry touched.
    return rows.map((r): AccessLogEntry => ({
      id: r.id,
      at: iso(r.at),
      role: r.role,
      ...(r.role ? { roleLabel: ROLE_LABELS[r.role as Role] } : {}),
      action: r.action,
      outcome: r.outcome,
      ...(r.resource_type ? { resourceType: r.resource_type } : {}),
      reason: r.reason,
      breakGlass: r.break_glass,
      self: r.account_id === req.ctx.actor.accountId,
      ...(r.account_id && names.get(r.account_id) ? { whoName: names.get(r.account_id) } : {}),
      ...(r.organization_id && orgs.get(r.organization_id) ? { organizationName: orgs.get(r.organization_id) } : {}),
      ...(!r.account_id && r.client_id ? { app: r.client_id } : {}),
    }));
  });
}
