/**
 * Accounts: staff linked to a Practitioner with roles at facilities, citizens linked to their
 * Patient. Passwords hashed with argon2id; staff sign in with a TOTP second factor.
 *
 * - Password failures are throttled per username and source (src/auth/throttle.ts), identically
 *   for unknown usernames, which also run argon2 (against a dummy hash).
 * - Second-factor failures have their own per-account counter and growing lock; a correct
 *   password never resets it. A TOTP code is accepted once: the newest accepted time-step is kept
 *   in the database, so another node refuses the same code too. Recovery codes are single-use.
 * - The account's generation, embedded in every access token, is bumped on sign-out everywhere,
 *   disable, role and password change; tokens.verify refuses older tokens.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Db, Queryable } from '../db/db.ts';
import { isRole, type Role } from './policy.ts';
import type { ServerSecret } from './secret.ts';
import { LoginThrottle } from './throttle.ts';

export { MAX_FAILED_LOGINS } from './throttle.ts';

export interface AccountRole {
  role: Role;
  organizationId: string;
}

export interface Account {
  id: string;
  username: string;
  displayName: string;
  kind: 'staff' | 'citizen' | 'service';
  practitionerId?: string;
  patientId?: string;
  totpEnabled: boolean;
  roles: AccountRole[];
  disabled: boolean;
  /** Why the account was disabled ('inactive': unused for CAUYTE_STAFF_INACTIVE_DAYS; 'admin'). */
  disabledReason?: string;
}

interface AccountRow {
  id: string;
  username: string;
  display_name: string;
  kind: Account['kind'];
  password_hash: string | null;
  practitioner_id: string | null;
  patient_id: string | null;
  totp_secret: string | null;
  totp_enabled: boolean;
  recovery_codes: string[];
  disabled: boolean;
  disabled_reason: string | null;
  mfa_failures: number;
  mfa_locked_until: Date | null;
  totp_last_step: number | null;
}

/** After this many second-factor failures in a row the second factor locks; each further failure doubles the lock. */
export const MAX_MFA_FAILURES = 5;
const MFA_LOCK_SECONDS = 15 * 60;
const MFA_MAX_LOCK_SECONDS = 24 * 3600;
const TOTP_PERIOD = 30;
const ISSUER = 'Cầu Y Tế';

export class PasswordPolicyError extends Error {}

/** Level-3 rules (Decree 331/2026 summary in docs/regulations.md): ≥ 8 with MFA, ≥ 14 without. */
export function checkPassword(password: string, withMfa: boolean): void {
  const min = withMfa ? 8 : 14;
  if (password.length < min) throw new PasswordPolicyError(`Mật khẩu cần ít nhất ${min} ký tự (password needs at least ${min} characters)`);
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (classes < 3)
    throw new PasswordPolicyError(
      'Mật khẩu cần ít nhất 3 loại ký tự: chữ thường, chữ hoa, số, ký hiệu (use at least 3 of: lower case, upper case, digits, symbols)',
    );
}

/**
 * 'throttled': refused without a password check (back-off for this username and source);
 * 'bad-credentials': wrong password or unknown user (blockedUntil when this failure started a back-off);
 * 'disabled': the password was right but the account is disabled (only the password holder learns it).
 */
export type LoginResult =
  | { ok: true; account: Account; needsMfa: boolean; needsEnrolment: boolean }
  | { ok: false; reason: 'bad-credentials' | 'throttled' | 'disabled'; blockedUntil?: Date; accountId?: string; account?: Account };

export type SecondFactorResult = { ok: true; via: 'totp' | 'recovery' } | { ok: false; reason: 'wrong' | 'reused' | 'locked'; lockedUntil?: Date };

export class AccountService {
  readonly throttle: LoginThrottle;
  private readonly revokedListeners: ((accountId: string) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly secret: ServerSecret,
  ) {
    this.throttle = new LoginThrottle(db, secret);
  }

