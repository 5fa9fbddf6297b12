/**
 * The bulk write path: new resources (version 1) written with COPY instead of INSERT — the
 * resource rows, their version rows and every index row, streamed in PostgreSQL's COPY text format
 * (src/db/copy-text.ts) inside the caller's transaction (pg-copy-streams on PostgreSQL, the blob
 * device on PGlite; `Queryable.copyFrom`). Row ids are taken up front from the resource table's
 * sequence (`nextval` over `generate_series`, one round trip), so every row can be written
 * before any is read back.
 *
 * Rules: only inside a transaction (a failure anywhere leaves nothing); the caller has validated,
 * indexed, access-checked and will audit and check references as for any create — this module
 * only writes rows. Index columns come from INDEX_TABLES (storage-rows.ts), the one description
 * of `IndexRows` both writers use. A duplicate (type, id) fails the COPY (unique index).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import { copyLine } from '../db/copy-text.ts';
import type { IndexRows } from './searchparams.ts';
import { INDEX_TABLES, textArrayLiteral } from './storage-rows.ts';

/** Benchmarks and tests only: the smallest write that goes by COPY on any database (undefined: each database's own). */
let copyMinOverride: number | undefined;

export function setCopyMinimum(n: number | undefined): void {
  copyMinOverride = n;
}

/** Whether `q` can take the COPY path for this many resources (`Queryable.copyWorthFrom`: PostgreSQL 64, PGlite never). */
export function copyWorthIt(q: Queryable, n: number): boolean {
  return typeof q.copyFrom === 'function' && n >= (copyMinOverride ?? q.copyWorthFrom ?? Infinity);
}

/** Row ids for n new resources, from the resource table's own sequence (never reused). */
export async function allocateRids(q: Queryable, n: number): Promise<number[]> {
  const r = await q.query<{ rid: number }>("SELECT nextval(pg_get_serial_sequence('resource', 'rid'))::bigint AS rid FROM generate_series(1, $1::int)", [n], {
    prepare: true,
  });
  return r.rows.map((x) => Number(x.rid));
}

/** The COPY text of one index table's rows of the items ('' when they have none). */
function indexTableText(t: (typeof INDEX_TABLES)[number], items: { rid: number; rows: IndexRows }[]): string {
  let text = '';
  for (const it of items) {
    for (const row of it.rows[t.key] as { param: number }[]) text += copyLine([it.rid, row.param, ...t.values(row as never)]);
  }
  return text;
}

/** Lets pending socket events run (a COPY's CopyInResponse, so its data goes out while the next text is built). */
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Writes new resources at version 1 (method POST) with COPY (see the header); returns the row ids in
 * input order. Each table's COPY is sent as soon as its text is built, and the next text is built
 * while the database takes it in (the statements queue on the one connection, in order); the
 * first failure is the one reported.
 */
export async function copyNew(q: Queryable, items: { resource: Resource; rows: IndexRows }[], lastUpdated: Date): Promise<number[]> {
  if (!q.copyFrom) throw new Error('copyNew needs a connection that can COPY');
  const copyFrom = q.copyFrom.bind(q);
  const rids = await allocateRids(q, items.length);
  const at = lastUpdated.toISOString();
  const sent: Promise<void>[] = [];
  const send = async (sql: string, text: string) => {
    const p = copyFrom(sql, text);
    p.catch(() => undefined); // reported below, in order
    sent.push(p);
    await yieldToIo();
  };
  let resources = '';
  items.forEach(({ resource, rows }, i) => {
    resources += copyLine([rids[i], resource.resourceType, resource.id, 1, at, textArrayLiteral(rows.patients)]);
  });
  await send('COPY resource (rid, resource_type, id, version_id, last_updated, patients) FROM STDIN', resources);
  let versions = '';
  items.forEach(({ resource }, i) => {
    versions += copyLine([rids[i], 1, resource.resourceType, resource.id, at, 'POST', JSON.stringify(resource)]);
  });
  await send('COPY resource_version (rid, version_id, resource_type, id, last_updated, method, content) FROM STDIN', versions);
  const indexed = items.map((it, i) => ({ rid: rids[i], rows: it.rows }));
  for (const t of INDEX_TABLES) {
    const text = indexTableText(t, indexed);
    if (text) await send(`COPY ${t.table} (rid, param, ${t.cols.join(', ')}) FROM STDIN`, text);
  }
  for (const p of sent) await p;
  return rids;
}
