/**
 * The full-size search bench's four queries, taken apart: `node --import tsx bench/search-inprocess.ts`
 * loads 100,000 patients and 1,000,000 observations (bench/store.ts) into a fresh PostgreSQL test
 * database, then runs each query 60 times (integration token, audited; the first 10 dropped) three
 * ways in alternating rounds — injected into the app, over HTTP on loopback with fetch's gzip, and
 * over HTTP without compression — and prints p50 / p95 of each (computed as `--suite search` does),
 * the statements of one injected request with their times, the page statement alone against a bare
 * round trip, and EXPLAIN (ANALYZE, BUFFERS) of it.
 * Settings: PATIENTS / OBSERVATIONS (another size), EXTRA_SQL (run after the load: an index to try),
 * MODES (a comma list of the three ways), PROFILE=<file> (a CPU profile of the query rounds),
 * FULL_PLAN=1 (the whole plan). A developer's tool, not part of `npm run bench` (docs/benchmarks.md,
 * 2026-12-03 and 2026-12-04).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import pg from 'pg';
import { startTestPlatform } from '../src/testing/platform.ts';
import { FhirService } from '../src/fhir/service.ts';
import { loadSearchStore, searchQueries } from './store.ts';
import { median, percentile } from './lib.ts';
const p = await startTestPlatform('postgres', {}, undefined, { domains: [] });
const { storage } = await FhirService.prepare(p.db);
const { ids } = await loadSearchStore(storage, Number(process.env.PATIENTS ?? 100_000), Number(process.env.OBSERVATIONS ?? 1_000_000), () => {});
// EXTRA_SQL: statements run after the load, before VACUUM ANALYZE (an index to try, say).
if (process.env.EXTRA_SQL) await p.db.exec(process.env.EXTRA_SQL);
await p.db.exec('VACUUM ANALYZE');
await p.db.exec('CHECKPOINT');
const token = await p.tokenFor('integration', { scope: 'system/*.read' });
const captured: { text: string; values: unknown[] }[] = [];
const orig = (pg.Client.prototype as any).query;
let on = false;
// The statements of the last inject round of each query, each with its time from call to answer.
const traced: string[] = [];
(pg.Client.prototype as any).query = function (this: any, q: any, v?: any, ...rest: any[]) {
  const text: string | undefined = typeof q === 'string' ? q : q?.text;
  if (on && text && /FROM resource r/.test(text)) captured.push({ text, values: Array.isArray(v) ? v : (q?.values ?? []) });
  if (!on) return orig.call(this, q, v, ...rest);
  // pg.Pool passes a callback (last argument); a client's own calls get a promise.
  const t0 = performance.now();
  const done = () => traced.push(`${(performance.now() - t0).toFixed(2).padStart(7)} ms  ${(text ?? '?').replace(/\s+/g, ' ').slice(0, 100)}`);
  const args = [v, ...rest];
  const cb = args.findIndex((a) => typeof a === 'function');
  if (cb >= 0) {
    const f = args[cb];
    args[cb] = (...r: unknown[]) => (done(), f(...r));
    return orig.call(this, q, ...args);
  }
  const out = orig.call(this, q, v, ...rest);
  out?.then?.(done, () => undefined);
  return out;
};
const queries = searchQueries(ids);
// The same app also over HTTP on loopback (this process is client and server, as in --suite search
// the bench's client shares the cores): with fetch's default accept-encoding (gzip) and without.
const base = await p.app.listen({ port: 0, host: '127.0.0.1' });
type Mode = (url: string) => Promise<{ status: number; bytes: number }>;
const allModes: Record<string, Mode> = {
  inject: async (url: string) => {
    const r = await p.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    return { status: r.statusCode, bytes: r.rawPayload.length };
  },
  'http gzip': async (url: string) => {
    const r = await fetch(base + url, { headers: { authorization: `Bearer ${token}` } });
    await r.json();
    return { status: r.status, bytes: Number(r.headers.get('content-length') ?? 0) };
  },
  'http identity': async (url: string) => {
    const r = await fetch(base + url, { headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'identity' } });
    const body = await r.arrayBuffer();
    JSON.parse(new TextDecoder().decode(body));
    return { status: r.status, bytes: body.byteLength };
  },
};
// PROFILE=<file.cpuprofile>: a CPU profile of the query rounds only (not the load).
const profiler = process.env.PROFILE ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
const modes = Object.entries(allModes).filter(([m]) => !process.env.MODES || process.env.MODES.split(',').includes(m));
for (const [label, make] of Object.entries(queries)) {
  const times: Record<string, number[]> = Object.fromEntries(modes.map(([m]) => [m, []]));
  const bytes: Record<string, number> = {};
  // Rounds alternate the three ways, so each sees the same machine.
  for (let i = 0; i < 60; i++) {
    for (const [mode, run] of modes) {
      on = i === 59 && mode === 'inject';
      const t0 = performance.now();
      const r = await run(`/fhir/R4/${make(i)}`);
      if (i >= 10) times[mode].push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`${label} ${mode} ${r.status}`);
      bytes[mode] = r.bytes;
    }
  }
  on = false;
  for (const [mode, ts] of Object.entries(times)) {
    console.log(`${label}: ${mode} p50 ${median(ts).toFixed(1)} ms p95 ${percentile(ts, 95).toFixed(1)} ms (${bytes[mode]} B)`);
  }
  console.log(traced.join('\n'));
  traced.length = 0;
  const c = captured.pop();
  captured.length = 0;
  if (c) {
    // The page statement alone from this process, 50 times, against a bare round trip.
    const alone = async (text: string, values: unknown[]) => {
      const ts: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t0 = performance.now();
        await p.db.query(text, values);
        ts.push(performance.now() - t0);
      }
      return median(ts).toFixed(2);
    };
    console.log(`page statement alone p50 ${await alone(c.text, c.values)} ms; SELECT 1 p50 ${await alone('SELECT 1', [])} ms`);
    const e = await p.db.query<any>(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) ${c.text}`, c.values);
    console.log(
      e.rows
        .map((r: any) => r['QUERY PLAN'])
        .filter((l: string) => process.env.FULL_PLAN || /Execution|Planning|Buffers: shared hit=\d+ read|^\S/.test(l))
        .slice(0, process.env.FULL_PLAN ? 200 : 6)
        .join('\n'),
    );
  }
}
if (profiler) {
  const { profile } = (await profiler.post('Profiler.stop')) as { profile: object };
  writeFileSync(process.env.PROFILE!, JSON.stringify(profile));
}
console.log((await p.db.query<any>("SELECT pg_size_pretty(pg_relation_size('resource')) r, pg_size_pretty(pg_relation_size('resource_version')) v")).rows[0]);
await p.close();
