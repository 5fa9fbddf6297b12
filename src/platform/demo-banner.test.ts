/** The start of a demo: quiet request log at info, one line per request at debug, demo keys read back from the database. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createDemoAccounts } from '../seed/accounts.ts';
import { seedDemo } from '../seed/demo.ts';
import { call, startTestPlatform } from '../testing/platform.ts';
import { readDemoAccounts, startBanner } from './demo-banner.ts';

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, stream };
}

describe('request log', () => {
  for (const [level, perRequest] of [
    ['info', 0],
    ['debug', 1],
  ] as const) {
    it(`writes ${perRequest} line(s) per request at ${level}`, async () => {
      const out = sink();
      const p = await startTestPlatform('pglite', { LOG_LEVEL: level }, out.stream, { domains: [] });
      try {
        const before = out.lines.length;
        await call(p, 'GET', '/api/health');
        await call(p, 'GET', '/fhir/R4/Patient?name=Nguy%E1%BB%85n');
        await call(p, 'GET', '/no/such/route?q=secret');
        const written = out.lines.slice(before);
        expect(written.length).toBe(3 * perRequest);
        for (const l of written) {
          expect(l).not.toContain('secret');
          expect(l).not.toContain('name=');
        }
      } finally {
        await p.close();
      }
    });
  }
});

describe('demo accounts', () => {
  it('are read back with the keys they were created with, and not once the password changed', async () => {
    const p = await startTestPlatform('pglite', {}, undefined, { domains: [] });
    try {
      const demo = await seedDemo(p.store, 4);
      const created = await createDemoAccounts(p.db, p.accounts, demo);
      const read = await readDemoAccounts(p.db, p.secret);
      expect(read.accounts.map((a) => [a.username, a.totpSecret])).toEqual(created.accounts.map((a) => [a.username, a.totpSecret]));
      expect(read.client?.clientId).toBe(created.client?.clientId);
      const dpo = (await p.accounts.byUsername('baovedulieu'))!;
      await p.accounts.setPassword(dpo.id, 'Another-Password-2026');
      const after = await readDemoAccounts(p.db, p.secret);
      expect(after.accounts.map((a) => a.username)).not.toContain('baovedulieu');
      expect(after.accounts.length).toBe(created.accounts.length - 1);
    } finally {
      await p.close();
    }
  });

  it('banner names every service', () => {
    const text = startBanner({ url: 'http://h:1', database: 'PGlite (/d)', mqtt: { port: 1884 }, janus: { urls: [] } });
    expect(text).toContain('http://h:1/');
    expect(text).toContain('http://h:1/fhir/R4');
    expect(text).toContain(':1884');
    expect(text).toMatch(/Janus: không chạy/);
    expect(startBanner({ url: 'u', database: 'd', mqtt: { url: 'mqtt://b:1883' }, janus: { urls: ['http://j/janus'] } })).toContain('http://j/janus');
  });
});
