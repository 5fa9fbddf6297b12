/**
 * Suite `weaklink`: the product over emulated weak links (src/testing/weaklink/). For each profile,
 * a clinician's Chromium inside the shaped namespace and a specialist's outside:
 * - first usable screen (cold cache: the patient search ready), a search answered, a chart opened;
 * - join → first audio packet and first decoded video frame from the other side;
 * - audio continuity (% of received audio not made up for loss) both ways over a stretch of call;
 * - recovery after a 5 s and a 10 s blackout (audio both ways; video both ways);
 * - how long the station's video stayed off at the specialist's side over the whole run.
 * Only the link's private addresses; medians where several samples are taken. Nothing asserted.
 * `--first-screen` (appOnly): only the app part, with each cold load's request waterfall logged
 * (resource timing inside the page) — the same definition of "first usable screen", no call.
 */
import type { Browser, Page } from 'playwright-core';
import { createDemoAccounts } from '../src/seed/accounts.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { call, signIn, startTestPlatform } from '../src/testing/platform.ts';
import { contextFor, join, makeStaff, myId } from '../src/testing/video.ts';
import { audioSent, browsersAcross, view, type CallView } from '../src/testing/weaklink/calls.ts';
import { openWeakLink } from '../src/testing/weaklink/link.ts';
import { PROFILES, type ProfileName } from '../src/testing/weaklink/profiles.ts';
import { fmt, median, rows } from './lib.ts';

export interface WeaklinkOptions {
  profiles: ProfileName[];
  /** Cold page loads per profile. */
  loads: number;
  /** Seconds of call over which audio continuity is measured. */
  callSeconds: number;
  /** Only the app part (first usable screen, search, chart) — no call (`--first-screen`). */
  appOnly?: boolean;
  /** Log each cold load's request waterfall (resource timing inside the page). */
  waterfall?: boolean;
  log: (msg: string) => void;
}

