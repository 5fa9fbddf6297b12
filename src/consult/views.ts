/**
 * What people look at: case lists (what my facility asked, what it received, what is assigned to
 * me), the case page with its timeline (the Task's history), and a de-identified teaching copy.
 * Every list and page is one unit of work as `consult.view`, audited once with the patients shown.
 */
import type { Appointment, Composition, DocumentReference, Organization, Patient, Practitioner, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { Repository } from '../fhir/repository.ts';
import { assertSide, loadCase, searchByIds, type ConsultDeps } from './case.ts';
import type { CaseRow, CaseView, TeachingCopy, TimelineEntry } from './contract.ts';
import { isConsultTask, isParam, ref, stateOf } from './model.ts';
import { actionLabel, STATE_LABELS, URGENCY_OF } from './workflow.ts';

type Described<T> = T & { patient?: string; specialty?: string; reason?: string };

/** Adds what a list needs to be useful (patient, specialty, reason) and records who saw which patients. */
export async function describeRows<T extends { caseId?: string }>(tx: Repository, list: string, rows: T[]): Promise<Described<T>[]> {
  const ids = rows.map((r) => r.caseId).filter((x): x is string => !!x);
  const found = await searchByIds(tx, 'ServiceRequest', ids, { _include: 'ServiceRequest:subject' });
  const byId = new Map<string, Resource>(found.map((r) => [`${r.resourceType}/${r.id}`, r]));
  const patients = new Set<string>();
  const out = rows.map((r) => {
    const sr = byId.get(`ServiceRequest/${r.caseId}`) as ServiceRequest | undefined;
    const pid = ref(sr?.subject, 'Patient');
    const pt = pid ? (byId.get(`Patient/${pid}`) as Patient | undefined) : undefined;
    if (pid) patients.add(pid);
    const n = pt?.name?.[0];
    return {
      ...r,
      patient: n ? (n.text ?? [n.family, ...(n.given ?? [])].join(' ')) : undefined,
      specialty: sr?.code?.coding?.[0]?.display,
      reason: sr?.reasonCode?.[0]?.text,
    };
  });
  await tx.record({ action: 'consult.list', patientIds: [...patients], detail: { list, n: rows.length } });
  return out;
}

/** Cases my facility requested or received, or assigned to me, newest first. */
export async function mine(deps: ConsultDeps, ctx: AccessContext, view: 'requested' | 'assigned' | 'received'): Promise<CaseRow[]> {
  const a = ctx.actor;
  const org = `Organization/${a.organizationId ?? '-'}`;
  return deps.store.as(ctx, 'consult.view').transaction(async (tx) => {
    const query: Record<string, string> =
      view === 'requested' ? { requester: org, _count: '200' } : { owner: org, _count: view === 'received' ? '200' : '500' };
    query._sort = '-authored-on';
    let tasks = (await tx.search<Task>('Task', query)).filter(isConsultTask);
    if (view === 'assigned')
      tasks = tasks.filter((t) => (t.input ?? []).some((i) => isParam(i, 'specialist') && i.valueReference?.reference === `Practitioner/${a.practitionerId}`));
    const rows = tasks.map((t) => ({
      caseId: ref(t.focus, 'ServiceRequest'),
      state: stateOf(t),
      stateLabel: STATE_LABELS[stateOf(t)],
      urgency: URGENCY_OF[t.priority ?? 'routine'],
      authoredOn: t.authoredOn,
      lastModified: t.lastModified,
      followUpDue: t.executionPeriod?.end,
      version: t.meta?.versionId,
    }));
    return describeRows(tx, view, rows);
  });
}

/**
 * The case's Task history as a timeline, oldest first: one entry per step of the workflow, i.e. per
 * version that added a note. A version written by other work on the Task (e.g. the insurance
 * gateway's transaction code kept on it) adds no note and is not a step.
 */
async function timeline(tx: Repository, task: Task): Promise<TimelineEntry[]> {
  const history = await tx.history({ type: 'Task', id: task.id, query: new URLSearchParams({ _count: '500' }) });
  const versions = (history.entry ?? []).filter((h) => h.resource).reverse(); // oldest first
  return versions
    .filter((h, i) => i === 0 || ((h.resource as Task).note?.length ?? 0) > ((versions[i - 1].resource as Task).note?.length ?? 0))
    .map((h) => {
      const t = h.resource as Task;
      const n = t.note?.[t.note.length - 1];
      const [action, ...rest] = (n?.text ?? '').split(':');
      return {
        at: h.response?.lastModified,
        version: t.meta?.versionId,
        state: stateOf(t),
        stateLabel: STATE_LABELS[stateOf(t)],
        action: actionLabel(action.trim()),
        by: n?.authorReference?.display ?? n?.authorString ?? n?.authorReference?.reference,
        note: rest.join(':').trim() || undefined,
      };
    });
}

/** The case page, read inside the caller's unit of work (view and teaching copy). */
async function caseView(tx: Repository, ctx: AccessContext, caseId: string): Promise<CaseView & { patientId: string }> {
  const c = await loadCase(tx, caseId);
  assertSide(ctx.actor, c, 'any');
  const patient = await tx.read<Patient>('Patient', c.patientId);
  const read = async <T extends Resource>(reference?: string): Promise<T | undefined> => {
    const [type, id] = (reference ?? '').split('/');
    return id ? tx.tryRead<T>(type, id) : undefined;
  };
  const present = <T>(xs: (T | undefined)[]) => xs.filter((x): x is T => !!x);
  const supporting = present(await Promise.all((c.request.supportingInfo ?? []).map((r) => read(r.reference))));
  const conclusions = present(
    await Promise.all((c.task.output ?? []).filter((o) => isParam(o, 'conclusion')).map((o) => read<Composition>(o.valueReference?.reference))),
  );
  const meetings = present(
    await Promise.all(
      (c.task.input ?? []).filter((i) => isParam(i, 'meeting') || isParam(i, 'session')).map((i) => read<Appointment>(i.valueReference?.reference)),
    ),
  );
  const outputs = Object.fromEntries((c.task.output ?? []).map((o) => [o.type.coding?.[0]?.code, o.valueCode ?? o.valueString ?? o.valueReference?.reference]));
  const lastConclusion = conclusions[conclusions.length - 1];
  return {
    caseId,
    patientId: c.patientId,
    state: c.state,
    stateLabel: STATE_LABELS[c.state],
    version: c.task.meta?.versionId,
    urgency: URGENCY_OF[c.request.priority ?? 'routine'],
    request: c.request,
    patient: { id: patient.id, name: patient.name, gender: patient.gender, birthDate: patient.birthDate },
    requestingOrganization: await read<Organization>(`Organization/${c.requestingOrg}`),
    receivingOrganization: await read<Organization>(`Organization/${c.receivingOrg}`),
    specialists: present(await Promise.all(c.specialists.map((p) => read<Practitioner>(`Practitioner/${p}`)))),
    summary: supporting.find((r): r is Composition => r.resourceType === 'Composition'),
    attachments: supporting.filter((r): r is DocumentReference => r.resourceType === 'DocumentReference'),
    meetings,
    conclusion: lastConclusion,
    conclusions,
    // Responsibility, explicitly: who advised (signers) and who decided (the treating facility).
    advisedBy: (lastConclusion?.attester ?? []).map((a) => ({ practitioner: a.party?.reference, at: a.time })),
    decision: outputs.decision
      ? { decision: outputs.decision, reason: outputs['decision-reason'], plan: outputs['decision-plan'], facility: c.requestingOrg }
      : undefined,
    outcome: outputs.outcome,
    followUpDue: c.task.executionPeriod?.end,
    timeline: await timeline(tx, c.task),
  };
}

export async function view(deps: ConsultDeps, ctx: AccessContext, caseId: string): Promise<CaseView> {
  return deps.store.as(ctx, 'consult.view').transaction(async (tx) => {
    const { patientId, ...v } = await caseView(tx, ctx, caseId);
    await tx.record({ action: 'consult.view', resourceType: 'ServiceRequest', resourceId: caseId, patientIds: [patientId] });
    return v;
  });
}

const plain = (doc?: Composition) =>
  (doc?.section ?? []).map((s) => ({
    title: s.title,
    text: (s.text?.div ?? '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  }));

/** A de-identified copy for teaching: age band, sex, clinical text and images; no name, ids or dates of birth. */
export async function teachingCopy(deps: ConsultDeps, ctx: AccessContext, caseId: string): Promise<TeachingCopy> {
  return deps.store.as(ctx, 'consult.view').transaction(async (tx) => {
    const v = await caseView(tx, ctx, caseId);
    const age = v.patient.birthDate ? Math.floor((Date.now() - Date.parse(v.patient.birthDate)) / (365.25 * 86_400_000)) : undefined;
    await tx.record({ action: 'export', resourceType: 'ServiceRequest', resourceId: caseId, patientIds: [v.patientId], detail: { deidentified: true } });
    return {
      note: 'Bản đã khử định danh để giảng dạy: không có họ tên, mã định danh, ngày sinh. Người soạn cần kiểm tra phần chữ tự do không còn thông tin nhận dạng. (De-identified teaching copy; check free text for identifying details.)',
      ageBand: age === undefined ? 'không rõ' : `${Math.floor(age / 10) * 10}–${Math.floor(age / 10) * 10 + 9} tuổi`,
      sex: v.patient.gender,
      reason: v.request.reasonCode,
      summary: plain(v.summary),
      conclusion: plain(v.conclusion),
      attachments: v.attachments.map((d) => ({ contentType: d.content[0].attachment.contentType, title: d.content[0].attachment.title, documentId: d.id })),
    };
  });
}
