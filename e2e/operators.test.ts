/**
 * The operators' day in real Chromium: the facility administrator creates and disables an
 * account (which then cannot sign in), the data-protection officer filters the audit trail,
 * exports it as CSV and reads an emergency access in plain words, the analyst lands on a clear
 * empty state. Screenshots at 390 px and 1366 px into test-results/; no horizontal scroll on a phone.
 */
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, signIn as signInApi, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { shoot } from './shots.ts';
import { signInUi } from './ui.ts';

describe('operators', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let people: Record<string, DemoAccount>;
  beforeAll(async () => {
    p = await startTestPlatform('pglite');
    demo = await seedDemo(p.store, 20);
    people = Object.fromEntries((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    // An emergency access for the officer to find: the Bạch Mai specialist opens a Bát Xát patient's record.
    const headers = { ...(await signInApi(p, 'bs.bachmai', people['bs.bachmai'].totpSecret)), 'content-type': 'application/json' };
    await call(p, 'GET', `/fhir/R4/Patient/${demo.ids.patients[0]}`, undefined, headers); // refused first
    await call(p, 'POST', '/api/break-glass', { patientId: demo.ids.patients[0], reason: 'Cấp cứu: người bệnh hôn mê, cần tiền sử dị ứng' }, headers);
    await call(p, 'GET', `/fhir/R4/Patient/${demo.ids.patients[0]}`, undefined, headers);
    base = await p.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  const signIn = async (username: string, width = 1366) => {
    const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    await signInUi(page, base, username, people[username]?.totpSecret);
    return page;
  };

  it('the facility administrator creates and disables an account; the disabled account cannot sign in', async () => {
    const page = await signIn('quantri.laocai');
    await page.getByRole('heading', { name: 'Quản trị', level: 1 }).waitFor();
    await page.locator('.admin-item').first().waitFor();
    // Only the own facility's staff, with the facility named (not an id).
    const listed = await page.locator('.admin-list').innerText();
    expect(listed).toContain('Bệnh viện Đa khoa tỉnh Lào Cai');
    expect(listed).not.toContain('bs.bachmai');
    // No button the server would refuse: the integration account is not the facility administrator's to change.
    expect(await page.locator('.admin-item[data-username="his-demo"] button').count()).toBe(0);
    await shoot(page, 'admin-accounts');

    await page.getByText('Tạo tài khoản nhân viên').click();
    const form = page.locator('details form');
    await form.getByLabel('Họ và tên').fill('BS Vàng Thị Mai');
    await form.getByLabel('Tên đăng nhập').fill('bs.vangmai');
    await form.getByLabel(/Mật khẩu ban đầu/).fill('Mai-Lao-Cai-2026');
    await form.getByLabel('Vai trò').selectOption('commune_clinician');
    await form.getByRole('button', { name: 'Tạo tài khoản' }).click();
    await page.getByText('Đã tạo tài khoản bs.vangmai').waitFor();

    await page.getByPlaceholder('Tìm theo tên hoặc tên đăng nhập').fill('vang');
    await page.getByRole('button', { name: 'Tìm', exact: true }).click();
    const item = page.locator('.admin-item[data-username="bs.vangmai"]');
    await item.waitFor();
    expect(await item.innerText()).toContain('Bác sĩ tuyến xã — Bệnh viện Đa khoa tỉnh Lào Cai');
    await item.getByRole('button', { name: 'Khóa tài khoản' }).click();
    await item.getByLabel(/Lý do/).fill('Chuyển công tác');
    await shoot(page, 'admin-disable-confirm');
    await item.locator('form').getByRole('button', { name: 'Khóa tài khoản' }).click();
    await expect.poll(() => item.locator('.badge').innerText()).toBe('Đã khóa');

    // Other tabs: apps of this facility, the facility with its services.
    await page.getByRole('button', { name: 'Ứng dụng kết nối' }).click();
    await page.getByText('HIS demo (client credentials)').waitFor();
    await shoot(page, 'admin-clients');
    await page.getByRole('button', { name: 'Cơ sở và dịch vụ' }).click();
    await page.locator('.admin-item').first().waitFor();
    expect(await page.locator('.admin-item').count()).toBe(1);
    await shoot(page, 'admin-facilities');
    await page.context().close();

    // The disabled account cannot sign in.
    const other = await browser.newPage();
    await other.goto(`${base}/login`);
    await other.getByLabel(/Tên đăng nhập|Username/).fill('bs.vangmai');
    await other.getByLabel(/Mật khẩu|Password/).fill('Mai-Lao-Cai-2026');
    await other.getByRole('button', { name: /Đăng nhập|Sign in/ }).click();
    await other.locator('.error').waitFor();
    expect(await other.locator('.error').innerText()).toMatch(/khóa|vô hiệu|disabled/i);
    expect(other.url()).toMatch(/\/login$/);
    await other.close();
    const audit = (
      await p.db.query<{ action: string }>("SELECT action FROM audit_log WHERE action IN ('account.create','account.disable') AND username = 'quantri.laocai'")
    ).rows;
    expect(audit.map((r) => r.action).sort()).toEqual(['account.create', 'account.disable']);
  });

  it('the data-protection officer filters the trail, reads an emergency access in plain words and exports CSV', async () => {
    const page = await signIn('baovedulieu');
    await page.getByRole('heading', { name: 'Nhật ký truy cập hệ thống' }).waitFor();
    await page.locator('.audit-entry').first().waitFor();
    await shoot(page, 'dpo-audit');

    await page.getByLabel('Người bệnh').fill('nguyen van an');
    await page.getByLabel('Chỉ truy cập khẩn cấp').check();
    await page.getByRole('button', { name: 'Lọc', exact: true }).click();
    await page.waitForFunction(() => {
      const all = [...document.querySelectorAll('.audit-entry')];
      return all.length > 0 && all.every((e) => e.classList.contains('glass'));
    });
    const text = await page.locator('.audit-list').innerText();
    expect(text).toContain('Khẩn cấp');
    expect(text).toContain('Nguyễn Văn An');
    expect(text).toContain('Cấp cứu: người bệnh hôn mê');
    expect(text).toContain('PGS.TS.BS Trần Quốc Hưng');
    expect(text).toContain('Chuyên gia tuyến trên');
    expect(text).toContain('Bệnh viện Bạch Mai');
    expect(text).toMatch(/Mở hồ sơ khẩn cấp|Xem · Người bệnh/);
    // No raw codes where words belong.
    expect(text).not.toMatch(/Patient\/|break-glass|specialist|\bread\b/);
    await shoot(page, 'dpo-audit-glass');
    // A date range typed as Vietnamese dates (dd/mm/yyyy): today keeps the entries, an old range has none.
    const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10).split('-').reverse().join('/');
    await page.getByLabel('Từ ngày').fill(today);
    await page.getByLabel('Đến ngày').fill(today);
    await page.getByRole('button', { name: 'Lọc', exact: true }).click();
    await page.locator('.audit-entry.glass').first().waitFor();
    await page.getByLabel('Đến ngày').fill('01/01/2020');
    await page.getByLabel('Từ ngày').fill('01/01/2020');
    await page.getByRole('button', { name: 'Lọc', exact: true }).click();
    await page.getByText('Không có mục nào khớp bộ lọc.').waitFor();

    // Denied rows say what was refused.
    await page.getByRole('button', { name: 'Xóa bộ lọc' }).click();
    await page.getByLabel('Kết quả').selectOption('denied');
    await page.getByRole('button', { name: 'Lọc', exact: true }).click();
    await page.waitForFunction(() => {
      const all = [...document.querySelectorAll('.audit-entry')];
      return all.length > 0 && all.every((e) => e.classList.contains('denied'));
    });
    expect(await page.locator('.audit-list').innerText()).toContain('Đã từ chối: xem Người bệnh — hồ sơ (FHIR)');
    await shoot(page, 'dpo-audit-denied');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Xuất CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(csv).toContain('Thời gian,Tài khoản,Họ tên,Vai trò,Cơ sở,Hành động');
    expect(csv).toContain('Bị từ chối');
    const exports = (await p.db.query("SELECT detail FROM audit_log WHERE action = 'audit.export' AND username = 'baovedulieu'")).rows;
    expect(exports.length).toBe(1);
    await page.context().close();
  });

  it('the analyst lands on the indicators dashboard, not a permission error', async () => {
    const page = await signIn('thongke');
    await page.getByRole('heading', { name: 'Chỉ số khám, chữa bệnh từ xa' }).waitFor();
    const text = await page.locator('main').innerText();
    expect(text).not.toMatch(/không được phép|forbidden|403/i);
    await shoot(page, 'analyst-indicators');
    await page.context().close();
  });
});
