/**
 * The rows one write adds: the resource row, its version row (the history), and its search-index
 * rows — each kind in one statement for any number of resources (unnest of arrays), so a bundle
 * or an ingest batch costs a statement per table, not per resource.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import type { IndexRows } from './searchparams.ts';

export async function insertResources(q: Queryable, resources: Resource[], lastUpdated: Date): Promise<number[]> {
  if (resources.length === 1) {
    const r = await q.query<{ rid: number }>('INSERT INTO resource (resource_type, id, version_id, last_updated) VALUES ($1, $2, 1, $3) RETURNING rid', [
      resources[0].resourceType,
      resources[0].id,
      lastUpdated,
    ]);
    return [r.rows[0].rid];
  }
  const r = await q.query<{ rid: number; id: string }>(
    `INSERT INTO resource (resource_type, id, version_id, last_updated)
     SELECT t, i, 1, $3 FROM unnest($1::text[], $2::text[]) AS x(t, i) RETURNING rid, id`,
    [resources.map((x) => x.resourceType), resources.map((x) => x.id), lastUpdated],
  );
  const byId = new Map(r.rows.map((row) => [row.id, row.rid]));
  return resources.map((x) => byId.get(x.id!)!);
}

export async function insertVersions(q: Queryable, rows: { rid: number; resource: Resource; method: string }[], lastUpdated: Date): Promise<void> {
  await q.query(
    `INSERT INTO resource_version (rid, version_id, resource_type, id, last_updated, method, content)
     SELECT r, v, t, i, $5, m, c::jsonb FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $6::text[], $7::text[]) AS x(r, v, t, i, m, c)`,
    [
      rows.map((x) => x.rid),
      rows.map((x) => Number(x.resource.meta!.versionId)),
      rows.map((x) => x.resource.resourceType),
      rows.map((x) => x.resource.id),
      lastUpdated,
      rows.map((x) => x.method),
      rows.map((x) => JSON.stringify(x.resource)),
    ],
  );
}

export async function deleteIndexRows(q: Queryable, rids: number[]): Promise<void> {
  for (const table of ['idx_string', 'idx_token', 'idx_reference', 'idx_date', 'idx_quantity', 'idx_uri']) {
    await q.query(`DELETE FROM ${table} WHERE rid = ANY($1::bigint[])`, [rids]);
  }
}

/** One INSERT per index table for any number of resources. */
export async function insertIndexRows(q: Queryable, items: { rid: number; rows: IndexRows }[]): Promise<void> {
  const cols = <K extends keyof IndexRows>(key: K): (IndexRows[K][number] & { rid: number })[] =>
    items.flatMap((it) => (it.rows[key] as IndexRows[K][number][]).map((row) => ({ rid: it.rid, ...row })));
  const s = cols('string');
  if (s.length) {
    await q.query('INSERT INTO idx_string (rid, param, norm, exact) SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::text[])', [
      s.map((x) => x.rid),
      s.map((x) => x.param),
      s.map((x) => x.norm),
      s.map((x) => x.exact),
    ]);
  }
  const t = cols('token');
  if (t.length) {
    await q.query('INSERT INTO idx_token (rid, param, system, code) SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::text[])', [
      t.map((x) => x.rid),
      t.map((x) => x.param),
      t.map((x) => x.system),
      t.map((x) => x.code),
    ]);
  }
  const r = cols('reference');
  if (r.length) {
    await q.query('INSERT INTO idx_reference (rid, param, target_type, target_id) SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::text[])', [
      r.map((x) => x.rid),
      r.map((x) => x.param),
      r.map((x) => x.targetType),
      r.map((x) => x.targetId),
    ]);
  }
  const d = cols('date');
  if (d.length) {
    await q.query('INSERT INTO idx_date (rid, param, low, high) SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::timestamptz[], $4::timestamptz[])', [
      d.map((x) => x.rid),
      d.map((x) => x.param),
      d.map((x) => x.low.toISOString()),
      d.map((x) => x.high.toISOString()),
    ]);
  }
  const n = cols('quantity');
  if (n.length) {
    await q.query(
      'INSERT INTO idx_quantity (rid, param, value, system, code) SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::numeric[], $4::text[], $5::text[])',
      [n.map((x) => x.rid), n.map((x) => x.param), n.map((x) => String(x.value)), n.map((x) => x.system), n.map((x) => x.code)],
    );
  }
  const u = cols('uri');
  if (u.length) {
    await q.query('INSERT INTO idx_uri (rid, param, value) SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::text[])', [
      u.map((x) => x.rid),
      u.map((x) => x.param),
      u.map((x) => x.value),
    ]);
  }
}
