/**
 * The conclusion (biên bản kết luận hội chẩn): the assigned specialists draft it, each co-signer
 * signs it (Ed25519 over its canonical content, a Provenance per signature), the last signature
 * makes it final and concludes the case; a signed conclusion never changes — an amendment is a new
 * Composition that replaces it and needs signing again. Anyone on the case can verify the
 * signatures. Runs as `consult.sign` (draft, sign, amend) and `consult.view` (verify).
 */
import type { Appointment, Composition, Encounter, Provenance, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { AccessContext, Actor } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import { narrativeText } from '../fhir/narrative.ts';
import type { Repository } from '../fhir/repository.ts';
import { badRequest, businessRule, conflict } from '../fhir/outcome.ts';
import { ICD10_SYSTEM } from '../terminology/icd10.ts';
import { assertSide, loadCase, notifySide, notifyUrgent, runCaseAction, saveTask, transition, type CaseParts, type ConsultDeps } from './case.ts';
import type { ConclusionInput, VerifyResult } from './contract.ts';
import { CONSULT_CATEGORY, isParam, isSignedComposition, LOINC, param, ref, section, SIGNED_TAG } from './model.ts';
import { SIGNATURE_TYPE, signDocument, signingKeyFor, verifySignatures, type SignatureCheck } from './signing.ts';
import { assertTransition, STATE_LABELS, STATE_SYSTEM } from './workflow.ts';

/** LOINC of the conclusion's transfer section ("Chuyển tuyến"). */
const TRANSFER_SECTION = '42349-1';

/** The case's current conclusion (the last one its Task names), if any. */
export async function latestConclusion(tx: Repository, c: CaseParts): Promise<Composition | undefined> {
  const out = [...(c.task.output ?? [])].reverse().find((o) => isParam(o, 'conclusion'));
  const id = ref(out?.valueReference, 'Composition');
  return id ? tx.read<Composition>('Composition', id) : undefined;
}

function conclusionResource(c: CaseParts, actor: Actor, input: ConclusionInput, replaces?: Composition): Composition {
  return {
    resourceType: 'Composition',
    status: 'preliminary',
    type: { coding: [{ system: LOINC, code: '11488-4', display: 'Consult note' }], text: 'Biên bản kết luận hội chẩn' },
    category: [{ coding: [CONSULT_CATEGORY] }],
    subject: { reference: `Patient/${c.patientId}` },
    date: new Date().toISOString(),
    author: [{ reference: `Practitioner/${actor.practitionerId}` }],
    title: 'Kết luận hội chẩn',
    ...(replaces ? { relatesTo: [{ code: 'replaces', targetReference: { reference: `Composition/${replaces.id}` } }] } : {}),
    section: [
      section('Nhận định', '51848-0', input.assessment),
      { ...section('Chẩn đoán', '29548-5', `${input.diagnosis.code} ${input.diagnosis.display ?? ''}`.trim()), entry: [] },
      section('Khuyến cáo (xét nghiệm, điều trị)', '18776-5', input.recommendations),
      section(
        'Chuyển tuyến',
        TRANSFER_SECTION,
        input.transfer ? 'Có — đề nghị chuyển người bệnh lên tuyến trên' : 'Không chuyển, điều trị tại chỗ theo khuyến cáo',
      ),
      section('Mức độ khẩn của xử trí', '11535-2', { emergency: 'Cấp cứu', urgent: 'Khẩn', routine: 'Thường quy' }[input.actionUrgency]),
    ],
    extension: [
      {
        url: 'https://fhir.cauyte.vn/StructureDefinition/consult-diagnosis',
        valueCoding: { system: ICD10_SYSTEM, code: input.diagnosis.code, ...(input.diagnosis.display ? { display: input.diagnosis.display } : {}) },
      },
    ],
  } as Composition;
}

const conclusionOutput = (docId: string) => ({ type: param('conclusion', 'Kết luận hội chẩn'), valueReference: { reference: `Composition/${docId}` } });

export async function draftConclusion(deps: ConsultDeps, ctx: AccessContext, caseId: string, input: ConclusionInput): Promise<Composition> {
  let doc: Composition | undefined;
  await runCaseAction(deps, ctx, 'consult.sign', caseId, 'draft-conclusion', 'specialist', async (tx, c) => {
    assertTransition('draft-conclusion', c.state);
    const cosigners = input.cosignerIds?.length ? input.cosignerIds : c.specialists;
    for (const p of cosigners)
      if (!c.specialists.includes(p)) throw badRequest(`Người ký ${p} không được phân công cho ca này (co-signers must be assigned specialists)`);
    const existing = await latestConclusion(tx, c);
    const content = conclusionResource(c, ctx.actor, input);
    if (existing) {
      if (isSignedComposition(existing))
        throw conflict('Kết luận đã có chữ ký, không thể sửa; hãy lập bản sửa đổi (a signed conclusion cannot change: amend it)');
      doc = await tx.update({ ...content, id: existing.id }, { ifMatch: `W/"${existing.meta?.versionId}"` });
    } else doc = await tx.create(content);
    const id = doc.id!;
    await transition(tx, ctx.actor, c, 'draft-conclusion', (t) => ({
      ...t,
      input: [
        ...(t.input ?? []).filter((i) => !isParam(i, 'cosigner')),
        ...cosigners.map((p) => ({ type: param('cosigner', 'Người cùng ký'), valueReference: { reference: `Practitioner/${p}` } })),
      ],
      output: [...(t.output ?? []).filter((o) => !(isParam(o, 'conclusion') && o.valueReference?.reference === `Composition/${id}`)), conclusionOutput(id)],
    }));
  });
  return doc!;
}

/**
 * A case discussed in a meeting is concluded in or after that meeting: signing before the meeting
 * has started (its start time not reached and no bridge point joined) is refused. A
 * store-and-forward case (no meeting) is signed whenever it is ready.
 */
export async function assertMeetingStarted(tx: Repository, c: CaseParts, now = Date.now()): Promise<void> {
  const meetingIds = (c.task.input ?? [])
    .filter((i) => isParam(i, 'meeting'))
    .map((i) => ref(i.valueReference, 'Appointment'))
    .filter((x): x is string => !!x);
  for (const id of meetingIds) {
    const meeting = await tx.tryRead<Appointment>('Appointment', id);
    if (!meeting || meeting.status === 'cancelled' || !meeting.start || Date.parse(meeting.start) <= now) continue;
    if (await tx.tryRead<Encounter>('Encounter', id)) continue; // a bridge point joined: the meeting is under way
    const when = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'short' }).format(new Date(meeting.start));
    throw businessRule(
      `Phiên hội chẩn "${meeting.description ?? ''}" chưa bắt đầu (lúc ${when}): chỉ ký kết luận khi phiên đã diễn ra (the meeting has not started yet: sign the conclusion in or after it)`,
    );
  }
}

