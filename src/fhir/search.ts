/**
 * FHIR search → one indexed SQL query over the index tables (never a scan of JSON).
 *
 * Supported: _id, _lastUpdated, every indexed parameter of type string, token, reference, date,
 * quantity, number and uri; modifiers :exact, :contains (string), :not (token), :missing (all),
 * :[Type] (reference); prefixes eq ne lt gt le ge sa eb (dates, quantities, numbers) and ap
 * (quantities, numbers); comma = OR, repeated parameter = AND; _sort (several keys, - for
 * descending); _count; keyset paging (_cursor) that stays correct under concurrent writes;
 * _include / _revinclude; _total; _summary=count; _elements.
 */
import type { Queryable } from '../db/db.ts';
import { parseDateRange } from './dates.ts';
import { foldText, nfc } from './normalize.ts';
import { badRequest, notSupported, tooLarge } from './outcome.ts';
import { LIMITS } from './limits.ts';
import { parseReference, type SearchParam, type SearchRegistry } from './searchparams.ts';
import { includes } from './search-includes.ts';
import { decodeCursor, encodeCursor, keysetAfter, normaliseKeyValue, sortKeys } from './search-paging.ts';

export type QueryParams = Record<string, string[]>;

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = LIMITS.searchCount;
/** Parameters about the result, not about which resources match. */
const RESULT_PARAMS = new Set(['_count', '_sort', '_include', '_revinclude', '_summary', '_total', '_cursor', '_elements', '_format', '_pretty']);

export interface SearchMatch {
  rid: number;
  content: string;
  resourceType?: string;
  id?: string;
  /** The patients the row names (with `SearchOptions.patientsOf`). */
  patients?: string[];
}

export interface SearchOptions {
  /** A SQL expression over a resource row alias giving the patients the row names (text[]), read with every row. */
  patientsOf?: (alias: string) => string;
}

export interface SearchResult {
  matches: SearchMatch[];
  included: SearchMatch[];
  /** Cursor for the next page; undefined on the last page. */
  nextCursor?: string;
  total?: number;
  elements?: string[];
}

export class Sql {
  readonly params: unknown[] = [];
  bind(v: unknown): string {
    return `$${this.params.push(v)}`;
  }
}

/** Returns a SQL predicate over a resource row alias that hides what the caller may not see. */
export type Restriction = (bind: (v: unknown) => string, alias: string) => string | undefined;

