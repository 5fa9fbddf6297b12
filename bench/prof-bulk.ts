/**
 * Where a bulk export's time goes (bench-only profile, not a benchmark): the 500-patient demo,
 * kick-off → poll → download of every file with client-side timestamps per stage, next to the raw
 * COPY; with several rounds, each stage's median over the rounds after the first (BULK_QUIET=1: only
 * those). `node --import tsx bench/prof-bulk.ts [postgres|pglite] [patients] [rounds]`.
 */
import { startTestPlatform } from '../src/testing/platform.ts';
import { seedDemo } from '../src/seed/demo.ts';
import type { PostgresDb } from '../src/db/db.ts';
import { countLines } from './bulk-client.ts';

const kind = (process.argv[2] as 'pglite' | 'postgres') ?? 'postgres';
const patients = Number(process.argv[3] ?? 500);
const rounds = Number(process.argv[4] ?? 3);
const p = await startTestPlatform(kind, { CAUYTE_RATE_LIMIT: '100000000' }, undefined, { domains: ['family', 'consult', 'visits', 'formats'] });
const base = await p.listen();
let t = performance.now();
await seedDemo(p.store, patients);
if (process.env.ANALYZE) await (p.db as PostgresDb).pool.query('ANALYZE');
console.log(`seed ${(performance.now() - t).toFixed(0)} ms`);
// Every statement's duration (BULK_SQL=1): wraps the platform's database handle.
const sqlLog: string[] = [];
if (process.env.BULK_SQL) {
  const db = p.db as unknown as { query: (...a: unknown[]) => Promise<unknown>; pool?: { query: (...a: unknown[]) => Promise<unknown> } };
  const orig = db.query.bind(db);
  db.query = async (...a: unknown[]) => {
    const t1 = performance.now();
    try {
      return await orig(...a);
    } finally {
      sqlLog.push(`    sql ${(performance.now() - t1).toFixed(1)} ms ${String(a[0]).replace(/\s+/g, ' ').slice(0, 70)}`);
    }
  };
}
const token = await p.tokenFor('integration', { scope: 'system/*.read' });
const headers = { authorization: `Bearer ${token}`, accept: 'application/fhir+json' };
// A CPU profile of the export rounds only (BULK_PROF=file.cpuprofile).
const { Session } = await import('node:inspector/promises');
const session = new Session();
if (process.env.BULK_PROF) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
// BULK_QUIET=1: only the medians at the end.
const log = (m: string) => void (process.env.BULK_QUIET || !m || console.log(m));
// Per stage, the times of every round but the first (warm-up), for the medians at the end.
const stages = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  const keep = (stage: string, ms: number) => void (r > 0 && stages.set(stage, [...(stages.get(stage) ?? []), ms]));
  const stamp = (what: string, since: number) => {
    const ms = performance.now() - since;
    keep(what.replace(/ \d+.*$/, ''), ms);
    log(`  ${what}: ${ms.toFixed(0)} ms`);
  };
  t = performance.now();
  const kick = await fetch(`${base}/fhir/R4/$export`, { headers: { ...headers, prefer: 'respond-async' } });
  stamp(`kick-off ${kick.status}`, t);
  log(sqlLog.splice(0).join('\n'));
  const status = kick.headers.get('content-location')!;
  let polls = 0;
  let manifest: { output: { url: string; type: string; count: number }[] };
  for (;;) {
    t = performance.now();
    const s = await fetch(status, { headers });
    polls++;
    if (s.status === 202) {
      await s.arrayBuffer();
      const wait = Number(s.headers.get('retry-after') ?? 1);
      await new Promise((res) => setTimeout(res, wait * 1000));
      continue;
    }
    manifest = (await s.json()) as typeof manifest;
    stamp(`status 200 after ${polls} polls`, t);
    break;
  }
  let n = 0;
  for (const o of manifest.output) {
    t = performance.now();
    const res = await fetch(o.url, { headers });
    const ttfb = performance.now() - t;
    keep(`file ${o.type} ttfb`, ttfb);
    // As the benchmark's client reads a file (bulk-client.ts): lines counted as the bytes arrive, never decoded.
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      n += countLines(chunk);
      bytes += chunk.length;
    }
    log(sqlLog.splice(0).join('\n'));
    keep(`file ${o.type} total`, performance.now() - t);
    log(`  file ${o.type} ${o.count}: ttfb ${ttfb.toFixed(0)} ms, total ${(performance.now() - t).toFixed(0)} ms, ${(bytes / 1e6).toFixed(1)} MB`);
  }
  stamp(`export ${n} resources`, t0);
  if (kind === 'postgres') {
    t = performance.now();
    const c = await (p.db as PostgresDb).pool.query(
      "SELECT count(*) FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id WHERE NOT r.deleted AND r.resource_type <> 'AuditEvent'",
    );
    stamp(`count ${c.rows[0].count}`, t);
  }
}
if (rounds > 1) {
  console.log(`medians of rounds 2–${rounds}:`);
  for (const [stage, ms] of stages) console.log(`  ${stage.padEnd(28)} ${[...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)].toFixed(1)} ms`);
}
if (process.env.BULK_PROF) {
  const { profile } = await session.post('Profiler.stop');
  (await import('node:fs')).writeFileSync(process.env.BULK_PROF, JSON.stringify(profile));
}
await p.close();
