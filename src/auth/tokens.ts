/**
 * Short-lived JWT access tokens signed with ES256 keys the server rotates (jose). Private keys
 * are stored encrypted; public keys are served as a JWKS so other systems can verify tokens.
 * A retired key stays in the JWKS until every token it signed has expired.
 *
 * Revocation: every token carries its account's generation (claim `gen`). Sign-out everywhere,
 * disabling the account, a role or password change bump the generation (src/auth/accounts.ts), and
 * `verify` refuses, on every request, a token whose generation is not the account's current one,
 * or whose account is disabled or gone. The signature check is cached until the token expires;
 * the account's state is not: it is read from the database at most ACCOUNT_STATE_MS old. The node
 * that makes a change forgets its copy at once (AccountService → `forget`), so there the token is
 * refused on the very next request; other nodes refuse it within ACCOUNT_STATE_MS. (Reading the
 * account on every request instead cost 0.1–0.6 ms per signed-in read: bench/auth-check.ts.)
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, createLocalJWKSet, type JWK, type JWTPayload } from 'jose';
import type { Db } from '../db/db.ts';
import { isRole, type Role } from './policy.ts';
import type { ServerSecret } from './secret.ts';

export interface TokenClaims {
  sub: string; // account id
  role: Role;
  org?: string;
  practitioner?: string;
  patient?: string; // the patient context (citizen's own, or a SMART launch)
  scope: string;
  client_id?: string;
}

export const MAX_TOKEN_TTL_SECONDS = 3600;
/** How stale account.last_active_at may get from token use alone (one write per account per period). */
const ACTIVITY_RESOLUTION_SECONDS = 3600;
/** How old the account state a token is checked against may be (on nodes that did not make the change). */
export const ACCOUNT_STATE_MS = 1000;
const LIVE_SQL = 'SELECT generation, disabled, last_active_at FROM account WHERE id = $1';

interface AccountState {
  generation: number;
  disabled: boolean;
  lastActiveAt: number;
  readAt: number;
}
const TOUCH_SQL = 'UPDATE account SET last_active_at = now() WHERE id = $1 AND (last_active_at IS NULL OR last_active_at < now() - make_interval(secs => $2))';

export class TokenService {
  private signing?: { kid: string; key: CryptoKey | Uint8Array };
  private jwks?: ReturnType<typeof createLocalJWKSet>;
  private publicKeys: JWK[] = [];
  /** Tokens already verified, until they expire: a signature check costs more than the read it guards. */
  private readonly verified = new Map<string, { claims: TokenClaims; gen: number; exp: number }>();
  private static readonly CACHE_SIZE = 10_000;
  /** Account states read for token checks (short-lived; see ACCOUNT_STATE_MS). */
  private readonly states = new Map<string, AccountState>();
  /** Bumped by every `forget`: a read that overlapped one is not kept. */
  private epoch = 0;

  constructor(
    private readonly db: Db,
    private readonly secret: ServerSecret,
    readonly issuer: string,
    readonly audience: string,
    private readonly rotationDays: number,
  ) {}

