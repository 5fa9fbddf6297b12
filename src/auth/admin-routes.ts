/**
 * Administration screens' API (facility and system administrators, `account.manage`): list and
 * search accounts, replace an account's roles, reset its second factor, list and revoke OAuth
 * clients, list facilities with their services (open or close a service).
 *
 * Least privilege, on every request and every row answered:
 * - a system administrator sees and manages every account, client and facility;
 * - a facility administrator sees only accounts holding a role at their facility, manages only
 *   those whose every role is a clinical role there (assertManages), grants only clinical roles
 *   there, sees only clients acting for their facility and only their own facility.
 * Nobody changes their own roles or second factor here. Every read and change is audited.
 * Creating, disabling and enabling accounts: account-routes.ts.
 */
import type { HealthcareService, Organization } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../db/db.ts';
import { InputError, parseInput as parse } from '../http/input.ts';
import { problem } from '../http/problem.ts';
import { AccessDenied } from './access.ts';
import type { Account } from './accounts.ts';
import type { Actor } from './actor.ts';
import { actorFields } from './principal.ts';
import { isRole, NON_FACILITY_ROLES, ROLE_LABELS, type Role } from './policy.ts';
import {
  adminAccountsQuery,
  facilitiesQuery,
  resetMfaBody,
  revokeClientBody,
  rolesBody,
  serviceActiveBody,
  type AdminAccount,
  type AdminAccountPage,
  type AdminChanged,
  type AdminClient,
  type AdminFacility,
} from './admin-contract.ts';

export { NON_FACILITY_ROLES };

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
type P = FastifyRequest<{ Params: { id: string } }>;

function facilityOf(actor: Actor): string {
  if (!actor.organizationId) throw new AccessDenied('Tài khoản quản trị chưa gắn với cơ sở (your account has no facility)');
  return actor.organizationId;
}

/** Throws unless this administrator may change the account (roles, second factor). */
export function assertManagesAccount(actor: Actor, account: Account): void {
  if (account.id === actor.accountId) throw new InputError('Không tự đổi tài khoản quản trị của mình ở đây (you cannot change your own account here)');
  if (actor.role === 'system_admin') return;
  const org = facilityOf(actor);
  if (account.roles.length === 0 || account.roles.some((r) => r.organizationId !== org || NON_FACILITY_ROLES.includes(r.role))) {
    throw new AccessDenied("Quản trị cơ sở chỉ quản lý tài khoản nhân viên của cơ sở mình (facility administrators manage their own facility's staff only)");
  }
}

interface AccountListRow {
  id: string;
  username: string;
  display_name: string;
  kind: AdminAccount['kind'];
  disabled: boolean;
  disabled_reason: string | null;
  totp_enabled: boolean;
  created_at: Date;
  last_active_at: Date | null;
  roles: { role: string; org: string }[] | null;
  total: string;
}

interface ClientListRow {
  client_id: string;
  name: string;
  secret_hash: string | null;
  redirect_uris: string[];
  scopes: string[];
  grant_types: string[];
  created_at: Date;
  revoked_at: Date | null;
  account_id: string | null;
  username: string | null;
  role: string | null;
  organization_id: string | null;
}