interface ProfileResult {
  firstScreen: number[];
  search: number[];
  chart: number[];
  firstAudio?: number;
  firstVideo?: number;
  continuity: { station: number; specialist: number };
  recovery: Record<number, { audio?: number; video?: number }>;
  videoOff: { seconds: number; of: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds from `start` until `ready` holds (polled), or undefined after `limitMs`. */
async function until(ready: () => Promise<boolean>, limitMs: number, start = performance.now()): Promise<number | undefined> {
  while (performance.now() - start < limitMs) {
    if (await ready()) return performance.now() - start;
    await sleep(200);
  }
  return undefined;
}

export async function benchWeaklink(opts: WeaklinkOptions): Promise<void> {
  const link = await openWeakLink('good');
  const p = await startTestPlatform('pglite', { HOST: link.hostAddress, LOG_LEVEL: 'warn' });
  let browsers: { outside: Browser; inside: Browser } | undefined;
  try {
    const demo = await seedDemo(p.store, 20);
    const doctor = (await createDemoAccounts(p.db, p.accounts, demo)).accounts.find((a) => a.username === 'bs.batxat')!;
    const doctorHeaders = await signIn(p, doctor.username, doctor.totpSecret);
    const base = await p.listen();
    browsers = await browsersAcross(link, base);
    const orgs = Object.values(demo.ids.organizations);
    const specialist = await makeStaff(p, 'Bác sĩ Trần Văn Tỉnh', orgs[0]);
    const station = await makeStaff(p, 'Y sĩ Lò Thị Xã', orgs[1 % orgs.length]);
    const results = new Map<ProfileName, ProfileResult>();
    for (const profile of opts.profiles) {
      opts.log(`weaklink: ${profile}`);
      await link.shape('good');
      const r: ProfileResult = {
        firstScreen: [],
        search: [],
        chart: [],
        continuity: { station: NaN, specialist: NaN },
        recovery: {},
        videoOff: { seconds: 0, of: 0 },
      };
      await link.shape(profile);
      // The clinician's app, cold: first usable screen, a search, a chart.
      for (let i = 0; i < opts.loads; i++) {
        const ctx = await browsers.inside.newContext({ viewport: { width: 1200, height: 900 } });
        await ctx.addCookies([{ name: 'cy_session', value: /cy_session=([^;]+)/.exec(doctorHeaders.cookie)![1], url: base }]);
        const page = await ctx.newPage();
        try {
          const t0 = performance.now();
          await page.goto(`${base}/`, { timeout: 180_000 });
          await page.locator('input[type=search]').waitFor({ timeout: 180_000 });
          r.firstScreen.push(performance.now() - t0);
          if (opts.waterfall) opts.log(`weaklink: ${profile} load ${i + 1}: ${fmt(r.firstScreen.at(-1)!)} ms; ${await waterfall(page)}`);
          const t1 = performance.now();
          await page.fill('input[type=search]', 'nguyen');
          await page.waitForURL(/\?q=nguyen$/, { timeout: 120_000 });
          r.search.push(performance.now() - t1);
          const t2 = performance.now();
          await page.locator('.patient-card').first().click();
          await page.waitForSelector('.facts', { timeout: 120_000 });
          r.chart.push(performance.now() - t2);
        } catch (err) {
          opts.log(`weaklink: ${profile} app load failed: ${(err as Error).message.split('\n')[0]}`);
        } finally {
          await ctx.close();
        }
      }
      if (opts.appOnly) {
        results.set(profile, r);
        continue;
      }
      // A call: the specialist outside joins first; the station joins over the link (pages loaded on a good link).
      await link.shape('good');
      const room = await call(
        p,
        'POST',
        '/api/video/rooms',
        { kind: 'adhoc', title: 'Hội chẩn đo đường truyền', invitePractitionerIds: [station.practitionerId] },
        { ...specialist.headers, 'content-type': 'application/json' },
      );
      const a = await (await contextFor(browsers.outside, base, specialist)).newPage();
      const b = await (await contextFor(browsers.inside, base, station)).newPage();
      try {
        await join(a, `${base}/call/${room.body.id}`);
        const ida = await myId(a);
        await b.goto(`${base}/call/${room.body.id}`);
        await b.getByRole('button', { name: /^(Vào phòng|Join)$/ }).waitFor();
        await b.waitForFunction(() => !(document.querySelector('.precall button.primary') as HTMLButtonElement | null)?.disabled);
        await link.shape(profile);
        const clicked = performance.now();
        await b.getByRole('button', { name: /^(Vào phòng|Join)$/ }).click();
        const idb = await myId(b);
        const fromA = async () => (await view(b)).from[ida];
        r.firstAudio = await until(async () => ((await fromA())?.audioPackets ?? 0) > 0, 60_000, clicked);
        r.firstVideo = await until(async () => ((await fromA())?.framesDecoded ?? 0) > 0, 60_000, clicked);
        // The rest of the run is sampled once a second: audio continuity, then the blackouts.
        const samples: { a: CallView; b: CallView }[] = [];
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            samples.push({ a: await view(a), b: await view(b) });
            await sleep(1000);
          }
        })();
        const c0 = { a: await view(a), b: await view(b) };
        await sleep(opts.callSeconds * 1000);
        const c1 = { a: await view(a), b: await view(b) };
        const continuity = (x0: CallView, x1: CallView, id: string) => {
          const made = (x1.from[id]?.concealed ?? 0) - (x0.from[id]?.concealed ?? 0);
          const all = (x1.from[id]?.samples ?? 0) - (x0.from[id]?.samples ?? 0);
          return all > 0 ? (1 - made / all) * 100 : 0;
        };
        r.continuity = { station: continuity(c0.b, c1.b, ida), specialist: continuity(c0.a, c1.a, idb) };
        const sent = async (x: Page) => (await audioSent(x)).map((s) => `${s.codec ?? '?'} ${fmt(s.bytesPerPacket)} B/packet`).join(', ');
        opts.log(`weaklink: ${profile} audio sent by the station: ${await sent(b)}; by the specialist: ${await sent(a)}`);
        for (const ms of [5000, 10_000]) {
          await link.blackout(ms);
          const [va, vb] = [await view(a), await view(b)];
          const back = performance.now();
          const audio = until(
            async () =>
              ((await view(a)).from[idb]?.audioPackets ?? 0) > (va.from[idb]?.audioPackets ?? 0) &&
              ((await view(b)).from[ida]?.audioPackets ?? 0) > (vb.from[ida]?.audioPackets ?? 0),
            60_000,
            back,
          );
          const video = until(
            async () =>
              ((await view(a)).from[idb]?.framesDecoded ?? 0) > (va.from[idb]?.framesDecoded ?? 0) &&
              ((await view(b)).from[ida]?.framesDecoded ?? 0) > (vb.from[ida]?.framesDecoded ?? 0),
            30_000,
            back,
          );
          r.recovery[ms] = { audio: await audio, video: await video };
          await sleep(5000);
        }
        sampling = false;
        await sampler;
        // Video off at the specialist's side: seconds in which no new frame came from the station.
        for (let i = 1; i < samples.length; i++) {
          if ((samples[i].a.from[idb]?.framesDecoded ?? 0) <= (samples[i - 1].a.from[idb]?.framesDecoded ?? 0)) r.videoOff.seconds++;
        }
        r.videoOff.of = Math.max(0, samples.length - 1);
        opts.log(`weaklink: ${profile} station levels ${samples.map((s) => s.b.level[0]).join('')}`);
      } finally {
        await a.context().close();
        await b.context().close();
      }
      results.set(profile, r);
    }
    report(results, opts);
  } finally {
    await browsers?.outside.close();
    await browsers?.inside.close();
    await p.close();
    await link.close();
  }
}

