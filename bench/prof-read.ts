import { startTestPlatform } from '../src/testing/platform.ts';
import { seedDemo } from '../src/seed/demo.ts';
const p = await startTestPlatform((process.argv[2] as 'pglite' | 'postgres') ?? 'postgres', {}, undefined, { domains: [] });
const demo = await seedDemo(p.store, 8);
const token = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6], scope: 'user/*.read' });
const url = `/fhir/R4/Patient/${demo.ids.patients[0]}`;
const headers = { authorization: `Bearer ${token}` };
for (let i = 0; i < 300; i++) await p.app.inject({ method: 'GET', url, headers });
const t0 = performance.now();
const N = 3000;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    for (let i = 0; i < N / 16; i++) {
      const r = await p.app.inject({ method: 'GET', url, headers });
      if (r.statusCode !== 200) throw new Error(String(r.statusCode));
    }
  }),
);
console.log('reads/s', (N / ((performance.now() - t0) / 1000)).toFixed(0));
await p.close();
