/**
 * The contract between the server and the web app for the national programme: zod schemas of the
 * request bodies and queries (the routes parse with them) and the response types. The web app
 * imports this file with `import type` only.
 */
import { z } from 'zod';

const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');
const text = (max: number) => z.string().trim().min(1).max(max);
const specialty = z.string().regex(/^[a-z-]{2,40}$/, 'must be a specialty code such as cardiology');
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
const month = z.string().regex(/^\d{4}-\d{2}$/, 'must be a month YYYY-MM');

export const resourceId = id;
export const levelEnum = z.enum(['central', 'provincial', 'regional', 'commune', 'private']);

// ------------------------------------------------------------------ facility register

export const facilityBody = z
  .object({
    code: z.string().regex(/^[0-9A-Za-z]{5}$/, 'must be 5 letters or digits'),
    name: text(200),
    level: levelEnum,
    owner: z.enum(['public', 'private']),
    provinceCode: z.number().int().min(1).max(99),
    communeCode: z.number().int().min(1),
    phone: z
      .string()
      .regex(/^\+?[0-9 .-]{6,20}$/)
      .optional(),
    address: z.string().max(300).optional(),
  })
  .strict();
export type FacilityInput = z.infer<typeof facilityBody>;

export const facilityListQuery = z
  .object({
    province: z.coerce.number().int().optional(),
    level: levelEnum.optional(),
    q: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export interface FacilityView {
  id: string;
  code: string;
  name: string;
  level: string;
  owner: string;
  provinceCode: number;
  provinceName: string;
  communeCode: number;
  communeName: string;
  unitStatus: 'none' | 'submitted' | 'approved' | 'returned';
  locationId?: string;
}

export interface ImportResult {
  /** Lines read (not counting the header). */
  lines: number;
  created: number;
  updated: number;
  unchanged: number;
  errors: { line: number; message: string }[];
}

export const hubBody = z.object({ hubId: id, spokeId: id, specialties: z.array(specialty).min(1).max(40) }).strict();
export interface HubView {
  hubId: string;
  hubName: string;
  spokeId: string;
  spokeName: string;
  specialties: string[];
}

// ------------------------------------------------------------------ telemedicine-unit declaration (Decree 96/2023, Art. 87–88)

export const SERVICES = ['case-conference', 'remote-examination', 'remote-training', 'home-monitoring'] as const;
export const declarationBody = z
  .object({
    services: z.array(z.enum(SERVICES)).min(1),
    specialties: z.array(specialty).min(1).max(40),
    staff: z
      .array(z.object({ name: text(120), qualification: text(60), role: text(80) }).strict())
      .min(1)
      .max(100),
    rooms: z.number().int().min(1).max(100),
    equipment: z
      .object({
        camera: z.boolean(),
        display: z.boolean(),
        ultrasound: z.enum(['none', 'analogue', 'digital']),
        xray: z.enum(['none', 'analogue', 'digital']),
      })
      .strict(),
    connectivity: z
      .object({
        type: z.enum(['fibre', 'adsl', '4g', '5g', 'satellite', 'other']),
        downKbps: z.number().int().min(0).max(10_000_000),
        upKbps: z.number().int().min(0).max(10_000_000),
      })
      .strict(),
    hours: text(200),
  })
  .strict();
export type DeclarationInput = z.infer<typeof declarationBody>;

export const reviewBody = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve') }).strict(),
  z.object({ decision: z.literal('return'), reason: text(1000) }).strict(),
]);
export type ReviewInput = z.infer<typeof reviewBody>;

export interface DeclarationEvent {
  status: 'submitted' | 'approved' | 'returned';
  reason?: string;
  actor: string;
  at: string;
  responseId: string;
}
export interface DeclarationView {
  facility: FacilityView;
  status: FacilityView['unitStatus'];
  current?: DeclarationInput & { responseId: string };
  history: DeclarationEvent[];
}

// ------------------------------------------------------------------ support agreements

export const agreementBody = z
  .object({
    supportingId: id,
    supportedId: id,
    specialties: z.array(specialty).min(1).max(40),
    start: day,
    end: day.optional(),
    /** The signed contract (PDF), base64. */
    document: z
      .object({ contentType: z.literal('application/pdf'), data: z.string().max(14_000_000), title: z.string().max(200).optional() })
      .strict()
      .optional(),
  })
  .strict();
export type AgreementInput = z.infer<typeof agreementBody>;

export interface AgreementView {
  id: string;
  supportingId: string;
  supportingName: string;
  supportedId: string;
  supportedName: string;
  specialties: string[];
  start: string;
  end?: string;
  inForce: boolean;
  documentId?: string;
}

export const settingsBody = z.object({ agreementRule: z.enum(['refuse', 'warn']) }).strict();
export type ProgrammeSettings = z.infer<typeof settingsBody>;

// ------------------------------------------------------------------ bridge-point readiness

