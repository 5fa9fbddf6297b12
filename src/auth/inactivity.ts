/**
 * Level-3 information-security rule: a staff account unused for CAUYTE_STAFF_INACTIVE_DAYS (45 by
 * default) is disabled, and only an administrator enables it again (POST /api/accounts/:id/enable).
 * "Unused" = no successful sign-in (password and, for staff, the second factor) and no access-token
 * use for that long (account.last_active_at, or its creation when it was never used). Citizens and
 * service accounts are not disabled. Each automatic disable signs the account out everywhere and
 * is audited. Runs daily in the server (auth plugin) and as `cauyte accounts expire-inactive`.
 */
import type { AuditLog } from '../audit/audit.ts';
import type { Db } from '../db/db.ts';
import type { AccountService } from './accounts.ts';

const INACTIVITY_LOCK = 4_242_010;

export interface ExpiredAccount {
  id: string;
  username: string;
  lastActiveAt: Date;
}

export async function expireInactiveStaff(deps: { db: Db; accounts: AccountService; audit: AuditLog }, days: number): Promise<ExpiredAccount[]> {
  if (!Number.isInteger(days) || days < 1) throw new Error('the inactivity limit must be a whole number of days, at least 1');
  const expired = await deps.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [INACTIVITY_LOCK]);
    const stale = (
      await tx.query<{ id: string; username: string; last_active: Date }>(
        `SELECT id, username, coalesce(last_active_at, created_at) AS last_active FROM account
       WHERE kind = 'staff' AND NOT disabled AND coalesce(last_active_at, created_at) < now() - make_interval(days => $1)
       ORDER BY id`,
        [days],
      )
    ).rows;
    const done: ExpiredAccount[] = [];
    for (const a of stale) {
      if (!(await deps.accounts.disable(a.id, 'inactive', tx))) continue;
      await deps.audit.append(tx, {
        username: 'system:auth',
        action: 'account.disable',
        outcome: 'success',
        reason: `không sử dụng quá ${days} ngày (unused for more than ${days} days)`,
        detail: { account: a.id, username: a.username, automatic: true, inactiveDays: days, lastActiveAt: a.last_active.toISOString() },
      });
      done.push({ id: a.id, username: a.username, lastActiveAt: a.last_active });
    }
    return done;
  });
  for (const a of expired) deps.accounts.announceRevoked(a.id);
  await deps.accounts.throttle.prune();
  return expired;
}
