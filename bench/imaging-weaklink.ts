/**
 * Suite `imaging-weaklink`: imaging over the emulated weak link (src/testing/weaklink/, profile
 * `imaging-1m`: 1 Mbit/s each way, 300 ms round trip, no loss — the benchmark link).
 * - Time to first image: a Chromium inside the shaped namespace opens a study page until the viewer
 *   shows image 1 of a 30-image CT-like series. "warm": the app and viewer code already in the
 *   browser's cache (a station that has used the app; only the study's data crosses the link);
 *   "cold": a fresh browser context, everything over the link. Each round a new study (DICOMweb
 *   answers are no-store, but a new study rules out any cache).
 * - Upload: the station's side runs inside the namespace (imaging-upload-client.ts); the real
 *   resumable path (tus creation-with-upload + chunks, SHA-256, commit) ÷ a raw copy of the same
 *   bytes in one POST to a sink on the same host address; same run, interleaved rounds.
 * The study size is stated in the output: at 1 Mbit/s a 200 MB study takes ≈ 27 min per transfer,
 * so the upload uses a smaller study over the same link. Needs root. Nothing asserted.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createDemoAccounts } from '../src/seed/accounts.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { CHROMIUM, launchBrowser } from '../src/testing/browser.ts';
import { signIn, startTestPlatform } from '../src/testing/platform.ts';
import { openWeakLink } from '../src/testing/weaklink/link.ts';
import { syntheticSeries } from '../src/imaging/create.ts';
import { fmtStages, stagesOf, type Stages } from './imaging-stages.ts';
import type { Request } from 'playwright-core';

const run = promisify(execFile);

function multipartBody(files: Buffer[]): { body: Buffer; type: string } {
  const boundary = `b${randomBytes(8).toString('hex')}`;
  const parts = files.flatMap((f) => [Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), f, Buffer.from('\r\n')]);
  return { body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]), type: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

export interface ImagingWeaklinkResult {
  profile: string;
  images: number;
  imageSize: number;
  firstImageWarmMs: number[];
  firstImageColdMs: number[];
  uploadMb: number;
  uploadFiles: number;
  tusMs: number[];
  rawMs: number[];
  tus: { chunk: number; parallel: number };
  /** Per page load: when each stage ended, ms after the navigation started. */
  stages: Stages[];
}

