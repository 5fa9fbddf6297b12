/**
 * Live events reach the right people over Server-Sent Events, and nobody else: the receiving
 * hospital's clinical staff, not an unrelated facility, not the facility's administrator; never an
 * app's token, however scoped; and an open stream ends when its session ends, the account is
 * disabled or its role changes (checked every 10 s).
 */
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, DEMO_PASSWORD, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { chestPainConsult } from '../testing/consults.ts';

interface Stream {
  events: string[];
  ended: () => boolean;
  close: () => void;
}

async function openStream(url: string, headers: Record<string, string>): Promise<Stream> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v)), signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const events: string[] = [];
  let ended = false;
  (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) events.push(decoder.decode(chunk));
    } catch {
      // aborted
    }
    ended = true;
  })();
  return { events, ended: () => ended, close: () => controller.abort() };
}

describe.each(DB_KINDS)('live events on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let n = 0;
  beforeAll(async () => {
    p = await startTestPlatform(kind);
    demo = await seedDemo(p.store, 4);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
  });
  afterAll(async () => p?.close());

  const session = (username: string) => signIn(p, username, accounts.get(username)!.totpSecret);
  /** A staff account of its own (to disable or move), signed in. */
  async function staff(role: 'specialist' | 'facility_admin', org: string, practitionerId?: string) {
    const totpSecret = new Secret({ size: 20 }).base32;
    const username = `su-kien.${kind}.${++n}`;
    const account = await p.accounts.create({
      username,
      displayName: 'Nhân viên',
      kind: 'staff',
      password: DEMO_PASSWORD,
      practitionerId,
      roles: [{ role, organizationId: org }],
      totpSecret,
    });
    return { account, headers: await signIn(p, username, totpSecret) };
  }
  const newConsult = async () => {
    const res = await call(
      p,
      'POST',
      '/api/consults',
      chestPainConsult(demo, {
        reason: 'Đau ngực',
        summary: { history: 'Đau ngực 2 giờ', findings: 'ECG ST chênh', treatment: 'Aspirin', question: 'Chuyển tuyến?' },
      }),
      { ...(await session('bs.batxat')), 'content-type': 'application/json' },
    );
    expect(res.status, res.text).toBe(201);
    return res.body.caseId as string;
  };

  it('tells the receiving hospital’s clinical staff about a new request; not an unrelated facility, not its administrator', async () => {
    const base = await p.listen();
    const receiver = await openStream(`${base}/api/events`, await session('bs.bachmai'));
    const other = await openStream(`${base}/api/events`, (await staff('specialist', demo.ids.organizations.dienbien, demo.ids.practitioners[5])).headers);
    const admin = await openStream(`${base}/api/events`, (await staff('facility_admin', demo.ids.organizations.bachmai)).headers);
    const caseId = await newConsult();
    await expect.poll(() => receiver.events.join(''), { timeout: 5000 }).toContain('event: consult.new');
    expect(receiver.events.join('')).toContain(caseId);
    expect(receiver.events.join('')).not.toContain('Đau ngực'); // ids only, never clinical text
    await new Promise((r) => setTimeout(r, 300));
    expect(other.events.join('')).not.toContain('consult.new');
    expect(admin.events.join('')).not.toContain('consult.new');
    for (const s of [receiver, other, admin]) s.close();
  });

  it('refuses an app token the inbox and the stream, whatever its scopes', async () => {
    const token = await p.tokenFor('specialist', { org: demo.ids.organizations.bachmai, practitioner: demo.ids.practitioners[0] });
    const bearer = { authorization: `Bearer ${token}` };
    for (const url of ['/api/events', '/api/notifications', '/api/notifications/count']) {
      const r = await call(p, 'GET', url, undefined, bearer);
      expect(r.status, url).toBe(403);
    }
    expect((await call(p, 'POST', '/api/notifications/read-all', undefined, bearer)).status).toBe(403);
    // The same person signed in has them.
    expect((await call(p, 'GET', '/api/notifications/count', undefined, await session('bs.bachmai'))).status).toBe(200);
  });

  it('ends an open stream when its session is signed out, its account disabled, or its role moved', async () => {
    const base = await p.listen();
    const out = await staff('specialist', demo.ids.organizations.bachmai);
    const disabled = await staff('specialist', demo.ids.organizations.bachmai);
    const moved = await staff('specialist', demo.ids.organizations.bachmai);
    const kept = await staff('specialist', demo.ids.organizations.bachmai);
    const streams = {
      out: await openStream(`${base}/api/events`, out.headers),
      disabled: await openStream(`${base}/api/events`, disabled.headers),
      moved: await openStream(`${base}/api/events`, moved.headers),
      kept: await openStream(`${base}/api/events`, kept.headers),
    };
    expect((await call(p, 'POST', '/api/auth/logout', undefined, out.headers)).status).toBe(200);
    await p.accounts.disable(disabled.account.id, 'admin');
    await p.accounts.setRoles(moved.account.id, [{ role: 'specialist', organizationId: demo.ids.organizations.dienbien }]);
    for (const name of ['out', 'disabled', 'moved'] as const) await expect.poll(() => streams[name].ended(), { timeout: 15_000, message: name }).toBe(true);
    expect(streams.kept.ended()).toBe(false);
    // What the ended streams would have received now goes to the one still open only.
    const caseId = await newConsult();
    await expect.poll(() => streams.kept.events.join(''), { timeout: 5000 }).toContain(caseId);
    for (const name of ['out', 'disabled', 'moved'] as const) expect(streams[name].events.join(''), name).not.toContain(caseId);
    streams.kept.close();
  }, 30_000);
});
