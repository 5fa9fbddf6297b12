/**
 * Sign-in, two-factor enrolment, sessions, roles, break-the-glass, consent and the audit views.
 * Inputs are validated with zod; errors are JSON problems with a readable message.
 */
import type { Consent, Bundle } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InputError, parseInput as parse } from '../http/input.ts';

export { InputError };
import { toAuditEvent, type AuditLog, type AuditRow } from '../audit/audit.ts';
import type { FhirService } from '../fhir/service.ts';
import { AccessDenied, type AccessControl } from './access.ts';
import { PasswordPolicyError, type AccountService } from './accounts.ts';
import { dataSubject } from './family.ts';
import { actorFields } from './guard.ts';
import { ROLE_LABELS, type Role } from './policy.ts';
import { SESSION_COOKIE, type SessionService } from './sessions.ts';

export interface AuthRoutesOptions {
  accounts: AccountService;
  sessions: SessionService;
  access: AccessControl;
  audit: AuditLog;
  fhir: FhirService;
  secureCookies: boolean;
}

const loginBody = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256), role: z.string().max(40).optional() }).strict();
const codeBody = z.object({ code: z.string().min(6).max(20) }).strict();
const roleBody = z.object({ role: z.string().max(40), organizationId: z.string().max(64).default('') }).strict();
const breakGlassBody = z.object({ patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/), reason: z.string().trim().min(10, 'Lý do cần ít nhất 10 ký tự (state the reason in at least 10 characters)').max(500) }).strict();
const reviewBody = z.object({ note: z.string().trim().min(3).max(1000) }).strict();
const consentBody = z.object({
  purpose: z.enum(['treatment', 'research']),
  decision: z.enum(['permit', 'deny']),
  organizationId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/).optional(),
  /** A family member the citizen manages; their own record when absent. */
  patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/).optional(),
}).strict();
const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional(),
  accountId: z.string().max(64).optional(),
  patientId: z.string().max(64).optional(),
  action: z.string().max(40).optional(),
  outcome: z.enum(['success', 'denied', 'failure']).optional(),
  breakGlass: z.enum(['true', 'false']).optional(),
}).strict();

function cookieOptions(secure: boolean) {
  return { path: '/', httpOnly: true, secure, sameSite: 'strict' as const };
}

/** The audit entry as a citizen or officer reads it. */
function auditView(r: AuditRow) {
  return {
    id: r.id, at: r.at, who: r.username ?? r.client_id ?? 'anonymous', role: r.role, roleLabel: r.role ? ROLE_LABELS[r.role as Role] : undefined,
    organizationId: r.organization_id, action: r.action, outcome: r.outcome, resource: r.resource_type ? `${r.resource_type}${r.resource_id ? `/${r.resource_id}` : ''}` : undefined,
    patients: r.patient_ids, reason: r.reason, breakGlass: r.break_glass, ip: r.ip, sealed: r.chain_pos !== null,
  };
}

