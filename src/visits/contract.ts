/**
 * The visits domain's contract between server and web app: the zod schemas of every JSON request
 * body and query (the routes parse with them) and the types of the answers (the services return
 * them). The web pages import the types only (`import type`), so no validation code reaches the
 * browser bundle.
 *
 * Rules: one schema per request, named after it; answers are plain types; nothing here touches
 * the store. A change here is a change of the API (docs/visits.md).
 */
import { z } from 'zod';
import type { EligibilityDecision } from '../consult/eligibility.ts';
import { controlledClassOf } from '../terminology/drugs.ts';

export const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');
const text = (max: number) => z.string().trim().min(1).max(max);
/** A calendar date that exists (2026-02-30 does not). */
const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((v) => {
    const d = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
  }, 'must be a real calendar date');
const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM');
const icd = z
  .object({ code: z.string().regex(/^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$/, 'must be an ICD-10 code such as I10'), display: z.string().max(300).optional() })
  .strict();
/** A prescription code: the facility's 5 characters, 7 random ones, "-c" (see prescription.ts). */
/**
 * The national e-prescription code (docs/national-formats.md §3): facility code (5) + 7 characters
 * unique in the facility + "-" + the kind: c ordinary, n narcotic (gây nghiện), h psychotropic or
 * precursor (hướng thần, tiền chất), y traditional medicine (y học cổ truyền).
 */
export const PRESCRIPTION_CODE = /^[A-Z0-9]{5}[a-z0-9]{7}-[cnhy]$/;
export const PRESCRIPTION_KINDS = ['c', 'n', 'h', 'y'] as const;
export type PrescriptionKind = (typeof PRESCRIPTION_KINDS)[number];
/** Kinds that need the prescriber's extra confirmation (controlled drugs). */
export const CONTROLLED_KINDS: readonly PrescriptionKind[] = ['n', 'h'];
export const CONTROLLED_CONFIRMATION_MESSAGE =
  'Đơn thuốc gây nghiện, hướng thần hoặc tiền chất cần bác sĩ xác nhận và số giấy tờ tùy thân của người bệnh hoặc người nhận thuốc (a narcotic, psychotropic or precursor prescription needs the prescriber’s confirmation and the ID number of the patient or whoever collects it)';
export const rxCode = z.string().regex(PRESCRIPTION_CODE, 'must be a prescription code');

// ------------------------------------------------------------------ services and slots

/** `POST /api/visits/services` */
export const createServiceRequest = z
  .object({
    code: z.string().regex(/^[a-z0-9-]{2,60}$/),
    name: text(200),
    specialty: text(100),
    price: z.number().int().min(0).max(100_000_000),
    bhytCovered: z.boolean(),
  })
  .strict();
export type CreateServiceRequest = z.infer<typeof createServiceRequest>;

/** `POST /api/visits/schedules`: one slot every `minutes` from `start` to `end` (Việt Nam time) on `days` days from `from`. */
export const publishSlotsRequest = z
  .object({
    practitionerId: id,
    serviceId: id,
    from: date,
    days: z.number().int().min(1).max(60),
    start: time,
    end: time,
    minutes: z.number().int().min(5).max(120),
  })
  .strict();
export type PublishSlotsRequest = z.infer<typeof publishSlotsRequest>;

/** `GET /api/visits/services/:id/slots?days=` */
export const slotsQuery = z.object({ days: z.coerce.number().int().min(1).max(60).default(14) }).strict();

export interface ServiceInfo {
  id: string;
  code: string;
  name: string;
  organizationId: string;
  organizationName?: string;
  specialty?: string;
  /** In đồng (VND). */
  price: number;
  bhytCovered: boolean;
}

export interface FreeSlot {
  id: string;
  start: string;
  end: string;
  practitioner: { id: string; name: string };
}

export interface SlotsPublished {
  scheduleId: string;
  created: number;
}

// ------------------------------------------------------------------ booking

/** The pre-visit answers, by the Questionnaire's linkId. */
export type Answers = Record<string, string | boolean>;

/** `POST /api/visits` */
export const bookingRequest = z
  .object({
    patientId: id,
    slotId: id,
    icd10: icd,
    reason: text(1000),
    answers: z.record(z.string().regex(/^[a-z0-9-]{1,40}$/), z.union([z.string().max(500), z.boolean()])),
  })
  .strict();
export type BookingRequest = z.infer<typeof bookingRequest>;

export interface Booked {
  id: string;
  bookingCode: string;
  start: string;
  end: string;
  joinUrl: string;
  eligibility: EligibilityDecision;
}

/** `POST /api/visits/:id/cancel` */
export const cancelRequest = z.object({ reason: text(500) }).strict();
export type CancelRequest = z.infer<typeof cancelRequest>;
export interface Cancelled {
  id: string;
  status: string;
}

