/** Builds the Fastify application from the modules' plugins. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import type { Config } from './config.ts';
import { openDatabase, type Db } from './db/db.ts';
import { migrate } from './db/migrate.ts';
import { AuditLog } from './audit/audit.ts';
import { AccessControl, AccessDenied } from './auth/access.ts';
import { AccountService } from './auth/accounts.ts';
import { auditDenial, registerEnforcement, requireAccessRules, sendDenied, type RouteRule } from './auth/enforce.ts';
import { FhirGuard } from './auth/guard.ts';
import { oauthRoutes } from './auth/oauth.ts';
import { authRoutes } from './auth/routes.ts';
import { InputError } from './http/input.ts';
import { loadServerSecret, type ServerSecret } from './auth/secret.ts';
import { SessionService } from './auth/sessions.ts';
import { TokenService } from './auth/tokens.ts';
import { FHIR_PREFIX, fhirErrorBody, fhirRoutes } from './fhir/routes.ts';
import { FhirService } from './fhir/service.ts';
import { terminologyRoutes } from './terminology/routes.ts';
import type { Provenance } from '@medplum/fhirtypes';
import { conflict } from './fhir/outcome.ts';
import { EventBus } from './events/bus.ts';
import { EligibilityService } from './consult/eligibility.ts';
import { consultRoutes } from './consult/routes.ts';
import { ConsultService, SIGNED_TAG } from './consult/service.ts';
import { FileSender, OutboxWorker, type Sender } from './notify/outbox.ts';
import { DeviceService } from './devices/service.ts';
import { EmbeddedBroker, ExternalIngest } from './devices/broker.ts';
import { deviceRoutes } from './devices/routes.ts';
import fastifyWebsocket from '@fastify/websocket';
import { JanusInstance, JanusSupervisor } from './video/janus.ts';
import { RoomService } from './video/rooms.ts';
import type { LiveDeps } from './video/live.ts';
import { LiveRooms, videoRoutes } from './video/routes.ts';
import { consultQueueOnWrite } from './consult/queue.ts';
import { archiveLeftovers, RecordingArchive } from './video/recordings.ts';
import { VisitService } from './visits/service.ts';
import { HealthRecordService } from './visits/record.ts';
import { visitRoutes } from './visits/routes.ts';

const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
const WEB_DIST = fileURLToPath(new URL('../web/dist/', import.meta.url));

export interface Platform {
  app: FastifyInstance;
  /** Every route with its declared access rule. */
  routes: RouteRule[];
  config: Config;
  db: Db;
  fhir: FhirService;
  secret: ServerSecret;
  audit: AuditLog;
  accounts: AccountService;
  sessions: SessionService;
  tokens: TokenService;
  access: AccessControl;
  bus: EventBus;
  eligibility: EligibilityService;
  consults: ConsultService;
  devices: DeviceService;
  outbox: OutboxWorker;
  /** Where devices connect (embedded broker), when it runs. */
  mqttPort?: number;
  rooms: RoomService;
  /** The video rooms live on this node (signalling state). */
  live: LiveRooms;
  recordings: RecordingArchive;
  visits: VisitService;
  record: HealthRecordService;
  /** The Janus instances large video sessions go through (none: mesh only). */
  janus: JanusInstance[];
  close(): Promise<void>;
}

/** Janus for large sessions: JANUS_URL, or a supervised local janus, or none (mesh only). */
async function startJanus(config: Config): Promise<{ instances: JanusInstance[]; supervisor?: JanusSupervisor; reason: string }> {
  const reason =
    'Phiên trên 4 người cần máy chủ truyền hình Janus: cài gói Debian `janus` (apt-get install janus) hoặc đặt JANUS_URL. ' +
    '(Sessions over 4 people need the Janus SFU: install the Debian package `janus` or set JANUS_URL.)';
  if (config.JANUS_URL) return { instances: config.JANUS_URL.split(',').map((u) => new JanusInstance(u.trim().replace(/\/$/, ''))), reason };
  if (config.CAUYTE_JANUS === 'off' || !JanusSupervisor.available(config.CAUYTE_JANUS_BINARY)) return { instances: [], reason };
  const supervisor = new JanusSupervisor(join(config.dataDir, 'janus'), config.CAUYTE_JANUS_BINARY);
  return { instances: [new JanusInstance(await supervisor.start())], supervisor, reason };
}

/** A JSON problem (RFC 9457) for non-FHIR routes. */
export function problem(status: number, title: string, detail?: string) {
  return { type: 'about:blank', title, status, ...(detail ? { detail } : {}) };
}

/** Request log line: method and path only. Query strings hold names and identifiers; headers hold credentials. */
function requestSerializer(req: FastifyRequest) {
  return { method: req.method, path: (req.url ?? '').split('?')[0], id: req.id };
}

