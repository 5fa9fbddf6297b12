/**
 * Sign-in, two-factor sign-in and enrolment, who am I, role switch, sign-out and sessions.
 * Bodies are parsed with the contract's schemas and answers have its types (contract.ts); errors
 * are JSON problems with a readable message.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseInput as parse } from '../http/input.ts';
import { iso } from '../http/json.ts';
import type { AuditLog } from '../audit/audit.ts';
import type { AccountService } from './accounts.ts';
import { actorFields } from './principal.ts';
import { ROLE_LABELS } from './policy.ts';
import { SESSION_COOKIE, type SessionService } from './sessions.ts';
import {
  codeBody,
  loginBody,
  roleBody,
  type LoginResult,
  type Me,
  type MfaEnrolled,
  type MfaEnrolment,
  type Ok,
  type SessionView,
  type SignedOutEverywhere,
} from './contract.ts';

export interface AuthRoutesOptions {
  accounts: AccountService;
  sessions: SessionService;
  audit: AuditLog;
  secureCookies: boolean;
}

function retrySeconds(until: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
}

/** The back-off answer: the same for every username (it says nothing about whether one exists). */
function sendBackoff(reply: FastifyReply, until: Date): FastifyReply {
  const seconds = retrySeconds(until);
  const minutes = Math.ceil(seconds / 60);
  return reply
    .code(423)
    .header('retry-after', String(seconds))
    .type('application/problem+json')
    .send({
      type: 'about:blank',
      status: 423,
      title: `Tạm khóa đăng nhập với tên này từ địa chỉ này do sai nhiều lần, thử lại sau ${minutes} phút (too many failed sign-ins for this username from here; try again in ${minutes} min)`,
    });
}

function cookieOptions(secure: boolean) {
  return { path: '/', httpOnly: true, secure, sameSite: 'strict' as const };
}

