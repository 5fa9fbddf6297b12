/**
 * Prometheus metrics for one API node (prom-client, one registry per app so several platforms in
 * one test process never mix). What is measured:
 *   - HTTP requests: count and latency per route PATTERN (`/fhir/R4/:type/:id`, never the URL),
 *     method and status class — no ids, names or other patient data ever reach a label;
 *   - the database pool (PostgreSQL: total, idle, waiting clients);
 *   - queue lengths: email/SMS outbox messages not yet sent;
 *   - device ingest: messages and stored observations since start (per outcome);
 *   - video: live rooms and participants on this node;
 *   - audit lag: entries not yet sealed into the hash chain, and the age of the oldest one;
 *   - FHIR structure validations by validator (compiled, or the @medplum/core fallback).
 * Values that need the database are read when Prometheus scrapes, with a short timeout: a slow
 * database shows as a missing sample, never as a hung scrape.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PostgresDb, type Db } from '../db/db.ts';
import { validationStats } from '../fhir/validate.ts';

export interface MetricsSources {
  db: Db;
  /** Live video rooms and participants on this node (undefined when the video domain does not run). */
  video: () => { rooms: number; participants: number } | undefined;
  /** Device ingest counters since start (undefined when the devices domain does not run). */
  devices: () => { messages: Record<string, number>; observations: number; quarantined: number } | undefined;
}

/** Runs a metric query with a deadline; undefined when it is late or fails. */
async function withDeadline<T>(p: Promise<T>, ms = 1000): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The route label of a request: its registered pattern, or 'unmatched' (404s never add labels). */
export function routeLabel(req: FastifyRequest): string {
  return req.routeOptions?.url ?? 'unmatched';
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route' | 'status'>;

  constructor(private readonly src: MetricsSources) {
    const r = this.registry;
    r.setDefaultLabels({ service: 'cauyte' });
    collectDefaultMetrics({ register: r, prefix: 'cauyte_' });
    this.requests = new Counter({
      name: 'cauyte_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status class',
      labelNames: ['method', 'route', 'status'],
      registers: [r],
    });
    this.latency = new Histogram({
      name: 'cauyte_http_request_duration_seconds',
      help: 'HTTP request latency, by route pattern, method and status class',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [r],
    });
    const db = src.db;
    new Gauge({
      name: 'cauyte_db_pool_clients',
      help: 'Database pool clients by state (PostgreSQL; the embedded database has one connection)',
      labelNames: ['state'],
      registers: [r],
      collect() {
        if (db instanceof PostgresDb) {
          this.set({ state: 'total' }, db.pool.totalCount);
          this.set({ state: 'idle' }, db.pool.idleCount);
          this.set({ state: 'waiting' }, db.pool.waitingCount);
        } else {
          this.set({ state: 'total' }, 1);
        }
      },
    });
    new Gauge({
      name: 'cauyte_outbox_pending',
      help: 'Email and SMS messages waiting to be sent, by channel',
      labelNames: ['channel'],
      registers: [r],
      async collect() {
        this.reset();
        const rows = await withDeadline(
          db.query<{ channel: string; n: number }>('SELECT channel, count(*)::int AS n FROM message_outbox WHERE sent_at IS NULL GROUP BY channel'),
        );
        for (const ch of ['email', 'sms']) this.set({ channel: ch }, rows?.rows.find((x) => x.channel === ch)?.n ?? 0);
      },
    });
    new Gauge({
      name: 'cauyte_audit_unsealed_entries',
      help: 'Audit entries committed but not yet linked into the hash chain',
      registers: [r],
      async collect() {
        const q = await withDeadline(db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log WHERE chain_pos IS NULL'));
        if (q) this.set(q.rows[0].n);
      },
    });
    new Gauge({
      name: 'cauyte_audit_lag_seconds',
      help: 'Age of the oldest audit entry not yet sealed (0 when all are sealed)',
      registers: [r],
      async collect() {
        const q = await withDeadline(
          db.query<{ s: number | null }>('SELECT extract(epoch FROM now() - min(at))::float8 AS s FROM audit_log WHERE chain_pos IS NULL'),
        );
        if (q) this.set(Math.max(0, q.rows[0].s ?? 0));
      },
    });
    const video = src.video;
    new Gauge({
      name: 'cauyte_video_rooms',
      help: 'Live video rooms on this node',
      registers: [r],
      collect() {
        this.set(video()?.rooms ?? 0);
      },
    });
    new Gauge({
      name: 'cauyte_video_participants',
      help: 'People connected to live video rooms on this node',
      registers: [r],
      collect() {
        this.set(video()?.participants ?? 0);
      },
    });
    const devices = src.devices;
    new Counter({
      name: 'cauyte_device_messages_total',
      help: 'Device messages received since the node started, by outcome (rate() gives the ingest rate)',
      labelNames: ['outcome'],
      registers: [r],
      collect() {
        this.reset();
        for (const [outcome, n] of Object.entries(devices()?.messages ?? {})) this.inc({ outcome }, n);
      },
    });
    new Counter({
      name: 'cauyte_device_observations_total',
      help: 'Observations stored from devices since the node started',
      registers: [r],
      collect() {
        this.reset();
        this.inc(devices()?.observations ?? 0);
      },
    });
    new Counter({
      name: 'cauyte_fhir_validations_total',
      help: 'Resources structure-validated in this process, by validator: compiled, or fallback to @medplum/core',
      labelNames: ['validator'],
      registers: [r],
      collect() {
        this.reset();
        const stats = validationStats();
        this.inc({ validator: 'compiled' }, stats.compiled);
        this.inc({ validator: 'fallback' }, stats.fallbacks);
      },
    });
  }

  /** Counts one answered request (Fastify onResponse). */
  observe(req: FastifyRequest, reply: FastifyReply): void {
    const labels = { method: req.method, route: routeLabel(req), status: `${Math.floor(reply.statusCode / 100)}xx` };
    this.requests.inc(labels);
    this.latency.observe(labels, reply.elapsedTime / 1000);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
