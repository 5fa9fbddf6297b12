/**
 * The commune clinician's day in Chromium (issue 12, clinician side): the chart of the demo
 * patient shows his penicillin allergy at the top, his medicine and every section (empty ones
 * say so), on a desk (1366 px) and a phone (390 px, no sideways scrolling); a clinician of another
 * facility is told why the record is refused, in Vietnamese, and opens it with break-the-glass
 * (reason required), which the audit trail records.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, DEMO_PASSWORD, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { seedVisitDemo } from '../src/seed/visits.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { signInUi } from './ui.ts';

const STRANGER_TOTP = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const noSideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe('commune clinician: the chart', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let doctor: DemoAccount;
  beforeAll(async () => {
    p = await startTestPlatform('pglite');
    demo = await seedDemo(p.store, 12);
    doctor = (await createDemoAccounts(p.db, p.accounts, demo)).accounts.find((a) => a.username === 'bs.batxat')!;
    await seedVisitDemo(p.store, p.visits, demo);
    await p.accounts.create({
      username: 'bs.muongnhe',
      displayName: 'BS Quàng Văn Hải',
      kind: 'staff',
      password: DEMO_PASSWORD,
      practitionerId: demo.ids.practitioners[8],
      roles: [{ role: 'commune_clinician', organizationId: demo.ids.organizations.muongnhe }],
      totpSecret: STRANGER_TOTP,
    });
    base = await p.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  for (const [width, height, label] of [
    [1366, 900, 'desktop'],
    [390, 844, 'phone'],
  ] as const) {
    it(`shows the penicillin allergy first on the ${label} chart, with every section`, async () => {
      const page = await browser.newPage({ viewport: { width, height }, ...(width < 500 ? { isMobile: true, hasTouch: true } : {}) });
      await signInUi(page, base, doctor.username, doctor.totpSecret);
      await page.goto(`${base}/patients/${demo.ids.patients[0]}`);
      const banner = page.locator('.allergy-banner');
      await banner.waitFor();
      expect(await banner.innerText()).toMatch(/Cảnh báo dị ứng[\s\S]*Penicillin[\s\S]*nguy cơ cao[\s\S]*Nổi mẩn đỏ, khó thở/);
      // The banner is above the demographics and the sections.
      const bannerBox = (await banner.boundingBox())!;
      const factsBox = (await page.locator('.facts').boundingBox())!;
      expect(bannerBox.y).toBeLessThan(factsBox.y);
      const text = await page.locator('main').innerText();
      for (const s of [
        'Thuốc đang dùng',
        'Bisoprolol 2,5 mg',
        'Bệnh và vấn đề sức khỏe',
        'Tăng huyết áp vô căn',
        'Lần khám gần đây',
        'Tài liệu',
        'Giấy ra viện',
      ])
        expect(text).toContain(s);
      // Empty sections say so.
      for (const s of ['Chưa có yêu cầu hội chẩn.', 'Không có cảnh báo đang mở.', 'Chưa có người thân nào quản lý hồ sơ.']) expect(text).toContain(s);
      expect(text).toContain('Quản lý tăng huyết áp tại trạm y tế');
      expect(text).not.toMatch(/(Patient|Organization|Practitioner)\/[\w-]{8,}/);
      expect(await noSideways(page)).toBeLessThanOrEqual(0);
      await page.screenshot({ path: `test-results/clin-chart-${width}.png`, fullPage: true });
      await page.close();
    });
  }

  it('tells another facility’s clinician why, offers break-the-glass with a reason, and records it', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signInUi(page, base, 'bs.muongnhe', STRANGER_TOTP);
    await page.goto(`${base}/patients/${demo.ids.patients[0]}`);
    const refused = page.locator('.refused');
    await refused.waitFor();
    const said = await refused.innerText();
    expect(said).toContain('Không thể mở hồ sơ này');
    expect(said).toContain('không thuộc cơ sở của bạn');
    expect(said).not.toMatch(/Patient\/|forbidden|403|break-glass-available/);
    expect(said).not.toContain('Nguyễn Văn An');
    expect(await noSideways(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'test-results/clin-refused-390.png', fullPage: true });
    // No reason, no access.
    await page.getByRole('button', { name: 'Mở hồ sơ khẩn cấp' }).click();
    expect(await page.locator('.allergy-banner').count()).toBe(0);
    await page.getByLabel(/Lý do/).fill('Cấp cứu: người bệnh hôn mê được đưa đến trạm, cần biết tiền sử dị ứng');
    await page.getByRole('button', { name: 'Mở hồ sơ khẩn cấp' }).click();
    await page.locator('.allergy-banner').waitFor();
    expect(await page.locator('.notice.glass').innerText()).toMatch(/Đang truy cập khẩn cấp — hết hiệu lực lúc/);
    expect(await page.locator('.allergy-banner').innerText()).toContain('Penicillin');
    await page.screenshot({ path: 'test-results/clin-breakglass-390.png', fullPage: true });
    const audit = await p.db.query<{ reason: string }>("SELECT reason FROM audit_log WHERE username = 'bs.muongnhe' AND action = 'break-glass'");
    expect(audit.rows[0].reason).toContain('Cấp cứu');
    const grants = await p.db.query<{ reviewed_at: Date | null }>('SELECT reviewed_at FROM break_glass WHERE patient_id = $1', [demo.ids.patients[0]]);
    expect(grants.rows).toEqual([{ reviewed_at: null }]); // waiting for the DPO's review
    await page.close();
  });
});