export async function adminRoutes(app: FastifyInstance, opts: { db: Db }): Promise<void> {
  const { db } = opts;
  const { accounts, audit } = app;
  const manage = { config: { access: { domain: 'account.manage' as const } } };

  /** Facility names, read as the administrator (directory access, audited by the repository). */
  async function facilityNames(req: FastifyRequest, ids: string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(ids.filter((x) => x && ID.test(x)))];
    if (!wanted.length) return new Map();
    const orgs = await app.store.as(req.ctx).search<Organization>('Organization', { _id: wanted.join(','), _count: String(wanted.length) });
    return new Map(orgs.map((o) => [o.id!, o.name ?? o.id!]));
  }

  app.get('/api/admin/accounts', manage, async (req): Promise<AdminAccountPage> => {
    const q = parse(adminAccountsQuery, req.query);
    const actor = req.ctx.actor;
    const where: string[] = [];
    const params: unknown[] = [];
    if (actor.role !== 'system_admin') {
      where.push(`EXISTS (SELECT 1 FROM account_role r WHERE r.account_id = a.id AND r.organization_id = $${params.push(facilityOf(actor))})`);
    }
    if (q.q) {
      const like = `%${q.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(`(lower(a.username) LIKE $${params.push(like)} OR lower(a.display_name) LIKE $${params.length})`);
    }
    if (q.kind) where.push(`a.kind = $${params.push(q.kind)}`);
    if (q.state) where.push(q.state === 'disabled' ? 'a.disabled' : 'NOT a.disabled');
    const rows = (
      await db.query<AccountListRow>(
        `SELECT a.id, a.username, a.display_name, a.kind, a.disabled, a.disabled_reason, a.totp_enabled, a.created_at, a.last_active_at,
                (SELECT json_agg(json_build_object('role', r.role, 'org', r.organization_id) ORDER BY r.role, r.organization_id)
                   FROM account_role r WHERE r.account_id = a.id) AS roles,
                count(*) OVER () AS total
           FROM account a ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY a.disabled, lower(a.display_name), a.id
          LIMIT ${q.limit} OFFSET ${q.offset}`,
        params,
      )
    ).rows;
    const names = await facilityNames(
      req,
      rows.flatMap((r) => (r.roles ?? []).map((x) => x.org)),
    );
    await audit.record({ ...actorFields(req.ctx), action: 'account.list', outcome: 'success', detail: { filter: q, returned: rows.length } });
    return {
      total: rows.length ? Number(rows[0].total) : 0,
      offset: q.offset,
      items: rows.map((r) => ({
        id: r.id,
        username: r.username,
        displayName: r.display_name,
        kind: r.kind,
        roles: (r.roles ?? [])
          .filter((x) => isRole(x.role))
          .map((x) => ({ role: x.role as Role, label: ROLE_LABELS[x.role as Role], organizationId: x.org, organizationName: names.get(x.org) })),
        disabled: r.disabled,
        disabledReason: r.disabled_reason ?? undefined,
        totpEnabled: r.totp_enabled,
        createdAt: new Date(r.created_at).toISOString(),
        lastActiveAt: r.last_active_at ? new Date(r.last_active_at).toISOString() : undefined,
      })),
    };
  });

  async function accountParam(req: P): Promise<Account> {
    const account = ID.test(req.params.id) ? await accounts.get(req.params.id) : undefined;
    if (!account) throw Object.assign(new Error('Không có tài khoản này (no such account)'), { statusCode: 404 });
    assertManagesAccount(req.ctx.actor, account);
    return account;
  }

  app.put('/api/admin/accounts/:id/roles', manage, async (req: P): Promise<AdminChanged> => {
    const body = parse(rolesBody, req.body);
    const account = await accountParam(req);
    const actor = req.ctx.actor;
    if (account.kind === 'citizen') throw new InputError('Tài khoản người dân không có vai trò nhân viên (a citizen account holds no staff role)');
    const roles = body.roles as { role: Role; organizationId: string }[];
    if (actor.role !== 'system_admin') {
      const org = facilityOf(actor);
      if (roles.some((r) => r.organizationId !== org || NON_FACILITY_ROLES.includes(r.role) || r.role === 'citizen'))
        throw new AccessDenied(
          'Quản trị cơ sở chỉ cấp vai trò chuyên môn tại cơ sở của mình (facility administrators grant clinical roles at their own facility only)',
        );
    }
    if (roles.some((r) => r.role === 'citizen')) throw new InputError('Vai trò người dân không cấp cho tài khoản nhân viên (citizen is not a staff role)');
    await accounts.setRoles(account.id, roles);
    await audit.record({
      ...actorFields(req.ctx),
      action: 'account.roles.set',
      outcome: 'success',
      reason: body.reason,
      detail: { account: account.id, username: account.username, before: account.roles, after: roles },
    });
    return { status: 'ok', changed: true };
  });

  app.post('/api/admin/accounts/:id/reset-mfa', manage, async (req: P): Promise<AdminChanged> => {
    const body = parse(resetMfaBody, req.body);
    const account = await accountParam(req);
    const changed = await accounts.resetSecondFactor(account.id);
    await audit.record({
      ...actorFields(req.ctx),
      action: 'account.mfa.reset',
      outcome: 'success',
      reason: body.reason,
      detail: { account: account.id, username: account.username, changed },
    });
    return { status: 'ok', changed };
  });

  /** Clients a facility administrator may see: those acting for their facility. */
  async function clients(actor: Actor, clientId?: string): Promise<ClientListRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (clientId) where.push(`c.client_id = $${params.push(clientId)}`);
    if (actor.role !== 'system_admin') where.push(`r.organization_id = $${params.push(facilityOf(actor))}`);
    return (
      await db.query<ClientListRow>(
        `SELECT c.client_id, c.name, c.secret_hash, c.redirect_uris, c.scopes, c.grant_types, c.created_at, c.revoked_at, c.account_id,
                a.username, r.role, r.organization_id
           FROM oauth_client c
           LEFT JOIN account a ON a.id = c.account_id
           LEFT JOIN LATERAL (SELECT role, organization_id FROM account_role WHERE account_id = a.id ORDER BY role LIMIT 1) r ON true
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY c.revoked_at NULLS FIRST, c.created_at DESC LIMIT 500`,
        params,
      )
    ).rows;
  }

  app.get('/api/admin/oauth-clients', manage, async (req): Promise<AdminClient[]> => {
    const rows = await clients(req.ctx.actor);
    const names = await facilityNames(
      req,
      rows.map((r) => r.organization_id ?? ''),
    );
    await audit.record({ ...actorFields(req.ctx), action: 'oauth.client.list', outcome: 'success', detail: { returned: rows.length } });
    return rows.map((r) => ({
      clientId: r.client_id,
      name: r.name,
      scopes: r.scopes,
      grantTypes: r.grant_types,
      redirectUris: r.redirect_uris,
      confidential: !!r.secret_hash,
      createdAt: new Date(r.created_at).toISOString(),
      revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : undefined,
      serviceAccount: r.username
        ? {
            username: r.username,
            role: isRole(r.role) ? r.role : undefined,
            organizationId: r.organization_id || undefined,
            organizationName: r.organization_id ? names.get(r.organization_id) : undefined,
          }
        : undefined,
    }));
  });

  app.post('/api/admin/oauth-clients/:id/revoke', manage, async (req: P, reply) => {
    const body = parse(revokeClientBody, req.body);
    const [row] = /^[A-Za-z0-9._-]{1,80}$/.test(req.params.id) ? await clients(req.ctx.actor, req.params.id) : [];
    if (!row) {
      // Another facility's client answers the same as a missing one, and the attempt is recorded.
      await audit.record({ ...actorFields(req.ctx), action: 'oauth.client.revoke', outcome: 'denied', detail: { client: req.params.id.slice(0, 80) } });
      return reply.code(404).type('application/problem+json').send(problem(404, 'Không có ứng dụng này (no such client)'));
    }
    const changed =
      (
        await db.query('UPDATE oauth_client SET revoked_at = now(), revoked_by = $2 WHERE client_id = $1 AND revoked_at IS NULL', [
          row.client_id,
          req.ctx.actor.accountId ?? null,
        ])
      ).rowCount === 1;
    // Its service account stops too: tokens already issued to it end at once.
    if (row.account_id) await accounts.disable(row.account_id, 'admin');
    await audit.record({
      ...actorFields(req.ctx),
      clientId: row.client_id,
      action: 'oauth.client.revoke',
      outcome: 'success',
      reason: body.reason,
      detail: { client: row.client_id, name: row.name, changed },
    });
    return { status: 'ok', changed } satisfies AdminChanged;
  });

  app.get('/api/admin/facilities', manage, async (req): Promise<AdminFacility[]> => {
    const q = parse(facilitiesQuery, req.query);
    const actor = req.ctx.actor;
    const repo = app.store.as(req.ctx);
    const orgs =
      actor.role === 'system_admin'
        ? await repo.search<Organization>('Organization', { ...(q.q ? { 'name:contains': q.q } : {}), _count: String(q.limit), _sort: 'name' })
        : await repo.search<Organization>('Organization', { _id: facilityOf(actor) });
    const ids = orgs.map((o) => o.id!);
    const services = ids.length
      ? await repo.search<HealthcareService>('HealthcareService', { organization: ids.map((i) => `Organization/${i}`).join(','), _count: '500' })
      : [];
    const staff = ids.length
      ? (
          await db.query<{ org: string; n: string }>(
            'SELECT organization_id AS org, count(DISTINCT account_id) AS n FROM account_role WHERE organization_id = ANY($1::text[]) GROUP BY organization_id',
            [ids],
          )
        ).rows
      : [];
    // Device counts only (no device is read into the answer): the fleet page lists them (devices.manage).
    const devices = ids.length
      ? await app.store
          .system('administration: device counts per facility', 'auth')
          .search<{ resourceType: 'Device'; owner?: { reference?: string } }>('Device', {
            organization: ids.map((i) => `Organization/${i}`).join(','),
            _count: '1000',
          })
      : [];
    await audit.record({ ...actorFields(req.ctx), action: 'facility.list', outcome: 'success', detail: { q: q.q, returned: orgs.length } });
    return orgs.map((o) => {
      const a = o.address?.[0];
      return {
        id: o.id!,
        name: o.name ?? o.id!,
        address: a ? [a.line?.join(', '), a.district, a.city, a.state].filter(Boolean).join(', ') || a.text : undefined,
        active: o.active !== false,
        services: services
          .filter((s) => s.providedBy?.reference === `Organization/${o.id}`)
          .map((s) => ({ id: s.id!, name: s.name ?? s.id!, active: s.active !== false })),
        staff: Number(staff.find((s) => s.org === o.id)?.n ?? 0),
        devices: devices.filter((d) => d.owner?.reference === `Organization/${o.id}`).length,
      };
    });
  });

  app.post('/api/admin/services/:id/active', manage, async (req: P): Promise<AdminChanged> => {
    const { active } = parse(serviceActiveBody, req.body);
    if (!ID.test(req.params.id)) throw new InputError('id: không hợp lệ (invalid id)');
    const repo = app.store.as(req.ctx);
    const service = await repo.tryRead<HealthcareService>('HealthcareService', req.params.id);
    if (!service) throw Object.assign(new Error('Không có dịch vụ này (no such service)'), { statusCode: 404 });
    const actor = req.ctx.actor;
    if (actor.role !== 'system_admin' && service.providedBy?.reference !== `Organization/${facilityOf(actor)}`)
      throw new AccessDenied('Chỉ mở hoặc đóng dịch vụ của cơ sở mình (only services of your own facility)');
    const changed = (service.active !== false) !== active;
    if (changed) await repo.update({ ...service, active });
    return { status: 'ok', changed };
  });
}
