/**
 * Remote examination eligibility: direct-to-patient remote examination and treatment is allowed
 * only for conditions on the Minister's list (Circular 30/2023/TT-BYT, Law on Medical Examination
 * and Treatment 2023 Art. 80). The list ships as data (data/terminology/circular-30-2023.csv, a
 * draft reconstruction with a confidence per row); administrators load new versions; the version
 * in force is recorded with every decision. Case conferences between clinicians are not limited
 * by this list.
 *
 * The versions live in the consult domain's table `eligibility_list`, reached only through a
 * repository's DomainSql: read by the platform (a system repository), loaded by an administrator
 * through `eligibility.manage` (audited).
 */
import { readFileSync } from 'node:fs';
import type { AccessContext } from '../auth/actor.ts';
import type { FhirStore } from '../fhir/store.ts';
import { InputError } from '../http/input.ts';

export interface ListEntry {
  seq?: string;
  specialty: string;
  condition: string;
  /** The ICD-10 field as published, e.g. "E10.9-E14.9", "L01; L02; L66". */
  icd10: string;
  confidence: string;
  evidence: string;
  /** Parsed code patterns. */
  patterns: CodePattern[];
}

export type CodePattern =
  | { kind: 'code'; code: string } // the code and its subcodes
  | { kind: 'range'; from: string; to: string; sub?: string }; // categories from..to (optionally one subcode)

export interface EligibilityList {
  version: string;
  source: string;
  entries: ListEntry[];
}

export interface EligibilityDecision {
  eligible: boolean;
  /** Only entries the source confirms decide silently; others need a person to confirm. */
  confirmed: boolean;
  listVersion: string;
  entry?: { specialty: string; condition: string; icd10: string; confidence: string };
  reason: string;
}

export const SHIPPED_LIST = new URL('../../data/terminology/circular-30-2023.csv', import.meta.url);
export const SHIPPED_VERSION = 'TT30-2023-draft-2026-11';
export const SHIPPED_SOURCE =
  'Thông tư 30/2023/TT-BYT (Phụ lục danh mục bệnh, nhóm bệnh được khám bệnh, chữa bệnh từ xa); rows 1–7 verified verbatim from the published table (thuvienphapluat.vn), others reconstructed from a scanned annex and news summaries — see the evidence column';

/** ICD-10 code: a letter, two digits, optionally a dot and one or two more characters. */
const CODE = /^[A-Z]\d{2}(\.\d{1,2})?$/;

/** "E10.9-E14.9", "M05.0 (check: M05/M06)", "Z76.0 + A15-A19", "J10/J11 (...)" → patterns. */
export function parseCodes(field: string): CodePattern[] {
  const text = field.replace(/\([^)]*\)/g, ' ');
  const out: CodePattern[] = [];
  for (const raw of text.split(/[;,/+]/)) {
    const token = raw.trim().toUpperCase();
    if (!token) continue;
    const range = /^([A-Z]\d{2})(?:\.(\d{1,2}))?\s*-\s*([A-Z]\d{2})(?:\.(\d{1,2}))?$/.exec(token);
    if (range) {
      const [, from, subFrom, to, subTo] = range;
      out.push({ kind: 'range', from, to, ...(subFrom && subFrom === subTo ? { sub: subFrom } : {}) });
    } else if (CODE.test(token)) out.push({ kind: 'code', code: token });
  }
  return out;
}

export function matches(pattern: CodePattern, code: string): boolean {
  const c = code.trim().toUpperCase();
  if (pattern.kind === 'code') return c === pattern.code || c.startsWith(`${pattern.code}${pattern.code.includes('.') ? '' : '.'}`);
  const category = c.slice(0, 3);
  if (category < pattern.from || category > pattern.to) return false;
  return pattern.sub === undefined || c === `${category}.${pattern.sub}`;
}

/** Parses the list's CSV (seq,specialty,condition_vi,icd10,confidence,evidence; quoted fields allowed). */
export function parseListCsv(csv: string): Omit<ListEntry, 'patterns'>[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim());
  if (lines.length < 2) throw new Error('The list needs a header line and at least one entry');
  const header = splitCsv(lines[0]).map((h) => h.trim());
  for (const n of ['specialty', 'condition_vi', 'icd10', 'confidence']) {
    if (!header.includes(n)) throw new Error(`The list must have a "${n}" column (got: ${header.join(', ')})`);
  }
  return lines.slice(1).map((line, i) => {
    const cells = splitCsv(line);
    const get = (name: string) => (cells[header.indexOf(name)] ?? '').trim();
    const row = {
      seq: get('seq') || undefined,
      specialty: get('specialty'),
      condition: get('condition_vi'),
      icd10: get('icd10'),
      confidence: get('confidence'),
      evidence: get('evidence'),
    };
    if (!row.icd10 || !row.condition) throw new Error(`Line ${i + 2}: condition_vi and icd10 are required`);
    if (parseCodes(row.icd10).length === 0) throw new Error(`Line ${i + 2}: no ICD-10 code could be read from "${row.icd10}"`);
    return row;
  });
}

