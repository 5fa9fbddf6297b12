/**
 * Teaching cases for a session, made from the consult domain's de-identified teaching copy
 * (app.consults.teachingCopy: no name, identifier or birth date; age band) — reused, not
 * duplicated — and then cleaned further, because that copy leaves free text as written: the
 * patient's names (and their contacts'), any Vietnamese full name (a common surname followed by
 * capitalised words), identifiers and phone numbers (runs of digits), the address, and dates
 * finer than the month are removed. Attachments are left out (their images may carry names).
 * The stored copy has no link back to the record (only a hash of the case id, to refuse twice).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Patient, ServiceRequest } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { FhirStore } from '../fhir/store.ts';
import { conflict } from '../fhir/outcome.ts';
import type { TeachingCaseContent, TeachingCaseView } from './contract.ts';
import { loadSession } from './courses.ts';
import type { AttendanceService } from './attendance.ts';
import { isInstant, vietnamDay } from '../platform/vietnam-time.ts';

/** The teaching copy the consult domain gives (its own type, by shape). */
export interface TeachingCopySource {
  ageBand: string;
  sex?: string;
  reason?: { text?: string; coding?: { display?: string }[] }[];
  summary: { title?: string; text: string }[];
  conclusion: { title?: string; text: string }[];
}

/**
 * The most common Vietnamese family names (and those of the northern mountain peoples in the
 * demo provinces): public knowledge, listed by hand. A capitalised word after one of these is
 * taken as a name.
 */
export const VN_SURNAMES = [
  'Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Phan', 'Vũ', 'Võ', 'Đặng', 'Bùi', 'Đỗ', 'Hồ', 'Ngô', 'Dương', 'Lý', 'Đinh', 'Trịnh', 'Đoàn', 'Lương',
  'Mai', 'Tạ', 'Cao', 'Lâm', 'Tô', 'Hà', 'Chu', 'Quách', 'Lò', 'Giàng', 'Vàng', 'Sùng', 'Lường', 'Quàng', 'Thào', 'Hầu', 'Mùa', 'Lầu', 'Cầm', 'Tòng',
]; // prettier-ignore