export async function authRoutes(app: FastifyInstance, opts: AuthRoutesOptions): Promise<void> {
  const { accounts, sessions, audit, access, fhir } = opts;

  const meta = (req: FastifyRequest) => ({ ip: req.ip, userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined });

  app.post('/api/auth/login', { config: { access: 'public', rateLimit: { max: 20, timeWindow: '1 minute' } } }, async (req, reply) => {
    const body = parse(loginBody, req.body);
    const result = await accounts.checkLogin(body.username, body.password);
    const base = { ip: req.ip, username: body.username };
    if (!result.ok) {
      await audit.record({ ...base, accountId: result.account?.id, action: 'login', outcome: 'failure', detail: { reason: result.reason, locked: result.reason === 'locked', justLocked: result.justLocked ?? false } });
      if (result.reason === 'locked') {
        return reply.code(423).type('application/problem+json').send({ type: 'about:blank', status: 423, title: `Tài khoản tạm khóa do đăng nhập sai nhiều lần, thử lại sau ${result.lockedUntil?.toISOString()} (account locked after repeated failures)`, lockedUntil: result.lockedUntil });
      }
      return reply.code(401).type('application/problem+json').send({ type: 'about:blank', status: 401, title: 'Sai tên đăng nhập hoặc mật khẩu (wrong username or password)' });
    }
    const account = result.account;
    const held = account.roles.find((r) => r.role === body.role) ?? account.roles[0];
    const { token, session } = await sessions.create(account.id, !result.needsMfa, held ?? (account.kind === 'citizen' ? { role: 'citizen', organizationId: '' } : undefined), meta(req));
    await audit.record({ ...base, accountId: account.id, role: held?.role, organizationId: held?.organizationId, action: 'login', outcome: 'success', detail: { stage: result.needsMfa ? 'password' : 'complete' } });
    reply.setCookie(SESSION_COOKIE, token, cookieOptions(opts.secureCookies));
    return { status: result.needsEnrolment ? 'enrolment-required' : result.needsMfa ? 'mfa-required' : 'ok', csrfToken: session.csrfToken };
  });

  app.post('/api/auth/mfa', { config: { access: 'mfa-pending', rateLimit: { max: 20, timeWindow: '1 minute' } } }, async (req, reply) => {
    const { code } = parse(codeBody, req.body);
    const a = req.ctx.actor;
    const ok = await accounts.verifySecondFactor(a.accountId!, code);
    await audit.record({ ...actorFields(req.ctx), action: 'login.mfa', outcome: ok ? 'success' : 'failure' });
    // 400, not 401: the session stays; the person may try another code (failures count towards the lockout).
    if (!ok) return reply.code(400).type('application/problem+json').send({ type: 'about:blank', status: 400, title: 'Mã xác thực không đúng (wrong code)' });
    await sessions.markMfaVerified(a.sessionId!);
    return { status: 'ok' };
  });

  app.post('/api/auth/mfa/enrol', { config: { access: 'mfa-pending' } }, async (req, reply) => {
    const a = req.ctx.actor;
    const account = await accounts.get(a.accountId!);
    if (account?.totpEnabled) return reply.code(409).type('application/problem+json').send({ type: 'about:blank', status: 409, title: 'Đã bật xác thực hai lớp (two-factor sign-in is already set up)' });
    const e = await accounts.beginEnrolment(a.accountId!);
    return { secret: e.secret, otpauthUri: e.uri, qrSvg: e.qrSvg };
  });

  app.post('/api/auth/mfa/enrol/confirm', { config: { access: 'mfa-pending' } }, async (req, reply) => {
    const { code } = parse(codeBody, req.body);
    const a = req.ctx.actor;
    const recovery = await accounts.confirmEnrolment(a.accountId!, code);
    await audit.record({ ...actorFields(req.ctx), action: 'mfa.enrol', outcome: recovery ? 'success' : 'failure' });
    if (!recovery) return reply.code(400).type('application/problem+json').send({ type: 'about:blank', status: 400, title: 'Mã không đúng; quét lại mã QR và thử lại (wrong code)' });
    if (a.sessionId) await sessions.markMfaVerified(a.sessionId);
    return { status: 'ok', recoveryCodes: recovery };
  });

  app.get('/api/auth/me', { config: { access: 'mfa-pending' } }, async (req) => {
    const a = req.ctx.actor;
    const account = await accounts.get(a.accountId!);
    return {
      accountId: a.accountId, username: account?.username, displayName: account?.displayName, kind: account?.kind,
      role: a.role, roleLabel: a.role ? ROLE_LABELS[a.role] : undefined, organizationId: a.organizationId,
      practitionerId: a.practitionerId, patientId: account?.patientId, roles: account?.roles.map((r) => ({ ...r, label: ROLE_LABELS[r.role] })),
      mfaPending: !!a.mfaPending, totpEnabled: account?.totpEnabled, csrfToken: a.csrfToken,
    };
  });

  app.post('/api/auth/role', { config: { access: 'authenticated' } }, async (req, reply) => {
    const body = parse(roleBody, req.body);
    const account = await accounts.get(req.ctx.actor.accountId!);
    if (!account?.roles.some((r) => r.role === body.role && r.organizationId === body.organizationId) || !req.ctx.actor.sessionId) {
      return reply.code(403).type('application/problem+json').send({ type: 'about:blank', status: 403, title: 'Bạn không giữ vai trò này (you do not hold this role)' });
    }
    await sessions.setRole(req.ctx.actor.sessionId, body.role, body.organizationId);
    await audit.record({ ...actorFields(req.ctx), action: 'role.switch', outcome: 'success', detail: body });
    return { status: 'ok' };
  });

  app.post('/api/auth/logout', { config: { access: 'mfa-pending' } }, async (req, reply) => {
    if (req.ctx.actor.sessionId) await sessions.revoke(req.ctx.actor.sessionId);
    await audit.record({ ...actorFields(req.ctx), action: 'logout', outcome: 'success' });
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { status: 'ok' };
  });

  app.post('/api/auth/logout-all', { config: { access: { domain: 'account.self' } } }, async (req, reply) => {
    const n = await sessions.revokeAll(req.ctx.actor.accountId!);
    await audit.record({ ...actorFields(req.ctx), action: 'logout.all', outcome: 'success', detail: { sessions: n } });
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { status: 'ok', revoked: n };
  });

  app.get('/api/auth/sessions', { config: { access: { domain: 'account.self' } } }, async (req) => {
    const list = await sessions.list(req.ctx.actor.accountId!);
    return list.map((s) => ({ id: s.id.slice(0, 12), current: s.id === req.ctx.actor.sessionId, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, expiresAt: s.expiresAt, ip: s.ip, userAgent: s.userAgent, role: s.role }));
  });

  app.delete('/api/auth/sessions/:id', { config: { access: { domain: 'account.self' } } }, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const list = await sessions.list(req.ctx.actor.accountId!);
    const s = list.find((x) => x.id.slice(0, 12) === req.params.id);
    if (!s) return reply.code(404).type('application/problem+json').send({ type: 'about:blank', status: 404, title: 'Không tìm thấy phiên (no such session)' });
    await sessions.revoke(s.id);
    await audit.record({ ...actorFields(req.ctx), action: 'session.revoke', outcome: 'success' });
    return { status: 'ok' };
  });

  // Break-the-glass: emergency access to one patient, with a reason, for a limited time, reviewed later.
  app.post('/api/break-glass', { config: { access: { domain: 'breakglass.use' } } }, async (req) => {
    const body = parse(breakGlassBody, req.body);
    await fhir.read('Patient', body.patientId); // 404 for an unknown patient, before any grant
    return fhir.db.transaction(async (tx) => {
      const grant = await access.breakGlass(tx, req.ctx.actor, body.patientId, body.reason);
      await audit.append(tx, { ...actorFields(req.ctx), action: 'break-glass', outcome: 'success', resourceType: 'Patient', resourceId: body.patientId, patientIds: [body.patientId], reason: body.reason, breakGlass: true, detail: { grant: grant.id, expiresAt: grant.expiresAt } });
      return { id: grant.id, patientId: body.patientId, expiresAt: grant.expiresAt };
    });
  });

  app.get('/api/break-glass', { config: { access: { domain: 'breakglass.review' } } }, async (req) => {
    const unreviewed = (req.query as { unreviewed?: string }).unreviewed === 'true';
    const rows = await fhir.db.query(
      `SELECT b.*, a.username FROM break_glass b JOIN account a ON a.id = b.account_id ${unreviewed ? 'WHERE b.reviewed_at IS NULL' : ''} ORDER BY b.created_at DESC LIMIT 500`,
    );
    return rows.rows;
  });

  app.post('/api/break-glass/:id/review', { config: { access: { domain: 'breakglass.review' } } }, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const body = parse(reviewBody, req.body);
    const r = await fhir.db.query('UPDATE break_glass SET reviewed_by = $2, reviewed_at = now(), review_note = $3 WHERE id = $1 AND reviewed_at IS NULL RETURNING patient_id', [req.params.id, req.ctx.actor.accountId, body.note]);
    if (r.rowCount === 0) return reply.code(404).type('application/problem+json').send({ type: 'about:blank', status: 404, title: 'Không có yêu cầu chờ xem xét này (no such unreviewed grant)' });
    await audit.record({ ...actorFields(req.ctx), action: 'break-glass.review', outcome: 'success', detail: { grant: req.params.id, note: body.note } });
    return { status: 'ok' };
  });

  // The data-protection officer's audit viewer.
  app.get('/api/audit', { config: { access: { domain: 'audit.read' } } }, async (req) => {
    const q = parse(auditQuery, req.query);
    const rows = await audit.list({ ...q, breakGlass: q.breakGlass === 'true' });
    await audit.record({ ...actorFields(req.ctx), action: 'audit.read', outcome: 'success', detail: { filter: q } });
    return rows.map(auditView);
  });

  app.get('/api/audit/verify', { config: { access: { domain: 'audit.read' } } }, async (req) => {
    await audit.seal();
    const result = await audit.verify();
    await audit.record({ ...actorFields(req.ctx), action: 'audit.verify', outcome: result.ok ? 'success' : 'failure', detail: { ...result } });
    return result;
  });

  app.get('/fhir/R4/AuditEvent', { config: { access: 'fhir' } }, async (req, reply) => {
    fhir.guard?.assertAction(req.ctx, 'search', 'AuditEvent');
    const q = req.query as Record<string, string>;
    const count = Math.min(Number(q._count ?? 50) || 50, 500);
    const patient = q.patient?.replace(/^Patient\//, '');
    const rows = await audit.list({ limit: count, patientId: patient, before: q._before ? Number(q._before) : undefined });
    await audit.record({ ...actorFields(req.ctx), action: 'audit.read', outcome: 'success', detail: { fhir: true } });
    const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', entry: rows.map((r) => ({ fullUrl: `${fhir.fhirBase}/AuditEvent/${r.id}`, resource: toAuditEvent(r), search: { mode: 'match' } })) };
    return reply.type('application/fhir+json; charset=utf-8').send(bundle);
  });

  app.get('/fhir/R4/AuditEvent/:id', { config: { access: 'fhir' } }, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    fhir.guard?.assertAction(req.ctx, 'read', 'AuditEvent');
    const row = /^\d{1,15}$/.test(req.params.id) ? (await fhir.db.query<AuditRow>('SELECT * FROM audit_log WHERE id = $1', [Number(req.params.id)])).rows[0] : undefined;
    if (!row) return reply.code(404).type('application/fhir+json; charset=utf-8').send({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: `AuditEvent/${req.params.id} not found` }] });
    return reply.type('application/fhir+json; charset=utf-8').send(toAuditEvent(row));
  });

  // The citizen's own views: who accessed my record, and my consents — and the same for a family
  // member they manage (`patientId`), as a parent does for a child.
  const subjectQuery = z.object({ patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/).optional() }).strict();
  app.get('/api/me/access-log', { config: { access: { domain: 'access-log.own' } } }, async (req) => {
    const subject = await dataSubject(fhir.db, req.ctx.actor, parse(subjectQuery, req.query).patientId);
    await audit.seal();
    const rows = await audit.forPatient(subject.patientId);
    // Looking at someone else's access log is itself an access to their data.
    if (subject.asRelatedPerson) await audit.record({ ...actorFields(req.ctx), action: 'access-log.read', outcome: 'success', resourceType: 'Patient', resourceId: subject.patientId, patientIds: [subject.patientId], detail: { as: `RelatedPerson/${subject.asRelatedPerson}` } });
    return rows.map((r) => ({ ...auditView(r), self: r.account_id === req.ctx.actor.accountId, patients: undefined }));
  });

  app.get('/api/me/consents', { config: { access: { domain: 'consent.own' } } }, async (req) => {
    const subject = await dataSubject(fhir.db, req.ctx.actor, parse(subjectQuery, req.query).patientId);
    const b = await fhir.searchBundle('Consent', new URLSearchParams({ patient: subject.patientId, _count: '200', _sort: '-_lastUpdated' }), undefined, {}, req.ctx);
    return (b.entry ?? []).map((e) => e.resource as Consent);
  });

  app.post('/api/me/consents', { config: { access: { domain: 'consent.own' } } }, async (req, reply) => {
    const body = parse(consentBody, req.body);
    const subject = await dataSubject(fhir.db, req.ctx.actor, body.patientId);
    if (body.organizationId) await fhir.read('Organization', body.organizationId);
    const consent: Consent = {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: body.purpose === 'research' ? 'research' : 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
      patient: { reference: `Patient/${subject.patientId}` },
      dateTime: new Date().toISOString(),
      // Who decided: the person, or the family member who manages their record.
      performer: [{ reference: subject.asRelatedPerson ? `RelatedPerson/${subject.asRelatedPerson}` : `Patient/${subject.patientId}` }],
      policyRule: { text: 'Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15' },
      provision: {
        type: body.decision,
        ...(body.organizationId ? { actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference: `Organization/${body.organizationId}` } }] } : {}),
        ...(body.purpose === 'research' ? { purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH' }] } : {}),
      },
    };
    const created = await fhir.create('Consent', consent, {}, undefined, req.ctx);
    return reply.code(201).send(created.resource);
  });

  app.post('/api/me/consents/:id/withdraw', { config: { access: { domain: 'consent.own' } } }, async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const current = (await fhir.read('Consent', req.params.id, undefined, req.ctx)) as Consent;
    const of = current.patient?.reference?.startsWith('Patient/') ? current.patient.reference.slice(8) : undefined;
    if (!of) throw new AccessDenied('Not your consent');
    await dataSubject(fhir.db, req.ctx.actor, of);
    const updated = await fhir.update('Consent', current.id!, { ...current, status: 'inactive' }, { ifMatch: `W/"${current.meta?.versionId}"` }, undefined, req.ctx);
    return reply.send(updated.resource);
  });

  // Account administration (facility and system administrators).
  const accountBody = z.object({
    username: z.string().min(3).max(64),
    displayName: z.string().min(1).max(200),
    kind: z.enum(['staff', 'citizen']),
    password: z.string().min(8).max(256),
    practitionerId: z.string().max(64).optional(),
    patientId: z.string().max(64).optional(),
    roles: z.array(z.object({ role: z.string(), organizationId: z.string().max(64).default('') })).max(10).default([]),
  }).strict();

  app.post('/api/accounts', { config: { access: { domain: 'account.manage' } } }, async (req, reply) => {
    const body = parse(accountBody, req.body);
    const actor = req.ctx.actor;
    // A facility administrator manages accounts of their own facility only.
    if (actor.role === 'facility_admin' && body.roles.some((r) => r.organizationId !== actor.organizationId || r.role === 'system_admin' || r.role === 'dpo' || r.role === 'integration')) {
      throw new AccessDenied('Quản trị cơ sở chỉ cấp vai trò tại cơ sở của mình (facility administrators grant clinical roles at their own facility only)');
    }
    try {
      const account = await accounts.create({ ...body, roles: body.roles as { role: Role; organizationId: string }[] });
      await audit.record({ ...actorFields(req.ctx), action: 'account.create', outcome: 'success', detail: { account: account.id, username: account.username, roles: body.roles } });
      return reply.code(201).send({ id: account.id, username: account.username });
    } catch (err) {
      if (err instanceof PasswordPolicyError) throw new InputError(err.message);
      if ((err as { code?: string }).code === '23505') return reply.code(409).type('application/problem+json').send({ type: 'about:blank', status: 409, title: 'Tên đăng nhập đã tồn tại (username taken)' });
      throw err;
    }
  });
}