/** The current user signs the conclusion; the last required signature makes it final and concludes the case. */
export async function sign(deps: ConsultDeps, ctx: AccessContext, caseId: string): Promise<{ signed: number; required: number; final: boolean }> {
  let result = { signed: 0, required: 0, final: false };
  const a = ctx.actor;
  await runCaseAction(deps, ctx, 'consult.sign', caseId, 'sign', 'specialist', async (tx, c) => {
    assertTransition('sign', c.state);
    await assertMeetingStarted(tx, c);
    const doc = await latestConclusion(tx, c);
    if (!doc) throw businessRule('Chưa có kết luận để ký (no conclusion to sign yet)');
    const required = (c.task.input ?? []).filter((i) => isParam(i, 'cosigner')).map((i) => ref(i.valueReference, 'Practitioner')!);
    const me = a.practitionerId!;
    if (!required.includes(me)) throw new AccessDenied('Bạn không nằm trong danh sách người ký kết luận này (you are not a co-signer)');
    if ((doc.attester ?? []).some((x) => x.party?.reference === `Practitioner/${me}`)) throw businessRule('Bạn đã ký kết luận này (you already signed)');
    const key = await signingKeyFor(tx.sql, deps.secret, a.accountId!, me);
    const signature = signDocument(doc, key.privateKey);
    const now = new Date().toISOString();
    const attester = [...(doc.attester ?? []), { mode: 'professional' as const, time: now, party: { reference: `Practitioner/${me}` } }];
    const final = required.every((p) => attester.some((x) => x.party?.reference === `Practitioner/${p}`));
    const signed = await tx.update<Composition>(
      {
        ...doc,
        status: final ? 'final' : 'preliminary',
        attester,
        meta: { ...doc.meta, tag: [...(doc.meta?.tag ?? []).filter((t) => t.code !== SIGNED_TAG.code), SIGNED_TAG] },
      },
      { ifMatch: `W/"${doc.meta?.versionId}"` },
    );
    await tx.create<Provenance>({
      resourceType: 'Provenance',
      target: [
        { reference: `Composition/${doc.id}/_history/${signed.meta?.versionId}` },
        { reference: `Task/${c.task.id}` },
        { reference: `Patient/${c.patientId}` },
      ],
      recorded: now,
      activity: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE' }],
        text: 'Ký kết luận hội chẩn (tư vấn chuyên môn)',
      },
      agent: [
        {
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'attester', display: 'Người ký (tư vấn)' }] },
          who: { reference: `Practitioner/${me}` },
          onBehalfOf: { identifier: { system: 'https://fhir.cauyte.vn/sid/account', value: a.accountId } },
        },
      ],
      signature: [
        {
          type: [SIGNATURE_TYPE],
          when: now,
          who: { reference: `Practitioner/${me}` },
          targetFormat: 'application/json',
          sigFormat: 'application/x-ed25519',
          data: signature,
        },
      ],
    });
    if (final) {
      await tx.update<ServiceRequest>({ ...c.request, status: 'completed' });
      const transfer = (doc.section ?? []).some(
        (s) => s.code?.coding?.some((x) => x.code === TRANSFER_SECTION) && narrativeText(s.text?.div ?? '').startsWith('Có'),
      );
      // The advice is kept on the case too (coded), for the programme's "transfers avoided".
      await transition(tx, a, c, 'conclude', (t) => ({
        ...t,
        output: [
          ...(t.output ?? []).filter((o) => !isParam(o, 'transfer-advised')),
          { type: param('transfer-advised', 'Đề nghị chuyển tuyến'), valueBoolean: transfer },
        ],
      }));
      // An emergency transfer recommendation is urgent: the requester and the requesting facility's staff see it at once.
      if (transfer) await notifyUrgent(tx, c, 'KHẨN: Kết luận hội chẩn đề nghị chuyển người bệnh lên tuyến trên — xem ngay');
      else await notifySide(tx, c, 'requester', 'Đã có kết luận hội chẩn: mời xác nhận và quyết định điều trị');
    }
    result = { signed: attester.length, required: required.length, final };
  });
  return result;
}

