/**
 * Imaging: upload throughput of a synthetic CT-like study through the resumable upload (tus,
 * 1 MB chunks, SHA-256 checked, committed as one study) next to a raw HTTP copy of the same bytes
 * to a bare sink server on the same loopback (same run, interleaved); and time to first image —
 * Chromium opening the study page until the viewer shows image 1 of a 30-image series.
 *
 * No link emulation here (the kernel has no netem; a userspace relay is not built yet): these are
 * loopback numbers on 2 shared cores. Nothing here is asserted.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDemoAccounts } from '../src/seed/accounts.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { startTestPlatform } from '../src/testing/platform.ts';
import { syntheticSeries } from '../src/imaging/create.ts';
import { signInUi } from '../e2e/ui.ts';
import { median } from './lib.ts';

export interface ImagingResult {
  studyMb: number;
  tusMbps: number[];
  rawMbps: number[];
  firstImageMs: number[];
}

export async function benchImaging(opts: { rounds: number; images: number; size: number; log: (m: string) => void }): Promise<ImagingResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cauyte-bench-imaging-'));
  const p = await startTestPlatform('pglite', { CAUYTE_DATA_DIR: dataDir, CAUYTE_ORTHANC: 'off' }, undefined, { domains: ['imaging'] });
  const sinkDir = mkdtempSync(join(tmpdir(), 'cauyte-bench-sink-'));
  let n = 0;
  const sink = createServer((req, res) => {
    req.pipe(createWriteStream(join(sinkDir, String(++n)))).on('finish', () => res.end('ok'));
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;
  try {
    const demo = await seedDemo(p.store, 2);
    const accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    const base = await p.listen();
    const token = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });
    const auth = { authorization: `Bearer ${token}` };
    const out: ImagingResult = { studyMb: 0, tusMbps: [], rawMbps: [], firstImageMs: [] };
    let lastStudy = '';
    for (let round = 0; round < opts.rounds; round++) {
      const s = syntheticSeries({ count: opts.images, size: opts.size });
      const bytes = s.files.reduce((a, f) => a + f.length, 0);
      out.studyMb = bytes / 1e6;
      // Raw copy: each file POSTed once to a sink that writes it to disk.
      let t0 = performance.now();
      for (const f of s.files) await (await fetch(sinkUrl, { method: 'POST', body: new Uint8Array(f) })).text();
      out.rawMbps.push((bytes * 8) / 1e6 / ((performance.now() - t0) / 1000));
      // tus + commit.
      t0 = performance.now();
      const ids: string[] = [];
      for (const f of s.files) {
        const sha = createHash('sha256').update(f).digest('hex');
        const created = await fetch(`${base}/api/imaging/uploads/files`, {
          method: 'POST',
          headers: { ...auth, 'tus-resumable': '1.0.0', 'upload-length': String(f.length), 'upload-metadata': `sha256 ${Buffer.from(sha).toString('base64')}` },
        });
        const id = String(created.headers.get('location')).split('/').pop()!;
        for (let off = 0; off < f.length; off += 1024 * 1024) {
          const chunk = f.subarray(off, Math.min(f.length, off + 1024 * 1024));
          await fetch(`${base}/api/imaging/uploads/files/${id}`, {
            method: 'PATCH',
            headers: { ...auth, 'tus-resumable': '1.0.0', 'upload-offset': String(off), 'content-type': 'application/offset+octet-stream' },
            body: new Uint8Array(chunk),
          });
        }
        ids.push(id);
      }
      const commit = await fetch(`${base}/api/imaging/uploads/commit`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ patientId: demo.ids.patients[0], uploadIds: ids }),
      });
      if (commit.status !== 201) throw new Error(`commit failed: ${commit.status} ${await commit.text()}`);
      out.tusMbps.push((bytes * 8) / 1e6 / ((performance.now() - t0) / 1000));
      lastStudy = ((await commit.json()) as { id: string }).id;
      opts.log(`imaging round ${round + 1}: raw ${out.rawMbps.at(-1)!.toFixed(0)} Mbit/s, tus ${out.tusMbps.at(-1)!.toFixed(0)} Mbit/s`);
    }
    const browser = await launchBrowser();
    try {
      const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
      await signInUi(page, base, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
      for (let i = 0; i < opts.rounds; i++) {
        await page.goto(`${base}/patients`);
        const t0 = performance.now();
        await page.goto(`${base}/imaging/${lastStudy}`);
        await page
          .getByTestId('viewer-status')
          .filter({ hasText: `1/${opts.images}` })
          .waitFor({ timeout: 60_000 });
        out.firstImageMs.push(performance.now() - t0);
      }
    } finally {
      await browser.close();
    }
    return out;
  } finally {
    sink.close();
    await p.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(sinkDir, { recursive: true, force: true });
  }
}

export const imagingMedians = (r: ImagingResult) => ({
  tus: median(r.tusMbps),
  raw: median(r.rawMbps),
  ratio: median(r.tusMbps.map((t, i) => t / r.rawMbps[i])),
  firstImage: median(r.firstImageMs),
});
