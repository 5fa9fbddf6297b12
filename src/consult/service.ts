/**
 * Remote case conferences (hội chẩn từ xa) as a workflow over FHIR resources:
 *   ServiceRequest — the request (who asks whom, about which patient, how urgently, why);
 *   Composition    — the structured case summary, and the signed conclusion (kết luận hội chẩn);
 *   DocumentReference + Binary — attachments (images, PDF, DICOM);
 *   Task           — the case's state, assignment and outputs; every transition is a new version;
 *   Appointment / Encounter — sessions (phiên hội chẩn) and per-site attendance;
 *   Provenance     — each signature (who advised) and the requester's decision (who decided).
 * Each action checks the acting side and the state machine (workflow.ts), writes in one
 * transaction, appends an audit entry naming the patient, and notifies the other side live.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Appointment, Binary, Composition, DocumentReference, Encounter, Patient, Practitioner, Provenance, Reference, Resource, ServiceRequest, Task, TaskInput, TaskOutput } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import { actorFields } from '../auth/principal.ts';
import type { ServerSecret } from '../auth/secret.ts';
import type { AuditLog } from '../audit/audit.ts';
import type { EventBus } from '../events/bus.ts';
import type { FhirService } from '../fhir/service.ts';
import { badRequest, conflict, FhirError, notFound } from '../fhir/outcome.ts';
import { ICD10_SYSTEM } from '../terminology/icd10.ts';
import { htmlDiv } from '../fhir/narrative.ts';
import { addNotification, enqueueMessage } from '../events/outbox.ts';
import { SIGNATURE_TYPE, signDocument, signingKeyFor, verifySignatures, type SignatureCheck } from './signing.ts';
import { queuePage } from './queue.ts';
import { actionLabel, assertTransition, PRIORITY_OF, STATE_SYSTEM, RESPONSE_TARGET_MINUTES, STATE_LABELS, TASK_STATUS, URGENCY_OF, type ConsultAction, type ConsultState, type Urgency } from './workflow.ts';

export const CONSULT_ID_SYSTEM = 'https://fhir.cauyte.vn/sid/consult-request';
export const ATTACHMENT_ID_SYSTEM = 'https://fhir.cauyte.vn/sid/attachment';
export { STATE_SYSTEM } from './workflow.ts';
export const SPECIALTY_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/specialty';
export const TASK_PARAM_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/consult-task-param';
export const CONSULT_CATEGORY = { system: 'https://fhir.cauyte.vn/CodeSystem/service-category', code: 'teleconsultation', display: 'Hội chẩn từ xa' };
export const SIGNED_TAG = { system: 'https://fhir.cauyte.vn/CodeSystem/document-state', code: 'signed', display: 'Đã ký' };
const LOINC = 'http://loinc.org';

export const ATTACHMENT_TYPES: Record<string, (b: Buffer) => boolean> = {
  'image/jpeg': (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/png': (b) => b.length > 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/webp': (b) => b.length > 12 && b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  'application/dicom': (b) => b.length > 132 && b.subarray(128, 132).toString('latin1') === 'DICM',
};

export interface RequestInput {
  clientId: string;
  patientId: string;
  receivingOrganizationId: string;
  specialty: { code: string; display: string };
  urgency: Urgency;
  reason: string;
  icd10: { code: string; display?: string };
  summary: { history: string; findings: string; vitals?: string; treatment: string; question: string };
  attachmentIds: string[];
  submit: boolean;
}

export interface ConclusionInput {
  assessment: string;
  diagnosis: { code: string; display?: string };
  recommendations: string;
  transfer: boolean;
  actionUrgency: Urgency;
  cosignerIds?: string[];
}

interface CaseParts {
  request: ServiceRequest;
  task: Task;
  state: ConsultState;
  patientId: string;
  requestingOrg: string;
  receivingOrg: string;
  specialists: string[];
}

const ref = (r: Reference | undefined, type: string) => (r?.reference?.startsWith(`${type}/`) ? r.reference.slice(type.length + 1) : undefined);
const param = (code: string, display: string) => ({ coding: [{ system: TASK_PARAM_SYSTEM, code, display }] });
const isParam = (x: TaskInput | TaskOutput, code: string) => x.type.coding?.some((c) => c.system === TASK_PARAM_SYSTEM && c.code === code);

function stateOf(task: Task): ConsultState {
  return (task.businessStatus?.coding?.find((c) => c.system === STATE_SYSTEM)?.code ?? 'draft') as ConsultState;
}


function section(title: string, code: string, text: string) {
  return { title, code: { coding: [{ system: LOINC, code }] }, text: { status: 'generated' as const, div: htmlDiv(text) } };
}

/** How many waiting cases the triage queue shows at once (the most urgent, longest waiting). */
export const QUEUE_PAGE = 200;

export class ConsultService {
  constructor(
    private readonly fhir: FhirService,
    private readonly audit: AuditLog,
    private readonly bus: EventBus,
    private readonly secret: ServerSecret,
    readonly maxAttachmentBytes: number,
  ) {}

  private get db() {
    return this.fhir.db;
  }

  // ---------------------------------------------------------------- loading and sides

  async load(caseId: string, q: Queryable = this.db): Promise<CaseParts> {
    const request = (await this.fhir.repo.tryRead<ServiceRequest>('ServiceRequest', caseId, q)) as ServiceRequest | undefined;
    if (!request || !request.category?.some((c) => c.coding?.some((x) => x.code === CONSULT_CATEGORY.code))) throw notFound(`Không có yêu cầu hội chẩn ${caseId} (no such case)`);
    const tasks = await this.fhir.searchBundle('Task', new URLSearchParams({ focus: `ServiceRequest/${caseId}`, _count: '1' }), q);
    const task = tasks.entry?.[0]?.resource as Task | undefined;
    if (!task) throw notFound(`Yêu cầu ${caseId} không có phiếu theo dõi (no task for this case)`);
    return {
      request,
      task,
      state: stateOf(task),
      patientId: ref(request.subject, 'Patient')!,
      requestingOrg: ref(task.requester, 'Organization') ?? '',
      receivingOrg: ref(task.owner, 'Organization') ?? '',
      specialists: (task.input ?? []).filter((i) => isParam(i, 'specialist')).map((i) => ref(i.valueReference, 'Practitioner')!).filter(Boolean),
    };
  }

  /** The actor's relation to a case; throws 403 when they have none that allows `need`. */
  side(ctx: AccessContext, c: CaseParts, need: 'requester' | 'receiver' | 'specialist' | 'any'): void {
    const a = ctx.actor;
    if (a.via === 'test') return;
    const requester = !!a.organizationId && a.organizationId === c.requestingOrg;
    const receiver = !!a.organizationId && a.organizationId === c.receivingOrg;
    const specialist = !!a.practitionerId && c.specialists.includes(a.practitionerId);
    const ok = need === 'requester' ? requester : need === 'receiver' ? receiver : need === 'specialist' ? specialist : requester || receiver || specialist;
    if (!ok) {
      const who = { requester: 'cơ sở gửi yêu cầu (the requesting facility)', receiver: 'cơ sở tiếp nhận (the receiving facility)', specialist: 'chuyên gia được phân công (an assigned specialist)', any: 'những người tham gia ca này (people involved in this case)' }[need];
      throw new AccessDenied(`Chỉ ${who} được làm việc này`);
    }
  }

