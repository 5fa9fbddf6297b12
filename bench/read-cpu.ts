/**
 * CPU per request rather than requests per second, which a shared machine's load swings: the same
 * platform in one process (Fastify inject, every hook), reads at concurrency 16 through the checked
 * FHIR route (a signed-in commune clinician: token, policy, care relationship, audit) and through an
 * unchecked route on the same app, and single Patient creates (integration token), rounds
 * alternating; node CPU (process.cpuUsage) plus the CPU of this database's PostgreSQL backends
 * (/proc/<pid>/stat; PGlite runs inside the process). Prints medians. A developer's tool, not part
 * of `npm run bench`:  `node --import tsx bench/read-cpu.ts postgres|pglite`  (env N, ROUNDS,
 * ONLY_CREATE=1, DOMAINS=none, PROFILE=<folder>: a CPU profile of each kind's rounds written there).
 */
import { Session } from 'node:inspector/promises';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import pg from 'pg';
import { startTestPlatform } from '../src/testing/platform.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { FhirService } from '../src/fhir/service.ts';
const kind = (process.argv[2] ?? 'postgres') as 'postgres' | 'pglite';
const held: { storage?: any } = {};
const p = await startTestPlatform(kind, {}, undefined, {
  domains: process.env.DOMAINS === 'none' ? [] : undefined,
  plugins: [
    {
      plugin: async (app: any) => {
        app.get('/u/:type/:id', { config: { access: 'public' } }, async (req: any, reply: any) =>
          reply.type('application/fhir+json').send(await held.storage.read(req.params.type, req.params.id)),
        );
      },
    },
  ],
});
held.storage = (await FhirService.prepare(p.db)).storage;
const demo = await seedDemo(p.store, 8);
const token = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6], scope: 'user/*.read' });
const dbName = kind === 'postgres' ? new URL((p.testDb as any).url).pathname.slice(1) : '';
const admin = kind === 'postgres' ? new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' }) : undefined;
await admin?.connect();
const tick = Number(process.env.CLK_TCK ?? 100);
async function pgCpu(): Promise<number> {
  if (!admin) return 0;
  const pids = (await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName])).rows.map((r) => r.pid);
  let t = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      t += (Number(f[11]) + Number(f[12])) / tick;
    } catch {}
  }
  return t * 1e6;
}
const pid = demo.ids.patients[0];
const g = { authorization: `Bearer ${token}` };
async function run(method: string, url: string, headers: Record<string, string>, n: number, body?: (i: number) => string) {
  await Promise.all(
    Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; i < n / 16; i++) {
        const r = await p.app.inject({ method: method as any, url, headers, ...(body ? { body: body(w * 1000 + i) } : {}) });
        if (r.statusCode >= 300) throw new Error(r.body);
      }
    }),
  );
}
const profiler = process.env.PROFILE ? new Session() : undefined;
profiler?.connect();
await profiler?.post('Profiler.enable');
const profiles: Record<string, any[]> = {};
async function measure(label: string, f: () => Promise<void>, n: number) {
  await profiler?.post('Profiler.start');
  const c0 = process.cpuUsage();
  const p0 = await pgCpu();
  const w0 = performance.now();
  await f();
  const wall = performance.now() - w0;
  const c = process.cpuUsage(c0);
  const pgc = (await pgCpu()) - p0;
  if (profiler) (profiles[label] ??= []).push((await profiler.post('Profiler.stop')).profile);
  return { label, node: (c.user + c.system) / n, pg: pgc / n, rate: n / (wall / 1000) };
}
const N = Number(process.env.N ?? 3000);
const cbody = (i: number) =>
  JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Nguyễn', given: ['Bench', String(i)] }], gender: 'female', birthDate: '1990-01-01' });
const ch = { authorization: `Bearer ${p.token}`, 'content-type': 'application/fhir+json', prefer: 'return=minimal' };
await run('GET', `/u/Patient/${pid}`, {}, 400);
await run('GET', `/fhir/R4/Patient/${pid}`, g, 400);
await run('POST', '/fhir/R4/Patient', ch, 160, cbody);
const out: Record<string, { node: number[]; pg: number[]; rate: number[] }> = {};
for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
  for (const [label, f, n] of (process.env.ONLY_CREATE
    ? [['create', () => run('POST', '/fhir/R4/Patient', ch, N / 3, cbody), N / 3]]
    : [
        ['unchecked', () => run('GET', `/u/Patient/${pid}`, {}, N), N],
        ['guarded', () => run('GET', `/fhir/R4/Patient/${pid}`, g, N), N],
        ['create', () => run('POST', '/fhir/R4/Patient', ch, N / 3, cbody), N / 3],
      ]) as any) {
    const m = await measure(label, f as () => Promise<void>, n as number);
    (out[label] ??= { node: [], pg: [], rate: [] }).node.push(m.node);
    out[label].pg.push(m.pg);
    out[label].rate.push(m.rate);
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [k, v] of Object.entries(out))
  console.log(
    kind,
    k.padEnd(10),
    'node µs/req',
    med(v.node).toFixed(0),
    'pg µs/req',
    med(v.pg).toFixed(0),
    'total',
    (med(v.node) + med(v.pg)).toFixed(0),
    'rate',
    med(v.rate).toFixed(0),
  );
if (process.env.PROFILE) {
  mkdirSync(process.env.PROFILE, { recursive: true });
  for (const [k, list] of Object.entries(profiles))
    list.forEach((prof, i) => writeFileSync(`${process.env.PROFILE}/${k}-${i}.cpuprofile`, JSON.stringify(prof)));
}
await admin?.end();
await p.close();
process.exit(0);
