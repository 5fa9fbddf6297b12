/**
 * Calls through TURN: a real coturn (Debian `coturn`) on loopback with the REST shared secret, and
 * the platform set to relay every call (CAUYTE_ICE_POLICY=relay). Peer-to-peer and through Janus,
 * both Chromium pages must decode each other over relayed candidates, which proves the
 * time-limited credentials the server hands out (and their renewal) are accepted by coturn — the
 * path a commune station behind a strict NAT depends on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, freePort, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { contextFor, join, makeStaff, myId, waitDecodingAll, type Decoded, type Staff } from '../src/testing/video.ts';

const TURNSERVER = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';

/**
 * The address Janus's ICE uses on this machine: libnice leaves loopback out, so Janus offers the
 * host's own interface address. The relay must reach it, so coturn relays from there (all traffic
 * stays inside this machine; the browsers still talk to coturn on 127.0.0.1 only).
 */
function hostAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal);
  if (!found) throw new Error('no non-loopback IPv4 interface: Janus has no ICE address to relay to');
  return found.address;
}

/** Starts coturn listening on 127.0.0.1 and resolves once its UDP listener is open. */
async function startCoturn(port: number, secret: string, logFile: string): Promise<ChildProcess> {
  if (!existsSync(TURNSERVER)) throw new Error(`${TURNSERVER} not found: install the Debian package coturn (apt-get install coturn)`);
  const child = spawn(
    TURNSERVER,
    [
      '-n',
      '--listening-ip=127.0.0.1',
      `--relay-ip=${hostAddress()}`,
      `--listening-port=${port}`,
      '--min-port=49200',
      '--max-port=49400',
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=cauyte.test',
      '--fingerprint',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--allow-loopback-peers',
      '--no-software-attribute',
      `--log-file=${logFile}`,
      '--simple-log',
      '--no-stdout-log',
      '--verbose',
    ],
    { stdio: 'ignore' },
  );
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`turnserver exited with ${child.exitCode}`);
    if (existsSync(logFile) && /UDP listener opened on\s*:\s*127\.0\.0\.1:\d+/i.test(readFileSync(logFile, 'utf8'))) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`turnserver did not open its listener: ${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : 'no log'}`);
}

describe('video through a TURN relay (coturn)', () => {
  let coturn: ChildProcess;
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let dir: string;
  const staff: Staff[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(pathJoin(tmpdir(), 'cauyte-turn-'));
    const secret = randomBytes(24).toString('hex');
    const port = await freePort();
    coturn = await startCoturn(port, secret, pathJoin(dir, 'turn.log'));
    p = await startTestPlatform(
      'pglite',
      { TURN_URLS: `turn:127.0.0.1:${port}?transport=udp`, TURN_SECRET: secret, CAUYTE_ICE_POLICY: 'relay', CAUYTE_JANUS: 'auto', CAUYTE_DATA_DIR: dir },
      undefined,
      { domains: ['video'] },
    );
    demo = await seedDemo(p.store, 2);
    base = await p.listen();
    browser = await launchBrowser({ media: true });
    for (const name of ['Bác sĩ Trạm Y tế Bát Xát', 'Bác sĩ Bệnh viện Bạch Mai']) staff.push(await makeStaff(p, name, demo.ids.organizations.batxat));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
    coturn?.kill();
    // Both logs next to the screenshots, for whoever reads a failed run.
    mkdirSync('test-results', { recursive: true });
    for (const [from, to] of [
      [pathJoin(dir, 'turn.log'), 'turn.log'],
      [pathJoin(dir, 'janus', 'janus.log'), 'janus-turn.log'],
    ])
      if (existsSync(from)) copyFileSync(from, pathJoin('test-results', to));
    rmSync(dir, { recursive: true, force: true });
  });

  async function callOf(large: boolean): Promise<{ pages: Page[]; ids: string[]; got: Decoded[] }> {
    const room = await call(
      p,
      'POST',
      '/api/video/rooms',
      { kind: 'adhoc', title: 'Gọi qua TURN', invitePractitionerIds: [staff[1].practitionerId], large },
      { ...staff[0].headers, 'content-type': 'application/json' },
    );
    expect(room.status, room.text).toBe(201);
    expect(room.body.mode).toBe(large ? 'sfu' : 'mesh');
    const pages: Page[] = [];
    for (const s of staff) {
      const page = await (await contextFor(browser, base, s)).newPage();
      await join(page, `${base}/call/${room.body.id}`);
      pages.push(page);
    }
    // Both in, each decoding the other.
    const ids = [await myId(pages[0]), await myId(pages[1])];
    const got = [await waitDecodingAll(pages[0], [ids[1]]), await waitDecodingAll(pages[1], [ids[0]])];
    return { pages, ids, got };
  }

  /** Each connection of this page: its kind and the candidate types of the pair in use. */
  const links = (page: Page) => page.evaluate(async () => window.__call!.report());

  it('1:1 call with relay-only ICE: both pages decode each other through coturn with the server-issued credentials', async () => {
    const {
      pages,
      ids: [ida, idb],
      got,
    } = await callOf(false);
    const [a] = pages;
    expect(got[0][idb].framesDecoded).toBeGreaterThan(0);
    expect(got[1][ida].audioPackets).toBeGreaterThan(0);
    // The pair in use is relayed on both ends.
    for (const page of pages) expect((await links(page)).map((l) => l.path)).toEqual([{ local: 'relay', remote: 'relay' }]);
    // coturn saw allocations under the REST usernames the server issued: "<expiry>:<member id>".
    const log = readFileSync(pathJoin(dir, 'turn.log'), 'utf8');
    for (const id of [ida, idb]) expect(log).toMatch(new RegExp(`\\d{10}:${id}`));

    // Credentials expire: the server hands out fresh ones (at half their lifetime; here at once)
    // and the page puts them into its connections for the next ICE restart.
    const usernames = () =>
      a.evaluate(() =>
        (window.__call as unknown as { links(): { pc: RTCPeerConnection }[] })
          .links()
          .map((l) => (l.pc.getConfiguration().iceServers?.[0] as { username?: string } | undefined)?.username),
      );
    const first = await usernames();
    expect(first).toEqual([expect.stringMatching(new RegExp(`^\\d{10}:${ida}$`))]);
    await a.waitForTimeout(1100); // the expiry has a resolution of one second
    p.live.refreshIce();
    await expect.poll(usernames).not.toEqual(first);
    expect(Number((await usernames())[0]!.split(':')[0])).toBeGreaterThan(Number(first[0]!.split(':')[0]));
    for (const page of pages) await page.context().close();
  }, 90_000);

  it('a session through Janus with relay-only ICE: publishing and subscribing both go through coturn', async () => {
    const {
      pages,
      ids: [ida, idb],
      got,
    } = await callOf(true);
    expect(got[0][idb].framesDecoded).toBeGreaterThan(0);
    expect(got[1][ida].framesDecoded).toBeGreaterThan(0);
    for (const page of pages)
      expect((await links(page)).map((l) => [l.kind, l.path?.local])).toEqual([
        ['publish', 'relay'],
        ['subscribe', 'relay'],
      ]);
    for (const page of pages) await page.context().close();
  }, 90_000);
});
