/**
 * The rows one write adds: the resource row (with the patients whose data it is, `IndexRows.patients`),
 * its version row (the history), and its search-index rows — for any number of resources (unnest of arrays). `insertNew` and `writeVersion` write all
 * of them, and optionally the audit row and the reference check, in ONE prepared statement (a CTE
 * per table): a create or update costs one round trip for its rows, a bundle one for all its
 * creates. The per-table functions remain for reindexing.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import { auditInsertSql, type AuditEntry } from '../audit/audit.ts';
import type { IndexRows } from './searchparams.ts';

/** A text[] value as PostgreSQL's array literal (`{"a","b"}`): bound as one text and cast per row, or written into COPY text. */
export function textArrayLiteral(xs: readonly string[]): string {
  return `{${xs.map((x) => `"${x.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

export async function deleteIndexRows(q: Queryable, rids: number[]): Promise<void> {
  for (const table of INDEX_TABLES.map((t) => t.table)) {
    await q.query(`DELETE FROM ${table} WHERE rid = ANY($1::bigint[])`, [rids]);
  }
}

/** Sets the resource rows' patients (reindexing, filling: src/fhir/patients-fill.ts). */
export async function setPatients(q: Queryable, items: { rid: number; rows: Pick<IndexRows, 'patients'> }[]): Promise<void> {
  await q.query('UPDATE resource r SET patients = x.p::text[] FROM unnest($1::bigint[], $2::text[]) AS x(rid, p) WHERE r.rid = x.rid', [
    items.map((i) => i.rid),
    items.map((i) => textArrayLiteral(i.rows.patients)),
  ]);
}

/** One INSERT per index table (those with rows) for any number of resources (reindexing). */
export async function insertIndexRows(q: Queryable, items: { rid: number; rows: IndexRows }[]): Promise<void> {
  for (const t of INDEX_TABLES) {
    const rows = items.flatMap((it) => (it.rows[t.key] as { param: number }[]).map((row) => [it.rid, row.param, ...t.values(row as never)]));
    if (rows.length === 0) continue;
    const types = ['bigint', 'smallint', ...t.types];
    await q.query(
      `INSERT INTO ${t.table} (rid, param, ${t.cols.join(', ')}) SELECT * FROM unnest(${types.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})`,
      types.map((_, i) => rows.map((r) => r[i])),
    );
  }
}

/**
 * The index tables, their columns after (rid, param), each column's array type and how a row
 * gives its values: the one place both row writers (the INSERT statements here and the COPY path,
 * storage-copy.ts) read the shape of `IndexRows` from.
 */
export const INDEX_TABLES: { table: string; key: keyof IndexRows; cols: string[]; types: string[]; values: (x: never) => unknown[] }[] = [
  { table: 'idx_string', key: 'string', cols: ['norm', 'exact'], types: ['text', 'text'], values: (x: IndexRows['string'][number]) => [x.norm, x.exact] },
  { table: 'idx_token', key: 'token', cols: ['system', 'code'], types: ['text', 'text'], values: (x: IndexRows['token'][number]) => [x.system, x.code] },
  {
    table: 'idx_reference',
    key: 'reference',
    cols: ['target_type', 'target_id'],
    types: ['text', 'text'],
    values: (x: IndexRows['reference'][number]) => [x.targetType, x.targetId],
  },
  {
    table: 'idx_date',
    key: 'date',
    cols: ['low', 'high'],
    types: ['timestamptz', 'timestamptz'],
    values: (x: IndexRows['date'][number]) => [x.low.toISOString(), x.high.toISOString()],
  },
  {
    table: 'idx_quantity',
    key: 'quantity',
    cols: ['value', 'system', 'code'],
    types: ['numeric', 'text', 'text'],
    values: (x: IndexRows['quantity'][number]) => [String(x.value), x.system, x.code],
  },
  { table: 'idx_uri', key: 'uri', cols: ['value'], types: ['text'], values: (x: IndexRows['uri'][number]) => [x.value] },
  { table: 'idx_string_contains', key: 'contains', cols: ['norm'], types: ['text'], values: (x: IndexRows['contains'][number]) => [x.norm] },
];

/** Binds parameters in order and writes `$n`. */
class Binder {
  readonly params: unknown[] = [];
  bind(v: unknown): string {
    return `$${this.params.push(v)}`;
  }
}

/**
 * One CTE per index table, inserting rows keyed by an item number `n` that `keys` (a CTE of
 * (n, rid)) maps to the resource's row id. Empty arrays insert nothing.
 */
function indexInserts(b: Binder, items: IndexRows[], keys: string): string[] {
  return INDEX_TABLES.map((t, ti) => {
    const ns: number[] = [];
    const params: number[] = [];
    const cols: unknown[][] = t.cols.map(() => []);
    items.forEach((rows, n) => {
      for (const row of rows[t.key] as { param: number }[]) {
        ns.push(n + 1);
        params.push(row.param);
        t.values(row as never).forEach((v, c) => cols[c].push(v));
      }
    });
    const names = t.cols.map((_, c) => `c${c}`);
    return `i${ti} AS (INSERT INTO ${t.table} (rid, param, ${t.cols.join(', ')})
      SELECT k.rid, x.p, ${names.map((c) => `x.${c}`).join(', ')}
      FROM unnest(${b.bind(ns)}::bigint[], ${b.bind(params)}::smallint[], ${cols.map((c, i) => `${b.bind(c)}::${t.types[i]}[]`).join(', ')}) AS x(n, p, ${names.join(', ')})
      JOIN ${keys} k ON k.n = x.n)`;
  });
}

/** A CTE appending one audit row (src/audit/audit.ts), so the entry commits with the write in the same statement. */
function auditInsert(b: Binder, e: AuditEntry): string {
  return `a AS (${auditInsertSql((v) => b.bind(v), e, {
    patientIds: `${b.bind([...new Set(e.patientIds ?? [])])}::text[]`,
    breakGlass: `${b.bind(e.breakGlass ?? false)}::boolean`,
  })})`;
}

/** Appends one audit row on its own (the COPY path, whose rows are not one statement). */
export async function appendAuditRow(q: Queryable, e: AuditEntry): Promise<void> {
  const b = new Binder();
  await q.query(`WITH ${auditInsert(b, e)} SELECT 1`, b.params, { prepare: true });
}

export interface CreateOptions {
  /** Appended in the same statement. */
  audit?: AuditEntry;
  /** Relative references (Type/id) that must name live resources (or ones created here); the missing ones are returned. */
  references?: { type: string; id: string }[];
  /**
   * The transaction's last statement (it carries the COMMIT): missing references cannot be
   * refused after it, so the statement refuses them itself (migration 255's
   * cauyte_refuse_missing_references, SQLSTATE CY422) and they are returned from the error.
   */
  last?: boolean;
}

/** SQLSTATE of the refusal of missing references (migration 255). */
const MISSING_REFERENCES = 'CY422';

/**
 * New resources (version 1) in one statement: the resource rows, their version rows, every index
 * row, optionally the audit row and the check that referenced resources exist — one round trip,
 * prepared (the text depends only on which parts are present). Returns the row ids in input order
 * and the references that named nothing.
 */
export async function insertNew(
  q: Queryable,
  items: { resource: Resource; rows: IndexRows }[],
  lastUpdated: Date,
  opts: CreateOptions = {},
): Promise<{ rids: number[]; missing: { type: string; id: string }[] }> {
  const b = new Binder();
  const ctes = [
    `w AS (SELECT * FROM unnest(${b.bind(items.map((x) => x.resource.resourceType))}::text[], ${b.bind(items.map((x) => x.resource.id))}::text[], ${b.bind(
      items.map((x) => JSON.stringify(x.resource)),
    )}::text[], ${b.bind(items.map((x) => textArrayLiteral(x.rows.patients)))}::text[]) WITH ORDINALITY AS w(t, i, c, pt, n))`,
    `r AS (INSERT INTO resource (resource_type, id, version_id, last_updated, patients) SELECT t, i, 1, ${b.bind(lastUpdated)}::timestamptz, pt::text[] FROM w ORDER BY n RETURNING rid, resource_type, id)`,
    'k AS (SELECT w.n, r.rid FROM w JOIN r ON r.resource_type = w.t AND r.id = w.i)',
    `v AS (INSERT INTO resource_version (rid, version_id, resource_type, id, last_updated, method, content)
      SELECT k.rid, 1, w.t, w.i, ${b.bind(lastUpdated)}::timestamptz, 'POST', w.c::jsonb FROM w JOIN k ON k.n = w.n)`,
    ...indexInserts(
      b,
      items.map((x) => x.rows),
      'k',
    ),
  ];
  if (opts.audit) ctes.push(auditInsert(b, opts.audit));
  let missing = '';
  if (opts.references?.length) {
    ctes.push(`m AS (SELECT DISTINCT x.t, x.i FROM unnest(${b.bind(opts.references.map((x) => x.type))}::text[], ${b.bind(opts.references.map((x) => x.id))}::text[]) AS x(t, i)
      WHERE NOT EXISTS (SELECT 1 FROM resource e WHERE e.resource_type = x.t AND e.id = x.i AND NOT e.deleted)
        AND NOT EXISTS (SELECT 1 FROM w WHERE w.t = x.t AND w.i = x.i))`);
    missing = opts.last
      ? ' UNION ALL SELECT NULL, NULL, NULL, NULL WHERE cauyte_refuse_missing_references((SELECT json_agg(json_build_array(t, i)) FROM m))'
      : ' UNION ALL SELECT NULL, NULL, t, i FROM m';
  }
  let r;
  try {
    r = await q.query<{ n: number | null; rid: number | null; mt: string | null; mi: string | null }>(
      `WITH ${ctes.join(',\n')}\nSELECT n::int AS n, rid, NULL::text AS mt, NULL::text AS mi FROM k${missing}`,
      b.params,
      { prepare: true, last: opts.last },
    );
  } catch (err) {
    const e = err as { code?: string; detail?: string };
    if (e.code !== MISSING_REFERENCES || !e.detail) throw err;
    return { rids: [], missing: (JSON.parse(e.detail) as [string, string][]).map(([type, id]) => ({ type, id })) };
  }
  const rids: number[] = new Array(items.length);
  const out: { type: string; id: string }[] = [];
  for (const row of r.rows) {
    if (row.n !== null) rids[row.n - 1] = row.rid!;
    else out.push({ type: row.mt!, id: row.mi! });
  }
  return { rids, missing: out };
}

/**
 * A new version of an existing resource row (update, or a create with the client's id whose row
 * was just inserted with its patients) in one statement: the resource row's version and patients,
 * the old index rows out, the version row and the new index rows in, optionally the audit row.
 */
export async function writeVersion(
  q: Queryable,
  w: { rid: number; resource: Resource; rows: IndexRows; method: 'PUT' | 'POST'; replace: boolean },
  lastUpdated: Date,
  audit?: AuditEntry,
): Promise<void> {
  const b = new Binder();
  const rid = b.bind(w.rid);
  const at = b.bind(lastUpdated);
  const ctes = [`k AS (SELECT 1::bigint AS n, ${rid}::bigint AS rid)`];
  const versionId = b.bind(Number(w.resource.meta!.versionId));
  if (w.replace) {
    ctes.push(
      `u AS (UPDATE resource SET version_id = ${versionId}::int, last_updated = ${at}::timestamptz, deleted = false, patients = ${b.bind(w.rows.patients)}::text[] WHERE rid = ${rid}::bigint)`,
    );
    INDEX_TABLES.forEach((t, ti) => ctes.push(`d${ti} AS (DELETE FROM ${t.table} WHERE rid = ${rid}::bigint)`));
  }
  ctes.push(`v AS (INSERT INTO resource_version (rid, version_id, resource_type, id, last_updated, method, content)
    VALUES (${rid}::bigint, ${versionId}::int, ${b.bind(w.resource.resourceType)}::text, ${b.bind(w.resource.id)}::text, ${at}::timestamptz, ${b.bind(w.method)}::text, ${b.bind(
      JSON.stringify(w.resource),
    )}::jsonb))`);
  ctes.push(...indexInserts(b, [w.rows], 'k'));
  if (audit) ctes.push(auditInsert(b, audit));
  await q.query(`WITH ${ctes.join(',\n')}\nSELECT 1`, b.params, { prepare: true });
}