  async create(
    input: {
      username: string;
      displayName: string;
      kind: Account['kind'];
      password?: string;
      practitionerId?: string;
      patientId?: string;
      roles: AccountRole[];
      totpSecret?: string;
    },
    q: Queryable = this.db,
  ): Promise<Account> {
    if (!/^[a-z0-9._-]{3,64}$/.test(input.username)) throw new PasswordPolicyError('Tên đăng nhập chỉ gồm a–z, 0–9, . _ - (3–64 ký tự)');
    if (input.password) checkPassword(input.password, input.kind === 'staff');
    for (const r of input.roles) if (!isRole(r.role)) throw new PasswordPolicyError(`Unknown role ${r.role}`);
    const id = randomUUID();
    await q.query(
      `INSERT INTO account (id, username, display_name, kind, password_hash, practitioner_id, patient_id, totp_secret, totp_enabled)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        id,
        input.username,
        input.displayName,
        input.kind,
        input.password ? await argonHash(input.password) : null,
        input.practitionerId ?? null,
        input.patientId ?? null,
        input.totpSecret ? this.secret.encrypt(input.totpSecret) : null,
        !!input.totpSecret,
      ],
    );
    for (const r of input.roles) {
      await q.query('INSERT INTO account_role (account_id, role, organization_id) VALUES ($1, $2, $3)', [id, r.role, r.organizationId]);
    }
    return (await this.get(id, q))!;
  }

  async get(id: string, q: Queryable = this.db): Promise<Account | undefined> {
    const row = (await q.query<AccountRow>('SELECT * FROM account WHERE id = $1', [id])).rows[0];
    return row ? this.toAccount(row, q) : undefined;
  }

  async byUsername(username: string): Promise<Account | undefined> {
    const row = (await this.db.query<AccountRow>('SELECT * FROM account WHERE username = $1', [username])).rows[0];
    return row ? this.toAccount(row, this.db) : undefined;
  }

  async byPatient(patientId: string): Promise<Account | undefined> {
    const row = (await this.db.query<AccountRow>("SELECT * FROM account WHERE patient_id = $1 AND kind = 'citizen'", [patientId])).rows[0];
    return row ? this.toAccount(row, this.db) : undefined;
  }

  /** The staff account bound to this practitioner, if any. */
  async byPractitioner(practitionerId: string): Promise<Account | undefined> {
    const row = (await this.db.query<AccountRow>('SELECT * FROM account WHERE practitioner_id = $1 ORDER BY created_at LIMIT 1', [practitionerId])).rows[0];
    return row ? this.toAccount(row, this.db) : undefined;
  }

  private async toAccount(row: AccountRow, q: Queryable): Promise<Account> {
    const roles = (
      await q.query<{ role: Role; organization_id: string }>(
        'SELECT role, organization_id FROM account_role WHERE account_id = $1 ORDER BY role, organization_id',
        [row.id],
      )
    ).rows;
    return {
      id: row.id,
      username: row.username,
      displayName: row.display_name,
      kind: row.kind,
      practitionerId: row.practitioner_id ?? undefined,
      patientId: row.patient_id ?? undefined,
      totpEnabled: row.totp_enabled,
      roles: roles.map((r) => ({ role: r.role, organizationId: r.organization_id })),
      disabled: row.disabled,
      disabledReason: row.disabled_reason ?? undefined,
    };
  }

  /**
   * Checks a password from a client address. Unknown users, users without a password and wrong
   * passwords take the same path (argon2 runs either way, the same throttle counts), so answer and
   * timing do not tell whether a username exists.
   */
  async checkLogin(username: string, password: string, ip?: string): Promise<LoginResult> {
    const blockedUntil = await this.throttle.blocked(username, ip);
    if (blockedUntil) return { ok: false, reason: 'throttled', blockedUntil };
    const row = (await this.db.query<AccountRow>('SELECT * FROM account WHERE username = $1', [username])).rows[0];
    const good = (await argonVerify(row?.password_hash ?? DUMMY_HASH, password).catch(() => false)) && !!row?.password_hash;
    if (!good) {
      const t = await this.throttle.failure(username, ip);
      return { ok: false, reason: 'bad-credentials', blockedUntil: t.blockedUntil, accountId: row?.id };
    }
    const account = await this.toAccount(row, this.db);
    if (row.disabled) return { ok: false, reason: 'disabled', accountId: row.id, account };
    await this.throttle.success(username, ip, row.id);
    const needsMfa = account.kind === 'staff' || row.totp_enabled;
    // Without a second factor, this is a complete sign-in.
    await this.db.query(`UPDATE account SET last_login_at = now()${needsMfa ? '' : ', last_active_at = now()'} WHERE id = $1`, [row.id]);
    return { ok: true, account, needsMfa, needsEnrolment: account.kind === 'staff' && !row.totp_enabled };
  }

  /**
   * A one-time code (or an unused recovery code). Failures count per account, towards a lock of
   * the second factor alone; a code whose time-step is not newer than the last accepted one is
   * refused (and counts as a failure).
   */
  async verifySecondFactor(accountId: string, code: string): Promise<SecondFactorResult> {
    const row = (await this.db.query<AccountRow>('SELECT * FROM account WHERE id = $1', [accountId])).rows[0];
    if (!row || !row.totp_secret || !row.totp_enabled) return { ok: false, reason: 'wrong' };
    if (row.mfa_locked_until && row.mfa_locked_until > new Date()) return { ok: false, reason: 'locked', lockedUntil: row.mfa_locked_until };
    const clean = code.replace(/\s+/g, '');
    const unlocked = '(mfa_locked_until IS NULL OR mfa_locked_until <= now())';
    const success = 'mfa_failures = 0, mfa_locked_until = NULL, last_active_at = now()';
    let reason: 'wrong' | 'reused' = 'wrong';
    if (/^\d{6}$/.test(clean)) {
      const step = totpStep(this.secret.decrypt(row.totp_secret), row.username, clean);
      if (step !== undefined) {
        // Accepted once: advancing the last step is atomic, so two requests (or nodes) cannot both win.
        const won = await this.db.query(
          `UPDATE account SET totp_last_step = $2, ${success} WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2) AND ${unlocked}`,
          [accountId, step],
        );
        if (won.rowCount === 1) return { ok: true, via: 'totp' };
        reason = 'reused';
      }
    } else if (/^[a-z0-9]{4}-[a-z0-9]{4}$/.test(clean)) {
      const h = hashRecovery(clean);
      const won = await this.db.query(
        `UPDATE account SET recovery_codes = array_remove(recovery_codes, $2), ${success} WHERE id = $1 AND $2 = ANY(recovery_codes) AND ${unlocked}`,
        [accountId, h],
      );
      if (won.rowCount === 1) return { ok: true, via: 'recovery' };
    }
    const r = (
      await this.db.query<{ mfa_locked_until: Date | null }>(
        `UPDATE account SET mfa_failures = mfa_failures + 1,
         mfa_locked_until = CASE WHEN mfa_failures + 1 >= $2
           THEN now() + make_interval(secs => least($4::float8, $3::float8 * power(2, least(mfa_failures + 1 - $2, 16))))
           ELSE mfa_locked_until END
       WHERE id = $1 RETURNING mfa_locked_until`,
        [accountId, MAX_MFA_FAILURES, MFA_LOCK_SECONDS, MFA_MAX_LOCK_SECONDS],
      )
    ).rows[0];
    const lockedUntil = r?.mfa_locked_until && r.mfa_locked_until > new Date() ? r.mfa_locked_until : undefined;
    return { ok: false, reason, lockedUntil };
  }

  /** Starts TOTP enrolment: a new secret (not active until confirmed), its otpauth URI and QR code. */
  async beginEnrolment(accountId: string): Promise<{ secret: string; uri: string; qrSvg: string }> {
    const account = await this.get(accountId);
    if (!account) throw new Error('no such account');
    const secret = new Secret({ size: 20 }).base32;
    await this.db.query('UPDATE account SET totp_secret = $2, totp_enabled = false WHERE id = $1 AND NOT totp_enabled', [
      accountId,
      this.secret.encrypt(secret),
    ]);
    const uri = totpFor(secret, account.username).toString();
    const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
    return { secret, uri, qrSvg };
  }

  /** Confirms enrolment with a first code; returns ten one-use recovery codes (shown once). */
  async confirmEnrolment(accountId: string, code: string): Promise<string[] | undefined> {
    const row = (await this.db.query<AccountRow>('SELECT * FROM account WHERE id = $1', [accountId])).rows[0];
    if (!row?.totp_secret || row.totp_enabled) return undefined;
    const step = totpStep(this.secret.decrypt(row.totp_secret), row.username, code.replace(/\s+/g, ''));
    if (step === undefined) return undefined;
    const codes = Array.from({ length: 10 }, () => {
      const s = randomBytes(8)
        .toString('base64url')
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x');
      return `${s.slice(0, 4)}-${s.slice(4, 8)}`;
    });
    // The confirming code is used: it cannot serve again as a second factor.
    const done = await this.db.query(
      'UPDATE account SET totp_enabled = true, recovery_codes = $2, totp_last_step = $3, last_active_at = now() WHERE id = $1 AND NOT totp_enabled',
      [accountId, codes.map(hashRecovery), step],
    );
    return done.rowCount === 1 ? codes : undefined;
  }

  /** A new password: every token issued before stops working, and every session ends. */
  async setPassword(accountId: string, password: string): Promise<void> {
    const account = await this.get(accountId);
    checkPassword(password, account?.kind === 'staff' || !!account?.totpEnabled);
    const hash = await argonHash(password);
    await this.db.transaction(async (tx) => {
      await tx.query('UPDATE account SET password_hash = $2 WHERE id = $1', [accountId, hash]);
      await this.revokeIn(tx, accountId);
    });
    this.announceRevoked(accountId);
  }

  /** Replaces the account's roles; tokens naming a role it may no longer hold stop working. */
  async setRoles(accountId: string, roles: AccountRole[]): Promise<void> {
    for (const r of roles) if (!isRole(r.role)) throw new PasswordPolicyError(`Unknown role ${r.role}`);
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM account_role WHERE account_id = $1', [accountId]);
      for (const r of roles)
        await tx.query('INSERT INTO account_role (account_id, role, organization_id) VALUES ($1, $2, $3)', [accountId, r.role, r.organizationId]);
      await tx.query('UPDATE account SET generation = generation + 1 WHERE id = $1', [accountId]);
    });
    this.announceRevoked(accountId);
  }

  /**
   * Sign out everywhere: ends every session, refuses every access token issued so far (the
   * generation they carry is now old) and every unredeemed authorization code. Returns the number
   * of sessions ended.
   */
  async signOutEverywhere(accountId: string): Promise<number> {
    const n = await this.db.transaction((tx) => this.revokeIn(tx, accountId));
    this.announceRevoked(accountId);
    return n;
  }

  private async revokeIn(q: Queryable, accountId: string): Promise<number> {
    await q.query('UPDATE account SET generation = generation + 1 WHERE id = $1', [accountId]);
    await q.query('UPDATE oauth_code SET used_at = now() WHERE account_id = $1 AND used_at IS NULL', [accountId]);
    return (await q.query('UPDATE session SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL', [accountId])).rowCount;
  }

  /**
   * Disables the account and signs it out everywhere. False when it was disabled already. Inside
   * a caller's transaction (q), the caller calls announceRevoked after it commits.
   */
  async disable(accountId: string, reason: 'admin' | 'inactive', q?: Queryable): Promise<boolean> {
    const run = async (tx: Queryable) => {
      const r = await tx.query('UPDATE account SET disabled = true, disabled_at = now(), disabled_reason = $2 WHERE id = $1 AND NOT disabled', [
        accountId,
        reason,
      ]);
      if (r.rowCount === 0) return false;
      await this.revokeIn(tx, accountId);
      return true;
    };
    if (q) return run(q);
    const changed = await this.db.transaction(run);
    this.announceRevoked(accountId);
    return changed;
  }

  /** Called with the account id after its credentials were revoked (committed): the token service forgets what it knew. */
  onRevoked(listener: (accountId: string) => void): void {
    this.revokedListeners.push(listener);
  }

  announceRevoked(accountId: string): void {
    for (const l of this.revokedListeners) l(accountId);
  }

  /**
   * Resets the second factor (a lost phone): the TOTP secret and recovery codes are removed, the
   * account is signed out everywhere, and a staff member enrols a new authenticator at the next
   * sign-in. False when there was nothing to reset.
   */
  async resetSecondFactor(accountId: string): Promise<boolean> {
    const changed = await this.db.transaction(async (tx) => {
      const r = await tx.query(
        `UPDATE account SET totp_secret = NULL, totp_enabled = false, recovery_codes = '{}', mfa_failures = 0, mfa_locked_until = NULL, totp_last_step = NULL
         WHERE id = $1 AND (totp_secret IS NOT NULL OR totp_enabled)`,
        [accountId],
      );
      await this.revokeIn(tx, accountId);
      return r.rowCount === 1;
    });
    this.announceRevoked(accountId);
    return changed;
  }

  /** Enables a disabled account again (an administrator's decision); it counts as active from now. */
  async enable(accountId: string): Promise<boolean> {
    const r = await this.db.query(
      'UPDATE account SET disabled = false, disabled_at = NULL, disabled_reason = NULL, last_active_at = now() WHERE id = $1 AND disabled',
      [accountId],
    );
    return r.rowCount === 1;
  }
}

/** The time-step a valid code belongs to (window ±1 step), or undefined. */
function totpStep(secretBase32: string, label: string, token: string): number | undefined {
  if (!/^\d{6}$/.test(token)) return undefined;
  const timestamp = Date.now();
  const delta = totpFor(secretBase32, label).validate({ token, timestamp, window: 1 });
  return delta === null ? undefined : Math.floor(timestamp / 1000 / TOTP_PERIOD) + delta;
}

/** The TOTP generator for a secret (RFC 6238: SHA-1, 6 digits, 30 s — what authenticator apps expect). */
export function totpFor(secretBase32: string, label: string): TOTP {
  return new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD, secret: Secret.fromBase32(secretBase32) });
}

function hashRecovery(code: string): string {
  return createHash('sha256').update(`cauyte-recovery:${code}`).digest('hex');
}

// A real argon2id hash of a random string, verified against when the user does not exist.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$NSFM+H4mT/HkY/f94qZ28w$tJR1HqofICGe5hmBmY4t0Y7jvCKFGnUNZCOSQ4sa5M4';
