/**
 * Live events for the web app (case status changes, invitations, alerts). Published after the
 * transaction that caused them commits. In one process an EventEmitter carries them; with
 * PostgreSQL, NOTIFY/LISTEN carries them to every API node (payloads are ids, never patient data).
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Db } from '../db/db.ts';
import { PostgresDb } from '../db/db.ts';
import type { LiveEventKind, LiveEvents } from './contract.ts';

/** A live event of one kind; its data is the contract's for that kind (src/events/contract.ts). */
export interface LiveEvent<K extends LiveEventKind = LiveEventKind> {
  kind: K;
  /** Who should see it: any of these matches a signed-in actor. */
  to: { accountIds?: string[]; practitionerIds?: string[]; organizationIds?: string[] };
  /** Ids and codes only (the client fetches details through the access-checked API). */
  data: LiveEvents[K];
  at: string;
}

const CHANNEL = 'cauyte_events';

export class EventBus {
  private readonly local = new EventEmitter();
  private listener?: pg.Client;

  constructor(private readonly db: Db) {
    this.local.setMaxListeners(10_000);
  }

  private stopped = false;
  private retry?: NodeJS.Timeout;

  /** Across nodes: subscribe to PostgreSQL notifications (and subscribe again after the connection is lost, e.g. a database failover). */
  async start(): Promise<void> {
    if (!(this.db instanceof PostgresDb)) return;
    this.stopped = false;
    await this.listen();
  }

  private async listen(): Promise<void> {
    const db = this.db as PostgresDb;
    const listener = new pg.Client({ connectionString: (db.pool.options as { connectionString: string }).connectionString });
    this.listener = listener;
    listener.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      try {
        this.local.emit('event', JSON.parse(msg.payload) as LiveEvent);
      } catch {
        // ignore a malformed payload
      }
    });
    let lost = false;
    const again = () => {
      if (lost || this.stopped) return;
      lost = true;
      listener.end().catch(() => undefined);
      this.retry = setTimeout(() => void this.listen().catch(() => again2()), 1000);
      this.retry.unref();
    };
    const again2 = () => {
      this.retry = setTimeout(() => void this.listen().catch(() => again2()), 1000);
      this.retry.unref();
    };
    listener.on('error', again);
    listener.on('end', again);
    await listener.connect();
    await listener.query(`LISTEN ${CHANNEL}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.listener?.end().catch(() => undefined);
  }

  async publish<K extends LiveEventKind>(e: Omit<LiveEvent<K>, 'at'>): Promise<void> {
    const event: LiveEvent<K> = { ...e, at: new Date().toISOString() };
    if (this.listener) await this.db.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(event)]);
    else this.local.emit('event', event);
  }

  subscribe(fn: (e: LiveEvent) => void): () => void {
    this.local.on('event', fn);
    return () => this.local.off('event', fn);
  }
}

export function eventIsFor(e: LiveEvent, who: { accountId?: string; practitionerId?: string; organizationId?: string }): boolean {
  return (
    (!!who.accountId && !!e.to.accountIds?.includes(who.accountId)) ||
    (!!who.practitionerId && !!e.to.practitionerIds?.includes(who.practitionerId)) ||
    (!!who.organizationId && !!e.to.organizationIds?.includes(who.organizationId))
  );
}
