/**
 * Fewer index rows for the same answers (issue 19):
 * - Derived parameters store no rows of their own. A parameter whose FHIRPath is a union of other
 *   parameters' expressions of the same resource type and search type (Observation.combo-code =
 *   code | component-code; Patient.phonetic = Patient.name) is answered from those parameters' rows
 *   (`param = ANY(stored)`). Reference parameters are never derived: compartments, includes and
 *   the access rules read reference rows by their own parameter ids.
 * - Identical rows within one resource are written once.
 * - Substring (:contains) search has its own small table, idx_string_contains, with the only
 *   trigram index; it holds rows only for CONTAINS_PARAMS, and of a resource's strings for one
 *   parameter only those that are not part of a longer one (a pattern found in "an" is found in
 *   "nguyen van an", so the shorter row can never change which resources match).
 * Migration 230 converts existing stores to the same shape; its lists must match this module's
 * (src/db/migrate-230.test.ts checks both).
 */
import type { IndexRows } from './searchparams.ts';

/** String parameters with a trigram index for :contains (the pickers search these). Others fall back to a scan of their rows. */
export const CONTAINS_PARAMS: readonly string[] = [
  'Patient.name',
  'Practitioner.name',
  'Organization.name',
  'Location.name',
  'RelatedPerson.name',
  'HealthcareService.name',
];

interface ParamShape {
  id: number;
  resourceType: string;
  code: string;
  type: string;
  expression: string;
}

/** Strips parentheses that wrap the whole expression. */
function unwrap(e: string): string {
  let s = e.trim();
  for (;;) {
    if (!s.startsWith('(') || !s.endsWith(')')) return s;
    let depth = 0;
    let wraps = true;
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '(') depth++;
      else if (s[i] === ')') depth--;
      if (depth === 0 && i < s.length - 1) {
        wraps = false;
        break;
      }
    }
    if (!wraps) return s;
    s = s.slice(1, -1).trim();
  }
}

/** The terms of a top-level FHIRPath union, flattened: "((a | b) | c)" → a, b, c. */
export function unionTerms(expression: string): string[] {
  const s = unwrap(expression);
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'") quoted = !quoted;
    if (quoted) continue;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  if (parts.length === 1) return [s];
  return parts.flatMap(unionTerms);
}

/**
 * For each derived parameter, the ids of the parameters whose rows answer it. A parameter is
 * derived when other non-derived parameters of its type, each with a subset of its union terms,
 * together cover exactly its terms. Of parameters with identical expressions the one whose code
 * sorts first keeps the rows.
 */
export function derivedParams(params: ParamShape[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const groups = new Map<string, ParamShape[]>();
  for (const p of params) {
    if (p.type === 'reference' || !p.expression) continue;
    const k = `${p.resourceType} ${p.type}`;
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  for (const group of groups.values()) {
    const terms = new Map(group.map((p) => [p.id, new Set(unionTerms(p.expression))]));
    // Fewer terms first, then by code: a parameter is only ever derived from ones before it.
    const ordered = [...group].sort((a, b) => terms.get(a.id)!.size - terms.get(b.id)!.size || a.code.localeCompare(b.code));
    const stored: ParamShape[] = [];
    for (const p of ordered) {
      const mine = terms.get(p.id)!;
      const parts = stored.filter((q) => [...terms.get(q.id)!].every((t) => mine.has(t)));
      const covered = new Set(parts.flatMap((q) => [...terms.get(q.id)!]));
      if (parts.length > 0 && covered.size === mine.size)
        out.set(
          p.id,
          parts.map((q) => q.id),
        );
      else stored.push(p);
    }
  }
  return out;
}

/** Drops rows identical to an earlier row of the same resource. */
export function dedupe<T extends object>(rows: T[]): T[] {
  if (rows.length < 2) return rows;
  const seen = new Set<string>();
  return rows.filter((r) => {
    // The row's defined fields in order, a date by its instant (rows are flat).
    const parts: unknown[] = [];
    for (const key in r) {
      const v = (r as Record<string, unknown>)[key];
      if (v !== undefined) parts.push(key, v instanceof Date ? v.getTime() : v);
    }
    const k = JSON.stringify(parts);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The :contains rows of one resource: per parameter, the distinct strings that are not part of a longer one. */
export function containsRows(strings: IndexRows['string'], containsIds: ReadonlySet<number>): IndexRows['contains'] {
  const byParam = new Map<number, string[]>();
  for (const s of strings) {
    if (!containsIds.has(s.param)) continue;
    const list = byParam.get(s.param) ?? [];
    if (!list.includes(s.norm)) list.push(s.norm);
    byParam.set(s.param, list);
  }
  const out: IndexRows['contains'] = [];
  for (const [param, norms] of byParam) {
    for (const norm of norms) if (!norms.some((o) => o !== norm && o.includes(norm))) out.push({ param, norm });
  }
  return out;
}
