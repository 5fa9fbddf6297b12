/** Helpers for the video tests: staff who can sign in, pages in a call, and what they decode. */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Secret } from 'otpauth';
import type { Practitioner } from '@medplum/fhirtypes';
import { DEMO_PASSWORD } from '../src/auth/demo.ts';
import type { Role } from '../src/auth/policy.ts';
import { signIn, type TestPlatform } from '../src/testing/platform.ts';

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
  const practitioner = (await p.fhir.repo.create<Practitioner>({ resourceType: 'Practitioner', active: true, name: [{ text: name }] })) as Practitioner;
  const username = `video.${++n}.${Date.now() % 100000}`;
  const totpSecret = new Secret({ size: 20 }).base32;
  await p.accounts.create({ username, displayName: name, kind: 'staff', password: DEMO_PASSWORD, practitionerId: practitioner.id, roles: [{ role, organizationId }], totpSecret });
  const headers = await signIn(p, username, totpSecret);
  return { username, name, practitionerId: practitioner.id!, organizationId, headers };
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
export async function join(page: Page, url: string, opts: { capKbps?: number } = {}): Promise<void> {
  await page.goto(url);
  const button = page.getByRole('button', { name: /^(Vào phòng|Join)$/ });
  await button.waitFor();
  await page.waitForFunction(() => !(document.querySelector('.precall button.primary') as HTMLButtonElement | null)?.disabled);
  if (opts.capKbps) await page.getByLabel(/Giới hạn dữ liệu gửi đi/).selectOption(String(opts.capKbps));
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

export async function myId(page: Page): Promise<string> {
  return page.evaluate(() => window.__call?.me.value?.id ?? '');
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
  throw new Error(`not decoding everyone after ${timeoutMs} ms: ${JSON.stringify(last)} (expected ${ids.join(', ')})`);
}
