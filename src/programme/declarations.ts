/**
 * Telemedicine-unit declarations (Decree 96/2023/NĐ-CP, Art. 87–88): a facility declares its unit
 * — services, specialties, staff, rooms and equipment, connectivity, hours — as a
 * QuestionnaireResponse to the national form (Questionnaire DECLARATION_URL); the provincial
 * health department approves it or returns it with a reason. Every step is a row of
 * programme_declaration_event (the history) and the facility's unit_status in the register; only
 * approved units count toward coverage.
 *
 * Rules: a facility administrator declares for their own facility (`programme.declare`); an
 * analyst held at the department of the facility's province reviews (`programme.review`), only a
 * declaration waiting for review. A declaration sent again (after a return, or to change an
 * approved unit) waits for review again, and the unit counts only once approved again.
 */
import type { Questionnaire, QuestionnaireResponse, QuestionnaireResponseItem } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { DomainSql } from '../db/domain-sql.ts';
import { addNotification } from '../events/outbox.ts';
import { businessRule } from '../fhir/outcome.ts';
import { facilityRow } from './network.ts';
import { scopeOf } from './scope.ts';
import { SERVICES, type DeclarationEvent, type DeclarationInput, type DeclarationView, type ReviewInput } from './contract.ts';

export const DECLARATION_URL = 'https://fhir.cauyte.vn/Questionnaire/telemedicine-unit';

const SERVICE_LABELS: Record<(typeof SERVICES)[number], string> = {
  'case-conference': 'Hội chẩn từ xa',
  'remote-examination': 'Khám, chữa bệnh từ xa',
  'remote-training': 'Đào tạo, chuyển giao kỹ thuật từ xa',
  'home-monitoring': 'Theo dõi sức khỏe tại nhà',
};

/** The national form, as a Questionnaire (created once at start). */
export const DECLARATION_FORM: Questionnaire = {
  resourceType: 'Questionnaire',
  url: DECLARATION_URL,
  version: '2023-96',
  name: 'TelemedicineUnitDeclaration',
  title: 'Bản công bố đơn vị khám bệnh, chữa bệnh từ xa (Nghị định 96/2023/NĐ-CP, Điều 87–88)',
  status: 'active',
  subjectType: ['Organization'],
  item: [
    {
      linkId: 'services',
      text: 'Dịch vụ cung cấp',
      type: 'choice',
      repeats: true,
      required: true,
      answerOption: SERVICES.map((s) => ({ valueCoding: { code: s, display: SERVICE_LABELS[s] } })),
    },
    { linkId: 'specialties', text: 'Chuyên khoa', type: 'string', repeats: true, required: true },
    {
      linkId: 'staff',
      text: 'Nhân lực',
      type: 'group',
      repeats: true,
      required: true,
      item: [
        { linkId: 'staff.name', text: 'Họ tên', type: 'string', required: true },
        { linkId: 'staff.qualification', text: 'Trình độ', type: 'string', required: true },
        { linkId: 'staff.role', text: 'Nhiệm vụ', type: 'string', required: true },
      ],
    },
    { linkId: 'rooms', text: 'Số phòng khám, hội chẩn từ xa', type: 'integer', required: true },
    {
      linkId: 'equipment',
      text: 'Trang thiết bị',
      type: 'group',
      item: [
        { linkId: 'equipment.camera', text: 'Camera', type: 'boolean' },
        { linkId: 'equipment.display', text: 'Màn hình', type: 'boolean' },
        { linkId: 'equipment.ultrasound', text: 'Siêu âm (none/analogue/digital)', type: 'string' },
        { linkId: 'equipment.xray', text: 'X-quang (none/analogue/digital)', type: 'string' },
      ],
    },
    {
      linkId: 'connectivity',
      text: 'Đường truyền',
      type: 'group',
      item: [
        { linkId: 'connectivity.type', text: 'Loại đường truyền', type: 'string' },
        { linkId: 'connectivity.down', text: 'Băng thông tải xuống đo được (kbit/s)', type: 'integer' },
        { linkId: 'connectivity.up', text: 'Băng thông tải lên đo được (kbit/s)', type: 'integer' },
      ],
    },
    { linkId: 'hours', text: 'Thời gian hoạt động', type: 'string', required: true },
  ],
};

const str = (linkId: string, v: string): QuestionnaireResponseItem => ({ linkId, answer: [{ valueString: v }] });
const int = (linkId: string, v: number): QuestionnaireResponseItem => ({ linkId, answer: [{ valueInteger: v }] });
const bool = (linkId: string, v: boolean): QuestionnaireResponseItem => ({ linkId, answer: [{ valueBoolean: v }] });

