/**
 * The bulk write path (storage-copy.ts, import-many.ts, the import worker) against the ordinary
 * one, on both databases: the same files imported with COPY and the worker thread, and with INSERT
 * and no worker, leave the same rows (NDJSON with fixed ids: exactly the same; bundles, whose ids
 * are new each time: the same rows per type and parameter); one audit row per file; an NDJSON
 * file keeps its ids, updates ids already stored or repeated, may refer forward, and a missing
 * reference leaves nothing of the file.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/db.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { ImportPipeline, importFile, importFiles } from './import.ts';
import { resolveBundleReferences } from './bundle.ts';
import { fromWire, prepareTransactionBundle, toWire } from './import-prepare.ts';
import { prepareNew } from './storage.ts';
import { FhirService } from './service.ts';
import { copyNew, copyRendered, patchRids, renderCopy, setCopyMinimum } from './storage-copy.ts';
import { INDEX_TABLES } from './storage-rows.ts';

const FIXTURES = new URL('../../test/fixtures/synthea-r4/', import.meta.url);
const names = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .slice(0, 3);
const paths = names.map((f) => new URL(f, FIXTURES).pathname);
const bundles = paths.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Bundle);

/** A bundle as NDJSON with fixed ids: urn:uuid fullUrls become ids, references Type/id. */
function toNdjson(b: Bundle): string {
  const ids = new Map<string, string>();
  for (const e of b.entry!) ids.set(e.fullUrl!, `${e.resource!.resourceType}/${e.fullUrl!.replace('urn:uuid:', '')}`);
  return b
    .entry!.map((e) =>
      JSON.stringify({ ...e.resource, id: e.fullUrl!.replace('urn:uuid:', '') }).replace(/"urn:uuid:[0-9a-f-]+"/g, (m) =>
        JSON.stringify(ids.get(m.slice(1, -1)) ?? m.slice(1, -1)),
      ),
    )
    .join('\n');
}

/** Every stored row by (type, id) instead of rid, sorted: what two stores with the same ids must share. */
async function rowsByKey(db: Db): Promise<string[]> {
  const out: string[] = [];
  const v = await db.query<{ k: string }>(
    `SELECT concat_ws('|', r.resource_type, r.id, r.version_id, r.deleted, v.version_id, v.deleted, v.content - 'meta') AS k
     FROM resource r JOIN resource_version v USING (rid)`,
  );
  out.push(...v.rows.map((x) => x.k));
  for (const t of INDEX_TABLES) {
    const r = await db.query<{ k: string }>(
      `SELECT concat_ws('|', '${t.table}', r.resource_type, r.id, x.param, ${t.cols.map((c) => `x.${c}::text`).join(', ')}) AS k FROM ${t.table} x JOIN resource r USING (rid)`,
    );
    out.push(...r.rows.map((x) => x.k));
  }
  return out.sort();
}

/** Index rows counted per resource type, table and parameter (bundles get new ids each import). */
async function rowCounts(db: Db): Promise<string[]> {
  const out: string[] = [];
  for (const t of INDEX_TABLES) {
    const r = await db.query<{ k: string }>(
      `SELECT concat_ws('|', '${t.table}', r.resource_type, x.param, count(*)) AS k FROM ${t.table} x JOIN resource r USING (rid) GROUP BY r.resource_type, x.param`,
    );
    out.push(...r.rows.map((x) => x.k));
  }
  return out.sort();
}