export async function benchImagingWeaklink(opts: {
  rounds: number;
  images: number;
  size: number;
  uploadImages: number;
  uploadSize: number;
  tus: { chunk: number; parallel: number };
  log: (m: string) => void;
}): Promise<ImagingWeaklinkResult> {
  const profile = 'imaging-1m';
  const link = await openWeakLink('good');
  const dataDir = mkdtempSync(join(tmpdir(), 'cauyte-bench-imgwl-'));
  const work = mkdtempSync(join(tmpdir(), 'cauyte-bench-imgwl-files-'));
  const p = await startTestPlatform('pglite', { HOST: link.hostAddress, CAUYTE_DATA_DIR: dataDir, CAUYTE_ORTHANC: 'off', LOG_LEVEL: 'warn' }, undefined, {
    domains: ['imaging'],
  });
  let n = 0;
  const sink = createServer((req, res) => {
    req.pipe(createWriteStream(join(work, `sink-${++n}`))).on('finish', () => res.end('ok'));
  });
  await new Promise<void>((r) => sink.listen(0, link.hostAddress, r));
  const sinkUrl = `http://${link.hostAddress}:${(sink.address() as { port: number }).port}`;
  const out: ImagingWeaklinkResult = {
    profile,
    images: opts.images,
    imageSize: opts.size,
    firstImageWarmMs: [],
    firstImageColdMs: [],
    uploadMb: 0,
    uploadFiles: opts.uploadImages,
    tusMs: [],
    rawMs: [],
    tus: opts.tus,
    stages: [],
  };
  try {
    const demo = await seedDemo(p.store, 2);
    const accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    const base = await p.listen();
    const patientId = demo.ids.patients[0];
    const token = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });

    // A new 30-image study stored from outside the link (STOW-RS): only the viewing crosses it.
    const newStudy = async (): Promise<string> => {
      const s = syntheticSeries({ count: opts.images, size: opts.size });
      const { body, type } = multipartBody(s.files);
      const r = await p.app.inject({
        method: 'POST',
        url: `/api/imaging/dicomweb/patients/${patientId}/studies`,
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        payload: body,
      });
      if (r.statusCode !== 200) throw new Error(`STOW: ${r.statusCode} ${r.body}`);
      return String(r.headers['x-imaging-study']);
    };

    const browser = await launchBrowser({ executablePath: link.wrap(CHROMIUM) });
    try {
      const firstImage = async (ctx: Awaited<ReturnType<typeof browser.newContext>>, studyId: string, label: string) => {
        const page = await ctx.newPage();
        // Network as the browser saw it (page and its worker): start and end of each request, ms after goto.
        const net = new Map<Request, { url: string; start: number; end?: number; bytes?: number }>();
        let t0 = performance.now();
        const onRequest = (r: Request) => net.set(r, { url: r.url(), start: performance.now() - t0 });
        const onFinished = (r: Request) => {
          const e = net.get(r);
          if (!e) return;
          e.end = performance.now() - t0;
          void r
            .sizes()
            .then((z) => (e.bytes = z.responseBodySize))
            .catch(() => undefined);
        };
        ctx.on('request', onRequest);
        ctx.on('requestfinished', onFinished);
        t0 = performance.now();
        await page.goto(`${base}/imaging/${studyId}`, { timeout: 180_000 });
        await page
          .getByTestId('viewer-status')
          .filter({ hasText: `1/${opts.images}` })
          .waitFor({ timeout: 180_000 });
        const ms = performance.now() - t0;
        // The engine then takes over from the preview (tools enabled): not part of "first image", printed as a stage.
        await page.locator('[data-testid="viewer-status"]:not([data-preview])').waitFor({ timeout: 180_000 });
        const engineShownMs = performance.now() - t0;
        ctx.off('request', onRequest);
        ctx.off('requestfinished', onFinished);
        const timing = await page.evaluate(() => ({
          marks: performance.getEntriesByType('mark').map((m) => [m.name, m.startTime] as const),
          resources: performance
            .getEntriesByType('resource')
            .map((r) => [r.name, (r as PerformanceResourceTiming).startTime, (r as PerformanceResourceTiming).responseEnd] as const),
          html: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined)?.responseEnd ?? 0,
        }));
        out.stages.push({ ...stagesOf(timing, [...net.values()]), label, totalMs: ms, engineShownMs });
        opts.log(`imaging-weaklink ${label}: ${fmtStages(out.stages.at(-1)!)}`);
        // IMAGING_WEAKLINK_WATERFALL=1: every request, as the browser saw it.
        if (process.env.IMAGING_WEAKLINK_WATERFALL === '1')
          for (const n of [...net.values()].sort((a, b) => a.start - b.start))
            opts.log(`  ${Math.round(n.start)}→${n.end === undefined ? '?' : Math.round(n.end)} ${n.bytes ?? '?'} B ${new URL(n.url).pathname}`);
        await page.close();
        return ms;
      };
      // Signed in through the API once (a TOTP code is accepted once); each context gets the session cookie.
      const doctor = accounts.get('bs.batxat')!;
      const session = /cy_session=([^;]+)/.exec((await signIn(p, doctor.username, doctor.totpSecret)).cookie)![1];
      const signedIn = async () => {
        const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
        await ctx.addCookies([{ name: 'cy_session', value: session, url: base }]);
        return ctx;
      };
      // Warm: one context; the code is fetched once on a good link (a study opened), then each round a new study over the shaped link.
      await link.shape('good');
      const warm = await signedIn();
      await firstImage(warm, await newStudy(), 'warm-up (good link)');
      for (let i = 0; i < opts.rounds; i++) {
        const id = await newStudy();
        await link.shape(profile);
        out.firstImageWarmMs.push(await firstImage(warm, id, `warm ${i + 1}`));
        await link.shape('good');
        // Cold: a new context (empty cache) holding only the session cookie.
        const id2 = await newStudy();
        const ctx = await signedIn();
        await link.shape(profile);
        out.firstImageColdMs.push(await firstImage(ctx, id2, `cold ${i + 1}`));
        await link.shape('good');
        await ctx.close();
        opts.log(
          `imaging-weaklink first image round ${i + 1}: warm ${out.firstImageWarmMs.at(-1)!.toFixed(0)} ms, cold ${out.firstImageColdMs.at(-1)!.toFixed(0)} ms`,
        );
      }
      await warm.close();
    } finally {
      await browser.close();
    }

    if (opts.uploadImages === 0) return out;
    // Upload: the study written to a folder the station-side client reads; both ways each round, alternating which goes first.
    const study = syntheticSeries({ count: opts.uploadImages, size: opts.uploadSize });
    out.uploadMb = study.files.reduce((a, f) => a + f.length, 0) / 1e6;
    const client = async (mode: 'tus' | 'raw', dir: string) => {
      const args = { mode, dir, base, sink: sinkUrl, token, patientId, chunk: opts.tus.chunk, parallel: opts.tus.parallel };
      const { stdout } = await run(link.runInside, [process.execPath, '--import', 'tsx', 'bench/imaging-upload-client.ts', JSON.stringify(args)], {
        maxBuffer: 1 << 20,
        timeout: 30 * 60_000,
      });
      return (JSON.parse(stdout.trim().split('\n').at(-1)!) as { ms: number }).ms;
    };
    await link.shape(profile);
    for (let i = 0; i < opts.rounds; i++) {
      // A new study each round (new UIDs) so the same-file dedupe never shortens a tus round.
      const s = i === 0 ? study : syntheticSeries({ count: opts.uploadImages, size: opts.uploadSize });
      const dir = mkdtempSync(join(work, 'study-'));
      s.files.forEach((f, k) => writeFileSync(join(dir, `${String(k).padStart(4, '0')}.dcm`), f));
      const order: ('tus' | 'raw')[] = i % 2 ? ['raw', 'tus'] : ['tus', 'raw'];
      for (const mode of order) (mode === 'tus' ? out.tusMs : out.rawMs).push(await client(mode, dir));
      opts.log(`imaging-weaklink upload round ${i + 1}: tus ${out.tusMs.at(-1)!.toFixed(0)} ms, raw ${out.rawMs.at(-1)!.toFixed(0)} ms`);
    }
    return out;
  } finally {
    sink.close();
    await p.close();
    await link.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}
