/**
 * Real data nobody on this project wrote: the Synthea R4 transaction bundles import completely,
 * through the REST API and through `cauyte import`, and read back equal to what was sent.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteDb } from '../db/db.ts';
import { createTestDb, DB_KINDS } from '../testing/databases.ts';
import { call, startTestPlatform, TEST_SECRET, type TestPlatform } from '../testing/platform.ts';
import { resolveBundleReferences } from './bundle.ts';

const run = promisify(execFile);
const FIXTURES = new URL('../../test/fixtures/synthea-r4/', import.meta.url);
const files = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort();
const bundles = files.map((f) => JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as Bundle);
const totalResources = bundles.reduce((n, b) => n + (b.entry?.length ?? 0), 0);
const CLI = new URL('../../bin/cauyte.js', import.meta.url).pathname;

function withoutMeta(r: Resource): Record<string, unknown> {
  const { meta: _meta, id: _id, ...rest } = r as Resource & Record<string, unknown>;
  return rest;
}

async function countResources(p: TestPlatform): Promise<number> {
  const r = await p.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource');
  return r.rows[0].n;
}

describe.each(DB_KINDS)('Synthea import on %s', (kind) => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: [] });
  });
  afterAll(async () => p?.close());

  it(`imports all ${files.length} bundles (${totalResources} resources) through POST /fhir/R4 and reads each back equal`, async () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    let checked = 0;
    for (const bundle of bundles) {
      const res = await call<Bundle>(p, 'POST', '/fhir/R4', bundle);
      expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(200);
      expect(res.body.type).toBe('transaction-response');
      const entries = res.body.entry as BundleEntry[];
      expect(entries).toHaveLength(bundle.entry!.length);
      // fullUrl → the id the server gave it, from each response's Location.
      const idMap = new Map<string, string>();
      bundle.entry!.forEach((e, i) => {
        expect(entries[i].response?.status).toBe('201 Created');
        const [type, id] = entries[i].response!.location!.split('/');
        idMap.set(e.fullUrl!, `${type}/${id}`);
      });
      for (const [i, e] of bundle.entry!.entries()) {
        const ref = idMap.get(e.fullUrl!)!;
        const read = await call<Resource>(p, 'GET', `/fhir/R4/${ref}`);
        expect(read.status).toBe(200);
        expect(withoutMeta(read.body), `entry ${i} of ${e.fullUrl}`).toEqual(withoutMeta(resolveBundleReferences(e.resource!, idMap)));
        checked++;
      }
    }
    expect(checked).toBe(totalResources);
    expect(await countResources(p)).toBe(totalResources);
    // Search works over the imported data: every patient is found by family name.
    const family = (bundles[0].entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource as any).name[0].family;
    const found = await call<Bundle>(p, 'GET', `/fhir/R4/Patient?family=${encodeURIComponent(family.toLowerCase())}`);
    expect(found.body.entry?.length).toBeGreaterThanOrEqual(1);
  });

  it('rejects invalid resources with an OperationOutcome that names the problem', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ resourceType: 'Observation', code: { text: 'x' } }, /status/],
      [{ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 'high' } }, /value/i],
      [{ resourceType: 'Observation', status: 'done', code: { text: 'x' } }, /done.*Observation\.status/],
      [{ resourceType: 'Encounter', status: 'finished' }, /class/],
      [{ resourceType: 'Patient', birthDate: '1990-02-30' }, /birthDate/],
      [{ resourceType: 'Patient', name: 'Nguyễn Văn A' }, /name/],
      [{ resourceType: 'Condition', subject: { reference: 'Patient/1' }, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 5 }] } }, /code/],
      [{ resourceType: 'Patient', identifier: [{ system: 'https://fhir.cauyte.vn/sid/bhyt', value: 'XX9' }] }, /BHYT/],
    ];
    const before = await countResources(p);
    for (const [resource, problem] of cases) {
      const res = await call(p, 'POST', `/fhir/R4/${resource.resourceType}`, resource);
      expect(res.status, JSON.stringify(resource)).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(res.body.issue), JSON.stringify(resource)).toMatch(problem);
    }
    expect(await countResources(p)).toBe(before);
  });

  it('a transaction with one invalid entry changes nothing', async () => {
    const bundle = structuredClone(bundles[1]);
    const victim = bundle.entry!.findIndex((e) => e.resource!.resourceType === 'Observation');
    (bundle.entry![victim].resource as any).status = 'not-a-status';
    const before = await countResources(p);
    const versionsBefore = (await p.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource_version')).rows[0].n;
    const res = await call(p, 'POST', '/fhir/R4', bundle);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toContain(`Bundle.entry[${victim}]`);
    expect(await countResources(p)).toBe(before);
    expect((await p.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource_version')).rows[0].n).toBe(versionsBefore);
    const idx = await p.db.query<{ n: number }>('SELECT count(*)::int AS n FROM idx_token t LEFT JOIN resource r ON r.rid = t.rid WHERE r.rid IS NULL');
    expect(idx.rows[0].n).toBe(0);
  });
});

describe.each(DB_KINDS)('cauyte import on %s', (kind) => {
  it('imports the Synthea bundles from the command line', async () => {
    const some = files.slice(0, 4).map((f) => new URL(f, FIXTURES).pathname);
    const expected = some.reduce((n, f) => n + (JSON.parse(readFileSync(f, 'utf8')) as Bundle).entry!.length, 0);
    if (kind === 'postgres') {
      const t = await createTestDb('postgres');
      try {
        const { stdout } = await run(process.execPath, [CLI, 'import', ...some], {
          env: { ...process.env, DATABASE_URL: t.url, CAUYTE_SECRET_KEY: TEST_SECRET, CAUYTE_JANUS: 'off', LOG_LEVEL: 'silent' },
        });
        expect(stdout).toContain('Imported');
        const r = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource');
        expect(r.rows[0].n).toBe(expected);
      } finally {
        await t.drop();
      }
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'cauyte-import-'));
      try {
        const env: NodeJS.ProcessEnv = { ...process.env, CAUYTE_DATA_DIR: dir, CAUYTE_JANUS: 'off', LOG_LEVEL: 'silent' };
        delete env.DATABASE_URL;
        const { stdout } = await run(process.execPath, [CLI, 'import', ...some], { env });
        expect(stdout.match(/Imported \d+ resources/g)).toHaveLength(4);
        const db = await PgliteDb.open(join(dir, 'db'));
        const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource');
        expect(r.rows[0].n).toBe(expected);
        await db.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
