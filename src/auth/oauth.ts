/**
 * OAuth 2.0 for other applications: authorization code with PKCE (S256, required) for apps acting
 * for a signed-in person, client credentials for systems — with a client secret, or (SMART backend
 * services) a JWT assertion signed with the client's own key (private_key_jwt: its JWKS is
 * registered, each assertion is short-lived, addressed to the token endpoint and used once);
 * SMART on FHIR scopes and discovery. SMART App Launch (EHR and standalone launch, the consent
 * screen, id_token, refresh tokens, CORS) is in smart.ts; this file calls it.
 * Tokens are short-lived JWTs (src/auth/tokens.ts); the JWKS is public.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { z } from 'zod';
import type { AuditLog } from '../audit/audit.ts';
import type { Db } from '../db/db.ts';
import type { AccountService } from './accounts.ts';
import { NON_FACILITY_ROLES } from './admin-routes.ts';
import { actorFields } from './principal.ts';
import { problem } from '../http/problem.ts';
import { domainAllowed, isRole, POLICY, type Role } from './policy.ts';
import { parseScopes, withinScopes } from './scopes.ts';
import { holdForConsent, issueCode, redeemRefresh, sha256hex, takeLaunch, tokenExtras } from './smart.ts';
import type { TokenService } from './tokens.ts';

export interface OAuthOptions {
  db: Db;
  tokens: TokenService;
  accounts: AccountService;
  audit: AuditLog;
  baseUrl: string;
  tokenTtlSeconds: number;
}

const sha256b64url = (s: string) => createHash('sha256').update(s).digest('base64url');

interface ClientRow {
  client_id: string;
  name: string;
  secret_hash: string | null;
  redirect_uris: string[];
  scopes: string[];
  grant_types: string[];
  account_id: string | null;
  jwks: JSONWebKeySet | null;
  /** The facility it was registered for (NULL = platform-wide). */
  organization_id: string | null;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function oauthError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').send({ error, error_description: description });
}

const authorizeQuery = z.object({
  response_type: z.literal('code'),
  client_id: z.string().min(1).max(100),
  redirect_uri: z.string().url().max(1000),
  scope: z.string().min(1).max(2000),
  state: z.string().max(500).optional(),
  code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43,128}$/),
  code_challenge_method: z.literal('S256'),
  aud: z.string().max(500).optional(),
  launch: z.string().max(200).optional(),
  nonce: z.string().max(200).optional(),
});

export async function registerClient(
  db: Db,
  input: {
    name: string;
    redirectUris: string[];
    scopes: string[];
    grantTypes: ('authorization_code' | 'client_credentials')[];
    accountId?: string;
    confidential: boolean;
    /** Public keys of a backend-services client (private_key_jwt). */
    jwks?: JSONWebKeySet;
    /** SMART EHR launch: the app's launch address (it gets iss and launch). */
    launchUri?: string;
    /** The facility it was registered for (undefined = platform-wide). */
    organizationId?: string;
  },
): Promise<{ clientId: string; clientSecret?: string }> {
  const clientId = `app-${randomUUID().slice(0, 8)}`;
  const secret = input.confidential ? randomBytes(32).toString('base64url') : undefined;
  await db.query(
    'INSERT INTO oauth_client (client_id, name, secret_hash, redirect_uris, scopes, grant_types, account_id, jwks, launch_uri, organization_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
    [
      clientId,
      input.name,
      secret ? await argonHash(secret) : null,
      input.redirectUris,
      input.scopes,
      input.grantTypes,
      input.accountId ?? null,
      input.jwks ? JSON.stringify(input.jwks) : null,
      input.launchUri ?? null,
      input.organizationId ?? null,
    ],
  );
  return { clientId, clientSecret: secret };
}

