/**
 * Where a signed-in read's time goes: the same platform in one process, reads injected at
 * concurrency 16 through the checked FHIR route and through an unchecked route on the same app,
 * each profiled with the inspector (CPU profiles in /tmp/prof) and timed (node CPU per request).
 * `node --import tsx bench/read-profile.ts postgres|pglite`. A developer's tool, not part of `npm run bench`.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config.ts';
import { PgliteDb, PostgresDb } from '../src/db/db.ts';
import { FhirService } from '../src/fhir/service.ts';
import { buildPlatform } from '../src/server.ts';
import { seedDemo } from '../src/seed/demo.ts';
import pg from 'pg';
const kind = process.argv[2] ?? 'postgres';
/** Own database name and output folder, so two people profiling on one machine do not collide. */
const DB = process.env.PROF_DB ?? 'cauyte_prof';
const OUT = process.env.PROF_OUT ?? '/tmp/prof';
let db;
if (kind === 'postgres') {
  const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${DB}`);
  await c.end();
  db = new PostgresDb(`postgres://postgres@127.0.0.1:5432/${DB}`, 10);
} else db = await PgliteDb.open(process.env.PROF_PGLITE_DIR); // a folder: file-backed, as `cauyte serve` runs
const config = loadConfig({
  LOG_LEVEL: 'silent',
  CAUYTE_SECRET_KEY: 'x'.repeat(40),
  CAUYTE_DATA_DIR: `${OUT}/data`,
  CAUYTE_MQTT_PORT: '0',
  CAUYTE_JANUS: 'off',
  CAUYTE_RATE_LIMIT: '100000000',
  ...(kind === 'postgres' ? { DATABASE_URL: 'postgres://x' } : {}),
});
await (await import('../src/db/migrate.ts')).migrate(db);
const { storage } = await FhirService.prepare(db);
const platform = await buildPlatform(config, {
  db,
  logger: false,
  plugins: [
    {
      plugin: async (app) => {
        app.get('/u/:type/:id', { config: { access: 'public' } }, async (req: any, reply) =>
          reply.type('application/fhir+json').send(await storage.read(req.params.type, req.params.id)),
        );
      },
    },
  ],
});
const demo = await seedDemo(platform.store, 8);
const acct = await platform.accounts.create({
  username: 'prof',
  displayName: 'p',
  kind: 'service',
  practitionerId: demo.ids.practitioners[6],
  roles: [{ role: 'commune_clinician', organizationId: demo.ids.organizations.batxat }],
});
const token = (
  await platform.tokens.issue(
    { sub: acct.id, role: 'commune_clinician', org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6], scope: 'user/*.read' },
    3600,
  )
).token;
const pid = demo.ids.patients[0];
const run = async (url: string, headers: Record<string, string>, n: number) => {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = 0; i < n / 16; i++) {
        const r = await platform.app.inject({ method: 'GET', url, headers });
        if (r.statusCode !== 200) throw new Error(r.body);
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
};
const g = { authorization: `Bearer ${token}` };
await run(`/u/Patient/${pid}`, {}, 800);
await run(`/fhir/R4/Patient/${pid}`, g, 800);
for (let i = 0; i < 2; i++)
  console.log(
    'audit groups',
    JSON.stringify(platform.audit.group.stats),
    'unchecked',
    (await run(`/u/Patient/${pid}`, {}, 3000)).toFixed(0),
    'guarded',
    (await run(`/fhir/R4/Patient/${pid}`, g, 3000)).toFixed(0),
  );
const s = new Session();
s.connect();
await s.post('Profiler.enable');
for (const [name, url, h] of [
  ['guarded', `/fhir/R4/Patient/${pid}`, g],
  ['unchecked', `/u/Patient/${pid}`, {}],
] as const) {
  await s.post('Profiler.start');
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  await run(url, h, 3000);
  const cpu = process.cpuUsage(t0);
  console.log(name, 'node CPU µs/req', ((cpu.user + cpu.system) / 3000).toFixed(0), 'wall ms', (performance.now() - w0).toFixed(0));
  const { profile } = await s.post('Profiler.stop');
  writeFileSync(`${OUT}/${name}.cpuprofile`, JSON.stringify(profile));
}
await platform.close();
