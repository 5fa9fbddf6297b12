/**
 * Accounts: staff linked to a Practitioner with roles at facilities, citizens linked to their
 * Patient. Passwords hashed with argon2id; staff sign in with a TOTP second factor; repeated
 * failures lock the account with a growing back-off.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Db, Queryable } from '../db/db.ts';
import { isRole, type Role } from './policy.ts';
import type { ServerSecret } from './secret.ts';

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
  lockedUntil?: Date;
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
  failed_logins: number;
  locked_until: Date | null;
  disabled: boolean;
}

/** After this many failures in a row the account locks; each further failure doubles the lock. */
export const MAX_FAILED_LOGINS = 5;
const BASE_LOCK_MINUTES = 15;
const ISSUER = 'Cầu Y Tế';

export class PasswordPolicyError extends Error {}

/** Level-3 rules (Decree 331/2026 summary in docs/regulations.md): ≥ 8 with MFA, ≥ 14 without. */
export function checkPassword(password: string, withMfa: boolean): void {
  const min = withMfa ? 8 : 14;
  if (password.length < min) throw new PasswordPolicyError(`Mật khẩu cần ít nhất ${min} ký tự (password needs at least ${min} characters)`);
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (classes < 3) throw new PasswordPolicyError('Mật khẩu cần ít nhất 3 loại ký tự: chữ thường, chữ hoa, số, ký hiệu (use at least 3 of: lower case, upper case, digits, symbols)');
}

export type LoginResult =
  | { ok: true; account: Account; needsMfa: boolean; needsEnrolment: boolean }
  | { ok: false; reason: 'bad-credentials' | 'locked' | 'disabled'; lockedUntil?: Date; account?: Account; justLocked?: boolean };

export class AccountService {
  constructor(
    private readonly db: Db,
    private readonly secret: ServerSecret,
  ) {}

