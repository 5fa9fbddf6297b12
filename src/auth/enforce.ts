/**
 * The single enforcement point. Every route must declare `config.access`; a route without one
 * cannot even be registered. For every request:
 *   1. authenticate: bearer token (JWT) or session cookie (+ CSRF token on state changes);
 *   2. check the route's access rule against the policy table;
 *   3. hand the FHIR service the AccessContext, which checks patient relationships and audits.
 * Denials are answered 401/403 and appended to the audit trail.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit.ts';
import type { AccountService } from './accounts.ts';
import { AccessDenied } from './access.ts';
import type { AccessContext, Actor } from './actor.ts';
import { BREAK_GLASS_CODING, type AccessProblem } from './contract.ts';
import { actorFields } from './principal.ts';
import { domainAllowed, TOKEN_DOMAIN_RULES, type DomainAction, type TokenDomainRule } from './policy.ts';
import { parseScopes, scopeAllows, type Scope } from './scopes.ts';
import { SESSION_COOKIE, type SessionService } from './sessions.ts';
import type { TokenService } from './tokens.ts';

/**
 * - 'public': no sign-in needed (sign-in itself, metadata, JWKS, the web app);
 * - 'mfa-pending': a person signed in at the screen (a session) who may still owe the second
 *   factor (sign-in and MFA endpoints) — never an app's token;
 * - 'person': a person fully signed in at the screen (a session): what only they may do or say
 *   themselves (switch role, launch an app, approve what an app asks for) — never an app's token;
 * - 'authenticated': any fully signed-in actor;
 * - 'fhir': any fully signed-in actor; the FHIR service then checks role, scopes and patient;
 * - { domain }: an action from the policy table (an app's token further as TOKEN_DOMAIN_RULES says,
 *   or `tokens` where the route shows more than its action's type stands for).
 */
export type RouteAccess = 'public' | 'mfa-pending' | 'person' | 'authenticated' | 'fhir' | { domain: DomainAction; tokens?: TokenDomainRule };

/** Why an app's token is refused where a person must act themselves. */
export const NOT_FOR_TOKENS = 'Chỉ người dùng đã đăng nhập mới làm được việc này, không qua mã truy cập của ứng dụng (not for app tokens)';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    ctx: AccessContext;
    /** A credential that was presented but is not valid: refused in preHandler, after the rate limit. */
    authError?: AccessDenied;
  }
}

export interface EnforcementOptions {
  tokens: TokenService;
  sessions: SessionService;
  accounts: AccountService;
  audit: AuditLog;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const WRITES = ['create', 'update', 'delete'] as const;

export interface RouteRule {
  method: string;
  url: string;
  access: RouteAccess;
}

/** Registered before any route: refuses routes that declare no access rule; lists the others. */
export function requireAccessRules(app: FastifyInstance): RouteRule[] {
  const rules: RouteRule[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue; // Fastify's automatic HEAD twin of a GET route
      if (!route.config?.access) throw new Error(`Route ${method} ${route.url} has no access rule (config.access)`);
      rules.push({ method, url: route.url, access: route.config.access });
    }
  });
  return rules;
}

export function registerEnforcement(app: FastifyInstance, opts: EnforcementOptions): void {
  app.decorateRequest('ctx', undefined as unknown as AccessContext);

  app.addHook('onRequest', async (req) => {
    let actor: Actor = { via: 'none' };
    try {
      actor = await authenticate(req, opts);
    } catch (err) {
      if (!(err instanceof AccessDenied)) throw err;
      req.authError = err;
    }
    req.ctx = { actor, ip: req.ip, purpose: purposeOf(req) };
  });

  app.addHook('preHandler', async (req) => {
    if (req.authError) throw req.authError;
    const rule = req.routeOptions.config?.access;
    if (!rule) throw new AccessDenied('This route has no access rule');
    enforceRule(req.ctx.actor, rule, req);
  });
}

function purposeOf(req: FastifyRequest): string | undefined {
  const p = req.headers['x-purpose-of-use'];
  return typeof p === 'string' ? p.slice(0, 200) : undefined;
}

async function authenticate(req: FastifyRequest, opts: EnforcementOptions): Promise<Actor> {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!m) throw new AccessDenied('Authorization header must be "Bearer <token>"', 401);
    const claims = await opts.tokens.verify(m[1]);
    if (!claims) throw new AccessDenied('Token không hợp lệ hoặc đã hết hạn (invalid or expired token)', 401);
    const scopes = parseScopes(claims.scope).scopes;
    // A patient/ scope without the patient it is about would reach every patient the role reaches.
    if (scopes.some((s) => s.context === 'patient') && !claims.patient)
      throw new AccessDenied('Token có phạm vi patient/ nhưng không gắn với người bệnh nào (patient/ scopes without a patient context)', 401);
    return {
      via: 'bearer',
      accountId: claims.sub,
      role: claims.role,
      organizationId: claims.org,
      practitionerId: claims.practitioner,
      patientId: claims.patient,
      scopes,
      clientId: claims.client_id,
    };
  }
  const token = req.cookies?.[SESSION_COOKIE];
  if (!token) return { via: 'none' };
  const actor = await sessionActor(token, opts);
  if (!actor) return { via: 'none' };
  if (!SAFE_METHODS.has(req.method) && req.headers['x-csrf-token'] !== actor.csrfToken) {
    throw new AccessDenied('Thiếu hoặc sai mã chống giả mạo (missing or wrong CSRF token)', 403);
  }
  return actor;
}

