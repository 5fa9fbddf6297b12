/**
 * Where `cauyte import`'s time goes (bench-only profile, not a benchmark): importFiles over the
 * Synthea fixtures in process, next to a raw COPY of the same resources, rounds alternating.
 * `node --import tsx bench/prof-import.ts [postgres|pglite] [rounds]` (IMPORT_WORKERS=n: worker threads, 0 none, default one per core up to 4;
 * IMPORT_ROWS_ONLY=1: instead, the write floor — every resource prepared first, then only its rows
 * COPY'd (copyNew, in a transaction), against the raw COPY); each import round also prints where the CPU went
 * (main thread busy, this process, PostgreSQL's processes); IMPORT_PROF=file.cpuprofile
 * writes a CPU profile of the last round's import; IMPORT_AB=young:a,b (the workers' young generation,
 * MiB) or IMPORT_AB=copy:a,b (the copy minimum, off = INSERT): an in-process A/B, one pipeline per
 * value, rounds alternating, medians printed. BENCH_PGLITE_DIR=dir: PGlite on disk as the server runs it.
 */
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Bundle } from '@medplum/fhirtypes';
import { startTestPlatform } from '../src/testing/platform.ts';
import { IMPORT_WORKERS, ImportPipeline } from '../src/fhir/import.ts';
import type { Resource } from '@medplum/fhirtypes';
import { FhirService } from '../src/fhir/service.ts';
import { copyNew, setCopyMinimum } from '../src/fhir/storage-copy.ts';
import { insertNew } from '../src/fhir/storage-rows.ts';
import type { Queryable } from '../src/db/db.ts';
import { copyBaseline } from './lib.ts';

// IMPORT_COPY=off: the INSERT path throughout (the before side of an A/B).
if (process.env.IMPORT_COPY === 'off') setCopyMinimum(Infinity);
// IMPORT_COPY=N: COPY from N resources on any database (PGlite too: its blob device).
else if (Number(process.env.IMPORT_COPY) > 0) setCopyMinimum(Number(process.env.IMPORT_COPY));