/** `POST /api/visits/:id/reschedule` */
export const rescheduleRequest = z.object({ slotId: id }).strict();
export type RescheduleRequest = z.infer<typeof rescheduleRequest>;
export interface Rescheduled {
  id: string;
  status: string;
  start: string;
  end: string;
}

// ------------------------------------------------------------------ the visit

export interface VisitSummary {
  id: string;
  status: string;
  start: string;
  end: string;
  bookingCode?: string;
  service?: string;
  reason?: string;
  icd10?: string;
  icd10Display?: string;
  /** The eligibility decision as recorded on the appointment (list version and reason). */
  eligibility?: string;
  patient: { id: string; name?: string };
  practitioner: { id?: string; name?: string };
  cancelReason?: string;
}

/** One of `GET /api/me/visits`: whose visit it is (the citizen or a member they manage). */
export interface MyVisit extends VisitSummary {
  for: { patientId: string; name: string; self: boolean };
}

/** One of `GET /api/visits/queue`: how many wait in the room's lobby. */
export interface QueueItem extends VisitSummary {
  waiting: number;
}

/** `GET /api/visits/queue?from=&days=` */
export const queueQuery = z.object({ from: date.optional(), days: z.coerce.number().int().min(1).max(31).default(1) }).strict();

export interface VisitOutputs {
  note?: { id: string; date: string; sections: { title?: string; text: string }[] };
  diagnosis?: { code?: string; display?: string }[];
  reported?: { code?: string; text?: string; value: string }[];
  prescription?: { code?: string; items: { name?: string; drugCode?: string; dosage?: string; quantity?: number; unit?: string; days?: number }[] };
  charge?: ChargeSummary;
}

/** `GET /api/visits/:id` */
export interface VisitView extends VisitSummary, VisitOutputs {
  patient: { id: string; name: string; birthDate?: string; gender?: string; bhytCard?: string };
  answers: { linkId: string; text?: string; answer?: string | boolean }[];
  /** The home blood pressure the patient answered, e.g. "158/96". */
  homeBp?: string;
  encounterId?: string;
}

export interface RoomOpened {
  roomId: string;
  url: string;
}

// ------------------------------------------------------------------ prescribing safety

const atcCode = z
  .string()
  .trim()
  .regex(/^[A-Z]\d{2}([A-Z]{1,2}(\d{2})?)?$/, 'a WHO ATC code such as J01CA04');

/** One warning the clinician saw and prescribes past, with the reason (written into the record). */
const acknowledgement = z.object({ key: z.string().min(3).max(200), reason: z.string().trim().min(5, 'Cần ghi lý do (give a reason)').max(500) }).strict();

/** `POST /api/visits/:id/prescription-check` — the items about to be prescribed. */
export const prescriptionCheckRequest = z
  .object({
    items: z
      .array(z.object({ name: z.string().trim().min(1).max(200), atc: atcCode.optional() }).strict())
      .min(1)
      .max(20),
  })
  .strict();
export type PrescriptionCheckRequest = z.input<typeof prescriptionCheckRequest>;

/** A prescribing warning: an allergy to the substance or its group, or a medicine the patient already takes. */
export interface PrescribingIssue {
  /** Stable for the same item, kind and record: what an acknowledgement names. */
  key: string;
  kind: 'allergy' | 'duplicate';
  /** Index of the prescription item. */
  item: number;
  drug: string;
  /** The allergy's substance or the current medicine's name. */
  against: string;
  againstRef: string;
  severity: 'high' | 'moderate';
  /** The warning in Vietnamese. */
  text: string;
}

/** Answer of the safety check. */
export interface PrescribingCheck {
  issues: PrescribingIssue[];
}

/** One entry of `GET /api/terminology/drugs?q=`. */
export interface DrugOption {
  atc: string;
  name: string;
  inn: string;
  forms: string;
  group: string;
  groupName: string;
}

