/**
 * Video on loopback with Chromium's fake camera: time from the click on "join" to the first decoded
 * remote frame (median of N joins, peer-to-peer and through Janus), and how many concurrent 720p
 * publishers one Janus forwards to every other participant before frames drop.
 *
 * Everything runs on this machine's 2 cores: Chromium encodes and decodes every stream while Janus
 * forwards them, so the capacity row measures the whole loop; the Janus CPU column shows how much
 * of it is the SFU.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { seedDemo } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { contextFor, decoded, join, makeStaff, timeToFirstFrame, waitDecodingAll, type Staff } from '../src/testing/video.ts';

export interface VideoResult {
  firstFrameP2p: number[];
  firstFrameSfu: number[];
  capacity: { publishers: number; streams: number; fpsRatio: number; sentFps: number; janusCpu: number; totalCpu: number; steppedDown: number }[];
  maxTried: number;
  maxClean: number;
}

/** CPU seconds used so far by processes whose command line matches. */
function cpuSeconds(match: (cmd: string) => boolean): number {
  const hz = 100;
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!match(cmd)) continue;
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      total += (Number(f[11]) + Number(f[12])) / hz;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/**
 * Frames sent per second by this page's publisher and decoded per second per subscription. With
 * simulcast each layer is its own outbound stream and a viewer gets one of them: "sent" is the
 * busiest layer's rate, not their sum.
 */
async function rates(page: Page, ms: number): Promise<{ sent: number; decoded: number[] }> {
  const sentNow = () =>
    page.evaluate(async () => {
      const c = window.__call as unknown as { publisher?: { pc: RTCPeerConnection } };
      const perLayer: Record<string, number> = {};
      if (!c.publisher) return perLayer;
      (await c.publisher.pc.getStats()).forEach((r: any) => {
        if (r.type === 'outbound-rtp' && r.kind === 'video') perLayer[r.rid ?? '-'] = r.framesSent ?? 0;
      });
      return perLayer;
    });
  const [s0, d0] = [await sentNow(), await decoded(page)];
  await page.waitForTimeout(ms);
  const [s1, d1] = [await sentNow(), await decoded(page)];
  const sent = Math.max(0, ...Object.keys(s1).map((rid) => s1[rid] - (s0[rid] ?? 0)));
  return { sent: (sent * 1000) / ms, decoded: Object.keys(d1).map((k) => ((d1[k].framesDecoded - (d0[k]?.framesDecoded ?? 0)) * 1000) / ms) };
}

export async function benchVideo(opts: { joins: number; maxPublishers: number; log: (m: string) => void }): Promise<VideoResult> {
  const dataDir = mkdtempSync(pathJoin(tmpdir(), 'cauyte-bench-video-'));
  let p: TestPlatform | undefined;
  let browser: Browser | undefined;
  try {
    p = await startTestPlatform('pglite', { CAUYTE_JANUS: 'auto', CAUYTE_DATA_DIR: dataDir }, undefined, { domains: ['video'] });
    if (!p.janus.length) throw new Error('janus is not installed (apt-get install janus)');
    const demo = await seedDemo(p.store, 2);
    const base = await p.listen();
    browser = await launchBrowser({ media: true });
    const orgs = Object.values(demo.ids.organizations);
    const staff: Staff[] = [];
    for (let i = 0; i < Math.max(2, opts.maxPublishers); i++) staff.push(await makeStaff(p, `BS ${i}`, orgs[i % orgs.length]));
    const open = async (invited: Staff[], large: boolean) =>
      (
        await call(
          p!,
          'POST',
          '/api/video/rooms',
          { kind: 'adhoc', title: 'bench', invitePractitionerIds: invited.map((s) => s.practitionerId), large },
          { ...staff[0].headers, 'content-type': 'application/json' },
        )
      ).body.id as string;

    const firstFrame = async (large: boolean): Promise<number[]> => {
      const room = await open([staff[1]], large);
      const host = await (await contextFor(browser!, base, staff[0])).newPage();
      await join(host, `${base}/call/${room}`);
      const times: number[] = [];
      for (let i = 0; i < opts.joins; i++) {
        const ctx = await contextFor(browser!, base, staff[1]);
        const page = await ctx.newPage();
        await join(page, `${base}/call/${room}`, { measure: true });
        times.push(await timeToFirstFrame(page));
        await page.getByRole('button', { name: 'Rời phòng' }).click();
        await ctx.close();
        await host.waitForTimeout(300); // let the room settle before the next join
      }
      await host.context().close();
      return times;
    };
    opts.log('video: first frame, peer-to-peer');
    const firstFrameP2p = await firstFrame(false);
    opts.log('video: first frame, through Janus');
    const firstFrameSfu = await firstFrame(true);

    const capacity: VideoResult['capacity'] = [];
    let maxClean = 0;
    for (let n = 2; n <= opts.maxPublishers; n++) {
      opts.log(`video: ${n} publishers at 720p through Janus`);
      const room = await open(staff.slice(1, n), true);
      const pages: Page[] = [];
      for (const s of staff.slice(0, n)) {
        const page = await (await contextFor(browser, base, s)).newPage();
        await join(page, `${base}/call/${room}`, { hd: true });
        pages.push(page);
      }
      const ids: string[] = [];
      for (const pg of pages)
        ids.push((await (await pg.waitForFunction(() => window.__call?.me.value?.id, undefined, { timeout: 60_000 })).jsonValue()) as string);
      // Past the ramp-up; a subscription that never decodes counts as 0 fps below.
      for (const [i, pg] of pages.entries())
        await waitDecodingAll(
          pg,
          ids.filter((_, j) => j !== i),
          30_000,
        ).catch(() => undefined);
      await pages[0].waitForTimeout(3000);
      const janus0 = cpuSeconds((c) => c.startsWith('/usr/bin/janus') && c.includes(dataDir));
      const all0 = cpuSeconds(() => true);
      const t0 = Date.now();
      const measured = await Promise.all(pages.map((pg) => rates(pg, 5000)));
      const secs = (Date.now() - t0) / 1000;
      const janusCpu = (cpuSeconds((c) => c.startsWith('/usr/bin/janus') && c.includes(dataDir)) - janus0) / secs;
      const totalCpu = (cpuSeconds(() => true) - all0) / secs;
      const sentAvg = measured.reduce((a, m) => a + m.sent, 0) / measured.length;
      const decodedAll = measured.flatMap((m) => m.decoded);
      const fpsRatio = decodedAll.reduce((a, b) => a + b, 0) / decodedAll.length / sentAvg;
      // Publishers whose own uplink estimate made them step down (low resolution or audio only).
      const levels = await Promise.all(pages.map((pg) => pg.evaluate(() => window.__call!.sendLevel.value)));
      capacity.push({
        publishers: n,
        streams: n * (n - 1),
        fpsRatio,
        sentFps: sentAvg,
        janusCpu,
        totalCpu,
        steppedDown: levels.filter((l) => l !== 'full').length,
      });
      for (const pg of pages) await pg.context().close();
      if (fpsRatio >= 0.9) maxClean = n;
      else break; // frames are dropping: the limit on this machine
    }
    return { firstFrameP2p, firstFrameSfu, capacity, maxClean, maxTried: opts.maxPublishers };
  } finally {
    await browser?.close();
    await p?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
