/**
 * Operations as a core plugin: liveness (/healthz), readiness (/readyz), Prometheus metrics,
 * request ids on every answer, and the drain that graceful shutdown starts.
 *
 * Who may read /metrics (decided here, documented in docs/operations.md):
 *   - on the API port: only an actor holding the `ops.metrics` action (system administrators),
 *     signed in or with a token — the same access rules as every other route;
 *   - for Prometheus: a separate listener (CAUYTE_METRICS_PORT, on CAUYTE_METRICS_HOST, loopback by
 *     default) that HAProxy never forwards to; when CAUYTE_METRICS_TOKEN is set it also wants
 *     `Authorization: Bearer <token>`. Loopback alone is not trusted on the API port: behind a local
 *     HAProxy every request comes from loopback.
 * Labels carry route patterns and status classes only, never ids or patient data.
 */
import fp from 'fastify-plugin';
import { createServer, type Server } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/db.ts';
import { readiness, tcpCheck, type Check } from './health.ts';
import { Metrics } from './metrics.ts';
import { runDaily } from '../platform/daily.ts';
import { loadRetentionRules } from './retention-rules.ts';
import { runRetention } from './retention.ts';
import { join } from 'node:path';

declare module 'fastify' {
  interface FastifyInstance {
    ops: OpsState;
  }
}

export interface OpsState {
  /** Set when shutdown begins: /readyz answers 503 so the load balancer stops sending requests. */
  draining: boolean;
  metrics: Metrics;
  /** The Prometheus listener's port, when it runs. */
  metricsPort?: number;
}

export interface OpsOptions {
  db: Db;
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

async function opsPlugin(app: FastifyInstance, opts: OpsOptions): Promise<void> {
  const { config } = app;
  const db = opts.db;
  // Domains register after this plugin: their sources are looked up when Prometheus scrapes.
  const metrics = new Metrics({
    db,
    video: () => (app.hasDecorator('live') ? app.live.stats() : undefined),
    devices: () => (app.hasDecorator('devices') ? app.devices.stats() : undefined),
  });
  const state: OpsState = { draining: false, metrics };
  app.decorate('ops', state);

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (config.CAUYTE_NODE_NAME) reply.header('x-served-by', config.CAUYTE_NODE_NAME);
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.observe(req, reply);
  });

  const checks = (): Record<string, Check> => {
    const c: Record<string, Check> = {
      database: async () => {
        await db.query('SELECT 1');
      },
    };
    if (config.MQTT_URL) {
      const u = new URL(config.MQTT_URL);
      c.broker = tcpCheck(u.hostname, Number(u.port || 1883));
    } else if (app.hasDecorator('mqttPort') && app.mqttPort) {
      c.broker = tcpCheck(config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST, app.mqttPort);
    }
    // Several Janus: the node serves while one answers (the rooms of a lost one move to another).
    if (app.hasDecorator('janus') && app.janus.length === 1) c.janus = async () => void (await app.janus[0].info());
    if (app.hasDecorator('janus') && app.janus.length > 1) c.janus = async () => void (await Promise.any(app.janus.map((j) => j.info())));
    // The image store when it is Orthanc (the embedded store is the data folder itself).
    const images = app.hasDecorator('imaging') ? app.imaging.backend : undefined;
    if (images?.kind === 'orthanc' && images.ready) c.orthanc = () => images.ready!();
    return c;
  };

  app.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'ok', database: db.kind, uptimeSeconds: Math.round(process.uptime()) }));
  app.get('/readyz', { config: { access: 'public' } }, async (_req, reply) => {
    const r = await readiness(checks(), state.draining);
    return reply.code(r.status === 'ready' ? 200 : 503).send(r);
  });
  app.get('/metrics', { config: { access: { domain: 'ops.metrics' } } }, async (_req, reply) => {
    return reply.type(metrics.contentType).send(await metrics.text());
  });

  // The Prometheus listener (off unless CAUYTE_METRICS_PORT is set).
  let server: Server | undefined;
  if (config.CAUYTE_METRICS_PORT !== undefined) {
    const token = config.CAUYTE_METRICS_TOKEN;
    server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      if (token) {
        const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
        if (!m || !sameSecret(m[1], token)) {
          res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
          return;
        }
      }
      metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(config.CAUYTE_METRICS_PORT, config.CAUYTE_METRICS_HOST, () => resolve());
    });
    const addr = s.address();
    state.metricsPort = typeof addr === 'object' && addr ? addr.port : undefined;
  }
  // The retention job, daily (its report is logged as counts; the details are in the audit trail and retention_archive).
  if (config.CAUYTE_RETENTION !== 'off') {
    const rules = loadRetentionRules(config.CAUYTE_RETENTION_RULES);
    runDaily(
      app,
      'retention',
      async () => {
        const r = await runRetention(app.store, {
          rules,
          archiveDir: join(config.dataDir, 'archive', 'retention'),
          dryRun: config.CAUYTE_RETENTION !== 'archive',
        });
        return { dryRun: r.dryRun, examined: r.examined, archived: r.archived, held: r.held, kept: r.kept };
      },
      5 * 60_000,
    );
  }

  app.addHook('onClose', async () => {
    if (server) await new Promise((resolve) => server!.close(resolve));
  });
}

export default fp(opsPlugin, { name: 'ops', dependencies: ['http'] });
