/**
 * Compressed answers (src/http/compress.ts) and the first screen's files (vite.config.ts, web.ts):
 * large JSON answers of /api and /fhir come compressed when the client accepts it and decode to
 * the same JSON; small answers, the sign-in routes, the live event stream and clients that accept
 * no encoding get them as they are; the web app's files are still the pre-compressed ones, and the
 * first screen needs one script and no stylesheet request.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../seed/demo.ts';
import { sessionFor, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { compressible, JSON_TYPE } from './compress.ts';

const SEARCH = '/fhir/R4/Patient?_count=50&_include=Patient:organization';

describe('compressed answers', () => {
  let p: TestPlatform;
  const get = (url: string, headers: Record<string, string> = {}) =>
    p.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${p.token}`, ...headers } });
  beforeAll(async () => {
    p = await startTestPlatform('postgres');
    await seedDemo(p.store, 20);
  });
  afterAll(async () => p?.close());

  it('sends a large FHIR search gzip or brotli as offered, decoding to the same JSON', async () => {
    const plain = await get(SEARCH);
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.length).toBeGreaterThan(2000);
    const body = JSON.parse(plain.body) as { entry: unknown[] };
    expect(body.entry.length).toBeGreaterThan(5);

    const gz = await get(SEARCH, { 'accept-encoding': 'gzip, deflate' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(String(gz.headers.vary)).toMatch(/accept-encoding/i);
    expect(gz.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2);
    expect(JSON.parse(gunzipSync(gz.rawPayload).toString('utf8'))).toEqual(body);

    const br = await get(SEARCH, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(JSON.parse(brotliDecompressSync(br.rawPayload).toString('utf8'))).toEqual(body);
  });

  it('leaves small answers, the sign-in routes and clients without an encoding alone', async () => {
    const small = await get('/fhir/R4/Patient?_count=1&_elements=id', { 'accept-encoding': 'gzip' });
    expect(small.statusCode).toBe(200);
    expect(small.rawPayload.length).toBeLessThan(1024);
    expect(small.headers['content-encoding']).toBeUndefined();
    const none = await get(SEARCH, { 'accept-encoding': 'identity' });
    expect(none.headers['content-encoding']).toBeUndefined();
    JSON.parse(none.body);
    // Answers that carry tokens are never compressed (BREACH), whatever their size.
    for (const url of ['/api/auth/me', '/api/auth/login', '/oauth/token', '/oauth/authorize']) expect(compressible(url)).toBe(false);
    for (const url of ['/api/notifications/count', '/fhir/R4/Patient', '/api/chart/:id']) expect(compressible(url)).toBe(true);
    // Answers to writes hand out new secrets beside the caller's text (client secrets, SMART codes with
    // the app's state, device secrets, invitations): never compressed.
    for (const url of ['/api/oauth/clients', '/api/smart/requests/:id/decision', '/api/devices', '/api/video/rooms/:id/invitations'])
      expect(compressible(url, 'POST')).toBe(false);
    expect(compressible('/fhir/R4/:type', ['GET', 'POST'])).toBe(false);
    expect(compressible('/fhir/R4/:type', ['GET', 'HEAD'])).toBe(true);
    const created = await p.app.inject({
      method: 'POST',
      url: '/fhir/R4/Patient',
      headers: { authorization: `Bearer ${p.token}`, 'accept-encoding': 'gzip, br', 'content-type': 'application/fhir+json' },
      payload: { resourceType: 'Patient', name: [{ family: 'Nén', given: ['Không'] }], address: [{ text: 'x'.repeat(2000) }] },
    });
    expect(created.statusCode).toBe(201);
    expect(created.rawPayload.length).toBeGreaterThan(1024);
    expect(created.headers['content-encoding']).toBeUndefined();
    expect(compressible('/*')).toBe(false);
    expect(JSON_TYPE.test('application/fhir+json; charset=utf-8')).toBe(true);
    expect(JSON_TYPE.test('application/problem+json')).toBe(true);
    expect(JSON_TYPE.test('application/fhir+ndjson')).toBe(false);
    expect(JSON_TYPE.test('text/event-stream')).toBe(false);
  });

  it('lets no cache keep an API answer unless its route says so', async () => {
    const patient = JSON.parse((await get(SEARCH)).body) as { entry: { resource: { resourceType: string; id: string } }[] };
    const first = patient.entry.find((e) => e.resource.resourceType === 'Patient')!.resource;
    for (const url of [`/fhir/R4/Patient/${first.id}`, SEARCH, '/fhir/R4/Patient/does-not-exist']) {
      const r = await get(url, { 'accept-encoding': 'gzip' });
      expect(r.headers['cache-control'], url).toBe('no-store');
    }
    // The inbox is a signed-in person's (a session).
    const person = await sessionFor(p, 'specialist', { org: 'org-compress' });
    {
      const url = '/api/notifications/count';
      const r = await p.app.inject({
        method: 'GET',
        url,
        headers: { ...Object.fromEntries(Object.entries(person).filter(([, v]) => v)), 'accept-encoding': 'gzip' },
      });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['cache-control'], url).toBe('no-store');
    }
    // The web app's files keep their own rules.
    expect((await get('/')).headers['cache-control']).toBe('no-cache');
  });

  it('never compresses the live event stream', async () => {
    const base = await p.listen();
    const controller = new AbortController();
    const person = await sessionFor(p, 'specialist', { org: 'org-compress' });
    const res = await fetch(`${base}/api/events`, {
      headers: { cookie: person.cookie, 'accept-encoding': 'gzip, br' },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(res.headers.get('content-encoding')).toBeNull();
    controller.abort();
  });

  it('serves the web app: pre-compressed files, one first-screen script, the stylesheet inline', async () => {
    const html = await get('/', { 'accept-encoding': 'gzip' });
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-encoding']).toBe('gzip');
    const text = gunzipSync(html.rawPayload).toString('utf8');
    expect(text).toMatch(/<style>[^<]*\.topbar[^<]*<\/style>/);
    expect(text).not.toMatch(/rel="stylesheet"/);
    const scripts = [...text.matchAll(/<script type="module"[^>]* src="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThanOrEqual(1);
    // The scripts and the sign-in preload come before the inline stylesheet (sent in the first packets).
    expect(text.indexOf('<script')).toBeLessThan(text.indexOf('<style>'));
    const app = scripts.find((s) => /app-/.test(s))!;
    const js = await get(`/${app}`, { 'accept-encoding': 'gzip' });
    expect(js.headers['content-encoding']).toBe('gzip');
    expect(js.rawPayload.equals(readFileSync(new URL(`../../web/dist/${app}.gz`, import.meta.url)))).toBe(true);
    // The first screen's code imports no other of the app's files statically (lazy pages come with import()).
    const code = readFileSync(new URL(`../../web/dist/${app}`, import.meta.url), 'utf8');
    const imported = [...code.matchAll(/(?:^|[;}])import[^"'`()]*?from\s*["']\.\/([^"']+)["']/g)].map((m) => m[1]);
    const files = readdirSync(new URL('../../web/dist/assets/', import.meta.url));
    expect(imported.every((f) => files.includes(f) && scripts.includes(`assets/${f}`))).toBe(true);
  });
});
