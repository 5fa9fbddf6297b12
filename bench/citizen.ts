/**
 * The citizen app on a slow link: bytes of JavaScript and CSS transferred for the first screen
 * (as the browser received them, compressed), and the time until the health-record timeline is
 * on screen under Chromium's network emulation of slow 3G (400 kbit/s, 400 ms RTT), from a cold
 * cache and again with the app shell cached by the service worker. Also: prescription PDFs per
 * second and the whole-record PDF, generated in process.
 */
import type { Browser, CDPSession, Page } from 'playwright-core';
import { createDemoAccounts } from '../src/seed/accounts.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, signIn, startTestPlatform } from '../src/testing/platform.ts';
import { seedVisitDemo } from '../src/seed/visits.ts';
import { prescriptionPdf, type PrescriptionDoc } from '../src/visits/prescription.ts';
import { recordPdf, type HealthRecord } from '../src/visits/record.ts';

export interface CitizenResult {
  firstScreen: { jsBytes: number; cssBytes: number; jsRaw: number; cssRaw: number; totalBytes: number; requests: number };
  coldMs: number[];
  warmMs: number[];
  rxPerSecond: number;
  rxBytes: number;
  recordPdfMs: number[];
}

const SLOW_3G = { offline: false, latency: 400, downloadThroughput: (400 * 1000) / 8, uploadThroughput: (400 * 1000) / 8 };

async function throttled(page: Page): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', SLOW_3G);
  return cdp;
}

export async function benchCitizen(opts: { loads: number; pdfs: number; log: (m: string) => void }): Promise<CitizenResult> {
  // The citizen app needs the record and visits; no video room, no devices.
  const p = await startTestPlatform('pglite', {}, undefined, { domains: ['family', 'consult', 'visits'] });
  let browser: Browser | undefined;
  try {
    const demo = await seedDemo(p.store, 20);
    await createDemoAccounts(p.db, p.accounts, demo);
    await seedVisitDemo(p.store, p.visits, demo);
    const base = await p.listen();
    const session = await signIn(p, 'nguoidan');
    const cookie = /cy_session=([^;]+)/.exec(session.cookie)![1];
    browser = await launchBrowser();

    // First screen: every response the page loads until the timeline shows, by type, as transferred.
    opts.log('citizen: first-screen transfer');
    const ctx0 = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    await ctx0.addCookies([{ name: 'cy_session', value: cookie, url: base }]);
    const page0 = await ctx0.newPage();
    const cdp0 = await page0.context().newCDPSession(page0);
    await cdp0.send('Network.enable');
    const types = new Map<string, { type: string; url: string }>();
    const sizes = { jsBytes: 0, cssBytes: 0, jsRaw: 0, cssRaw: 0, totalBytes: 0, requests: 0 };
    cdp0.on('Network.responseReceived', (e) => types.set(e.requestId, { type: e.type, url: e.response.url }));
    cdp0.on('Network.loadingFinished', (e) => {
      const t = types.get(e.requestId);
      sizes.totalBytes += e.encodedDataLength;
      sizes.requests++;
      if (t?.type === 'Script') sizes.jsBytes += e.encodedDataLength;
      if (t?.type === 'Stylesheet') sizes.cssBytes += e.encodedDataLength;
    });
    await page0.goto(`${base}/me`);
    await page0.locator('ol.timeline li').first().waitFor();
    const raw = await page0.evaluate(() =>
      performance.getEntriesByType('resource').map((r) => ({ name: r.name, size: (r as PerformanceResourceTiming).decodedBodySize })),
    );
    for (const r of raw) {
      if (r.name.endsWith('.js')) sizes.jsRaw += r.size;
      if (r.name.endsWith('.css')) sizes.cssRaw += r.size;
    }
    await ctx0.close();

    // Slow 3G: cold (nothing cached), then warm (the service worker serves the app shell).
    const coldMs: number[] = [];
    const warmMs: number[] = [];
    for (let i = 0; i < opts.loads; i++) {
      opts.log(`citizen: slow 3G load ${i + 1}/${opts.loads}`);
      const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      await ctx.addCookies([{ name: 'cy_session', value: cookie, url: base }]);
      const page = await ctx.newPage();
      await throttled(page);
      const t0 = Date.now();
      await page.goto(`${base}/me`, { waitUntil: 'commit' });
      await page.locator('ol.timeline li').first().waitFor({ timeout: 60_000 });
      coldMs.push(Date.now() - t0);
      await page.waitForFunction(() => navigator.serviceWorker?.controller !== null || false, undefined, { timeout: 30_000 }).catch(() => undefined);
      await page.evaluate(() => navigator.serviceWorker.ready);
      const t1 = Date.now();
      await page.goto(`${base}/me`, { waitUntil: 'commit' });
      await page.locator('ol.timeline li').first().waitFor({ timeout: 60_000 });
      warmMs.push(Date.now() - t1);
      await ctx.close();
    }

    // PDFs.
    opts.log('citizen: PDF generation');
    const doc: PrescriptionDoc = {
      code: 'AB12Cxyz1234-c',
      issuedAt: new Date().toISOString(),
      facility: { name: 'Trạm Y tế xã Bát Xát', address: 'Thôn Phìn Ngan, Xã Bát Xát, Tỉnh Lào Cai', phone: '02143883115' },
      prescriber: { name: 'Giàng A Sử', qualification: 'BS' },
      patient: {
        name: 'Nguyễn Văn An',
        birthDate: '1974-08-06',
        gender: 'male',
        bhytCard: 'GD1156204565316',
        cccd: '015074712875',
        address: 'Thôn Na Lốc, Xã Bát Xát',
      },
      diagnosis: 'I10 — Tăng huyết áp vô căn (nguyên phát)',
      items: [
        { name: 'Amlodipin 5 mg', drugCode: 'VD-12345-10', quantity: 30, unit: 'viên', dosage: 'Uống 1 viên mỗi sáng sau ăn', days: 30 },
        { name: 'Losartan 50 mg', quantity: 30, unit: 'viên', dosage: 'Uống 1 viên buổi tối', days: 30 },
        { name: 'Metformin 500 mg', quantity: 60, unit: 'viên', dosage: 'Uống 1 viên sau ăn sáng và tối', days: 30 },
      ],
      advice: 'Ăn nhạt, đo huyết áp sáng và tối.',
      followUp: 'sau 30 ngày',
      verifyUrl: `${base}/rx/AB12Cxyz1234-c`,
    };
    await prescriptionPdf(doc); // warm-up (fonts parsed once)
    const t = performance.now();
    let rxBytes = 0;
    for (let i = 0; i < opts.pdfs; i++) rxBytes = (await prescriptionPdf({ ...doc, code: `AB12Cxyz${String(i).padStart(4, '0')}-c` })).length;
    const rxPerSecond = opts.pdfs / ((performance.now() - t) / 1000);
    const record = (await call<HealthRecord>(p, 'GET', '/api/me/record', undefined, session)).body;
    const recordPdfMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      await recordPdf(record);
      recordPdfMs.push(performance.now() - s);
    }
    return { firstScreen: sizes, coldMs, warmMs, rxPerSecond, rxBytes, recordPdfMs };
  } finally {
    await browser?.close();
    await p.close();
  }
}
