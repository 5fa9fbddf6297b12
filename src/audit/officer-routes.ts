/**
 * The data-protection officer's audit viewer (`audit.read`): filters (person, patient, action,
 * outcome, date range, emergency access), pages by id (newest first), readable names (people,
 * facilities, patients, actions, record types — src/audit/labels.ts), what a refused request
 * tried to do, and a CSV export of the same filter.
 *
 * Rules: reading and exporting the trail are themselves recorded — with the patients whose names
 * the answer showed, so the officer's look appears in those patients' own access logs. Names the
 * officer has no record access to are looked up by the platform (`store.system`, reason given).
 * The export is capped (EXPORT_MAX rows) and says so in its last line when cut.
 */
import type { Organization, Patient } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { actorFields } from '../auth/principal.ts';
import { ROLE_LABELS, type Role } from '../auth/policy.ts';
import { parseInput as parse } from '../http/input.ts';
import type { AuditRow } from './audit.ts';
import { actionLabel, deniedLabel, outcomeLabel, resourceLabel } from './labels.ts';
import { officerAuditQuery, type OfficerAuditEntry, type OfficerAuditPage } from './officer-contract.ts';

export const EXPORT_MAX = 10_000;
const TZ_OFFSET = '+07:00';

type Filter = z.infer<typeof officerAuditQuery>;

