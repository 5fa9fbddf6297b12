/**
 * The weak-link emulator itself: a client in its namespace reaches a server on the host's end of
 * the link and nothing else; the added delay shows in the round trip; a blackout lets nothing
 * through and the link comes back after it; the rate limit holds; close() removes every namespace.
 * Fails (never skips) when namespaces cannot be made here.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWeakLink, type WeakLink } from './link.ts';

/** Runs a small Node script inside the client namespace; returns what it prints (the server here keeps serving meanwhile). */
async function inside(link: WeakLink, script: string, timeoutMs = 20_000): Promise<string> {
  return (await promisify(execFile)(link.runInside, [process.execPath, '-e', script], { encoding: 'utf8', timeout: timeoutMs })).stdout;
}

/** Fetches `url` from inside: prints "status ms bytes" or "error ms". */
const fetchScript = (url: string, timeoutMs: number) => `
const t = performance.now();
fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(${timeoutMs}) })
  .then(async (r) => { const b = await r.arrayBuffer(); console.log(r.status, Math.round(performance.now() - t), b.byteLength); })
  .catch(() => console.log('error', Math.round(performance.now() - t)));`;

describe('weak-link emulator', () => {
  let link: WeakLink;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    link = await openWeakLink('good');
    server = createServer((req, res) => {
      const size = Number(new URL(req.url!, 'http://x').searchParams.get('bytes') ?? 10);
      res.end(Buffer.alloc(size, 120));
    });
    await new Promise<void>((r) => server.listen(0, link.hostAddress, r));
    url = `http://${link.hostAddress}:${(server.address() as AddressInfo).port}/`;
  }, 30_000);
  afterAll(async () => {
    server?.close();
    await link?.close();
  });

  it('the client reaches the host end of the link, and only through its own namespace', async () => {
    const [status] = (await inside(link, fetchScript(`${url}?bytes=100000`, 5000))).trim().split(' ');
    expect(status).toBe('200');
    const addrs = execFileSync('ip', ['-n', link.namespace, '-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
    expect(addrs).toContain(link.clientAddress);
    // No default route: the client can reach the host's end of the link, nothing beyond it.
    expect(execFileSync('ip', ['-n', link.namespace, 'route', 'show'], { encoding: 'utf8' })).not.toContain('default');
  });

  it('adds the delay to every round trip (TCP connect + request ≥ 2 round trips)', async () => {
    // The delay alone (a profile's jitter could take up to 40 ms off each crossing, and its loss add a resend).
    await link.shape({ rateKbps: null, delayMs: 300, jitterMs: 0, loss: 0, blackout: false });
    const [status, ms] = (await inside(link, fetchScript(url, 15_000))).trim().split(' ');
    expect(status).toBe('200');
    // 300 ms each way: the handshake and the request/answer are two round trips of at least 600 ms.
    expect(Number(ms)).toBeGreaterThanOrEqual(1200);
    await link.shape('good');
  }, 30_000);

  it('a blackout lets nothing through; the link works again after it', async () => {
    await link.shape('blackout');
    expect((await inside(link, fetchScript(url, 2000))).trim()).toMatch(/^error/);
    const { up } = await link.counts();
    expect(up[1]).toBeGreaterThan(0); // the client's attempts were dropped on the wire
    await link.shape('good');
    expect((await inside(link, fetchScript(url, 5000))).trim().split(' ')[0]).toBe('200');
  }, 30_000);

  it('shapes the rate: 60 kB at 120 kbit/s cannot arrive in under 3 s', async () => {
    await link.shape({ rateKbps: 120, delayMs: 0, jitterMs: 0, loss: 0, blackout: false });
    const [status, ms, bytes] = (await inside(link, fetchScript(`${url}?bytes=60000`, 20_000), 30_000)).trim().split(' ');
    expect(status).toBe('200');
    expect(Number(bytes)).toBe(60000);
    // 480 kbit at 120 kbit/s is 4 s on the wire; the token bucket's burst lets a little through at once.
    expect(Number(ms)).toBeGreaterThanOrEqual(3000);
    await link.shape('good');
  }, 40_000);

  it('close() removes the namespaces and the host end of the link', async () => {
    const other = await openWeakLink('commune-3g');
    const ns = other.namespace;
    await other.close();
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(ns);
    expect(execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' })).not.toContain(other.hostAddress + '/');
  }, 30_000);
});
