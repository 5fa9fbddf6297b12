/**
 * The bulk read behind FHIR Bulk Data `$export` (src/formats/bulk): the current versions of many
 * resources in one statement per batch, keyset-paged by row id (the primary key, so each batch
 * starts where the last ended, however large the store), returned as the stored JSON text — the
 * wire form, never parsed and re-serialised. Internal to src/fhir; reached through
 * `Repository.exportBatch`.
 *
 * Rules: the same checks as a search, decided set-wise in SQL for every row of the batch: the
 * type policy and scopes for every type asked for (a type the principal may not search is refused
 * when named explicitly, left out otherwise), the patient-reach restriction on every row (a row
 * shows only when every patient it names is in reach, as a search shows it), and at Patient/Group
 * level every patient of the set must be reachable or the whole batch is refused. One audit row
 * per batch (action `export`), in the same transaction as the read, naming every patient whose
 * data the batch holds and the count per type.
 */
import type { Queryable } from '../db/db.ts';
import type { Principal } from '../auth/principal.ts';
import { AccessDenied } from '../auth/access.ts';
import type { FhirService } from './service.ts';

export interface ExportBatchQuery {
  /** Resource types to read. */
  types: string[];
  /** Refuse (rather than leave out) a type the principal may not search. */
  strictTypes?: boolean;
  /** Only resources last updated at or after this instant. */
  since?: string;
  /** Patient/Group level: the patients whose compartments (and what those point at) are read. */
  patients?: string[];
  /** Keyset: the last row id of the previous batch (0 to start). */
  after: number;
  limit: number;
}

export interface ExportBatch {
  rows: { type: string; content: string }[];
  /** The row id to continue after; undefined when this was the last batch. */
  next?: number;
}

export async function exportBatch(engine: FhirService, p: Principal, query: ExportBatchQuery, tx?: Queryable): Promise<ExportBatch> {
  const types: string[] = [];
  for (const t of query.types) {
    engine.assertType(t);
    try {
      engine.guard.assertAction(p, 'search', t);
      types.push(t);
    } catch (e) {
      if (query.strictTypes || !(e instanceof AccessDenied)) throw e;
    }
  }
  if (types.length === 0) return { rows: [] };
  if (query.since !== undefined && Number.isNaN(Date.parse(query.since))) throw new Error('since must be an instant');
  const limit = Math.max(1, Math.min(query.limit, 50_000));
  return engine.storage.within(tx, async (q) => {
    const params: unknown[] = [];
    const bind = (v: unknown) => `$${params.push(v)}`;
    const where = [`r.resource_type = ANY(${bind(types)}::text[])`, 'NOT r.deleted', `r.rid > ${bind(query.after)}`];
    if (query.since !== undefined) where.push(`r.last_updated >= ${bind(new Date(query.since).toISOString())}::timestamptz`);
    let scope = '';
    if (query.patients) {
      if (p.kind === 'actor') {
        // Every patient of the set must be in reach: one statement for the whole set.
        const checkParams: unknown[] = [];
        const checkBind = (v: unknown) => `$${checkParams.push(v)}`;
        const ids = checkBind(query.patients);
        const allowed = engine.guard.access.patientsAllowedSql(p.ctx.actor, checkBind, `${ids}::text[]`).allowed;
        if (allowed !== 'true') {
          const r = await q.query<{ ok: boolean }>(`SELECT ${allowed} AS ok`, checkParams);
          if (!r.rows[0].ok)
            throw new AccessDenied('Không có quyền truy cập hồ sơ của mọi người bệnh trong nhóm (a patient of the export is not in your care)');
        }
      }
      const set = bind(query.patients);
      const paramIds = bind([...engine.compartment.values()].flat());
      scope = `AND r.rid IN (
        WITH members AS (
          SELECT rid FROM resource WHERE resource_type = 'Patient' AND id = ANY(${set}::text[])
          UNION SELECT rid FROM idx_reference WHERE target_type = 'Patient' AND target_id = ANY(${set}::text[]) AND param = ANY(${paramIds}::smallint[])
        )
        SELECT rid FROM members
        UNION SELECT t.rid FROM idx_reference ref JOIN resource t ON t.resource_type = ref.target_type AND t.id = ref.target_id
        WHERE ref.rid IN (SELECT rid FROM members))`;
    }
    const hidden = engine.guard.restriction(p)?.(bind, 'r');
    if (hidden) where.push(hidden);
    const r = await q.query<{ rid: string | number; type: string; id: string; content: string }>(
      `SELECT r.rid, r.resource_type AS type, r.id, v.content::text AS content
       FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
       WHERE ${where.join(' AND ')} ${scope}
       ORDER BY r.rid LIMIT ${limit}`,
      params,
    );
    const rows = r.rows;
    if (rows.length === 0) return { rows: [] };
    const counts: Record<string, number> = {};
    const ids = new Map<number, { type: string; id: string }>();
    for (const x of rows) {
      counts[x.type] = (counts[x.type] ?? 0) + 1;
      if (x.type === 'Patient') ids.set(Number(x.rid), { type: x.type, id: x.id });
    }
    const patients = await engine.guard.patientsOfRows(
      q,
      rows.map((x) => ({ rid: Number(x.rid) })),
      ids,
    );
    await engine.guard.record(q, p, {
      action: 'export',
      outcome: 'success',
      resourceType: types.length === 1 ? types[0] : undefined,
      patientIds: patients,
      detail: { operation: '$export', level: query.patients ? 'patients' : 'system', resources: rows.length, counts },
    });
    return {
      rows: rows.map((x) => ({ type: x.type, content: x.content })),
      ...(rows.length === limit ? { next: Number(rows[rows.length - 1].rid) } : {}),
    };
  });
}