/** The services behind the HTTP app, shared with the CLI (which has no HTTP app). */
export async function buildServices(config: Config, db: Db) {
  await migrate(db);
  const fhir = await FhirService.create(db, config.baseUrl);
  const secret = loadServerSecret({ env: config.CAUYTE_SECRET_KEY, dataDir: config.dataDir, embedded: !config.DATABASE_URL });
  const audit = new AuditLog(db, secret);
  const accounts = new AccountService(db, secret);
  const sessions = new SessionService(db, { idleMinutes: config.CAUYTE_SESSION_IDLE_MINUTES, absoluteHours: config.CAUYTE_SESSION_MAX_HOURS });
  const tokens = new TokenService(db, secret, config.baseUrl, `${config.baseUrl}/fhir/R4`, config.CAUYTE_KEY_ROTATION_DAYS);
  await tokens.init();
  const access = new AccessControl(db, fhir.registry, fhir.compartment, config.CAUYTE_BREAK_GLASS_MINUTES);
  fhir.repo.onWrite(access.onWrite);
  fhir.repo.onWrite(consultQueueOnWrite);
  if (config.CAUYTE_AUTH_DISABLED !== '1') fhir.guard = new FhirGuard(access, audit);
  // Signed documents and their signatures never change through the API (amend instead).
  fhir.changeRules.push((existing) => {
    if (existing.resourceType === 'Composition' && existing.meta?.tag?.some((t) => t.code === SIGNED_TAG.code)) {
      throw conflict('Tài liệu đã ký không thể sửa hay xóa; hãy lập bản sửa đổi (a signed document cannot be changed or deleted: amend it)');
    }
    if (existing.resourceType === 'Provenance' && (existing as Provenance).signature?.length) throw conflict('Chữ ký không thể sửa hay xóa (a signature cannot be changed or deleted)');
  });
  const bus = new EventBus(db);
  const eligibility = new EligibilityService(db);
  const consults = new ConsultService(fhir, audit, bus, secret, config.CAUYTE_MAX_ATTACHMENT_BYTES);
  const devices = new DeviceService(fhir, audit, bus, 500, 10, config.CAUYTE_ALERT_ESCALATE_MINUTES);
  const visits = new VisitService(fhir, audit, bus, eligibility, config.baseUrl);
  const record = new HealthRecordService(fhir, audit);
  return { fhir, secret, audit, accounts, sessions, tokens, access, bus, eligibility, consults, devices, visits, record };
}

function defaultSenders(config: Config): Record<'email' | 'sms', Sender> {
  const dir = join(config.dataDir, 'outbox');
  const off: Sender = { name: 'off', send: async () => undefined };
  return config.CAUYTE_OUTBOX === 'file' ? { email: new FileSender(dir), sms: new FileSender(dir) } : { email: off, sms: off };
}

