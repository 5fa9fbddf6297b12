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
import { startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
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

  async function personPage(username: string, width = 1366): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
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
      domains: ['consult', 'imaging'],
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

    // 1. The station sends the study; every upload request is slowed so the link can be cut mid-way.
    const station = await personPage('bs.batxat');
    await station.route('**/api/imaging/uploads/files/**', async (route) => {
      await new Promise((r) => setTimeout(r, 250));
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
    const studyId = hub.url().split('/').pop()!;
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
  }, 240_000);
});
