/**
 * A citizen's "who accessed my record" page holds up: others' accesses, refused attempts and the
 * citizen's own actions each have their own share, so a flood of refused attempts (anyone can make
 * them) or one's own use cannot push a clinician's read off the page; older entries come by `before`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, DEMO_PASSWORD } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import type { AccessLogEntry } from './contract.ts';

describe('the citizen’s access log', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: [] });
    demo = await seedDemo(p.store, 4);
    await createDemoAccounts(p.db, p.accounts, demo);
  });
  afterAll(async () => p?.close());

  it('keeps a clinician’s read on the page through 60 refused attempts and 60 of the citizen’s own reads, and pages back', async () => {
    const an = demo.ids.patients[0];
    const citizen = await signIn(p, 'nguoidan');
    const clinician = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });
    expect((await call(p, 'GET', `/fhir/R4/Patient/${an}`, undefined, { authorization: `Bearer ${clinician}` })).status).toBe(200);
    await p.accounts.create({
      username: 'hangxom',
      displayName: 'Hàng xóm',
      kind: 'citizen',
      password: DEMO_PASSWORD,
      patientId: demo.ids.patients[1],
      roles: [],
    });
    const neighbour = await signIn(p, 'hangxom');
    for (let i = 0; i < 60; i++) expect((await call(p, 'GET', `/api/me/access-log?patientId=${an}`, undefined, neighbour)).status).toBe(403);
    for (let i = 0; i < 60; i++) expect((await call(p, 'GET', `/fhir/R4/Patient/${an}`, undefined, citizen)).status).toBe(200);

    const page = (await call<AccessLogEntry[]>(p, 'GET', '/api/me/access-log', undefined, citizen)).body;
    expect(
      page.filter((e) => !e.self && e.outcome === 'success' && e.role === 'commune_clinician' && e.action === 'read' && e.resourceType === 'Patient'),
    ).toHaveLength(1);
    expect(page.filter((e) => !e.self && e.outcome !== 'success')).toHaveLength(50);
    expect(page.filter((e) => e.self)).toHaveLength(50);
    const ids = page.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a)); // newest first

    // Older than the oldest shown: the rest of the refused attempts and the citizen's own reads.
    const before = Math.min(...ids);
    const older = (await call<AccessLogEntry[]>(p, 'GET', `/api/me/access-log?before=${before}`, undefined, citizen)).body;
    expect(older.every((e) => e.id < before)).toBe(true);
    expect((await call(p, 'GET', '/api/me/access-log?before=abc', undefined, citizen)).status).toBe(400);
  });
});