export function toResponse(orgId: string, input: DeclarationInput, author: string): QuestionnaireResponse {
  return {
    resourceType: 'QuestionnaireResponse',
    questionnaire: DECLARATION_URL,
    status: 'completed',
    subject: { reference: `Organization/${orgId}` },
    authored: new Date().toISOString(),
    author: { reference: `Organization/${orgId}`, display: author },
    item: [
      { linkId: 'services', answer: input.services.map((s) => ({ valueCoding: { code: s, display: SERVICE_LABELS[s] } })) },
      { linkId: 'specialties', answer: input.specialties.map((s) => ({ valueString: s })) },
      ...input.staff.map((s) => ({
        linkId: 'staff',
        item: [str('staff.name', s.name), str('staff.qualification', s.qualification), str('staff.role', s.role)],
      })),
      int('rooms', input.rooms),
      {
        linkId: 'equipment',
        item: [
          bool('equipment.camera', input.equipment.camera),
          bool('equipment.display', input.equipment.display),
          str('equipment.ultrasound', input.equipment.ultrasound),
          str('equipment.xray', input.equipment.xray),
        ],
      },
      {
        linkId: 'connectivity',
        item: [
          str('connectivity.type', input.connectivity.type),
          int('connectivity.down', input.connectivity.downKbps),
          int('connectivity.up', input.connectivity.upKbps),
        ],
      },
      str('hours', input.hours),
    ],
  };
}

/** The declaration back from its QuestionnaireResponse. */
export function fromResponse(qr: QuestionnaireResponse): DeclarationInput {
  const top = (id: string) => qr.item?.filter((i) => i.linkId === id) ?? [];
  const sub = (group: QuestionnaireResponseItem | undefined, id: string) => group?.item?.find((i) => i.linkId === id)?.answer?.[0];
  const eq = top('equipment')[0];
  const cn = top('connectivity')[0];
  return {
    services: (top('services')[0]?.answer ?? []).map((a) => a.valueCoding?.code as DeclarationInput['services'][number]),
    specialties: (top('specialties')[0]?.answer ?? []).map((a) => a.valueString ?? ''),
    staff: top('staff').map((g) => ({
      name: sub(g, 'staff.name')?.valueString ?? '',
      qualification: sub(g, 'staff.qualification')?.valueString ?? '',
      role: sub(g, 'staff.role')?.valueString ?? '',
    })),
    rooms: top('rooms')[0]?.answer?.[0]?.valueInteger ?? 0,
    equipment: {
      camera: !!sub(eq, 'equipment.camera')?.valueBoolean,
      display: !!sub(eq, 'equipment.display')?.valueBoolean,
      ultrasound: (sub(eq, 'equipment.ultrasound')?.valueString ?? 'none') as DeclarationInput['equipment']['ultrasound'],
      xray: (sub(eq, 'equipment.xray')?.valueString ?? 'none') as DeclarationInput['equipment']['xray'],
    },
    connectivity: {
      type: (sub(cn, 'connectivity.type')?.valueString ?? 'other') as DeclarationInput['connectivity']['type'],
      downKbps: sub(cn, 'connectivity.down')?.valueInteger ?? 0,
      upKbps: sub(cn, 'connectivity.up')?.valueInteger ?? 0,
    },
    hours: top('hours')[0]?.answer?.[0]?.valueString ?? '',
  };
}

export const isDeclaration = (r: { resourceType: string; questionnaire?: string }) =>
  r.resourceType === 'QuestionnaireResponse' && r.questionnaire === DECLARATION_URL;

async function history(sql: DomainSql, orgId: string): Promise<DeclarationEvent[]> {
  const r = await sql.query<{ status: DeclarationEvent['status']; reason: string | null; actor: string; at: Date | string; response_id: string }>(
    'SELECT status, reason, actor, at, response_id FROM programme_declaration_event WHERE org_id = $1 ORDER BY at DESC, id DESC LIMIT 200',
    [orgId],
  );
  return r.rows.map((x) => ({
    status: x.status,
    ...(x.reason ? { reason: x.reason } : {}),
    actor: x.actor,
    at: new Date(x.at).toISOString(),
    responseId: x.response_id,
  }));
}

export class DeclarationService {
  constructor(private readonly store: FhirStore) {}

  /** The facility's declaration: current answers, status and history (its own staff, or the reviewing department). */
  async view(ctx: AccessContext, orgId: string): Promise<DeclarationView> {
    const a = ctx.actor;
    const action = a.role === 'facility_admin' ? 'programme.declare' : 'programme.review';
    const facility = await facilityRow(this.store.as(ctx, 'programme.view').sql, orgId);
    const repo = this.store.as(ctx, action);
    if (action === 'programme.declare' && a.organizationId !== orgId)
      throw new AccessDenied('Chỉ xem được bản công bố của cơ sở mình (your own facility only)');
    if (action === 'programme.review') await this.assertReviewer(repo.sql, ctx, facility.provinceCode);
    const events = await history(repo.sql, orgId);
    const latest = events[0];
    const qr = latest ? await repo.tryRead<QuestionnaireResponse>('QuestionnaireResponse', latest.responseId) : undefined;
    return { facility, status: facility.unitStatus, ...(qr ? { current: { ...fromResponse(qr), responseId: qr.id! } } : {}), history: events };
  }