/** The page's requests so far: path, start → end (ms since navigation start), bytes on the wire, protocol. */
async function waterfall(page: Page): Promise<string> {
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const all = [nav, ...(performance.getEntriesByType('resource') as PerformanceResourceTiming[])];
    return all
      .map(
        (e) =>
          `${new URL(e.name).pathname.replace(/-[\w-]{8}\./, '.')} ${Math.round(e.startTime)}→${Math.round(e.responseEnd)} ${e.transferSize} B ${e.nextHopProtocol}`,
      )
      .join('; ');
  });
}

function describeProfile(name: ProfileName): string {
  const c = PROFILES[name];
  return `${c.rateKbps === null ? 'unshaped' : `${c.rateKbps} kbit/s`}, ${c.delayMs * 2} ms RTT, ${fmt(c.loss * 100, 1)} % loss`;
}

function report(results: Map<ProfileName, ProfileResult>, opts: WeaklinkOptions): void {
  const ms = (x: number | undefined) => (x === undefined ? 'never' : fmt(x));
  for (const [name, r] of results) {
    const head = `weaklink ${name} (${describeProfile(name)})`;
    const med = (xs: number[]) => (xs.length ? `${fmt(median(xs))} (${xs.map((x) => fmt(x)).join(', ')})` : 'failed');
    rows.push({
      benchmark: `${head}: clinician's first usable screen, cold`,
      db: 'pglite',
      value: med(r.firstScreen),
      unit: 'ms',
      note: `${r.firstScreen.length} of ${opts.loads} loads; target ≤ 6,000 ms at mountain-edge`,
    });
    if (r.firstAudio === undefined && !Object.keys(r.recovery).length && r.videoOff.of === 0) {
      rows.push({ benchmark: `${head}: patient search answered`, db: 'pglite', value: med(r.search), unit: 'ms' });
      rows.push({ benchmark: `${head}: chart opened`, db: 'pglite', value: med(r.chart), unit: 'ms', note: 'first-screen mode: no call' });
      continue;
    }
    rows.push({ benchmark: `${head}: patient search answered`, db: 'pglite', value: med(r.search), unit: 'ms' });
    rows.push({ benchmark: `${head}: chart opened`, db: 'pglite', value: med(r.chart), unit: 'ms' });
    rows.push({
      benchmark: `${head}: join → first audio / first video frame`,
      db: 'pglite',
      value: `${ms(r.firstAudio)} / ${ms(r.firstVideo)}`,
      unit: 'ms',
      note: 'one join, at the station (inside)',
    });
    rows.push({
      benchmark: `${head}: audio continuity (station receives / specialist receives)`,
      db: '-',
      value: `${fmt(r.continuity.station, 1)} / ${fmt(r.continuity.specialist, 1)}`,
      unit: '%',
      note: `${opts.callSeconds} s of call; share of 20 ms frames not concealed; target ≥ 95 % at mountain-edge`,
    });
    for (const [blackout, x] of Object.entries(r.recovery)) {
      rows.push({
        benchmark: `${head}: recovery after a ${Number(blackout) / 1000} s blackout (audio / video, both ways)`,
        db: '-',
        value: `${ms(x.audio)} / ${ms(x.video)}`,
        unit: 'ms',
        note: 'from the end of the blackout; target ≤ 5,000 ms after 5 s',
      });
    }
    rows.push({
      benchmark: `${head}: station's video off at the specialist`,
      db: '-',
      value: `${r.videoOff.seconds} of ${r.videoOff.of}`,
      unit: 's',
      note: 'seconds with no new frame, incl. the blackouts',
    });
  }
}