describe("resolving a bundle's references in place (the worker owns what it parsed)", () => {
  it('gives what the copying walk gives, on every Synthea resource, and refuses the same', () => {
    let rewritten = 0;
    for (const b of bundles) {
      const idMap = new Map(b.entry!.map((e, i) => [e.fullUrl!, `${e.resource!.resourceType}/id-${i}`]));
      for (const e of b.entry!) {
        const text = JSON.stringify(e.resource);
        const copied = resolveBundleReferences(e.resource!, idMap);
        expect(JSON.stringify(e.resource)).toBe(text); // the copying walk leaves its input alone
        const owned = JSON.parse(text) as Resource;
        expect(resolveBundleReferences(owned, idMap, { inPlace: true })).toBe(owned);
        expect(owned).toEqual(copied);
        if (JSON.stringify(owned) !== text) rewritten++;
      }
    }
    expect(rewritten).toBeGreaterThan(500);
    const dangling = () => JSON.parse('{"resourceType":"Observation","subject":{"reference":"urn:uuid:0000"},"__proto__":{"x":1}}') as Resource;
    const idMap = new Map([['urn:uuid:1111', 'Patient/p']]);
    expect(() => resolveBundleReferences(dangling(), idMap)).toThrow(/urn:uuid:0000/);
    expect(() => resolveBundleReferences(dangling(), idMap, { inPlace: true })).toThrow(/urn:uuid:0000/);
    // A __proto__ key stays an own key either way (validation then refuses it).
    const fine = () => JSON.parse('{"resourceType":"Observation","subject":{"reference":"urn:uuid:1111"},"__proto__":{"x":1}}') as Resource;
    for (const r of [resolveBundleReferences(fine(), idMap), resolveBundleReferences(fine(), idMap, { inPlace: true })]) {
      expect(Object.hasOwn(r, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
      expect((r as { subject?: { reference?: string } }).subject?.reference).toBe('Patient/p');
    }
  });
});

describe.each(DB_KINDS)('bulk import path on %s', (kind) => {
  let bulk: TestPlatform;
  let plain: TestPlatform;
  let dir: string;
  beforeAll(async () => {
    bulk = await startTestPlatform(kind, {}, undefined, { domains: [] });
    plain = await startTestPlatform(kind, {}, undefined, { domains: [] });
    dir = mkdtempSync(join(tmpdir(), 'cauyte-bulk-'));
  });
  afterAll(async () => {
    await bulk?.close();
    await plain?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => setCopyMinimum(undefined));

  it('COPY with the worker and INSERT without it store the same rows, one audit row per file', async () => {
    const ndjson = join(dir, 'one.ndjson');
    writeFileSync(ndjson, toNdjson(bundles[0]));
    const files = [ndjson, ...paths.slice(1)];
    const audits = async (db: Db) =>
      (await db.query<{ reason: string }>("SELECT reason FROM audit_log WHERE reason LIKE 'import of %' ORDER BY id")).rows.map((r) => r.reason);
    const beforeBulk = (await audits(bulk.db)).length;
    const beforePlain = (await audits(plain.db)).length;

    setCopyMinimum(1);
    const a = await importFiles(bulk.store, files, { workers: 1 });
    setCopyMinimum(Infinity);
    const b = await importFiles(plain.store, files, { workers: 0 });
    expect(a.map((s) => s.resources)).toEqual(bundles.map((x) => x.entry!.length));
    expect(b.map((s) => s.resources)).toEqual(bundles.map((x) => x.entry!.length));
    // The first file is prepared here while the worker starts; the worker prepared the bundles after it.
    expect(a.map((s) => !!s.preparedAhead)).toEqual([false, true, true]);
    expect(b.map((s) => !!s.preparedAhead)).toEqual([false, false, false]);

    const fixedIds = (rows: string[]) => rows.filter((k) => bundles[0].entry!.some((e) => k.includes(e.fullUrl!.replace('urn:uuid:', ''))));
    const bulkRows = await rowsByKey(bulk.db);
    expect(fixedIds(bulkRows).length).toBeGreaterThan(bundles[0].entry!.length * 2);
    expect(fixedIds(bulkRows)).toEqual(fixedIds(await rowsByKey(plain.db)));
    expect(await rowCounts(bulk.db)).toEqual(await rowCounts(plain.db));
    // No urn:uuid left anywhere; every reference names a stored resource.
    const left = await bulk.db.query<{ n: number }>("SELECT count(*)::int AS n FROM resource_version WHERE content::text LIKE '%urn:uuid:%'");
    expect(left.rows[0].n).toBe(0);

    const expected = files.map((f) => `import of ${f.split('/').pop()}`);
    expect((await audits(bulk.db)).slice(beforeBulk)).toEqual(expected);
    expect((await audits(plain.db)).slice(beforePlain)).toEqual(expected);
  });

  it('rows rendered ahead (renderCopy, row ids filled in) are the rows copyNew writes, hostile text included', async () => {
    const now = new Date();
    const hostile = {
      resourceType: 'Patient',
      name: [{ family: 'Nguyễn\tThị\\N', given: ['Lê\nVăn', '\\.', 'ấ"\'\\'] }],
      address: [{ text: 'Xã Bát Xát\r\ntỉnh Lào Cai', city: 'Lào Cai' }],
    };
    const resources = [hostile, ...bundles[0].entry!.slice(0, 40).map((e) => e.resource!)];
    // The same ids in both stores (references left as they are: only rows are compared).
    const ids = resources.map((_, i) => `render-${kind}-${i}`);
    const items = (store: TestPlatform) => resources.map((r, i) => prepareNew(store.store.registry, structuredClone(r) as Resource, ids[i], now));
    const rendered = renderCopy(items(bulk), now.toISOString());
    const ridsA = await bulk.db.transaction((tx) => copyRendered(tx, rendered));
    const ridsB = await plain.db.transaction((tx) => copyNew(tx, items(plain), now));
    expect(ridsA).toHaveLength(resources.length);
    expect(ridsB).toHaveLength(resources.length);
    const ours = (rows: string[]) => rows.filter((k) => ids.some((id) => k.includes(`|${id}|`)));
    const a = ours(await rowsByKey(bulk.db));
    expect(a.length).toBeGreaterThan(resources.length * 3);
    expect(a).toEqual(ours(await rowsByKey(plain.db)));
    // Each resource's rows point at its own row id.
    const own = await bulk.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM idx_token x JOIN resource r USING (rid) WHERE r.rid = ANY($1::bigint[]) AND r.id <> ALL($2::text[])`,
      [ridsA, ids],
    );
    expect(own.rows[0].n).toBe(0);
    // The hostile strings came back byte for byte.
    const back = await bulk.db.query<{ content: { name: unknown; address: unknown } }>('SELECT content FROM resource_version WHERE id = $1', [ids[0]]);
    expect(back.rows[0].content.name).toEqual(hostile.name);
    expect(back.rows[0].content.address).toEqual(hostile.address);
  });

  it('filling in row ids refuses rendered text that does not fit its items', () => {
    const items = [prepareNew(bulk.store.registry, { resourceType: 'Patient', name: [{ family: 'A' }] } as Resource, 'x1', new Date())];
    const r = renderCopy(items, new Date().toISOString());
    expect(() => patchRids(r.tables[0].data.slice(), undefined, [])).toThrow(/no item/);
    expect(() => patchRids(r.tables[0].data.slice(), undefined, [1, 2])).toThrow(/1 lines for 2 rows/);
    expect(() => patchRids(new TextEncoder().encode('42\tPatient\n'), undefined, [7])).toThrow(/placeholder/);
    const ok = r.tables[0].data.slice();
    patchRids(ok, undefined, [1234567]);
    expect(new TextDecoder().decode(ok).split('\t')[0]).toBe('0000000000001234567');
  });

  it('reindexing writes back exactly the index rows the import wrote', async () => {
    const before = await rowsByKey(bulk.db);
    expect(before.length).toBeGreaterThan(1000);
    const { storage } = await FhirService.prepare(bulk.db);
    await bulk.db.exec(INDEX_TABLES.map((t) => `TRUNCATE ${t.table};`).join('\n'));
    const types = (await bulk.db.query<{ t: string }>('SELECT DISTINCT resource_type AS t FROM resource')).rows.map((r) => r.t);
    for (const type of types) await storage.reindexType(type);
    expect(await rowsByKey(bulk.db)).toEqual(before);
  });

  it('a prepared file crosses from the worker (its wire form, structured-cloned) unchanged: resources, index rows with their dates, rendered rows', () => {
    for (const copyFrom of [1, Infinity]) {
      const prepared = prepareTransactionBundle(structuredClone(bundles[2]), (input, id, now) => prepareNew(bulk.store.registry, input, id, now), {
        copyFrom,
        owned: true,
      })!;
      const back = fromWire(structuredClone(toWire(prepared)));
      expect(back.ids).toEqual(prepared.ids);
      expect(back.lastUpdated).toBe(prepared.lastUpdated);
      expect(back.writes).toEqual(prepared.writes);
      expect(back.writes.some((w) => w.rows.date.some((d) => d.low instanceof Date))).toBe(true);
      expect(back.copy).toEqual(prepared.copy);
      expect(!!back.copy).toBe(copyFrom === 1);
    }
    const wire = toWire(prepareTransactionBundle(structuredClone(bundles[2]), (input, id, now) => prepareNew(bulk.store.registry, input, id, now))!);
    expect(() => fromWire({ ...wire, rows: wire.rows.slice(1) })).toThrow(/different lengths/);
  });

  it('a prepared file is written as the worker read it: the writer does not read it again', async () => {
    const file = join(dir, 'changing.json');
    const original = JSON.stringify(bundles[1]);
    writeFileSync(file, original);
    const ahead = prepareTransactionBundle(JSON.parse(original), (input, id, now) => prepareNew(bulk.store.registry, input, id, now));
    expect(ahead).toBeDefined();
    // The file changes after the worker's read: a Patient gets another family name.
    const changed = structuredClone(bundles[1]);
    const patient = changed.entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource as { name: { family: string }[] };
    const family = patient.name[0].family;
    patient.name[0].family = 'Đã-Sửa-Sau';
    writeFileSync(file, JSON.stringify(changed));
    const count = async (text: string, id?: string) =>
      (
        await bulk.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM resource_version WHERE resource_type = 'Patient' AND content->'name'->0->>'family' = $1 AND ($2::text IS NULL OR id = $2)",
          [text, id ?? null],
        )
      ).rows[0].n;
    const s = await importFile(bulk.store, file, undefined, ahead);
    expect(s.preparedAhead).toBe(true);
    expect(s.resources).toBe(bundles[1].entry!.length);
    // One consistent read: the prepared Patient, with its name as read, under the prepared id.
    const preparedPatient = ahead!.writes.find((w) => w.resource.resourceType === 'Patient')!.resource.id!;
    expect(await count(family, preparedPatient)).toBe(1);
    expect(await count('Đã-Sửa-Sau')).toBe(0);
    // Without a preparation the file is read now, as it is now.
    expect((await importFile(bulk.store, file)).preparedAhead).toBe(false);
    expect(await count('Đã-Sửa-Sau')).toBe(1);
  });

  it('a kept-open pipeline: the first file is prepared here while the workers start, every file by them after', async () => {
    const pipeline = new ImportPipeline(bulk.store, 1);
    try {
      const first = await pipeline.run(paths.slice(0, 2));
      const again = await pipeline.run(paths.slice(0, 2));
      expect(first.map((s) => !!s.preparedAhead)).toEqual([false, true]);
      expect(again.map((s) => !!s.preparedAhead)).toEqual([true, true]);
      expect(again.map((s) => s.resources)).toEqual(bundles.slice(0, 2).map((x) => x.entry!.length));
    } finally {
      await pipeline.close();
    }
  });

  it('an NDJSON file keeps ids, updates stored and repeated ones, refers forward, and a missing reference leaves nothing', async () => {
    setCopyMinimum(1);
    const pid = 'bulk-p1';
    await bulk.fixtures.create({ resourceType: 'Patient', id: undefined, name: [{ family: 'Trước' }] }).then(async (p) => {
      // an id already stored: the file updates it
      const file = join(dir, 'ids.ndjson');
      const lines = [
        { resourceType: 'Observation', id: 'bulk-o1', status: 'final', code: { text: 'HA' }, subject: { reference: `Patient/${pid}` } },
        { resourceType: 'Patient', id: pid, name: [{ family: 'Lê' }] },
        { resourceType: 'Patient', id: pid, name: [{ family: 'Lê Văn' }] },
        { resourceType: 'Patient', id: p.id, name: [{ family: 'Sau' }] },
        { resourceType: 'Observation', status: 'final', code: { text: 'M' }, subject: { reference: `Patient/${pid}` } },
      ];
      writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
      const s = await importFile(bulk.store, file);
      expect(s.resources).toBe(5);
      const v = await bulk.db.query<{ id: string; version_id: number }>(
        "SELECT id, version_id FROM resource WHERE resource_type = 'Patient' AND id = ANY($1::text[]) ORDER BY id",
        [[pid, p.id]],
      );
      expect(Object.fromEntries(v.rows.map((r) => [r.id, r.version_id]))).toEqual({ [pid]: 2, [p.id!]: 2 });
      const o = await bulk.db.query<{ n: number }>("SELECT count(*)::int AS n FROM resource WHERE resource_type = 'Observation' AND id = 'bulk-o1'");
      expect(o.rows[0].n).toBe(1);
    });

    const bad = join(dir, 'bad.ndjson');
    writeFileSync(
      bad,
      [
        { resourceType: 'Patient', id: 'bulk-p2', name: [{ family: 'Không' }] },
        { resourceType: 'Observation', id: 'bulk-o2', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/nobody-here' } },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
    await expect(importFile(bulk.store, bad)).rejects.toThrow(/Patient\/nobody-here/);
    const none = await bulk.db.query<{ n: number }>("SELECT count(*)::int AS n FROM resource WHERE id IN ('bulk-p2', 'bulk-o2')");
    expect(none.rows[0].n).toBe(0);
  });
});
