/**
 * The requesting side's use cases: write a request (summary Composition, ServiceRequest, Task) —
 * exactly once per client id, so a request sent again after being offline finds itself — submit a
 * draft, withdraw. All run as `consult.request`.
 */
import type { Composition, DocumentReference, Organization, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import { badRequest } from '../fhir/outcome.ts';
import { ICD10_SYSTEM } from '../terminology/icd10.ts';
import { assertPatientAttachment } from './attachments.ts';
import { firstNote, loadCase, notifySide, partsOf, publish, recordCase, runCaseAction, runRequestChecks, transition, type ConsultDeps } from './case.ts';
import type { CreateRequestResult, RequestInput } from './contract.ts';
import { CONSULT_CATEGORY, CONSULT_ID_SYSTEM, LOINC, section, SPECIALTY_SYSTEM } from './model.ts';
import { PRIORITY_OF, STATE_LABELS, STATE_SYSTEM, TASK_STATUS, type ConsultState } from './workflow.ts';

const URGENCY_TEXT = { emergency: 'CẤP CỨU', urgent: 'khẩn', routine: 'thường' } as const;

export async function createRequest(deps: ConsultDeps, ctx: AccessContext, input: RequestInput): Promise<CreateRequestResult> {
  const a = ctx.actor;
  if (!a.organizationId) throw new AccessDenied('Tài khoản chưa gắn với cơ sở y tế (your account has no facility)');
  if (input.receivingOrganizationId === a.organizationId) throw badRequest('Cơ sở tiếp nhận phải khác cơ sở gửi (ask another facility)');
  const result = await deps.store.as(ctx, 'consult.request').transaction(async (tx) => {
    await tx.read('Patient', input.patientId);
    if (!(await tx.tryRead<Organization>('Organization', input.receivingOrganizationId)))
      throw badRequest(`Không có cơ sở tiếp nhận ${input.receivingOrganizationId} (unknown receiving facility)`);
    for (const id of input.attachmentIds) await assertPatientAttachment(tx, await tx.tryRead<DocumentReference>('DocumentReference', id), input.patientId, id);
    // Exactly once: a request submitted again (after being offline) finds itself by its client id.
    const existing = await tx.searchOne<ServiceRequest>('ServiceRequest', { identifier: `${CONSULT_ID_SYSTEM}|${input.clientId}` });
    if (existing) {
      const c = await loadCase(tx, existing.id!);
      return { caseId: existing.id!, created: false, state: c.state, c };
    }
    // Other domains' rules for sending (a support agreement in force): refuse, or a warning kept on the case.
    const warnings = input.submit
      ? await runRequestChecks(deps, tx, { requestingOrg: a.organizationId!, receivingOrg: input.receivingOrganizationId, specialty: input.specialty.code })
      : [];
    const now = new Date().toISOString();
    const practitioner = a.practitionerId ? { reference: `Practitioner/${a.practitionerId}`, ...(a.displayName ? { display: a.displayName } : {}) } : undefined;
    const summary = await tx.create<Composition>({
      resourceType: 'Composition',
      status: input.submit ? 'final' : 'preliminary',
      type: { coding: [{ system: LOINC, code: '34133-9', display: 'Summary of episode note' }], text: 'Tóm tắt bệnh án hội chẩn' },
      category: [{ coding: [CONSULT_CATEGORY] }],
      subject: { reference: `Patient/${input.patientId}` },
      date: now,
      author: [practitioner ?? { display: a.username ?? 'system' }],
      title: 'Tóm tắt bệnh án',
      section: [
        section('Bệnh sử', '10164-2', input.summary.history),
        section('Khám lâm sàng, cận lâm sàng', '29545-1', input.summary.findings),
        ...(input.summary.vitals ? [section('Dấu hiệu sinh tồn', '8716-3', input.summary.vitals)] : []),
        section('Điều trị hiện tại', '10160-0', input.summary.treatment),
        section('Câu hỏi hội chẩn', '51848-0', input.summary.question),
      ],
    });
    const request = await tx.create<ServiceRequest>({
      resourceType: 'ServiceRequest',
      identifier: [{ system: CONSULT_ID_SYSTEM, value: input.clientId }],
      status: input.submit ? 'active' : 'draft',
      intent: 'order',
      category: [{ coding: [CONSULT_CATEGORY] }],
      code: {
        coding: [{ system: SPECIALTY_SYSTEM, code: input.specialty.code, display: input.specialty.display }],
        text: `Hội chẩn ${input.specialty.display}`,
      },
      priority: PRIORITY_OF[input.urgency],
      subject: { reference: `Patient/${input.patientId}` },
      authoredOn: now,
      ...(practitioner ? { requester: practitioner } : {}),
      performer: [{ reference: `Organization/${input.receivingOrganizationId}` }],
      reasonCode: [
        { coding: [{ system: ICD10_SYSTEM, code: input.icd10.code, ...(input.icd10.display ? { display: input.icd10.display } : {}) }], text: input.reason },
      ],
      supportingInfo: [{ reference: `Composition/${summary.id}` }, ...input.attachmentIds.map((id) => ({ reference: `DocumentReference/${id}` }))],
      note: [{ text: input.summary.question, time: now }],
    });
    const state: ConsultState = input.submit ? 'submitted' : 'draft';
    const task = await tx.create<Task>({
      resourceType: 'Task',
      identifier: [{ system: CONSULT_ID_SYSTEM, value: input.clientId }],
      status: TASK_STATUS[state] as Task['status'],
      businessStatus: { coding: [{ system: STATE_SYSTEM, code: state, display: STATE_LABELS[state].vi }], text: STATE_LABELS[state].vi },
      intent: 'order',
      priority: PRIORITY_OF[input.urgency],
      code: { text: 'Hội chẩn từ xa' },
      focus: { reference: `ServiceRequest/${request.id}` },
      for: { reference: `Patient/${input.patientId}` },
      authoredOn: now,
      lastModified: now,
      requester: { reference: `Organization/${a.organizationId}` },
      owner: { reference: `Organization/${input.receivingOrganizationId}` },
      note: [firstNote(a, input.submit ? 'submit' : 'draft'), ...warnings.map((w) => firstNote(a, `Cảnh báo: ${w}`))],
    });
    const c = partsOf(request, task);
    await recordCase(
      tx,
      input.submit ? 'submit' : 'draft',
      { caseId: request.id!, patientId: input.patientId },
      { urgency: input.urgency, ...(warnings.length ? { warnings } : {}) },
    );
    if (input.submit) await notifySide(tx, c, 'receiver', `Yêu cầu hội chẩn mới (${URGENCY_TEXT[input.urgency]}): ${input.specialty.display}`);
    return { caseId: request.id!, created: true, state, c };
  });
  if (result.created && result.state === 'submitted') await publish(deps.bus, result.c, 'consult.new');
  return { caseId: result.caseId, created: result.created, state: result.state };
}

export async function submit(deps: ConsultDeps, ctx: AccessContext, caseId: string): Promise<ConsultState> {
  const c = await runCaseAction(deps, ctx, 'consult.request', caseId, 'submit', 'requester', async (tx, c) => {
    const specialty = c.request.code?.coding?.find((x) => x.system === SPECIALTY_SYSTEM)?.code ?? '';
    const warnings = await runRequestChecks(deps, tx, { requestingOrg: c.requestingOrg, receivingOrg: c.receivingOrg, specialty });
    await tx.update({ ...c.request, status: 'active' });
    await transition(tx, ctx.actor, c, 'submit', (t) => ({ ...t, note: [...(t.note ?? []), ...warnings.map((w) => firstNote(ctx.actor, `Cảnh báo: ${w}`))] }));
    await notifySide(tx, c, 'receiver', 'Yêu cầu hội chẩn đã gửi (bổ sung)');
  });
  return c.state;
}

export async function withdraw(deps: ConsultDeps, ctx: AccessContext, caseId: string, reason: string): Promise<ConsultState> {
  const c = await runCaseAction(deps, ctx, 'consult.request', caseId, 'withdraw', 'requester', async (tx, c) => {
    await tx.update({ ...c.request, status: 'revoked' });
    await transition(tx, ctx.actor, c, 'withdraw', (t) => t, reason);
    await notifySide(tx, c, 'receiver', 'Yêu cầu hội chẩn đã được rút');
  });
  return c.state;
}
