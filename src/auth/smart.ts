/**
 * SMART App Launch (HL7 SMART App Launch 2.x) on top of the OAuth server in oauth.ts:
 * - EHR launch: a clinician opens an app from a patient's chart (`POST /api/smart/launch`); the
 *   app's launch address gets `iss` and a one-time `launch` id that binds the clinician, the app,
 *   the patient and optionally the encounter. The token then carries that patient (and encounter):
 *   its FHIR access is confined to that one patient, whatever its user/ scopes say.
 * - Standalone launch: an app sends the person to /oauth/authorize itself; a citizen's
 *   `launch/patient` context is their own record. Staff standalone launches carry no patient.
 * - Consent: every authorization not started from the chart waits for the person's decision on
 *   the consent screen of the web app (/apps/authorize, labels in web/src/i18n-formats.ts), which
 *   shows the app's name and the scopes (`GET/POST /api/smart/requests/:id`).
 * - OpenID Connect (`openid fhirUser`): an id_token naming the person's FHIR resource.
 * - Refresh tokens for `offline_access` / `online_access`: hashed, used once (each use issues the
 *   next), bound to the account's generation (sign-out everywhere ends them), 30 days / 12 hours.
 * - CORS for the endpoints a browser app on another origin calls with a bearer token (FHIR, token,
 *   discovery): `*` without credentials, so a session cookie never works cross-origin.
 * Rules: nothing here widens a role; codes, launches and pending requests are single use and short-lived.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Encounter } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuditLog } from '../audit/audit.ts';
import type { Db } from '../db/db.ts';
import type { AccessControl } from './access.ts';
import type { AccountService } from './accounts.ts';
import { isRole } from './policy.ts';
import { actorFields } from './principal.ts';
import { parseScopes } from './scopes.ts';
import type { TokenService } from './tokens.ts';
import type { SmartLaunchResponse, SmartRequestView } from './contract.ts';

export const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');
const problem = (status: number, title: string) => ({ type: 'about:blank', status, title });

const LAUNCH_SECONDS = 300;
const PENDING_SECONDS = 600;
const OFFLINE_DAYS = 30;
const ONLINE_HOURS = 12;

/** What an authorization code (and later a refresh token) stands for. */
export interface Grant {
  clientId: string;
  accountId: string;
  redirectUri: string;
  scope: string;
  codeChallenge: string;
  role: string;
  organizationId: string;
  patientId: string | null;
  encounterId: string | null;
  nonce: string | null;
}

/** Stores a one-time authorization code (60 s) and returns it. */
export async function issueCode(db: Db, g: Grant): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  await db.query(
    `INSERT INTO oauth_code (code_hash, client_id, account_id, redirect_uri, scope, code_challenge, role, organization_id, patient_id, encounter_id, nonce, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now() + interval '60 seconds')`,
    [sha256hex(code), g.clientId, g.accountId, g.redirectUri, g.scope, g.codeChallenge, g.role, g.organizationId, g.patientId, g.encounterId, g.nonce],
  );
  return code;
}

/** Takes an EHR launch id (once): the patient and encounter the clinician launched the app for. */
export async function takeLaunch(
  db: Db,
  launch: string,
  accountId: string,
  clientId: string,
): Promise<{ patientId: string; encounterId: string | null } | undefined> {
  const row = (
    await db.query<{ patient_id: string; encounter_id: string | null }>(
      `UPDATE smart_launch SET used_at = now() WHERE id = $1 AND account_id = $2 AND client_id = $3 AND used_at IS NULL AND expires_at > now()
       RETURNING patient_id, encounter_id`,
      [sha256hex(launch), accountId, clientId],
    )
  ).rows[0];
  return row ? { patientId: row.patient_id, encounterId: row.encounter_id } : undefined;
}

/** Keeps an authorization request until the person decides on the consent screen; returns its id. */
export async function holdForConsent(db: Db, g: Grant, state: string | undefined): Promise<string> {
  const id = randomBytes(18).toString('base64url');
  await db.query(
    `INSERT INTO oauth_pending (id, account_id, client_id, redirect_uri, scope, state, nonce, code_challenge, role, organization_id, patient_id, encounter_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now() + make_interval(secs => $13))`,
    [
      id,
      g.accountId,
      g.clientId,
      g.redirectUri,
      g.scope,
      state ?? null,
      g.nonce,
      g.codeChallenge,
      g.role,
      g.organizationId,
      g.patientId,
      g.encounterId,
      PENDING_SECONDS,
    ],
  );
  return id;
}

