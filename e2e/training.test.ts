/**
 * Remote training in the browser, on the demo network: the hub's coordinator creates a course
 * with two sessions on the hub page; two commune clinicians from two sites enrol on the course
 * page; the teacher opens the first session's room and all three join it by video (real room
 * page, fake camera), one leaves at once and does not reach the minimum; the teacher counts
 * attendance; the clinician who stayed rates the session and the coordinator sees the aggregate
 * (no names); a teaching case from a de-identified consult is shown to the learners; the
 * post-test is taken; exactly one certificate is issued and verifies through its QR link; the
 * credits appear on the clinician's page and in the programme dashboard's training block.
 * Screenshots at 390 and 1366 px into test-results/.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { contextFor, makeStaff, type Staff } from '../src/testing/video.ts';
import { signInUi } from './ui.ts';
import { shoot } from './shots.ts';
import { cardiologyConsult } from '../src/testing/consults.ts';

describe('remote training in the browser', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let second: Staff;
  let courseUrl: string;
  const pages: Record<string, Page> = {};

  async function page(username: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const pg = await context.newPage();
    pg.on('dialog', (d) => void d.accept());
    await signInUi(pg, base, username, accounts.get(username)!.totpSecret);
    return pg;
  }

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['consult', 'video', 'programme', 'training'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    second = await makeStaff(p, 'Lò Thị Mai', demo.ids.organizations.simacai, 'commune_clinician');
    const admin = await p.tokenFor('system_admin');
    await call(p, 'PUT', '/api/programme/settings', { agreementRule: 'warn' }, { authorization: `Bearer ${admin}`, 'content-type': 'application/json' });
    base = await p.listen();
    browser = await launchBrowser({ media: true });
    mkdirSync('test-results', { recursive: true });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('the hub coordinator creates a course with two sessions', async () => {
    const pg = (pages.coordinator = await page('dieuphoi'));
    await pg.goto(`${base}/training/hub`);
    await pg.getByLabel('Tên').first().fill('Tăng huyết áp tại trạm y tế xã');
    await pg.getByRole('button', { name: 'Tạo' }).first().click();
    await pg.getByTestId('programme').waitFor();
    const form = pg.getByTestId('new-course');
    await form.getByLabel('Tên', { exact: true }).first().fill('Quản lý tăng huyết áp ở tuyến xã');
    await form.getByLabel('Số chỗ').fill('2');
    await form.getByLabel('Giảng viên').selectOption({ label: 'Trần Quốc Hưng' });
    // The first session began a minute ago (so it is open now); the second is next week.
    const start = new Date(Date.now() - 60_000);
    const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await form.locator('input[name="s0start"]').fill(local(start));
    await form.locator('input[name="s0end"]').fill(local(new Date(start.getTime() + 3_600_000)));
    await form.locator('input[name="s0title"]').fill('Buổi 1: đo huyết áp đúng cách');
    await form.locator('input[name="s1title"]').fill('Buổi 2: thuốc hạ áp');
    await form
      .getByLabel(/Câu hỏi kiểm tra/)
      .fill('Huyết áp mục tiêu ở người dưới 65 tuổi? | 150/90 | *130/80 | 160/100\nThuốc đầu tay? | Furosemid | *Amlodipin');
    await form.getByRole('button', { name: 'Tạo' }).click();
    await pg.getByText('Quản lý tăng huyết áp ở tuyến xã').first().waitFor();
    await expect.poll(() => pg.getByTestId('programme').textContent()).toContain('Buổi học: 2');
    courseUrl = (await pg.getByRole('link', { name: 'Quản lý tăng huyết áp ở tuyến xã' }).getAttribute('href'))!;
    await shoot(pg, 'training-hub');
  });

  it('two commune clinicians from two sites enrol', async () => {
    const a = (pages.a = await page('bs.batxat'));
    await a.goto(`${base}/training`);
    await a.getByRole('link', { name: 'Quản lý tăng huyết áp ở tuyến xã' }).click();
    await a.getByRole('button', { name: 'Ghi danh', exact: true }).click();
    await a.getByRole('status').filter({ hasText: 'Đã ghi danh' }).waitFor();
    const ctx = await contextFor(browser, base, second);
    const b = (pages.b = await ctx.newPage());
    b.on('dialog', (d) => void d.accept());
    await b.goto(`${base}${courseUrl}`);
    await b.getByRole('button', { name: 'Ghi danh', exact: true }).click();
    await b.getByRole('status').filter({ hasText: 'Đã ghi danh' }).waitFor();
    await shoot(b, 'training-course');
  });

  it('all join the first session by video; one leaves at once; the teacher counts attendance', async () => {
    const teacher = (pages.teacher = await page('bs.bachmai'));
    await teacher.goto(`${base}/training/teach`);
    await teacher.getByRole('button', { name: 'Mở phòng học' }).first().click();
    await teacher.waitForURL(/\/call\//);
    const roomUrl = teacher.url();
    const enter = async (pg: Page) => {
      const button = pg.getByRole('button', { name: /^(Vào phòng|Join)$/ });
      await button.waitFor();
      await pg.waitForFunction(() => !(document.querySelector('.precall button.primary') as HTMLButtonElement | null)?.disabled);
      await button.click();
      await pg.getByRole('button', { name: 'Rời phòng' }).waitFor();
    };
    await enter(teacher);
    // The clinicians join from their learning page.
    for (const pg of [pages.a, pages.b]) {
      await pg.goto(`${base}/training`);
      await pg.getByRole('button', { name: 'Vào phòng học' }).first().click();
      await pg.waitForURL(roomUrl);
      await enter(pg);
    }
    await pages.b.getByRole('button', { name: 'Rời phòng' }).click();
    // The one who stays is in the room for most of the session as held (from the teacher's entry to the end).
    await pages.a.waitForTimeout(15_000);
    await teacher.getByRole('button', { name: 'Kết thúc cho mọi người' }).click();
    await teacher.waitForTimeout(500);

    await teacher.goto(`${base}/training/teach`);
    await teacher.getByRole('button', { name: 'Chốt điểm danh' }).first().click();
    const table = teacher.getByTestId('attendance');
    await table.waitFor();
    const rows = await table.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.includes('Giàng A Sử'))).toMatch(/Có$/);
    expect(rows.find((r) => r.includes('Lò Thị Mai'))).toMatch(/Không$/);
    await shoot(teacher, 'training-teacher');
  });

  it('the clinician who attended rates the session; the coordinator sees the aggregate, without names', async () => {
    const a = pages.a;
    await a.goto(`${base}/training`);
    const form = a.getByTestId('feedback-due');
    await form.getByText('Buổi 1: đo huyết áp đúng cách').waitFor();
    await form.getByLabel('4 – Tốt').check();
    await form.getByLabel('Góp ý (không bắt buộc)').fill('Phần đo huyết áp rất thực tế');
    await form.getByRole('button', { name: 'Gửi đánh giá' }).click();
    await a.getByRole('status').filter({ hasText: 'Cảm ơn bạn đã đánh giá' }).waitFor();
    const coordinator = pages.coordinator;
    await coordinator.goto(`${base}/training/teach`);
    await coordinator.getByRole('button', { name: /^Xem đánh giá của học viên: Quản lý tăng huyết áp/ }).click();
    const summary = coordinator.getByTestId('feedback-summary');
    await summary.waitFor();
    const first = summary.locator('tbody tr').first();
    await expect.poll(() => first.textContent()).toContain('1/2 người tham dự');
    expect(await first.textContent()).toContain('Phần đo huyết áp rất thực tế');
    expect(await summary.textContent()).not.toContain('Giàng A Sử');
    await shoot(coordinator, 'training-feedback');
  });

  it('a teaching case from a de-identified consult is shown to the learners', async () => {
    const patient = await p.fixtures.read<any>('Patient', demo.ids.patients[0]);
    const name = patient.name[0].text as string;
    const commune = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });
    const r = await call(
      p,
      'POST',
      '/api/consults',
      cardiologyConsult(demo, {
        summary: { history: `Ông ${name} khám ngày 12/03/2025`, findings: 'HA 170/100 mmHg', treatment: 'Amlodipin 5 mg', question: 'Phối hợp thuốc?' },
      }),
      { authorization: `Bearer ${commune}`, 'content-type': 'application/json' },
    );
    expect(r.status, r.text).toBe(201);
    const teacher = pages.teacher;
    // The teacher picks the case among those the hospital received (no ids typed).
    await teacher.reload();
    await teacher.getByLabel('Ca hội chẩn đã nhận').first().selectOption(r.body.caseId);
    await teacher.getByRole('button', { name: 'Thêm ca bệnh giảng dạy' }).first().click();
    await teacher.getByRole('status').filter({ hasText: 'Đã tạo' }).waitFor();

    const a = pages.a;
    await a.goto(`${base}${courseUrl}`);
    const tc = a.getByTestId('teaching-case');
    await tc.waitFor();
    const text = (await tc.textContent()) ?? '';
    expect(text).toContain('HA 170/100 mmHg');
    expect(text).toContain('03/2025');
    expect(text).not.toContain(name);
    expect(text).not.toContain('12/03/2025');
  });

  it('the post-test is taken; exactly one certificate, verified through its QR link', async () => {
    const answer = async (pg: Page) => {
      await pg.goto(`${base}${courseUrl}`);
      const form = pg.getByTestId('test-post');
      await form.getByLabel('130/80').check();
      await form.getByLabel('Amlodipin').check();
      await form.getByRole('button', { name: 'Nộp bài' }).click();
      return (await pg.getByRole('status').textContent()) ?? '';
    };
    await pages.a.getByTestId('test-post').waitFor();
    expect(await answer(pages.a)).toContain('Đã cấp chứng nhận');
    const b = await answer(pages.b);
    expect(b).toContain('Đạt');
    expect(b).not.toContain('chứng nhận');
    expect(Number((await p.db.query<{ n: string }>('SELECT count(*) AS n FROM training_certificate')).rows[0].n)).toBe(1);

    const a = pages.a;
    await a.goto(`${base}/training`);
    await expect.poll(() => a.getByTestId('credits').textContent()).toContain('4/120 tiết trong 5 năm');
    const certs = a.getByTestId('certificates');
    await certs.getByText('Quản lý tăng huyết áp ở tuyến xã').waitFor();
    await shoot(a, 'training-learning');
    // The QR code's link, opened on a phone without an account.
    const href = (await certs.getByRole('link', { name: 'Kiểm tra' }).getAttribute('href'))!;
    const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    await phone.goto(href);
    const body = (await phone.textContent('body')) ?? '';
    expect(body).toContain('Chứng nhận hợp lệ');
    expect(body).toContain('Giàng A Sử');
    expect(body).toContain('Quản lý tăng huyết áp ở tuyến xã');
    expect(body).not.toContain('Bát Xát');
    await shoot(phone, 'training-verify');
  });

  it('the credits appear in the programme indicators', async () => {
    const analyst = await page('thongke');
    await analyst.goto(`${base}/indicators`);
    const block = analyst.getByTestId('training-indicators');
    await block.waitFor();
    expect(await analyst.getByTestId('training-people').textContent()).toBe('1');
    expect(await analyst.getByTestId('training-sessions').textContent()).toBe('1');
    expect(await block.textContent()).toContain('Trạm Y tế xã Bát Xát');
    await block.scrollIntoViewIfNeeded();
    await shoot(analyst, 'training-indicators');
  });
});
