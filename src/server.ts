/** Builds the Fastify application from the modules' plugins. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { Config } from './config.ts';
import { openDatabase, type Db } from './db/db.ts';
import { migrate } from './db/migrate.ts';
import { FHIR_PREFIX, fhirErrorBody, fhirRoutes } from './fhir/routes.ts';
import { FhirService } from './fhir/service.ts';
import { terminologyRoutes } from './terminology/routes.ts';

const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
const WEB_DIST = fileURLToPath(new URL('../web/dist/', import.meta.url));

export interface Platform {
  app: FastifyInstance;
  db: Db;
  fhir: FhirService;
  close(): Promise<void>;
}

/** A JSON problem (RFC 9457) for non-FHIR routes. */
export function problem(status: number, title: string, detail?: string) {
  return { type: 'about:blank', title, status, ...(detail ? { detail } : {}) };
}

/** Request log line: method and path only. Query strings can hold names and identifiers. */
function requestSerializer(req: FastifyRequest) {
  return { method: req.method, path: (req.url ?? '').split('?')[0], id: req.id };
}

export async function buildPlatform(config: Config, opts: { db?: Db; logger?: boolean } = {}): Promise<Platform> {
  const db = opts.db ?? (await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir }));
  await migrate(db);
  const fhir = await FhirService.create(db, config.baseUrl);

  const app = Fastify({
    bodyLimit: config.CAUYTE_MAX_BODY_BYTES,
    logger:
      opts.logger === false || config.LOG_LEVEL === 'silent'
        ? false
        : {
            level: config.LOG_LEVEL,
            serializers: { req: requestSerializer as never },
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'], censor: '[redacted]' },
          },
    trustProxy: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });

  for (const type of ['application/fhir+json', 'application/json']) {
    app.removeContentTypeParser(type);
  }
  app.addContentTypeParser(['application/fhir+json', 'application/json', 'application/json-patch+json'], { parseAs: 'string' }, (_req, body, done) => {
    if (body === '' || body === undefined) return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      const e = new Error(`The body is not valid JSON: ${(err as Error).message}`) as Error & { statusCode: number };
      e.statusCode = 400;
      done(e, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('permissions-policy', 'camera=(self), microphone=(self), display-capture=(self), geolocation=()');
    reply.header(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    return payload;
  });

  app.setErrorHandler((err, req, reply) => {
    const isFhir = req.url.startsWith(FHIR_PREFIX);
    const { status, body } = fhirErrorBody(err);
    if (status >= 500) req.log.error({ err: { type: (err as Error).name, code: (err as { code?: string }).code, stack: (err as Error).stack } }, 'request failed');
    if (isFhir) return reply.code(status).type('application/fhir+json; charset=utf-8').send(body);
    const text = (body as { issue: { diagnostics: string }[] }).issue[0].diagnostics;
    return reply.code(status).type('application/problem+json').send(problem(status, text));
  });

  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith(FHIR_PREFIX)) {
      return reply.code(404).type('application/fhir+json; charset=utf-8').send({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: `No route for ${req.method} ${req.url.split('?')[0]}` }] });
    }
    if (req.method === 'GET' && !req.url.startsWith('/api/') && existsSync(`${WEB_DIST}index.html`)) {
      return reply.type('text/html; charset=utf-8').sendFile('index.html'); // the web app routes on the client
    }
    return reply.code(404).type('application/problem+json').send(problem(404, 'Not found'));
  });

  app.get('/healthz', async () => {
    await db.query('SELECT 1');
    return { status: 'ok', database: db.kind };
  });

  await app.register(fhirRoutes, { service: fhir, software: { name: 'Cầu Y Tế', version: PACKAGE.version } });
  await app.register(terminologyRoutes);

  if (existsSync(WEB_DIST)) {
    await app.register(fastifyStatic, { root: WEB_DIST, prefix: '/', wildcard: false, maxAge: '1h', immutable: false });
  }

  return {
    app,
    db,
    fhir,
    async close() {
      await app.close();
      if (!opts.db) await db.close();
    },
  };
}