export interface ExtrasOptions {
  db: Db;
  tokens: TokenService;
  accounts: AccountService;
  baseUrl: string;
}

/**
 * What a token response adds for a SMART app: encounter context, an id_token (openid + fhirUser
 * or profile) and a refresh token (offline_access / online_access).
 */
export async function tokenExtras(
  opts: ExtrasOptions,
  g: Omit<Grant, 'redirectUri' | 'codeChallenge'>,
  practitionerId: string | undefined,
  citizenPatientId: string | undefined,
): Promise<Record<string, unknown>> {
  const scopes = new Set(g.scope.split(/\s+/));
  const out: Record<string, unknown> = {};
  if (g.encounterId) out.encounter = g.encounterId;
  if (g.patientId) out.need_patient_banner = true;
  if (scopes.has('openid') && (scopes.has('fhirUser') || scopes.has('profile'))) {
    const fhirBase = `${opts.baseUrl}/fhir/R4`;
    const fhirUser = citizenPatientId ? `${fhirBase}/Patient/${citizenPatientId}` : practitionerId ? `${fhirBase}/Practitioner/${practitionerId}` : undefined;
    out.id_token = await opts.tokens.signIdToken({ sub: g.accountId, aud: g.clientId, fhirUser, nonce: g.nonce ?? undefined });
  }
  const offline = scopes.has('offline_access');
  if (offline || scopes.has('online_access')) {
    const generation = (await opts.db.query<{ generation: number }>('SELECT generation FROM account WHERE id = $1', [g.accountId])).rows[0]?.generation;
    const refresh = randomBytes(32).toString('base64url');
    await opts.db.query(
      `INSERT INTO oauth_refresh (token_hash, client_id, account_id, scope, role, organization_id, patient_id, encounter_id, generation, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10))`,
      [
        sha256hex(refresh),
        g.clientId,
        g.accountId,
        g.scope,
        g.role,
        g.organizationId,
        g.patientId,
        g.encounterId,
        generation ?? 0,
        offline ? OFFLINE_DAYS * 86_400 : ONLINE_HOURS * 3600,
      ],
    );
    out.refresh_token = refresh;
  }
  return out;
}

/**
 * Redeems a refresh token (once) for the same grant, optionally narrowed to fewer scopes; refused
 * when spent, expired, another client's, or the account signed out everywhere, was disabled or
 * changed role since.
 */
export async function redeemRefresh(
  db: Db,
  refreshToken: string,
  clientId: string,
  scope: string | undefined,
): Promise<{ grant: Omit<Grant, 'redirectUri' | 'codeChallenge'> } | { error: string }> {
  const row = (
    await db.query<{
      client_id: string;
      account_id: string;
      scope: string;
      role: string;
      organization_id: string;
      patient_id: string | null;
      encounter_id: string | null;
      live: boolean;
    }>(
      `UPDATE oauth_refresh f SET used_at = now() FROM account a
       WHERE f.token_hash = $1 AND f.used_at IS NULL AND f.expires_at > now() AND a.id = f.account_id
       RETURNING f.client_id, f.account_id, f.scope, f.role, f.organization_id, f.patient_id, f.encounter_id, (a.generation = f.generation AND NOT a.disabled) AS live`,
      [sha256hex(refreshToken)],
    )
  ).rows[0];
  if (!row || row.client_id !== clientId || !row.live || !isRole(row.role))
    return { error: 'The refresh token is unknown, used, expired, revoked or was issued to another client' };
  const granted = row.scope.split(/\s+/);
  const asked = scope ? scope.split(/\s+/).filter(Boolean) : granted;
  if (!asked.every((s) => granted.includes(s))) return { error: 'A refresh may only keep or narrow the granted scopes' };
  return {
    grant: {
      clientId,
      accountId: row.account_id,
      scope: asked.join(' '),
      role: row.role,
      organizationId: row.organization_id,
      patientId: row.patient_id,
      encounterId: row.encounter_id,
      nonce: null,
    },
  };
}

/** SQL: an app the caller may list and launch — platform-wide (no facility), their facility's, or any for a system administrator. */
const appVisible = (isAdmin: string, org: string) => `(${isAdmin}::boolean OR organization_id IS NULL OR organization_id = ${org})`;

export interface SmartRouteOptions {
  db: Db;
  audit: AuditLog;
  access: AccessControl;
  baseUrl: string;
}

const CORS_PATHS = /^\/(fhir\/R4(\/|$)|oauth\/token$|\.well-known\/)/;

