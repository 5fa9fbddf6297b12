/**
 * The one contract between the server and the web app for case conferences, meetings and
 * eligibility: the zod schema of every JSON request body (the routes parse with them; the input
 * types are `z.infer` of them) and the TypeScript types of the responses.
 *
 * Rules: the web app imports this file with `import type` only, so zod never reaches the bundle;
 * nothing here may import server code at run time except pure data (model.ts, workflow.ts types).
 */
import { z } from 'zod';
import type {
  Appointment,
  CodeableConcept,
  Composition,
  DocumentReference,
  Encounter,
  HumanName,
  Organization,
  Practitioner,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { ConsultState, Urgency } from './workflow.ts';
import type { SignatureCheck } from './signing.ts';
import type { EligibilityDecision } from './eligibility.ts';

export type { ConsultState, Urgency, SignatureCheck, EligibilityDecision };

/** Attachment types accepted (checked against the content's magic bytes in attachments.ts). */
export const ATTACHMENT_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf', 'application/dicom'] as const;

const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');
const text = (max: number) => z.string().trim().min(1).max(max);
const urgency = z.enum(['routine', 'urgent', 'emergency']);
const icd = z
  .object({ code: z.string().regex(/^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$/, 'must be an ICD-10 code such as C50.9'), display: z.string().max(300).optional() })
  .strict();

// ------------------------------------------------------------------ request bodies

export const resourceId = id;

export const requestBody = z
  .object({
    clientId: z.string().uuid(),
    patientId: id,
    receivingOrganizationId: id,
    specialty: z.object({ code: z.string().regex(/^[a-z-]{2,40}$/), display: text(100) }).strict(),
    urgency,
    reason: text(1000),
    icd10: icd,
    summary: z
      .object({ history: text(20_000), findings: text(20_000), vitals: z.string().max(5000).optional(), treatment: text(20_000), question: text(5000) })
      .strict(),
    attachmentIds: z.array(id).max(30).default([]),
    submit: z.boolean().default(true),
  })
  .strict();
export type RequestInput = z.infer<typeof requestBody>;

export const attachmentBody = z
  .object({
    clientId: z.string().uuid(),
    patientId: id,
    contentType: z.enum(ATTACHMENT_CONTENT_TYPES),
    title: text(200),
    data: z
      .string()
      .min(4)
      .regex(/^[A-Za-z0-9+/]+=*$/, 'must be base64'),
  })
  .strict();
export type AttachmentInput = z.infer<typeof attachmentBody>;

export const withdrawBody = z.object({ reason: text(1000) }).strict();
export type WithdrawInput = z.infer<typeof withdrawBody>;

export const triageBody = z
  .object({
    action: z.enum(['accept', 'request-info', 'decline', 'redirect']),
    specialistIds: z.array(id).max(10).optional(),
    reason: z.string().trim().max(2000).optional(),
    redirectToOrganizationId: id.optional(),
    version: z
      .string()
      .regex(/^\d{1,9}$/)
      .optional(),
  })
  .strict();
export type TriageInput = z.infer<typeof triageBody>;

export const conclusionBody = z
  .object({
    assessment: text(20_000),
    diagnosis: icd,
    recommendations: text(20_000),
    transfer: z.boolean(),
    actionUrgency: urgency,
    cosignerIds: z.array(id).max(10).optional(),
  })
  .strict();
export type ConclusionInput = z.infer<typeof conclusionBody>;

export const acknowledgeBody = z
  .object({
    decision: z.enum(['accept', 'different']),
    reason: z.string().trim().max(2000).optional(),
    plan: z.string().trim().max(5000).optional(),
    followUpDays: z.number().int().min(1).max(365).default(14),
  })
  .strict();
export type AcknowledgeInput = z.infer<typeof acknowledgeBody>;

export const followUpBody = z
  .object({ outcome: z.enum(['improved', 'stable', 'transferred', 'died', 'unknown']), note: z.string().trim().max(2000).optional() })
  .strict();
export type FollowUpInput = z.infer<typeof followUpBody>;

export const caseListQuery = z.object({ view: z.enum(['requested', 'received', 'assigned', 'queue']).default('requested') });
export type CaseListView = z.infer<typeof caseListQuery>['view'];

export const meetingBody = z
  .object({
    title: text(300),
    topic: z.string().trim().max(500).optional(),
    start: z.string().datetime({ offset: true }),
    end: z.string().datetime({ offset: true }),
    hostPractitionerId: id,
    caseIds: z.array(id).min(1).max(20),
    siteOrganizationIds: z.array(id).min(1).max(50),
    participantPractitionerIds: z.array(id).max(100).default([]),
  })
  .strict();
export type MeetingInput = z.infer<typeof meetingBody>;

export const attendanceBody = z.object({ organizationId: id, event: z.enum(['join', 'leave']) }).strict();
export type AttendanceInput = z.infer<typeof attendanceBody>;

export const eligibilityQuery = z.object({ icd10: z.string().min(1).max(20) }).strict();
export const eligibilityListBody = z.object({ version: z.string().min(1).max(60), source: text(1000), csv: z.string().min(10).max(2_000_000) }).strict();
export type EligibilityListInput = z.infer<typeof eligibilityListBody>;

// ------------------------------------------------------------------ responses

export type Label = { vi: string; en: string };

/** POST /api/consults */
export interface CreateRequestResult {
  caseId: string;
  created: boolean;
  state: ConsultState;
}

/** Every action on a case answers the state it is in now. */
export interface StateResult {
  state: ConsultState;
}

/** GET /api/consults?view=requested|received|assigned */
export interface CaseRow {
  caseId?: string;
  state: ConsultState;
  stateLabel: Label;
  urgency: Urgency;
  authoredOn?: string;
  lastModified?: string;
  followUpDue?: string;
  version?: string;
  patient?: string;
  specialty?: string;
  reason?: string;
}

/** GET /api/consults?view=queue */
export interface QueueRow {
  caseId?: string;
  urgency: Urgency;
  priority?: string;
  authoredOn?: string;
  waitingMinutes: number;
  targetMinutes: number;
  overdue: boolean;
  version?: string;
  patient?: string;
  specialty?: string;
  reason?: string;
}

/** GET /api/consults/follow-ups */
export interface FollowUpRow {
  caseId?: string;
  due?: string;
  overdueDays: number;
  patient?: string;
  specialty?: string;
  reason?: string;
}

export interface TimelineEntry {
  at?: string;
  version?: string;
  state: ConsultState;
  stateLabel: Label;
  action?: string;
  by?: string;
  note?: string;
}

/** GET /api/consults/:id — the case page. */
export interface CaseView {
  caseId: string;
  state: ConsultState;
  stateLabel: Label;
  version?: string;
  urgency: Urgency;
  request: ServiceRequest;
  patient: { id?: string; name?: HumanName[]; gender?: string; birthDate?: string };
  requestingOrganization?: Organization;
  receivingOrganization?: Organization;
  specialists: Practitioner[];
  summary?: Composition;
  attachments: DocumentReference[];
  meetings: Appointment[];
  conclusion?: Composition;
  conclusions: Composition[];
  /** Who advised (the signers) … */
  advisedBy: { practitioner?: string; at?: string }[];
  /** … and who decided (the requesting facility). */
  decision?: { decision: string; reason?: string; plan?: string; facility: string };
  outcome?: string;
  followUpDue?: string;
  timeline: TimelineEntry[];
}

/** GET /api/consults/:id/teaching-copy */
export interface TeachingCopy {
  note: string;
  ageBand: string;
  sex?: string;
  reason?: CodeableConcept[];
  summary: { title?: string; text: string }[];
  conclusion: { title?: string; text: string }[];
  attachments: { contentType?: string; title?: string; documentId?: string }[];
}

/** POST /api/consults/:id/conclusion/sign */
export interface SignResult {
  signed: number;
  required: number;
  final: boolean;
}

/** GET /api/consults/:id/conclusion/verify */
export interface VerifyResult {
  conclusionId?: string;
  checks: SignatureCheck[];
  valid: boolean;
}

/** GET /api/meetings/:id */
export interface MeetingView {
  appointment: Appointment;
  attendance?: Encounter;
  /** Names for everything the Appointment refers to (src/consult/meeting-details.ts). */
  details?: import('./meeting-contract.ts').MeetingDetails;
}

/** GET /api/eligibility/list */
export interface EligibilityListView {
  version: string;
  source: string;
  entries: { seq?: string; specialty: string; condition: string; icd10: string; confidence: string; evidence: string }[];
}