export async function oauthRoutes(app: FastifyInstance, opts: OAuthOptions): Promise<void> {
  const { db, tokens, accounts, audit } = opts;
  const extras = { db, tokens, accounts, baseUrl: opts.baseUrl };
  const fhirBase = `${opts.baseUrl}/fhir/R4`;

  app.get('/fhir/R4/.well-known/smart-configuration', { config: { access: 'public' } }, async () => ({
    issuer: opts.baseUrl,
    jwks_uri: `${opts.baseUrl}/.well-known/jwks.json`,
    authorization_endpoint: `${opts.baseUrl}/oauth/authorize`,
    token_endpoint: `${opts.baseUrl}/oauth/token`,
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384', 'RS256', 'ES256'],
    scopes_supported: [
      'openid',
      'fhirUser',
      'profile',
      'launch',
      'launch/patient',
      'launch/encounter',
      'offline_access',
      'online_access',
      'patient/*.read',
      'patient/*.rs',
      'user/*.read',
      'user/*.rs',
      'user/*.write',
      'user/*.cruds',
      'system/*.read',
      'system/*.cruds',
    ],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    id_token_signing_alg_values_supported: ['ES256'],
    capabilities: [
      'launch-ehr',
      'launch-standalone',
      'context-ehr-patient',
      'context-ehr-encounter',
      'context-banner',
      'sso-openid-connect',
      'permission-offline',
      'permission-online',
      'client-public',
      'client-confidential-symmetric',
      'client-confidential-asymmetric',
      'context-standalone-patient',
      'permission-patient',
      'permission-user',
      'permission-v1',
      'permission-v2',
    ],
  }));

  const jwks = async () => tokens.jwksDocument();
  app.get('/.well-known/jwks.json', { config: { access: 'public' } }, jwks);
  app.get('/oauth/jwks', { config: { access: 'public' } }, jwks);

  app.get('/oauth/authorize', { config: { access: 'public' } }, async (req, reply) => {
    const parsed = authorizeQuery.safeParse(req.query);
    if (!parsed.success) {
      return reply
        .code(400)
        .type('application/problem+json')
        .send({
          type: 'about:blank',
          status: 400,
          title: `Invalid authorization request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        });
    }
    const q = parsed.data;
    const client = (await db.query<ClientRow>('SELECT * FROM oauth_client WHERE client_id = $1 AND revoked_at IS NULL', [q.client_id])).rows[0];
    // Never redirect to an unregistered address: answer here instead.
    if (!client || !client.grant_types.includes('authorization_code'))
      return reply.code(400).type('application/problem+json').send({ type: 'about:blank', status: 400, title: 'Unknown client_id' });
    if (!client.redirect_uris.includes(q.redirect_uri))
      return reply
        .code(400)
        .type('application/problem+json')
        .send({ type: 'about:blank', status: 400, title: 'redirect_uri is not registered for this client' });
    const back = (params: Record<string, string>) => {
      const u = new URL(q.redirect_uri);
      for (const [k, v] of Object.entries({ ...params, ...(q.state ? { state: q.state } : {}) })) u.searchParams.set(k, v);
      return reply.redirect(u.toString(), 302);
    };
    // SMART App Launch 2.0: `aud` is required and names this FHIR server (an app sent elsewhere is not given a code for it).
    if (!q.aud || q.aud.replace(/\/$/, '') !== fhirBase)
      return back({ error: 'invalid_request', error_description: `aud is required and must be ${fhirBase}` });
    const actor = req.ctx.actor;
    if (actor.via !== 'session' || actor.mfaPending) {
      return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 302);
    }
    // A facility's own app is for its staff (and for citizens, its patient-facing use): not another facility's staff.
    if (client.organization_id && actor.role !== 'citizen' && actor.role !== 'system_admin' && client.organization_id !== actor.organizationId)
      return back({ error: 'access_denied', error_description: 'this app is registered for another facility' });
    const requested = parseScopes(q.scope);
    const allowed = parseScopes(client.scopes.join(' ')).scopes;
    if (requested.unknown.length || !withinScopes(requested.scopes, allowed))
      return back({ error: 'invalid_scope', error_description: 'The requested scopes exceed what this client may ask for' });
    if (requested.scopes.some((s) => s.context === 'system'))
      return back({ error: 'invalid_scope', error_description: 'system/ scopes need client_credentials' });
    const asked = new Set(requested.raw);
    // EHR launch: the launch id the chart gave the app binds this clinician, this app and the patient (and encounter).
    let launched: { patientId: string; encounterId: string | null } | undefined;
    if (asked.has('launch')) {
      if (!q.launch) return back({ error: 'invalid_request', error_description: 'the launch scope needs the launch parameter the EHR sent' });
      launched = await takeLaunch(db, q.launch, actor.accountId!, client.client_id);
      if (!launched) return back({ error: 'invalid_request', error_description: 'launch is unknown, used, expired, or for another person or app' });
    }
    const patientScoped = requested.scopes.some((s) => s.context === 'patient') || asked.has('launch/patient');
    const patientId = launched?.patientId ?? (patientScoped ? actor.patientId : undefined);
    if (patientScoped && !patientId)
      return back({
        error: 'invalid_scope',
        error_description: 'patient/ scopes need a patient: an EHR launch from a chart, or a signed-in citizen (standalone launch)',
      });
    const grant = {
      clientId: client.client_id,
      accountId: actor.accountId!,
      redirectUri: q.redirect_uri,
      scope: requested.raw.join(' '),
      codeChallenge: q.code_challenge,
      role: actor.role ?? '',
      organizationId: actor.organizationId ?? '',
      patientId: patientId ?? null,
      encounterId: launched?.encounterId ?? null,
      nonce: q.nonce ?? null,
    };
    if (!launched) {
      // Standalone: the person decides on the consent screen (web app), which then sends the browser back to the app.
      const pending = await holdForConsent(db, grant, q.state);
      return reply.redirect(`/apps/authorize?request=${encodeURIComponent(pending)}`, 302);
    }
    // EHR launch: the clinician chose the app from the chart; that is the authorization.
    const code = await issueCode(db, grant);
    await audit.record({
      ...actorFields(req.ctx),
      clientId: client.client_id,
      action: 'oauth.authorize',
      outcome: 'success',
      patientIds: [launched.patientId],
      detail: { scope: q.scope, launch: 'ehr' },
    });
    return back({ code });
  });

  /** Checks a client's JWT assertion; returns why it fails, or undefined. */
  async function verifyAssertion(client: ClientRow, assertion: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks!), {
        issuer: client.client_id,
        subject: client.client_id,
        audience: `${opts.baseUrl}/oauth/token`,
        algorithms: ['RS384', 'ES384', 'RS256', 'ES256'],
        requiredClaims: ['exp', 'jti'],
      });
      if (payload.exp! * 1000 > Date.now() + 5 * 60_000) return 'exp is more than 5 minutes ahead';
      const fresh = await db.query(
        'INSERT INTO oauth_assertion (client_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3)) ON CONFLICT DO NOTHING RETURNING jti',
        [client.client_id, String(payload.jti), payload.exp],
      );
      await db.query("DELETE FROM oauth_assertion WHERE expires_at < now() - interval '1 hour'");
      return fresh.rows.length ? undefined : 'this assertion was already used (jti)';
    } catch (e) {
      return (e as Error).message;
    }
  }

  app.post('/oauth/token', { config: { access: 'public', rateLimit: { max: 60, timeWindow: '1 minute' } } }, async (req, reply) => {
    const body = (typeof req.body === 'string' ? Object.fromEntries(new URLSearchParams(req.body)) : (req.body ?? {})) as Record<string, string>;
    let clientId = body.client_id;
    let clientSecret = body.client_secret;
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id ?? '');
      clientSecret = decodeURIComponent(secret ?? '');
    }
    const asserted = body.client_assertion_type === JWT_BEARER && typeof body.client_assertion === 'string';
    if (asserted && !clientId) {
      try {
        clientId = decodeJwt(body.client_assertion).iss ?? '';
      } catch {
        return oauthError(reply, 401, 'invalid_client', 'client_assertion is not a JWT');
      }
    }
    if (!clientId) return oauthError(reply, 401, 'invalid_client', 'client_id is required');
    const client = (await db.query<ClientRow>('SELECT * FROM oauth_client WHERE client_id = $1 AND revoked_at IS NULL', [clientId])).rows[0];
    if (!client) return oauthError(reply, 401, 'invalid_client', 'Unknown client');
    if (client.jwks || asserted) {
      // private_key_jwt: signed by one of the client's registered keys, iss = sub = the client, for this token endpoint, ≤ 5 min, used once.
      const why =
        client.jwks && asserted
          ? await verifyAssertion(client, body.client_assertion)
          : 'this client authenticates with a signed JWT assertion (private_key_jwt)';
      if (why) {
        await audit.record({ clientId, ip: req.ip, action: 'oauth.token', outcome: 'failure', detail: { reason: `client assertion: ${why}` } });
        return oauthError(reply, 401, 'invalid_client', `Client authentication failed: ${why}`);
      }
    } else if (client.secret_hash && !(clientSecret && (await argonVerify(client.secret_hash, clientSecret).catch(() => false)))) {
      await audit.record({ clientId, ip: req.ip, action: 'oauth.token', outcome: 'failure', detail: { reason: 'bad client secret' } });
      return oauthError(reply, 401, 'invalid_client', 'Client authentication failed');
    }

    if (body.grant_type === 'authorization_code' || body.grant_type === 'refresh_token') {
      let grant: Parameters<typeof tokenExtras>[1];
      if (body.grant_type === 'refresh_token') {
        if (!body.refresh_token) return oauthError(reply, 400, 'invalid_request', 'refresh_token is required');
        const redeemed = await redeemRefresh(db, body.refresh_token, client.client_id, body.scope);
        if ('error' in redeemed) {
          await audit.record({
            clientId: client.client_id,
            ip: req.ip,
            action: 'oauth.token',
            outcome: 'failure',
            detail: { grant: 'refresh_token', reason: redeemed.error },
          });
          return oauthError(reply, 400, 'invalid_grant', redeemed.error);
        }
        grant = redeemed.grant;
      } else {
        if (!body.code || !body.code_verifier || !body.redirect_uri)
          return oauthError(reply, 400, 'invalid_request', 'code, code_verifier and redirect_uri are required');
        const row = (
          await db.query<{
            client_id: string;
            account_id: string;
            redirect_uri: string;
            scope: string;
            code_challenge: string;
            role: string;
            organization_id: string;
            patient_id: string | null;
            encounter_id: string | null;
            nonce: string | null;
          }>(`UPDATE oauth_code SET used_at = now() WHERE code_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING *`, [sha256hex(body.code)])
        ).rows[0];
        if (!row || row.client_id !== client.client_id || row.redirect_uri !== body.redirect_uri)
          return oauthError(reply, 400, 'invalid_grant', 'The code is unknown, used, expired or was issued to another client or redirect_uri');
        const expected = Buffer.from(row.code_challenge);
        const actual = Buffer.from(sha256b64url(body.code_verifier));
        if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return oauthError(reply, 400, 'invalid_grant', 'PKCE verification failed');
        grant = {
          clientId: client.client_id,
          accountId: row.account_id,
          scope: row.scope,
          role: row.role,
          organizationId: row.organization_id,
          patientId: row.patient_id,
          encounterId: row.encounter_id,
          nonce: row.nonce,
        };
      }
      const account = await accounts.get(grant.accountId);
      if (!account || account.disabled || !isRole(grant.role)) return oauthError(reply, 400, 'invalid_grant', 'The account can no longer be used');
      const issued = await tokens.issue(
        {
          sub: account.id,
          role: grant.role,
          org: grant.organizationId || undefined,
          practitioner: account.practitionerId,
          patient: grant.patientId ?? undefined,
          scope: grant.scope,
          client_id: client.client_id,
        },
        opts.tokenTtlSeconds,
      );
      const more = await tokenExtras(extras, grant, account.practitionerId, account.kind === 'citizen' ? account.patientId : undefined);
      await audit.record({
        accountId: account.id,
        username: account.username,
        role: grant.role,
        clientId: client.client_id,
        ip: req.ip,
        action: 'oauth.token',
        outcome: 'success',
        patientIds: grant.patientId ? [grant.patientId] : [],
        detail: { grant: body.grant_type, scope: grant.scope, refresh: 'refresh_token' in more },
      });
      return reply.header('cache-control', 'no-store').send({
        access_token: issued.token,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        scope: grant.scope,
        ...(grant.patientId ? { patient: grant.patientId } : {}),
        ...more,
      });
    }

    if (body.grant_type === 'client_credentials') {
      if (!client.grant_types.includes('client_credentials') || !(client.secret_hash || client.jwks) || !client.account_id)
        return oauthError(reply, 400, 'unauthorized_client', 'This client may not use client_credentials');
      const requested = parseScopes(body.scope ?? client.scopes.join(' '));
      const allowed = parseScopes(client.scopes.join(' ')).scopes;
      if (requested.unknown.length || !withinScopes(requested.scopes, allowed))
        return oauthError(reply, 400, 'invalid_scope', 'The requested scopes exceed what this client may ask for');
      // SMART: patient/ scopes mean "this one patient"; client credentials carry no patient, so they would read everyone.
      if (requested.scopes.some((x) => x.context === 'patient')) {
        await audit.record({
          clientId: client.client_id,
          ip: req.ip,
          action: 'oauth.token',
          outcome: 'denied',
          detail: { grant: 'client_credentials', reason: 'patient scopes without a patient context', scope: requested.raw.join(' ') },
        });
        return oauthError(
          reply,
          400,
          'invalid_scope',
          'patient/ scopes need a patient context (authorization_code with a patient launch); client_credentials grants system/ scopes',
        );
      }
      const account = await accounts.get(client.account_id);
      const held = account?.roles[0];
      if (!account || account.disabled || !held) return oauthError(reply, 400, 'invalid_grant', 'The client has no usable service account');
      const issued = await tokens.issue(
        { sub: account.id, role: held.role, org: held.organizationId || undefined, scope: requested.raw.join(' '), client_id: client.client_id },
        opts.tokenTtlSeconds,
      );
      await audit.record({
        accountId: account.id,
        username: account.username,
        role: held.role,
        clientId: client.client_id,
        ip: req.ip,
        action: 'oauth.token',
        outcome: 'success',
        detail: { grant: 'client_credentials', scope: requested.raw.join(' ') },
      });
      return reply
        .header('cache-control', 'no-store')
        .send({ access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: requested.raw.join(' ') });
    }
    return oauthError(reply, 400, 'unsupported_grant_type', 'grant_type must be authorization_code, refresh_token or client_credentials');
  });

  // The consent screen and the chart's launcher send the browser there with location.assign: a
  // javascript:/data: address would run in the platform's origin. http(s), or a native app's
  // private-use scheme in reverse-DNS form (RFC 8252 §7.1: com.example.app:/callback).
  const webUrl = z
    .string()
    .url()
    .max(1000)
    .refine((u) => /^https?:$/.test(new URL(u).protocol), 'must be an http(s) address');
  const redirectUrl = z
    .string()
    .url()
    .max(1000)
    .refine((u) => /^(https?|[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+):$/i.test(new URL(u).protocol), 'must be an http(s) address or a reverse-DNS app scheme');
  const clientBody = z
    .object({
      name: z.string().min(1).max(200),
      redirectUris: z.array(redirectUrl).max(10).default([]),
      scopes: z.array(z.string().max(100)).min(1).max(50),
      grantTypes: z.array(z.enum(['authorization_code', 'client_credentials'])).min(1),
      confidential: z.boolean().default(false),
      serviceRole: z.string().optional(),
      /** SMART backend services: the client's public keys; it then authenticates with private_key_jwt (no secret). */
      jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(5) }).optional(),
      /** SMART EHR launch: the app's launch address, opened from a chart with iss and launch. */
      launchUri: webUrl.optional(),
    })
    .strict();

  app.post('/api/oauth/clients', { config: { access: { domain: 'account.manage' } } }, async (req, reply) => {
    /** A registration that cannot be made: 400 with the reason. */
    const refuse = (title: string) => reply.code(400).type('application/problem+json').send(problem(400, title));
    const parsed = clientBody.safeParse(req.body ?? {});
    if (!parsed.success) return refuse(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const b = parsed.data;
    const bad = parseScopes(b.scopes.join(' ')).unknown;
    if (bad.length) return refuse(`Unknown scopes: ${bad.join(' ')}`);
    let accountId: string | undefined;
    if (b.grantTypes.includes('client_credentials')) {
      if (!b.grantTypes.includes('authorization_code') && parseScopes(b.scopes.join(' ')).scopes.some((x) => x.context === 'patient')) {
        return refuse('patient/ scopes need a patient context: a client_credentials client asks for system/ scopes');
      }
      // A facility administrator grants a service account no more than a staff account on the
      // account screens: none of NON_FACILITY_ROLES (integration reaches every record in the country).
      const actor = req.ctx.actor;
      if (isRole(b.serviceRole) && actor.role !== 'system_admin' && (NON_FACILITY_ROLES.includes(b.serviceRole) || !actor.organizationId)) {
        return refuse(`serviceRole ${b.serviceRole}: quản trị cơ sở không cấp được vai trò này (a facility administrator cannot grant this role)`);
      }
      // Reading the audit trail is the data-protection officer's, checked apart from those who run the
      // platform: an account manager (system or facility administrator) cannot give it to a service account.
      if (isRole(b.serviceRole) && POLICY[b.serviceRole as Role].domain.includes('audit.read') && !domainAllowed(actor.role!, 'audit.read')) {
        return refuse(
          `serviceRole ${b.serviceRole}: đọc nhật ký truy cập không do người quản trị cấp (reading the audit trail is not an administrator's to grant)`,
        );
      }
      if (
        !(b.confidential || b.jwks) ||
        !isRole(b.serviceRole) ||
        b.serviceRole === 'citizen' ||
        POLICY[b.serviceRole as Role].domain.includes('account.manage')
      ) {
        return refuse('client_credentials needs a confidential client and a serviceRole (not citizen or an administrator role)');
      }
      const svc = await accounts.create({
        username: `svc-${randomUUID().slice(0, 8)}`,
        displayName: b.name,
        kind: 'service',
        roles: [{ role: b.serviceRole as Role, organizationId: req.ctx.actor.organizationId ?? '' }],
      });
      accountId = svc.id;
    }
    // A facility administrator's app belongs to their facility; a system administrator's is platform-wide.
    const organizationId = req.ctx.actor.role === 'system_admin' ? undefined : req.ctx.actor.organizationId;
    const c = await registerClient(db, {
      ...b,
      confidential: b.confidential && !b.jwks,
      jwks: b.jwks as JSONWebKeySet | undefined,
      accountId,
      organizationId,
    });
    await audit.record({
      ...actorFields(req.ctx),
      clientId: c.clientId,
      action: 'oauth.client.create',
      outcome: 'success',
      detail: { name: b.name, scopes: b.scopes },
    });
    return reply.code(201).send(c);
  });
}
