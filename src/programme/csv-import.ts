/**
 * The facility register from CSV. Columns (header line required, UTF-8, comma separated, order free):
 *
 *   code           national facility code, 5 characters (letters/digits, as in the insurance XML)
 *   name           facility name
 *   level          central | provincial | regional | commune | private
 *   owner          public | private
 *   province_code  post-2025 province code (1–96, data/terminology/vn-admin-units-2025.json)
 *   commune_code   post-2025 commune/ward code, inside that province
 *   phone          optional
 *   address        optional (street, village)
 *
 * Every line is checked first; a bad line is reported with its line number (the header is line 1)
 * and imports nothing. Good lines are then written in one transaction: a new code creates the
 * Organization and its bridge-point Location, a changed line updates them, an unchanged line is
 * left alone — so importing the same file again changes nothing. A line never half-imports: its
 * Organization and Location commit together with every other good line, or not at all.
 */
import { parse } from 'csv-parse/sync';
import type { Location, Organization } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.ts';
import { communeIn, province } from './places.ts';
import { facilityDigest, facilityOf, LEVELS, OWNERS, toLocation, toOrganization, type Facility, type Level, type Owner } from './model.ts';
import type { ImportResult } from './contract.ts';

export const CSV_COLUMNS = ['code', 'name', 'level', 'owner', 'province_code', 'commune_code', 'phone', 'address'] as const;
const REQUIRED = ['code', 'name', 'level', 'owner', 'province_code', 'commune_code'];
export const MAX_IMPORT_LINES = 20_000;

/** One line checked: the facility, or what is wrong with it. */
export function checkLine(rec: Record<string, string>): Facility | string {
  const v = (k: string) => (rec[k] ?? '').trim();
  const problems: string[] = [];
  const code = v('code').toUpperCase();
  if (!/^[0-9A-Z]{5}$/.test(code)) problems.push(`mã cơ sở "${v('code')}" phải có đúng 5 ký tự chữ/số (code must be 5 letters or digits)`);
  const name = v('name');
  if (!name || name.length > 200) problems.push('thiếu tên cơ sở (name missing or too long)');
  const level = v('level') as Level;
  if (!LEVELS.includes(level)) problems.push(`tuyến "${v('level')}" không hợp lệ (level must be one of ${LEVELS.join(', ')})`);
  const owner = v('owner') as Owner;
  if (!OWNERS.includes(owner)) problems.push(`hình thức sở hữu "${v('owner')}" không hợp lệ (owner must be public or private)`);
  const provinceCode = Number(v('province_code'));
  const communeCode = Number(v('commune_code'));
  if (!Number.isInteger(provinceCode) || !province(provinceCode)) problems.push(`mã tỉnh "${v('province_code')}" không có (unknown province code)`);
  else if (!Number.isInteger(communeCode) || !communeIn(provinceCode, communeCode))
    problems.push(`mã xã "${v('commune_code')}" không thuộc tỉnh ${provinceCode} (commune not in that province)`);
  const phone = v('phone');
  if (phone && !/^\+?[0-9 .-]{6,20}$/.test(phone)) problems.push('số điện thoại không hợp lệ (bad phone number)');
  if (problems.length) return problems.join('; ');
  return { code, name, level, owner, provinceCode, communeCode, ...(phone ? { phone } : {}), ...(v('address') ? { address: v('address').slice(0, 300) } : {}) };
}

interface Parsed {
  good: { line: number; f: Facility }[];
  errors: { line: number; message: string }[];
}

/** Parses and checks the file (no writes). A header without a required column is one error for line 1. */
export function parseFacilityCsv(text: string): Parsed {
  const errors: Parsed['errors'] = [];
  const good: Parsed['good'] = [];
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text.replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: true, info: true, trim: false, bom: true }) as never;
  } catch (e) {
    const line = (e as { lines?: number }).lines ?? 1;
    return { good, errors: [{ line, message: `CSV không đọc được (${(e as Error).message})` }] };
  }
  if (!records.length) return { good, errors: [{ line: 1, message: 'tệp rỗng (empty file)' }] };
  const header = records[0].record.map((h) => h.trim().toLowerCase());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length) return { good, errors: [{ line: 1, message: `thiếu cột ${missing.join(', ')} (missing columns)` }] };
  if (records.length - 1 > MAX_IMPORT_LINES) return { good, errors: [{ line: 1, message: `quá ${MAX_IMPORT_LINES} dòng (too many lines: split the file)` }] };
  const seen = new Map<string, number>();
  for (const { record, info } of records.slice(1)) {
    const line = info.lines;
    if (record.length !== header.length) {
      errors.push({ line, message: `có ${record.length} cột, tiêu đề có ${header.length} (wrong number of columns)` });
      continue;
    }
    const rec = Object.fromEntries(header.map((h, i) => [h, record[i]]));
    const r = checkLine(rec);
    if (typeof r === 'string') {
      errors.push({ line, message: r });
      continue;
    }
    const first = seen.get(r.code);
    if (first) {
      errors.push({ line, message: `mã cơ sở ${r.code} đã có ở dòng ${first} (duplicate code in the file)` });
      continue;
    }
    seen.set(r.code, line);
    good.push({ line, f: r });
  }
  return { good, errors };
}

/** Imports the good lines in one transaction (see the file header). `repo` acts through programme.facilities or as the system. */
export async function importFacilities(repo: Repository, text: string): Promise<ImportResult> {
  const { good, errors } = parseFacilityCsv(text);
  if (!good.length) return { created: 0, updated: 0, unchanged: 0, errors, lines: good.length + errors.length };
  return repo.transaction(async (tx) => {
    const existing = new Map<string, { org_id: string; location_id: string | null; digest: string }>();
    const codes = good.map((g) => g.f.code);
    for (let i = 0; i < codes.length; i += 5000) {
      const r = await tx.sql.query<{ code: string; org_id: string; location_id: string | null; digest: string }>(
        'SELECT code, org_id, location_id, digest FROM programme_facility WHERE code = ANY($1)',
        [codes.slice(i, i + 5000)],
      );
      for (const row of r.rows) existing.set(row.code, row);
    }
    const fresh = good.filter((g) => !existing.has(g.f.code));
    let updated = 0;
    let unchanged = 0;
    for (const g of good) {
      const cur = existing.get(g.f.code);
      if (!cur) continue;
      // Compared as the Organization would carry the line (the same normalisation the register was made with).
      const wanted = facilityOf(toOrganization(g.f));
      if (wanted && facilityDigest(wanted) === cur.digest) {
        unchanged++;
        continue;
      }
      const org = await tx.read<Organization>('Organization', cur.org_id);
      await tx.update({ ...org, ...toOrganization(g.f, cur.org_id) });
      if (cur.location_id) {
        const loc = await tx.read<Location>('Location', cur.location_id);
        await tx.update({ ...loc, name: `Điểm cầu ${g.f.name}`, managingOrganization: { reference: `Organization/${cur.org_id}`, display: g.f.name } });
      } else await tx.create(toLocation(g.f, cur.org_id));
      updated++;
    }
    for (let i = 0; i < fresh.length; i += 1000) {
      const chunk = fresh.slice(i, i + 1000);
      const orgs = await tx.createMany(chunk.map((g) => toOrganization(g.f)));
      await tx.createMany(chunk.map((g, j) => toLocation(g.f, orgs[j].id!)));
    }
    await tx.record({ action: 'programme.import', resourceType: 'Organization', detail: { created: fresh.length, updated, unchanged, errors: errors.length } });
    return { created: fresh.length, updated, unchanged, errors, lines: good.length + errors.length };
  });
}
