/**
 * The full-size search bench's four queries without HTTP: `node --import tsx bench/search-inprocess.ts`
 * loads 100,000 patients and 1,000,000 observations (bench/store.ts) into a fresh PostgreSQL test
 * database, then injects each query 60 times into the app (integration token, audited; the first 10
 * dropped) and prints p50 / p95, then EXPLAIN (ANALYZE, BUFFERS) of the last run's page statement.
 * A developer's tool, not part of `npm run bench`: it separates the store's search path from the
 * HTTP leg that `--suite search` times on top of it (docs/benchmarks.md, 2026-12-03).
 */
import pg from 'pg';
import { startTestPlatform } from '../src/testing/platform.ts';
import { FhirService } from '../src/fhir/service.ts';
import { loadSearchStore, searchQueries } from './store.ts';
const p = await startTestPlatform('postgres', {}, undefined, { domains: [] });
const { storage } = await FhirService.prepare(p.db);
const { ids } = await loadSearchStore(storage, 100_000, 1_000_000, () => {});
await p.db.exec('VACUUM ANALYZE');
await p.db.exec('CHECKPOINT');
const token = await p.tokenFor('integration', { scope: 'system/*.read' });
const captured: { text: string; values: unknown[] }[] = [];
const orig = (pg.Client.prototype as any).query;
let on = false;
(pg.Client.prototype as any).query = function (this: any, q: any, v?: any, ...rest: any[]) {
  if (on && typeof q === 'string' && /FROM resource r/.test(q)) captured.push({ text: q, values: Array.isArray(v) ? v : [] });
  return orig.call(this, q, v, ...rest);
};
const queries = searchQueries(ids);
for (const [label, make] of Object.entries(queries)) {
  const times: number[] = [];
  for (let i = 0; i < 60; i++) {
    on = i === 59;
    const t0 = performance.now();
    const r = await p.app.inject({ method: 'GET', url: `/fhir/R4/${make(i)}`, headers: { authorization: `Bearer ${token}` } });
    if (i >= 10) times.push(performance.now() - t0);
    if (r.statusCode !== 200) throw new Error(`${label} ${r.statusCode} ${r.body.slice(0, 200)}`);
  }
  on = false;
  times.sort((a, b) => a - b);
  console.log(`${label}: inject p50 ${times[25].toFixed(1)} ms p95 ${times[47].toFixed(1)} ms`);
  const c = captured.pop();
  captured.length = 0;
  if (c) {
    const e = await p.db.query<any>(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) ${c.text}`, c.values);
    console.log(
      e.rows
        .map((r: any) => r['QUERY PLAN'])
        .filter((l: string) => /Execution|Planning|Buffers: shared hit=\d+ read|^\S/.test(l))
        .slice(0, 6)
        .join('\n'),
    );
  }
}
console.log((await p.db.query<any>("SELECT pg_size_pretty(pg_relation_size('resource')) r, pg_size_pretty(pg_relation_size('resource_version')) v")).rows[0]);
await p.close();
