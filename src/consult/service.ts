/**
 * Remote case conferences (hội chẩn từ xa) as one object for the routes and the other domains
 * (`app.consults`): a thin façade over the use-case modules, each of which runs as the actor
 * through a consult action in one audited unit of work.
 *
 *   requests.ts     write, submit, withdraw a request           (consult.request)
 *   triage.ts       accept / ask / decline / redirect, the queue (consult.triage, consult.view)
 *   meetings.ts     plan a meeting, attendance, the meeting page (consult.schedule, consult.view)
 *   conclusions.ts  draft, sign, amend, verify the conclusion    (consult.sign, consult.view)
 *   decisions.ts    acknowledge, follow up, overdue follow-ups   (consult.request, consult.view)
 *   attachments.ts  upload and download attachments             (consult.request, consult.view)
 *   views.ts        case lists, the case page, teaching copy     (consult.view)
 *   case.ts         what they share: load, sides, transitions, notifications, live events
 */
import type { Appointment, Composition, DocumentReference, Encounter } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { DomainAction } from '../auth/policy.ts';
import type { ServerSecret } from '../auth/secret.ts';
import type { EventBus } from '../events/bus.ts';
import type { FhirStore } from '../fhir/store.ts';
import { addAttachment, attachmentContent, type AttachmentContent } from './attachments.ts';
import type { ConsultDeps, RequestCheck } from './case.ts';
import { amend, draftConclusion, sign, verifyConclusion } from './conclusions.ts';
import type {
  AcknowledgeInput,
  AttachmentInput,
  AttendanceInput,
  CaseListView,
  CaseRow,
  CaseView,
  ConclusionInput,
  CreateRequestResult,
  FollowUpInput,
  FollowUpRow,
  MeetingInput,
  MeetingView,
  QueueRow,
  RequestInput,
  SignResult,
  TeachingCopy,
  TriageInput,
  VerifyResult,
} from './contract.ts';
import { acknowledge, followUp, overdueFollowUps } from './decisions.ts';
import { attendance, meeting, scheduleMeeting } from './meetings.ts';
import { listMeetings } from './meeting-details.ts';
import type { MeetingListItem } from './meeting-contract.ts';
import { createRequest, submit, withdraw } from './requests.ts';
import { queue, triage } from './triage.ts';
import { mine, teachingCopy, view } from './views.ts';
import type { ConsultState } from './workflow.ts';

export { ATTACHMENT_TYPES } from './attachments.ts';
export { CONSULT_CATEGORY, CONSULT_ID_SYSTEM, QUEUE_PAGE, SIGNED_TAG, STATE_SYSTEM } from './model.ts';

export class ConsultService {
  private readonly deps: ConsultDeps;

  constructor(
    store: FhirStore,
    bus: EventBus,
    secret: ServerSecret,
    readonly maxAttachmentBytes: number,
  ) {
    this.deps = { store, bus, secret, maxAttachmentBytes, requestChecks: [] };
  }

  /** The video domain tells the meeting page who of each site is connected and how well (meeting-details.ts). */
  useLiveSites(fn: NonNullable<ConsultDeps['liveSites']>): void {
    this.deps.liveSites = fn;
  }

  /** Adds a rule to sending a request (another domain's, e.g. the programme's support agreements). */
  addRequestCheck(check: RequestCheck): void {
    this.deps.requestChecks.push(check);
  }

  // attachments
  addAttachment(ctx: AccessContext, input: AttachmentInput): Promise<DocumentReference> {
    return addAttachment(this.deps, ctx, input);
  }
  /** `action`: the domain action of the route serving the bytes (a citizen's own documents: 'record.own'). */
  attachmentContent(ctx: AccessContext, documentId: string, action?: DomainAction): Promise<AttachmentContent> {
    return attachmentContent(this.deps, ctx, documentId, action);
  }

  // the request
  createRequest(ctx: AccessContext, input: RequestInput): Promise<CreateRequestResult> {
    return createRequest(this.deps, ctx, input);
  }
  submit(ctx: AccessContext, caseId: string): Promise<ConsultState> {
    return submit(this.deps, ctx, caseId);
  }
  withdraw(ctx: AccessContext, caseId: string, reason: string): Promise<ConsultState> {
    return withdraw(this.deps, ctx, caseId, reason);
  }

  // triage
  triage(ctx: AccessContext, caseId: string, input: TriageInput): Promise<ConsultState> {
    return triage(this.deps, ctx, caseId, input);
  }
  queue(ctx: AccessContext): Promise<QueueRow[]> {
    return queue(this.deps, ctx);
  }

  // lists and pages
  mine(ctx: AccessContext, view: Exclude<CaseListView, 'queue'>): Promise<CaseRow[]> {
    return mine(this.deps, ctx, view);
  }
  view(ctx: AccessContext, caseId: string): Promise<CaseView> {
    return view(this.deps, ctx, caseId);
  }
  teachingCopy(ctx: AccessContext, caseId: string): Promise<TeachingCopy> {
    return teachingCopy(this.deps, ctx, caseId);
  }

  // meetings
  scheduleMeeting(ctx: AccessContext, input: MeetingInput): Promise<Appointment> {
    return scheduleMeeting(this.deps, ctx, input);
  }
  meeting(ctx: AccessContext, meetingId: string): Promise<MeetingView> {
    return meeting(this.deps, ctx, meetingId);
  }
  /** Meetings I or my facility's bridge point am invited to, between two days (the calendar). */
  meetings(ctx: AccessContext, q: { from: string; to: string; facility?: string }): Promise<MeetingListItem[]> {
    return this.deps.store.as(ctx, 'consult.view').transaction(async (tx) => {
      const list = await listMeetings(tx, ctx.actor, q);
      await tx.record({ action: 'consult.meeting-list', detail: { ...q, n: list.length } });
      return list;
    });
  }
  /** A bridge point joins or leaves a meeting (also called by video rooms of a meeting). */
  attendance(ctx: AccessContext, meetingId: string, input: AttendanceInput): Promise<Encounter> {
    return attendance(this.deps, ctx, meetingId, input);
  }

  // the conclusion
  draftConclusion(ctx: AccessContext, caseId: string, input: ConclusionInput): Promise<Composition> {
    return draftConclusion(this.deps, ctx, caseId, input);
  }
  sign(ctx: AccessContext, caseId: string): Promise<SignResult> {
    return sign(this.deps, ctx, caseId);
  }
  amend(ctx: AccessContext, caseId: string, input: ConclusionInput): Promise<Composition> {
    return amend(this.deps, ctx, caseId, input);
  }
  verifyConclusion(ctx: AccessContext, caseId: string): Promise<VerifyResult> {
    return verifyConclusion(this.deps, ctx, caseId);
  }

  // the decision
  acknowledge(ctx: AccessContext, caseId: string, input: AcknowledgeInput): Promise<ConsultState> {
    return acknowledge(this.deps, ctx, caseId, input);
  }
  followUp(ctx: AccessContext, caseId: string, input: FollowUpInput): Promise<ConsultState> {
    return followUp(this.deps, ctx, caseId, input);
  }
  overdueFollowUps(ctx: AccessContext): Promise<FollowUpRow[]> {
    return overdueFollowUps(this.deps, ctx);
  }
}