/** The WHERE clause of a filter; patient text is resolved to ids first. */
function whereOf(f: Filter, patientIds: string[] | undefined): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.before) where.push(`l.id < $${params.push(f.before)}`);
  if (f.who) {
    const like = `%${f.who.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(
      `(l.account_id = $${params.push(f.who)} OR lower(l.username) LIKE $${params.push(like)} OR l.account_id IN (SELECT id FROM account WHERE lower(display_name) LIKE $${params.length}))`,
    );
  }
  if (patientIds) where.push(`l.patient_ids && $${params.push(patientIds)}::text[]`);
  if (f.action) where.push(`(l.action = $${params.push(f.action)} OR l.action LIKE $${params.push(`${f.action.replace(/[\\%_]/g, (c) => `\\${c}`)}.%`)})`);
  if (f.outcome) where.push(`l.outcome = $${params.push(f.outcome)}`);
  if (f.breakGlass === 'true') where.push('l.break_glass');
  if (f.from) where.push(`l.at >= $${params.push(`${f.from}T00:00:00${TZ_OFFSET}`)}::timestamptz`);
  if (f.to) where.push(`l.at < ($${params.push(`${f.to}T00:00:00${TZ_OFFSET}`)}::timestamptz + interval '1 day')`);
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  // Leading = + - @ would run as a formula in a spreadsheet: quote them as text.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r;]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** dd/mm/yyyy HH:mm:ss in Vietnam's time zone. */
function vnDateTime(d: Date): string {
  const p = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Ho_Chi_Minh',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(d);
  return p.replace(',', '');
}

export async function officerAuditRoutes(app: FastifyInstance, opts: { db: Db }): Promise<void> {
  const { db } = opts;
  const { audit } = app;
  const names = () => app.store.system('data-protection review: names of the people, patients and facilities in the audit entries shown', 'audit');

  /** Patient ids for the patient filter: an id as given, else a name / CCCD search (at most 50 people). */
  async function patientFilter(text: string | undefined): Promise<string[] | undefined> {
    if (!text) return undefined;
    const ids = /^[A-Za-z0-9-]{8,64}$/.test(text) && /\d/.test(text) && /-/.test(text) ? [text] : [];
    const byName = /^\d{9,12}$/.test(text)
      ? await names().search<Patient>('Patient', { identifier: text, _count: '50' })
      : await names().search<Patient>('Patient', { name: text, _count: '50' });
    return [...new Set([...ids, ...byName.map((p) => p.id!)])];
  }

  async function entries(rows: AuditRow[]): Promise<OfficerAuditEntry[]> {
    const accountIds = [...new Set(rows.map((r) => r.account_id).filter((x): x is string => !!x))];
    const people = accountIds.length
      ? new Map(
          (await db.query<{ id: string; display_name: string }>('SELECT id, display_name FROM account WHERE id = ANY($1::text[])', [accountIds])).rows.map(
            (r) => [r.id, r.display_name],
          ),
        )
      : new Map<string, string>();
    const orgIds = [...new Set(rows.map((r) => r.organization_id).filter((x): x is string => !!x && /^[A-Za-z0-9\-.]{1,64}$/.test(x)))];
    const orgs = orgIds.length
      ? new Map(
          (await names().search<Organization>('Organization', { _id: orgIds.join(','), _count: String(orgIds.length) })).map((o) => [o.id!, o.name ?? '']),
        )
      : new Map<string, string>();
    const patientIds = [...new Set(rows.flatMap((r) => r.patient_ids ?? []).filter((x) => /^[A-Za-z0-9\-.]{1,64}$/.test(x)))];
    const patients = new Map<string, string>();
    for (let i = 0; i < patientIds.length; i += 200) {
      const chunk = patientIds.slice(i, i + 200);
      for (const p of await names().search<Patient>('Patient', { _id: chunk.join(','), _count: String(chunk.length) }))
        patients.set(p.id!, p.name?.[0]?.text ?? [p.name?.[0]?.family, ...(p.name?.[0]?.given ?? [])].filter(Boolean).join(' '));
    }
    return rows.map((r) => {
      const d = (r.detail ?? {}) as { method?: string; route?: string; message?: string };
      const denied = r.action === 'denied' || r.outcome === 'denied';
      const resourceType = r.resource_type ?? undefined;
      return {
        id: Number(r.id),
        at: new Date(r.at).toISOString(),
        who: r.username ?? r.client_id ?? 'anonymous',
        person: r.account_id ? people.get(r.account_id) : undefined,
        roleLabel: r.role && r.role in ROLE_LABELS ? ROLE_LABELS[r.role as Role] : undefined,
        organization: r.organization_id ? (orgs.get(r.organization_id) ?? undefined) : undefined,
        action: r.action,
        actionLabel: { vi: actionLabel(r.action, 'vi'), en: actionLabel(r.action, 'en') },
        outcome: r.outcome,
        outcomeLabel: { vi: outcomeLabel(r.outcome, 'vi'), en: outcomeLabel(r.outcome, 'en') },
        resourceType,
        resourceLabel: resourceType ? { vi: resourceLabel(resourceType, 'vi')!, en: resourceLabel(resourceType, 'en')! } : undefined,
        patients: (r.patient_ids ?? []).map((id) => ({ id, name: patients.get(id) })),
        reason: r.reason ?? undefined,
        breakGlass: r.break_glass,
        ip: r.ip ?? undefined,
        denied: denied
          ? {
              vi: deniedLabel({ method: d.method, route: d.route, resourceType }, 'vi'),
              en: deniedLabel({ method: d.method, route: d.route, resourceType }, 'en'),
              message: typeof d.message === 'string' ? d.message.slice(0, 300) : undefined,
            }
          : undefined,
      };
    });
  }

  async function query(f: Filter, limit: number): Promise<{ rows: AuditRow[]; patientIds?: string[] }> {
    const patientIds = await patientFilter(f.patient);
    if (patientIds && patientIds.length === 0) return { rows: [], patientIds };
    const w = whereOf(f, patientIds);
    const rows = (await db.query<AuditRow>(`SELECT l.* FROM audit_log l ${w.sql} ORDER BY l.id DESC LIMIT ${limit}`, w.params)).rows;
    return { rows, patientIds };
  }

  app.get('/api/audit/search', { config: { access: { domain: 'audit.read' } } }, async (req): Promise<OfficerAuditPage> => {
    const f = parse(officerAuditQuery, req.query);
    const { rows } = await query(f, f.limit + 1);
    const page = rows.slice(0, f.limit);
    const items = await entries(page);
    const shown = [...new Set(items.flatMap((i) => i.patients.map((p) => p.id)))];
    await audit.record({ ...actorFields(req.ctx), action: 'audit.read', outcome: 'success', patientIds: shown, detail: { filter: f, returned: items.length } });
    return { items, next: rows.length > f.limit ? items[items.length - 1].id : undefined };
  });

  app.get('/api/audit/export.csv', { config: { access: { domain: 'audit.read' } } }, async (req, reply) => {
    const f = parse(officerAuditQuery, req.query);
    const lang = f.lang ?? 'vi';
    const { rows } = await query(f, EXPORT_MAX + 1);
    const items = await entries(rows.slice(0, EXPORT_MAX));
    const head =
      lang === 'vi'
        ? [
            'Mã',
            'Thời gian',
            'Tài khoản',
            'Họ tên',
            'Vai trò',
            'Cơ sở',
            'Hành động',
            'Kết quả',
            'Điều bị từ chối',
            'Loại dữ liệu',
            'Người bệnh',
            'Lý do',
            'Khẩn cấp',
            'Địa chỉ IP',
          ]
        : [
            'Id',
            'Time',
            'Account',
            'Name',
            'Role',
            'Facility',
            'Action',
            'Outcome',
            'What was denied',
            'Record type',
            'Patients',
            'Reason',
            'Emergency',
            'IP address',
          ];
    const lines = [head.map(csvCell).join(',')];
    for (const i of items) {
      lines.push(
        [
          i.id,
          vnDateTime(new Date(i.at)),
          i.who,
          i.person,
          i.roleLabel?.[lang],
          i.organization,
          i.actionLabel[lang],
          i.outcomeLabel[lang],
          i.denied?.[lang],
          i.resourceLabel?.[lang],
          i.patients.map((p) => p.name ?? p.id).join('; '),
          i.reason,
          i.breakGlass ? (lang === 'vi' ? 'Có' : 'Yes') : '',
          i.ip,
        ]
          .map(csvCell)
          .join(','),
      );
    }
    if (rows.length > EXPORT_MAX)
      lines.push(csvCell(lang === 'vi' ? `Đã cắt ở ${EXPORT_MAX} dòng: thu hẹp bộ lọc để xuất phần còn lại` : `Cut at ${EXPORT_MAX} rows: narrow the filter`));
    const shown = [...new Set(items.flatMap((i) => i.patients.map((p) => p.id)))];
    await audit.record({
      ...actorFields(req.ctx),
      action: 'audit.export',
      outcome: 'success',
      patientIds: shown,
      detail: { filter: f, rows: items.length, cut: rows.length > EXPORT_MAX },
    });
    const stamp = new Date().toISOString().slice(0, 10);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="nhat-ky-truy-cap-${stamp}.csv"`)
      .header('cache-control', 'no-store')
      .send(`\uFEFF${lines.join('\r\n')}\r\n`);
  });
}
