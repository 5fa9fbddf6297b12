/**
 * Calls over a real (emulated) weak link: one Chromium inside a network namespace whose link is
 * shaped to the mountain-edge profile (120 kbit/s, 600 ms round trip, 3 % loss), one outside.
 * Audio keeps flowing both ways and both sides show the step-down (one level at a time); video
 * comes back by itself on a good link (the bug of issue #20: an audio-only sender never did);
 * after a 5 s blackout audio and video resume without a reload. Then a 4-party meeting through
 * Janus with the station still at mountain-edge: the three others keep sending the full picture,
 * keep decoding each other, receive each other at the full picture's size and keep hearing the station.
 * Fails — never skips — when the weak link cannot be made here (needs root and iproute2).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/seed/demo.ts';
import { call, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { audioSent, browsersAcross, fullWidth, view, type CallView } from '../src/testing/weaklink/calls.ts';
import { openWeakLink, type WeakLink } from '../src/testing/weaklink/link.ts';
import { contextFor, join, makeStaff, myId, waitDecodingAll, type Staff } from '../src/testing/video.ts';
import { shoot } from './shots.ts';

describe('a 1:1 call over an emulated weak link (one browser inside the shaped namespace, one outside)', () => {
  let link: WeakLink;
  let dataDir: string;
  let p: TestPlatform;
  let base: string;
  let outside: Browser;
  let inside: Browser;
  const staff: Staff[] = [];
  let a: Page; // outside: a specialist at the provincial hospital
  let b: Page; // inside: the commune station on the weak link
  let ida: string;
  let idb: string;

  beforeAll(async () => {
    link = await openWeakLink('good'); // throws with the reason when namespaces cannot be made
    dataDir = mkdtempSync(pathJoin(tmpdir(), 'cauyte-weaklink-'));
    // Janus (the 4-party meeting) gathers ICE on loopback and on the host's end of the link.
    p = await startTestPlatform(
      'pglite',
      { HOST: link.hostAddress, LOG_LEVEL: 'warn', CAUYTE_JANUS: 'auto', CAUYTE_JANUS_ICE: `lo,${link.hostInterface}`, CAUYTE_DATA_DIR: dataDir },
      undefined,
      { domains: ['video'] },
    );
    const demo = await seedDemo(p.store, 4);
    base = await p.listen();
    expect(base).toContain(link.hostAddress);
    ({ outside, inside } = await browsersAcross(link, base));
    const orgs = Object.values(demo.ids.organizations);
    staff.push(await makeStaff(p, 'Bác sĩ Trần Văn Tỉnh', orgs[0]));
    staff.push(await makeStaff(p, 'Y sĩ Lò Thị Xã', orgs[1 % orgs.length]));
    staff.push(await makeStaff(p, 'Bác sĩ Phạm Thị Huyện', orgs[2 % orgs.length]));
    staff.push(await makeStaff(p, 'Bác sĩ Vũ Văn Trung Ương', orgs[3 % orgs.length]));
    const r = await call(
      p,
      'POST',
      '/api/video/rooms',
      { kind: 'adhoc', title: 'Hội chẩn từ trạm y tế xã', invitePractitionerIds: [staff[1].practitionerId] },
      { ...staff[0].headers, 'content-type': 'application/json' },
    );
    expect(r.status, r.text).toBe(201);
    a = await (await contextFor(outside, base, staff[0])).newPage();
    b = await (await contextFor(inside, base, staff[1])).newPage();
    // The page loads on a good link (the first-screen time at each profile is the benchmark's).
    await join(a, `${base}/call/${r.body.id}`);
    await join(b, `${base}/call/${r.body.id}`);
    [ida, idb] = [await myId(a), await myId(b)];
    await waitDecodingAll(a, [idb], 60_000);
    await waitDecodingAll(b, [ida], 60_000);
    await b.evaluate(() => ((window as unknown as { loads: number }).loads = 1)); // gone if the page reloads
  }, 240_000);

  afterAll(async () => {
    await outside?.close();
    await inside?.close();
    await p?.close();
    await link?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Samples both pages every second for `ms` (or until `until` holds), keeping everything seen. */
  async function watch(ms: number, until?: (va: CallView, vb: CallView) => boolean): Promise<{ a: CallView[]; b: CallView[] }> {
    const seen = { a: [] as CallView[], b: [] as CallView[] };
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const [va, vb] = [await view(a), await view(b)];
      seen.a.push(va);
      seen.b.push(vb);
      if (until?.(va, vb)) break;
      await a.waitForTimeout(1000);
    }
    return seen;
  }

  /** Audio arrived in every stretch of `span` samples (≈ seconds) of what was watched. */
  function audioKeptRising(views: CallView[], from: string, span: number): void {
    for (let i = span; i < views.length; i += span) {
      expect(views[i].from[from]?.audioPackets ?? 0, `no audio from ${from} between samples ${i - span} and ${i}`).toBeGreaterThan(
        views[i - span].from[from]?.audioPackets ?? 0,
      );
    }
  }

  const weakTile = (page: Page, id: string) => page.locator(`[data-member="${id}"][data-link="weak"]`);

  it('at mountain-edge audio keeps flowing both ways, and both sides show the step-down (through the low level, never straight to audio only)', async () => {
    await link.shape('mountain-edge');
    // Until the station's device has stepped down and the specialist's page shows its link as weak.
    const first = await watch(90_000, (_va, vb) => vb.level !== 'full');
    expect(first.b.at(-1)!.level, 'the station never stepped down').not.toBe('full');
    await weakTile(a, idb).waitFor({ timeout: 15_000 });
    // Keep watching at mountain-edge (it may go on down to audio only) — audio must keep arriving.
    const more = await watch(40_000);
    const all = { a: [...first.a, ...more.a], b: [...first.b, ...more.b] };
    audioKeptRising(all.a, idb, 5);
    audioKeptRising(all.b, ida, 5);
    // Audio comes as Opus RED both ways (each packet carries the previous frame again: sdp.ts).
    expect([...(await audioSent(a)), ...(await audioSent(b))].map((s) => s.codec)).toEqual(['audio/red', 'audio/red']);
    for (const side of [all.a, all.b]) {
      const levels = side.map((v) => v.level);
      const firstAudio = levels.indexOf('audio');
      if (firstAudio >= 0) expect(levels.slice(0, firstAudio), `straight from full to audio only: ${levels.join(' ')}`).toContain('low');
    }
    // The station's own page says so too.
    expect(await b.locator('section.call').getAttribute('data-level')).not.toBe('full');
    await shoot(a, 'weaklink-specialist-sees-weak-station');
    await shoot(b, 'weaklink-station-stepped-down');
    console.log(`mountain-edge levels — station: ${all.b.map((v) => v.level[0]).join('')}; specialist: ${all.a.map((v) => v.level[0]).join('')}`);
  }, 200_000);

  it('back on a good link, video from the station returns by itself within 30 s', async () => {
    // If the station is not yet audio only, let mountain-edge run until it is (or a minute passes).
    await watch(60_000, (_va, vb) => vb.level === 'audio');
    const before = (await view(a)).from[idb]?.framesDecoded ?? 0;
    const levelBefore = (await view(b)).level;
    await link.shape('good');
    const start = Date.now();
    await expect
      .poll(async () => (await view(a)).from[idb]?.framesDecoded ?? 0, {
        timeout: 30_000,
        interval: 1000,
        message: `no new frames from the station (was ${levelBefore})`,
      })
      .toBeGreaterThan(before + 10);
    // Frames can come from a trial that started while the link was still weak and fails (the
    // next trial follows within PROBE_MAX_MS): what counts is that video is back within the 30 s.
    await expect.poll(async () => (await view(b)).level, { timeout: Math.max(1000, start + 30_000 - Date.now()), interval: 1000 }).not.toBe('audio');
    console.log(`good link: station video back from ${levelBefore}`);
  }, 120_000);

  it('after a 5 s blackout, audio and video resume both ways without a reload within 10 s', async () => {
    // Video flowing both ways on a good link first.
    await expect.poll(async () => (await view(b)).from[ida]?.framesDecoded ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
    await link.blackout(5000);
    const [va, vb] = [await view(a), await view(b)];
    const resumed = async () => {
      const [na, nb] = [await view(a), await view(b)];
      return (
        (na.from[idb]?.audioPackets ?? 0) > (va.from[idb]?.audioPackets ?? 0) &&
        (nb.from[ida]?.audioPackets ?? 0) > (vb.from[ida]?.audioPackets ?? 0) &&
        (na.from[idb]?.framesDecoded ?? 0) > (va.from[idb]?.framesDecoded ?? 0) &&
        (nb.from[ida]?.framesDecoded ?? 0) > (vb.from[ida]?.framesDecoded ?? 0)
      );
    };
    await expect.poll(resumed, { timeout: 10_000, interval: 250 }).toBe(true);
    expect(await b.evaluate(() => (window as unknown as { loads?: number }).loads)).toBe(1);
    expect(await myId(b)).toBe(idb);
  }, 60_000);

  it('a 4-party meeting through Janus with the station at mountain-edge: the other three keep sending the full picture, receive each other at full size and hear the station', async () => {
    for (const x of [a, b]) await x.context().close();
    await link.shape('good');
    const [host, station, ...others] = [staff[0], staff[1], staff[2], staff[3]];
    const r = await call(
      p,
      'POST',
      '/api/video/rooms',
      { kind: 'adhoc', title: 'Hội chẩn liên viện', invitePractitionerIds: [station, ...others].map((s) => s.practitionerId), large: true },
      { ...host.headers, 'content-type': 'application/json' },
    );
    expect(r.status, r.text).toBe(201);
    const good: Page[] = [];
    for (const s of [host, ...others]) {
      const page = await (await contextFor(outside, base, s)).newPage();
      page.setDefaultNavigationTimeout(120_000); // four encoders and Janus on 2 shared cores: loads can be slow
      await join(page, `${base}/call/${r.body.id}`);
      good.push(page);
    }
    const st = await (await contextFor(inside, base, station)).newPage();
    st.setDefaultNavigationTimeout(120_000);
    await join(st, `${base}/call/${r.body.id}`);
    const ids = await Promise.all(good.map((x) => myId(x)));
    const idst = await myId(st);
    expect((await st.locator('section.call').getAttribute('data-state')) ?? '').toBe('in');
    for (const [i, page] of good.entries()) await waitDecodingAll(page, [...ids.filter((_, j) => j !== i), idst], 90_000);
    await link.shape('mountain-edge');
    // Let the station's link settle into whatever it can carry.
    await good[0].waitForTimeout(30_000);
    // The three on good links keep sending the full picture (the station's link does not drag
    // them down). On this 2-core machine a starved encoder can step one down for a moment; it comes back.
    const sendingFull = async () => {
      const views = await Promise.all(good.map((x) => view(x)));
      return views.flatMap((v, i) => (v.level === 'full' ? [] : [`page ${i} sends ${v.level} (uplink ${JSON.stringify(v.uplink)})`])).join('; ') || 'all full';
    };
    await expect.poll(sendingFull, { timeout: 90_000, interval: 2000 }).toBe('all full');
    const before = await Promise.all(good.map((x) => view(x)));
    await good[0].waitForTimeout(5_000);
    for (const [i, v] of (await Promise.all(good.map((x) => view(x)))).entries()) {
      // Frames keep coming from the other two…
      for (const [j, id] of ids.entries()) {
        if (j !== i) expect(v.from[id]?.framesDecoded ?? 0, `page ${i} no longer decodes ${j}`).toBeGreaterThan(before[i].from[id]?.framesDecoded ?? 0);
      }
      // …and the station is still heard.
      expect(v.from[idst]?.audioPackets ?? 0, `page ${i} no longer hears the station`).toBeGreaterThan(before[i].from[idst]?.audioPackets ?? 0);
    }
    // Each of the three receives the other two at the largest layer they send (Janus and the
    // viewer's LayerChooser are not dragged down by the station): the width it decodes is the width
    // of the sender's largest active layer, measured at the sender (on 2 shared cores the encoder
    // may scale every layer down, and a starved sender may step its own level down — that it sends
    // the full picture is checked above) — polled up to a generous limit, not timed.
    const fullFromTheOthers = async () => {
      const [views, full] = [await Promise.all(good.map((x) => view(x))), await Promise.all(good.map((x) => fullWidth(x)))];
      const short = views.flatMap((v, i) =>
        ids.flatMap((id, j) =>
          j === i || (full[j] > 0 && (v.from[id]?.frameWidth ?? 0) >= full[j])
            ? []
            : [`${i} gets ${j} at ${v.from[id]?.frameWidth ?? 0} of ${full[j]} px (${j} sends ${views[j].level})`],
        ),
      );
      return short.join('; ') || 'all full';
    };
    await expect.poll(fullFromTheOthers, { timeout: 150_000, interval: 2000 }).toBe('all full');
    const widths = (await Promise.all(good.map((x) => view(x)))).map((v, i) =>
      ids.map((id, j) => (j === i ? '-' : String(v.from[id]?.frameWidth ?? 0))).join('/'),
    );
    console.log(
      `4-party via Janus: station ${(await view(st)).level}; full widths sent ${(await Promise.all(good.map((x) => fullWidth(x)))).join('/')}; received by the three: ${widths.join(', ')}`,
    );
    await shoot(good[0], 'weaklink-meeting-host');
    for (const x of [...good, st]) await x.context().close();
  }, 480_000);
});
