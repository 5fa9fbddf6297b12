/**
 * `node --import tsx bench/index-rows.ts [old-searchparams.ts]` — how many search-index rows and
 * index entries the Synthea fixture's resources produce (references resolved as a transaction
 * would), per resource type and index table, and how many rows are identical to another of the
 * same resource. With a path, extracts with that copy of searchparams.ts instead (e.g.
 * `git show main:src/fhir/searchparams.ts`, saved beside the current one), to compare.
 * Index entries: B-tree rows × the table's B-tree indexes, plus trigram GIN keys (pg_trgm's
 * words, padded) for the rows a trigram index holds. Prints a table; nothing is asserted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { PgliteDb } from '../src/db/db.ts';
import { migrate } from '../src/db/migrate.ts';
import { resolveBundleReferences } from '../src/fhir/bundle.ts';
import { foldText } from '../src/fhir/normalize.ts';
import type { IndexRows } from '../src/fhir/searchparams.ts';

const alt = process.argv[2];
const mod = (await import(alt ? new URL(alt, `file://${process.cwd()}/`).href : '../src/fhir/searchparams.ts')) as typeof import('../src/fhir/searchparams.ts');
const { extractIndexRows, SearchRegistry } = mod;
/** B-tree indexes per table, and whether the table's norm has a trigram GIN (before: idx_string; after: idx_string_contains). */
const BTREES: Record<string, number> = alt
  ? { string: 2, token: 2, reference: 3, date: 3, quantity: 2, uri: 2, contains: 0 }
  : { string: 2, token: 2, reference: 2, date: 3, quantity: 2, uri: 2, contains: 1 };
const TRIGRAM_TABLE = alt ? 'string' : 'contains';
/** pg_trgm's keys of a string: each word padded with two spaces before and one after. */
function trigrams(s: string): number {
  const keys = new Set<string>();
  for (const w of foldText(s)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)) {
    const p = `  ${w} `;
    for (let i = 0; i + 3 <= p.length; i++) keys.add(p.slice(i, i + 3));
  }
  return keys.size;
}

const FIXTURES = new URL('../test/fixtures/synthea-r4/', import.meta.url);
const db = await PgliteDb.open();
await migrate(db);
const registry = await SearchRegistry.load(db);
const TABLES = ['string', 'token', 'reference', 'date', 'quantity', 'uri', 'contains'] as const;
let entries = 0;
const stats = new Map<string, { n: number; rows: Record<string, number>; dup: Record<string, number> }>();
const byParam = new Map<string, number>();
for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.json'))) {
  const bundle = JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as Bundle;
  const idMap = new Map((bundle.entry ?? []).map((e, i) => [e.fullUrl!, `${e.resource!.resourceType}/s${f.length}-${i}-${f.charCodeAt(0)}`]));
  for (const e of bundle.entry ?? []) {
    const r = resolveBundleReferences(e.resource as Resource, idMap);
    const rows: IndexRows = extractIndexRows(r, registry.forType(r.resourceType));
    const s = stats.get(r.resourceType) ?? { n: 0, rows: {}, dup: {} };
    s.n++;
    for (const t of TABLES) {
      const list = (rows[t] ?? []) as object[];
      entries += list.length * BTREES[t];
      if (t === TRIGRAM_TABLE) for (const x of list as { norm: string }[]) entries += trigrams(x.norm);
      const keys = list.map((x) => JSON.stringify(x));
      s.rows[t] = (s.rows[t] ?? 0) + list.length;
      s.dup[t] = (s.dup[t] ?? 0) + keys.length - new Set(keys).size;
      for (const x of list as { param: number }[]) {
        const p = registry.byParamId(x.param)!;
        const k = `${t} ${p.resourceType}.${p.code}`;
        byParam.set(k, (byParam.get(k) ?? 0) + 1);
      }
    }
    stats.set(r.resourceType, s);
  }
}
let total = 0;
let totalRows = 0;
const sum: Record<string, number> = {};
const sumDup: Record<string, number> = {};
console.log(['type', 'n', ...TABLES.map((t) => `${t} (dup)`)].join('\t'));
for (const [type, s] of [...stats].sort((a, b) => b[1].n - a[1].n)) {
  total += s.n;
  for (const t of TABLES) {
    sum[t] = (sum[t] ?? 0) + s.rows[t];
    sumDup[t] = (sumDup[t] ?? 0) + s.dup[t];
    totalRows += s.rows[t];
  }
  console.log([type, s.n, ...TABLES.map((t) => `${s.rows[t]} (${s.dup[t]})`)].join('\t'));
}
console.log(['all', total, ...TABLES.map((t) => `${sum[t]} (${sumDup[t]})`)].join('\t'));
console.log(`index entries per resource ${(entries / total).toFixed(1)}`);
console.log(
  `rows per resource ${(totalRows / total).toFixed(2)}; duplicates per resource ${(Object.values(sumDup).reduce((a, b) => a + b, 0) / total).toFixed(2)}`,
);
console.log('\nrows by parameter (top 40):');
for (const [k, n] of [...byParam].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${n}\t${k}`);
await db.close();
