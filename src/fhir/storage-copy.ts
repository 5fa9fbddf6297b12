/**
 * The bulk write path: new resources (version 1) written with COPY instead of INSERT — the
 * resource rows, their version rows and every index row, streamed in PostgreSQL's COPY text format
 * (src/db/copy-text.ts) inside the caller's transaction (on PostgreSQL every table's COPY in one query, src/db/copy-pg.ts;
 * the blob device on PGlite; `Queryable.copyFrom`). Row ids are taken up front from the resource table's
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

/** The smallest write (in resources) that goes by COPY on q's database (`Queryable.copyWorthFrom`: 64 on both databases). */
export function copyMinimumOf(q: Queryable): number {
  return copyMinOverride ?? q.copyWorthFrom ?? Infinity;
}

/** Whether `q` can take the COPY path for this many resources. */
export function copyWorthIt(q: Queryable, n: number): boolean {
  return typeof q.copyFrom === 'function' && n >= copyMinimumOf(q);
}

/** Row ids for n new resources, from the resource table's own sequence (never reused). */
export async function allocateRids(q: Queryable, n: number): Promise<number[]> {
  const r = await q.query<{ rid: number }>(
    "SELECT nextval((SELECT pg_get_serial_sequence('resource', 'rid')::regclass))::bigint AS rid FROM generate_series(1, $1::int)",
    [n],
    {
      prepare: true,
    },
  );
  return r.rows.map((x) => Number(x.rid));
}

const RESOURCE_COPY = 'COPY resource (rid, resource_type, id, version_id, last_updated, patients) FROM STDIN';
const VERSION_COPY = 'COPY resource_version (rid, version_id, resource_type, id, last_updated, method, content) FROM STDIN';

/** One table's rows as a COPY statement, built when asked; lineItems[k] is the item line k belongs to (absent: line k is item k), filled as the text is built. */
interface CopyStatement {
  sql: string;
  data: () => string;
  lineItems?: number[];
}

/**
 * The rows of new resources as COPY statements in write order — resource rows, version rows, then
 * each index table with rows — every line starting with its item's row id as `rid(i)` writes it.
 * Lazy: a table's text is built when its statement's turn comes (Queryable.copyFrom), so on
 * PostgreSQL the server writes one table while the next one's text is made.
 */
function copyStatements(
  items: { resource: Resource; rows: IndexRows }[],
  at: string,
  rid: (i: number) => number | string,
  texts?: readonly string[],
): CopyStatement[] {
  const out: CopyStatement[] = [
    {
      sql: RESOURCE_COPY,
      data: () => {
        let text = '';
        items.forEach(({ resource, rows }, i) => {
          text += copyLine([rid(i), resource.resourceType, resource.id, 1, at, textArrayLiteral(rows.patients)]);
        });
        return text;
      },
    },
    {
      sql: VERSION_COPY,
      data: () => {
        let text = '';
        items.forEach(({ resource }, i) => {
          text += copyLine([rid(i), 1, resource.resourceType, resource.id, at, 'POST', texts?.[i] ?? JSON.stringify(resource)]);
        });
        return text;
      },
    },
  ];
  for (const t of INDEX_TABLES) {
    if (!items.some((it) => (it.rows[t.key] as unknown[]).length > 0)) continue;
    const lineItems: number[] = [];
    out.push({
      sql: `COPY ${t.table} (rid, param, ${t.cols.join(', ')}) FROM STDIN`,
      lineItems,
      data: () => {
        let text = '';
        lineItems.length = 0;
        items.forEach((it, i) => {
          for (const row of it.rows[t.key] as { param: number }[]) {
            text += copyLine([rid(i), row.param, ...t.values(row as never)]);
            lineItems.push(i);
          }
        });
        return text;
      },
    });
  }
  return out;
}

/**
 * Writes new resources at version 1 (method POST) with COPY (see the header); returns the row ids in
 * input order. Each table's text is built while the server writes the one before it.
 */
