/**
 * The resumable-upload commit streams and is all or nothing, on both image stores (PGlite):
 * - a large multi-file synthetic study (default 64 MB: 128 slices of 512×512×16 bit, to keep the
 *   run short on 2 shared cores; CAUYTE_TEST_LARGE_STUDY_MB=200 for the size) uploaded
 *   through tus commits whole, and the process's resident memory grows by less than 32 MB (and
 *   less than half the study) while it commits — the commit used to read every file into memory,
 *   so its growth was at least the study's size;
 * - a failure halfway through storing (a real I/O fault in the embedded store, a refused instance
 *   in Orthanc) and a failure in the record step after the store leave no study in the record and
 *   none in the image store; the staged uploads stay, and the same commit succeeds afterwards.
 * Synthetic images only (made-up names); generated in the test, one file at a time.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { ImagingStudy } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDemoAccounts } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { OrthancSupervisor } from './orthanc.ts';
import { newUid, syntheticSeries } from './create.ts';
import { parseInstance } from './dicom.ts';

const BACKENDS = OrthancSupervisor.available() ? (['embedded', 'orthanc'] as const) : (['embedded'] as const);
const LARGE_MB = Number(process.env.CAUYTE_TEST_LARGE_STUDY_MB ?? 64);
/** One slice: 512×512 pixels × 2 bytes ≈ 0.5 MB. */
const SLICE = 512;

