/**
 * The bundled CDS service trusting its one CDS Client (CDS Hooks 2.0 §Trusting CDS Clients): every
 * request — discovery, hook calls, feedback and the operator's GET /feedback — must carry a JWT
 * bearer token signed with the client's key (the public JWK it was started with), whose `iss` is
 * the expected client, `aud` the URL called, `exp` at most 5 minutes after `iat`, and `jti` not
 * seen before (replays refused). Anything else: 401, and nothing of the request is used.
 */
import type { FastifyInstance } from 'fastify';
import { importJWK, jwtVerify, type JWK } from 'jose';

export interface TrustedClient {
  jwk: JWK;
  issuer: string;
}

export function requireClientJwt(app: FastifyInstance, client: TrustedClient): void {
  const key = importJWK(client.jwk, 'ES384');
  const seen = new Map<string, number>(); // jti → expiry (ms)
  app.addHook('onRequest', async (req, reply) => {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(auth);
    const url = `http://${req.headers.host ?? ''}${req.url.split('?')[0]}`;
    try {
      if (!m) throw new Error('no bearer token');
      const { payload } = await jwtVerify(m[1], await key, {
        algorithms: ['ES384'],
        issuer: client.issuer,
        audience: url,
        maxTokenAge: '5m',
        requiredClaims: ['exp', 'iat', 'jti'],
      });
      const now = Date.now();
      for (const [j, exp] of seen) if (exp < now) seen.delete(j);
      if (seen.has(payload.jti!)) throw new Error('replayed jti');
      seen.set(payload.jti!, (payload.exp ?? 0) * 1000);
    } catch {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a CDS Client JWT is required (CDS Hooks: Trusting CDS Clients)' });
    }
  });
}
