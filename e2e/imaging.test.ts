/**
 * Remote imaging in real browsers, on both image stores: a station clinician sends a synthetic
 * 12-image CT series from the patient chart through a link that is cut twice (Playwright
 * offline/online) and the resumable upload completes; the hub radiologist finds it in the
 * worklist, opens it in the viewer (Cornerstone3D), measures a length (checked against the known
 * pixel spacing), writes and signs a report; the station sees the signed report and the images in
 * the chart. Screenshots at 390 px and 1366 px go to test-results/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { syntheticSeries } from '../src/imaging/create.ts';
import { OrthancSupervisor } from '../src/imaging/orthanc.ts';
import { signInUi } from './ui.ts';

const BACKENDS = OrthancSupervisor.available() ? (['embedded', 'orthanc'] as const) : (['embedded'] as const);
const SPACING = 0.7;

describe.each(BACKENDS)('imaging in the browser (%s store)', (backend) => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let dataDir: string;
  const shots = join('test-results', 'imaging');
  let studyId = '';

  async function personPage(username: string, width = 1366, serviceWorkers: 'allow' | 'block' = 'allow'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 900 }, serviceWorkers });
    const page = await context.newPage();
    await signInUi(page, base, username, accounts.get(username)!.totpSecret);
    return page;
  }

  async function shoot(page: Page, name: string) {
    for (const width of [390, 1366]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: join(shots, `${backend}-${name}-${width}.png`), fullPage: true });
      const over = await page.evaluate(() => {
        const w = document.documentElement.clientWidth;
        return [...document.querySelectorAll('main *')]
          .filter((e) => e.getBoundingClientRect().right > w + 1)
          .slice(0, 3)
          .map((e) => `${e.tagName}.${e.className}`);
      });
      const scroll = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(scroll, `${name} scrolls sideways at ${width}px: ${over.join(', ')}`).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 1366, height: 900 });
  }

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'cauyte-e2e-imaging-'));
    p = await startTestPlatform('pglite', { CAUYTE_DATA_DIR: dataDir, CAUYTE_ORTHANC: backend === 'orthanc' ? 'auto' : 'off' }, undefined, {
      domains: ['consult', 'video', 'imaging', 'chart'],
    });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    base = await p.listen();
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('uploads through a link cut twice, is read and measured at the hub, and the report reaches the chart', async () => {
    const patientId = demo.ids.patients[0];
    const series = syntheticSeries({ count: 12, size: 256, spacing: SPACING });
    const dir = mkdtempSync(join(tmpdir(), 'cauyte-dicom-'));
    const files = series.files.map((f, i) => {
      const path = join(dir, `ct-${String(i + 1).padStart(2, '0')}.dcm`);
      writeFileSync(path, f);
      return path;
    });

    // 1. The station sends the study; every upload request is slowed so the link can be cut mid-way
    // (1 s each: the uploader sends a 130 kB file in one request, 3 files at a time — 4 waves at least).
    const station = await personPage('bs.batxat');
    await station.route('**/api/imaging/uploads/files**', async (route) => {
      await new Promise((r) => setTimeout(r, 1000));
      await route.continue().catch(() => undefined);
    });
    await station.goto(`${base}/patients/${patientId}`);
    const form = station.getByTestId('imaging-upload');
    await form.getByLabel('Tệp DICOM').setInputFiles(files);
    await form.getByLabel('Gửi đọc tại').selectOption({ label: 'Bệnh viện Bạch Mai' });
    await form.getByLabel('Mức độ khẩn').selectOption('urgent');
    await form.getByLabel('Câu hỏi cho bác sĩ đọc phim').fill('Khối tròn ở phổi phải?');
    await form.getByRole('button', { name: 'Gửi' }).click();
    const progress = station.getByTestId('upload-progress');
    for (let cut = 0; cut < 2; cut++) {
      await progress.waitFor();
      await station.waitForTimeout(600);
      await station.context().setOffline(true);
      await station.waitForTimeout(1500);
      await station.context().setOffline(false);
    }
    await expect.poll(async () => station.getByTestId('upload-result').textContent(), { timeout: 60_000 }).toContain('Đã gửi xong ca chụp');
    const listed = station.getByTestId('chart-imaging').getByRole('link', { name: /CT/ });
    await listed.waitFor();
    expect(await p.app.imaging.backend.hasStudy(series.studyUid)).toBe(true);
    expect((await p.app.imaging.backend.instances(series.studyUid)).length).toBe(12);
    await shoot(station, 'chart-after-upload');

    // 2. The hub radiologist opens it from the worklist, measures a length and signs a report.
    const hub = await personPage('bs.bachmai');
    await hub.goto(`${base}/imaging/worklist`);
    const row = hub.getByTestId('worklist').getByRole('row').filter({ hasText: 'Trạm Y tế xã Bát Xát' });
    await expect.poll(async () => row.count()).toBeGreaterThan(0);
    await shoot(hub, 'worklist');
    await row.first().getByRole('link').click();
    const viewer = hub.getByTestId('viewer');
    await viewer.locator('canvas').first().waitFor();
    await expect.poll(async () => hub.getByTestId('viewer-status').textContent(), { timeout: 30_000 }).toContain('1/12');
    await hub.getByRole('button', { name: 'Đo chiều dài' }).click();
    const box = (await viewer.boundingBox())!;
    await hub.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await hub.mouse.down();
    await hub.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.55, { steps: 8 });
    await hub.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.6, { steps: 8 });
    await hub.mouse.up();
    await hub.getByTestId('measurements').waitFor({ timeout: 15_000 });
    studyId = hub.url().split('/').pop()!;
    const saved = await hub.evaluate(async (id) => (await fetch(`/api/imaging/studies/${id}`)).json(), studyId);
    const m = saved.annotations.find((a: { kind: string }) => a.kind === 'length');
    expect(m.unit).toBe('mm');
    const [[x1, y1], [x2, y2]] = m.points as [number, number][];
    const expected = Math.hypot(x2 - x1, y2 - y1) * SPACING;
    expect(expected).toBeGreaterThan(10);
    expect(Math.abs(m.value - expected)).toBeLessThan(0.05 * expected);
    // Scroll and window with the mouse: the image index and the window change.
    await hub.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await hub.mouse.wheel(0, 300);
    await expect.poll(async () => Number(await viewer.getAttribute('data-index'))).toBeGreaterThan(0);

    const report = hub.getByTestId('report-form');
    await report.getByLabel('Mô tả').fill(`Nốt tròn bờ đều, đường kính đo được ${m.value.toFixed(1)} mm.`);
    await report.getByLabel('Kết luận').fill('Nốt phổi phải, theo dõi sau 3 tháng.');
    await report.getByLabel(/ICD-10/).fill('R91');
    await report.getByRole('button', { name: 'Ký kết quả' }).click();
    await hub.getByTestId('report').getByText('Kết quả đã ký, không thể sửa.').waitFor();
    await shoot(hub, 'viewer-signed');

    // 3. The station sees the signed report and the images.
    await station.goto(`${base}/patients/${patientId}`);
    await station.getByTestId('chart-imaging').getByText('Đã có kết quả (đã ký)').waitFor();
    await station.getByTestId('chart-imaging').getByRole('link', { name: /CT/ }).click();
    await station.getByTestId('report').getByText('Nốt phổi phải, theo dõi sau 3 tháng.').waitFor();
    await station.getByTestId('viewer').locator('canvas').first().waitFor();
    await expect.poll(async () => station.getByTestId('viewer-status').textContent(), { timeout: 30_000 }).toContain('/12');
    await shoot(station, 'report-in-chart');
    rmSync(dir, { recursive: true, force: true });
    for (const page of [station, hub]) await page.context().close();
  }, 240_000);

  it('shared viewing in a meeting: the presenter goes to image 7 and changes the window, the other site follows (how fast is printed)', async () => {
    expect(studyId).not.toBe('');
    const host = await signIn(p, 'bs.bachmai', accounts.get('bs.bachmai')!.totpSecret);
    const room = await call(
      p,
      'POST',
      '/api/video/rooms',
      { kind: 'adhoc', title: 'Hội chẩn phim CT', invitePractitionerIds: [demo.ids.practitioners[6]] },
      { ...host, 'content-type': 'application/json' },
    );
    expect(room.status, room.text).toBe(201);
    const presenter = await personPage('bs.bachmai');
    const follower = await personPage('bs.batxat');
    for (const page of [presenter, follower]) {
      await page.goto(`${base}/imaging/${studyId}?meeting=${room.body.id}`);
      await page.getByTestId('viewer').locator('canvas').first().waitFor();
      await page.locator('[data-testid="share"][data-link="open"]').waitFor({ timeout: 15_000 });
    }
    await presenter.getByRole('button', { name: 'Cùng xem trong phiên hội chẩn' }).click();
    const pv = presenter.getByTestId('viewer');
    const fv = follower.getByTestId('viewer');
    const box = (await pv.boundingBox())!;
    await presenter.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 30 && Number(await pv.getAttribute('data-index')) < 6; i++) {
      await presenter.mouse.wheel(0, 100);
      await presenter.waitForTimeout(80);
    }
    expect(Number(await pv.getAttribute('data-index'))).toBe(6); // image 7
    // Window/level: drag with the left button (the default tool).
    await presenter.mouse.down();
    await presenter.mouse.move(box.x + box.width / 2 + 80, box.y + box.height / 2 + 40, { steps: 6 });
    await presenter.mouse.up();
    const [wc, ww] = [await pv.getAttribute('data-wc'), await pv.getAttribute('data-ww')];
    expect(`${wc}/${ww}`).not.toBe('40/399');
    const t0 = Date.now();
    await expect
      .poll(async () => `${await fv.getAttribute('data-index')}|${await fv.getAttribute('data-wc')}|${await fv.getAttribute('data-ww')}`, {
        timeout: 15_000,
        interval: 50,
      })
      .toBe(`6|${wc}|${ww}`);
    // How fast the follower follows is measured and printed, not asserted (a loaded CI machine is no judge).
    console.log(`${backend}: the follower showed the presenter's image and window ${Date.now() - t0} ms after the drag`);
    await follower.getByTestId('their-pointer').waitFor({ timeout: 10_000 });
    await follower.screenshot({ path: join(shots, `${backend}-shared-follower-1366.png`) });
    for (const page of [presenter, follower]) await page.context().close();
  }, 120_000);

  it('draws the first image before the viewer engine is there, window-levelled, then the engine takes over', async () => {
    expect(studyId).not.toBe('');
    // Without the app's service worker: its fetches would not pass through page.route.
    const page = await personPage('bs.bachmai', 1366, 'block');
    // The engine's code is held back until the preview has been checked (on loopback it would replace it at once).
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    await page.route(/\/assets\/viewer-[^/]*\.js$/, async (route) => {
      await released;
      await route.continue().catch(() => undefined);
    });
    await page.goto(`${base}/imaging/${studyId}`);
    const status = page.getByTestId('viewer-status');
    await page.getByTestId('viewer-preview').waitFor();
    const during = (await status.textContent())!;
    expect(during).toContain('1/12');
    expect(during).toContain('Ảnh xem trước — đang tải công cụ đo…');
    expect(await page.getByRole('button', { name: 'Đo chiều dài' }).isDisabled()).toBe(true);
    // Fitted like the viewer (square image, centred): the centre is soft tissue (40–59 HU → grey 128–140
    // in window 40/400), the ring 700 HU (white), outside it air (black).
    const grey = await page.getByTestId('viewer-preview').evaluate((c: HTMLCanvasElement) => {
      const ctx = c.getContext('2d')!;
      const scale = Math.min(c.width, c.height) / 256;
      const at = (dx: number) => ctx.getImageData(Math.round(c.width / 2 + dx * scale), Math.round(c.height / 2), 1, 1).data[0];
      return { centre: at(0), ring: at(53.2), air: at(100) };
    });
    expect(grey.centre).toBeGreaterThanOrEqual(126);
    expect(grey.centre).toBeLessThanOrEqual(142);
    expect(grey.ring).toBe(255);
    expect(grey.air).toBe(0);
    await shoot(page, 'viewer-preview');
    release();
    await page.getByTestId('viewer-preview').waitFor({ state: 'detached', timeout: 30_000 });
    await expect.poll(async () => status.getAttribute('data-preview')).toBeNull();
    const after = (await status.textContent())!;
    // Same image, same window: the status only loses its preview note.
    expect(after).toBe(during.replace(' · Ảnh xem trước — đang tải công cụ đo…', ''));
    expect(await page.getByTestId('viewer').getAttribute('data-index')).toBe('0');
    expect(await page.getByRole('button', { name: 'Đo chiều dài' }).isDisabled()).toBe(false);
    await shoot(page, 'viewer-after-preview');
    await page.context().close();
  }, 120_000);

  it('interoperates with a DICOMweb client written by others (dicomweb-client): STOW, QIDO, WADO', async () => {
    const token = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });
    const s = syntheticSeries({ count: 3, size: 64, spacing: 0.5 });
    // The page is only a JavaScript runtime for the third-party client (our CSP forbids its inline script tag).
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${base}/login`);
    await page.addScriptTag({ path: 'node_modules/dicomweb-client/build/dicomweb-client.js' });
    const result = await page.evaluate(
      async ({ token, patientId, files, studyUid }) => {
        const api = (window as unknown as { DICOMwebClient: { api: { DICOMwebClient: new (o: object) => any } } }).DICOMwebClient.api;
        const client = new api.DICOMwebClient({
          url: '/api/imaging/dicomweb',
          stowURLPrefix: `patients/${patientId}`,
          headers: { authorization: `Bearer ${token}` },
        });
        const datasets = files.map((b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
        await client.storeInstances({ datasets });
        const studies = await client.searchForStudies({ queryParams: { StudyInstanceUID: studyUid } });
        const series = await client.searchForSeries({ studyInstanceUID: studyUid });
        const seriesUid = series[0]['0020000E'].Value[0];
        const instances = await client.searchForInstances({ studyInstanceUID: studyUid, seriesInstanceUID: seriesUid });
        const metadata = await client.retrieveStudyMetadata({ studyInstanceUID: studyUid });
        const sop = instances[0]['00080018'].Value[0];
        const instance: ArrayBuffer = await client.retrieveInstance({ studyInstanceUID: studyUid, seriesInstanceUID: seriesUid, sopInstanceUID: sop });
        const frames: ArrayBuffer[] = await client.retrieveInstanceFrames({
          studyInstanceUID: studyUid,
          seriesInstanceUID: seriesUid,
          sopInstanceUID: sop,
          frameNumbers: [1],
        });
        return {
          studies: studies.length,
          instances: instances.length,
          metadata: metadata.length,
          spacing: metadata[0]['00280030'].Value.map(Number),
          instanceBytes: instance.byteLength,
          frameBytes: frames[0].byteLength,
          sop,
        };
      },
      { token, patientId: demo.ids.patients[0], files: s.files.map((f) => f.toString('base64')), studyUid: s.studyUid },
    );
    expect(result.studies).toBe(1);
    expect(result.instances).toBe(3);
    expect(result.metadata).toBe(3);
    expect(result.spacing).toEqual([0.5, 0.5]);
    const original = s.files.find((f) => f.includes(Buffer.from(result.sop)))!;
    expect(result.instanceBytes).toBe(original.length);
    expect(result.frameBytes).toBe(64 * 64 * 2);
    await page.context().close();
  }, 60_000);
});
