/**
 * The facility network: the register (list, one facility, create, edit on screen, CSV import) and
 * hub-and-spoke support (which hospital supports which facility, per specialty).
 *
 * Rules: writes run as `programme.facilities` — a system administrator for any facility; a
 * facility administrator may edit only their own facility (not create, import or re-level
 * others). The register table follows the Organizations (listeners.ts); this file never writes it.
 */
import type { Location, Organization } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { DomainSql } from '../db/domain-sql.ts';
import { badRequest, conflict, notFound } from '../fhir/outcome.ts';
import { importFacilities } from './csv-import.ts';
import { communeIn, province } from './places.ts';
import { toLocation, toOrganization } from './model.ts';
import type { FacilityInput, FacilityView, HubView, ImportResult } from './contract.ts';

interface Row {
  org_id: string;
  code: string;
  name: string;
  level: string;
  owner: string;
  province_code: number;
  commune_code: number;
  unit_status: FacilityView['unitStatus'];
  location_id: string | null;
}
export const FACILITY_COLUMNS = 'org_id, code, name, level, owner, province_code, commune_code, unit_status, location_id';

export function facilityView(r: Row): FacilityView {
  return {
    id: r.org_id,
    code: r.code,
    name: r.name,
    level: r.level,
    owner: r.owner,
    provinceCode: r.province_code,
    provinceName: province(r.province_code)?.name ?? String(r.province_code),
    communeCode: r.commune_code,
    communeName: communeIn(r.province_code, r.commune_code)?.name ?? String(r.commune_code),
    unitStatus: r.unit_status,
    ...(r.location_id ? { locationId: r.location_id } : {}),
  };
}

export async function facilityRow(sql: DomainSql, id: string): Promise<FacilityView> {
  const r = await sql.query<Row>(`SELECT ${FACILITY_COLUMNS} FROM programme_facility WHERE org_id = $1`, [id]);
  if (!r.rows[0]) throw notFound(`Không có cơ sở ${id} trong danh mục (not in the facility register)`);
  return facilityView(r.rows[0]);
}

function assertPlace(f: FacilityInput): void {
  if (!province(f.provinceCode)) throw badRequest(`Không có tỉnh mã ${f.provinceCode} (unknown province)`);
  if (!communeIn(f.provinceCode, f.communeCode)) throw badRequest(`Xã mã ${f.communeCode} không thuộc tỉnh ${f.provinceCode} (commune not in that province)`);
}

export class NetworkService {
  constructor(private readonly store: FhirStore) {}

