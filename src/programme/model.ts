/**
 * How the national programme is written down in FHIR: code systems, the facility as an
 * Organization (national facility code, level, ownership, post-2025 province and commune) with
 * its bridge-point Location, and the reverse (an Organization back to a register row). Pure data
 * and functions, no I/O.
 */
import type { Location, Organization } from '@medplum/fhirtypes';
import { communeIn, province } from './places.ts';

export const FACILITY_CODE_SYSTEM = 'https://fhir.cauyte.vn/sid/facility-code';
export const FACILITY_LEVEL_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/facility-level';
export const FACILITY_OWNER_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/facility-ownership';
export const ADMIN_UNIT_EXT = 'https://fhir.cauyte.vn/StructureDefinition/admin-unit';
export const PROVINCE_CODE_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/vn-province-2025';
export const COMMUNE_CODE_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/vn-commune-2025';
export const PROGRAMME_TAG = {
  system: 'https://fhir.cauyte.vn/CodeSystem/programme',
  code: 'national-programme',
  display: 'Chương trình khám chữa bệnh từ xa',
};

export const LEVELS = ['central', 'provincial', 'regional', 'commune', 'private'] as const;
export type Level = (typeof LEVELS)[number];
export const OWNERS = ['public', 'private'] as const;
export type Owner = (typeof OWNERS)[number];

export const LEVEL_LABELS: Record<Level, { vi: string; en: string }> = {
  central: { vi: 'Tuyến trung ương', en: 'Central' },
  provincial: { vi: 'Tuyến tỉnh', en: 'Provincial' },
  regional: { vi: 'Khu vực (liên xã)', en: 'Regional' },
  commune: { vi: 'Trạm y tế xã', en: 'Commune health station' },
  private: { vi: 'Cơ sở tư nhân', en: 'Private' },
};
export const OWNER_LABELS: Record<Owner, { vi: string; en: string }> = {
  public: { vi: 'Công lập', en: 'Public' },
  private: { vi: 'Tư nhân', en: 'Private' },
};

/** A facility of the register, as the import and the edit form give it. */
export interface Facility {
  code: string;
  name: string;
  level: Level;
  owner: Owner;
  provinceCode: number;
  communeCode: number;
  phone?: string;
  address?: string;
}

/** The Organization of a facility (id kept when editing). */
export function toOrganization(f: Facility, id?: string): Organization {
  const p = province(f.provinceCode);
  const c = communeIn(f.provinceCode, f.communeCode);
  return {
    resourceType: 'Organization',
    ...(id ? { id } : {}),
    active: true,
    identifier: [{ system: FACILITY_CODE_SYSTEM, value: f.code }],
    name: f.name,
    type: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }] },
      { coding: [{ system: FACILITY_LEVEL_SYSTEM, code: f.level, display: LEVEL_LABELS[f.level].vi }] },
      { coding: [{ system: FACILITY_OWNER_SYSTEM, code: f.owner, display: OWNER_LABELS[f.owner].vi }] },
    ],
    ...(f.phone ? { telecom: [{ system: 'phone' as const, value: f.phone, use: 'work' as const }] } : {}),
    address: [
      {
        use: 'work',
        ...(f.address ? { line: [f.address] } : {}),
        city: c?.name,
        state: p?.name,
        country: 'VN',
        extension: [
          { url: ADMIN_UNIT_EXT, valueCoding: { system: PROVINCE_CODE_SYSTEM, code: String(f.provinceCode), display: p?.name } },
          { url: ADMIN_UNIT_EXT, valueCoding: { system: COMMUNE_CODE_SYSTEM, code: String(f.communeCode), display: c?.name } },
        ],
      },
    ],
  };
}

/** The facility's bridge point (điểm cầu): a Location managed by the Organization. */
export function toLocation(f: Facility, orgId: string, id?: string): Location {
  return {
    resourceType: 'Location',
    ...(id ? { id } : {}),
    status: 'active',
    mode: 'instance',
    name: `Điểm cầu ${f.name}`,
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'VR', display: 'virtual' }] }],
    physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'ro', display: 'Room' }] },
    managingOrganization: { reference: `Organization/${orgId}`, display: f.name },
  };
}

const code = (o: Organization, system: string) => o.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === system)?.code;
const unit = (o: Organization, system: string) =>
  o.address?.flatMap((a) => a.extension ?? []).find((e) => e.url === ADMIN_UNIT_EXT && e.valueCoding?.system === system)?.valueCoding?.code;

/** The register row an Organization stands for, when it carries a facility code and a known place. */
export function facilityOf(o: Organization): Facility | undefined {
  const c = o.identifier?.find((i) => i.system === FACILITY_CODE_SYSTEM)?.value;
  const level = code(o, FACILITY_LEVEL_SYSTEM) as Level | undefined;
  const provinceCode = Number(unit(o, PROVINCE_CODE_SYSTEM));
  const communeCode = Number(unit(o, COMMUNE_CODE_SYSTEM));
  if (!c || !level || !LEVELS.includes(level) || !Number.isInteger(provinceCode) || !Number.isInteger(communeCode)) return undefined;
  const owner = (code(o, FACILITY_OWNER_SYSTEM) as Owner | undefined) ?? (level === 'private' ? 'private' : 'public');
  return {
    code: c,
    name: o.name ?? c,
    level,
    owner,
    provinceCode,
    communeCode,
    phone: o.telecom?.find((t) => t.system === 'phone')?.value,
    address: o.address?.[0]?.line?.[0],
  };
}

/** The register fields in a fixed order: equal digests = the same facility data (what an import compares). */
export function facilityDigest(f: Facility): string {
  return JSON.stringify([f.code, f.name, f.level, f.owner, f.provinceCode, f.communeCode, f.phone ?? '', f.address ?? '']);
}
