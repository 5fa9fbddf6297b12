/**
 * The steps of a remote examination that several browser tests take the same way: the citizen's
 * booking form (a chronic-care slot, the reason, the pre-visit answers) and waiting room, the
 * clinician admitting from the queue, and the visit note with an e-prescription. Vietnamese labels, as a user reads them.
 */
import type { Page } from 'playwright-core';
import { join } from '../src/testing/video.ts';

/** Books the first free chronic-care slot; `icdQuery` 'tang huyet ap' picks the short-list reason, anything else searches. */
export async function fillBooking(page: Page, icdQuery: string, icdOption: RegExp): Promise<void> {
  await page
    .getByRole('group', { name: 'Dịch vụ' })
    .getByRole('radio', { name: /Khám từ xa bệnh mạn tính/ })
    .check();
  await page.locator('.times button').first().click();
  // The reason in plain words; anything not on the short list is found by its name (never a code).
  if (icdQuery === 'tang huyet ap') await page.getByRole('radio', { name: /^Huyết áp cao/ }).check();
  else {
    await page.getByRole('radio', { name: /^Vấn đề khác/ }).check();
    await page.getByLabel(/^Tên bệnh hoặc triệu chứng/).fill(icdQuery);
    await page.getByRole('option', { name: icdOption }).first().click();
  }
  await page.getByLabel('Mô tả ngắn (triệu chứng, từ khi nào)').fill('Đau đầu, chóng mặt, huyết áp đo ở nhà cao');
  await page
    .getByRole('radiogroup', { name: /dấu hiệu cấp cứu/ })
    .getByLabel('Không')
    .check();
  await page
    .getByRole('radiogroup', { name: /kéo dài bao lâu/ })
    .getByLabel('Trên 1 tháng')
    .check();
  await page.getByLabel(/Huyết áp tự đo gần nhất/).fill('158/96');
  await page.getByRole('button', { name: 'Đặt lịch', exact: true }).click();
}

/** The clinician's note for the hypertension visit and a 30-day amlodipine prescription; returns the prescription code. */
export async function writeVisitNote(doctor: Page): Promise<string> {
  await doctor.getByLabel('Khám và ghi nhận').fill('Tỉnh, tiếp xúc tốt. Không khó thở, không phù.');
  await doctor.getByLabel('Nhận định').fill('Tăng huyết áp chưa kiểm soát');
  await doctor.getByLabel('Mạch').fill('82');
  await doctor.getByLabel('Hướng dẫn, theo dõi').fill('Ăn nhạt, đo huyết áp sáng và tối, ghi lại vào sổ.');
  await doctor.getByLabel('Tái khám sau (ngày)').fill('30');
  await doctor.getByLabel('Tên thuốc, hàm lượng').fill('Amlodipin 5 mg');
  await doctor.getByLabel('Số đăng ký (nếu biết)').fill('VD-12345-10');
  await doctor.getByLabel('Số lượng').fill('30');
  await doctor.getByLabel('Cách dùng').fill('Uống 1 viên mỗi sáng sau ăn');
  await doctor.getByLabel('Số ngày').fill('30');
  await doctor.getByLabel('Lời dặn').fill('Không tự ý ngừng thuốc.');
  await doctor.getByRole('button', { name: 'Kết thúc khám và lưu' }).click();
  await doctor.locator('.rx code').waitFor({ timeout: 60_000 });
  return doctor.locator('.rx code').innerText();
}

/** From the booking's confirmation to the waiting room; returns the visit (Appointment) id. */
export async function enterWaitingRoom(citizen: Page): Promise<string> {
  await citizen.getByRole('link', { name: 'Xem lịch khám và vào phòng chờ' }).click();
  await citizen.waitForURL(/\/me\/visits\/[\w-]+$/);
  const visitId = citizen.url().split('/').pop()!;
  await citizen.getByRole('button', { name: 'Vào phòng chờ khám' }).click();
  await citizen.waitForURL(/\/call\/[\w-]+$/);
  await join(citizen, citizen.url());
  await citizen.getByTestId('lobby').waitFor();
  return visitId;
}

/**
 * The clinician, signed in on `doctor`, finds the waiting citizen in the queue for `day` (yyyy-mm-dd),
 * opens the visit (the pre-visit answers), opens the room in a new tab and admits them.
 */
export async function admitFromQueue(doctor: Page, day: string, patientName: string): Promise<{ room: Page; card: string; answers: string }> {
  await doctor.getByRole('link', { name: 'Khám từ xa' }).click();
  await doctor.locator('input[type=date]').fill(day);
  const card = doctor.locator('.visit-card', { hasText: patientName });
  await card.locator('.waiting-badge').waitFor({ timeout: 30_000 });
  const cardText = await card.innerText();
  await card.click();
  await doctor.getByRole('heading', { name: 'Trả lời trước khi khám' }).waitFor();
  const answers = await doctor.locator('.answers').innerText();
  const [room] = await Promise.all([doctor.context().waitForEvent('page'), doctor.getByRole('button', { name: 'Mở phòng khám (tab mới)' }).click()]);
  await room.waitForURL(/\/call\/[\w-]+$/);
  await join(room, room.url());
  await room
    .getByRole('button', { name: /Người tham gia|Phòng chờ|People/ })
    .first()
    .click();
  await room.getByRole('button', { name: 'Cho vào' }).click();
  return { room, card: cardText, answers };
}
