/**
 * The HTTP contract of remote training and technology transfer (src/training/routes.ts): request
 * bodies as zod schemas (the server parses with them) and response shapes as types (the web app
 * imports them with `import type`). Dates are ISO strings; credits are CME periods (tiết).
 */
import { z } from 'zod';

export const resourceId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');
export const tokenParam = z.string().regex(/^[A-Za-z0-9_-]{20,80}$/, 'must be a certificate token');

const material = z.union([
  z
    .object({
      title: z.string().trim().min(1).max(200),
      // Rendered as <a href> for every learner: http(s) only, never javascript:/data:.
      url: z
        .string()
        .url()
        .max(2000)
        .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) link'),
    })
    .strict(),
  z
    .object({
      title: z.string().trim().min(1).max(200),
      contentType: z.string().max(100),
      /** base64, stored as a FHIR Binary (PDF, slides, a short video). */
      data: z.string().max(30_000_000),
    })
    .strict(),
]);

const question = z
  .object({
    text: z.string().trim().min(1).max(500),
    options: z.array(z.string().trim().min(1).max(200)).min(2).max(8),
    /** Index of the right option (kept on the server; learners never see it). */
    correct: z.number().int().min(0),
  })
  .strict()
  .refine((q) => q.correct < q.options.length, 'correct must name one of the options');

export const programmeBody = z
  .object({
    title: z.string().trim().min(3).max(300),
    description: z.string().max(4000).default(''),
    targetOrganizationIds: z.array(resourceId).max(500).default([]),
    targetRoles: z.array(z.enum(['commune_clinician', 'specialist', 'coordinator'])).default([]),
  })
  .strict();
export type ProgrammeBody = z.input<typeof programmeBody>;

export const courseBody = z
  .object({
    programmeId: resourceId,
    title: z.string().trim().min(3).max(300),
    capacity: z.number().int().min(1).max(10_000),
    /** Share of a session one must be present for it to count (0.75 = three quarters). */
    minShare: z.number().min(0.05).max(1).default(0.75),
    passMark: z.number().int().min(0).max(100).default(70),
    teacherPractitionerIds: z.array(resourceId).min(1).max(20),
    materials: z.array(material).max(50).default([]),
    prerequisiteCourseIds: z.array(resourceId).max(20).default([]),
    sessions: z
      .array(
        z
          .object({
            title: z.string().trim().min(1).max(300),
            start: z.string().datetime({ offset: true }),
            end: z.string().datetime({ offset: true }),
            credits: z.number().min(0).max(40),
          })
          .strict(),
      )
      .min(1)
      .max(100),
    preTest: z.array(question).max(50).default([]),
    postTest: z.array(question).max(50).default([]),
  })
  .strict();
export type CourseBody = z.input<typeof courseBody>;

export const enrolBody = z
  .object({
    /** A whole facility's bridge point (its staff watch together); by default the signed-in person. */
    facility: z.boolean().default(false),
  })
  .strict();

export const signInBody = z
  .object({
    people: z
      .array(z.object({ name: z.string().trim().min(2).max(200), practitionerId: resourceId.optional() }).strict())
      .min(1)
      .max(200),
  })
  .strict();

export const answersBody = z.object({ phase: z.enum(['pre', 'post']), answers: z.array(z.number().int().min(0)).max(50) }).strict();

export const teachingCaseBody = z.object({ caseId: resourceId }).strict();

export const transferBody = z
  .object({
    facilityOrganizationId: resourceId,
    technique: z.string().trim().min(3).max(300),
    minSupervisedCases: z.number().int().min(1).max(500),
  })
  .strict();

export const stepBody = z
  .object({
    step: z.enum(['training', 'assessment', 'signoff']),
    evidence: z
      .array(z.object({ title: z.string().trim().min(1).max(200), url: z.string().max(2000).optional() }).strict())
      .max(20)
      .default([]),
  })
  .strict();

export const supervisedBody = z
  .object({
    /** ServiceRequest/<id> (a consult) or Encounter/<id> (a visit). */
    ref: z.string().regex(/^(ServiceRequest|Encounter)\/[A-Za-z0-9\-.]{1,64}$/),
    note: z.string().max(1000).default(''),
  })
  .strict();

/** After a session: a rating from 1 (poor) to 5 (very good) and an optional comment. */
export const feedbackBody = z
  .object({
    rating: z.number().int().min(1).max(5),
    comment: z.string().trim().max(2000).default(''),
  })
  .strict();

export const settingsBody = z.object({ requiredPeriods: z.number().int().min(1).max(1000), cycleYears: z.number().int().min(1).max(10) }).strict();

export interface Material {
  title: string;
  url: string;
}

