/**
 * The notification inbox through the HTTP API: when a specialist signs a conclusion recommending
 * transfer, the requesting clinician's unread count goes up with an urgent notification, as it does
 * for the other clinical staff of the requesting station; read state is per person; a clinician of
 * another facility, and a facility administrator (no clinical reach), see none of it and cannot
 * mark it read (404).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, DEMO_PASSWORD, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import type { NotificationCount, NotificationItem } from './contract.ts';
import { chestPainConsult } from '../testing/consults.ts';

describe.each(DB_KINDS)('notification inbox on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  const who: Record<string, Record<string, string>> = {};
  const json = { 'content-type': 'application/json' };
  const as = (h: Record<string, string>) => ({ ...h, ...json });
  const count = async (name: string) => (await call<NotificationCount>(p, 'GET', '/api/notifications/count', undefined, who[name])).body;
  const list = async (name: string) => (await call<NotificationItem[]>(p, 'GET', '/api/notifications', undefined, who[name])).body;

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: ['consult'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    const totp = accounts.get('bs.batxat')!.totpSecret;
    const staff = (username: string, role: 'commune_clinician' | 'facility_admin', org: string, practitionerId?: string) =>
      p.accounts.create({
        username,
        displayName: username,
        kind: 'staff',
        password: DEMO_PASSWORD,
        practitionerId,
        roles: [{ role, organizationId: org }],
        totpSecret: totp,
      });
    await staff('ys.batxat', 'commune_clinician', demo.ids.organizations.batxat);
    await staff('quantri.batxat', 'facility_admin', demo.ids.organizations.batxat);
    await staff('bs.muongnhe', 'commune_clinician', demo.ids.organizations.muongnhe, demo.ids.practitioners[8]);
    who.requester = await signIn(p, 'bs.batxat', totp);
    who.colleague = await signIn(p, 'ys.batxat', totp);
    who.admin = await signIn(p, 'quantri.batxat', totp);
    who.stranger = await signIn(p, 'bs.muongnhe', totp);
    who.specialist = await signIn(p, 'bs.bachmai', accounts.get('bs.bachmai')!.totpSecret);
  }, 120_000);
  afterAll(async () => p?.close());

  it('raises the requester’s unread count with an urgent notice when a transfer is recommended, for those entitled only', async () => {
    const created = await call(p, 'POST', '/api/consults', chestPainConsult(demo, { reason: 'Đau ngực dữ dội, nghi nhồi máu cơ tim' }), as(who.requester));
    expect(created.status, created.text).toBe(201);
    const caseId = created.body.caseId as string;
    // The receiving hospital is told of the new request.
    expect((await list('specialist')).some((n) => n.link === `/consults/${caseId}`)).toBe(true);

    const before = await count('requester');
    const colleagueBefore = await count('colleague');
    const accept = await call(
      p,
      'POST',
      `/api/consults/${caseId}/triage`,
      { action: 'accept', specialistIds: [demo.ids.practitioners[0]] },
      as(who.specialist),
    );
    expect(accept.status, accept.text).toBe(200);
    const draft = await call(
      p,
      'PUT',
      `/api/consults/${caseId}/conclusion`,
      {
        assessment: 'Hội chứng vành cấp',
        diagnosis: { code: 'I20.9' },
        recommendations: 'Chuyển ngay lên tuyến trên',
        transfer: true,
        actionUrgency: 'emergency',
      },
      as(who.specialist),
    );
    expect(draft.status, draft.text).toBeLessThan(300);
    const signed = await call(p, 'POST', `/api/consults/${caseId}/conclusion/sign`, {}, as(who.specialist));
    expect(signed.status, signed.text).toBe(200);

    const after = await count('requester');
    expect(after.unread).toBeGreaterThan(before.unread);
    expect(after.urgent).toBeGreaterThan(before.urgent);
    const urgent = (await list('requester')).filter((n) => n.urgent && n.link === `/consults/${caseId}`);
    expect(urgent[0]).toMatchObject({ kind: 'consult', read_at: null, title: expect.stringMatching(/^KHẨN: .*chuyển người bệnh lên tuyến trên/) });
    // The station's other clinician on duty sees it too.
    expect((await count('colleague')).urgent).toBeGreaterThan(colleagueBefore.urgent);

    // Nobody else: another facility's clinician, or an administrator without clinical reach.
    for (const name of ['stranger', 'admin']) {
      expect((await list(name)).filter((n) => n.link === `/consults/${caseId}`)).toEqual([]);
      expect(await count(name)).toEqual({ unread: 0, urgent: 0 });
      const mark = await call(p, 'POST', `/api/notifications/${urgent[0].id}/read`, {}, as(who[name]));
      expect(mark.status).toBe(404);
    }

    // Read state is per person.
    for (const n of urgent) expect((await call(p, 'POST', `/api/notifications/${n.id}/read`, {}, as(who.requester))).status).toBe(200);
    expect((await count('requester')).urgent).toBe(before.urgent);
    expect((await count('colleague')).urgent).toBeGreaterThan(colleagueBefore.urgent);
    expect((await list('requester')).find((n) => n.id === urgent[0].id)?.read_at).toBeTruthy();
    const unreadOnly = await call<NotificationItem[]>(p, 'GET', '/api/notifications?unread=true', undefined, who.requester);
    expect(unreadOnly.body.some((n) => n.id === urgent[0].id)).toBe(false);
    expect((await call(p, 'POST', '/api/notifications/read-all', {}, as(who.colleague))).status).toBe(200);
    expect(await count('colleague')).toEqual({ unread: 0, urgent: 0 });
    expect((await call(p, 'POST', '/api/notifications/abc/read', {}, as(who.requester))).status).toBe(400);
  });
});
