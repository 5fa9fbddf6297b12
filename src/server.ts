/**
 * Builds the platform: the core (platform/core.ts), then one Fastify plugin per concern, in
 * order. Each plugin registers its own services, routes, write listeners, ownership and change
 * rules, timers and shutdown hook; closing the app (Fastify's onClose, in reverse order) stops
 * them all. Nothing else happens here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Config } from './config.ts';
import { openDatabase, type Db } from './db/db.ts';
import { requireAccessRules, type RouteRule } from './auth/enforce.ts';
import { openCore, type Core } from './platform/core.ts';
import { QuietAccessLog } from './http/access-log.ts';
import { decorateCore } from './platform/decorations.ts';
import { FileSender, type Sender } from './events/outbox.ts';
import httpPlugin from './http/plugin.ts';
import webPlugin from './http/web.ts';
import authPlugin from './auth/plugin.ts';
import auditPlugin from './audit/plugin.ts';
import eventsPlugin from './events/plugin.ts';
import fhirPlugin from './fhir/plugin.ts';
import terminologyPlugin from './terminology/plugin.ts';
import consentPlugin from './consent/plugin.ts';
import opsPlugin from './ops/plugin.ts';
import { requestId } from './ops/request-id.ts';

const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

export { problem } from './http/problem.ts';

/** The running platform: the app, every route with its access rule, and the core and domain services (for the CLI and tests). */
export type Platform = Core & {
  app: FastifyInstance;
  routes: RouteRule[];
  consults: FastifyInstance['consults'];
  eligibility: FastifyInstance['eligibility'];
  devices: FastifyInstance['devices'];
  /** Where devices connect (embedded broker), when it runs. */
  mqttPort?: number;
  rooms: FastifyInstance['rooms'];
  live: FastifyInstance['live'];
  recordings: FastifyInstance['recordings'];
  janus: FastifyInstance['janus'];
  visits: FastifyInstance['visits'];
  record: FastifyInstance['record'];
  family: FastifyInstance['family'];
  outbox: FastifyInstance['outbox'];
  claims: FastifyInstance['claims'];
  claimQueue: FastifyInstance['claimQueue'];
  eprescriptions: FastifyInstance['eprescriptions'];
  /** Decision support (undefined when the platform runs without the cds domain). */
  cds?: FastifyInstance['cds'];
  close(): Promise<void>;
};

/** Request log line: method and path only. Query strings hold names and identifiers; headers hold credentials. */
function requestSerializer(req: FastifyRequest) {
  return { method: req.method, path: (req.url ?? '').split('?')[0], id: req.id };
}

function defaultSenders(config: Config): Record<'email' | 'sms', Sender> {
  const dir = join(config.dataDir, 'outbox');
  const off: Sender = { name: 'off', send: async () => undefined };
  return config.CAUYTE_OUTBOX === 'file' ? { email: new FileSender(dir), sms: new FileSender(dir) } : { email: off, sms: off };
}

/** The domain plugins, in the order they build on each other. */
export const DOMAINS = [
  'family',
  'consult',
  'devices',
  'video',
  'visits',
  'chart',
  'programme',
  'formats',
  'imaging',
  'training',
  'surveillance',
  'cds',
] as const;
export type Domain = (typeof DOMAINS)[number];

const DOMAIN_PLUGINS: Record<Domain, () => Promise<{ default: import('fastify').FastifyPluginAsync<any> }>> = {
  family: () => import('./family/plugin.ts'),
  consult: () => import('./consult/plugin.ts'),
  devices: () => import('./devices/plugin.ts'),
  video: () => import('./video/plugin.ts'),
  visits: () => import('./visits/plugin.ts'),
  chart: () => import('./chart/plugin.ts'),
  programme: () => import('./programme/plugin.ts'),
  formats: () => import('./formats/plugin.ts'),
  imaging: () => import('./imaging/plugin.ts'),
  training: () => import('./training/plugin.ts'),
  surveillance: () => import('./surveillance/plugin.ts'),
  cds: () => import('./cds/plugin.ts'),
};

export interface BuildOptions {
  /** Which domain plugins to run (default: all). Tests of the core alone start faster without them. */
  domains?: readonly Domain[];
  db?: Db;
  logger?: boolean;
  logStream?: NodeJS.WritableStream;
  senders?: Record<'email' | 'sms', Sender>;
  /** 0 = any free port (tests); the configured port otherwise. */
  mqttPort?: number;
  /** More plugins of a deployment's own, registered after the domains (each declares its routes' access rules like any other). */
  plugins?: { plugin: import('fastify').FastifyPluginAsync<any>; opts?: Record<string, unknown> }[];
}

export async function buildPlatform(config: Config, opts: BuildOptions = {}): Promise<Platform> {
  const db = opts.db ?? (await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir }));
  const core = await openCore(config, db);

  const app = Fastify({
    bodyLimit: config.CAUYTE_MAX_BODY_BYTES,
    logger:
      opts.logger === false || config.LOG_LEVEL === 'silent'
        ? false
        : {
            level: config.LOG_LEVEL,
            serializers: { req: requestSerializer as never },
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.code'], censor: '[redacted]' },
            ...(opts.logStream ? { stream: opts.logStream } : {}),
          },
    trustProxy: config.CAUYTE_TRUST_PROXY ? config.CAUYTE_TRUST_PROXY.split(',').map((a) => a.trim()) : false,
    // Structured logs carry a request id: the load balancer's X-Request-Id when it is well formed, else a new one.
    requestIdHeader: false,
    genReqId: requestId,
    // Fastify's own two lines per request drown the start banner: one access line at debug instead.
    logController: new QuietAccessLog(),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
  // Before any route: a route without an access rule cannot be registered.
  const routes = requireAccessRules(app);
  decorateCore(app, core);

  await app.register(httpPlugin, { rateLimit: config.CAUYTE_RATE_LIMIT });
  await app.register(opsPlugin, { db });
  await app.register(authPlugin, { core });
  await app.register(auditPlugin, { core });
  await app.register(eventsPlugin, { core, senders: opts.senders ?? defaultSenders(config) });
  await app.register(fhirPlugin, { software: { name: 'Cầu Y Tế', version: PACKAGE.version } });
  await app.register(terminologyPlugin);
  await app.register(consentPlugin);
  for (const domain of opts.domains ?? DOMAINS) {
    const plugin = (await DOMAIN_PLUGINS[domain]()).default;
    await app.register(plugin, domain === 'devices' ? { mqttPort: opts.mqttPort } : {});
  }
  for (const extra of opts.plugins ?? []) await app.register(extra.plugin, extra.opts ?? {});
  await app.register(webPlugin);
  await app.ready();

  return {
    ...core,
    app,
    routes,
    consults: app.consults,
    eligibility: app.eligibility,
    devices: app.devices,
    mqttPort: app.mqttPort,
    rooms: app.rooms,
    live: app.live,
    recordings: app.recordings,
    janus: app.janus,
    visits: app.visits,
    record: app.record,
    family: app.family,
    outbox: app.outbox,
    claims: app.claims,
    claimQueue: app.claimQueue,
    eprescriptions: app.eprescriptions,
    cds: app.hasDecorator('cds') ? app.cds : undefined,
    async close() {
      await app.close();
      if (!opts.db) await db.close();
    },
  };
}
