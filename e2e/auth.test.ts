/** Sign-in with a second factor, first-time enrolment, and what a citizen can and cannot see. */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpFor } from '../src/auth/accounts.ts';
import { createDemoAccounts, DEMO_PASSWORD, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { freshTotpCode } from '../src/testing/totp.ts';
import { openMenu, signInUi } from './ui.ts';

describe('signing in and seeing only what one may', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  beforeAll(async () => {
    p = await startTestPlatform('pglite');
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    base = await p.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('staff sign in with a TOTP code; a wrong code is refused', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/patients`);
    await page.waitForSelector('form'); // not signed in: the sign-in form, not patient data
    expect(await page.locator('main').innerText()).not.toMatch(/Nguyễn Văn An/);
    await page.getByLabel('Tên đăng nhập').fill('bs.batxat');
    await page.getByLabel('Mật khẩu').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByLabel('Mã xác thực').fill('000000');
    await page.getByRole('button', { name: 'Xác nhận' }).click();
    await expect.poll(() => page.locator('.error').innerText()).toMatch(/không đúng/);
    await page.getByLabel('Mã xác thực').fill(await freshTotpCode(accounts.get('bs.batxat')!.totpSecret!, 'bs.batxat'));
    await page.getByRole('button', { name: 'Xác nhận' }).click();
    await page.waitForSelector('input[type=search]');
    expect(await page.locator('header').innerText()).toContain('BS Giàng A Sử');
    await page.close();
  });

  it('a new staff member enrols a second factor from the QR code and gets recovery codes', async () => {
    await p.accounts.create({
      username: 'bs.moi',
      displayName: 'BS Mới',
      kind: 'staff',
      password: DEMO_PASSWORD,
      roles: [{ role: 'commune_clinician', organizationId: demo.ids.organizations.simacai }],
    });
    const page = await browser.newPage();
    await page.goto(`${base}/login`);
    await page.getByLabel('Tên đăng nhập').fill('bs.moi');
    await page.getByLabel('Mật khẩu').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.waitForSelector('.qr-img svg');
    const secret = await page.locator('.qr code').innerText();
    await page.getByLabel('Mã xác thực').fill(totpFor(secret, 'bs.moi').generate());
    await page.getByRole('button', { name: 'Xác nhận' }).click();
    await page.waitForSelector('.recovery li');
    expect(await page.locator('.recovery li').count()).toBe(10);
    await page.getByRole('button', { name: 'Tiếp tục' }).click();
    await page.waitForSelector('input[type=search]');
    await page.close();
  });

  it('a citizen sees their own record and its access log, and cannot open another chart by editing the URL', async () => {
    // A clinician opens the citizen's record first, so the log has someone else in it.
    const doctor = await browser.newPage();
    await signInUi(doctor, base, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    await doctor.goto(`${base}/patients/${demo.ids.patients[0]}`);
    await doctor.waitForSelector('.facts');
    await doctor.close();

    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await signInUi(page, base, 'nguoidan');
    await page.waitForSelector('.facts');
    expect(await page.locator('h1').innerText()).toContain('Nguyễn Văn An');
    await openMenu(page);
    await page.getByRole('link', { name: 'Ai đã xem hồ sơ' }).click();
    await page.waitForSelector('.access-log li');
    const log = await page.locator('main').innerText();
    // Who (name, role, facility), what in words, and why; the citizen's own actions apart.
    expect(log).toMatch(
      /Người khác đã xem hoặc thay đổi hồ sơ[\s\S]*(Xem|Tìm kiếm) thông tin cá nhân\s+BS Giàng A Sử · Bác sĩ tuyến xã · Trạm Y tế xã Bát Xát/,
    );
    expect(log).toContain('Vì sao: Đang khám chữa bệnh cho bạn');
    expect(log).toContain('Việc bạn tự làm');
    expect(log).not.toMatch(/\bPatient\b/);
    await page.screenshot({ path: 'test-results/citizen-access-log.png', fullPage: true });

    const otherName = (await p.fixtures.read('Patient', demo.ids.patients[1])) as unknown as { name: { text: string }[] };
    await page.goto(`${base}/patients/${demo.ids.patients[1]}`);
    await page.waitForSelector('.error');
    const text = await page.locator('main').innerText();
    expect(text).toMatch(/Không có quyền|Không tìm thấy/); // the search is filtered: not even its existence shows
    expect(text).not.toContain(otherName.name[0].text);
    await page.close();
  });
});