/**
 * The actor of a session cookie's token, as a request carrying it is authenticated: undefined when
 * the session is over (signed out, idle, expired) or the account is gone or disabled. `peek` does
 * not touch the session's idle clock (a long-lived stream re-checking its caller must not keep an
 * idle session alive).
 */
export async function sessionActor(
  token: string,
  opts: Pick<EnforcementOptions, 'sessions' | 'accounts'>,
  { peek = false }: { peek?: boolean } = {},
): Promise<Actor | undefined> {
  const session = peek ? await opts.sessions.peek(token) : await opts.sessions.get(token);
  if (!session) return undefined;
  const account = await opts.accounts.get(session.accountId);
  if (!account || account.disabled) return undefined;
  const held = account.roles.find((r) => r.role === session.role && r.organizationId === session.organizationId) ?? account.roles[0];
  return {
    via: 'session',
    accountId: account.id,
    username: account.username,
    displayName: account.displayName,
    role: held?.role ?? (account.kind === 'citizen' ? 'citizen' : undefined),
    organizationId: held?.organizationId || undefined,
    practitionerId: account.practitionerId,
    patientId: account.kind === 'citizen' ? account.patientId : undefined,
    sessionId: session.id,
    csrfToken: session.csrfToken,
    mfaPending: account.kind === 'staff' && !session.mfaVerified,
  };
}

function enforceRule(actor: Actor, rule: RouteAccess, req: FastifyRequest): void {
  if (rule === 'public') return;
  if (actor.via === 'none' || !actor.accountId) throw new AccessDenied('Cần đăng nhập (sign in first)', 401);
  if ((rule === 'mfa-pending' || rule === 'person') && actor.via !== 'session') throw new AccessDenied(NOT_FOR_TOKENS, 403);
  if (rule === 'mfa-pending') return;
  if (actor.mfaPending) throw new AccessDenied('Cần xác thực hai lớp (complete two-factor sign-in first)', 401);
  if (rule === 'authenticated' || rule === 'fhir' || rule === 'person') {
    if (!actor.role) throw new AccessDenied('Tài khoản chưa có vai trò (account has no role)', 403);
    return;
  }
  if (!actor.role || !domainAllowed(actor.role, rule.domain)) {
    throw new AccessDenied(
      `Vai trò ${actor.role ?? '—'} không được phép (${rule.domain} not allowed for this role) — ${req.method} ${req.routeOptions.url}`,
      403,
    );
  }
  if (actor.via === 'bearer') {
    const refusal = tokenDomainRefusal(actor.scopes ?? [], rule.domain, req.method, rule.tokens);
    if (refusal) throw new AccessDenied(refusal, 403);
  }
}

/**
 * Why an app's token may not use a domain route (TOKEN_DOMAIN_RULES in policy.ts, or the route's
 * own stricter rule), or undefined when it may.
 */
export function tokenDomainRefusal(
  scopes: Scope[],
  domain: DomainAction,
  method: string,
  rule: TokenDomainRule = TOKEN_DOMAIN_RULES[domain],
): string | undefined {
  if (rule === 'person') return NOT_FOR_TOKENS;
  if (rule === 'aggregate') {
    // A token that may change nothing through the FHIR API changes nothing through a domain route either.
    if (SAFE_METHODS.has(method) || scopes.some((s) => WRITES.some((a) => s.actions.has(a)))) return undefined;
    return 'Mã truy cập của ứng dụng chỉ được đọc, không được thay đổi (the token allows reading only)';
  }
  const action = SAFE_METHODS.has(method) ? 'search' : 'create';
  // A facility's list: a scope for one patient's compartment does not reach it.
  const usable = rule.facility ? scopes.filter((s) => s.context !== 'patient') : scopes;
  const missing = (typeof rule.type === 'string' ? [rule.type] : rule.type).find((type) => !scopeAllows(usable, action, type));
  if (!missing) return undefined;
  const context = rule.facility ? ' (user/ or system/)' : '';
  return `Phạm vi của mã truy cập không cho phép ${missing} (the token's scopes${context} do not allow ${action} on ${missing})`;
}

/** Appends a denial to the audit trail (outside the failed request's transaction). */
export async function auditDenial(audit: AuditLog, req: FastifyRequest, err: AccessDenied): Promise<void> {
  const ctx = req.ctx ?? { actor: { via: 'none' }, ip: req.ip };
  const params = (req.params ?? {}) as Record<string, string>;
  await audit.record({
    ...actorFields(ctx),
    action: 'denied',
    outcome: 'denied',
    resourceType: params.type,
    resourceId: params.id,
    patientIds: err.patientId ? [err.patientId] : [],
    detail: { method: req.method, route: req.routeOptions?.url ?? req.url.split('?')[0], status: err.status, message: err.message.slice(0, 300) },
  });
}

export function sendDenied(req: FastifyRequest, reply: FastifyReply, err: AccessDenied, fhir: boolean): FastifyReply {
  const code = err.status === 401 ? 'login' : 'forbidden';
  if (err.status === 401) reply.header('www-authenticate', 'Bearer realm="cauyte"');
  if (fhir) {
    return reply
      .code(err.status)
      .type('application/fhir+json; charset=utf-8')
      .send({
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code,
            details: {
              text: err.message,
              ...(err.breakGlassPossible ? { coding: [BREAK_GLASS_CODING] } : {}),
            },
            diagnostics: err.message,
          },
        ],
      });
  }
  return reply
    .code(err.status)
    .type('application/problem+json')
    .send({
      type: 'about:blank',
      title: err.message,
      status: err.status,
      ...(err.breakGlassPossible ? { breakGlass: true, patientId: err.patientId } : {}),
    } satisfies AccessProblem);
}
