/**
 * The whole case-conference flow in real browsers, one per person, and a request written offline
 * that is submitted exactly once when the network returns.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, DEMO_PASSWORD, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { signInUi } from './ui.ts';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

describe('case conference in the browser', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  const pages: Page[] = [];

  async function personPage(username: string, totp?: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    pages.push(page);
    await signInUi(page, base, username, totp);
    return page;
  }

  async function fillRequest(page: Page, patientId: string, image?: string) {
    await page.goto(`${base}/consults/new?patient=${patientId}`);
    await page.getByLabel('Cơ sở tiếp nhận').selectOption({ label: 'Bệnh viện Bạch Mai' });
    await page.getByLabel('Chuyên khoa').selectOption({ label: 'Ung bướu' });
    await page.getByLabel('Khẩn', { exact: true }).check();
    await page.getByLabel('Chẩn đoán sơ bộ (ICD-10)').fill('ung thu vu');
    await page.getByRole('option', { name: /C50\.9/ }).click();
    await page.getByLabel('Lý do hội chẩn').fill('Khối u vú phải nghi ác tính');
    await page.getByLabel('Bệnh sử').fill('Phát hiện khối u vú phải 3 tháng, to nhanh');
    await page.getByLabel('Khám lâm sàng, cận lâm sàng').fill('Khối 4 cm cứng, hạch nách phải');
    await page.getByLabel('Điều trị hiện tại').fill('Chưa điều trị đặc hiệu');
    await page.getByLabel('Câu hỏi cần hội chẩn').fill('Chẩn đoán giai đoạn và hướng điều trị?');
    if (image) await page.getByLabel('Tệp đính kèm (ảnh, PDF, DICOM)').setInputFiles(image);
  }

  beforeAll(async () => {
    // The case conference needs only its own domain and the chart (the meeting's video call is not opened here).
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['consult', 'chart'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    await p.accounts.create({
      username: 'bs.hang',
      displayName: 'TS.BS Lê Thị Minh Hằng',
      kind: 'staff',
      password: DEMO_PASSWORD,
      practitionerId: demo.ids.practitioners[1],
      roles: [{ role: 'specialist', organizationId: demo.ids.organizations.bachmai }],
      totpSecret: accounts.get('bs.bachmai')!.totpSecret,
    });
    base = await p.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('goes from request to follow-up, with every step in the timeline and the audit trail', async () => {
    const dir = join(tmpdir(), `cauyte-e2e-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const image = join(dir, 'sieu-am-vu.png');
    writeFileSync(image, PNG);

    // 1. The commune clinician requests a consultation, with an image.
    const commune = await personPage('bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    await commune.goto(`${base}/patients/${demo.ids.patients[0]}`);
    await commune.getByRole('link', { name: 'Yêu cầu hội chẩn' }).click();
    await commune.waitForURL(/\/consults\/new\?patient=/);
    await fillRequest(commune, demo.ids.patients[0], image);
    await commune.getByRole('button', { name: 'Gửi yêu cầu' }).click();
    await commune.waitForURL(/\/consults$/);
    await commune.waitForSelector('.patient-card');
    const caseHref = await commune.locator('.patient-card').first().getAttribute('href');
    const caseId = caseHref!.split('/').pop()!;

    // 2. The specialist triages and accepts, assigning two specialists.
    const specialist = await personPage('bs.bachmai', accounts.get('bs.bachmai')!.totpSecret);
    await specialist.goto(`${base}/consults`);
    await specialist.getByRole('tab', { name: 'Chờ tiếp nhận' }).click();
    await specialist.locator(`a[href="/consults/${caseId}"]`).click();
    await specialist.waitForSelector('text=Tiếp nhận yêu cầu');
    expect(await specialist.locator('.attachments img').count()).toBe(1);
    await specialist.getByLabel(/Trần Quốc Hưng/).check();
    await specialist.getByLabel(/Lê Thị Minh Hằng/).check();
    await specialist.getByRole('button', { name: 'Tiếp nhận', exact: true }).click();
    await expect.poll(() => specialist.locator('h1 small').innerText()).toContain('Đã tiếp nhận');

    // A second accepted case for the meeting (through the API, as the same people would).
    const second = await call(
      p,
      'POST',
      '/api/consults',
      {
        clientId: randomUUID(),
        patientId: demo.ids.patients[4],
        receivingOrganizationId: demo.ids.organizations.bachmai,
        specialty: { code: 'oncology', display: 'Ung bướu' },
        urgency: 'routine',
        reason: 'Theo dõi sau mổ',
        icd10: { code: 'C50.9' },
        summary: { history: 'Sau mổ 1 năm', findings: 'Ổn định', treatment: 'Tamoxifen', question: 'Tiếp tục điều trị?' },
      },
      {
        authorization: `Bearer ${await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] })}`,
        'content-type': 'application/json',
      },
    );
    await call(
      p,
      'POST',
      `/api/consults/${second.body.caseId}/triage`,
      { action: 'accept', specialistIds: [demo.ids.practitioners[0]] },
      {
        authorization: `Bearer ${await p.tokenFor('specialist', { org: demo.ids.organizations.bachmai, practitioner: demo.ids.practitioners[0] })}`,
        'content-type': 'application/json',
      },
    );

    // 3. The coordinator schedules a meeting with three bridge points and both cases.
    const coordinator = await personPage('dieuphoi', accounts.get('dieuphoi')!.totpSecret);
    await coordinator.goto(`${base}/meetings/new`);
    await coordinator.getByLabel('Tên phiên').fill('Hội chẩn ung bướu liên tuyến');
    await coordinator.getByLabel('Chủ đề đào tạo').fill('Ung thư vú giai đoạn III');
    await coordinator.waitForSelector('fieldset >> text=Các ca');
    const caseBoxes = coordinator.locator('fieldset:has-text("Các ca") input[type=checkbox]');
    await expect.poll(() => caseBoxes.count()).toBe(2);
    await caseBoxes.nth(0).check();
    await caseBoxes.nth(1).check();
    // The conference is held now (a conclusion is signed in or after its meeting): it started five minutes ago.
    const startedAt = await coordinator.evaluate(() => {
      const d = new Date(Date.now() - 5 * 60_000);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    });
    await coordinator.locator('input[name=start]').fill(startedAt);
    // The scheduler's own hospital is already a bridge point; the others are found by searching (accents optional).
    const sites = coordinator.locator('[data-picker="sites"]');
    await sites.locator('.chip', { hasText: 'Bệnh viện Bạch Mai' }).waitFor();
    for (const [query, site] of [
      ['lao cai', /Bệnh viện Đa khoa tỉnh Lào Cai/],
      ['bat xat', /Trạm Y tế xã Bát Xát/],
    ] as const) {
      await sites.getByRole('searchbox').fill(query);
      await sites.getByRole('button', { name: site }).click();
    }
    await coordinator.getByRole('button', { name: 'Lên lịch', exact: true }).click();
    await coordinator.waitForURL(/\/meetings\/[\w-]+$/);
    // The meeting page loads its data after navigation: wait for it rather than read the spinner.
    await expect.poll(() => coordinator.locator('main').innerText()).toContain('Hội chẩn ung bướu liên tuyến');

    // 4. The specialists write and co-sign the conclusion.
    await specialist.goto(`${base}/consults/${caseId}`);
    await specialist.getByLabel('Nhận định').fill('Ung thư vú phải cT3N2M0');
    await specialist.getByLabel('Chẩn đoán (ICD-10)').fill('C50');
    await specialist.getByRole('option', { name: /^C50\.9/ }).click();
    await specialist.getByLabel('Khuyến cáo (xét nghiệm, điều trị)').fill('Sinh thiết lõi kim, hóa trị tân bổ trợ rồi phẫu thuật');
    await specialist.getByLabel('Đề nghị chuyển tuyến').check();
    await specialist.getByRole('button', { name: 'Lưu kết luận' }).click();
    await specialist.getByRole('button', { name: 'Ký kết luận' }).click();
    await expect.poll(() => specialist.locator('main').innerText()).toMatch(/Trần Quốc Hưng/);
    const cosigner = await personPage('bs.hang', accounts.get('bs.bachmai')!.totpSecret);
    await cosigner.goto(`${base}/consults/${caseId}`);
    await cosigner.getByRole('button', { name: 'Ký kết luận' }).click();
    await expect.poll(() => cosigner.locator('h1 small').innerText()).toContain('Đã có kết luận');
    await cosigner.getByRole('button', { name: 'Kiểm tra chữ ký' }).click();
    await expect.poll(() => cosigner.locator('main').innerText()).toContain('Tất cả chữ ký hợp lệ');

    // 5. The requester acknowledges with a different decision and a reason, then records the outcome.
    await commune.goto(`${base}/consults/${caseId}`);
    await commune.getByLabel('Quyết định khác (ghi rõ lý do)').check();
    await commune.getByLabel('Lý do', { exact: true }).fill('Người bệnh xin điều trị tại tỉnh vì hoàn cảnh gia đình');
    await commune.getByRole('button', { name: 'Xác nhận' }).click();
    await commune.waitForSelector('text=Kết quả theo dõi');
    await commune.locator('select[name=outcome]').selectOption('stable');
    await commune.getByRole('button', { name: 'Ghi nhận' }).click();
    await expect.poll(() => commune.locator('h1 small').innerText()).toContain('Đã theo dõi kết quả');
    const page = await commune.locator('main').innerText();
    for (const label of [
      'Đã gửi, chờ tiếp nhận',
      'Đã tiếp nhận',
      'Đã lên lịch hội chẩn',
      'Đã có kết luận',
      'Tuyến dưới đã tiếp nhận kết luận',
      'Đã theo dõi kết quả',
    ])
      expect(page, label).toContain(label);
    expect(page).toContain('Người bệnh xin điều trị tại tỉnh vì hoàn cảnh gia đình');
    expect(page).toContain('Tư vấn (chịu trách nhiệm chuyên môn về ý kiến)');
    await commune.screenshot({ path: 'test-results/consult-case.png', fullPage: true });

    // 6. The data-protection officer sees the whole trail.
    const dpo = await personPage('baovedulieu', accounts.get('baovedulieu')!.totpSecret);
    await dpo.goto(`${base}/audit`);
    await dpo.locator('ul.audit-list li').first().waitFor();
    // Readable names, never the raw action codes (consult.submit, consult.accept, …).
    await expect.poll(() => dpo.locator('ul.audit-list').innerText()).toContain('Ghi kết quả theo dõi sau hội chẩn');
    // Newest first: the follow-up closes the case; every step's raw action is checked in src/consult/consult.test.ts.
    expect(await dpo.locator('ul.audit-list').innerText()).not.toMatch(/consult\.[a-z]/);
  });

  it('submits a request written offline exactly once when the network returns', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInUi(page, base, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    const count = async () => (await p.db.query<{ n: number }>("SELECT count(*)::int AS n FROM resource WHERE resource_type = 'ServiceRequest'")).rows[0].n;
    const before = await count();
    await fillRequest(page, demo.ids.patients[0]);
    await context.setOffline(true);
    await page.getByRole('button', { name: 'Gửi yêu cầu' }).click();
    await expect.poll(() => page.locator('[role=status]').innerText()).toContain('Đã lưu trên máy');
    expect(await count()).toBe(before);
    await context.setOffline(false);
    await expect.poll(count, { timeout: 10_000 }).toBe(before + 1);
    // Opening the app again (which flushes the outbox) sends nothing twice.
    await page.goto(`${base}/consults`);
    await page.waitForSelector('.patient-card');
    await page.reload();
    await page.waitForSelector('.patient-card');
    await new Promise((r) => setTimeout(r, 500));
    expect(await count()).toBe(before + 1);
    await context.close();
  });
});