const L = '\\p{L}';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const word = (s: string, flags = 'giu') => new RegExp(`(?<![${L}])${escape(s)}(?![${L}])`, flags);
const FULL_NAME = new RegExp(`(?<![${L}])(?:${VN_SURNAMES.map(escape).join('|')})(?:\\s+\\p{Lu}[${L}]*){1,3}(?![${L}])`, 'gu');
const DATE_DMY = /\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b/g;
const DATE_ISO = /\b(\d{4})-(\d{2})-(\d{2})(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b/g;
const DATE_WORDS = /ngày\s+\d{1,2}\s+(tháng\s+\d{1,2})/giu;
const DIGITS = /\+?\d[\d .-]{5,}\d/g;

export interface Identity {
  /** Whole names (matched in any case). */
  names: string[];
  /** Single parts of names (matched only capitalised, so "nam", "mai", "an toàn" stay). */
  parts?: string[];
  identifiers: string[];
  address: string[];
}

/** What of a patient must not appear in a teaching case: names (theirs and contacts'), identifiers, address parts. */
export function identityOf(p: Patient): Identity {
  const names: string[] = [];
  const single: string[] = [];
  const add = (n: { text?: string; family?: string; given?: string[] } | undefined) => {
    if (!n) return;
    if (n.text) names.push(n.text);
    const parts = [n.family, ...(n.given ?? [])].filter((x): x is string => !!x);
    if (parts.length > 1) names.push(parts.join(' '), [...(n.given ?? []), n.family ?? ''].join(' ').trim());
    for (const part of [n.text ?? '', ...parts].flatMap((x) => x.split(/\s+/))) if (part.length >= 2 && /^\p{Lu}/u.test(part)) single.push(part);
  };
  for (const n of p.name ?? []) add(n);
  for (const c of p.contact ?? []) add(c.name);
  const address = (p.address ?? []).flatMap((a) => [a.text, ...(a.line ?? []), a.city, a.district, a.state].filter((x): x is string => !!x && x.length >= 3));
  const identifiers = (p.identifier ?? []).map((i) => i.value).filter((x): x is string => !!x);
  if (p.birthDate) identifiers.push(p.birthDate);
  for (const t of p.telecom ?? []) if (t.value) identifiers.push(t.value);
  const longestFirst = (xs: string[]) => [...new Set(xs)].sort((a, b) => b.length - a.length);
  return { names: longestFirst(names), parts: longestFirst(single), identifiers, address };
}

/** Free text without the person's identity, names, numbers, address, or dates finer than the month. */
export function scrub(text: string, who: Identity): string {
  let s = text;
  for (const id of who.identifiers) s = s.split(id).join('[đã ẩn]');
  for (const a of who.address) s = s.replace(word(a), '[địa chỉ]');
  s = s.replace(FULL_NAME, '[tên]');
  for (const n of who.names) s = s.replace(word(n), '[tên]');
  for (const n of who.parts ?? []) s = s.replace(word(n, 'gu'), '[tên]');
  s = s.replace(DATE_WORDS, '$1');
  s = s.replace(DATE_DMY, (_m, _d, mo: string, y: string) => `${mo.padStart(2, '0')}/${y}`);
  s = s.replace(DATE_ISO, (_m, y: string, mo: string) => `${mo}/${y}`);
  s = s.replace(DIGITS, (m) => (m.replace(/\D/g, '').length >= 6 ? '[số]' : m));
  return s;
}

export function deidentify(copy: TeachingCopySource, who: Identity, month?: string): TeachingCaseContent {
  const clean = (xs: { title?: string; text: string }[]) => xs.map((x) => ({ ...(x.title ? { title: scrub(x.title, who) } : {}), text: scrub(x.text, who) }));
  return {
    note: 'Ca bệnh giảng dạy đã khử định danh: không họ tên, mã định danh, địa chỉ; thời gian chỉ đến tháng.',
    ageBand: copy.ageBand,
    ...(copy.sex ? { sex: copy.sex } : {}),
    reason: (copy.reason ?? []).map((r) => scrub(r.text ?? r.coding?.[0]?.display ?? '', who)).filter(Boolean),
    summary: clean(copy.summary),
    conclusion: clean(copy.conclusion),
    ...(month ? { month } : {}),
  };
}

export interface TeachingCopies {
  teachingCopy(ctx: AccessContext, caseId: string): Promise<TeachingCopySource>;
}

export class TeachingService {
  constructor(
    private readonly store: FhirStore,
    private readonly attendance: AttendanceService,
    private readonly consults: TeachingCopies | undefined,
  ) {}

  /** A teacher adds a case they may see (consult.view through the consult domain) to a session, de-identified. */
  async add(ctx: AccessContext, sessionId: string, caseId: string): Promise<TeachingCaseView> {
    if (!this.consults) throw conflict('Chưa bật phần hội chẩn nên không có ca bệnh để giảng dạy (the consult domain is off)');
    const repo = this.store.as(ctx, 'training.teach');
    const s = await loadSession(repo, sessionId);
    await this.attendance.assertTeacher(repo, ctx, s.course_id);
    const copy = await this.consults.teachingCopy(ctx, caseId);
    return repo.transaction(async (tx) => {
      // The patient, through the teacher's own reach, only to know what to remove.
      const sr = await tx.read<ServiceRequest>('ServiceRequest', caseId);
      const pid = sr.subject?.reference?.replace(/^Patient\//, '');
      const patient = pid ? await tx.read<Patient>('Patient', pid) : undefined;
      const who = patient ? identityOf(patient) : { names: [], identifiers: [], address: [] };
      const day = isInstant(sr.authoredOn) ? vietnamDay(sr.authoredOn) : undefined;
      const month = day ? `${day.slice(5, 7)}/${day.slice(0, 4)}` : undefined;
      const content = deidentify(copy, who, month);
      const id = randomUUID();
      const hash = createHash('sha256').update(`teaching:${caseId}`).digest('hex');
      const r = await tx.sql.query(
        'INSERT INTO training_teaching_case (id, session_id, source_hash, content, created_by) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING RETURNING id',
        [id, sessionId, hash, JSON.stringify(content), ctx.actor.accountId ?? 'system'],
      );
      if (!r.rows.length) throw conflict('Ca bệnh này đã có trong buổi học (already added)');
      await tx.record({ action: 'training.teaching-case', patientIds: pid ? [pid] : [], detail: { session: sessionId, teachingCase: id } });
      return { id, sessionId, content };
    });
  }

  /** The session's teaching cases: to its teachers and those enrolled (no patient data in them). */
  async list(ctx: AccessContext, sessionId: string): Promise<TeachingCaseView[]> {
    const a = ctx.actor;
    return this.store.as(ctx, 'training.learn').transaction(async (tx) => {
      const s = await loadSession(tx, sessionId);
      const enrolled = await tx.sql.query(
        "SELECT 1 FROM training_enrolment WHERE course_id = $1 AND status = 'enrolled' AND ((kind = 'person' AND practitioner_id = $2) OR (kind = 'facility' AND org_id = $3)) LIMIT 1",
        [s.course_id, a.practitionerId ?? '-', a.organizationId ?? '-'],
      );
      if (!enrolled.rows.length) await this.attendance.assertTeacher(tx, ctx, s.course_id);
      const rows = (
        await tx.sql.query<{ id: string; content: TeachingCaseContent }>(
          'SELECT id, content FROM training_teaching_case WHERE session_id = $1 ORDER BY created_at',
          [sessionId],
        )
      ).rows;
      return rows.map((r) => ({ id: r.id, sessionId, content: r.content }));
    });
  }
}