export async function authRoutes(app: FastifyInstance, opts: AuthRoutesOptions): Promise<void> {
  const { accounts, sessions, audit } = opts;

  const meta = (req: FastifyRequest) => ({ ip: req.ip, userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined });

  app.post('/api/auth/login', { config: { access: 'public', rateLimit: { max: 20, timeWindow: '1 minute' } } }, async (req, reply) => {
    const body = parse(loginBody, req.body);
    const result = await accounts.checkLogin(body.username, body.password, req.ip);
    const base = { ip: req.ip, username: body.username };
    if (!result.ok) {
      await audit.record({
        ...base,
        accountId: result.accountId,
        action: 'login',
        outcome: 'failure',
        detail: { reason: result.reason, locked: !!result.blockedUntil, justLocked: result.reason === 'bad-credentials' && !!result.blockedUntil },
      });
      // Known or unknown username, the same answers: throttling counts per username string and source.
      if (result.blockedUntil) return sendBackoff(reply, result.blockedUntil);
      if (result.reason === 'disabled') {
        // Only someone who knows the password gets here.
        return reply.code(403).type('application/problem+json').send({
          type: 'about:blank',
          status: 403,
          title: 'Tài khoản đã bị vô hiệu hóa; liên hệ quản trị viên để mở lại (account disabled; ask an administrator to enable it)',
        });
      }
      return reply
        .code(401)
        .type('application/problem+json')
        .send({ type: 'about:blank', status: 401, title: 'Sai tên đăng nhập hoặc mật khẩu (wrong username or password)' });
    }
    const account = result.account;
    const held = account.roles.find((r) => r.role === body.role) ?? account.roles[0];
    const { token, session } = await sessions.create(
      account.id,
      !result.needsMfa,
      held ?? (account.kind === 'citizen' ? { role: 'citizen', organizationId: '' } : undefined),
      meta(req),
    );
    await audit.record({
      ...base,
      accountId: account.id,
      role: held?.role,
      organizationId: held?.organizationId,
      action: 'login',
      outcome: 'success',
      detail: { stage: result.needsMfa ? 'password' : 'complete' },
    });
    reply.setCookie(SESSION_COOKIE, token, cookieOptions(opts.secureCookies));
    return {
      status: result.needsEnrolment ? 'enrolment-required' : result.needsMfa ? 'mfa-required' : 'ok',
      csrfToken: session.csrfToken,
    } satisfies LoginResult;
  });

  app.post('/api/auth/mfa', { config: { access: 'mfa-pending', rateLimit: { max: 20, timeWindow: '1 minute' } } }, async (req, reply) => {
    const { code } = parse(codeBody, req.body);
    const a = req.ctx.actor;
    const result = await accounts.verifySecondFactor(a.accountId!, code);
    await audit.record({
      ...actorFields(req.ctx),
      action: 'login.mfa',
      outcome: result.ok ? 'success' : 'failure',
      detail: result.ok ? { via: result.via } : { reason: result.reason, locked: !!result.lockedUntil },
    });
    if (!result.ok && result.lockedUntil) {
      // The second factor is locked for this account (the person already passed the password).
      return reply
        .code(423)
        .header('retry-after', String(retrySeconds(result.lockedUntil)))
        .type('application/problem+json')
        .send({
          type: 'about:blank',
          status: 423,
          lockedUntil: result.lockedUntil,
          title: `Xác thực hai lớp tạm khóa do nhập sai nhiều lần, thử lại sau ${result.lockedUntil.toISOString()}, hoặc liên hệ quản trị viên (two-factor sign-in locked after repeated wrong codes)`,
        });
    }
    // 400, not 401: the session stays; the person may try another code (failures count towards the lock).
    if (!result.ok) {
      const title =
        result.reason === 'reused'
          ? 'Mã này đã được dùng; chờ mã mới (this code was already used; wait for the next one)'
          : 'Mã xác thực không đúng (wrong code)';
      return reply.code(400).type('application/problem+json').send({ type: 'about:blank', status: 400, title });
    }
    await sessions.markMfaVerified(a.sessionId!);
    return { status: 'ok' } satisfies Ok;
  });

  app.post('/api/auth/mfa/enrol', { config: { access: 'mfa-pending' } }, async (req, reply) => {
    const a = req.ctx.actor;
    const account = await accounts.get(a.accountId!);
    if (account?.totpEnabled)
      return reply
        .code(409)
        .type('application/problem+json')
        .send({ type: 'about:blank', status: 409, title: 'Đã bật xác thực hai lớp (two-factor sign-in is already set up)' });
    const e = await accounts.beginEnrolment(a.accountId!);
    return { secret: e.secret, otpauthUri: e.uri, qrSvg: e.qrSvg } satisfies MfaEnrolment;
  });

  app.post('/api/auth/mfa/enrol/confirm', { config: { access: 'mfa-pending' } }, async (req, reply) => {
    const { code } = parse(codeBody, req.body);
    const a = req.ctx.actor;
    const recovery = await accounts.confirmEnrolment(a.accountId!, code);
    await audit.record({ ...actorFields(req.ctx), action: 'mfa.enrol', outcome: recovery ? 'success' : 'failure' });
    if (!recovery)
      return reply
        .code(400)
        .type('application/problem+json')
        .send({ type: 'about:blank', status: 400, title: 'Mã không đúng; quét lại mã QR và thử lại (wrong code)' });
    if (a.sessionId) await sessions.markMfaVerified(a.sessionId);
    return { status: 'ok', recoveryCodes: recovery } satisfies MfaEnrolled;
  });

  app.get('/api/auth/me', { config: { access: 'mfa-pending' } }, async (req): Promise<Me> => {
    const a = req.ctx.actor;
    const account = await accounts.get(a.accountId!);
    return {
      accountId: a.accountId,
      username: account?.username,
      displayName: account?.displayName,
      kind: account?.kind,
      role: a.role,
      roleLabel: a.role ? ROLE_LABELS[a.role] : undefined,
      organizationId: a.organizationId,
      practitionerId: a.practitionerId,
      patientId: account?.patientId,
      roles: account?.roles.map((r) => ({ ...r, label: ROLE_LABELS[r.role] })),
      mfaPending: !!a.mfaPending,
      totpEnabled: account?.totpEnabled,
      csrfToken: a.csrfToken,
    };
  });

  app.post('/api/auth/role', { config: { access: 'person' } }, async (req, reply) => {
    const body = parse(roleBody, req.body);
    const account = await accounts.get(req.ctx.actor.accountId!);
    if (!account?.roles.some((r) => r.role === body.role && r.organizationId === body.organizationId) || !req.ctx.actor.sessionId) {
      return reply
        .code(403)
        .type('application/problem+json')
        .send({ type: 'about:blank', status: 403, title: 'Bạn không giữ vai trò này (you do not hold this role)' });
    }
    await sessions.setRole(req.ctx.actor.sessionId, body.role, body.organizationId);
    await audit.record({ ...actorFields(req.ctx), action: 'role.switch', outcome: 'success', detail: body });
    return { status: 'ok' } satisfies Ok;
  });

  app.post('/api/auth/logout', { config: { access: 'mfa-pending' } }, async (req, reply): Promise<Ok> => {
    if (req.ctx.actor.sessionId) await sessions.revoke(req.ctx.actor.sessionId);
    await audit.record({ ...actorFields(req.ctx), action: 'logout', outcome: 'success' });
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { status: 'ok' };
  });

  app.post('/api/auth/logout-all', { config: { access: { domain: 'account.self' } } }, async (req, reply): Promise<SignedOutEverywhere> => {
    // Sessions, access tokens issued to apps for this account, and unredeemed authorization codes.
    const n = await accounts.signOutEverywhere(req.ctx.actor.accountId!);
    await audit.record({ ...actorFields(req.ctx), action: 'logout.all', outcome: 'success', detail: { sessions: n, tokens: 'revoked' } });
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { status: 'ok', revoked: n };
  });

  app.get('/api/auth/sessions', { config: { access: { domain: 'account.self' } } }, async (req): Promise<SessionView[]> => {
    const list = await sessions.list(req.ctx.actor.accountId!);
    return list.map((s) => ({
      id: s.id.slice(0, 12),
      current: s.id === req.ctx.actor.sessionId,
      createdAt: iso(s.createdAt),
      lastSeenAt: iso(s.lastSeenAt),
      expiresAt: iso(s.expiresAt),
      ip: s.ip,
      userAgent: s.userAgent,
      role: s.role,
    }));
  });

  app.delete('/api/auth/sessions/:id', { config: { access: { domain: 'account.self' } } }, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const list = await sessions.list(req.ctx.actor.accountId!);
    const s = list.find((x) => x.id.slice(0, 12) === req.params.id);
    if (!s) return reply.code(404).type('application/problem+json').send({ type: 'about:blank', status: 404, title: 'Không tìm thấy phiên (no such session)' });
    await sessions.revoke(s.id);
    await audit.record({ ...actorFields(req.ctx), action: 'session.revoke', outcome: 'success' });
    return { status: 'ok' } satisfies Ok;
  });
}