  async create(input: {
    username: string;
    displayName: string;
    kind: Account['kind'];
    password?: string;
    practitionerId?: string;
    patientId?: string;
    roles: AccountRole[];
    totpSecret?: string;
  }, q: Queryable = this.db): Promise<Account> {
    if (!/^[a-z0-9._-]{3,64}$/.test(input.username)) throw new PasswordPolicyError('Tên đăng nhập chỉ gồm a–z, 0–9, . _ - (3–64 ký tự)');
    if (input.password) checkPassword(input.password, input.kind === 'staff');
    for (const r of input.roles) if (!isRole(r.role)) throw new PasswordPolicyError(`Unknown role ${r.role}`);
    const id = randomUUID();
    await q.query(
      `INSERT INTO account (id, username, display_name, kind, password_hash, practitioner_id, patient_id, totp_secret, totp_enabled)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        id, input.username, input.displayName, input.kind, input.password ? await argonHash(input.password) : null,
        input.practitionerId ?? null, input.patientId ?? null, input.totpSecret ? this.secret.encrypt(input.totpSecret) : null, !!input.totpSecret,
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

  private async toAccount(row: AccountRow, q: Queryable): Promise<Account> {
    const roles = (await q.query<{ role: Role; organization_id: string }>('SELECT role, organization_id FROM account_role WHERE account_id = $1 ORDER BY role, organization_id', [row.id])).rows;
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
      lockedUntil: row.locked_until ?? undefined,
    };
  }

  /**
   * Checks a password. Unknown users and wrong passwords look the same to the caller and take
   * the same time (argon2 runs either way).
   */
  async checkLogin(username: string, password: string): Promise<LoginResult> {
    const row = (await this.db.query<AccountRow>('SELECT * FROM account WHERE username = $1', [username])).rows[0];
    if (!row || !row.password_hash) {
      await argonVerify(DUMMY_HASH, password).catch(() => false);
      return { ok: false, reason: 'bad-credentials' };
    }
    const account = await this.toAccount(row, this.db);
    if (row.disabled) return { ok: false, reason: 'disabled', account };
    if (row.locked_until && row.locked_until > new Date()) return { ok: false, reason: 'locked', lockedUntil: row.locked_until, account };
    const good = await argonVerify(row.password_hash, password).catch(() => false);
    if (!good) {
      const failures = row.failed_logins + 1;
      const lock = failures >= MAX_FAILED_LOGINS ? new Date(Date.now() + BASE_LOCK_MINUTES * 60_000 * 2 ** (failures - MAX_FAILED_LOGINS)) : null;
      await this.db.query('UPDATE account SET failed_logins = $2, locked_until = $3 WHERE id = $1', [row.id, failures, lock]);
      return { ok: false, reason: lock ? 'locked' : 'bad-credentials', lockedUntil: lock ?? undefined, account, justLocked: !!lock };
    }
    await this.db.query('UPDATE account SET failed_logins = 0, locked_until = NULL, last_login_at = now() WHERE id = $1', [row.id]);
    return { ok: true, account, needsMfa: account.kind === 'staff' || row.totp_enabled, needsEnrolment: account.kind === 'staff' && !row.totp_enabled };
  }

  /** A one-time code (or an unused recovery code). Wrong codes count towards the lockout too. */
  async verifySecondFactor(accountId: string, code: string): Promise<boolean> {
    const row = (await this.db.query<AccountRow>('SELECT * FROM account WHERE id = $1', [accountId])).rows[0];
    if (!row || !row.totp_secret || !row.totp_enabled) return false;
    if (row.locked_until && row.locked_until > new Date()) return false;
    const clean = code.replace(/\s+/g, '');
    let ok = /^\d{6}$/.test(clean) && totpFor(this.secret.decrypt(row.totp_secret), row.username).validate({ token: clean, window: 1 }) !== null;
    if (!ok && /^[a-z0-9]{4}-[a-z0-9]{4}$/.test(clean)) {
      const h = hashRecovery(clean);
      if (row.recovery_codes.includes(h)) {
        await this.db.query('UPDATE account SET recovery_codes = array_remove(recovery_codes, $2) WHERE id = $1', [accountId, h]);
        ok = true;
      }
    }
    if (!ok) {
      const failures = row.failed_logins + 1;
      const lock = failures >= MAX_FAILED_LOGINS ? new Date(Date.now() + BASE_LOCK_MINUTES * 60_000 * 2 ** (failures - MAX_FAILED_LOGINS)) : null;
      await this.db.query('UPDATE account SET failed_logins = $2, locked_until = $3 WHERE id = $1', [accountId, failures, lock]);
    } else {
      await this.db.query('UPDATE account SET failed_logins = 0 WHERE id = $1', [accountId]);
    }
    return ok;
  }

  /** Starts TOTP enrolment: a new secret (not active until confirmed), its otpauth URI and QR code. */
  async beginEnrolment(accountId: string): Promise<{ secret: string; uri: string; qrSvg: string }> {
    const account = await this.get(accountId);
    if (!account) throw new Error('no such account');
    const secret = new Secret({ size: 20 }).base32;
    await this.db.query('UPDATE account SET totp_secret = $2, totp_enabled = false WHERE id = $1 AND NOT totp_enabled', [accountId, this.secret.encrypt(secret)]);
    const uri = totpFor(secret, account.username).toString();
    const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
    return { secret, uri, qrSvg };
  }

  /** Confirms enrolment with a first code; returns ten one-use recovery codes (shown once). */
  async confirmEnrolment(accountId: string, code: string): Promise<string[] | undefined> {
    const row = (await this.db.query<AccountRow>('SELECT * FROM account WHERE id = $1', [accountId])).rows[0];
    if (!row?.totp_secret || row.totp_enabled) return undefined;
    if (totpFor(this.secret.decrypt(row.totp_secret), row.username).validate({ token: code.replace(/\s+/g, ''), window: 1 }) === null) return undefined;
    const codes = Array.from({ length: 10 }, () => {
      const s = randomBytes(8).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, 'x');
      return `${s.slice(0, 4)}-${s.slice(4, 8)}`;
    });
    await this.db.query('UPDATE account SET totp_enabled = true, recovery_codes = $2 WHERE id = $1', [accountId, codes.map(hashRecovery)]);
    return codes;
  }

  async setPassword(accountId: string, password: string): Promise<void> {
    const account = await this.get(accountId);
    checkPassword(password, account?.kind === 'staff' || !!account?.totpEnabled);
    await this.db.query('UPDATE account SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE id = $1', [accountId, await argonHash(password)]);
  }
}

/** The TOTP generator for a secret (RFC 6238: SHA-1, 6 digits, 30 s — what authenticator apps expect). */
export function totpFor(secretBase32: string, label: string): TOTP {
  return new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secretBase32) });
}

function hashRecovery(code: string): string {
  return createHash('sha256').update(`cauyte-recovery:${code}`).digest('hex');
}

// A real argon2id hash of a random string, verified against when the user does not exist.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$NSFM+H4mT/HkY/f94qZ28w$tJR1HqofICGe5hmBmY4t0Y7jvCKFGnUNZCOSQ4sa5M4';
