/** Helpers for the video tests: staff and citizens who can sign in, pages in a call, and what they decode. */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Secret } from 'otpauth';
import type { Practitioner } from '@medplum/fhirtypes';
import { DEMO_PASSWORD } from '../auth/demo.ts';
import type { Role } from '../auth/policy.ts';
import type { Repository } from '../fhir/repository.ts';
import { signIn, type TestPlatform } from './platform.ts';

export interface Staff {
  username: string;
  name: string;
  practitionerId: string;
  organizationId: string;
  /** Cookie and CSRF headers for API calls as this person. */
  headers: Record<string, string>;
}

let n = 0;

/** A clinician with a Practitioner record, an account with TOTP, and a signed-in session. */
export async function makeStaff(p: TestPlatform, name: string, organizationId: string, role: Role = 'specialist'): Promise<Staff> {
  const practitioner = await p.fixtures.create<Practitioner>({ resourceType: 'Practitioner', active: true, name: [{ text: name }] });
  const username = `video.${++n}.${Date.now() % 100000}`;
  const totpSecret = new Secret({ size: 20 }).base32;
  await p.accounts.create({ username, displayName: name, kind: 'staff', password: DEMO_PASSWORD, practitionerId: practitioner.id, roles: [{ role, organizationId }], totpSecret });
  const headers = await signIn(p, username, totpSecret);
  return { username, name, practitionerId: practitioner.id!, organizationId, headers };
}

/** A citizen account for a patient, signed in (cookie and CSRF headers). */
export async function makeCitizen(p: TestPlatform, name: string, patientId: string): Promise<{ username: string; accountId: string; headers: Record<string, string> }> {
  const username = `citizen.${++n}.${Date.now() % 100000}`;
  const account = await p.accounts.create({ username, displayName: name, kind: 'citizen', password: DEMO_PASSWORD, patientId, roles: [] });
  return { username, accountId: account.id, headers: await signIn(p, username) };
}

/** The video domain's own tables, as the platform sees them (rooms, links, attendance). */
export function videoTables(p: TestPlatform): Repository {
  return p.store.system('test: video room state', 'video');
}

/** A browser context signed in as this person (their session cookie). */
export async function contextFor(browser: Browser, base: string, who?: Staff): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: { width: 900, height: 700 } });
  if (who) {
    const value = /cy_session=([^;]+)/.exec(who.headers.cookie)![1];
    await ctx.addCookies([{ name: 'cy_session', value, url: base }]);
  }
  return ctx;
}

/** Opens the room page, optionally sets the send limit, and joins. */
export async function join(page: Page, url: string, opts: { capKbps?: number; hd?: boolean; measure?: boolean; dataSaver?: boolean } = {}): Promise<void> {
  await page.goto(url);
  const button = page.getByRole('button', { name: /^(Vào phòng|Join)$/ });
  await button.waitFor();
  await page.waitForFunction(() => !(document.querySelector('.precall button.primary') as HTMLButtonElement | null)?.disabled);
  if (opts.capKbps) await page.getByLabel(/Giới hạn dữ liệu gửi đi/).selectOption(String(opts.capKbps));
  if (opts.dataSaver) await page.getByLabel(/Tiết kiệm dữ liệu nhận/).check();
  if (opts.hd) {
    await page.getByLabel(/Độ phân giải hình/).selectOption('720');
    await page.waitForFunction(() => ((document.querySelector('.precall video') as HTMLVideoElement | null)?.srcObject as MediaStream | null)?.getVideoTracks()[0]?.getSettings().height === 720);
  }
  if (opts.measure) {
    // The clock starts at the click on "join", inside the page.
    await page.evaluate(() => {
      (window as unknown as { joinAt: number }).joinAt = performance.now();
      (document.querySelector('.precall button.primary') as HTMLButtonElement).click();
    });
    return;
  }
  await button.click();
}

export type Decoded = Record<string, { framesDecoded: number; audioPackets: number; frameWidth: number; frameHeight: number }>;

/** What this page decodes, per other member (from getStats). */
export async function decoded(page: Page): Promise<Decoded> {
  return page.evaluate(async () => (window.__call ? ((await window.__call.stats()) as Decoded) : {}));
}

/** The member ids this page sees in the room, excluding itself. */
export async function othersSeen(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const c = window.__call;
    return c ? c.members.value.filter((m) => m.state === 'in' && m.id !== c.me.value?.id).map((m) => m.id) : [];
  });
}

/** This page's member id, once the server has answered its join (join() returns at the click). */
export async function myId(page: Page): Promise<string> {
  const id = await page.waitForFunction(() => window.__call?.me.value?.id, undefined, { timeout: 20_000 });
  return (await id.jsonValue()) as string;
}

/** Waits until this page decodes video (and receives audio) from every member in `ids`. */
export async function waitDecodingAll(page: Page, ids: string[], timeoutMs = 30_000): Promise<Decoded> {
  const deadline = Date.now() + timeoutMs;
  let last: Decoded = {};
  while (Date.now() < deadline) {
    last = await decoded(page);
    if (ids.every((id) => (last[id]?.framesDecoded ?? 0) > 0 && (last[id]?.audioPackets ?? 0) > 0)) return last;
    await page.waitForTimeout(250);
  }
  const links = await page.evaluate(async () => (window.__call ? await window.__call.report() : []));
  throw new Error(`not decoding everyone after ${timeoutMs} ms: ${JSON.stringify(last)} (expected ${ids.join(', ')}); connections: ${JSON.stringify(links)}`);
}

/** Milliseconds from the click on "join" to the first decoded frame from any other member. */
export async function timeToFirstFrame(page: Page, timeoutMs = 20_000): Promise<number> {
  return page.evaluate(async (timeout) => {
    const start = (window as unknown as { joinAt: number }).joinAt;
    while (performance.now() - start < timeout) {
      const s = window.__call ? await window.__call.stats() : {};
      if (Object.values(s).some((x) => x.framesDecoded > 0)) return performance.now() - start;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no remote frame decoded');
  }, timeoutMs);
}