  private async record(q: Queryable, ctx: AccessContext, action: string, c: { patientId: string; caseId: string }, detail?: Record<string, unknown>): Promise<void> {
    if (ctx.actor.via === 'test') return;
    await this.audit.append(q, { ...actorFields(ctx), action: `consult.${action}`, outcome: 'success', resourceType: 'ServiceRequest', resourceId: c.caseId, patientIds: [c.patientId], reason: ctx.purpose, detail });
  }

  /** A new Task version for a transition, with a note saying who did what, when and why. */
  private async transition(q: Queryable, ctx: AccessContext, c: CaseParts, action: ConsultAction, change: (t: Task) => Task, note?: string, ifMatch?: string): Promise<Task> {
    const to = assertTransition(action, c.state);
    const state = to ?? c.state;
    const who = ctx.actor.practitionerId ? { reference: `Practitioner/${ctx.actor.practitionerId}`, display: ctx.actor.displayName ?? ctx.actor.username } : { display: ctx.actor.username ?? 'hệ thống' };
    const next = change({
      ...c.task,
      status: TASK_STATUS[state] as Task['status'],
      businessStatus: { coding: [{ system: STATE_SYSTEM, code: state, display: STATE_LABELS[state].vi }], text: STATE_LABELS[state].vi },
      lastModified: new Date().toISOString(),
      note: [...(c.task.note ?? []), { authorReference: who.reference ? { reference: who.reference, display: who.display } : undefined, authorString: who.reference ? undefined : who.display, time: new Date().toISOString(), text: `${action}${note ? `: ${note}` : ''}` }],
    });
    try {
      const r = await this.fhir.repo.update(next, { ifMatch: ifMatch ?? `W/"${c.task.meta?.versionId}"` }, q);
      c.task = r.resource;
      c.state = state;
      return r.resource;
    } catch (err) {
      if (err instanceof FhirError && err.status === 412) throw conflict('Ca này vừa được người khác xử lý; tải lại để xem trạng thái mới (someone else acted on this case first)');
      throw err;
    }
  }

  private async notifySide(q: Queryable, c: CaseParts, side: 'requester' | 'receiver' | 'specialists', title: string): Promise<void> {
    const link = `/consults/${c.request.id}`;
    if (side === 'requester') await addNotification(q, { organizationId: c.requestingOrg }, 'consult', title, link);
    if (side === 'receiver') await addNotification(q, { organizationId: c.receivingOrg }, 'consult', title, link);
    if (side === 'specialists') for (const p of c.specialists) await addNotification(q, { practitionerId: p }, 'consult', title, link);
  }

  private async publish(c: CaseParts, kind = 'consult.state'): Promise<void> {
    await this.bus.publish({
      kind,
      to: { organizationIds: [c.requestingOrg, c.receivingOrg].filter(Boolean), practitionerIds: c.specialists },
      data: { caseId: c.request.id!, state: c.state },
    });
  }

  // ---------------------------------------------------------------- attachments

  async addAttachment(ctx: AccessContext, input: { clientId: string; patientId: string; contentType: string; title: string; data: string }): Promise<DocumentReference> {
    await this.fhir.read('Patient', input.patientId, undefined, ctx); // access check and audit
    const check = ATTACHMENT_TYPES[input.contentType];
    if (!check) throw badRequest(`Loại tệp ${input.contentType} không được nhận; chỉ nhận ${Object.keys(ATTACHMENT_TYPES).join(', ')}`);
    const bytes = Buffer.from(input.data, 'base64');
    if (bytes.length === 0) throw badRequest('Tệp rỗng (the file is empty)');
    if (bytes.length > this.maxAttachmentBytes) throw new FhirError(413, [{ severity: 'error', code: 'too-costly', diagnostics: `Tệp quá lớn: ${bytes.length} byte, tối đa ${this.maxAttachmentBytes} (file too large)` }]);
    if (!check(bytes)) throw badRequest(`Nội dung tệp không phải ${input.contentType} (the file's content does not match its type)`);
    return this.db.transaction(async (q) => {
      const existing = await this.fhir.conditionalMatches(q, 'DocumentReference', new URLSearchParams({ identifier: `${ATTACHMENT_ID_SYSTEM}|${input.clientId}` }));
      if (existing[0]) return existing[0] as DocumentReference;
      const binary = (await this.fhir.repo.create({ resourceType: 'Binary', contentType: input.contentType, securityContext: { reference: `Patient/${input.patientId}` }, data: bytes.toString('base64') } as Binary, q)) as Binary;
      const doc = (await this.fhir.repo.create(
        {
          resourceType: 'DocumentReference',
          identifier: [{ system: ATTACHMENT_ID_SYSTEM, value: input.clientId }],
          status: 'current',
          type: { text: input.contentType.startsWith('image/') ? 'Hình ảnh' : input.contentType === 'application/dicom' ? 'Ảnh DICOM' : 'Tài liệu' },
          subject: { reference: `Patient/${input.patientId}` },
          date: new Date().toISOString(),
          ...(ctx.actor.practitionerId ? { author: [{ reference: `Practitioner/${ctx.actor.practitionerId}` }] } : {}),
          content: [{ attachment: { contentType: input.contentType, url: `Binary/${binary.id}`, size: bytes.length, hash: createHash('sha1').update(bytes).digest('base64'), title: input.title.slice(0, 200), creation: new Date().toISOString() } }],
        } as DocumentReference,
        q,
      )) as DocumentReference;
      if (ctx.actor.via !== 'test') await this.audit.append(q, { ...actorFields(ctx), action: 'create', outcome: 'success', resourceType: 'DocumentReference', resourceId: doc.id, patientIds: [input.patientId], detail: { bytes: bytes.length, contentType: input.contentType } });
      return doc;
    });
  }

  /** The bytes of an attachment, for someone who may read the document it belongs to. */
  async attachmentContent(ctx: AccessContext, documentId: string): Promise<{ contentType: string; data: Buffer; title?: string }> {
    const doc = (await this.fhir.read('DocumentReference', documentId, undefined, ctx)) as DocumentReference;
    const att = doc.content[0].attachment;
    const binaryId = ref({ reference: att.url }, 'Binary');
    if (!binaryId) throw notFound('Tài liệu không có nội dung (no content)');
    const binary = (await this.fhir.repo.read('Binary', binaryId)) as Binary;
    return { contentType: binary.contentType, data: Buffer.from(binary.data ?? '', 'base64'), title: att.title };
  }

  // ---------------------------------------------------------------- request