  /** The register is directory data (no patient): any signed-in staff member may list it. */
  async list(ctx: AccessContext, q: { province?: number; level?: string; q?: string; limit: number }): Promise<FacilityView[]> {
    const sql = this.store.as(ctx, 'programme.view').sql;
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.province !== undefined) where.push(`province_code = $${args.push(q.province)}`);
    if (q.level) where.push(`level = $${args.push(q.level)}`);
    if (q.q) where.push(`(lower(name) LIKE $${args.push(`%${q.q.toLowerCase()}%`)} OR code = upper($${args.push(q.q)}))`);
    const r = await sql.query<Row>(
      `SELECT ${FACILITY_COLUMNS} FROM programme_facility ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY province_code, name LIMIT $${args.push(q.limit)}`,
      args,
    );
    return r.rows.map(facilityView);
  }

  get(ctx: AccessContext, id: string): Promise<FacilityView> {
    return facilityRow(this.store.as(ctx, 'programme.view').sql, id);
  }

  private assertNational(ctx: AccessContext): void {
    if (ctx.actor.role !== 'system_admin')
      throw new AccessDenied('Chỉ quản trị hệ thống được thêm, nhập cơ sở (only a system administrator adds or imports facilities)');
  }

  async create(ctx: AccessContext, f: FacilityInput): Promise<FacilityView> {
    this.assertNational(ctx);
    assertPlace(f);
    const input = { ...f, code: f.code.toUpperCase() };
    return this.store.as(ctx, 'programme.facilities').transaction(async (tx) => {
      const dup = await tx.sql.query('SELECT 1 FROM programme_facility WHERE code = $1', [input.code]);
      if (dup.rows.length) throw conflict(`Mã cơ sở ${input.code} đã có (facility code already registered)`);
      const org = await tx.create(toOrganization(input));
      await tx.create(toLocation(input, org.id!));
      await tx.record({ action: 'programme.facility-create', resourceType: 'Organization', resourceId: org.id });
      return facilityRow(tx.sql, org.id!);
    });
  }

  async update(ctx: AccessContext, id: string, f: FacilityInput): Promise<FacilityView> {
    if (ctx.actor.role !== 'system_admin' && ctx.actor.organizationId !== id)
      throw new AccessDenied('Chỉ sửa được cơ sở của mình (you may edit only your own facility)');
    assertPlace(f);
    const input = { ...f, code: f.code.toUpperCase() };
    return this.store.as(ctx, 'programme.facilities').transaction(async (tx) => {
      const cur = await facilityRow(tx.sql, id);
      if (ctx.actor.role !== 'system_admin' && (cur.code !== input.code || cur.level !== input.level || cur.owner !== input.owner))
        throw new AccessDenied('Mã, tuyến và hình thức sở hữu do quản trị hệ thống sửa (code, level and ownership are changed by a system administrator)');
      const dup = await tx.sql.query('SELECT 1 FROM programme_facility WHERE code = $1 AND org_id <> $2', [input.code, id]);
      if (dup.rows.length) throw conflict(`Mã cơ sở ${input.code} đã có (facility code already registered)`);
      const old = await tx.read<Organization>('Organization', id);
      // Keep what the register does not manage (partOf, other identifiers, telecom beyond the phone).
      const next = toOrganization(input, id);
      await tx.update<Organization>({
        ...old,
        ...next,
        identifier: [...next.identifier!, ...(old.identifier ?? []).filter((i) => i.system !== next.identifier![0].system)],
      });
      if (cur.locationId) {
        const loc = await tx.read<Location>('Location', cur.locationId);
        await tx.update({ ...loc, name: `Điểm cầu ${input.name}`, managingOrganization: { reference: `Organization/${id}`, display: input.name } });
      } else await tx.create(toLocation(input, id));
      await tx.record({ action: 'programme.facility-update', resourceType: 'Organization', resourceId: id });
      return facilityRow(tx.sql, id);
    });
  }

  async import(ctx: AccessContext, csv: string): Promise<ImportResult> {
    this.assertNational(ctx);
    return importFacilities(this.store.as(ctx, 'programme.facilities'), csv);
  }

  /** Records that an Organization is a provincial health department (its analysts see and review that province). */
  async setAuthority(ctx: AccessContext, orgId: string, provinceCode: number): Promise<{ organizationId: string; provinceCode: number }> {
    this.assertNational(ctx);
    if (!province(provinceCode)) throw badRequest(`Không có tỉnh mã ${provinceCode} (unknown province)`);
    await this.store.as(ctx, 'programme.facilities').transaction(async (tx) => {
      if (!(await tx.tryRead<Organization>('Organization', orgId))) throw notFound(`Không có tổ chức ${orgId} (unknown organisation)`);
      await tx.sql.query(
        'INSERT INTO programme_authority (org_id, province_code) VALUES ($1, $2) ON CONFLICT (org_id) DO UPDATE SET province_code = EXCLUDED.province_code',
        [orgId, provinceCode],
      );
      await tx.record({ action: 'programme.authority', resourceType: 'Organization', resourceId: orgId, detail: { provinceCode } });
    });
    return { organizationId: orgId, provinceCode };
  }

  // ---------------------------------------------------------------- hub and spoke

  async hubs(ctx: AccessContext, facilityId?: string): Promise<HubView[]> {
    const sql = this.store.as(ctx, 'programme.view').sql;
    const r = await sql.query<{ hub_org: string; spoke_org: string; hub_name: string; spoke_name: string; specialties: string[] }>(
      `SELECT h.hub_org, h.spoke_org, fh.name AS hub_name, fs.name AS spoke_name, array_agg(h.specialty ORDER BY h.specialty) AS specialties
         FROM programme_hub h JOIN programme_facility fh ON fh.org_id = h.hub_org JOIN programme_facility fs ON fs.org_id = h.spoke_org
        ${facilityId ? 'WHERE h.hub_org = $1 OR h.spoke_org = $1' : ''}
        GROUP BY h.hub_org, h.spoke_org, fh.name, fs.name ORDER BY fh.name, fs.name LIMIT 2000`,
      facilityId ? [facilityId] : [],
    );
    return r.rows.map((x) => ({ hubId: x.hub_org, hubName: x.hub_name, spokeId: x.spoke_org, spokeName: x.spoke_name, specialties: x.specialties }));
  }

  /** Sets the specialties a hub supports a facility in (replacing the pair's list). */
  async setHub(ctx: AccessContext, hubId: string, spokeId: string, specialties: string[]): Promise<HubView[]> {
    this.assertNational(ctx);
    if (hubId === spokeId) throw badRequest('Cơ sở không tự hỗ trợ chính mình (a facility cannot support itself)');
    await this.store.as(ctx, 'programme.facilities').transaction(async (tx) => {
      await facilityRow(tx.sql, hubId);
      await facilityRow(tx.sql, spokeId);
      await tx.sql.query('DELETE FROM programme_hub WHERE hub_org = $1 AND spoke_org = $2', [hubId, spokeId]);
      for (const s of new Set(specialties))
        await tx.sql.query('INSERT INTO programme_hub (hub_org, spoke_org, specialty) VALUES ($1, $2, $3)', [hubId, spokeId, s]);
      await tx.record({ action: 'programme.hub', resourceType: 'Organization', resourceId: hubId, detail: { spoke: spokeId, specialties } });
    });
    return this.hubs(ctx, spokeId);
  }
}
