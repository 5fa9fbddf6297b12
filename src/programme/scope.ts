/**
 * Whose figures an actor sees: the Ministry (an analyst with no facility, or a system
 * administrator) sees the whole country; an analyst whose role is held at a provincial health
 * department (programme_authority) sees that province; a facility administrator — or an analyst
 * held at a facility — sees that facility only. Decided from the account's role, never from the
 * request.
 */
import type { Actor } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { DomainSql } from '../db/domain-sql.ts';
import { province } from './places.ts';

export type Scope = { kind: 'national' } | { kind: 'province'; provinceCode: number } | { kind: 'facility'; facilityId: string; provinceCode: number };

export async function scopeOf(sql: DomainSql, actor: Actor): Promise<Scope> {
  const org = actor.organizationId;
  if ((actor.role === 'analyst' || actor.role === 'system_admin') && !org) return { kind: 'national' };
  if (!org) throw new AccessDenied('Tài khoản chưa gắn với đơn vị (your account has no organisation)');
  const auth = await sql.query<{ province_code: number }>('SELECT province_code FROM programme_authority WHERE org_id = $1', [org]);
  if (auth.rows[0] && (actor.role === 'analyst' || actor.role === 'system_admin')) return { kind: 'province', provinceCode: auth.rows[0].province_code };
  const f = await sql.query<{ province_code: number }>('SELECT province_code FROM programme_facility WHERE org_id = $1', [org]);
  if (!f.rows[0]) throw new AccessDenied('Đơn vị của tài khoản chưa có trong danh mục cơ sở (your organisation is not in the facility register)');
  return { kind: 'facility', facilityId: org, provinceCode: f.rows[0].province_code };
}

export function scopeLabel(s: Scope, facilityName?: string): string {
  if (s.kind === 'national') return 'Toàn quốc';
  if (s.kind === 'province') return province(s.provinceCode)?.name ?? `Tỉnh ${s.provinceCode}`;
  return facilityName ?? s.facilityId;
}

/** Refuses a province or facility outside the scope (a province department asking for another province, …). */
export async function assertWithin(sql: DomainSql, s: Scope, want: { province?: number; facility?: string }): Promise<void> {
  if (s.kind === 'national') return;
  if (want.province !== undefined && want.province !== s.provinceCode) throw new AccessDenied('Ngoài phạm vi được xem (outside your scope)');
  if (want.facility) {
    if (s.kind === 'facility' && want.facility !== s.facilityId) throw new AccessDenied('Ngoài phạm vi được xem (outside your scope)');
    const f = await sql.query<{ province_code: number }>('SELECT province_code FROM programme_facility WHERE org_id = $1', [want.facility]);
    if (!f.rows[0] || f.rows[0].province_code !== s.provinceCode) throw new AccessDenied('Ngoài phạm vi được xem (outside your scope)');
  }
  if (s.kind === 'facility' && want.province === undefined && !want.facility) return;
}