  async createRequest(ctx: AccessContext, input: RequestInput): Promise<{ caseId: string; created: boolean; state: ConsultState }> {
    await this.fhir.read('Patient', input.patientId, undefined, ctx);
    const receiving = await this.fhir.repo.tryRead('Organization', input.receivingOrganizationId);
    if (!receiving) throw badRequest(`Không có cơ sở tiếp nhận ${input.receivingOrganizationId} (unknown receiving facility)`);
    if (ctx.actor.via !== 'test' && !ctx.actor.organizationId) throw new AccessDenied('Tài khoản chưa gắn với cơ sở y tế (your account has no facility)');
    if (input.receivingOrganizationId === ctx.actor.organizationId) throw badRequest('Cơ sở tiếp nhận phải khác cơ sở gửi (ask another facility)');
    for (const id of input.attachmentIds) {
      const d = (await this.fhir.repo.tryRead<DocumentReference>('DocumentReference', id)) as DocumentReference | undefined;
      if (!d || d.subject?.reference !== `Patient/${input.patientId}`) throw badRequest(`Tệp đính kèm ${id} không thuộc người bệnh này (attachment is not this patient's)`);
    }
    const result = await this.db.transaction(async (q) => {
      // Exactly once: a request submitted again (after being offline) finds itself by its client id.
      const existing = await this.fhir.conditionalMatches(q, 'ServiceRequest', new URLSearchParams({ identifier: `${CONSULT_ID_SYSTEM}|${input.clientId}` }));
      if (existing[0]) {
        const c = await this.load(existing[0].id!, q);
        return { caseId: existing[0].id!, created: false, state: c.state, c };
      }
      const now = new Date().toISOString();
      const practitioner = ctx.actor.practitionerId ? { reference: `Practitioner/${ctx.actor.practitionerId}`, ...(ctx.actor.displayName ? { display: ctx.actor.displayName } : {}) } : undefined;
      const summary = (await this.fhir.repo.create(
        {
          resourceType: 'Composition',
          status: input.submit ? 'final' : 'preliminary',
          type: { coding: [{ system: LOINC, code: '34133-9', display: 'Summary of episode note' }], text: 'Tóm tắt bệnh án hội chẩn' },
          subject: { reference: `Patient/${input.patientId}` },
          date: now,
          author: [practitioner ?? { display: ctx.actor.username ?? 'system' }],
          title: 'Tóm tắt bệnh án',
          section: [
            section('Bệnh sử', '10164-2', input.summary.history),
            section('Khám lâm sàng, cận lâm sàng', '29545-1', input.summary.findings),
            ...(input.summary.vitals ? [section('Dấu hiệu sinh tồn', '8716-3', input.summary.vitals)] : []),
            section('Điều trị hiện tại', '10160-0', input.summary.treatment),
            section('Câu hỏi hội chẩn', '51848-0', input.summary.question),
          ],
        } as Composition,
        q,
      )) as Composition;
      const request = (await this.fhir.repo.create(
        {
          resourceType: 'ServiceRequest',
          identifier: [{ system: CONSULT_ID_SYSTEM, value: input.clientId }],
          status: input.submit ? 'active' : 'draft',
          intent: 'order',
          category: [{ coding: [CONSULT_CATEGORY] }],
          code: { coding: [{ system: SPECIALTY_SYSTEM, code: input.specialty.code, display: input.specialty.display }], text: `Hội chẩn ${input.specialty.display}` },
          priority: PRIORITY_OF[input.urgency],
          subject: { reference: `Patient/${input.patientId}` },
          authoredOn: now,
          ...(practitioner ? { requester: practitioner } : {}),
          performer: [{ reference: `Organization/${input.receivingOrganizationId}` }],
          reasonCode: [{ coding: [{ system: ICD10_SYSTEM, code: input.icd10.code, ...(input.icd10.display ? { display: input.icd10.display } : {}) }], text: input.reason }],
          supportingInfo: [{ reference: `Composition/${summary.id}` }, ...input.attachmentIds.map((id) => ({ reference: `DocumentReference/${id}` }))],
          note: [{ text: input.summary.question, time: now }],
        } as ServiceRequest,
        q,
      )) as ServiceRequest;
      const state: ConsultState = input.submit ? 'submitted' : 'draft';
      const task = (await this.fhir.repo.create(
        {
          resourceType: 'Task',
          identifier: [{ system: CONSULT_ID_SYSTEM, value: input.clientId }],
          status: TASK_STATUS[state],
          businessStatus: { coding: [{ system: STATE_SYSTEM, code: state, display: STATE_LABELS[state].vi }], text: STATE_LABELS[state].vi },
          intent: 'order',
          priority: PRIORITY_OF[input.urgency],
          code: { text: 'Hội chẩn từ xa' },
          focus: { reference: `ServiceRequest/${request.id}` },
          for: { reference: `Patient/${input.patientId}` },
          authoredOn: now,
          lastModified: now,
          requester: { reference: `Organization/${ctx.actor.organizationId ?? input.receivingOrganizationId}` },
          owner: { reference: `Organization/${input.receivingOrganizationId}` },
          note: [{ ...(practitioner ? { authorReference: practitioner } : { authorString: ctx.actor.username ?? 'system' }), time: now, text: input.submit ? 'submit' : 'draft' }],
        } as Task,
        q,
      )) as Task;
      const c: CaseParts = { request, task, state, patientId: input.patientId, requestingOrg: ctx.actor.organizationId ?? '', receivingOrg: input.receivingOrganizationId, specialists: [] };
      await this.record(q, ctx, input.submit ? 'submit' : 'draft', { patientId: input.patientId, caseId: request.id! }, { urgency: input.urgency });
      if (input.submit) await this.notifySide(q, c, 'receiver', `Yêu cầu hội chẩn mới (${input.urgency === 'emergency' ? 'CẤP CỨU' : input.urgency === 'urgent' ? 'khẩn' : 'thường'}): ${input.specialty.display}`);
      return { caseId: request.id!, created: true, state, c };
    });
    if (result.created && result.state === 'submitted') await this.publish(result.c, 'consult.new');
    return { caseId: result.caseId, created: result.created, state: result.state };
  }

  async submit(ctx: AccessContext, caseId: string): Promise<ConsultState> {
    return this.act(ctx, caseId, 'submit', 'requester', async (q, c) => {
      await this.fhir.repo.update({ ...c.request, status: 'active' }, {}, q);
      await this.transition(q, ctx, c, 'submit', (t) => t);
      await this.notifySide(q, c, 'receiver', 'Yêu cầu hội chẩn đã gửi (bổ sung)');
    });
  }

  async withdraw(ctx: AccessContext, caseId: string, reason: string): Promise<ConsultState> {
    return this.act(ctx, caseId, 'withdraw', 'requester', async (q, c) => {
      await this.fhir.repo.update({ ...c.request, status: 'revoked' }, {}, q);
      await this.transition(q, ctx, c, 'withdraw', (t) => t, reason);
      await this.notifySide(q, c, 'receiver', 'Yêu cầu hội chẩn đã được rút');
    });
  }

  /** Runs one action: load, check side, write in a transaction, audit, then publish. */
  private async act(ctx: AccessContext, caseId: string, action: ConsultAction, side: 'requester' | 'receiver' | 'specialist', fn: (q: Queryable, c: CaseParts) => Promise<void>, detail?: Record<string, unknown>): Promise<ConsultState> {
    const c = await this.db.transaction(async (q) => {
      const c = await this.load(caseId, q);
      this.side(ctx, c, side);
      await fn(q, c);
      await this.record(q, ctx, action, { patientId: c.patientId, caseId }, detail);
      return c;
    });
    await this.publish(c);
    return c.state;
  }

  // ---------------------------------------------------------------- triage