describe.each(BACKENDS)('streamed, all-or-nothing commit with the %s store', (backend) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let dataDir: string;
  let station: string;
  let patientId: string;
  let base: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cauyte-imaging-stream-'));
    p = await startTestPlatform('pglite', { CAUYTE_DATA_DIR: dataDir, CAUYTE_ORTHANC: backend === 'orthanc' ? 'auto' : 'off', LOG_LEVEL: 'fatal' }, undefined, {
      domains: ['consult', 'imaging'],
    });
    demo = await seedDemo(p.store, 4);
    await createDemoAccounts(p.db, p.accounts, demo);
    patientId = demo.ids.patients[0];
    station = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });
    base = await p.listen();
  }, 120_000);
  afterAll(async () => {
    await p?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** One file through tus (create, then one PATCH); returns the upload id. */
  async function upload(f: Buffer, name: string): Promise<string> {
    const sha = createHash('sha256').update(f).digest('hex');
    const auth = { authorization: `Bearer ${station}`, 'tus-resumable': '1.0.0' };
    const created = await fetch(`${base}/api/imaging/uploads/files`, {
      method: 'POST',
      headers: {
        ...auth,
        'upload-length': String(f.length),
        'upload-metadata': `filename ${Buffer.from(name).toString('base64')},sha256 ${Buffer.from(sha).toString('base64')}`,
      },
    });
    expect(created.status).toBe(201);
    const id = String(created.headers.get('location')).split('/').pop()!;
    const patched = await fetch(`${base}/api/imaging/uploads/files/${id}`, {
      method: 'PATCH',
      headers: { ...auth, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: new Uint8Array(f),
    });
    expect(patched.status).toBe(204);
    return id;
  }

  const commit = (uploadIds: string[]) =>
    call(p, 'POST', '/api/imaging/uploads/commit', { patientId, uploadIds }, { authorization: `Bearer ${station}`, 'content-type': 'application/json' });

  async function inRecord(studyUid: string): Promise<ImagingStudy[]> {
    return p.store
      .system('test: is the study in the record', 'imaging')
      .search<ImagingStudy>('ImagingStudy', { identifier: `urn:dicom:uid|urn:oid:${studyUid}` });
  }

  it(`commits a ${LARGE_MB} MB multi-file study whole while resident memory grows far less than the study`, async () => {
    const count = Math.max(4, Math.round((LARGE_MB * 1e6) / (SLICE * SLICE * 2)));
    const studyUid = newUid();
    const seriesUid = newUid();
    const ids: string[] = [];
    let bytes = 0;
    let lastSha = '';
    let lastSop = '';
    for (let k = 0; k < count; k++) {
      const [f] = syntheticSeries({ count: 1, size: SLICE, studyUid, seriesUid, firstInstance: k + 1 }).files;
      bytes += f.length;
      ids.push(await upload(f, `lat-${k + 1}.dcm`));
      if (k === count - 1) {
        lastSha = createHash('sha256').update(f).digest('hex');
        lastSop = parseInstance(f).sopUid;
      }
    }
    expect(bytes).toBeGreaterThan(LARGE_MB * 1e6 * 0.95);
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    let res;
    try {
      res = await commit(ids);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(res.status, res.text).toBe(201);
    expect(res.body.instances).toBe(count);
    const growth = peak - before;
    console.log(`imaging commit (${backend}): ${count} files, ${(bytes / 1e6).toFixed(0)} MB; RSS growth during commit ${(growth / 1e6).toFixed(1)} MB`);
    // Reading the study into memory grows RSS by at least its size; streaming stays bounded.
    expect(growth).toBeLessThan(Math.min(bytes / 2, 32e6));
    const [study] = await inRecord(studyUid);
    expect(study.numberOfInstances).toBe(count);
    const file = await p.app.imaging.backend.file(studyUid, lastSop);
    expect(createHash('sha256').update(file!).digest('hex')).toBe(lastSha);
  }, 300_000);

  it('a failure halfway through storing, or in the record after storing, leaves no study anywhere; the same commit then succeeds', async () => {
    const s = syntheticSeries({ count: 6, size: 64 });
    const ids = [];
    for (const [i, f] of s.files.entries()) ids.push(await upload(f, `anh-${i + 1}.dcm`));
    const shas = s.files.map((f) => createHash('sha256').update(f).digest('hex'));
    const nothingLeft = async () => {
      expect(await inRecord(s.studyUid)).toEqual([]);
      expect(await p.app.imaging.backend.hasStudy(s.studyUid)).toBe(false);
      if (backend === 'embedded') for (const sha of shas) expect(existsSync(join(dataDir, 'imaging', 'blobs', sha.slice(0, 2), `${sha}.dcm`))).toBe(false);
    };

    // 1. The store fails on the 4th file, after three were stored.
    const k = 3;
    let undo: () => void;
    if (backend === 'embedded') {
      // A real I/O fault: a plain file where the 4th blob's folder must be (no earlier file uses that folder).
      const prefix = shas[k].slice(0, 2);
      expect(shas.slice(0, k).some((h) => h.startsWith(prefix))).toBe(false);
      const blocker = join(dataDir, 'imaging', 'blobs', prefix);
      mkdirSync(join(dataDir, 'imaging', 'blobs'), { recursive: true });
      rmSync(blocker, { recursive: true, force: true });
      writeFileSync(blocker, 'not a folder');
      undo = () => rmSync(blocker, { force: true });
    } else {
      // Orthanc refuses the 4th instance (the transport is made to fail; the rollback of the three stored is real).
      const orthanc = p.app.imaging.backend as unknown as { postFile: (path: string) => Promise<unknown> };
      const real = orthanc.postFile.bind(orthanc);
      let n = 0;
      const spy = vi.spyOn(orthanc, 'postFile').mockImplementation(async (path: string) => {
        if (++n === k + 1) throw new Error('injected: Orthanc refused an instance: 500');
        return real(path);
      });
      undo = () => spy.mockRestore();
    }
    const failed = await commit(ids);
    undo();
    expect(failed.status, failed.text).toBeGreaterThanOrEqual(500);
    await nothingLeft();

    // 2. Every file stored, then the record step fails: the new study is taken out of the store again.
    const meta = vi.spyOn(p.app.imaging.backend, 'metadata').mockRejectedValueOnce(new Error('injected: record step failed'));
    const failedLate = await commit(ids);
    meta.mockRestore();
    expect(failedLate.status, failedLate.text).toBeGreaterThanOrEqual(500);
    await nothingLeft();

    // 3. The staged uploads were kept: the same commit now succeeds, whole.
    const ok = await commit(ids);
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.instances).toBe(6);
    expect((await inRecord(s.studyUid))[0].numberOfInstances).toBe(6);
  }, 120_000);
});
