/**
 * A citizen's remote examination over a real (emulated) commune 3G link (400 kbit/s, 300 ms round
 * trip, 1 % loss): the citizen's phone browser runs inside the shaped network namespace, the
 * clinician's outside. Over that link the citizen signs in, books, answers the pre-visit questions
 * and waits in the room; the clinician admits them; both decode each other's video and audio keeps
 * arriving on both sides; the note and prescription the clinician signs reach the citizen's page.
 * Fails — never skips — when the weak link cannot be made here (needs root and iproute2).
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { seedVisitDemo } from '../src/seed/visits.ts';
import { startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { myId, waitDecodingAll } from '../src/testing/video.ts';
import { browsersAcross, view, type CallView } from '../src/testing/weaklink/calls.ts';
import { openWeakLink, type WeakLink } from '../src/testing/weaklink/link.ts';
import { admitFromQueue, enterWaitingRoom, fillBooking, writeVisitNote } from './booking.ts';
import { shoot } from './shots.ts';
import { signInUi } from './ui.ts';

describe('a citizen’s remote examination with the citizen on a commune 3G link', () => {
  let link: WeakLink;
  let p: TestPlatform;
  let base: string;
  let outside: Browser;
  let inside: Browser;
  let accounts: Map<string, DemoAccount>;

  beforeAll(async () => {
    link = await openWeakLink('good'); // throws with the reason when namespaces cannot be made
    p = await startTestPlatform('pglite', { HOST: link.hostAddress, LOG_LEVEL: 'warn' }, undefined, {
      domains: ['family', 'consult', 'video', 'visits'],
    });
    const demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    await seedVisitDemo(p.store, p.visits, demo);
    base = await p.listen();
    ({ outside, inside } = await browsersAcross(link, base));
  }, 180_000);
  afterAll(async () => {
    await outside?.close();
    await inside?.close();
    await p?.close();
    await link?.close();
  });

  /** Samples a page's call every second for `ms`. */
  async function watch(page: Page, ms: number): Promise<CallView[]> {
    const seen: CallView[] = [];
    for (const end = Date.now() + ms; Date.now() < end; await page.waitForTimeout(1000)) seen.push(await view(page));
    return seen;
  }

  it('books, waits, is admitted, sees and hears the clinician, and gets the note and prescription — all over the 3G link', async () => {
    await link.shape('commune-3g');
    // 1. The citizen's phone, on the station's 3G link, from sign-in to the waiting room.
    const phoneCtx = await inside.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    phoneCtx.setDefaultTimeout(90_000);
    const citizen = await phoneCtx.newPage();
    await signInUi(citizen, base, 'nguoidan');
    await citizen.waitForSelector('.facts');
    await citizen.getByRole('link', { name: 'Đặt lịch khám từ xa' }).click();
    await fillBooking(citizen, 'tang huyet ap', /^I10/);
    await citizen.getByText('Đã đặt lịch').waitFor();
    await shoot(citizen, 'weaklink-visit-booked');
    const visitId = await enterWaitingRoom(citizen);

    // 2. The clinician, on the hospital's good link: the queue, the answers, the room.
    const start = (await p.fixtures.read<Appointment>('Appointment', visitId)).start!;
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date(start));
    const doctorCtx = await outside.newContext({ viewport: { width: 1100, height: 900 } });
    const doctor = await doctorCtx.newPage();
    await signInUi(doctor, base, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    const { room, answers } = await admitFromQueue(doctor, day, 'Nguyễn Văn An');
    expect(answers).toContain('158/96');

    // 3. Admitted over 3G: both decode each other, and audio keeps arriving both ways.
    await citizen.getByTestId('lobby').waitFor({ state: 'detached', timeout: 60_000 });
    const [citizenId, doctorId] = [await myId(citizen), await myId(room)];
    await waitDecodingAll(room, [citizenId], 90_000);
    await waitDecodingAll(citizen, [doctorId], 90_000);
    const [atDoctor, atCitizen] = await Promise.all([watch(room, 20_000), watch(citizen, 20_000)]);
    for (const [views, from, side] of [
      [atDoctor, citizenId, 'the clinician'],
      [atCitizen, doctorId, 'the citizen'],
    ] as const) {
      for (let i = 5; i < views.length; i += 5)
        expect(views[i].from[from]?.audioPackets ?? 0, `${side} heard nothing between samples ${i - 5} and ${i}`).toBeGreaterThan(
          views[i - 5].from[from]?.audioPackets ?? 0,
        );
    }
    // Each side names the other in its own words: the clinician's tile says where the citizen is.
    expect(await room.locator(`[data-member="${citizenId}"]`).innerText()).toContain('Tại nhà');
    await citizen.setViewportSize({ width: 390, height: 844 });
    await citizen.screenshot({ path: 'test-results/weaklink-visit-call-390.png' });

    // 4. The note and prescription, signed on the good side, reach the citizen over 3G.
    const code = await writeVisitNote(doctor);
    await citizen.goto(`${base}/me/visits/${visitId}`);
    await citizen.getByRole('heading', { name: 'Kết quả khám' }).waitFor();
    const result = await citizen.locator('.result').innerText();
    expect(result).toContain('Amlodipin 5 mg');
    expect(result).toContain(code);
    await shoot(citizen, 'weaklink-visit-result');
    await phoneCtx.close();
    await doctorCtx.close();
  }, 420_000);
});
