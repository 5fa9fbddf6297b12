/**
 * Account administration (facility and system administrators).
 *
 * Binding an account to a person is a grant of access to that person's record, so it needs
 * authority over the person: a facility administrator binds only patients registered at their
 * own facility and practitioners who hold a role there; a system administrator may bind anyone,
 * with a recorded reason. The binding is audited with the patient named, so it shows in that
 * person's own access log.
 *
 * Disabling and enabling: a facility administrator only for accounts whose every role is at their
 * own facility; a system administrator for any. Disabling signs the account out everywhere (its
 * sessions and access tokens stop at once). Staff accounts unused for CAUYTE_STAFF_INACTIVE_DAYS
 * are disabled automatically (src/auth/inactivity.ts) and come back only through `enable` here.
 *
 * Bodies are parsed with the contract's schemas and answers have its types (contract.ts).
 */
import type { Patient, PractitionerRole } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InputError, parseInput as parse } from '../http/input.ts';
import { problem } from '../http/problem.ts';
import { AccessDenied } from './access.ts';
import { org as orgOf, workplaceOf } from './directory-scope.ts';
import { PasswordPolicyError, type Account } from './accounts.ts';
import type { Actor } from './actor.ts';
import { actorFields } from './principal.ts';
import { NON_FACILITY_ROLES, type Role } from './policy.ts';
import { accountBody, accountStateBody, type AccountCreated, type AccountInput, type AccountStateChanged } from './contract.ts';

/** Throws unless this administrator may disable or enable the account. */
function assertManages(actor: Actor, account: Account): void {
  if (actor.role === 'system_admin') return;
  const org = actor.organizationId;
  if (!org || account.roles.length === 0 || account.roles.some((r) => r.organizationId !== org || NON_FACILITY_ROLES.includes(r.role))) {
    throw new AccessDenied("Quản trị cơ sở chỉ quản lý tài khoản của cơ sở mình (facility administrators manage their own facility's accounts only)");
  }
}