  async submit(ctx: AccessContext, orgId: string, input: DeclarationInput): Promise<DeclarationView> {
    if (ctx.actor.organizationId !== orgId) throw new AccessDenied('Chỉ công bố cho cơ sở của mình (declare for your own facility only)');
    await this.store.as(ctx, 'programme.declare').transaction(async (tx) => {
      const f = await facilityRow(tx.sql, orgId);
      if (f.unitStatus === 'submitted') throw businessRule('Bản công bố đang chờ Sở Y tế xem xét (a declaration is already waiting for review)');
      const qr = await tx.create(toResponse(orgId, input, ctx.actor.displayName ?? ctx.actor.username ?? f.name));
      const now = new Date().toISOString();
      await tx.sql.query("UPDATE programme_facility SET unit_status = 'submitted', updated_at = now() WHERE org_id = $1", [orgId]);
      await tx.sql.query('INSERT INTO programme_declaration_event (org_id, response_id, status, actor, at) VALUES ($1, $2, $3, $4, $5)', [
        orgId,
        qr.id,
        'submitted',
        ctx.actor.displayName ?? ctx.actor.username ?? '',
        now,
      ]);
      const depts = await tx.sql.query<{ org_id: string }>('SELECT org_id FROM programme_authority WHERE province_code = $1', [f.provinceCode]);
      for (const d of depts.rows)
        await addNotification(
          tx.sql,
          { organizationId: d.org_id },
          'programme.declaration',
          `Bản công bố đơn vị khám chữa bệnh từ xa mới: ${f.name}`,
          `/programme/facilities/${orgId}`,
        );
      await tx.record({ action: 'programme.declare', resourceType: 'QuestionnaireResponse', resourceId: qr.id, detail: { organization: orgId } });
    });
    return this.view(ctx, orgId);
  }

  private async assertReviewer(sql: DomainSql, ctx: AccessContext, provinceCode: number): Promise<void> {
    const s = await scopeOf(sql, ctx.actor);
    if (s.kind === 'national' || (s.kind === 'province' && s.provinceCode === provinceCode)) return;
    throw new AccessDenied('Chỉ Sở Y tế của tỉnh nơi cơ sở đặt trụ sở xem xét bản công bố (only the department of the facility’s province reviews it)');
  }

  async review(ctx: AccessContext, orgId: string, input: ReviewInput): Promise<DeclarationView> {
    await this.store.as(ctx, 'programme.review').transaction(async (tx) => {
      const f = await facilityRow(tx.sql, orgId);
      await this.assertReviewer(tx.sql, ctx, f.provinceCode);
      if (f.unitStatus !== 'submitted') throw businessRule('Không có bản công bố nào đang chờ xem xét (no declaration is waiting for review)');
      const last = (await history(tx.sql, orgId))[0];
      const now = new Date().toISOString();
      const status = input.decision === 'approve' ? 'approved' : 'returned';
      await tx.sql.query(
        `UPDATE programme_facility SET unit_status = $2, unit_since = ${status === 'approved' ? '$3' : 'unit_since'}, updated_at = now() WHERE org_id = $1`,
        [orgId, status, ...(status === 'approved' ? [now] : [])],
      );
      await tx.sql.query('INSERT INTO programme_declaration_event (org_id, response_id, status, reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6)', [
        orgId,
        last.responseId,
        status,
        input.decision === 'return' ? input.reason : null,
        ctx.actor.displayName ?? ctx.actor.username ?? '',
        now,
      ]);
      await addNotification(
        tx.sql,
        { organizationId: orgId },
        'programme.declaration',
        status === 'approved'
          ? 'Sở Y tế đã chấp thuận bản công bố đơn vị khám chữa bệnh từ xa'
          : `Sở Y tế trả lại bản công bố: ${input.decision === 'return' ? input.reason : ''}`,
        '/programme/declaration',
      );
      await tx.record({
        action: `programme.${status === 'approved' ? 'approve' : 'return'}`,
        resourceType: 'QuestionnaireResponse',
        resourceId: last.responseId,
        detail: { organization: orgId },
      });
    });
    return this.view(ctx, orgId);
  }

  /** Declarations waiting for the actor's department (or every province for the Ministry). */
  async queue(ctx: AccessContext): Promise<DeclarationView['facility'][]> {
    const repo = this.store.as(ctx, 'programme.review');
    const s = await scopeOf(repo.sql, ctx.actor);
    if (s.kind === 'facility') return []; // only departments (and the Ministry) review
    const r = await repo.sql.query<{ org_id: string }>(
      `SELECT org_id FROM programme_facility WHERE unit_status = 'submitted' ${s.kind === 'province' ? 'AND province_code = $1' : ''} ORDER BY updated_at LIMIT 500`,
      s.kind === 'province' ? [s.provinceCode] : [],
    );
    return Promise.all(r.rows.map((x) => facilityRow(repo.sql, x.org_id)));
  }
}
