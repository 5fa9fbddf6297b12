/**
 * The shared core of every case-conference use case: the dependencies they run with, loading a
 * case (its ServiceRequest and Task), which side of it the actor is on, moving its Task to the
 * next state, telling the other side (in-app notification, in the same transaction) and
 * publishing the live event after commit.
 *
 * Rules: every use case runs as `store.as(ctx, '<consult action>')` in one `repo.transaction`,
 * records its action once with `tx.record(...)`, and publishes only after the commit. The side
 * check is the domain's own (the repository adds patient reach and audit on top).
 */
import type { Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { AccessContext, Actor } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { DomainAction } from '../auth/policy.ts';
import type { ServerSecret } from '../auth/secret.ts';
import type { EventBus } from '../events/bus.ts';
import { addNotification } from '../events/outbox.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { conflict, FhirError, notFound } from '../fhir/outcome.ts';
import { isConsultRequest, isConsultTask, isParam, ref, stateOf } from './model.ts';
import { assertTransition, STATE_LABELS, STATE_SYSTEM, TASK_STATUS, type ConsultAction, type ConsultState } from './workflow.ts';

/**
 * A rule another domain adds to sending a request (the programme: a support agreement must be in
 * force between the two facilities). It throws to refuse, or returns a warning that is recorded
 * on the case and in the audit trail. Runs inside the request's transaction.
 */
export type RequestCheck = (tx: Repository, r: { requestingOrg: string; receivingOrg: string; specialty: string }) => Promise<string | undefined>;

/** What the use cases run with. */
import type { LiveQuality } from './meeting-contract.ts';

export interface ConsultDeps {
  store: FhirStore;
  bus: EventBus;
  secret: ServerSecret;
  maxAttachmentBytes: number;
  /** Rules other domains add to sending a request (see RequestCheck). */
  requestChecks: RequestCheck[];
  /** The video domain, when it runs: each facility's people in a meeting's live room and their connection quality. */
  liveSites?: (roomRef: string) => Map<string, { connected: number; quality: LiveQuality }>;
}

/** Runs the request checks; the warnings they give (already joined). */
export async function runRequestChecks(
  deps: ConsultDeps,
  tx: Repository,
  r: { requestingOrg: string; receivingOrg: string; specialty: string },
): Promise<string[]> {
  const warnings: string[] = [];
  for (const check of deps.requestChecks) {
    const w = await check(tx, r);
    if (w) warnings.push(w);
  }
  return warnings;
}

/** A case as the use cases see it. */
export interface CaseParts {
  request: ServiceRequest;
  task: Task;
  state: ConsultState;
  patientId: string;
  requestingOrg: string;
  receivingOrg: string;
  specialists: string[];
}

export type Side = 'requester' | 'receiver' | 'specialist' | 'any';

/** Ids per search: a search value is at most 4000 characters (src/fhir/limits.ts), 80 ids of 36 fit. */
const IDS_PER_SEARCH = 80;

/** Resources of one type by id (and what `extra` includes), through the repository, in searches of IDS_PER_SEARCH ids. */
export async function searchByIds(tx: Repository, type: string, ids: string[], extra: Record<string, string> = {}): Promise<Resource[]> {
  const out: Resource[] = [];
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += IDS_PER_SEARCH) {
    const chunk = unique.slice(i, i + IDS_PER_SEARCH);
    const b = await tx.searchBundle(type, { ...extra, _id: chunk.join(','), _count: String(Math.min(1000, chunk.length * 4)) });
    for (const e of b.entry ?? []) if (e.resource) out.push(e.resource);
  }
  return out;
}

/** Reads the case (through the acting repository: patient reach and audit apply). 404 when it is not a case. */
export async function loadCase(tx: Repository, caseId: string): Promise<CaseParts> {
  const request = await tx.tryRead<ServiceRequest>('ServiceRequest', caseId);
  if (!request || !isConsultRequest(request)) throw notFound(`Không có yêu cầu hội chẩn ${caseId} (no such case)`);
  // Only a Task the workflow owns (identifier or consult state) is the case's: others may point at the request too.
  const task = (await tx.search<Task>('Task', { focus: `ServiceRequest/${caseId}`, _count: '20' })).find(isConsultTask);
  if (!task) throw notFound(`Yêu cầu ${caseId} không có phiếu theo dõi (no task for this case)`);
  return partsOf(request, task);
}

export function partsOf(request: ServiceRequest, task: Task): CaseParts {
  return {
    request,
    task,
    state: stateOf(task),
    patientId: ref(request.subject, 'Patient')!,
    requestingOrg: ref(task.requester, 'Organization') ?? '',
    receivingOrg: ref(task.owner, 'Organization') ?? '',
    specialists: (task.input ?? [])
      .filter((i) => isParam(i, 'specialist'))
      .map((i) => ref(i.valueReference, 'Practitioner')!)
      .filter(Boolean),
  };
}

const SIDE_TEXT: Record<Side, string> = {
  requester: 'cơ sở gửi yêu cầu (the requesting facility)',
  receiver: 'cơ sở tiếp nhận (the receiving facility)',
  specialist: 'chuyên gia được phân công (an assigned specialist)',
  any: 'những người tham gia ca này (people involved in this case)',
};

/** The actor's relation to a case; 403 when they have none that allows `need`. */
export function assertSide(actor: Actor, c: CaseParts, need: Side): void {
  const requester = !!actor.organizationId && actor.organizationId === c.requestingOrg;
  const receiver = !!actor.organizationId && actor.organizationId === c.receivingOrg;
  const specialist = !!actor.practitionerId && c.specialists.includes(actor.practitionerId);
  const ok = need === 'requester' ? requester : need === 'receiver' ? receiver : need === 'specialist' ? specialist : requester || receiver || specialist;
  if (!ok) throw new AccessDenied(`Chỉ ${SIDE_TEXT[need]} được làm việc này`, 403, false, c.patientId);
}