export async function search(
  q: Queryable,
  registry: SearchRegistry,
  resourceType: string,
  query: QueryParams,
  restrict?: Restriction,
  opts: SearchOptions = {},
): Promise<SearchResult> {
  for (const [name, values] of Object.entries(query)) {
    // PostgreSQL text cannot hold NUL; such a value can match nothing, so it is a bad request, not a 500.
    if (name.includes('\0') || values.some((v) => v.includes('\0')))
      throw badRequest(`Search parameter ${JSON.stringify(name.replace(/\0/g, '\\0'))} holds a NUL character, which no stored value contains`);
    if (values.some((v) => v.length > LIMITS.searchValueLength)) throw tooLarge(`A search value is longer than ${LIMITS.searchValueLength} characters`);
  }
  const sql = new Sql();
  const where = [`r.resource_type = ${sql.bind(resourceType)}`, 'NOT r.deleted'];
  const hidden = restrict?.((v) => sql.bind(v), 'r');
  if (hidden) where.push(hidden);
  for (const [rawName, values] of Object.entries(query)) {
    if (RESULT_PARAMS.has(rawName)) continue;
    for (const value of values) where.push(filterSql(sql, registry, resourceType, rawName, value));
  }

  const count = parseCount(query._count?.[0]);
  const summary = single(query, '_summary');
  if (summary !== undefined && summary !== 'count') throw notSupported(`_summary=${summary} is not supported (only _summary=count)`);
  const totalMode = single(query, '_total') ?? 'none';
  if (!['none', 'accurate', 'estimate'].includes(totalMode)) throw badRequest('_total must be none, estimate or accurate');
  const countOnly = summary === 'count' || count === 0;

  let total: number | undefined;
  if (countOnly || totalMode !== 'none') {
    const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource r WHERE ${where.join(' AND ')}`, sql.params);
    total = r.rows[0].n;
  }
  if (countOnly) return { matches: [], included: [], total };

  const keys = sortKeys(sql, registry, resourceType, single(query, '_sort'));
  const cursorText = single(query, '_cursor');
  const pageWhere = [...where];
  if (cursorText) pageWhere.push(keysetAfter(sql, keys, decodeCursor(cursorText, keys.length)));
  const selectKeys = keys.map((k, i) => `${k.expr} AS k${i}`).join(', ');
  const orderBy = keys.map((k) => (k.expr === 'r.rid' ? 'r.rid' : `${k.expr} IS NULL, ${k.expr}${k.desc ? ' DESC' : ''}`)).join(', ');
  // The page first (row ids and sort keys only), then the content and patients of its rows: the
  // planner, unsure how many rows a filter matches (a name prefix), would otherwise read the stored
  // JSON of every match before sorting and cutting the page.
  const pageKeys = keys.map((_, i) => `p.k${i}`).join(', ');
  const pageOrder = keys.map((k, i) => (k.expr === 'r.rid' ? `p.k${i}` : `p.k${i} IS NULL, p.k${i}${k.desc ? ' DESC' : ''}`)).join(', ');
  const rows = await q.query<Record<string, unknown> & { rid: number; content: string; resource_type: string; id: string; patients?: string[] }>(
    `SELECT p.rid, p.resource_type, p.id, v.content::text AS content, ${opts.patientsOf ? `${opts.patientsOf('p')} AS patients, ` : ''}${pageKeys}
     FROM (SELECT r.rid, r.resource_type, r.id, r.version_id, ${opts.patientsOf ? 'r.patients, ' : ''}${selectKeys} FROM resource r
           WHERE ${pageWhere.join(' AND ')}
           ORDER BY ${orderBy} LIMIT ${count + 1}) p
     JOIN resource_version v ON v.rid = p.rid AND v.version_id = p.version_id
     ORDER BY ${pageOrder}`,
    sql.params,
  );
  const page = rows.rows.slice(0, count);
  let nextCursor: string | undefined;
  if (rows.rows.length > count) {
    const last = page[page.length - 1];
    nextCursor = encodeCursor(keys.map((_, i) => normaliseKeyValue(last[`k${i}`])));
  }
  if (total === undefined && !cursorText && !nextCursor) total = page.length;

  const matches = page.map((r) => ({
    rid: r.rid,
    content: r.content,
    resourceType: r.resource_type,
    id: r.id,
    ...(r.patients ? { patients: r.patients } : {}),
  }));
  const included = await includes(q, registry, resourceType, query, matches, restrict, opts.patientsOf);
  const elements = query._elements
    ?.flatMap((e) => e.split(','))
    .map((e) => e.trim())
    .filter(Boolean);
  return { matches, included, nextCursor, total, elements };
}

function single(query: QueryParams, name: string): string | undefined {
  const v = query[name];
  if (!v || v.length === 0) return undefined;
  if (v.length > 1) throw badRequest(`${name} may be given only once`);
  return v[0];
}

function parseCount(v: string | undefined): number {
  if (v === undefined) return DEFAULT_COUNT;
  if (!/^\d+$/.test(v)) throw badRequest(`_count must be a whole number, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n > MAX_COUNT) throw tooLarge(`_count=${v} is more than this server returns in one page (at most ${MAX_COUNT}); page with the next link instead`);
  return n;
}

/** Splits a parameter value on unescaped commas and unescapes \, \| \$ \\. */
export function splitOr(value: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      cur += value[++i];
    } else if (c === ',') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