/** CORS headers on every answer of the FHIR, token and discovery endpoints (call on the root instance: hooks of a registered plugin stay inside it). */
export function registerSmartCors(app: FastifyInstance): void {
  // CORS: a SMART app in a browser on its own origin calls FHIR and the token endpoint with a bearer token.
  app.addHook('onSend', async (req, reply) => {
    if (!CORS_PATHS.test(req.url.split('?')[0]) || !req.headers.origin) return;
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', 'location, content-location, etag, last-modified, x-progress');
    reply.removeHeader('cross-origin-resource-policy');
  });
}

export async function smartRoutes(app: FastifyInstance, opts: SmartRouteOptions): Promise<void> {
  const { db, audit } = opts;
  const fhirBase = `${opts.baseUrl}/fhir/R4`;

  const preflight = async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE')
      .header('access-control-allow-headers', 'authorization, content-type, accept, prefer, if-match, if-none-exist, x-purpose-of-use')
      .header('access-control-max-age', '600')
      .send();
  app.options('/fhir/R4/*', { config: { access: 'public' } }, preflight);
  app.options('/oauth/token', { config: { access: 'public' } }, preflight);

  /**
   * Apps a clinician may open from a chart (those registered with a launch address): the
   * platform-wide ones and those registered for the caller's facility; a system administrator sees all.
   */
  app.get('/api/smart/apps', { config: { access: 'person' } }, async (req) => {
    if (req.ctx.actor.role === 'citizen') return [];
    const rows = await db.query<{ client_id: string; name: string }>(
      `SELECT client_id, name FROM oauth_client WHERE launch_uri IS NOT NULL AND revoked_at IS NULL AND 'authorization_code' = ANY(grant_types)
          AND ${appVisible('$1', '$2')} ORDER BY name`,
      [req.ctx.actor.role === 'system_admin', req.ctx.actor.organizationId ?? ''],
    );
    return rows.rows.map((r) => ({ clientId: r.client_id, name: r.name }));
  });

  const launchBody = z
    .object({
      clientId: z.string().min(1).max(100),
      patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/),
      encounterId: z
        .string()
        .regex(/^[A-Za-z0-9\-.]{1,64}$/)
        .optional(),
    })
    .strict();

  /** EHR launch: a clinician signed in to the web app opens an app for a patient they may see. */
  app.post('/api/smart/launch', { config: { access: 'person' } }, async (req, reply) => {
    const actor = req.ctx.actor;
    const parsed = launchBody.safeParse(req.body ?? {});
    if (!parsed.success)
      return reply
        .code(400)
        .type('application/problem+json')
        .send(problem(400, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')));
    if (actor.via !== 'session' || actor.role === 'citizen' || !actor.accountId)
      return reply
        .code(403)
        .type('application/problem+json')
        .send(problem(403, 'Chỉ nhân viên y tế đang đăng nhập mới mở được ứng dụng từ hồ sơ (staff sign-in required)'));
    const b = parsed.data;
    const client = (
      await db.query<{ launch_uri: string | null; name: string; grant_types: string[] }>(
        `SELECT launch_uri, name, grant_types FROM oauth_client WHERE client_id = $1 AND revoked_at IS NULL AND ${appVisible('$2', '$3')}`,
        [b.clientId, actor.role === 'system_admin', actor.organizationId ?? ''],
      )
    ).rows[0];
    if (!client?.launch_uri || !client.grant_types.includes('authorization_code'))
      return reply.code(404).type('application/problem+json').send(problem(404, 'Không có ứng dụng này (no launchable app with this id)'));
    const reach = await opts.access.patientAccess(db, actor, b.patientId);
    if (!reach.allowed) {
      await audit.record({ ...actorFields(req.ctx), clientId: b.clientId, action: 'smart.launch', outcome: 'denied', patientIds: [b.patientId] });
      return reply.code(403).type('application/problem+json').send(problem(403, 'Bạn không có quyền xem hồ sơ người bệnh này (no access to this patient)'));
    }
    // The encounter context, if any, must be this patient's and one the clinician may read (read through their repository: audited).
    if (b.encounterId) {
      const encounter = await app.store
        .as(req.ctx)
        .tryRead<Encounter>('Encounter', b.encounterId)
        .catch(() => undefined);
      if (encounter?.subject?.reference !== `Patient/${b.patientId}`)
        return reply
          .code(400)
          .type('application/problem+json')
          .send(problem(400, 'Lần khám này không thuộc người bệnh đã chọn (the encounter is not this patient’s)'));
    }
    const launch = randomBytes(24).toString('base64url');
    await db.query(
      `INSERT INTO smart_launch (id, account_id, client_id, patient_id, encounter_id, expires_at) VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
      [sha256hex(launch), actor.accountId, b.clientId, b.patientId, b.encounterId ?? null, LAUNCH_SECONDS],
    );
    await audit.record({
      ...actorFields(req.ctx),
      clientId: b.clientId,
      action: 'smart.launch',
      outcome: 'success',
      patientIds: [b.patientId],
      detail: { app: client.name, encounter: b.encounterId },
    });
    const url = new URL(client.launch_uri);
    url.searchParams.set('iss', fhirBase);
    url.searchParams.set('launch', launch);
    const out: SmartLaunchResponse = { launchUrl: url.toString() };
    return reply.code(201).send(out);
  });

  const pendingOf = async (id: string, accountId: string | undefined) =>
    (
      await db.query<{
        id: string;
        account_id: string;
        client_id: string;
        client_name: string;
        redirect_uri: string;
        scope: string;
        state: string | null;
        nonce: string | null;
        code_challenge: string;
        role: string;
        organization_id: string;
        patient_id: string | null;
        encounter_id: string | null;
      }>(
        `SELECT p.*, c.name AS client_name FROM oauth_pending p JOIN oauth_client c ON c.client_id = p.client_id
         WHERE p.id = $1 AND p.account_id = $2 AND p.decided_at IS NULL AND p.expires_at > now() AND c.revoked_at IS NULL`,
        [id, accountId ?? ''],
      )
    ).rows[0];

  const idParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{10,64}$/) });

  /** The consent screen's content: which app asks for what. Only the person it was asked of sees it. */
  app.get('/api/smart/requests/:id', { config: { access: 'person' } }, async (req, reply) => {
    const p = idParam.safeParse(req.params);
    const row = p.success ? await pendingOf(p.data.id, req.ctx.actor.accountId) : undefined;
    if (!row) return reply.code(404).type('application/problem+json').send(problem(404, 'Yêu cầu cấp quyền không còn hiệu lực (no such pending request)'));
    const view: SmartRequestView = {
      id: row.id,
      app: { clientId: row.client_id, name: row.client_name, redirectHost: new URL(row.redirect_uri).host },
      scopes: row.scope.split(/\s+/).filter(Boolean),
      clinical: parseScopes(row.scope).scopes.map((s) => ({ context: s.context, resourceType: s.resourceType, actions: [...s.actions] })),
      patientId: row.patient_id ?? undefined,
    };
    return view;
  });

  const decisionBody = z.object({ allow: z.boolean() }).strict();

  /** The person's answer: allow → a code for the app; refuse → `access_denied`. Either way, back to the app. */
  app.post('/api/smart/requests/:id/decision', { config: { access: 'person' } }, async (req, reply) => {
    const p = idParam.safeParse(req.params);
    const body = decisionBody.safeParse(req.body ?? {});
    if (!body.success) return reply.code(400).type('application/problem+json').send(problem(400, 'allow (true/false) is required'));
    const row = p.success ? await pendingOf(p.data.id, req.ctx.actor.accountId) : undefined;
    if (!row) return reply.code(404).type('application/problem+json').send(problem(404, 'Yêu cầu cấp quyền không còn hiệu lực (no such pending request)'));
    const taken = await db.query('UPDATE oauth_pending SET decided_at = now() WHERE id = $1 AND decided_at IS NULL RETURNING id', [row.id]);
    if (!taken.rows.length) return reply.code(409).type('application/problem+json').send(problem(409, 'Đã trả lời yêu cầu này (already decided)'));
    const back = new URL(row.redirect_uri);
    if (body.data.allow) {
      const code = await issueCode(db, {
        clientId: row.client_id,
        accountId: row.account_id,
        redirectUri: row.redirect_uri,
        scope: row.scope,
        codeChallenge: row.code_challenge,
        role: row.role,
        organizationId: row.organization_id,
        patientId: row.patient_id,
        encounterId: row.encounter_id,
        nonce: row.nonce,
      });
      back.searchParams.set('code', code);
    } else {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The person refused the request');
    }
    if (row.state) back.searchParams.set('state', row.state);
    await audit.record({
      ...actorFields(req.ctx),
      clientId: row.client_id,
      action: 'oauth.authorize',
      outcome: body.data.allow ? 'success' : 'denied',
      patientIds: row.patient_id ? [row.patient_id] : [],
      detail: { scope: row.scope, consent: body.data.allow ? 'allowed' : 'refused' },
    });
    return { redirect: back.toString() };
  });
}
