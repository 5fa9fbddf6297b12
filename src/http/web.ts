/**
 * The web app: files from web/dist (pre-compressed .br/.gz sent when the browser accepts them),
 * and index.html for the app's own routes (a study page's with a preload of its first image). API,
 * FHIR and OAuth paths never fall back to it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { problem } from './problem.ts';

const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));
/** A study page (web/src/imaging/routes.tsx): its id, as the app reads it. */
const STUDY_PAGE = /^\/imaging\/([A-Za-z0-9\-.]{1,64})$/;

/**
 * The files a study page needs beyond the first screen's — its code, its styles and the preview's
 * DICOM parser — from Vite's manifest, as preload hints: the browser fetches them beside the first
 * image instead of after the app's code has run (one round trip and more on a weak link).
 */
export function studyPageHints(dist = WEB_DIST): string[] {
  const manifestFile = join(dist, '.vite', 'manifest.json');
  if (!existsSync(manifestFile)) return [];
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, { file: string; imports?: string[]; css?: string[] }>;
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const hints: string[] = [];
  const seen = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || seen.has(chunk.file)) return;
    seen.add(chunk.file);
    if (html.includes(chunk.file)) return; // the first screen's own script
    hints.push(`</${chunk.file}>; rel=modulepreload`);
    for (const css of chunk.css ?? []) hints.push(`</${css}>; rel=preload; as=style`);
    chunk.imports?.forEach(visit);
  };
  for (const key of ['src/imaging/StudyPage.tsx', 'src/imaging/preview.ts']) visit(key);
  return hints;
}

async function webPlugin(app: FastifyInstance): Promise<void> {
  if (!existsSync(WEB_DIST)) return;
  const studyHints = studyPageHints();
  await app.register(fastifyStatic, { root: WEB_DIST, serve: false, preCompressed: true });
  app.get('/*', { config: { access: 'public' } }, (req, reply) => {
    let path: string;
    try {
      path = decodeURIComponent(req.url.split('?')[0]);
    } catch {
      return reply.code(400).type('application/problem+json').send(problem(400, 'Malformed path'));
    }
    if (/^\/(fhir|api|oauth)\//.test(path)) return reply.code(404).type('application/problem+json').send(problem(404, 'Not found'));
    const file = normalize(path)
      .replace(/^(\.\.[/\\])+/, '')
      .replace(/^\/+/, '');
    const full = join(WEB_DIST, file);
    if (file && !file.includes('\0') && full.startsWith(WEB_DIST) && existsSync(full) && statSync(full).isFile()) {
      // Hashed assets are immutable: without `cacheControl: false` @fastify/static replaced this header with
      // `max-age=0`, and every cached file cost a revalidation round trip (300 ms+ each on a weak link).
      return reply
        .header('cache-control', file.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache')
        .sendFile(file, { cacheControl: false });
    }
    // A study page opened directly: the browser fetches its first image and details while the app's
    // code is still on its way (web/src/imaging/early.ts takes those answers). Only the path's own id goes into the
    // header; the image route itself checks and audits the person asking.
    const study = STUDY_PAGE.exec(path);
    if (study && study[1] !== 'worklist')
      reply.header(
        'link',
        [
          `</api/imaging/studies/${study[1]}/first-image>; rel=preload; as=fetch; crossorigin=anonymous`,
          `</api/imaging/studies/${study[1]}>; rel=preload; as=fetch; crossorigin=anonymous`,
          ...studyHints,
        ].join(', '),
      );
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').sendFile('index.html', { cacheControl: false });
  });
}

export default fp(webPlugin, { name: 'web' });
