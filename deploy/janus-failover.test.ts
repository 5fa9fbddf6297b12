/**
 * Drill: a Janus is lost in the middle of a call (npm run test:cluster; needs /usr/bin/janus and
 * Chromium). Two Janus instances (JANUS_URL lists both), one platform, two clinicians in an SFU
 * room in Chromium with fake cameras. The Janus hosting the room is killed (SIGKILL, no restart):
 * the platform notices (its probe of /info fails), makes a room on the other Janus, points the
 * room there on the record (audited), and tells both pages to renegotiate; the pages publish and
 * subscribe again without a reload, and each decodes the other's video again. Prints the time from
 * the kill to frames decoded again on both pages.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { contextFor, decoded, join, makeStaff, myId, videoTables, waitDecodingAll, type Staff } from '../src/testing/video.ts';
import { JanusSupervisor } from '../src/video/janus.ts';

const WEB_BUILT = existsSync(new URL('../web/dist/index.html', import.meta.url));

describe('drill: a Janus lost during a call', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let dir: string;
  const janus: JanusSupervisor[] = [];
  const staff: Staff[] = [];

  beforeAll(async () => {
    // Loud, not skipped: this drill is part of the cluster suite that npm test runs.
    if (!JanusSupervisor.available()) throw new Error('the Janus drill needs /usr/bin/janus (apt-get install janus; .ci/run installs it)');
    if (!WEB_BUILT) throw new Error('the Janus drill needs the built web app (npx vite build; npm test builds it first)');
    dir = mkdtempSync(pathJoin(tmpdir(), 'cauyte-janus-drill-'));
    const urls: string[] = [];
    for (const name of ['janus-a', 'janus-b']) {
      const s = new JanusSupervisor(pathJoin(dir, name));
      janus.push(s);
      urls.push(await s.start());
    }
    mkdirSync('test-results', { recursive: true });
    p = await startTestPlatform(
      'pglite',
      { JANUS_URL: urls.join(','), CAUYTE_DATA_DIR: pathJoin(dir, 'data'), LOG_LEVEL: 'warn' },
      createWriteStream('test-results/janus-drill-server.log'),
      { domains: ['video'] },
    );
    const demo = await seedDemo(p.store, 2);
    base = await p.listen();
    browser = await launchBrowser({ media: true });
    const org = Object.values(demo.ids.organizations)[0];
    for (const name of ['Bác sĩ Trần Văn Hải', 'Bác sĩ Lê Thị Mai']) staff.push(await makeStaff(p, name, org));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await p?.close();
    for (const s of janus) await s.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'kill -9 the Janus hosting a room: the room moves to the other Janus and both pages decode each other again without a reload',
    { timeout: 180_000 },
    async () => {
      expect(p.janus.length).toBe(2);
      const r = await call(
        p,
        'POST',
        '/api/video/rooms',
        { kind: 'adhoc', title: 'Hội chẩn nhanh', invitePractitionerIds: [staff[1].practitionerId], large: true },
        { ...staff[0].headers, 'content-type': 'application/json' },
      );
      expect(r.status, r.text).toBe(201);
      const roomId = r.body.id as string;
      const before = await p.rooms.get(videoTables(p), roomId);
      expect(before.mode).toBe('sfu');
      const pages: Page[] = [];
      for (const s of staff) {
        const page = await (await contextFor(browser, base, s)).newPage();
        await join(page, `${base}/call/${roomId}`, { capKbps: 250 });
        pages.push(page);
      }
      const [a, b] = pages;
      const [ida, idb] = [await myId(a), await myId(b)];
      await waitDecodingAll(a, [idb], 60_000);
      await waitDecodingAll(b, [ida], 60_000);
      for (const page of pages) await page.evaluate(() => ((window as unknown as { loads: number }).loads = 1)); // gone if the page reloads

      // The Janus hosting the room crashes.
      const hosting = janus.findIndex((j) => j.url === before.janus_url);
      expect(hosting).toBeGreaterThanOrEqual(0);
      const killedAt = Date.now();
      janus[hosting].kill();

      // Each page decodes the other again: frames counted after the kill, on the new subscription.
      const resumed = async (page: Page, other: string): Promise<number> => {
        const deadline = killedAt + 60_000;
        let last = -1;
        while (Date.now() < deadline) {
          const now = (await decoded(page))[other]?.framesDecoded ?? 0;
          const moved = (await p.rooms.get(videoTables(p), roomId)).janus_url !== before.janus_url;
          if (moved && last >= 0 && now > last) return Date.now() - killedAt;
          last = moved ? now : -1;
          await page.waitForTimeout(200);
        }
        const links = await page.evaluate(async () => (window.__call ? await window.__call.report() : []));
        throw new Error(`no video decoded again within 60 s; connections: ${JSON.stringify(links)}`);
      };
      const [onA, onB] = await Promise.all([resumed(a, idb), resumed(b, ida)]);
      const after = await p.rooms.get(videoTables(p), roomId);
      expect(after.janus_url).toBe(janus[1 - hosting].url);
      expect(after.janus_room).not.toBeNull();
      // Audio too, and no page reloaded.
      const got = await waitDecodingAll(a, [idb], 20_000);
      expect(got[idb].audioPackets).toBeGreaterThan(0);
      for (const page of pages) expect(await page.evaluate(() => (window as unknown as { loads?: number }).loads)).toBe(1);
      // The move is on the record: one audit entry by the platform, naming instances by their place in JANUS_URL.
      const audit = await p.db.query<{ detail: { from: number; to: number } }>(
        "SELECT detail FROM audit_log WHERE action = 'video.media-moved' AND detail->>'room' = $1",
        [roomId],
      );
      expect(audit.rows.map((x) => x.detail)).toEqual([{ room: roomId, from: hosting + 1, to: 2 - hosting }]);
      console.log(
        `Janus drill: room moved from janus ${hosting + 1} to janus ${2 - hosting}; video decoded again ${onA} ms (page A) and ${onB} ms (page B) after the kill`,
      );
      await b.screenshot({ path: 'test-results/janus-drill-after.png' });
      for (const page of pages) await page.context().close();
    },
  );
});