/** An amendment: a new conclusion that replaces the signed one; it needs signing again. */
export async function amend(deps: ConsultDeps, ctx: AccessContext, caseId: string, input: ConclusionInput): Promise<Composition> {
  let doc: Composition | undefined;
  await runCaseAction(deps, ctx, 'consult.sign', caseId, 'amend', 'specialist', async (tx, c) => {
    assertTransition('amend', c.state);
    const old = await latestConclusion(tx, c);
    if (!old) throw badRequest('Không có kết luận để sửa đổi');
    doc = await tx.create(conclusionResource(c, ctx.actor, input, old));
    // The case goes back to "accepted" until the amendment is signed; the old conclusion stays as it was signed.
    const next: Task = {
      ...c.task,
      businessStatus: { coding: [{ system: STATE_SYSTEM, code: 'accepted', display: STATE_LABELS.accepted.vi }] },
      status: 'accepted',
      output: [...(c.task.output ?? []).filter((o) => !isParam(o, 'decision') && !isParam(o, 'decision-reason')), conclusionOutput(doc.id!)],
    };
    await saveTask(tx, c, next);
    c.state = 'accepted';
    await notifySide(tx, c, 'requester', 'Kết luận hội chẩn đang được sửa đổi');
  });
  return doc!;
}

/** Checks every signature of the current conclusion against the version each signer signed. */
export async function verifyConclusion(deps: ConsultDeps, ctx: AccessContext, caseId: string): Promise<VerifyResult> {
  return deps.store.as(ctx, 'consult.view').transaction(async (tx) => {
    const c = await loadCase(tx, caseId);
    assertSide(ctx.actor, c, 'any');
    const docs = (c.task.output ?? []).filter((o) => isParam(o, 'conclusion')).map((o) => ref(o.valueReference, 'Composition')!);
    const id = docs[docs.length - 1];
    const checks: SignatureCheck[] = [];
    if (id) {
      const provenances = await tx.search<Provenance>('Provenance', { patient: `Patient/${c.patientId}`, _count: '200' });
      for (const p of provenances) {
        const target = p.target.find((t) => t.reference?.startsWith(`Composition/${id}/_history/`));
        if (!target || !p.signature?.length) continue;
        const signed = await tx.vread<Composition>('Composition', id, target.reference!.split('/').pop()!);
        checks.push(...(await verifySignatures(tx.sql, signed, [p])));
      }
    }
    const valid = checks.length > 0 && checks.every((x) => x.valid);
    await tx.record({
      action: 'consult.verify',
      resourceType: 'ServiceRequest',
      resourceId: caseId,
      patientIds: [c.patientId],
      detail: { conclusion: id, valid },
    });
    return { ...(id ? { conclusionId: id } : {}), checks, valid };
  });
}
