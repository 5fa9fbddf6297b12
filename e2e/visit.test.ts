/**
 * A whole remote examination in real browsers (Chromium with a fake camera and microphone): the
 * citizen, on a phone, books an eligible slot and answers the pre-visit questions, then waits in
 * the room; the clinician sees the queue and the answers, admits the citizen (both decode each
 * other's video), writes the note and an e-prescription; the citizen sees both and downloads the
 * prescription PDF (its text checked) and the FHIR bundle of their record. An ineligible reason is
 * refused on the booking page with the explanation.
 */
import { readFileSync } from 'node:fs';
import type { Appointment, Bundle, Consent, MedicationRequest } from '@medplum/fhirtypes';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { myId, waitDecodingAll } from '../src/testing/video.ts';
import { seedVisitDemo } from '../src/seed/visits.ts';
import { pdfText } from '../src/testing/pdf.ts';
import { admitFromQueue, enterWaitingRoom, fillBooking, writeVisitNote } from './booking.ts';
import { signInUi } from './ui.ts';

describe('remote examination in the browser', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['family', 'consult', 'video', 'visits'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    await seedVisitDemo(p.store, p.visits, demo);
    base = await p.listen();
    browser = await launchBrowser({ media: true });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  async function phone(): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, acceptDownloads: true });
    return ctx.newPage();
  }

  it('books, waits, is admitted and examined; sees the note and prescription; downloads the PDF and the FHIR bundle', async () => {
    // 1. The citizen, on a phone: their record first, then booking.
    const citizen = await phone();
    await signInUi(citizen, base, 'nguoidan');
    await citizen.waitForSelector('.facts');
    expect(await citizen.locator('h1').innerText()).toContain('Nguyễn Văn An');
    expect(await citizen.locator('main').innerText()).toContain('Penicillin'); // the allergy stands out at the top
    await citizen.getByRole('link', { name: 'Đặt lịch khám từ xa' }).click();
    await fillBooking(citizen, 'tang huyet ap', /^I10/);
    await citizen.getByText('Đã đặt lịch').waitFor();
    expect(await citizen.locator('main').innerText()).toMatch(/Mã đặt lịch\s+[A-F0-9]{8}/);
    expect(await citizen.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await citizen.screenshot({ path: 'test-results/visit-booked-phone.png', fullPage: true });
    const visitId = await enterWaitingRoom(citizen);

    // 2. The clinician: the queue shows who is waiting; the visit shows the answers.
    const start = (await p.fixtures.read<Appointment>('Appointment', visitId)).start!;
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date(start));
    const doctorCtx = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
    const doctor = await doctorCtx.newPage();
    await signInUi(doctor, base, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    const { room, card, answers } = await admitFromQueue(doctor, day, 'Nguyễn Văn An');
    expect(card).toContain('1 người đang chờ trong phòng');
    expect(answers).toContain('158/96');
    expect(answers).toContain('Trên 1 tháng');
    await citizen.getByTestId('lobby').waitFor({ state: 'detached', timeout: 15_000 });
    const [citizenId, doctorId] = [await myId(citizen), await myId(room)];
    await waitDecodingAll(room, [citizenId], 30_000);
    await waitDecodingAll(citizen, [doctorId], 30_000);
    await citizen.screenshot({ path: 'test-results/visit-call-phone.png' });

    // 4. The note and the e-prescription.
    expect(await doctor.getByLabel('Huyết áp tâm thu').inputValue()).toBe('158'); // from the pre-visit answer
    const code = await writeVisitNote(doctor);
    expect(code).toMatch(/^[A-Z0-9]{5}[a-z0-9]{7}-c$/);
    await doctor.screenshot({ path: 'test-results/visit-doctor.png', fullPage: true });

    // 5. The citizen sees the note and the prescription, and downloads it.
    await citizen.goto(`${base}/me/visits/${visitId}`);
    await citizen.getByRole('heading', { name: 'Kết quả khám' }).waitFor();
    const result = await citizen.locator('.result').innerText();
    expect(result).toContain('Ăn nhạt, đo huyết áp sáng và tối, ghi lại vào sổ.');
    expect(result).toContain('Tái khám sau 30 ngày');
    expect(result).toContain('Amlodipin 5 mg');
    expect(result).toContain(code);
    await citizen.screenshot({ path: 'test-results/visit-result-phone.png', fullPage: true });
    const [rx] = await Promise.all([citizen.waitForEvent('download'), citizen.getByRole('link', { name: 'Tải đơn thuốc (PDF)' }).click()]);
    const text = await pdfText(readFileSync((await rx.path())!));
    for (const s of [
      'ĐƠN THUỐC',
      `Mã đơn thuốc: ${code}`,
      'Họ tên người bệnh: Nguyễn Văn An',
      'Amlodipin 5 mg',
      'Số đăng ký: VD-12345-10',
      'Cách dùng: Uống 1 viên mỗi sáng sau ăn (30 ngày)',
      'Lời dặn: Không tự ý ngừng thuốc.',
      'Tái khám: sau 30 ngày',
    ])
      expect(text).toContain(s);

    // 6. The record: the visit is on the timeline, and the whole record downloads as FHIR.
    await citizen.goto(`${base}/me`);
    await citizen.locator('ol.timeline').waitFor();
    expect(await citizen.locator('ol.timeline').innerText()).toContain('Amlodipin 5 mg');
    const [fhir] = await Promise.all([citizen.waitForEvent('download'), citizen.getByRole('link', { name: 'Tải dữ liệu (FHIR)' }).click()]);
    const bundle = JSON.parse(readFileSync((await fhir.path())!, 'utf8')) as Bundle;
    expect(bundle.resourceType).toBe('Bundle');
    const meds = bundle.entry!.map((e) => e.resource!).filter((r): r is MedicationRequest => r.resourceType === 'MedicationRequest');
    expect(meds.find((m) => m.groupIdentifier?.value === code)?.dosageInstruction?.[0]?.text).toBe('Uống 1 viên mỗi sáng sau ăn');
    expect(
      bundle.entry!.some(
        (e) =>
          e.resource!.resourceType === 'Encounter' &&
          (e.resource as { appointment?: { reference?: string }[] }).appointment?.[0]?.reference === `Appointment/${visitId}`,
      ),
    ).toBe(true);
    await citizen.screenshot({ path: 'test-results/record-phone.png', fullPage: true });
    // Installable: the manifest is served and the service worker controls the app.
    const manifest = await citizen.evaluate(async () => (await fetch('/manifest.webmanifest')).json());
    expect(manifest).toMatchObject({ short_name: 'Cầu Y Tế', start_url: '/me', display: 'standalone' });
    expect(await citizen.evaluate(async () => !!(await navigator.serviceWorker.ready).active)).toBe(true);
    await citizen.context().close();
    await doctorCtx.close();
  }, 180_000);

  it('refuses an ineligible reason on the booking page, with the explanation and what to do instead', async () => {
    const citizen = await phone();
    await signInUi(citizen, base, 'nguoidan');
    await citizen.goto(`${base}/me/book`);
    await fillBooking(citizen, 'viem phoi', /^J18\.9/);
    const refusal = citizen.locator('.refusal');
    await refusal.waitFor();
    const text = await refusal.innerText();
    expect(text).toContain('Không đặt được lịch khám từ xa');
    expect(text).toMatch(/J18\.9 không thuộc danh mục bệnh được khám, chữa bệnh từ xa \(Thông tư 30\/2023\/TT-BYT/);
    expect(text).toContain('Đề nghị đặt lịch khám trực tiếp');
    await citizen.screenshot({ path: 'test-results/visit-refused-phone.png', fullPage: true });
    await citizen.context().close();
  }, 60_000);

  it("lets a parent decide for the child: blocks a hospital from the son's record, who sees the son's record in his log, and nothing changes on his own", async () => {
    const citizen = await phone();
    await signInUi(citizen, base, 'nguoidan');
    await citizen.goto(`${base}/me/consent`);
    await citizen
      .locator('nav.members')
      .getByRole('link', { name: /Nguyễn Minh Khang/ })
      .click();
    await citizen.waitForURL(/\/me\/consent\?patient=/);
    await citizen.getByLabel('Cơ sở y tế').selectOption({ label: 'Bệnh viện Bạch Mai' });
    await citizen.getByRole('button', { name: 'Không cho phép xem' }).click();
    const item = citizen.locator('ul.consents li');
    await item.first().waitFor();
    expect((await item.allInnerTexts()).map((x) => x.replace(/\s+/g, ' '))).toEqual([
      expect.stringMatching(/^Không cho phép xem Bệnh viện Bạch Mai \d\d:\d\d \d\d\/\d\d\/\d{4} · Đang hiệu lực Rút lại$/),
    ]);
    await citizen.screenshot({ path: 'test-results/consent-child-phone.png', fullPage: true });
    // The son's consent is on the son's record, given by his father.
    const childId = new URL(citizen.url()).searchParams.get('patient')!;
    const given = await p.fixtures.search<Consent>('Consent', { patient: childId });
    expect(given.map((c) => c.provision?.type)).toEqual(['deny']);
    expect(given[0].performer?.[0]?.reference).toMatch(/^RelatedPerson\//);
    // His own page is unchanged.
    await citizen
      .locator('nav.members')
      .getByRole('link', { name: /Nguyễn Văn An/ })
      .click();
    await citizen.waitForURL((u) => u.pathname === '/me/consent' && !u.search);
    await citizen.getByLabel('Cơ sở y tế').waitFor();
    await expect.poll(() => citizen.locator('ul.consents li').count()).toBe(0);
    // The son's access log shows the father's decision, made by "you".
    await citizen.goto(`${base}/me/access-log?patient=${childId}`);
    const row = citizen.locator('h2:has-text("Việc bạn tự làm") + ul.access-log li', { hasText: /Tạo mới đồng ý chia sẻ dữ liệu/ });
    await row.first().waitFor();
    expect((await row.first().innerText()).replace(/\s+/g, ' ')).toMatch(/Tạo mới đồng ý chia sẻ dữ liệu/);
    await citizen.context().close();
  }, 60_000);
});
