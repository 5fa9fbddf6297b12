/**
 * The platform as a CDS Client proving who it is (CDS Hooks 2.0 §Trusting CDS Clients): every
 * request to a CDS Service — discovery, a hook call, feedback — carries `Authorization: Bearer
 * <JWT>` signed with the client's private key (ES384), with `iss` and `sub` the platform, `aud`
 * the exact service endpoint URL called, `iat`, `exp` (5 minutes) and a fresh `jti`.
 *
 * Rules: the key pair is made per process and lives only in memory; its public half (a JWK) goes
 * to the bundled service at its start (src/cds/supervisor.ts), nothing else is shared.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const CDS_CLIENT_ALG = 'ES384';

export class CdsClientKey {
  private constructor(
    private readonly key: CryptoKey,
    readonly publicJwk: JWK,
    readonly issuer: string,
  ) {}

  static async create(issuer: string): Promise<CdsClientKey> {
    const pair = await generateKeyPair(CDS_CLIENT_ALG);
    const kid = randomUUID();
    return new CdsClientKey(pair.privateKey, { ...(await exportJWK(pair.publicKey)), kid, alg: CDS_CLIENT_ALG, use: 'sig' }, issuer);
  }

  /** The Authorization header value for one request to `url` (the endpoint, without a query). */
  async bearer(url: string): Promise<string> {
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: CDS_CLIENT_ALG, kid: this.publicJwk.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(this.issuer)
      .setAudience(url)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(randomUUID())
      .sign(this.key);
    return `Bearer ${jwt}`;
  }
}
