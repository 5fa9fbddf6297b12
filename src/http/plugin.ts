/**
 * HTTP basics shared by every route: body parsers (JSON depth and NUL refused before parsing, lone
 * surrogates after),
 * secure headers, `Cache-Control: no-store` on API answers unless a route sets its own, compressed
 * JSON answers (compress.ts), cookies, rate limits, the error and
 * not-found answers (OperationOutcome under /fhir, a JSON problem elsewhere). Health and readiness
 * are in src/ops.
 *
 * Rate limits are route-level onRequest hooks, so they run after authentication (an app-level
 * onRequest hook that only records a bad credential) and before any refusal: keyed by the verified
 * account, and by the client address for everyone not (validly) signed in — a made-up cookie or
 * token never buys a fresh budget, and a flood of bad tokens is limited too. Refused sign-ins
 * (429) are audited.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import { AccessDenied } from '../auth/access.ts';
import { auditDenial, sendDenied } from '../auth/enforce.ts';
import { FHIR_PREFIX, fhirErrorBody } from '../fhir/routes.ts';
import { badRequest } from '../fhir/outcome.ts';
import { jsonTooDeep, LIMITS } from '../fhir/limits.ts';
import { TableAccessDenied } from '../db/domain-sql.ts';
import compressPlugin from './compress.ts';
import { holdsLoneSurrogate, InputError } from './input.ts';
import { problem } from './problem.ts';

export interface HttpOptions {
  /** Requests per minute per account (per client address when not signed in). */
  rateLimit: number;
}

/** What a request counts against: its verified account, else the client address. */
export function rateKey(req: FastifyRequest): string {
  const a = req.ctx?.actor;
  return a?.accountId && a.via !== 'none' ? `acct:${a.accountId}` : `ip:${req.ip}`;
}

/** Answers that hold personal or health data, or may: never kept by a browser or proxy cache by default. */
const PRIVATE_ANSWERS = /^\/(api|fhir|oauth)(\/|\?|$)/;

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

function parseJson(body: string): unknown {
  const depth = jsonTooDeep(body);
  if (depth !== undefined) throw httpError(400, `The JSON body nests deeper than ${LIMITS.jsonDepth} levels`);
  const value = JSON.parse(body);
  // PostgreSQL cannot store U+0000 in text or jsonb; no FHIR string may hold it either.
  if (body.includes('\\u0000')) throw httpError(400, 'The JSON body holds a NUL character (\\u0000), which no field may contain');
  // Only an escape (\uD800–\uDFFF) can bring a lone surrogate: UTF-8 decoding never makes one.
  if (SURROGATE_ESCAPE.test(body) && holdsLoneSurrogate(value)) {
    throw httpError(400, 'The JSON body holds a lone surrogate (\\uD800–\\uDFFF without its pair): it is not well-formed Unicode');
  }
  return value;
}

function httpError(statusCode: number, message: string): Error & { statusCode: number } {
  const e = new Error(message) as Error & { statusCode: number };
  e.statusCode = statusCode;
  return e;
}

async function httpPlugin(app: FastifyInstance, opts: HttpOptions): Promise<void> {
  for (const type of ['application/fhir+json', 'application/json']) app.removeContentTypeParser(type);
  app.addContentTypeParser(['application/fhir+json', 'application/json', 'application/json-patch+json'], { parseAs: 'string' }, (_req, body, done) => {
    if (body === '' || body === undefined) return done(null, undefined);
    try {
      done(null, parseJson(body as string));
    } catch (err) {
      const e = err as Error & { statusCode?: number };
      done(e.statusCode ? e : httpError(400, `The body is not valid JSON: ${e.message}`), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    if ((body as string).includes('%00')) return done(httpError(400, 'The form holds a NUL character (%00)'), undefined);
    done(null, body);
  });

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    hsts: { maxAge: 31_536_000, includeSubDomains: true },
  });
  // No cache keeps an answer of /api or /fhir unless its route says otherwise: a record served from a
  // shared clinic computer's browser cache would skip the access check and the audit.
  app.addHook('onSend', async (req, reply, payload) => {
    if (PRIVATE_ANSWERS.test(req.url) && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  // JSON answers of /api and /fhir compressed (src/http/compress.ts); before any route is added.
  await app.register(compressPlugin);
  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'onRequest',
    max: opts.rateLimit,
    timeWindow: '1 minute',
    keyGenerator: rateKey,
    onExceeded: (req) => {
      if (req.routeOptions.url?.startsWith('/api/auth/') || req.routeOptions.url === '/oauth/token') {
        void app.audit
          .record({ username: req.ctx?.actor.username, ip: req.ip, action: 'auth.rate-limited', outcome: 'denied', detail: { route: req.routeOptions.url } })
          .catch(() => undefined);
      }
    },
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      type: 'about:blank',
      status: 429,
      title: `Quá nhiều yêu cầu, thử lại sau ${Math.ceil(ctx.ttl / 1000)} giây (too many requests)`,
    }),
  });

  app.setErrorHandler(async (err, req, reply) => {
    const isFhir = req.url.startsWith(FHIR_PREFIX);
    if (err instanceof AccessDenied) {
      await auditDenial(app.audit, req, err).catch(() => undefined);
      return sendDenied(req, reply, err, isFhir);
    }
    if (err instanceof InputError) {
      // A FHIR route's bad input is an OperationOutcome like any other FHIR error.
      if (isFhir) return reply.code(400).type('application/fhir+json; charset=utf-8').send(badRequest(err.message).outcome);
      return reply.code(400).type('application/problem+json').send(problem(400, err.message));
    }
    if ((err as { statusCode?: number }).statusCode === 429) return reply.code(429).send(err);
    if (err instanceof TableAccessDenied) req.log.error({ err: { type: err.name, message: err.message } }, 'domain table access refused');
    const { status, body } = fhirErrorBody(err);
    if (status >= 500)
      req.log.error({ err: { type: (err as Error).name, code: (err as { code?: string }).code, stack: (err as Error).stack } }, 'request failed');
    if (isFhir) return reply.code(status).type('application/fhir+json; charset=utf-8').send(body);
    const text = (body as { issue: { diagnostics: string }[] }).issue[0].diagnostics;
    return reply.code(status).type('application/problem+json').send(problem(status, text));
  });

  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith(FHIR_PREFIX)) {
      return reply
        .code(404)
        .type('application/fhir+json; charset=utf-8')
        .send({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'not-found', diagnostics: `No route for ${req.method} ${req.url.split('?')[0]}` }],
        });
    }
    return reply.code(404).type('application/problem+json').send(problem(404, 'Not found'));
  });
}

export default fp(httpPlugin, { name: 'http' });