  /** Loads keys; creates the first one, or a new one when the newest is older than the rotation period. */
  async init(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(4242004)');
      const newest = (await tx.query<{ created_at: Date }>('SELECT created_at FROM signing_key WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1'))
        .rows[0];
      if (!newest || Date.now() - newest.created_at.getTime() > this.rotationDays * 86_400_000) await this.addKey(tx);
    });
    await this.reload();
  }

  /** Makes a new signing key and retires the previous ones (they still verify until tokens expire). */
  async rotate(): Promise<string> {
    const kid = await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(4242004)');
      return this.addKey(tx);
    });
    await this.reload();
    return kid;
  }

  private async addKey(tx: { query: Db['query'] }): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomUUID();
    const pub = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    const priv = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
    await tx.query('UPDATE signing_key SET retired_at = now() WHERE retired_at IS NULL');
    await tx.query('INSERT INTO signing_key (kid, private_jwk, public_jwk) VALUES ($1, $2, $3::jsonb)', [
      kid,
      this.secret.encrypt(JSON.stringify(priv)),
      JSON.stringify(pub),
    ]);
    return kid;
  }

  private async reload(): Promise<void> {
    const keys = (
      await this.db.query<{ kid: string; private_jwk: string; public_jwk: JWK; retired_at: Date | null }>(
        `SELECT kid, private_jwk, public_jwk, retired_at FROM signing_key
       WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1) ORDER BY created_at DESC`,
        [MAX_TOKEN_TTL_SECONDS * 2],
      )
    ).rows;
    const active = keys.find((k) => !k.retired_at) ?? keys[0];
    if (active) this.signing = { kid: active.kid, key: await importJWK(JSON.parse(this.secret.decrypt(active.private_jwk)), 'ES256') };
    this.publicKeys = keys.map((k) => k.public_jwk);
    this.jwks = createLocalJWKSet({ keys: this.publicKeys });
  }

  jwksDocument(): { keys: JWK[] } {
    return { keys: this.publicKeys };
  }

  /** Signs a token for an existing account, carrying the account's current generation. */
  async issue(claims: TokenClaims, ttlSeconds = 900): Promise<{ token: string; expiresIn: number }> {
    if (!this.signing) throw new Error('token service not initialised');
    const ttl = Math.min(Math.max(60, ttlSeconds), MAX_TOKEN_TTL_SECONDS);
    const account = (await this.db.query<{ generation: number }>('SELECT generation FROM account WHERE id = $1', [claims.sub])).rows[0];
    if (!account) throw new Error(`no account ${claims.sub} to issue a token for`);
    const token = await new SignJWT({ ...claims, gen: account.generation })
      .setProtectedHeader({ alg: 'ES256', kid: this.signing.kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(`${ttl}s`)
      .sign(this.signing.key);
    return { token, expiresIn: ttl };
  }

  /** An OpenID Connect id_token for a SMART app (audience: the app); never accepted as an access token (no role, other audience). */
  async signIdToken(c: { sub: string; aud: string; fhirUser?: string; nonce?: string }): Promise<string> {
    if (!this.signing) throw new Error('token service not initialised');
    return new SignJWT({ ...(c.fhirUser ? { fhirUser: c.fhirUser } : {}), ...(c.nonce ? { nonce: c.nonce } : {}) })
      .setProtectedHeader({ alg: 'ES256', kid: this.signing.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(c.sub)
      .setAudience(c.aud)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(this.signing.key);
  }

  /**
   * Verifies signature, issuer, audience and expiry (cached), then — on every call — that the
   * account still exists, is enabled and has not revoked the token; undefined when any check fails.
   */
  async verify(token: string): Promise<TokenClaims | undefined> {
    let hit = this.verified.get(token);
    if (hit && hit.exp <= Date.now() / 1000) {
      this.verified.delete(token);
      hit = undefined;
    }
    hit ??= await this.verifySignature(token);
    if (!hit || !(await this.live(hit.claims.sub, hit.gen))) return undefined;
    return hit.claims;
  }

  /** Whether the token's account is usable: exists, enabled, same generation. Keeps last_active_at roughly current. */
  private async live(accountId: string, gen: number): Promise<boolean> {
    const now = Date.now();
    let a = this.states.get(accountId);
    if (!a || now - a.readAt >= ACCOUNT_STATE_MS) {
      const epoch = this.epoch;
      const row = (await this.db.query<{ generation: number; disabled: boolean; last_active_at: Date | null }>(LIVE_SQL, [accountId], { prepare: true }))
        .rows[0];
      if (!row) return false;
      a = { generation: row.generation, disabled: row.disabled, lastActiveAt: row.last_active_at?.getTime() ?? 0, readAt: now };
      if (epoch === this.epoch) {
        if (this.states.size >= TokenService.CACHE_SIZE) this.states.delete(this.states.keys().next().value!);
        this.states.set(accountId, a);
      }
    }
    if (a.disabled || a.generation !== gen) return false;
    if (now - a.lastActiveAt > ACTIVITY_RESOLUTION_SECONDS * 1000) {
      a.lastActiveAt = now;
      await this.db.query(TOUCH_SQL, [accountId, ACTIVITY_RESOLUTION_SECONDS], { prepare: true });
    }
    return true;
  }

  /** The account's credentials changed (sign-out everywhere, disable, role, password): check its tokens afresh. */
  forget(accountId: string): void {
    this.epoch++;
    this.states.delete(accountId);
  }

  private async verifySignature(token: string): Promise<{ claims: TokenClaims; gen: number; exp: number } | undefined> {
    try {
      let result;
      try {
        result = await jwtVerify(token, this.jwks!, { issuer: this.issuer, audience: this.audience, algorithms: ['ES256'] });
      } catch (err) {
        // A key made by another node since we last loaded: reload once and retry.
        if ((err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw err;
        await this.reload();
        result = await jwtVerify(token, this.jwks!, { issuer: this.issuer, audience: this.audience, algorithms: ['ES256'] });
      }
      const p = result.payload as JWTPayload & Partial<TokenClaims> & { gen?: unknown };
      if (typeof p.sub !== 'string' || !isRole(p.role) || typeof p.scope !== 'string') return undefined;
      const claims = { sub: p.sub, role: p.role, org: p.org, practitioner: p.practitioner, patient: p.patient, scope: p.scope, client_id: p.client_id };
      const entry = { claims, gen: typeof p.gen === 'number' ? p.gen : 0, exp: p.exp ?? 0 };
      if (this.verified.size >= TokenService.CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, entry);
      return entry;
    } catch {
      return undefined;
    }
  }
}