export async function buildPlatform(config: Config, opts: { db?: Db; logger?: boolean; logStream?: NodeJS.WritableStream; senders?: Record<'email' | 'sms', Sender>; mqttPort?: number } = {}): Promise<Platform> {
  const db = opts.db ?? (await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir }));
  const services = await buildServices(config, db);
  const { fhir, audit, accounts, sessions, tokens, access, bus, eligibility, consults, devices } = services;
  audit.start();
  await bus.start();
  // Devices: the embedded MQTT broker, or ingest from an external one (MQTT_URL).
  let mqttPort: number | undefined;
  const embedded = !config.MQTT_URL && config.CAUYTE_MQTT_PORT !== 0 ? new EmbeddedBroker(devices) : undefined;
  const external = config.MQTT_URL ? new ExternalIngest(devices, config.MQTT_URL) : undefined;
  // opts.mqttPort 0 = any free port (tests); the configured port otherwise.
  if (embedded) mqttPort = await embedded.start(opts.mqttPort ?? config.CAUYTE_MQTT_PORT, config.HOST);
  if (external) await external.start();
  const escalation = setInterval(() => void devices.escalate().catch(() => undefined), 30_000);
  escalation.unref();
  const outbox = new OutboxWorker(db, opts.senders ?? defaultSenders(config));
  outbox.start();
  const janus = await startJanus(config);
  const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
  const rooms = new RoomService(db, fhir, janus.instances, { stunUrls: list(config.STUN_URLS), turnUrls: list(config.TURN_URLS), turnSecret: config.TURN_SECRET, turnTtlSeconds: config.TURN_TTL_SECONDS, policy: config.CAUYTE_ICE_POLICY }, janus.reason, services.secret.hmac('video-room-secrets'), join(config.dataDir, 'recordings'));
  const recordings = new RecordingArchive(rooms.recordingsDir!, fhir);
  const liveDeps: LiveDeps = { rooms, fhir, audit, consults, recordings };
  const live = new LiveRooms(liveDeps);
  const authDisabled = config.CAUYTE_AUTH_DISABLED === '1';

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
    trustProxy: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
  const routes = requireAccessRules(app);

  for (const type of ['application/fhir+json', 'application/json']) app.removeContentTypeParser(type);
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
  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, {
    global: true,
    max: config.CAUYTE_RATE_LIMIT,
    timeWindow: '1 minute',
    // Per account when signed in, per IP otherwise. Runs before authentication, so read the credential.
    keyGenerator: (req) => {
      const auth = req.headers.authorization;
      if (auth) return `tok:${auth.slice(-32)}`;
      const cookie = /cy_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      return cookie ? `ses:${cookie.slice(-32)}` : `ip:${req.ip}`;
    },
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, type: 'about:blank', status: 429, title: `Quá nhiều yêu cầu, thử lại sau ${Math.ceil(ctx.ttl / 1000)} giây (too many requests)` }),
  });
  registerEnforcement(app, { tokens, sessions, accounts, audit, authDisabled });

  app.setErrorHandler(async (err, req, reply) => {
    const isFhir = req.url.startsWith(FHIR_PREFIX);
    if (err instanceof AccessDenied) {
      await auditDenial(audit, req, err).catch(() => undefined);
      return sendDenied(req, reply, err, isFhir);
    }
    if (err instanceof InputError) return reply.code(400).type('application/problem+json').send(problem(400, err.message));
    if ((err as { statusCode?: number }).statusCode === 429) return reply.code(429).send(err);
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
    return reply.code(404).type('application/problem+json').send(problem(404, 'Not found'));
  });

  app.get('/healthz', { config: { access: 'public' } }, async () => {
    await db.query('SELECT 1');
    return { status: 'ok', database: db.kind };
  });

  await app.register(fhirRoutes, { service: fhir, software: { name: 'Cầu Y Tế', version: PACKAGE.version } });
  await app.register(terminologyRoutes);
  await app.register(authRoutes, { accounts, sessions, access, audit, fhir, secureCookies: config.CAUYTE_COOKIE_SECURE === '1' });
  await app.register(oauthRoutes, { db, tokens, accounts, audit, baseUrl: config.baseUrl, tokenTtlSeconds: config.CAUYTE_TOKEN_TTL_SECONDS });
  await app.register(consultRoutes, { consults, eligibility, bus, db });
  await app.register(deviceRoutes, { devices, fhir, db });
  await app.register(fastifyWebsocket, { options: { maxPayload: 128 * 1024 } });
  liveDeps.log = app.log;
  await app.register(videoRoutes, { rooms, live, sessions, accounts, audit, recordings });
  await app.register(visitRoutes, { visits: services.visits, record: services.record, consults, rooms, live });

  // The web app: files from web/dist, and index.html for the app's own routes.
  if (existsSync(WEB_DIST)) {
    // preCompressed: the build wrote .br/.gz next to each asset (vite.config.ts); sent when the browser accepts them.
    await app.register(fastifyStatic, { root: WEB_DIST, serve: false, preCompressed: true });
    app.get('/*', { config: { access: 'public' } }, (req, reply) => {
      const path = decodeURIComponent(req.url.split('?')[0]);
      if (/^\/(fhir|api|oauth)\//.test(path)) return reply.code(404).type('application/problem+json').send(problem(404, 'Not found'));
      const file = normalize(path).replace(/^(\.\.[/\\])+/, '').replace(/^\/+/, '');
      const full = join(WEB_DIST, file);
      if (file && full.startsWith(WEB_DIST) && existsSync(full) && statSync(full).isFile()) {
        return reply.header('cache-control', file.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache').sendFile(file);
      }
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').sendFile('index.html');
    });
  }

  // Recordings a crash left unprocessed: made playable in the background.
  const leftovers = archiveLeftovers(recordings, rooms, fhir).catch((err: Error) => app.log.warn({ err: err.message }, 'leftover recordings not archived'));

  return {
    app,
    routes,
    config,
    db,
    ...services,
    outbox,
    mqttPort,
    rooms,
    live,
    recordings,
    janus: janus.instances,
    async close() {
      clearInterval(escalation);
      await live.close();
      await janus.supervisor?.stop();
      await leftovers;
      await recordings.idle();
      await embedded?.stop();
      await external?.stop();
      await devices.drain();
      await app.close();
      await outbox.stop();
      await bus.stop();
      await audit.stop();
      await audit.seal().catch(() => undefined);
      if (!opts.db) await db.close();
    },
  };
}
