/**
 * Password sign-in throttling that neither reveals which usernames exist nor lets anyone lock an
 * account at will (OWASP Authentication Cheat Sheet: back-off instead of hard lockout, combined
 * with per-address limits). Failures are counted under three keys, whether the username exists
 * or not, so an unknown username is answered exactly like a known one:
 *
 *   - pair   (username, source network): 5 failures, then a back-off of 1 min doubling to 1 h;
 *   - user   (username, every source):  20 failures, then the same back-off — except from networks
 *            the account has signed in from before, so a distributed attack cannot lock the owner out;
 *   - source (network, every username): 100 failures in an hour (password spraying), then the same
 *            back-off — again except for (username, network) pairs known from earlier sign-ins.
 *
 * A source network is the client's /24 (IPv4) or /64 (IPv6). Counts restart after their window
 * (24 h for pair and user, 1 h for source). A correct password clears the pair and user counts;
 * the source count only expires (else an attacker's own account would reset it). While a key is
 * backed off, the password is not even checked. Keys are stored as HMACs: typed usernames (some of
 * them mistyped passwords) never reach the database in clear.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Db } from '../db/db.ts';
import type { ServerSecret } from './secret.ts';

interface Rule {
  threshold: number;
  windowSeconds: number;
  /** Whether a network the account signed in from before is exempt from this key's back-off. */
  familiarExempt: boolean;
}

const RULES = {
  pair: { threshold: 5, windowSeconds: 86_400, familiarExempt: false },
  user: { threshold: 20, windowSeconds: 86_400, familiarExempt: true },
  source: { threshold: 100, windowSeconds: 3_600, familiarExempt: true },
} satisfies Record<string, Rule>;
type Kind = keyof typeof RULES;

const BASE_BACKOFF_SECONDS = 60;
const MAX_BACKOFF_SECONDS = 3_600;
/** A network counts as familiar for this long after the account's last successful sign-in from it. */
const FAMILIAR_DAYS = 90;

/** Failures in a row (for one key) before the back-off starts. */
export const MAX_FAILED_LOGINS = RULES.pair.threshold;

/** The client's network: IPv4 /24, IPv6 /64 (an IPv4-mapped address counts as IPv4). */
export function sourceNetwork(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped ? mapped[1] : ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIPv6(ip)) {
    const [head, tail = ''] = ip.toLowerCase().split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
    return `${groups
      .slice(0, 4)
      .map((g) => g.replace(/^0+(?=.)/, ''))
      .join(':')}::/64`;
  }
  return 'unknown';
}

export interface ThrottleState {
  blockedUntil?: Date;
}

export class LoginThrottle {
  constructor(
    private readonly db: Db,
    private readonly secret: ServerSecret,
  ) {}

  private keys(username: string, source: string): Record<Kind, string> {
    const u = username.toLowerCase();
    return {
      pair: this.secret.hmac(`throttle:pair:${u}\n${source}`),
      user: this.secret.hmac(`throttle:user:${u}`),
      source: this.secret.hmac(`throttle:source:${source}`),
    };
  }

  /** Until when sign-in for this username from this address is refused without a password check, if it is. */
  async blocked(username: string, ip: string | undefined): Promise<Date | undefined> {
    const source = sourceNetwork(ip);
    const keys = this.keys(username, source);
    const rows = (
      await this.db.query<{ key: string; blocked_until: Date }>(
        'SELECT key, blocked_until FROM login_throttle WHERE key = ANY($1::text[]) AND blocked_until > now()',
        [Object.values(keys)],
      )
    ).rows;
    if (rows.length === 0) return undefined;
    const until = (kind: Kind) => rows.find((r) => r.key === keys[kind])?.blocked_until;
    const hard = until('pair');
    const soft = [until('user'), until('source')].filter((d): d is Date => !!d);
    const latest = (ds: Date[]) => ds.reduce<Date | undefined>((a, d) => (!a || d > a ? d : a), undefined);
    if (soft.length && !(await this.familiar(username, source))) return latest([...soft, ...(hard ? [hard] : [])]);
    return hard;
  }

  private async familiar(username: string, source: string): Promise<boolean> {
    const r = await this.db.query(
      `SELECT 1 FROM login_source s JOIN account a ON a.id = s.account_id
       WHERE a.username = $1 AND s.source = $2 AND s.last_success_at > now() - make_interval(days => $3)`,
      [username, source, FAMILIAR_DAYS],
    );
    return r.rows.length > 0;
  }

  /** Counts a failed password (or unknown username); returns when the pair key's back-off now ends, if it started. */
  async failure(username: string, ip: string | undefined): Promise<ThrottleState> {
    const keys = this.keys(username, sourceNetwork(ip));
    let blockedUntil: Date | undefined;
    for (const kind of Object.keys(RULES) as Kind[]) {
      const rule: Rule = RULES[kind];
      const { failures } = (
        await this.db.query<{ failures: number }>(
          `INSERT INTO login_throttle AS t (key, failures, first_at) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN t.first_at < now() - make_interval(secs => $2) THEN 1 ELSE t.failures + 1 END,
           first_at = CASE WHEN t.first_at < now() - make_interval(secs => $2) THEN now() ELSE t.first_at END
         RETURNING failures`,
          [keys[kind], rule.windowSeconds],
        )
      ).rows[0];
      if (failures < rule.threshold) continue;
      const seconds = Math.min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** Math.min(failures - rule.threshold, 16));
      const r = await this.db.query<{ blocked_until: Date }>(
        'UPDATE login_throttle SET blocked_until = greatest(blocked_until, now() + make_interval(secs => $2)) WHERE key = $1 RETURNING blocked_until',
        [keys[kind], seconds],
      );
      if (kind === 'pair') blockedUntil = r.rows[0]?.blocked_until;
    }
    return { blockedUntil };
  }

  /** A correct password: clears the pair and user counts and remembers the network as familiar. */
  async success(username: string, ip: string | undefined, accountId: string): Promise<void> {
    const source = sourceNetwork(ip);
    const keys = this.keys(username, source);
    await this.db.query('DELETE FROM login_throttle WHERE key = ANY($1::text[])', [[keys.pair, keys.user]]);
    await this.db.query(
      `INSERT INTO login_source (account_id, source, last_success_at) VALUES ($1, $2, now())
       ON CONFLICT (account_id, source) DO UPDATE SET last_success_at = now()`,
      [accountId, source],
    );
  }

  /** Daily clean-up: counts whose window and back-off are over, networks not used for a long time. */
  async prune(): Promise<void> {
    await this.db.query(`DELETE FROM login_throttle WHERE first_at < now() - interval '2 days' AND (blocked_until IS NULL OR blocked_until < now())`);
    await this.db.query('DELETE FROM login_source WHERE last_success_at < now() - make_interval(days => $1)', [FAMILIAR_DAYS]);
  }
}
