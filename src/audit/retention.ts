/**
 * Audit retention. Audit and access-log entries are kept at least as long as the records they
 * describe, and never less than 90 days (level-3 rule): CAUYTE_AUDIT_RETENTION_DAYS, default 3650
 * (ten years); values below 90 are refused here, in the configuration, and by the database.
 *
 * The trail is append-only and hash-chained, so old entries are removed by moving the chain's
 * start, never by cutting a hole in it:
 *   1. under the sealer's lock, find the longest run of sealed entries from the current start
 *      that are all older than the limit (an entry younger than the limit ends the run, even when
 *      older ones follow it: nothing younger than the limit is ever removed);
 *   2. check that run link by link (tampering is never laundered by removing it: the job stops
 *      and reports instead);
 *   3. record the last removed entry's position and hash as the new start in `audit_head`, MAC'd
 *      with the server secret (a start moved without the secret fails `cauyte audit verify`);
 *   4. delete the run. The table's trigger allows a DELETE only in a transaction that declared
 *      itself (cauyte.audit_retention = on), only of sealed entries older than 90 days at or before
 *      the recorded start;
 *   5. append an `audit.retention` entry saying what was removed (it is sealed like any other).
 * Batches of at most 10 000 entries, one transaction each. Run daily by the audit plugin and by
 * `cauyte audit retention`.
 */
import type { Db } from '../db/db.ts';
import { SEAL_LOCK, type AuditLog, type HeadRow } from './audit.ts';

/** The legal floor: audit entries are kept at least this long, whatever the configuration says. */
export const MIN_AUDIT_RETENTION_DAYS = 90;
const BATCH = 10_000;

export interface RetentionResult {
  removed: number;
  /** The chain's start position after the run (0 = nothing was ever removed). */
  startPos: number;
  /** Set when the job stopped because the entries it would remove do not verify. */
  problem?: string;
}

export class AuditTamperedError extends Error {}

export async function runAuditRetention(db: Db, audit: AuditLog, days: number, opts: { batch?: number } = {}): Promise<RetentionResult> {
  if (!Number.isInteger(days) || days < MIN_AUDIT_RETENTION_DAYS) {
    throw new Error(`audit retention must be a whole number of days, at least ${MIN_AUDIT_RETENTION_DAYS} (got ${days})`);
  }
  const batch = Math.max(1, opts.batch ?? BATCH);
  let removed = 0;
  let startPos = 0;
  for (;;) {
    const step = await db
      .transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [SEAL_LOCK]);
        const head = (await tx.query<HeadRow>('SELECT chain_pos, hash, start_pos, start_hash FROM audit_head WHERE id = 1')).rows[0];
        if (!head) return { removed: 0, startPos: 0 };
        const start = audit.chainStart(head);
        if ('problem' in start) throw new AuditTamperedError(start.problem);
        // Within the next batch, the first sealed entry that must stay (younger than the limit); the
        // scan follows the chain's index and stops there.
        const upTo = Math.min(head.chain_pos, start.pos + batch);
        const keep = (
          await tx.query<{ pos: number }>(
            'SELECT chain_pos AS pos FROM audit_log WHERE chain_pos > $1 AND chain_pos <= $2 AND at >= now() - make_interval(days => $3) ORDER BY chain_pos LIMIT 1',
            [start.pos, upTo, days],
          )
        ).rows[0]?.pos;
        const last = keep === undefined ? upTo : keep - 1;
        if (last <= start.pos) return { removed: 0, startPos: start.pos };
        const walked = await audit.walk(tx, start.pos, start.hash, last);
        if (walked.bad || walked.checked !== last - start.pos) {
          throw new AuditTamperedError(walked.bad?.problem ?? `the entries up to chain position ${last} are incomplete`);
        }
        const oldest = (await tx.query<{ at: Date }>('SELECT at FROM audit_log WHERE chain_pos = $1', [start.pos + 1])).rows[0].at;
        const newest = (await tx.query<{ at: Date }>('SELECT at FROM audit_log WHERE chain_pos = $1', [last])).rows[0].at;
        await tx.query('UPDATE audit_head SET start_pos = $1, start_hash = $2 WHERE id = 1', [last, `${walked.prev}.${audit.startMac(last, walked.prev)}`]);
        await tx.query("SELECT set_config('cauyte.audit_retention', 'on', true)");
        const gone = (await tx.query('DELETE FROM audit_log WHERE chain_pos > $1 AND chain_pos <= $2', [start.pos, last])).rowCount;
        await tx.query("SELECT set_config('cauyte.audit_retention', 'off', true)");
        await audit.append(tx, {
          username: 'system:audit',
          action: 'audit.retention',
          outcome: 'success',
          reason: `lưu trữ ${days} ngày (retention ${days} days)`,
          detail: {
            removed: gone,
            fromPosition: start.pos + 1,
            toPosition: last,
            oldest: oldest.toISOString(),
            newest: newest.toISOString(),
            retentionDays: days,
          },
        });
        return { removed: gone, startPos: last };
      })
      .catch((err: unknown) => {
        if (err instanceof AuditTamperedError) return { removed: 0, startPos: -1, problem: err.message };
        throw err;
      });
    removed += step.removed;
    if ('problem' in step) {
      await audit.record({ username: 'system:audit', action: 'audit.retention', outcome: 'failure', detail: { problem: step.problem, retentionDays: days } });
      return { removed, startPos, problem: step.problem };
    }
    startPos = step.startPos;
    if (step.removed < batch) return { removed, startPos };
  }
}
