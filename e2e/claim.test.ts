/**
 * The hub's insurance claim for a concluded case conference, on the case page, in a real browser:
 * the receiving facility's coordinator sees what is missing (in Vietnamese, by column) while the
 * hub has no consultation service, and nothing can be sent; once the service is listed the claim
 * is ready, is signed and sent to the (fake) BHXH gateway, and the gateway's transaction code is
 * shown, and the case's timeline does not count the kept code as a step. The requesting station's clinician, on the same case, sees no claim at all (the server
 * refuses them too: src/formats/claims-consult.test.ts). Screenshots at 390 and 1366 px.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { seedFormatsDemo } from '../src/seed/formats.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { cardiologyConsult, consultationService } from '../src/testing/consults.ts';
import { startFacilityGateway, type FakeBhxh } from '../src/testing/fake-bhxh.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { shoot } from './shots.ts';
import { signInUi } from './ui.ts';

describe('the hub’s insurance claim on the case page', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let fake: FakeBhxh;
  let accounts: Map<string, DemoAccount>;
  const json = { 'content-type': 'application/json' };

  beforeAll(async () => {
    let env: Record<string, string>;
    ({ fake, env } = await startFacilityGateway('01001', { username: 'bv-bachmai', province: '01' }));
    p = await startTestPlatform('pglite', env, undefined, { domains: ['family', 'consult', 'chart', 'visits', 'formats'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    await seedFormatsDemo(p.store, demo);
    base = await p.listen();
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
    await fake?.close();
  });

  /** A case from Bát Xát to Bạch Mai, accepted and concluded by the hub's specialist, through the API. */
  async function concludedCase(): Promise<string> {
    const commune = { ...(await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret)), ...json };
    const specialist = { ...(await signIn(p, 'bs.bachmai', accounts.get('bs.bachmai')!.totpSecret)), ...json };
    const created = await call(p, 'POST', '/api/consults', cardiologyConsult(demo), commune);
    expect(created.status, created.text).toBe(201);
    const caseId = created.body.caseId as string;
    const steps: [string, string, unknown][] = [
      ['POST', `/api/consults/${caseId}/triage`, { action: 'accept', specialistIds: [demo.ids.practitioners[0]] }],
      [
        'PUT',
        `/api/consults/${caseId}/conclusion`,
        {
          assessment: 'Tăng huyết áp độ 2',
          diagnosis: { code: 'I10', display: 'Tăng huyết áp vô căn' },
          recommendations: 'Thêm lợi tiểu',
          transfer: false,
          actionUrgency: 'routine',
        },
      ],
      ['POST', `/api/consults/${caseId}/conclusion/sign`, {}],
    ];
    for (const [method, url, body] of steps) {
      const r = await call(p, method, url, body, specialist);
      expect(r.status, `${method} ${url}: ${r.text}`).toBe(200);
    }
    return caseId;
  }

  async function pageOf(username: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    await signInUi(page, base, username, accounts.get(username)!.totpSecret);
    return page;
  }

  it('lists what is missing in Vietnamese and offers no sending; the requesting station sees no claim', async () => {
    const caseId = await concludedCase();
    const coordinator = await pageOf('dieuphoi');
    await coordinator.goto(`${base}/consults/${caseId}`);
    const claim = coordinator.locator('section.claim');
    await expect.poll(() => claim.textContent(), { timeout: 30_000 }).toContain('Chưa đủ dữ liệu để ký và gửi');
    expect(await claim.textContent()).toContain('Mã dịch vụ hội chẩn');
    expect(await claim.getByRole('button', { name: 'Ký số và gửi cổng BHXH' }).count()).toBe(0);
    // The server's English detail is not shown on the Vietnamese page.
    expect(await claim.textContent()).not.toMatch(/no consultation service/);
    await shoot(coordinator, 'claim-missing');

    const station = await pageOf('bs.batxat');
    await station.goto(`${base}/consults/${caseId}`);
    await station.getByRole('heading', { level: 1 }).waitFor();
    await station.getByText('Tăng huyết áp độ 2').first().waitFor();
    expect(await station.locator('section.claim').count()).toBe(0);
  });

  it('once the hub lists its consultation service: ready, signed and sent once, the transaction code shown', async () => {
    await p.fixtures.create(consultationService(demo.ids.organizations.bachmai));
    const caseId = await concludedCase();
    const coordinator = await pageOf('dieuphoi');
    await coordinator.goto(`${base}/consults/${caseId}`);
    const claim = coordinator.locator('section.claim');
    await expect.poll(() => claim.textContent(), { timeout: 30_000 }).toContain('Đủ dữ liệu');
    await claim.getByRole('button', { name: 'Ký số và gửi cổng BHXH' }).click();
    await claim.getByRole('status').filter({ hasText: 'Đã ký và đưa vào hàng gửi cổng BHXH.' }).waitFor();
    // The queue's worker sends in the background; here it is run once, as its timer would.
    expect(await p.claimQueue.runOnce()).toEqual({ sent: 1, retried: 0, rejected: 0, failed: 0 });
    expect(fake.accepted.get(caseId)).toBe(1);
    await coordinator.reload();
    await expect.poll(() => claim.textContent(), { timeout: 30_000 }).toContain('Đã gửi thành công');
    expect(await claim.locator('dd code').textContent()).toMatch(/^GD\d{8}$/);
    expect(await claim.getByRole('button', { name: 'Ký số và gửi cổng BHXH' }).count()).toBe(0);
    // Keeping the transaction code on the case's Task is not a step of the case: the timeline shows the signing once.
    expect(await coordinator.getByText('Hoàn tất kết luận').count()).toBe(1);
    await shoot(coordinator, 'claim-sent');
  });
});