function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function buildList(version: string, source: string, rows: Omit<ListEntry, 'patterns'>[]): EligibilityList {
  return { version, source, entries: rows.map((r) => ({ ...r, patterns: parseCodes(r.icd10) })) };
}

export function shippedList(): EligibilityList {
  return buildList(SHIPPED_VERSION, SHIPPED_SOURCE, parseListCsv(readFileSync(SHIPPED_LIST, 'utf8')));
}

export function decide(list: EligibilityList, icd10: string): EligibilityDecision {
  const code = icd10.trim().toUpperCase();
  if (!/^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$/.test(code)) {
    return { eligible: false, confirmed: true, listVersion: list.version, reason: `"${icd10}" không phải mã ICD-10 hợp lệ (not a valid ICD-10 code)` };
  }
  const entry = list.entries.find((e) => e.patterns.some((p) => matches(p, code)));
  if (!entry) {
    return {
      eligible: false,
      confirmed: true,
      listVersion: list.version,
      reason: `Mã ${code} không thuộc danh mục bệnh được khám, chữa bệnh từ xa (Thông tư 30/2023/TT-BYT, phiên bản ${list.version}). Đề nghị đặt lịch khám trực tiếp. (${code} is not on the list of conditions that may be treated remotely: book an in-person visit.)`,
    };
  }
  const confirmed = entry.confidence === 'verified';
  return {
    eligible: true,
    confirmed,
    listVersion: list.version,
    entry: { specialty: entry.specialty, condition: entry.condition, icd10: entry.icd10, confidence: entry.confidence },
    reason: confirmed
      ? `${entry.condition} (${entry.icd10}) thuộc danh mục khám, chữa bệnh từ xa (on the list).`
      : `${entry.condition} (${entry.icd10}) có trong bản danh mục chưa xác minh — cần cán bộ xác nhận (on the list, but this entry is unconfirmed: a person must confirm).`,
  };
}

/** The list in force: the latest loaded version, or the shipped draft when none was loaded. */
export class EligibilityService {
  private cached?: EligibilityList;

  constructor(private readonly store: FhirStore) {}

  async inForce(): Promise<EligibilityList> {
    if (this.cached) return this.cached;
    const sql = this.store.system('eligibility list in force', 'consult').sql;
    const row = (
      await sql.query<{ version: string; source: string; entries: Omit<ListEntry, 'patterns'>[] }>(
        'SELECT version, source, entries FROM eligibility_list WHERE in_force',
      )
    ).rows[0];
    this.cached = row ? buildList(row.version, row.source, row.entries) : shippedList();
    return this.cached;
  }

  async check(icd10: string): Promise<EligibilityDecision> {
    return decide(await this.inForce(), icd10);
  }

  /** An administrator loads a new version (when the Ministry amends the list) and puts it in force. */
  async load(ctx: AccessContext, version: string, source: string, csv: string): Promise<EligibilityList> {
    if (!/^[\w.-]{1,60}$/.test(version)) throw new InputError('version must be 1–60 of A–Z a–z 0–9 . _ -');
    if (source.trim().length < 5) throw new InputError('source must name where the list comes from');
    let rows: Omit<ListEntry, 'patterns'>[];
    try {
      rows = parseListCsv(csv);
    } catch (err) {
      throw new InputError((err as Error).message);
    }
    const loadedBy = ctx.actor.username ?? ctx.actor.accountId ?? '?';
    await this.store.as(ctx, 'eligibility.manage').transaction(async (tx) => {
      await tx.sql.query('UPDATE eligibility_list SET in_force = false WHERE in_force');
      await tx.sql.query('INSERT INTO eligibility_list (version, source, loaded_by, in_force, entries) VALUES ($1, $2, $3, true, $4::jsonb)', [
        version,
        source,
        loadedBy,
        JSON.stringify(rows),
      ]);
      await tx.record({ action: 'consult.eligibility-load', detail: { version, entries: rows.length } });
    });
    this.cached = undefined;
    return this.inForce();
  }
}