/** Splits system|code on the first unescaped bar. */
function splitBar(value: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) cur += value[++i];
    else if (c === '|') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function filterSql(sql: Sql, registry: SearchRegistry, resourceType: string, rawName: string, value: string): string {
  const [name, modifier] = rawName.split(':', 2) as [string, string | undefined];
  if (name.includes('.') || rawName.split(':').length > 2) throw notSupported(`Chained search (${rawName}) is not supported`);
  if (name === '_has') throw notSupported('_has is not supported');
  if (name === '_id') {
    if (modifier) throw badRequest(`_id does not take a modifier`);
    return `r.id = ANY(${sql.bind(splitOr(value))}::text[])`;
  }
  if (name === '_lastUpdated') {
    if (modifier) throw badRequest(`_lastUpdated does not take a modifier`);
    return `(${splitOr(value)
      .map((v) => dateCondition(sql, 'r.last_updated', 'r.last_updated', v, name))
      .join(' OR ')})`;
  }
  const p = registry.get(resourceType, name);
  if (!p) throw badRequest(`Unknown search parameter "${name}" for ${resourceType}`);

  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw badRequest(`${rawName} must be true or false`);
    const has = `r.rid IN (SELECT rid FROM ${tableOf(p)} WHERE ${paramIs(sql, p)})`;
    return value === 'true' ? `NOT ${has}` : has;
  }
  const alternatives = splitOr(value);
  if (alternatives.some((a) => a === '')) throw badRequest(`Empty value for search parameter ${rawName}`);
  const inTable = (cond: string, negate = false, table = tableOf(p)) =>
    `r.rid ${negate ? 'NOT IN' : 'IN'} (SELECT rid FROM ${table} WHERE ${paramIs(sql, p)} AND (${cond}))`;
  // For one exact value the index (param, value…, rid) gives the smallest matching rid in one probe.
  // Saying "r.rid >= that" is implied by the IN above, but lets PostgreSQL start its rid-ordered
  // walk of the resource table there instead of at the first resource of any type (with 100k
  // patients stored before the observations, that walk cost 20 ms per search).
  const fromFirst = (cond: string) => `(${inTable(cond)} AND r.rid >= (SELECT min(rid) FROM ${tableOf(p)} WHERE ${paramIs(sql, p)} AND ${cond}))`;

  switch (p.type) {
    case 'string': {
      if (modifier && modifier !== 'exact' && modifier !== 'contains') throw badRequest(`Modifier :${modifier} is not supported for string parameter ${name}`);
      const conds = alternatives.map((a) => {
        if (modifier === 'exact') return `exact = ${sql.bind(nfc(a))}`;
        const folded = escapeLike(foldText(a));
        return modifier === 'contains' ? `norm LIKE ${sql.bind(`%${folded}%`)}` : `norm LIKE ${sql.bind(`${folded}%`)}`;
      });
      // :contains on a parameter with a trigram index reads idx_string_contains; on any other, its idx_string rows.
      const trigram = modifier === 'contains' && p.stored.every((id) => registry.byParamId(id)?.contains);
      return inTable(conds.join(' OR '), false, trigram ? 'idx_string_contains' : 'idx_string');
    }
    case 'token': {
      if (modifier && modifier !== 'not') throw badRequest(`Modifier :${modifier} is not supported for token parameter ${name}`);
      const conds = alternatives.map((a) => {
        const parts = splitBar(a);
        if (parts.length === 1) return `code = ${sql.bind(parts[0])}`;
        if (parts.length !== 2) throw badRequest(`Token value must be [system|]code, got ${JSON.stringify(a)}`);
        const [system, code] = parts;
        if (system === '' && code === '') throw badRequest(`Token value "|" names neither system nor code`);
        if (system === '') return `(system IS NULL AND code = ${sql.bind(code)})`;
        if (code === '') return `system = ${sql.bind(system)}`;
        return `(system = ${sql.bind(system)} AND code = ${sql.bind(code)})`;
      });
      const exact = !modifier && alternatives.length === 1 && /^\(system = \$\d+ AND code = \$\d+\)$/.test(conds[0]);
      return exact ? fromFirst(conds[0]) : inTable(conds.join(' OR '), modifier === 'not');
    }
    case 'reference': {
      if (modifier && !/^[A-Z][A-Za-z]+$/.test(modifier)) throw badRequest(`Modifier :${modifier} is not supported for reference parameter ${name}`);
      const conds = alternatives.map((a) => {
        const ref = parseReference(a);
        if (ref) {
          if (modifier && modifier !== ref.targetType) throw badRequest(`${rawName}=${a}: the type in the value differs from the modifier`);
          return `(target_id = ${sql.bind(ref.targetId)} AND target_type = ${sql.bind(ref.targetType)})`;
        }
        if (/^[A-Za-z0-9\-.]{1,64}$/.test(a)) {
          const type = modifier ?? (p.targets.length === 1 ? p.targets[0] : undefined);
          return type ? `(target_id = ${sql.bind(a)} AND target_type = ${sql.bind(type)})` : `target_id = ${sql.bind(a)}`;
        }
        if (/^[a-z]+:/.test(a)) return `(target_type = '' AND target_id = ${sql.bind(a)})`;
        throw badRequest(`Reference value must be Type/id, an id or a URL, got ${JSON.stringify(a)}`);
      });
      return alternatives.length === 1 && /^\(target_id = \$\d+ AND target_type = \$\d+\)$/.test(conds[0]) ? fromFirst(conds[0]) : inTable(conds.join(' OR '));
    }
    case 'date': {
      if (modifier) throw badRequest(`Modifier :${modifier} is not supported for date parameter ${name}`);
      return inTable(alternatives.map((a) => dateCondition(sql, 'low', 'high', a, name)).join(' OR '));
    }
    case 'quantity':
    case 'number': {
      if (modifier) throw badRequest(`Modifier :${modifier} is not supported for ${p.type} parameter ${name}`);
      return inTable(alternatives.map((a) => quantityCondition(sql, a, name, p.type === 'quantity')).join(' OR '));
    }
    case 'uri': {
      if (modifier && modifier !== 'below') throw badRequest(`Modifier :${modifier} is not supported for uri parameter ${name}`);
      const conds = alternatives.map((a) => (modifier === 'below' ? `value LIKE ${sql.bind(`${escapeLike(a)}%`)}` : `value = ${sql.bind(a)}`));
      return inTable(conds.join(' OR '));
    }
  }
}

