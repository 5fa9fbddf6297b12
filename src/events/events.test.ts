/** Live events reach the right people over Server-Sent Events, and nobody else. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { chestPainConsult } from '../testing/consults.ts';

async function openStream(url: string, token: string): Promise<{ events: string[]; close: () => void }> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const events: string[] = [];
  (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) events.push(decoder.decode(chunk));
    } catch {
      // aborted
    }
  })();
  return { events, close: () => controller.abort() };
}

describe.each(DB_KINDS)('live events on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  beforeAll(async () => {
    p = await startTestPlatform(kind);
    demo = await seedDemo(p.store, 4);
    await createDemoAccounts(p.db, p.accounts, demo);
  });
  afterAll(async () => p?.close());

  it('tells the receiving hospital about a new request, and not an unrelated facility', async () => {
    const base = await p.listen();
    const receiver = await p.tokenFor('specialist', { org: demo.ids.organizations.bachmai, practitioner: demo.ids.practitioners[0] });
    const other = await p.tokenFor('specialist', { org: demo.ids.organizations.dienbien, practitioner: demo.ids.practitioners[5] });
    const requester = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });
    const a = await openStream(`${base}/api/events`, receiver);
    const b = await openStream(`${base}/api/events`, other);
    const res = await call(
      p,
      'POST',
      '/api/consults',
      chestPainConsult(demo, {
        reason: 'Đau ngực',
        summary: { history: 'Đau ngực 2 giờ', findings: 'ECG ST chênh', treatment: 'Aspirin', question: 'Chuyển tuyến?' },
      }),
      { authorization: `Bearer ${requester}`, 'content-type': 'application/json' },
    );
    expect(res.status, res.text).toBe(201);
    await expect.poll(() => a.events.join(''), { timeout: 5000 }).toContain('event: consult.new');
    expect(a.events.join('')).toContain(res.body.caseId);
    expect(a.events.join('')).not.toContain('Đau ngực'); // ids only, never clinical text
    await new Promise((r) => setTimeout(r, 300));
    expect(b.events.join('')).not.toContain('consult.new');
    a.close();
    b.close();
  });
});
