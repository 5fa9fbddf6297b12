/**
 * Notifications: in-app (a table the web app reads, plus a live event) and email/SMS through an
 * outbox written in the same transaction as the action that caused them. A worker sends pending
 * messages with retries and back-off through a pluggable sender, so a crash loses none.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db, Queryable } from '../db/db.ts';

export interface OutboxMessage {
  id: number;
  channel: 'email' | 'sms';
  recipient: string;
  subject: string;
  body: string;
}

/** Something that delivers a message (SMTP, an SMS gateway's HTTP API, ...). Throws on failure. */
export interface Sender {
  readonly name: string;
  send(m: OutboxMessage): Promise<void>;
}

/** Writes each message as a file (development and tests; never a log line, which may be read widely). */
export class FileSender implements Sender {
  readonly name = 'file';
  constructor(private readonly dir: string) {}
  async send(m: OutboxMessage): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(this.dir, `${m.id}-${m.channel}.txt`), `To: ${m.recipient}\nSubject: ${m.subject}\n\n${m.body}\n`, { mode: 0o600 });
  }
}

export class MemorySender implements Sender {
  readonly name = 'memory';
  readonly sent: OutboxMessage[] = [];
  async send(m: OutboxMessage): Promise<void> {
    this.sent.push(m);
  }
}

export interface NotifyTarget {
  accountId?: string;
  practitionerId?: string;
  organizationId?: string;
}

export async function addNotification(
  q: Queryable,
  to: NotifyTarget,
  kind: string,
  title: string,
  link?: string,
  opts: { urgent?: boolean } = {},
): Promise<void> {
  await q.query('INSERT INTO notification (account_id, practitioner_id, organization_id, kind, title, link, urgent) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    to.accountId ?? null,
    to.practitionerId ?? null,
    to.organizationId ?? null,
    kind,
    title.slice(0, 300),
    link ?? null,
    opts.urgent ?? false,
  ]);
}

/** Withdraws a message not yet sent (a reminder for a visit that was cancelled or moved). */
export async function cancelMessage(q: Queryable, dedupeKey: string): Promise<void> {
  await q.query('DELETE FROM message_outbox WHERE dedupe_key = $1 AND sent_at IS NULL', [dedupeKey]);
}

export async function enqueueMessage(
  q: Queryable,
  m: { channel: 'email' | 'sms'; recipient: string; subject: string; body: string; sendAfter?: Date; dedupeKey?: string },
): Promise<void> {
  await q.query(
    `INSERT INTO message_outbox (channel, recipient, subject, body, send_after, dedupe_key) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [m.channel, m.recipient, m.subject, m.body, m.sendAfter ?? new Date(), m.dedupeKey ?? null],
  );
}

const MAX_ATTEMPTS = 8;

export class OutboxWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly db: Db,
    private readonly senders: Record<'email' | 'sms', Sender>,
  ) {}

  /** Sends what is due; returns how many were sent. Safe to run on several nodes (SKIP LOCKED). */
  run(): Promise<number> {
    this.running ??= this.runOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runOnce(): Promise<number> {
    let sent = 0;
    for (;;) {
      const done = await this.db.transaction(async (tx) => {
        const m = (
          await tx.query<OutboxMessage & { attempts: number }>(
            `SELECT id, channel, recipient, subject, body, attempts FROM message_outbox
           WHERE sent_at IS NULL AND send_after <= now() AND attempts < $1 ORDER BY send_after, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
            [MAX_ATTEMPTS],
          )
        ).rows[0];
        if (!m) return false;
        try {
          await this.senders[m.channel].send(m);
          await tx.query('UPDATE message_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1', [m.id]);
          sent++;
        } catch (err) {
          // Exponential back-off: 1, 2, 4 … minutes.
          await tx.query('UPDATE message_outbox SET attempts = attempts + 1, last_error = $2, send_after = now() + make_interval(mins => $3) WHERE id = $1', [
            m.id,
            (err as Error).message.slice(0, 300),
            2 ** m.attempts,
          ]);
        }
        return true;
      });
      if (!done) return sent;
    }
  }

  start(intervalMs = 2000): void {
    this.timer = setInterval(() => void this.run().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