export interface SessionView {
  id: string;
  courseId: string;
  courseTitle: string;
  seq: number;
  title: string;
  start: string;
  end: string;
  credits: number;
  closed: boolean;
  /** A held session's video room: its recordings (made with everyone's consent) are course material for the enrolled. */
  roomId?: string;
}

export interface CourseView {
  id: string;
  programmeId: string;
  programmeTitle: string;
  hubName: string;
  title: string;
  capacity: number;
  enrolled: number;
  waiting: number;
  minShare: number;
  passMark: number;
  teachers: string[];
  materials: Material[];
  /** Courses to have completed (passed) before enrolling as a person; the enrolment route checks them. */
  prerequisites: { id: string; title: string }[];
  sessions: SessionView[];
  /** The signed-in person's place: enrolled, waiting, or none. */
  mine: 'enrolled' | 'waiting' | 'none';
  preTest?: QuestionView[];
  postTest?: QuestionView[];
}

export interface QuestionView {
  text: string;
  options: string[];
}

export interface ProgrammeView {
  id: string;
  title: string;
  description: string;
  hubOrganizationId: string;
  hubName: string;
  courses: { id: string; title: string; enrolled: number; waiting: number; capacity: number; sessions: number }[];
}

export interface EnrolResult {
  status: 'enrolled' | 'waiting';
  position?: number;
}

export interface AttendanceRow {
  name: string;
  organizationName: string;
  minutes: number;
  share: number;
  counted: boolean;
  credits: number;
  source: 'video' | 'signin';
}

export interface SessionResult {
  session: SessionView;
  attendance: AttendanceRow[];
}

export interface AssessmentResult {
  phase: 'pre' | 'post';
  score: number;
  passed: boolean;
  certificate?: CertificateView;
}

export interface CertificateView {
  id: string;
  courseTitle: string;
  name: string;
  credits: number;
  issuedAt: string;
  verifyUrl: string;
  pdfUrl: string;
}

export interface LearningPage {
  upcoming: SessionView[];
  /** Sessions the person attended (attendance counted) and has not yet given feedback on, last 60 days. */
  feedbackDue: SessionView[];
  courses: { id: string; title: string; status: 'enrolled' | 'waiting' }[];
  credits: { total: number; required: number; cycleYears: number; cycleStart: string; rule: string };
  certificates: CertificateView[];
}

export interface TeacherPage {
  sessions: (SessionView & { attended: number; counted: number })[];
  results: { courseId: string; courseTitle: string; learners: number; preMean: number | null; postMean: number | null; gain: number | null; passed: number }[];
}

export interface TeachingCaseView {
  id: string;
  sessionId: string;
  content: TeachingCaseContent;
}

export interface TeachingCaseContent {
  note: string;
  ageBand: string;
  sex?: string;
  reason: string[];
  summary: { title?: string; text: string }[];
  conclusion: { title?: string; text: string }[];
  /** Month and year only. */
  month?: string;
}

export interface TransferView {
  id: string;
  hubOrganizationId: string;
  facilityOrganizationId: string;
  facilityName: string;
  technique: string;
  minSupervisedCases: number;
  signedOffCases: number;
  independentSince: string | null;
  steps: {
    step: 'training' | 'supervised' | 'assessment' | 'signoff';
    status: 'pending' | 'done';
    evidence: { title: string; url?: string }[];
    doneAt: string | null;
  }[];
  cases: { id: number; ref: string; note: string; signedOffAt: string | null }[];
}

export interface TrainingIndicators {
  /** Whose figures these are (the programme dashboard's scope): the country, a province, a facility. */
  scope: { kind: 'national' | 'province' | 'facility'; label: string };
  sessions: number;
  hours: number;
  peopleTrained: number;
  byFacility: { organizationId: string; name: string; provinceCode: number | null; people: number; credits: number }[];
  byProvince: { provinceCode: number; people: number; sessions: number }[];
  neverTrained: { organizationId: string; name: string; provinceCode: number }[];
}

export interface CertificateCheck {
  name: string;
  course: string;
  credits: number;
  date: string;
}

export interface FeedbackGiven {
  sessionId: string;
  rating: number;
  comment: string;
  at: string;
}

/** The aggregate of one session's feedback: no names, comments newest first. */
export interface SessionFeedback {
  sessionId: string;
  seq: number;
  title: string;
  closed: boolean;
  /** People on the session's attendance (who could answer). */
  attended: number;
  responses: number;
  /** Mean rating, one decimal; null without responses. */
  mean: number | null;
  /** Count of each rating, index 0 = rating 1 … index 4 = rating 5. */
  distribution: [number, number, number, number, number];
  comments: { text: string; rating: number; at: string }[];
}

export interface CourseFeedback {
  courseId: string;
  courseTitle: string;
  sessions: SessionFeedback[];
}
