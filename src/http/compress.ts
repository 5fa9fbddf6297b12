/**
 * Compressed API answers (issue #20): at 120 kbit/s every 15 kB costs a second, and the patient
 * list (≈ 9 kB of JSON) and a chart's bundles shrink to a fifth with gzip or brotli.
 * @fastify/compress on the answers of /api and /fhir of at least 1 kB, brotli or gzip as the client
 * accepts (plain http: Chromium offers gzip only). Rules:
 * - answers sent whole only: a stream (NDJSON exports, files) is left as it is, and the live event
 *   stream (SSE) is written around Fastify's hooks (hijacked) so nothing here sees it;
 * - never /api/auth or /oauth: their answers carry tokens (the CSRF token, access tokens), and a
 *   secret in a compressed answer that also reflects a request's text is what BREACH reads;
 * - answers to reads only (GET/HEAD): the answers that hand out a new secret beside text the caller
 *   sent (an OAuth client's secret, a SMART code with the app's `state`, a device secret, a video
 *   invitation) are all answers to POSTs, and the large answers worth compressing are reads;
 * - request bodies are not decompressed (no new way to send a small body that parses big);
 * - the web app's own files are compressed at build time (vite.config.ts) and sent as they are.
 */
import { Readable } from 'node:stream';
import { constants } from 'node:zlib';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fastifyCompress from '@fastify/compress';

/** Paths whose answers may be compressed. */
const COMPRESSED = /^\/(api|fhir)\//;
/** Paths whose answers carry secrets (BREACH). */
const NEVER = /^\/(api\/auth|oauth)(\/|$)/;
/** JSON and FHIR JSON (application/json, application/fhir+json, application/problem+json, …). */
export const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** Whether a route's answers may be compressed (by its URL pattern and methods: reads only). */
export function compressible(url: string, method: string | string[] = 'GET'): boolean {
  const methods = [method].flat();
  return COMPRESSED.test(url) && !NEVER.test(url) && methods.every((m) => m === 'GET' || m === 'HEAD');
}

/** A route-level onSend hook, run before the compressor's: marks an answer sent as a stream so that it is not compressed. */
function leaveStreams(req: FastifyRequest, _reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void {
  if (payload instanceof Readable || payload instanceof ReadableStream) req.headers['x-no-compression'] = 'stream';
  done(null, payload);
}

async function compressPlugin(app: FastifyInstance): Promise<void> {
  // Runs before the compressor's own onRoute hook (added below), so its choice is seen there.
  app.addHook('onRoute', (route: RouteOptions & { compress?: unknown }) => {
    if (!compressible(route.url ?? '', route.method)) {
      route.compress = false;
      return;
    }
    const own = route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend];
    route.onSend = [...own, leaveStreams] as RouteOptions['onSend'];
  });
  await app.register(fastifyCompress, {
    global: true,
    globalDecompression: false,
    threshold: 1024,
    encodings: ['br', 'gzip'],
    customTypes: JSON_TYPE,
    // Quick settings: the answers are small and the 2 cores are shared (≈ 5× smaller JSON either way).
    brotliOptions: { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } },
    zlibOptions: { level: 6 },
    // Pages up to 64 KiB are compressed in place (≈ 0.2 ms for a 9 kB page here) and sent with their
    // length, rather than chunked through a stream on libuv's threadpool, which @fastify/compress
    // picks above 8 KiB on two cores (the latency gain was within this machine's noise:
    // docs/benchmarks.md, 2026-12-04).
    syncThreshold: 64 * 1024,
  });
}

export default fp(compressPlugin, { name: 'compress' });
