/** Helpers for the video tests: staff and citizens who can sign in, pages in a call, and what they decode. */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Secret } from 'otpauth';
import type { Appointment, Location, Practitioner } from '@medplum/fhirtypes';
import WebSocket from 'ws';
import { DEMO_PASSWORD } from '../seed/accounts.ts';
import { CONSULT_CATEGORY } from '../consult/model.ts';
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
  await p.accounts.create({
    username,
    displayName: name,
    kind: 'staff',
    password: DEMO_PASSWORD,
    practitionerId: practitioner.id,
    roles: [{ role, organizationId }],
    totpSecret,
  });
  const headers = await signIn(p, username, totpSecret);
  return { username, name, practitionerId: practitioner.id!, organizationId, headers };
}

/** A citizen account for a patient, signed in (cookie and CSRF headers). */
export async function makeCitizen(
  p: TestPlatform,
  name: string,
  patientId: string,
): Promise<{ username: string; accountId: string; headers: Record<string, string> }> {
  const username = `citizen.${++n}.${Date.now() % 100000}`;
  const account = await p.accounts.create({ username, displayName: name, kind: 'citizen', password: DEMO_PASSWORD, patientId, roles: [] });
  return { username, accountId: account.id, headers: await signIn(p, username) };
}

/** The video domain's own tables, as the platform sees them (rooms, links, attendance). */
export function videoTables(p: TestPlatform): Repository {
  return p.store.system('test: video room state', 'video');
}

/** A case-conference meeting: a teleconsultation Appointment with a chair (PPRF), members, and a site's bridge point. */
export async function makeMeeting(
  p: TestPlatform,
  chair: Staff,
  siteOrganizationId: string,
  members: string[] = [],
): Promise<{ meeting: Appointment; bridge: Location }> {
  const bridge = await p.fixtures.create<Location>({
    resourceType: 'Location',
    status: 'active',
    name: 'Điểm cầu Trạm Y tế xã Bát Xát',
    mode: 'instance',
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'VR', display: 'virtual' }] }],
    managingOrganization: { reference: `Organization/${siteOrganizationId}` },
  });
  const meeting = await p.fixtures.create<Appointment>({
    resourceType: 'Appointment',
    status: 'booked',
    description: 'Phiên hội chẩn tim mạch',
    serviceCategory: [{ coding: [CONSULT_CATEGORY] }],
    start: new Date().toISOString(),
    end: new Date(Date.now() + 3_600_000).toISOString(),
    participant: [
      {
        type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PPRF' }] }],
        actor: { reference: `Practitioner/${chair.practitionerId}` },
        status: 'accepted',
      },
      ...members.map((id) => ({ actor: { reference: `Practitioner/${id}` }, status: 'accepted' as const })),
      { actor: { reference: `Location/${bridge.id}` }, status: 'accepted' },
    ],
  });
  return { meeting, bridge };
}

/** A signalling client, as the room page is (cookie or an app's token). */
export interface Client {
  ws: WebSocket;
  messages: any[];
  next(type: string, timeoutMs?: number): Promise<any>;
  send(msg: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
}

export function connect(base: string, path: string, cookie?: string, authorization?: string): Client {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${path}`, {
    headers: { ...(cookie ? { cookie } : {}), ...(authorization ? { authorization } : {}) },
  });
  const messages: any[] = [];
  // next(type) returns that type's messages one after another, waiting for the next if needed.
  const taken = new Map<string, number>();
  const waiters: { type: string; index: number; resolve: (m: any) => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    messages.push(m);
    const index = messages.filter((x) => x.type === m.type).length - 1;
    for (const w of waiters.filter((w) => w.type === m.type && w.index === index)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return {
    ws,
    messages,
    closed,
    next(type, timeoutMs = 5000) {
      const index = taken.get(type) ?? 0;
      taken.set(type, index + 1);
      const have = messages.filter((m) => m.type === type)[index];
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${type} #${index + 1} within ${timeoutMs} ms; got ${messages.map((m) => m.type).join(', ')}`)),
          timeoutMs,
        );
        waiters.push({ type, index, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
    send(msg) {
      ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
    },
  };
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
    await page.waitForFunction(
      () =>
        ((document.querySelector('.precall video') as HTMLVideoElement | null)?.srcObject as MediaStream | null)?.getVideoTracks()[0]?.getSettings().height ===
        720,
    );
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