export async function accountRoutes(app: FastifyInstance): Promise<void> {
  const { accounts, audit } = app;
  // The platform looks up who the person is; the administrator's own reach does not include patients.
  const directory = () => app.store.system('account administration: authority over the person bound to an account', 'auth');

  /** Throws unless this administrator may bind an account to the patient / practitioner. */
  async function assertAuthority(actor: Actor, body: AccountInput): Promise<void> {
    if (!body.patientId && !body.practitionerId) return;
    if (actor.role === 'system_admin') {
      if (!body.reason) throw new InputError('reason: gắn tài khoản với một người cần ghi lý do (binding an account to a person needs a reason)');
      return;
    }
    const org = actor.organizationId;
    if (!org) throw new AccessDenied('Tài khoản quản trị chưa gắn với cơ sở (your account has no facility)');
    if (body.patientId) {
      const patient = await directory().tryRead<Patient>('Patient', body.patientId);
      if (!patient) throw new InputError(`patientId: không có người bệnh ${body.patientId} (no such patient)`);
      if (patient.managingOrganization?.reference !== `Organization/${org}`) {
        throw new AccessDenied(
          'Chỉ gắn tài khoản với người bệnh đăng ký tại cơ sở của mình (only patients registered at your facility)',
          403,
          false,
          body.patientId,
        );
      }
    }
    if (body.practitionerId) {
      // Only someone who works at this facility and nowhere else, and has no account yet: an account
      // bound to a practitioner acts with that practitioner's care relationships everywhere, and a
      // role here is a record this administrator could have written themselves.
      const roles = await directory().search<PractitionerRole>('PractitionerRole', { practitioner: `Practitioner/${body.practitionerId}`, _count: '200' });
      const where = workplaceOf(
        roles.map((r) => orgOf(r.organization) ?? ''),
        org,
      );
      if (where === 'not-here') {
        throw new AccessDenied('Chỉ gắn tài khoản với nhân viên có vai trò tại cơ sở của mình (only practitioners who work at your facility)');
      }
      if (where === 'also-elsewhere') {
        throw new AccessDenied(
          'Nhân viên này còn làm việc tại cơ sở khác: quản trị hệ thống gắn tài khoản (this practitioner also works at another facility: a system administrator binds the account)',
        );
      }
      if (await accounts.byPractitioner(body.practitionerId)) {
        throw new AccessDenied('Nhân viên này đã có tài khoản (this practitioner already has an account)');
      }
    }
  }

  app.post('/api/accounts', { config: { access: { domain: 'account.manage' } } }, async (req, reply) => {
    const body = parse(accountBody, req.body);
    const actor = req.ctx.actor;
    // A facility administrator manages accounts of their own facility only, and grants clinical roles only.
    if (actor.role === 'facility_admin' && body.roles.some((r) => r.organizationId !== actor.organizationId || NON_FACILITY_ROLES.includes(r.role as Role))) {
      throw new AccessDenied('Quản trị cơ sở chỉ cấp vai trò tại cơ sở của mình (facility administrators grant clinical roles at their own facility only)');
    }
    if (body.kind === 'citizen' && (body.practitionerId || body.roles.length))
      throw new InputError('Tài khoản người dân không có vai trò nhân viên (a citizen account holds no staff role)');
    if (body.kind === 'staff' && body.patientId)
      throw new InputError('patientId: tài khoản nhân viên không gắn với hồ sơ người bệnh (a staff account is not bound to a patient)');
    await assertAuthority(actor, body);
    try {
      const { reason, ...input } = body;
      const account = await accounts.create({ ...input, roles: body.roles as { role: Role; organizationId: string }[] });
      await audit.record({
        ...actorFields(req.ctx),
        action: 'account.create',
        outcome: 'success',
        ...(body.patientId
          ? { resourceType: 'Patient', resourceId: body.patientId, patientIds: [body.patientId] }
          : body.practitionerId
            ? { resourceType: 'Practitioner', resourceId: body.practitionerId }
            : {}),
        reason,
        detail: { account: account.id, username: account.username, roles: body.roles, ...(body.practitionerId ? { practitionerId: body.practitionerId } : {}) },
      });
      return reply.code(201).send({ id: account.id, username: account.username } satisfies AccountCreated);
    } catch (err) {
      if (err instanceof PasswordPolicyError) throw new InputError(err.message);
      if ((err as { code?: string }).code === '23505') {
        const onePerPerson =
          (err as { constraint?: string }).constraint === 'account_citizen_patient' || /account_citizen_patient/.test((err as Error).message);
        const title = onePerPerson ? 'Người bệnh này đã có tài khoản (this patient already has an account)' : 'Tên đăng nhập đã tồn tại (username taken)';
        return reply.code(409).type('application/problem+json').send(problem(409, title));
      }
      throw err;
    }
  });

  for (const action of ['enable', 'disable'] as const) {
    app.post(
      `/api/accounts/:id/${action}`,
      { config: { access: { domain: 'account.manage' } } },
      async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
        const { reason } = parse(accountStateBody, req.body ?? {});
        const account = /^[A-Za-z0-9-]{1,64}$/.test(req.params.id) ? await accounts.get(req.params.id) : undefined;
        if (!account) return reply.code(404).type('application/problem+json').send(problem(404, 'Không có tài khoản này (no such account)'));
        assertManages(req.ctx.actor, account);
        if (action === 'disable' && account.id === req.ctx.actor.accountId)
          throw new InputError('Không tự vô hiệu hóa tài khoản của mình (you cannot disable your own account)');
        const changed = action === 'enable' ? await accounts.enable(account.id) : await accounts.disable(account.id, 'admin');
        await audit.record({
          ...actorFields(req.ctx),
          action: `account.${action}`,
          outcome: 'success',
          reason,
          detail: { account: account.id, username: account.username, changed, ...(action === 'enable' ? { previousReason: account.disabledReason } : {}) },
        });
        return { status: 'ok', disabled: action === 'disable', changed } satisfies AccountStateChanged;
      },
    );
  }
}