/** `POST /api/visits/:id/complete` — everything the clinician writes at the end of the visit. */
export const completeRequest = z
  .object({
    findings: text(10_000),
    assessment: text(10_000),
    diagnosis: icd,
    instructions: text(5000),
    followUpDays: z.number().int().min(1).max(365).optional(),
    reported: z
      .object({
        systolic: z.number().int().min(50).max(300).optional(),
        diastolic: z.number().int().min(20).max(200).optional(),
        heartRate: z.number().int().min(20).max(250).optional(),
        weightKg: z.number().min(0.5).max(400).optional(),
        temperatureC: z.number().min(30).max(45).optional(),
      })
      .strict()
      .refine((r) => (r.systolic === undefined) === (r.diastolic === undefined), 'systolic and diastolic go together')
      .optional(),
    prescription: z
      .object({
        items: z
          .array(
            z
              .object({
                name: text(200),
                drugCode: z
                  .string()
                  .trim()
                  .regex(/^[A-Z0-9][A-Z0-9-]{2,30}$/, 'a drug registration number such as VD-12345-10')
                  .optional(),
                /** The substance's WHO ATC code, from the drug dictionary (GET /api/terminology/drugs). */
                atc: atcCode.optional(),
                quantity: z.number().positive().max(10_000),
                unit: text(30),
                dosage: text(500),
                days: z.number().int().min(1).max(365).optional(),
              })
              .strict(),
          )
          .min(1)
          .max(20),
        advice: z.string().trim().max(2000).optional(),
        /** c ordinary (default), n narcotic, h psychotropic/precursor, y traditional medicine. */
        kind: z.enum(PRESCRIPTION_KINDS).default('c'),
        /** For n and h: the prescriber confirms, and names the ID (CCCD, old ID card or passport) of the patient or the person collecting. */
        controlled: z
          .object({
            confirmed: z.literal(true),
            idNumber: z
              .string()
              .trim()
              .regex(/^(\d{9}|\d{12}|[A-Z]\d{7})$/, 'a CCCD (12 digits), an old ID card (9 digits) or a passport number'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .refine((p) => !CONTROLLED_KINDS.includes(p.kind) || p.controlled?.confirmed === true, { message: CONTROLLED_CONFIRMATION_MESSAGE, path: ['controlled'] })
      // A controlled substance is not prescribed on an ordinary (or traditional-medicine) prescription.
      .superRefine((p, ctx) => {
        if (CONTROLLED_KINDS.includes(p.kind)) return;
        p.items.forEach((item, i) => {
          const atcClass = controlledClassOf(item);
          if (atcClass)
            ctx.addIssue({
              code: 'custom',
              path: ['items', i],
              message: `${item.name} thuộc nhóm thuốc kiểm soát đặc biệt (ATC ${atcClass}): kê đơn thuốc gây nghiện (n) hoặc hướng thần (h) và xác nhận (a controlled substance needs a controlled prescription, kind n or h, confirmed)`,
            });
        });
      })
      .optional(),
    /** The BHYT card presented at this visit; defaults to the one on the patient's record. */
    bhytCard: z
      .string()
      .trim()
      .regex(/^[A-Z]{2}\d{13}$/, 'a BHYT card number such as HT3151234567890')
      .optional(),
    useInsurance: z.boolean().default(true),
    /** The prescribing warnings (POST /api/visits/:id/prescription-check) the clinician saw and overrode, each with a reason. */
    acknowledgements: z.array(acknowledgement).max(50).default([]),
  })
  .strict();
export type CompleteRequest = z.input<typeof completeRequest>;
export type CompleteInput = z.infer<typeof completeRequest>;

export interface Completed {
  encounterId: string;
  prescriptionCode?: string;
}

/** `GET /api/prescriptions/:code/verify` — what a pharmacy learns: never whom it is for. */
export interface PrescriptionCheck {
  code: string;
  valid: boolean;
  issuedAt?: string;
  items: number;
  system: string;
}

// ------------------------------------------------------------------ charges

export interface ChargeSummary {
  serviceCode?: string;
  serviceName?: string;
  price: number;
  payer: 'bhyt' | 'self';
  bhytCard?: string;
}

/** One row of the day's charges export (columns in this order: docs/visits.md). */
export interface ChargeRow {
  chargeId: string;
  occurredAt: string;
  facilityId: string;
  patientId: string;
  patientName: string;
  serviceCode: string;
  serviceName: string;
  priceVnd: number;
  payer: 'bhyt' | 'self';
  bhytCard: string;
  encounterId: string;
  practitionerId: string;
}

/** `GET /api/visits/charges?date=&format=` */
export const chargesQuery = z.object({ date, format: z.enum(['csv', 'json']).default('csv') }).strict();

export interface ChargesJson {
  date: string;
  currency: 'VND';
  rows: ChargeRow[];
}

// ------------------------------------------------------------------ the health record

/** `GET /api/me/record[/pdf|/fhir]?patientId=` — the citizen's own record, or a managed member's. */
export const recordQuery = z.object({ patientId: id.optional() }).strict();

export interface TimelineItem {
  date: string;
  kind: 'encounter' | 'condition' | 'medication' | 'allergy' | 'immunization' | 'lab' | 'document' | 'vital';
  title: string;
  detail?: string;
  by?: string;
  ref: string;
}

export interface HealthRecord {
  patient: { id: string; name: string; birthDate?: string; gender?: string; cccd?: string; bhytCard?: string; address?: string };
  timeline: TimelineItem[];
  conditions: { code?: string; display: string; since?: string; status?: string }[];
  medications: { name: string; dosage?: string; since?: string; prescription?: string; status?: string }[];
  allergies: { substance: string; reaction?: string; criticality?: string }[];
  immunizations: { vaccine: string; date?: string }[];
  /** Vital signs for the charts: code, time, value(s). */
  vitals: { code: string; label: string; t: string; values: number[]; unit: string }[];
  documents: { id: string; title: string; date?: string; kind: 'visit-note' | 'prescription' | 'document'; link?: string }[];
}
