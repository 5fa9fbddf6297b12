/**
 * Patient/$everything: the patient, every resource in their compartment (R4
 * CompartmentDefinition, plus our own links such as Binary.securityContext), and the resources
 * those point at — only of types the principal may read, never another patient's data, audited
 * as an export. Pages by row id.
 */
import type { Bundle, BundleLink } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import type { Principal } from '../auth/principal.ts';
import { LIMITS } from './limits.ts';
import { badRequest } from './outcome.ts';
import type { FhirService } from './service.ts';

/**
 * Patient/$everything: the patient, every resource in their compartment (R4 CompartmentDefinition),
 * and the resources those point at (practitioners, organizations, ...), in pages of _count —
 * only of types the principal may read, and never another patient's data.
 */
export async function everything(engine: FhirService, p: Principal, patientId: string, query: URLSearchParams, tx?: Queryable): Promise<Bundle> {
  engine.assertId(patientId);
  engine.guard.assertAction(p, 'read', 'Patient');
  const countText = query.get('_count');
  if (countText !== null && !/^\d+$/.test(countText)) throw badRequest('_count must be a whole number');
  const count = Math.min(Number(countText ?? 1000) || 1000, LIMITS.everythingCount);
  const cursorText = query.get('_cursor');
  if (cursorText !== null && !/^\d{1,18}$/.test(cursorText)) throw badRequest('_cursor is not valid');
  const after = Number(cursorText ?? 0);
  const paramIds = [...engine.compartment.values()].flat();
  const rows = await engine.storage.within(tx, async (q) => {
    const stored = await engine.storage.readStored('Patient', patientId, q);
    const outcome = await engine.guard.assertReadable(q, p, stored);
    const params: unknown[] = [patientId, paramIds, after];
    const bind = (v: unknown) => `$${params.push(v)}`;
    const hidden = engine.guard.restriction(p)?.(bind, 'r');
    const types = engine.readableTypes(p);
    const r = await q.query<{ rid: number; content: string }>(
      `WITH members AS (
         SELECT rid FROM resource WHERE resource_type = 'Patient' AND id = $1
         UNION SELECT rid FROM idx_reference WHERE target_type = 'Patient' AND target_id = $1 AND param = ANY($2::smallint[])
       ), referenced AS (
         SELECT t.rid FROM idx_reference ref JOIN resource t ON t.resource_type = ref.target_type AND t.id = ref.target_id
         WHERE ref.rid IN (SELECT rid FROM members)
       ), everything AS (SELECT rid FROM members UNION SELECT rid FROM referenced)
       SELECT r.rid, v.content::text AS content FROM resource r
       JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
       WHERE r.rid IN (SELECT rid FROM everything) AND NOT r.deleted AND r.rid > $3
         ${hidden ? `AND ${hidden}` : ''} ${types ? `AND r.resource_type = ANY(${bind(types)}::text[])` : ''}
       ORDER BY r.rid LIMIT ${count + 1}`,
      params,
    );
    await engine.guard.record(q, p, {
      action: 'export',
      outcome: 'success',
      resourceType: 'Patient',
      resourceId: patientId,
      patientIds: outcome.patients,
      breakGlass: outcome.viaBreakGlass,
      detail: { operation: '$everything', entries: Math.min(r.rows.length, count) },
    });
    return r.rows;
  });
  const page = rows.slice(0, count);
  const path = `Patient/${patientId}/$everything`;
  const links: BundleLink[] = [{ relation: 'self', url: engine.link(path, query) }];
  if (rows.length > count) {
    const next = new URLSearchParams(query);
    next.set('_cursor', String(page[page.length - 1].rid));
    links.push({ relation: 'next', url: engine.link(path, next) });
  }
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(rows.length <= count && !cursorText ? { total: page.length } : {}),
    link: links,
    entry: page.map((m) => engine.entry(m, 'match')),
  };
}