export const readinessBody = z
  .object({
    camera: z.boolean(),
    microphone: z.boolean(),
    upKbps: z.number().int().min(0).max(10_000_000).optional(),
    downKbps: z.number().int().min(0).max(10_000_000).optional(),
    rttMs: z.number().int().min(0).max(60_000).optional(),
    turn: z.boolean(),
    ok: z.boolean(),
  })
  .strict();
export type ReadinessInput = z.infer<typeof readinessBody>;
export interface ReadinessView {
  organizationId: string;
  lastCheck?: ReadinessInput & { at: string };
  lastSuccessfulCheck?: string;
  lastSession?: string;
}

// ------------------------------------------------------------------ indicators

export const indicatorQuery = z
  .object({
    from: month.optional(),
    to: month.optional(),
    province: z.coerce.number().int().optional(),
    facility: id.optional(),
    level: levelEnum.optional(),
    specialty: specialty.optional(),
    asOf: day.optional(),
  })
  .strict();
export type IndicatorQuery = z.infer<typeof indicatorQuery>;

/** A count shown to the analyst: null = suppressed (fewer than 5 and more than 0). */
export type Cell = number | null;

export interface DurationStats {
  urgency: string;
  metric: 'triage' | 'assignment' | 'conclusion';
  n: Cell;
  medianMinutes: number | null;
  p90Minutes: number | null;
  targetMinutes: number;
  withinTarget: Cell;
  shareWithinTarget: number | null;
}

export interface ProvinceRow {
  provinceCode: number;
  provinceName: string;
  facilities: number;
  publicFacilities: number;
  approvedUnits: number;
  coverage: number | null;
  requested: Cell;
  accepted: Cell;
  concluded: Cell;
  meetingsJoined: Cell;
  visits: Cell;
  silent90: number;
}

export interface FacilityRow {
  id: string;
  code: string;
  name: string;
  level: string;
  unitStatus: string;
  requested: Cell;
  received: Cell;
  meetingsJoined: Cell;
  visits: Cell;
  lastActivity: string | null;
}

export interface SilentSite {
  id: string;
  code: string;
  name: string;
  provinceName: string;
  level: string;
  lastActivity: string | null;
  daysSilent: number | null;
  window: 30 | 90;
}

export interface IndicatorReport {
  scope: { kind: 'national' | 'province' | 'facility'; provinceCode?: number; facilityId?: string; label: string };
  period: { from: string; to: string; asOf: string };
  consults: { requested: Cell; accepted: Cell; concluded: Cell };
  consultsByMonth: { month: string; requested: Cell; accepted: Cell; concluded: Cell }[];
  consultsBySpecialty: { specialty: string; requested: Cell; accepted: Cell; concluded: Cell }[];
  consultsByLevel: { level: string; requested: Cell; accepted: Cell; concluded: Cell }[];
  durations: DurationStats[];
  /**
   * Outcomes of the cases requested in the period: followed up (a follow-up outcome recorded) and by
   * outcome; conclusions that advised local treatment; transfers avoided (local treatment advised
   * and, at follow-up, not transferred).
   */
  outcomes: {
    followedUp: Cell;
    improved: Cell;
    stable: Cell;
    transferred: Cell;
    died: Cell;
    localTreatmentAdvised: Cell;
    transfersAvoided: Cell;
  };
  meetings: { held: Cell; sitesJoined: Cell; hours: number | null };
  visitsByCondition: { condition: string; visits: Cell }[];
  prescriptions: Cell;
  coverage: {
    publicFacilities: number;
    approvedUnits: number;
    share: number | null;
    goal2030: 1;
    trend: { month: string; approvedUnits: number; share: number | null }[];
  };
  provinces: ProvinceRow[];
  facilities: FacilityRow[];
  silent: SilentSite[];
  /** Home-monitoring (device) programmes: people enrolled, alerts answered in time. */
  devices: DeviceIndicators;
}

/** One place's (or month's) device-programme figures; a count of 1–4 is null. */
export interface DeviceCells {
  /** People with a home device in use on at least one day of the period (or month). */
  enrolled: Cell;
  /** People whose first home device ever started in the period (or month). */
  newlyEnrolled: Cell;
  /** Alerts (episodes) opened in the period (or month). */
  alerts: Cell;
  /** Of those, acknowledged at all, and within the target time. */
  acknowledged: Cell;
  answeredInTime: Cell;
  /** answeredInTime / alerts; null when either is suppressed or there is no alert. */
  shareInTime: number | null;
}

export interface DeviceIndicators extends DeviceCells {
  targetMinutes: number;
  escalated: Cell;
  byMonth: ({ month: string } & DeviceCells)[];
  /** Per province (a national or province view), and per facility (a province or facility view). */
  provinces: ({ provinceCode: number; provinceName: string } & DeviceCells)[];
  facilities: ({ id: string; code: string; name: string } & DeviceCells)[];
}