const kind = (process.argv[2] as 'pglite' | 'postgres') ?? 'postgres';
const rounds = Number(process.argv[3] ?? 3);
const dir = new URL('../test/fixtures/synthea-r4/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => new URL(f, dir).pathname);
const docs = files.flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as Bundle).entry!.map((e) => JSON.stringify(e.resource)));
// IMPORT_DOMAINS=all: with every domain's write listeners, as the server runs (default: none).
const p = await startTestPlatform(kind, {}, undefined, process.env.IMPORT_DOMAINS === 'all' ? {} : { domains: [] });
const { Session } = await import('node:inspector/promises');
const session = new Session();
if (process.env.IMPORT_PROF) {
  session.connect();
  await session.post('Profiler.enable');
}
if (process.env.IMPORT_ROWS_ONLY) {
  const { storage } = await FhirService.prepare(p.db);
  const resources = docs.map((d) => JSON.parse(d) as Resource);
  for (let r = 0; r < rounds; r++) {
    const now = new Date();
    const prepared = resources.map((x) => storage.prepareCreate(x, undefined, now));
    // In bundle-sized transactions (BATCH, default 226 ≈ a Synthea bundle): by COPY, then the same rows by INSERT (insertNew).
    const batch = Number(process.env.BATCH ?? 226);
    const timed = async (write: (tx: Queryable, items: typeof prepared) => Promise<unknown>, items: typeof prepared) => {
      const t0 = performance.now();
      for (let i = 0; i < items.length; i += batch) await p.db.transaction((tx) => write(tx, items.slice(i, i + batch)));
      return items.length / ((performance.now() - t0) / 1000);
    };
    const rows = await timed((tx, items) => copyNew(tx, items, now), prepared);
    const again = resources.map((x) => storage.prepareCreate(x, undefined, now));
    const ins = await timed((tx, items) => insertNew(tx, items, now), again);
    const c = await copyBaseline(p.db, docs);
    console.log(
      `round ${r}: rows by COPY ${rows.toFixed(0)}/s (${((rows / c) * 100).toFixed(1)} %), by INSERT ${ins.toFixed(0)}/s (${((ins / c) * 100).toFixed(1)} %), raw COPY ${c.toFixed(0)}/s`,
    );
  }
  await p.close();
  process.exit(0);
}
if (process.env.IMPORT_AB) {
  // IMPORT_AB=young:a,b — the workers' young generation (MiB); IMPORT_AB=copy:a,b — the copy minimum (off = INSERT).
  const [knob, values] = process.env.IMPORT_AB.split(':');
  const variants = values.split(',').map((v) => {
    const copyMin = knob === 'copy' ? (v === 'off' ? Infinity : Number(v)) : undefined;
    if (knob === 'copy') setCopyMinimum(copyMin); // the pipeline's workers render COPY rows by the minimum when it starts
    // young:default — the workers' default young generation (no resourceLimits), as Node gives it.
    const pipe = new ImportPipeline(p.store, IMPORT_WORKERS, knob === 'young' ? (v === 'default' ? null : Number(v)) : undefined);
    return { label: `${knob} ${v}`, pipe, use: () => knob === 'copy' && setCopyMinimum(copyMin), rates: [] as number[], cpus: [] as number[] };
  });
  for (const x of variants) {
    x.use();
    await x.pipe.run(files.slice(0, 3)); // warm-up: the workers' start
  }
  for (let r = 0; r < rounds; r++)
    for (const x of variants) {
      x.use();
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      let n = 0;
      for (const s of await x.pipe.run(files)) n += s.resources;
      x.rates.push(n / ((performance.now() - t0) / 1000));
      const cpu = process.cpuUsage(cpu0);
      x.cpus.push((cpu.user + cpu.system) / 1000);
    }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const x of variants)
    console.log(
      `${x.label}: import ${median(x.rates).toFixed(0)}/s (${x.rates.map((v) => v.toFixed(0)).join(' ')}), process CPU ${median(x.cpus).toFixed(0)} ms a round`,
    );
  for (const x of variants) await x.pipe.close();
  await p.close();
  process.exit(0);
}
const pipeline = new ImportPipeline(p.store, process.env.IMPORT_WORKERS ? Number(process.env.IMPORT_WORKERS) : IMPORT_WORKERS);
await pipeline.run(files.slice(0, 3)); // warm-up: the worker's start
const imp: number[] = [];
const cp: number[] = [];
/** CPU ms of every PostgreSQL process on this machine (utime + stime; 0 where /proc or pgrep is missing). */
const postgresCpu = (): number => {
  try {
    let ticks = 0;
    for (const pid of execSync('pgrep -u postgres postgres').toString().trim().split('\n')) {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    }
    return ticks * 10;
  } catch {
    return 0;
  }
};
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const pg0 = kind === 'postgres' ? postgresCpu() : 0;
  let n = 0;
  const profiled = process.env.IMPORT_PROF && r === rounds - 1; // the last round's import only
  if (profiled) await session.post('Profiler.start');
  for (const s of await pipeline.run(files)) n += s.resources;
  imp.push(n / ((performance.now() - t0) / 1000));
  if (profiled) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(process.env.IMPORT_PROF!, JSON.stringify(profile));
  }
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  const pgMs = kind === 'postgres' ? `, PostgreSQL CPU ${postgresCpu() - pg0} ms` : '';
  cp.push(await copyBaseline(p.db, docs));
  console.log(
    `round ${r}: import ${imp[r].toFixed(0)}/s, COPY ${cp[r].toFixed(0)}/s, ratio ${((imp[r] / cp[r]) * 100).toFixed(1)} % — main thread busy ${elu.active.toFixed(0)} ms, this process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms${pgMs}`,
  );
}
await pipeline.close();
await p.close();