/** Who did something, for a Task note. */
function author(actor: Actor) {
  return actor.practitionerId
    ? { reference: `Practitioner/${actor.practitionerId}`, display: actor.displayName ?? actor.username }
    : { display: actor.username ?? 'hệ thống' };
}

const SOMEONE_FIRST = 'Ca này vừa được người khác xử lý; tải lại để xem trạng thái mới (someone else acted on this case first)';

/** Writes the case's Task (If-Match on the version read): someone else's change in between is a 409. */
export async function saveTask(tx: Repository, c: CaseParts, next: Task, ifMatch?: string): Promise<Task> {
  try {
    c.task = await tx.update(next, { ifMatch: ifMatch ?? `W/"${c.task.meta?.versionId}"` });
    return c.task;
  } catch (err) {
    if (err instanceof FhirError && err.status === 412) throw conflict(SOMEONE_FIRST);
    throw err;
  }
}

/** The version the person was looking at: if the case moved on since, they must look again. */
export function assertVersion(c: CaseParts, version: string | undefined): void {
  if (version && c.task.meta?.versionId !== version) throw conflict(SOMEONE_FIRST);
}

/** A new Task version for a transition, with a note saying who did what, when and why. */
export async function transition(
  tx: Repository,
  actor: Actor,
  c: CaseParts,
  action: ConsultAction,
  change: (t: Task) => Task,
  note?: string,
  ifMatch?: string,
): Promise<Task> {
  const to = assertTransition(action, c.state);
  const state = to ?? c.state;
  const who = author(actor);
  const now = new Date().toISOString();
  const next = change({
    ...c.task,
    status: TASK_STATUS[state] as Task['status'],
    businessStatus: { coding: [{ system: STATE_SYSTEM, code: state, display: STATE_LABELS[state].vi }], text: STATE_LABELS[state].vi },
    lastModified: now,
    note: [
      ...(c.task.note ?? []),
      {
        authorReference: who.reference ? { reference: who.reference, display: who.display } : undefined,
        authorString: who.reference ? undefined : who.display,
        time: now,
        text: `${action}${note ? `: ${note}` : ''}`,
      },
    ],
  });
  await saveTask(tx, c, next, ifMatch);
  c.state = state;
  return c.task;
}

/** The first note of a new case's Task. */
export function firstNote(actor: Actor, text: string): NonNullable<Task['note']>[number] {
  const who = author(actor);
  return { ...(who.reference ? { authorReference: who } : { authorString: who.display }), time: new Date().toISOString(), text };
}

/** An in-app notification to one side of the case, in the unit of work's transaction. */
export async function notifySide(tx: Repository, c: CaseParts, side: 'requester' | 'receiver' | 'specialists', title: string): Promise<void> {
  const link = `/consults/${c.request.id}`;
  if (side === 'requester') await addNotification(tx.sql, { organizationId: c.requestingOrg }, 'consult', title, link);
  if (side === 'receiver') await addNotification(tx.sql, { organizationId: c.receivingOrg }, 'consult', title, link);
  if (side === 'specialists') for (const p of c.specialists) await addNotification(tx.sql, { practitionerId: p }, 'consult', title, link);
}

/** An urgent in-app notification to the requesting clinician and the requesting facility's staff. */
export async function notifyUrgent(tx: Repository, c: CaseParts, title: string): Promise<void> {
  const link = `/consults/${c.request.id}`;
  const requester = ref(c.request.requester, 'Practitioner');
  if (requester) await addNotification(tx.sql, { practitionerId: requester }, 'consult', title, link, { urgent: true });
  await addNotification(tx.sql, { organizationId: c.requestingOrg }, 'consult', title, link, { urgent: true });
}

/** The live event for both sides and the specialists (after commit). */
export async function publish(bus: EventBus, c: CaseParts, kind: 'consult.state' | 'consult.new' = 'consult.state'): Promise<void> {
  await bus.publish({
    kind,
    to: { organizationIds: [c.requestingOrg, c.receivingOrg].filter(Boolean), practitionerIds: c.specialists },
    data: { caseId: c.request.id!, state: c.state },
  });
}

/** Records the unit of work's action on the case (one audit row, with every patient touched). */
export function recordCase(tx: Repository, action: string, c: { caseId: string; patientId: string }, detail?: Record<string, unknown>): Promise<void> {
  return tx.record({
    action: `consult.${action}`,
    resourceType: 'ServiceRequest',
    resourceId: c.caseId,
    patientIds: [c.patientId],
    ...(detail ? { detail } : {}),
  });
}

/**
 * Runs one action on one case: as the actor through `domainAction`, in one transaction — load,
 * side check, the action's writes, the audit row — then the live event.
 */
export async function runCaseAction(
  deps: ConsultDeps,
  ctx: AccessContext,
  domainAction: DomainAction,
  caseId: string,
  action: ConsultAction,
  side: Exclude<Side, 'any'>,
  fn: (tx: Repository, c: CaseParts) => Promise<void>,
  detail?: Record<string, unknown>,
): Promise<CaseParts> {
  const c = await deps.store.as(ctx, domainAction).transaction(async (tx) => {
    const c = await loadCase(tx, caseId);
    assertSide(ctx.actor, c, side);
    await fn(tx, c);
    await recordCase(tx, action, { caseId, patientId: c.patientId }, detail);
    return c;
  });
  await publish(deps.bus, c);
  return c;
}