/** The rows that answer a parameter: its own, or those of the parameters it is derived from (search-derived.ts). */
export function paramIs(sql: Sql, p: SearchParam, column = 'param'): string {
  return p.stored.length === 1 ? `${column} = ${sql.bind(p.stored[0])}` : `${column} = ANY(${sql.bind(p.stored)}::smallint[])`;
}

function tableOf(p: SearchParam): string {
  return p.type === 'number' ? 'idx_quantity' : `idx_${p.type}`;
}

const PREFIX_RE = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.*)$/;

/** R4 date prefixes over the resource's range [low, high] and the search range [ql, qh]. */
function dateCondition(sql: Sql, low: string, high: string, raw: string, name: string): string {
  const [, prefix = 'eq', text] = PREFIX_RE.exec(raw)!;
  const range = parseDateRange(text);
  if (!range)
    throw badRequest(
      `${name}: "${raw}" is not a FHIR date (yyyy, yyyy-mm, yyyy-mm-dd or yyyy-mm-ddThh:mm[:ss][zone]) with an optional prefix eq ne lt gt le ge sa eb`,
    );
  // Bind only what the chosen prefix uses (an unused parameter has no type and PostgreSQL refuses it).
  const ql = () => `${sql.bind(range.low.toISOString())}::timestamptz`;
  const qh = () => `${sql.bind(range.high.toISOString())}::timestamptz`;
  const within = () => `(${low} >= ${ql()} AND ${high} <= ${qh()})`;
  switch (prefix) {
    case 'eq':
      return within();
    case 'ne':
      return `NOT ${within()}`;
    case 'gt':
      return `${high} > ${qh()}`;
    case 'lt':
      return `${low} < ${ql()}`;
    case 'ge':
      return `(${high} > ${qh()} OR ${within()})`;
    case 'le':
      return `(${low} < ${ql()} OR ${within()})`;
    case 'sa':
      return `${low} > ${qh()}`;
    case 'eb':
      return `${high} < ${ql()}`;
    default:
      throw badRequest(`${name}: prefix ${prefix} is not supported for dates`);
  }
}

const NUMBER_RE = /^[+-]?(\d+)(?:\.(\d+))?(?:[eE][+-]?\d+)?$/;

function quantityCondition(sql: Sql, raw: string, name: string, withUnits: boolean): string {
  const [, prefix = 'eq', rest] = PREFIX_RE.exec(raw)!;
  const parts = withUnits ? splitBar(rest) : [rest];
  const numberText = parts[0];
  const m = NUMBER_RE.exec(numberText);
  if (!m || (parts.length !== 1 && parts.length !== 3)) {
    throw badRequest(`${name}: "${raw}" must be [prefix]number${withUnits ? '[|system|code]' : ''}`);
  }
  const n = Number(numberText);
  // "100" means [99.5, 100.5): the precision written is the precision meant.
  const decimals = m[2]?.length ?? 0;
  const half = 0.5 * 10 ** -decimals;
  const v = (x: number) => `${sql.bind(String(x))}::numeric`;
  let cond: string;
  switch (prefix) {
    case 'eq':
      cond = `(value >= ${v(n - half)} AND value < ${v(n + half)})`;
      break;
    case 'ne':
      cond = `(value < ${v(n - half)} OR value >= ${v(n + half)})`;
      break;
    case 'gt':
    case 'sa':
      cond = `value > ${v(n)}`;
      break;
    case 'lt':
    case 'eb':
      cond = `value < ${v(n)}`;
      break;
    case 'ge':
      cond = `value >= ${v(n)}`;
      break;
    case 'le':
      cond = `value <= ${v(n)}`;
      break;
    case 'ap':
      cond = `(value >= ${v(Math.min(n * 0.9, n * 1.1))} AND value <= ${v(Math.max(n * 0.9, n * 1.1))})`;
      break;
    default:
      throw badRequest(`${name}: unknown prefix ${prefix}`);
  }
  if (parts.length === 3) {
    const [, system, code] = parts;
    if (code) cond += ` AND code = ${sql.bind(code)}`;
    if (system) cond += ` AND system = ${sql.bind(system)}`;
  }
  return `(${cond})`;
}
