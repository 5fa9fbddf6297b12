/**
 * Sorting and keyset paging of searches: _sort on indexed parameters (or _id, _lastUpdated),
 * always ending with the row id so the order is total; the next page starts after the last
 * row's sort values, carried in an opaque _cursor — rows created or deleted between pages never
 * cause a skip or a duplicate.
 */
import { badRequest } from './outcome.ts';
import { paramIs, type Sql } from './search.ts';
import type { SearchRegistry } from './searchparams.ts';

export interface SortKey {
  expr: string;
  cast: 'text' | 'timestamptz' | 'numeric' | 'bigint';
  desc: boolean;
}

export function sortKeys(sql: Sql, registry: SearchRegistry, resourceType: string, sortParam: string | undefined): SortKey[] {
  const keys: SortKey[] = [];
  for (const rawKey of sortParam ? sortParam.split(',') : []) {
    const desc = rawKey.startsWith('-');
    const name = desc ? rawKey.slice(1) : rawKey;
    if (name === '_id') keys.push({ expr: 'r.id', cast: 'text', desc });
    else if (name === '_lastUpdated') keys.push({ expr: 'r.last_updated', cast: 'timestamptz', desc });
    else {
      const p = registry.get(resourceType, name);
      if (!p) throw badRequest(`Cannot sort by unknown parameter "${name}" for ${resourceType}`);
      const agg = desc ? 'max' : 'min';
      const sub = (col: string, table: string) => `(SELECT ${agg}(${col}) FROM ${table} s WHERE s.rid = r.rid AND ${paramIs(sql, p, 's.param')})`;
      switch (p.type) {
        case 'string':
          keys.push({ expr: sub('norm', 'idx_string'), cast: 'text', desc });
          break;
        case 'token':
          keys.push({ expr: sub('code', 'idx_token'), cast: 'text', desc });
          break;
        case 'reference':
          keys.push({ expr: sub('target_id', 'idx_reference'), cast: 'text', desc });
          break;
        case 'date':
          keys.push({ expr: sub(desc ? 'high' : 'low', 'idx_date'), cast: 'timestamptz', desc });
          break;
        case 'quantity':
        case 'number':
          keys.push({ expr: sub('value', 'idx_quantity'), cast: 'numeric', desc });
          break;
        case 'uri':
          keys.push({ expr: sub('value', 'idx_uri'), cast: 'text', desc });
          break;
      }
    }
  }
  keys.push({ expr: 'r.rid', cast: 'bigint', desc: false });
  return keys;
}

/** Rows strictly after the cursor in ORDER BY order (nulls last in every direction). */
export function keysetAfter(sql: Sql, keys: SortKey[], values: unknown[]): string {
  const after = (i: number): string => {
    const k = keys[i];
    const v = values[i];
    if (i === keys.length - 1) return `r.rid > ${sql.bind(v)}::bigint`;
    if (v === null) return `(${k.expr} IS NULL AND ${after(i + 1)})`;
    const b = `${sql.bind(v)}::${k.cast}`;
    return `(${k.expr} IS NULL OR ${k.expr} ${k.desc ? '<' : '>'} ${b} OR (${k.expr} = ${b} AND ${after(i + 1)}))`;
  };
  return after(0);
}

export function normaliseKeyValue(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (v === undefined) return null;
  return v;
}

export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(text: string, length: number): unknown[] {
  try {
    const values = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.length === length && values.every((v) => v === null || ['string', 'number'].includes(typeof v))) {
      return values;
    }
  } catch {
    // fall through
  }
  throw badRequest('_cursor is not valid for this search (use the next link exactly as returned)');
}