export async function copyNew(q: Queryable, items: { resource: Resource; rows: IndexRows }[], lastUpdated: Date): Promise<number[]> {
  if (!q.copyFrom) throw new Error('copyNew needs a connection that can COPY');
  const rids = await allocateRids(q, items.length);
  await q.copyFrom(copyStatements(items, lastUpdated.toISOString(), (i) => rids[i]));
  return rids;
}

/**
 * The width of a row id in rendered COPY text: a placeholder of zeros, overwritten in place with
 * the id (zero-padded; int8 input accepts leading zeros) once the ids are taken.
 */
const RID_WIDTH = 19;
const RID_PLACEHOLDER = '0'.repeat(RID_WIDTH);

/**
 * New resources' COPY statements rendered ahead, as bytes, before their row ids exist (in the
 * import's worker thread, import-worker.ts): each line starts with a placeholder row id that
 * `copyRendered` fills in. The same rows as copyNew writes for the same items (row ids zero-padded).
 */
export interface RenderedCopy {
  /** How many resources (row ids to take). */
  count: number;
  /** meta.lastUpdated of every item, as written. */
  lastUpdated: string;
  tables: { sql: string; data: Uint8Array; lineItems?: Uint32Array }[];
}

export function renderCopy(items: { resource: Resource; rows: IndexRows }[], lastUpdated: string, texts?: readonly string[]): RenderedCopy {
  if (texts && texts.length !== items.length) throw new Error('renderCopy: one JSON text per item');
  const encoder = new TextEncoder();
  const tables = copyStatements(items, lastUpdated, () => RID_PLACEHOLDER, texts).map((s) => ({
    sql: s.sql,
    data: encoder.encode(s.data()),
    ...(s.lineItems ? { lineItems: Uint32Array.from(s.lineItems) } : {}),
  }));
  return { count: items.length, lastUpdated, tables };
}

/** Whether the 19 bytes at pos are the placeholder's zeros. */
function isPlaceholder(buf: Uint8Array, pos: number): boolean {
  for (let i = 0; i < RID_WIDTH; i++) if (buf[pos + i] !== 0x30) return false;
  return true;
}

/**
 * Writes each line's row id over its placeholder. COPY text escapes newlines inside values and
 * UTF-8 never uses byte 0x0A in a multi-byte character, so every 0x0A ends a line. Throws when a
 * line does not start with a placeholder or the lines do not match the items.
 */
export function patchRids(data: Uint8Array, lineItems: Uint32Array | undefined, rids: readonly number[]): void {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  let line = 0;
  while (pos < buf.length) {
    const rid = rids[lineItems ? lineItems[line] : line];
    if (rid === undefined || buf[pos + RID_WIDTH] !== 0x09 || !isPlaceholder(buf, pos)) {
      throw new Error(`rendered COPY line ${line + 1} has no row id placeholder or no item`);
    }
    const digits = String(rid);
    if (digits.length > RID_WIDTH) throw new Error(`row id ${digits} is wider than ${RID_WIDTH} digits`);
    buf.write(digits.padStart(RID_WIDTH, '0'), pos, 'latin1');
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) throw new Error(`rendered COPY line ${line + 1} has no end`);
    pos = end + 1;
    line++;
  }
  if (line !== (lineItems ? lineItems.length : rids.length)) throw new Error(`rendered COPY has ${line} lines for ${lineItems?.length ?? rids.length} rows`);
}

/** Writes rendered rows (renderCopy): takes the row ids, fills them in, sends each table; returns the ids in item order. */
export async function copyRendered(q: Queryable, rendered: RenderedCopy): Promise<number[]> {
  if (!q.copyFrom) throw new Error('copyRendered needs a connection that can COPY');
  const rids = await allocateRids(q, rendered.count);
  for (const t of rendered.tables) patchRids(t.data, t.lineItems, rids);
  await q.copyFrom(rendered.tables);
  return rids;
}
