/**
 * The national programme in the browser, on the demo network with the programme's 12-month demo:
 * a facility declares its telemedicine unit, the provincial department approves it and coverage
 * rises by one on the dashboard; a consult request to a facility without a support agreement is
 * refused with the message; a facility with no activity in 90 days appears among the silent sites.
 * Screenshots of the dashboard at 390 px and 1366 px go to test-results/.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, createDepartmentAccount, DEMO_PASSWORD, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { seedProgrammeDemo } from '../src/programme/seed.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { signInUi } from './ui.ts';
import { Secret } from 'otpauth';

describe('national programme in the browser', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let accounts: Map<string, DemoAccount>;
  let dept: DemoAccount;
  let facilityAdmin: { username: string; totp: string };
  let batxatPatient: string;

  async function page(username: string, totp?: string, width = 1366): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const pg = await context.newPage();
    await signInUi(pg, base, username, totp);
    return pg;
  }

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['consult', 'programme'] });
    const demo = await seedDemo(p.store, 8);
    batxatPatient = demo.ids.patients[0];
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    // A smaller year than the first start's (the same network, declarations and silent sites).
    const programme = await seedProgrammeDemo(p.store, demo, new Date(), { consults: 100, meetings: 30, visits: 80 });
    dept = await createDepartmentAccount(p.accounts, programme.departments[15]);
    // A commune station not declared yet, with its administrator.
    const admin = await p.tokenFor('system_admin');
    const f = await call(
      p,
      'POST',
      '/api/programme/facilities',
      { code: '15T99', name: 'Trạm Y tế xã A Mú Sung', level: 'commune', owner: 'public', provinceCode: 15, communeCode: 2686 },
      { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    );
    expect(f.status).toBe(201);
    const totp = new Secret({ size: 20 }).base32;
    await p.accounts.create({
      username: 'quantri.amusung',
      displayName: 'Quản trị Trạm Y tế xã A Mú Sung',
      kind: 'staff',
      password: DEMO_PASSWORD,
      roles: [{ role: 'facility_admin', organizationId: f.body.id }],
      totpSecret: totp,
    });
    facilityAdmin = { username: 'quantri.amusung', totp };
    base = await p.listen();
    browser = await launchBrowser();
    mkdirSync('test-results', { recursive: true });
  }, 480_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  const coverageCount = async (pg: Page): Promise<[number, number]> => {
    const text = await pg.getByTestId('coverage-count').textContent();
    const m = /(\d+)\/(\d+)/.exec(text ?? '');
    return [Number(m![1]), Number(m![2])];
  };

  it('a declared unit, once approved by the department, raises coverage by one on the dashboard', async () => {
    const analyst = await page(dept.username, dept.totpSecret);
    await analyst.goto(`${base}/indicators`);
    await expect.poll(() => analyst.getByTestId('scope').textContent()).toBe('Tỉnh Lào Cai');
    const [before, total] = await coverageCount(analyst);

    const fa = await page(facilityAdmin.username, facilityAdmin.totp);
    await fa.goto(`${base}/programme/declaration`);
    await expect.poll(() => fa.getByTestId('unit-status').textContent()).toBe('Chưa công bố');
    await fa.getByLabel('Khám, chữa bệnh từ xa').check();
    await fa.getByLabel('Nhi khoa').check();
    await fa.getByLabel('Người phụ trách (họ tên)').fill('Sùng A Páo');
    await fa.getByLabel('Trình độ').fill('BS');
    await fa.getByLabel('Nhiệm vụ').fill('Phụ trách điểm cầu');
    await fa.getByLabel('Siêu âm').selectOption('digital');
    await fa.getByLabel('Đường truyền').selectOption('4g');
    await fa.getByLabel('Tải xuống đo được (kbit/s)').fill('9000');
    await fa.getByLabel('Tải lên đo được (kbit/s)').fill('3000');
    await fa.getByLabel('Thời gian hoạt động').fill('Thứ Hai – Thứ Bảy, 7:00–17:00');
    await fa.getByRole('button', { name: 'Gửi Sở Y tế' }).click();
    await expect.poll(() => fa.getByTestId('unit-status').textContent()).toBe('Chờ Sở duyệt');

    await analyst.goto(`${base}/programme/declarations`);
    await analyst.getByRole('button', { name: 'Trạm Y tế xã A Mú Sung' }).click();
    await expect.poll(() => analyst.getByTestId('declaration').textContent()).toContain('Sùng A Páo');
    await analyst.getByRole('button', { name: 'Chấp thuận' }).click();
    await expect.poll(() => analyst.getByTestId('declaration-history').textContent()).toContain('Chấp thuận');

    await analyst.goto(`${base}/indicators`);
    await expect.poll(async () => (await coverageCount(analyst))[0]).toBe(before + 1);
    expect((await coverageCount(analyst))[1]).toBe(total); // a public station is in the denominator from its registration
    await fa.goto(`${base}/programme/declaration`);
    await expect.poll(() => fa.getByTestId('unit-status').textContent()).toBe('Đã chấp thuận');
    await fa.context().close();

    // The dashboard at a phone's width and a desktop's, for a look.
    await analyst.screenshot({ path: 'test-results/programme-indicators-1366.png', fullPage: true });
    await analyst.setViewportSize({ width: 390, height: 844 });
    await analyst.waitForTimeout(300);
    const overflow = await analyst.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await analyst.screenshot({ path: 'test-results/programme-indicators-390.png', fullPage: true });
    await analyst.context().close();
  });

  it('refuses a consult request to a facility without a support agreement, with the message', async () => {
    const a = accounts.get('bs.batxat')!;
    const clin = await page(a.username, a.totpSecret);
    await clin.goto(`${base}/consults/new?patient=${batxatPatient}`);
    await clin.getByLabel('Cơ sở tiếp nhận').selectOption({ label: 'Bệnh viện Đa khoa tỉnh Điện Biên' });
    await clin.getByLabel('Chuyên khoa').selectOption({ label: 'Nội khoa' });
    await clin.getByLabel('Chẩn đoán sơ bộ (ICD-10)').fill('tang huyet ap');
    await clin.getByRole('option', { name: /I10/ }).click();
    await clin.getByLabel('Lý do hội chẩn').fill('Tăng huyết áp khó kiểm soát');
    await clin.getByLabel('Bệnh sử').fill('Tăng huyết áp 5 năm');
    await clin.getByLabel('Khám lâm sàng, cận lâm sàng').fill('HA 170/100 mmHg');
    await clin.getByLabel('Điều trị hiện tại').fill('Amlodipin 5 mg');
    await clin.getByLabel('Câu hỏi cần hội chẩn').fill('Điều chỉnh phác đồ?');
    await clin.getByRole('button', { name: /Gửi yêu cầu/ }).click();
    const status = clin.getByRole('status');
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).toContain('Chưa có hợp đồng hỗ trợ chuyên môn còn hiệu lực');
    expect(await status.textContent()).toContain('Bệnh viện Đa khoa tỉnh Điện Biên');
    await clin.screenshot({ path: 'test-results/programme-consult-refused-1366.png' });
    await clin.context().close();
  });

  it('lists a facility with no activity in 90 days among the silent sites', async () => {
    const a = accounts.get('thongke')!;
    const analyst = await page(a.username, a.totpSecret, 390);
    await analyst.goto(`${base}/indicators`);
    await expect.poll(() => analyst.getByTestId('scope').textContent()).toBe('Toàn quốc');
    const silent = analyst.getByTestId('silent-list');
    await expect.poll(() => silent.textContent()).toContain('Tỉnh Lai Châu');
    const first = await silent.locator('li').first().textContent();
    expect(first).toContain('90 ngày');
    expect(first).toContain('chưa có hoạt động');
    // Drill-down: the province table leads to the province's facilities.
    await analyst.getByRole('button', { name: 'Tỉnh Lai Châu' }).click();
    await expect.poll(() => analyst.getByTestId('facility-table').textContent()).toContain('Bệnh viện Đa khoa tỉnh Lai Châu');
    await analyst.screenshot({ path: 'test-results/programme-laichau-390.png', fullPage: true });
    await analyst.context().close();
  });
});
