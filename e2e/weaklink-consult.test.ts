/**
 * A consult request with two photos sent from a commune station on a real (emulated) weak link:
 * the clinician's Chromium runs inside a network namespace at mountain-edge, and the link blacks
 * out for 5 s while the request and its photos are on their way. The request is stored exactly
 * once, with exactly its two photos, and the app says it was sent. Fails — never skips — when the
 * weak link cannot be made here.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { CHROMIUM, launchBrowser } from '../src/testing/browser.ts';
import { startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { secureOriginFlag } from '../src/testing/weaklink/calls.ts';
import { openWeakLink, type WeakLink } from '../src/testing/weaklink/link.ts';
import { signInUi } from './ui.ts';

/** A real PNG of noise (it does not compress): `side`×`side` pixels, RGB. */
function noisePng(side: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.concat(Array.from({ length: side }, () => Buffer.concat([Buffer.from([0]), randomBytes(side * 3)])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('a consult request with two photos over a weak link that blacks out', () => {
  let link: WeakLink;
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let totp: string;
  let dir: string;

  beforeAll(async () => {
    link = await openWeakLink('good'); // throws with the reason when namespaces cannot be made
    p = await startTestPlatform('pglite', { HOST: link.hostAddress }, undefined, { domains: ['consult', 'chart'] });
    demo = await seedDemo(p.store, 8);
    totp = (await createDemoAccounts(p.db, p.accounts, demo)).accounts.find((a) => a.username === 'bs.batxat')!.totpSecret!;
    base = await p.listen();
    browser = await launchBrowser({ executablePath: link.wrap(CHROMIUM), args: [secureOriginFlag(base)] });
    dir = mkdtempSync(join(tmpdir(), 'cauyte-weaklink-consult-'));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
    await link?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is stored exactly once, with exactly its two photos, through a 5 s blackout at mountain-edge', async () => {
    const photos = ['ton-thuong-da-1.png', 'ton-thuong-da-2.png'].map((name) => {
      const path = join(dir, name);
      writeFileSync(path, noisePng(100)); // ≈ 30 kB each: seconds on the wire at 120 kbit/s
      return path;
    });
    const count = async (type: string) =>
      (await p.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource WHERE resource_type = $1', [type])).rows[0].n;
    const [requestsBefore, docsBefore] = [await count('ServiceRequest'), await count('DocumentReference')];

    const page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    await signInUi(page, base, 'bs.batxat', totp);
    await page.goto(`${base}/consults/new?patient=${demo.ids.patients[0]}`);
    await page.getByLabel('Cơ sở tiếp nhận').selectOption({ label: 'Bệnh viện Bạch Mai' });
    await page.getByLabel('Chuyên khoa').selectOption({ label: 'Ung bướu' });
    await page.getByLabel('Khẩn', { exact: true }).check();
    await page.getByLabel('Chẩn đoán sơ bộ (ICD-10)').fill('ung thu vu');
    await page.getByRole('option', { name: /C50\.9/ }).click();
    await page.getByLabel('Lý do hội chẩn').fill('Tổn thương da nghi ác tính, cần ý kiến chuyên khoa');
    await page.getByLabel('Bệnh sử').fill('Nốt sẫm màu lớn nhanh trong 2 tháng');
    await page.getByLabel('Khám lâm sàng, cận lâm sàng').fill('Nốt 1,5 cm bờ không đều');
    await page.getByLabel('Điều trị hiện tại').fill('Chưa điều trị');
    await page.getByLabel('Câu hỏi cần hội chẩn').fill('Có cần sinh thiết không?');
    await page.getByLabel('Tệp đính kèm (ảnh, PDF, DICOM)').setInputFiles(photos);

    await link.shape('mountain-edge');
    await page.getByRole('button', { name: 'Gửi yêu cầu' }).click();
    // The link goes down while the photos are on their way, then comes back at mountain-edge.
    // (≈ 60 kB at 120 kbit/s takes at least 4 s: after 1.5 s the request cannot be stored yet.)
    await page.waitForTimeout(1500);
    const blackout = link.blackout(5000);
    expect(await count('ServiceRequest'), 'stored before the blackout began').toBe(requestsBefore);
    await blackout;
    await expect.poll(() => count('ServiceRequest'), { timeout: 120_000, interval: 1000 }).toBe(requestsBefore + 1);
    await page.waitForURL(/\/consults$/, { timeout: 120_000 });
    await link.shape('good');
    // Opening the app again (which flushes the outbox) sends nothing twice.
    await page.reload();
    await page.waitForSelector('.patient-card');
    await page.waitForTimeout(1000);
    expect(await count('ServiceRequest')).toBe(requestsBefore + 1);
    expect(await count('DocumentReference')).toBe(docsBefore + 2);
  }, 300_000);
});