  async triage(ctx: AccessContext, caseId: string, input: { action: 'accept' | 'request-info' | 'decline' | 'redirect'; specialistIds?: string[]; reason?: string; redirectToOrganizationId?: string; version?: string }): Promise<ConsultState> {
    return this.act(
      ctx,
      caseId,
      input.action,
      'receiver',
      async (q, c) => {
        // The version the person was looking at: if the case moved on since, they must look again.
        if (input.version && c.task.meta?.versionId !== input.version) throw conflict('Ca này vừa được người khác xử lý; tải lại để xem trạng thái mới (someone else acted on this case first)');
        const ifMatch = input.version ? `W/"${input.version}"` : undefined;
        if (input.action === 'accept') {
          const ids = input.specialistIds ?? [];
          if (ids.length === 0) throw badRequest('Cần phân công ít nhất một chuyên gia (assign at least one specialist)');
          for (const id of ids) if (!(await this.fhir.repo.tryRead('Practitioner', id, q))) throw badRequest(`Không có chuyên gia ${id} (unknown practitioner)`);
          await this.transition(q, ctx, c, 'accept', (t) => ({ ...t, input: [...(t.input ?? []).filter((i) => !isParam(i, 'specialist')), ...ids.map((id) => ({ type: param('specialist', 'Chuyên gia được phân công'), valueReference: { reference: `Practitioner/${id}` } }))] }), input.reason, ifMatch);
          c.specialists = ids;
          await this.notifySide(q, c, 'requester', 'Yêu cầu hội chẩn đã được tiếp nhận');
          await this.notifySide(q, c, 'specialists', 'Bạn được phân công một ca hội chẩn');
        } else if (input.action === 'request-info' || input.action === 'decline') {
          if (!input.reason || input.reason.trim().length < 5) throw badRequest('Cần nêu lý do (state the reason)');
          if (input.action === 'decline') await this.fhir.repo.update({ ...c.request, status: 'revoked' }, {}, q);
          await this.transition(q, ctx, c, input.action, (t) => t, input.reason, ifMatch);
          await this.notifySide(q, c, 'requester', input.action === 'decline' ? `Yêu cầu hội chẩn bị từ chối: ${input.reason}` : `Cần bổ sung thông tin: ${input.reason}`);
        } else {
          const to = input.redirectToOrganizationId;
          if (!to || !(await this.fhir.repo.tryRead('Organization', to, q))) throw badRequest('Cần chọn cơ sở chuyển đến (choose the facility to redirect to)');
          if (to === c.receivingOrg) throw badRequest('Cơ sở chuyển đến trùng cơ sở hiện tại');
          const from = c.receivingOrg;
          await this.fhir.repo.update({ ...c.request, performer: [{ reference: `Organization/${to}` }] }, {}, q);
          await this.transition(q, ctx, c, 'redirect', (t) => ({ ...t, owner: { reference: `Organization/${to}` }, input: [...(t.input ?? []), { type: param('redirected-from', 'Chuyển từ cơ sở'), valueReference: { reference: `Organization/${from}` } }] }), input.reason, ifMatch);
          c.receivingOrg = to;
          await this.notifySide(q, c, 'receiver', 'Yêu cầu hội chẩn được chuyển đến cơ sở của bạn');
          await this.notifySide(q, c, 'requester', 'Yêu cầu hội chẩn đã được chuyển cơ sở khác');
        }
      },
      { action: input.action },
    );
  }

  /** Requests waiting at my facility (at most QUEUE_PAGE), most urgent and longest waiting first, with the response target (order kept by consult_queue). */
  async queue(ctx: AccessContext): Promise<unknown[]> {
    const org = ctx.actor.organizationId;
    if (!org) return [];
    const tasks = await queuePage(this.fhir.db, org, QUEUE_PAGE);
    const now = Date.now();
    const rows = tasks.map((t) => {
      const urgency = URGENCY_OF[t.priority ?? 'routine'] ?? 'routine';
      const waited = Math.round((now - Date.parse(t.authoredOn!)) / 60_000);
      return { caseId: ref(t.focus, 'ServiceRequest'), urgency, priority: t.priority, authoredOn: t.authoredOn, waitingMinutes: waited, targetMinutes: RESPONSE_TARGET_MINUTES[urgency], overdue: waited > RESPONSE_TARGET_MINUTES[urgency], version: t.meta?.versionId };
    });
    return this.describe(ctx, 'queue', rows);
  }

  /** Adds what a list needs to be useful (patient, specialty, reason) and records who saw which patients. */
  private async describe<T extends { caseId?: string }>(ctx: AccessContext, list: string, rows: T[]): Promise<(T & { patient?: string; specialty?: string; reason?: string })[]> {
    const ids = rows.map((r) => r.caseId).filter((x): x is string => !!x);
    const b = ids.length ? await this.fhir.searchBundle('ServiceRequest', new URLSearchParams({ _id: ids.join(','), _include: 'ServiceRequest:subject', _count: '500' })) : { entry: [] };
    const byId = new Map<string, Resource>((b.entry ?? []).map((e) => [`${e.resource!.resourceType}/${e.resource!.id}`, e.resource!]));
    const patients = new Set<string>();
    const out = rows.map((r) => {
      const sr = byId.get(`ServiceRequest/${r.caseId}`) as ServiceRequest | undefined;
      const pid = ref(sr?.subject, 'Patient');
      const pt = pid ? (byId.get(`Patient/${pid}`) as Patient | undefined) : undefined;
      if (pid) patients.add(pid);
      const n = pt?.name?.[0];
      return { ...r, patient: n ? (n.text ?? [n.family, ...(n.given ?? [])].join(' ')) : undefined, specialty: sr?.code?.coding?.[0]?.display, reason: sr?.reasonCode?.[0]?.text };
    });
    if (ctx.actor.via !== 'test') await this.audit.record({ ...actorFields(ctx), action: 'consult.list', outcome: 'success', patientIds: [...patients], detail: { list, n: rows.length } });
    return out;
  }

  /** Cases my facility requested, or assigned to me, newest first. */
  async mine(ctx: AccessContext, view: 'requested' | 'assigned' | 'received'): Promise<unknown[]> {
    const a = ctx.actor;
    const params = new URLSearchParams({ _count: '200', _sort: '-authored-on' });
    if (view === 'requested') params.set('requester', `Organization/${a.organizationId ?? '-'}`);
    else if (view === 'received') params.set('owner', `Organization/${a.organizationId ?? '-'}`);
    else params.set('code', 'none'); // assigned: filtered below from received
    const b = await this.fhir.searchBundle('Task', view === 'assigned' ? new URLSearchParams({ owner: `Organization/${a.organizationId ?? '-'}`, _count: '500', _sort: '-authored-on' }) : params);
    let tasks = (b.entry ?? []).map((e) => e.resource as Task);
    if (view === 'assigned') tasks = tasks.filter((t) => (t.input ?? []).some((i) => isParam(i, 'specialist') && i.valueReference?.reference === `Practitioner/${a.practitionerId}`));
    return this.describe(ctx, view, tasks.map((t) => ({ caseId: ref(t.focus, 'ServiceRequest'), state: stateOf(t), stateLabel: STATE_LABELS[stateOf(t)], urgency: URGENCY_OF[t.priority ?? 'routine'], authoredOn: t.authoredOn, lastModified: t.lastModified, followUpDue: t.executionPeriod?.end, version: t.meta?.versionId })));
  }

