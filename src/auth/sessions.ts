/**
 * Browser sessions: a random token in an HttpOnly, Secure, SameSite=Strict cookie; only its
 * SHA-256 is stored. Sessions expire when idle and at an absolute limit; a CSRF token bound to the
 * session must accompany every state-changing request made with the cookie.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/db.ts';

export const SESSION_COOKIE = 'cy_session';

export interface Session {
  id: string;
  accountId: string;
  csrfToken: string;
  mfaVerified: boolean;
  role?: string;
  organizationId: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  ip?: string;
  userAgent?: string;
}

export interface SessionOptions {
  idleMinutes: number;
  absoluteHours: number;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class SessionService {
  constructor(
    private readonly db: Db,
    readonly opts: SessionOptions,
  ) {}

  /** Returns the cookie token (only ever held by the browser) and the session. */
  async create(
    accountId: string,
    mfaVerified: boolean,
    role: { role: string; organizationId: string } | undefined,
    meta: { ip?: string; userAgent?: string },
  ): Promise<{ token: string; session: Session }> {
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const expires = new Date(Date.now() + this.opts.absoluteHours * 3_600_000);
    await this.db.query(
      'INSERT INTO session (id, account_id, csrf_token, mfa_verified, role, organization_id, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [
        hashToken(token),
        accountId,
        csrf,
        mfaVerified,
        role?.role ?? null,
        role?.organizationId ?? '',
        expires,
        meta.ip ?? null,
        meta.userAgent?.slice(0, 300) ?? null,
      ],
    );
    return { token, session: (await this.get(token))! };
  }

  /** The live session for a cookie token; touches last_seen. Idle or expired sessions are gone. */
  async get(token: string): Promise<Session | undefined> {
    const r = await this.db.query<SessionRow>(
      `UPDATE session SET last_seen_at = now()
       WHERE id = $1 AND revoked_at IS NULL AND expires_at > now() AND last_seen_at > now() - make_interval(mins => $2)
       RETURNING *`,
      [hashToken(token), this.opts.idleMinutes],
    );
    return r.rows[0] ? toSession(r.rows[0]) : undefined;
  }

  /** The live session for a cookie token, as `get` finds it, without touching last_seen. */
  async peek(token: string): Promise<Session | undefined> {
    const r = await this.db.query<SessionRow>(
      `SELECT * FROM session
       WHERE id = $1 AND revoked_at IS NULL AND expires_at > now() AND last_seen_at > now() - make_interval(mins => $2)`,
      [hashToken(token), this.opts.idleMinutes],
    );
    return r.rows[0] ? toSession(r.rows[0]) : undefined;
  }

  async markMfaVerified(sessionId: string): Promise<void> {
    await this.db.query('UPDATE session SET mfa_verified = true WHERE id = $1', [sessionId]);
  }

  async setRole(sessionId: string, role: string, organizationId: string): Promise<void> {
    await this.db.query('UPDATE session SET role = $2, organization_id = $3 WHERE id = $1', [sessionId, role, organizationId]);
  }

  async revoke(sessionId: string): Promise<void> {
    await this.db.query('UPDATE session SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [sessionId]);
  }

  async list(accountId: string): Promise<Session[]> {
    const r = await this.db.query<SessionRow>(
      `SELECT * FROM session WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > now() AND last_seen_at > now() - make_interval(mins => $2)
       ORDER BY last_seen_at DESC`,
      [accountId, this.opts.idleMinutes],
    );
    // The CSRF token belongs to its own session: a list never shows it.
    return r.rows.map((s) => ({ ...toSession(s), csrfToken: '' }));
  }
}

interface SessionRow {
  id: string;
  account_id: string;
  csrf_token: string;
  mfa_verified: boolean;
  role: string | null;
  organization_id: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  ip: string | null;
  user_agent: string | null;
}

function toSession(s: SessionRow): Session {
  return {
    id: s.id,
    accountId: s.account_id,
    csrfToken: s.csrf_token,
    mfaVerified: s.mfa_verified,
    role: s.role ?? undefined,
    organizationId: s.organization_id,
    createdAt: s.created_at,
    lastSeenAt: s.last_seen_at,
    expiresAt: s.expires_at,
    ip: s.ip ?? undefined,
    userAgent: s.user_agent ?? undefined,
  };
}
