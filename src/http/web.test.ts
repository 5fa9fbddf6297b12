/**
 * The web app's file serving (src/http/web.ts): hashed assets are cached for good (a weak link pays
 * no revalidation round trip per file), index.html and app routes are revalidated, API paths never
 * fall back to the app. Needs a built web/dist (`npx vite build`); skipped without one.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import web from './web.ts';

const ASSETS = fileURLToPath(new URL('../../web/dist/assets/', import.meta.url));
const built = existsSync(ASSETS);

describe.skipIf(!built)('web app files', () => {
  const app = Fastify();
  beforeAll(async () => {
    await app.register(web);
  });
  afterAll(() => app.close());

  it('hashed assets are immutable, also when sent pre-compressed', async () => {
    const js = readdirSync(ASSETS).find((f) => f.endsWith('.js'))!;
    for (const enc of ['br', 'gzip', 'identity']) {
      const r = await app.inject({ url: `/assets/${js}`, headers: { 'accept-encoding': enc } });
      expect(r.statusCode).toBe(200);
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
  });

  it('the app shell and its routes are revalidated; API paths are not the app', async () => {
    for (const url of ['/', '/imaging/abc']) {
      const r = await app.inject({ url });
      expect(r.statusCode).toBe(200);
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.body).toContain('<div id="app"');
    }
    expect((await app.inject({ url: '/api/nothing' })).statusCode).toBe(404);
  });

  it('a study page names its first image for preloading, nothing else does', async () => {
    const study = await app.inject({ url: '/imaging/1.2.840-abc' });
    const hints = String(study.headers.link).split(', ');
    expect(hints[0]).toBe('</api/imaging/studies/1.2.840-abc/first-image>; rel=preload; as=fetch; crossorigin=anonymous');
    // The page's code and the preview's parser, never the first screen's script again.
    expect(hints.some((h) => /^<\/assets\/StudyPage-[\w-]+\.js>; rel=modulepreload$/.test(h))).toBe(true);
    expect(hints.some((h) => /^<\/assets\/preview-[\w-]+\.js>; rel=modulepreload$/.test(h))).toBe(true);
    expect(hints.some((h) => /\/assets\/app-[\w-]+\.js>/.test(h))).toBe(false);
    for (const url of ['/', '/imaging/worklist', '/imaging/a%3E%3Cb', '/patients/x']) expect((await app.inject({ url })).headers.link, url).toBeUndefined();
  });
});