  // ---------------------------------------------------------------- sessions

  async scheduleSession(ctx: AccessContext, input: { title: string; topic?: string; start: string; end: string; hostPractitionerId: string; caseIds: string[]; siteOrganizationIds: string[]; participantPractitionerIds: string[] }): Promise<Appointment> {
    if (Date.parse(input.end) <= Date.parse(input.start)) throw badRequest('Giờ kết thúc phải sau giờ bắt đầu (end must be after start)');
    const result = await this.db.transaction(async (q) => {
      const cases: CaseParts[] = [];
      for (const id of input.caseIds) {
        const c = await this.load(id, q);
        this.side(ctx, c, 'receiver');
        assertTransition('schedule', c.state);
        cases.push(c);
      }
      const sites: string[] = [];
      for (const org of input.siteOrganizationIds) sites.push(await this.bridgePoint(q, org));
      for (const p of [input.hostPractitionerId, ...input.participantPractitionerIds]) if (!(await this.fhir.repo.tryRead('Practitioner', p, q))) throw badRequest(`Không có người tham gia ${p} (unknown practitioner)`);
      const appointment = (await this.fhir.repo.create(
        {
          resourceType: 'Appointment',
          status: 'booked',
          serviceCategory: [{ coding: [CONSULT_CATEGORY] }],
          appointmentType: { text: 'Phiên hội chẩn từ xa' },
          description: input.title,
          ...(input.topic ? { comment: `Chủ đề đào tạo: ${input.topic}` } : {}),
          start: new Date(input.start).toISOString(),
          end: new Date(input.end).toISOString(),
          created: new Date().toISOString(),
          basedOn: cases.map((c) => ({ reference: `ServiceRequest/${c.request.id}` })),
          participant: [
            { type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PPRF', display: 'chủ trì' }] }], actor: { reference: `Practitioner/${input.hostPractitionerId}` }, required: 'required', status: 'accepted' },
            ...[...new Set(input.participantPractitionerIds.filter((p) => p !== input.hostPractitionerId))].map((p) => ({ actor: { reference: `Practitioner/${p}` }, required: 'required' as const, status: 'needs-action' as const })),
            ...sites.map((l) => ({ actor: { reference: `Location/${l}` }, required: 'required' as const, status: 'needs-action' as const })),
          ],
        } as Appointment,
        q,
      )) as Appointment;
      for (const c of cases) {
        await this.transition(q, ctx, c, 'schedule', (t) => ({ ...t, input: [...(t.input ?? []), { type: param('session', 'Phiên hội chẩn'), valueReference: { reference: `Appointment/${appointment.id}` } }] }));
        await this.record(q, ctx, 'schedule', { patientId: c.patientId, caseId: c.request.id! }, { session: appointment.id });
        await this.notifySide(q, c, 'requester', `Ca hội chẩn được xếp vào phiên ${input.title}`);
      }
      const when = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'short' }).format(new Date(input.start));
      const invitees = [...new Set([input.hostPractitionerId, ...input.participantPractitionerIds])];
      for (const p of invitees) {
        await addNotification(q, { practitionerId: p }, 'session', `Mời tham dự phiên hội chẩn "${input.title}" lúc ${when}`, `/sessions/${appointment.id}`);
        const prac = (await this.fhir.repo.tryRead<Practitioner>('Practitioner', p, q)) as Practitioner | undefined;
        for (const t of prac?.telecom ?? []) {
          const channel = t.system === 'email' ? 'email' : t.system === 'phone' || t.system === 'sms' ? 'sms' : undefined;
          if (!channel || !t.value) continue;
          const body = `Phiên hội chẩn "${input.title}" lúc ${when} (giờ Việt Nam). Mở Cầu Y Tế để tham dự.`;
          await enqueueMessage(q, { channel, recipient: t.value, subject: 'Mời tham dự phiên hội chẩn', body, dedupeKey: `invite:${appointment.id}:${p}:${channel}` });
          for (const [label, minutes] of [['24 giờ', 24 * 60], ['1 giờ', 60]] as const) {
            const at = new Date(Date.parse(input.start) - minutes * 60_000);
            if (at.getTime() > Date.now()) await enqueueMessage(q, { channel, recipient: t.value, subject: `Nhắc lịch: còn ${label}`, body, sendAfter: at, dedupeKey: `remind:${appointment.id}:${p}:${channel}:${minutes}` });
          }
        }
      }
      for (const org of input.siteOrganizationIds) await addNotification(q, { organizationId: org }, 'session', `Điểm cầu của bạn được mời vào phiên "${input.title}" lúc ${when}`, `/sessions/${appointment.id}`);
      return { appointment, cases, invitees };
    });
    for (const c of result.cases) await this.publish(c);
    await this.bus.publish({ kind: 'session.invite', to: { practitionerIds: result.invitees, organizationIds: input.siteOrganizationIds }, data: { sessionId: result.appointment.id! } });
    return result.appointment;
  }

  /** The Location that stands for a facility's bridge point (điểm cầu), made when first needed. */
  private async bridgePoint(q: Queryable, organizationId: string): Promise<string> {
    const org = await this.fhir.repo.tryRead<Resource & { name?: string }>('Organization', organizationId, q);
    if (!org) throw badRequest(`Không có cơ sở ${organizationId} (unknown facility)`);
    const found = await this.fhir.conditionalMatches(q, 'Location', new URLSearchParams({ organization: `Organization/${organizationId}`, type: 'VR' }));
    if (found[0]) return found[0].id!;
    const loc = await this.fhir.repo.create({ resourceType: 'Location', status: 'active', name: `Điểm cầu ${org.name ?? organizationId}`, mode: 'instance', type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'VR', display: 'virtual' }] }], managingOrganization: { reference: `Organization/${organizationId}` } } as Resource, q);
    return loc.id!;
  }

  /** Join/leave of a bridge point, on the session's Encounter (one per session). */
  async attendance(ctx: AccessContext, sessionId: string, input: { organizationId: string; event: 'join' | 'leave' }): Promise<Encounter> {
    const appointment = (await this.fhir.repo.tryRead<Appointment>('Appointment', sessionId)) as Appointment | undefined;
    if (!appointment) throw notFound(`Không có phiên ${sessionId}`);
    const a = ctx.actor;
    if (a.via !== 'test' && a.organizationId !== input.organizationId) throw new AccessDenied('Chỉ ghi nhận tham dự cho điểm cầu của mình (record attendance for your own site)');
    return this.db.transaction(async (q) => {
      const location = await this.bridgePoint(q, input.organizationId);
      const invited = appointment.participant.some((p) => p.actor?.reference === `Location/${location}`);
      if (!invited) throw badRequest('Điểm cầu này không được mời vào phiên (this site was not invited)');
      const found = await this.fhir.conditionalMatches(q, 'Encounter', new URLSearchParams({ appointment: `Appointment/${sessionId}` }));
      const now = new Date().toISOString();
      let enc = found[0] as Encounter | undefined;
      if (!enc) {
        enc = { resourceType: 'Encounter', status: 'in-progress', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' }, type: [{ text: 'Phiên hội chẩn từ xa' }], appointment: [{ reference: `Appointment/${sessionId}` }], period: { start: now }, location: [] } as Encounter;
      }
      const locs = [...(enc.location ?? [])];
      if (input.event === 'join') locs.push({ location: { reference: `Location/${location}` }, status: 'active', period: { start: now } });
      else {
        const open = [...locs].reverse().find((l) => l.location.reference === `Location/${location}` && !l.period?.end);
        if (!open) throw badRequest('Điểm cầu này chưa tham gia (not joined)');
        open.status = 'completed';
        open.period = { ...open.period, end: now };
      }
      const next = { ...enc, location: locs } as Encounter;
      const saved = next.id ? (await this.fhir.repo.update(next, {}, q)).resource : await this.fhir.repo.create(next, q);
      if (a.via !== 'test') await this.audit.append(q, { ...actorFields(ctx), action: `session.${input.event}`, outcome: 'success', resourceType: 'Appointment', resourceId: sessionId, detail: { organizationId: input.organizationId } });
      return saved as Encounter;
    });
  }

  /** A session is visible to its invited practitioners and the staff of its invited sites. */
  async session(ctx: AccessContext, sessionId: string): Promise<{ appointment: Appointment; attendance?: Encounter }> {
    const appointment = (await this.fhir.repo.tryRead<Appointment>('Appointment', sessionId)) as Appointment | undefined;
    if (!appointment || !appointment.serviceCategory?.some((c) => c.coding?.some((x) => x.code === CONSULT_CATEGORY.code))) throw notFound(`Không có phiên ${sessionId}`);
    const a = ctx.actor;
    if (a.via !== 'test') {
      const invited = appointment.participant.some((p) => p.actor?.reference === `Practitioner/${a.practitionerId}`);
      let site = false;
      for (const p of appointment.participant) {
        const loc = ref(p.actor, 'Location');
        if (!loc || site) continue;
        const l = (await this.fhir.repo.tryRead<Resource & { managingOrganization?: Reference }>('Location', loc)) as (Resource & { managingOrganization?: Reference }) | undefined;
        site = !!a.organizationId && l?.managingOrganization?.reference === `Organization/${a.organizationId}`;
      }
      if (!invited && !site) throw new AccessDenied('Bạn và điểm cầu của bạn không được mời vào phiên này (you are not invited to this session)');
      await this.audit.record({ ...actorFields(ctx), action: 'read', outcome: 'success', resourceType: 'Appointment', resourceId: sessionId });
    }
    const enc = await this.fhir.conditionalMatches(this.db, 'Encounter', new URLSearchParams({ appointment: `Appointment/${sessionId}` }));
    return { appointment, attendance: enc[0] as Encounter | undefined };
  }

  // ---------------------------------------------------------------- conclusion and signatures

  private async conclusion(q: Queryable, c: CaseParts): Promise<Composition | undefined> {
    const out = [...(c.task.output ?? [])].reverse().find((o) => isParam(o, 'conclusion'));
    const id = ref(out?.valueReference, 'Composition');
    return id ? ((await this.fhir.repo.read('Composition', id, q)) as Composition) : undefined;
  }

  private conclusionResource(c: CaseParts, ctx: AccessContext, input: ConclusionInput, replaces?: Composition): Composition {
    return {
      resourceType: 'Composition',
      status: 'preliminary',
      type: { coding: [{ system: LOINC, code: '11488-4', display: 'Consult note' }], text: 'Biên bản kết luận hội chẩn' },
      subject: { reference: `Patient/${c.patientId}` },
      date: new Date().toISOString(),
      author: [{ reference: `Practitioner/${ctx.actor.practitionerId}` }],
      title: 'Kết luận hội chẩn',
      ...(replaces ? { relatesTo: [{ code: 'replaces', targetReference: { reference: `Composition/${replaces.id}` } }] } : {}),
      section: [
        section('Nhận định', '51848-0', input.assessment),
        { ...section('Chẩn đoán', '29548-5', `${input.diagnosis.code} ${input.diagnosis.display ?? ''}`.trim()), entry: [] },
        section('Khuyến cáo (xét nghiệm, điều trị)', '18776-5', input.recommendations),
        section('Chuyển tuyến', '42349-1', input.transfer ? 'Có — đề nghị chuyển người bệnh lên tuyến trên' : 'Không chuyển, điều trị tại chỗ theo khuyến cáo'),
        section('Mức độ khẩn của xử trí', '11535-2', { emergency: 'Cấp cứu', urgent: 'Khẩn', routine: 'Thường quy' }[input.actionUrgency]),
      ],
      extension: [{ url: 'https://fhir.cauyte.vn/StructureDefinition/consult-diagnosis', valueCoding: { system: ICD10_SYSTEM, code: input.diagnosis.code, ...(input.diagnosis.display ? { display: input.diagnosis.display } : {}) } }],
    } as Composition;
  }

  async draftConclusion(ctx: AccessContext, caseId: string, input: ConclusionInput): Promise<Composition> {
    let doc: Composition | undefined;
    await this.act(ctx, caseId, 'draft-conclusion', 'specialist', async (q, c) => {
      assertTransition('draft-conclusion', c.state);
      const cosigners = input.cosignerIds?.length ? input.cosignerIds : c.specialists;
      for (const p of cosigners) if (!c.specialists.includes(p)) throw badRequest(`Người ký ${p} không được phân công cho ca này (co-signers must be assigned specialists)`);
      const existing = await this.conclusion(q, c);
      const content = this.conclusionResource(c, ctx, input);
      if (existing) {
        if (existing.meta?.tag?.some((t) => t.code === SIGNED_TAG.code)) throw conflict('Kết luận đã có chữ ký, không thể sửa; hãy lập bản sửa đổi (a signed conclusion cannot change: amend it)');
        doc = (await this.fhir.repo.update({ ...content, id: existing.id }, { ifMatch: `W/"${existing.meta?.versionId}"` }, q)).resource as Composition;
      } else doc = (await this.fhir.repo.create(content, q)) as Composition;
      await this.transition(q, ctx, c, 'draft-conclusion', (t) => ({
        ...t,
        input: [...(t.input ?? []).filter((i) => !isParam(i, 'cosigner')), ...cosigners.map((p) => ({ type: param('cosigner', 'Người cùng ký'), valueReference: { reference: `Practitioner/${p}` } }))],
        output: [...(t.output ?? []).filter((o) => !(isParam(o, 'conclusion') && o.valueReference?.reference === `Composition/${doc!.id}`)), { type: param('conclusion', 'Kết luận hội chẩn'), valueReference: { reference: `Composition/${doc!.id}` } }],
      }));
    });
    return doc!;
  }

  /** The current user signs the conclusion; the last required signature makes it final and concludes the case. */
  async sign(ctx: AccessContext, caseId: string): Promise<{ signed: number; required: number; final: boolean }> {
    let result = { signed: 0, required: 0, final: false };
    await this.act(ctx, caseId, 'sign', 'specialist', async (q, c) => {
      assertTransition('sign', c.state);
      const doc = await this.conclusion(q, c);
      if (!doc) throw new FhirError(422, [{ severity: 'error', code: 'business-rule', diagnostics: 'Chưa có kết luận để ký (no conclusion to sign yet)' }]);
      const required = (c.task.input ?? []).filter((i) => isParam(i, 'cosigner')).map((i) => ref(i.valueReference, 'Practitioner')!);
      const me = ctx.actor.practitionerId!;
      if (!required.includes(me)) throw new AccessDenied('Bạn không nằm trong danh sách người ký kết luận này (you are not a co-signer)');
      const already = (doc.attester ?? []).some((a) => a.party?.reference === `Practitioner/${me}`);
      if (already) throw new FhirError(422, [{ severity: 'error', code: 'business-rule', diagnostics: 'Bạn đã ký kết luận này (you already signed)' }]);
      const key = await signingKeyFor(q, this.secret, ctx.actor.accountId!, me);
      const signature = signDocument(doc, key.privateKey);
      const now = new Date().toISOString();
      const attester = [...(doc.attester ?? []), { mode: 'professional' as const, time: now, party: { reference: `Practitioner/${me}` } }];
      const final = required.every((p) => attester.some((a) => a.party?.reference === `Practitioner/${p}`));
      const signedDoc = (await this.fhir.repo.update({ ...doc, status: final ? 'final' : 'preliminary', attester, meta: { ...doc.meta, tag: [...(doc.meta?.tag ?? []).filter((t) => t.code !== SIGNED_TAG.code), SIGNED_TAG] } }, { ifMatch: `W/"${doc.meta?.versionId}"` }, q)).resource as Composition;
      await this.fhir.repo.create(
        {
          resourceType: 'Provenance',
          target: [{ reference: `Composition/${doc.id}/_history/${signedDoc.meta?.versionId}` }, { reference: `Task/${c.task.id}` }, { reference: `Patient/${c.patientId}` }],
          recorded: now,
          activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE' }], text: 'Ký kết luận hội chẩn (tư vấn chuyên môn)' },
          agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'attester', display: 'Người ký (tư vấn)' }] }, who: { reference: `Practitioner/${me}` }, onBehalfOf: { identifier: { system: 'https://fhir.cauyte.vn/sid/account', value: ctx.actor.accountId } } }],
          signature: [{ type: [SIGNATURE_TYPE], when: now, who: { reference: `Practitioner/${me}` }, targetFormat: 'application/json', sigFormat: 'application/x-ed25519', data: signature }],
        } as Provenance,
        q,
      );
      if (final) {
        await this.fhir.repo.update({ ...c.request, status: 'completed' }, {}, q);
        await this.transition(q, ctx, c, 'conclude', (t) => t);
        await this.notifySide(q, c, 'requester', 'Đã có kết luận hội chẩn: mời xác nhận và quyết định điều trị');
      }
      result = { signed: attester.length, required: required.length, final };
    });
    return result;
  }

  /** An amendment: a new conclusion that replaces the signed one; it needs signing again. */
  async amend(ctx: AccessContext, caseId: string, input: ConclusionInput): Promise<Composition> {
    let doc: Composition | undefined;
    await this.act(ctx, caseId, 'amend', 'specialist', async (q, c) => {
      assertTransition('amend', c.state);
      const old = await this.conclusion(q, c);
      if (!old) throw badRequest('Không có kết luận để sửa đổi');
      doc = (await this.fhir.repo.create(this.conclusionResource(c, ctx, input, old), q)) as Composition;
      // The case goes back to "accepted" until the amendment is signed; the old conclusion stays as it was signed.
      c.task = (await this.fhir.repo.update({ ...c.task, businessStatus: { coding: [{ system: STATE_SYSTEM, code: 'accepted', display: STATE_LABELS.accepted.vi }] }, status: 'accepted', output: [...(c.task.output ?? []).filter((o) => !isParam(o, 'decision') && !isParam(o, 'decision-reason')), { type: param('conclusion', 'Kết luận hội chẩn'), valueReference: { reference: `Composition/${doc.id}` } }] }, {}, q)).resource as Task;
      c.state = 'accepted';
      await this.notifySide(q, c, 'requester', 'Kết luận hội chẩn đang được sửa đổi');
    });
    return doc!;
  }

  async verifyConclusion(ctx: AccessContext, caseId: string): Promise<{ conclusionId?: string; checks: SignatureCheck[]; valid: boolean }> {
    const c = await this.load(caseId);
    this.side(ctx, c, 'any');
    const docs = (c.task.output ?? []).filter((o) => isParam(o, 'conclusion')).map((o) => ref(o.valueReference, 'Composition')!);
    const id = docs[docs.length - 1];
    if (!id) return { checks: [], valid: false };
    const checks: SignatureCheck[] = [];
    const provs = await this.fhir.searchBundle('Provenance', new URLSearchParams({ patient: `Patient/${c.patientId}`, _count: '200' }));
    for (const e of provs.entry ?? []) {
      const p = e.resource as Provenance;
      const target = p.target.find((t) => t.reference?.startsWith(`Composition/${id}/_history/`));
      if (!target || !p.signature?.length) continue;
      const version = target.reference!.split('/').pop()!;
      const signed = (await this.fhir.repo.vread('Composition', id, version)) as Composition;
      checks.push(...(await verifySignatures(this.db, signed, [p])));
    }
    return { conclusionId: id, checks, valid: checks.length > 0 && checks.every((x) => x.valid) };
  }

  // ---------------------------------------------------------------- decision and follow-up

  async acknowledge(ctx: AccessContext, caseId: string, input: { decision: 'accept' | 'different'; reason?: string; plan?: string; followUpDays: number }): Promise<ConsultState> {
    if (input.decision === 'different' && (!input.reason || input.reason.trim().length < 5)) throw badRequest('Khi quyết định khác khuyến cáo, cần ghi rõ lý do (give the reason for a different decision)');
    return this.act(
      ctx,
      caseId,
      'acknowledge',
      'requester',
      async (q, c) => {
        assertTransition('acknowledge', c.state);
        const doc = await this.conclusion(q, c);
        const due = new Date(Date.now() + input.followUpDays * 86_400_000).toISOString();
        const now = new Date().toISOString();
        await this.transition(
          q,
          ctx,
          c,
          'acknowledge',
          (t) => ({
            ...t,
            executionPeriod: { start: t.authoredOn, end: due },
            output: [
              ...(t.output ?? []),
              { type: param('decision', 'Quyết định của cơ sở điều trị'), valueCode: input.decision },
              ...(input.reason ? [{ type: param('decision-reason', 'Lý do'), valueString: input.reason }] : []),
              ...(input.plan ? [{ type: param('decision-plan', 'Kế hoạch điều trị'), valueString: input.plan }] : []),
            ],
          }),
          input.decision === 'accept' ? 'theo khuyến cáo' : `quyết định khác: ${input.reason}`,
        );
        // Who decided: the treating clinician at the requesting facility, on the record.
        await this.fhir.repo.create(
          {
            resourceType: 'Provenance',
            target: [{ reference: `Task/${c.task.id}` }, ...(doc ? [{ reference: `Composition/${doc.id}` }] : []), { reference: `Patient/${c.patientId}` }],
            recorded: now,
            activity: { text: input.decision === 'accept' ? 'Quyết định điều trị theo khuyến cáo hội chẩn' : 'Quyết định điều trị khác khuyến cáo hội chẩn' },
            reason: input.reason ? [{ text: input.reason }] : undefined,
            agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'verifier', display: 'Người quyết định (điều trị)' }] }, who: ctx.actor.practitionerId ? { reference: `Practitioner/${ctx.actor.practitionerId}` } : { display: ctx.actor.username } }],
          } as Provenance,
          q,
        );
        await this.notifySide(q, c, 'specialists', input.decision === 'accept' ? 'Tuyến dưới đã nhận kết luận và điều trị theo khuyến cáo' : 'Tuyến dưới đã nhận kết luận và quyết định khác khuyến cáo');
      },
      { decision: input.decision },
    );
  }

  async followUp(ctx: AccessContext, caseId: string, input: { outcome: 'improved' | 'stable' | 'transferred' | 'died' | 'unknown'; note?: string }): Promise<ConsultState> {
    return this.act(
      ctx,
      caseId,
      'follow-up',
      'requester',
      async (q, c) => {
        await this.transition(q, ctx, c, 'follow-up', (t) => ({ ...t, output: [...(t.output ?? []), { type: param('outcome', 'Kết quả theo dõi'), valueCode: input.outcome }, ...(input.note ? [{ type: param('outcome-note', 'Ghi chú'), valueString: input.note }] : [])] }), input.outcome);
      },
      { outcome: input.outcome },
    );
  }

  /** Acknowledged cases of my facility whose follow-up date has passed. */
  async overdueFollowUps(ctx: AccessContext): Promise<unknown[]> {
    const b = await this.fhir.searchBundle('Task', new URLSearchParams({ requester: `Organization/${ctx.actor.organizationId ?? '-'}`, 'business-status': `${STATE_SYSTEM}|acknowledged`, period: `lt${new Date().toISOString()}`, _count: '500' }));
    return this.describe(ctx, 'overdue-follow-ups', (b.entry ?? []).map((e) => e.resource as Task).map((t) => ({ caseId: ref(t.focus, 'ServiceRequest'), due: t.executionPeriod?.end, overdueDays: Math.floor((Date.now() - Date.parse(t.executionPeriod!.end!)) / 86_400_000) })));
  }

  // ---------------------------------------------------------------- the case page

  async view(ctx: AccessContext, caseId: string): Promise<Record<string, unknown>> {
    const c = await this.load(caseId);
    this.side(ctx, c, 'any');
    const patient = (await this.fhir.read('Patient', c.patientId, undefined, ctx)) as Patient;
    const read = async <T extends Resource>(reference?: string) => {
      const [type, id] = (reference ?? '').split('/');
      return id ? ((await this.fhir.repo.tryRead<T>(type, id)) as T | undefined) : undefined;
    };
    const supporting = await Promise.all((c.request.supportingInfo ?? []).map((r) => read(r.reference)));
    const conclusions = await Promise.all((c.task.output ?? []).filter((o) => isParam(o, 'conclusion')).map((o) => read<Composition>(o.valueReference?.reference)));
    const sessions = await Promise.all((c.task.input ?? []).filter((i) => isParam(i, 'session')).map((i) => read<Appointment>(i.valueReference?.reference)));
    const history = await this.fhir.repo.history({ resourceType: 'Task', id: c.task.id, count: 500 });
    const timeline = history
      .filter((h) => h.resource)
      .map((h) => {
        const t = h.resource as Task;
        const n = t.note?.[t.note.length - 1];
        const [action, ...rest] = (n?.text ?? '').split(':');
        return { at: h.lastUpdated.toISOString(), version: h.versionId, state: stateOf(t), stateLabel: STATE_LABELS[stateOf(t)], action: actionLabel(action.trim()), by: n?.authorReference?.display ?? n?.authorString ?? n?.authorReference?.reference, note: rest.join(':').trim() || undefined };
      })
      .reverse();
    const outputs = Object.fromEntries((c.task.output ?? []).map((o) => [o.type.coding?.[0]?.code, o.valueCode ?? o.valueString ?? o.valueReference?.reference]));
    if (ctx.actor.via !== 'test') await this.audit.record({ ...actorFields(ctx), action: 'consult.view', outcome: 'success', resourceType: 'ServiceRequest', resourceId: caseId, patientIds: [c.patientId] });
    const lastConclusion = conclusions.filter(Boolean).pop();
    return {
      caseId,
      state: c.state,
      stateLabel: STATE_LABELS[c.state],
      version: c.task.meta?.versionId,
      urgency: URGENCY_OF[c.request.priority ?? 'routine'],
      request: c.request,
      patient: { id: patient.id, name: patient.name, gender: patient.gender, birthDate: patient.birthDate },
      requestingOrganization: await read(`Organization/${c.requestingOrg}`),
      receivingOrganization: await read(`Organization/${c.receivingOrg}`),
      specialists: await Promise.all(c.specialists.map((p) => read<Practitioner>(`Practitioner/${p}`))),
      summary: supporting.find((r) => r?.resourceType === 'Composition'),
      attachments: supporting.filter((r) => r?.resourceType === 'DocumentReference'),
      sessions: sessions.filter(Boolean),
      conclusion: lastConclusion,
      conclusions: conclusions.filter(Boolean),
      // Responsibility, explicitly: who advised (signers) and who decided (the treating facility).
      advisedBy: (lastConclusion?.attester ?? []).map((a) => ({ practitioner: a.party?.reference, at: a.time })),
      decision: outputs.decision ? { decision: outputs.decision, reason: outputs['decision-reason'], plan: outputs['decision-plan'], facility: c.requestingOrg } : undefined,
      outcome: outputs.outcome,
      followUpDue: c.task.executionPeriod?.end,
      timeline,
    };
  }

  /** A de-identified copy for teaching: age band, sex, clinical text and images; no name, ids or dates of birth. */
  async teachingCopy(ctx: AccessContext, caseId: string): Promise<Record<string, unknown>> {
    const v = await this.view(ctx, caseId);
    const p = v.patient as { gender?: string; birthDate?: string };
    const age = p.birthDate ? Math.floor((Date.now() - Date.parse(p.birthDate)) / (365.25 * 86_400_000)) : undefined;
    const text = (doc?: Composition) => (doc?.section ?? []).map((s) => ({ title: s.title, text: (s.text?.div ?? '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() }));
    if (ctx.actor.via !== 'test') await this.audit.record({ ...actorFields(ctx), action: 'export', outcome: 'success', resourceType: 'ServiceRequest', resourceId: caseId, detail: { deidentified: true } });
    return {
      note: 'Bản đã khử định danh để giảng dạy: không có họ tên, mã định danh, ngày sinh. Người soạn cần kiểm tra phần chữ tự do không còn thông tin nhận dạng. (De-identified teaching copy; check free text for identifying details.)',
      ageBand: age === undefined ? 'không rõ' : `${Math.floor(age / 10) * 10}–${Math.floor(age / 10) * 10 + 9} tuổi`,
      sex: p.gender,
      reason: (v.request as ServiceRequest).reasonCode,
      summary: text(v.summary as Composition | undefined),
      conclusion: text(v.conclusion as Composition | undefined),
      attachments: (v.attachments as DocumentReference[]).map((d) => ({ contentType: d.content[0].attachment.contentType, title: d.content[0].attachment.title, documentId: d.id })),
    };
  }
}

export function newClientId(): string {
  return randomUUID();
}
