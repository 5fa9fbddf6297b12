/**
 * Decision support (CDS Hooks 2.0 client and the registry of AI/CDS services): the contract
 * between server and web app. The web app imports the types only (`import type`).
 *
 * Rules: every request body is validated here (zod, strict); cards reach the web app with their
 * source (the registry's name, version and vendor next to the service's own label), never with
 * anything the service sent that the platform would apply by itself (system actions are listed,
 * never applied).
 */
import { z } from 'zod';

export const HOOKS = ['patient-view', 'order-select', 'order-sign', 'appointment-book', 'encounter-discharge'] as const;
export type Hook = (typeof HOOKS)[number];

/**
 * What a service may be sent (its data scopes): FHIR resource types a prefetch may read. A
 * prefetch template for any other type is not filled, whatever the service asks for.
 */
export const DATA_SCOPES = [
  'Patient',
  'AllergyIntolerance',
  'MedicationRequest',
  'MedicationStatement',
  'Condition',
  'Observation',
  'Encounter',
  'Appointment',
  'QuestionnaireResponse',
] as const;
export type DataScope = (typeof DATA_SCOPES)[number];

export const STATUSES = ['proposed', 'approved', 'suspended', 'withdrawn'] as const;
export type ServiceStatus = (typeof STATUSES)[number];
export const RISK_CLASSES = ['A', 'B', 'C', 'D'] as const;

const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be an id');
const text = (max: number, min = 1) => z.string().trim().min(min).max(max);
const reference = z.string().regex(/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/, 'must be a reference Type/id');

// ------------------------------------------------------------------ hooks

/** A medicine the clinician is choosing (order-select) or signing (order-sign). */
export const draftItem = z
  .object({
    name: text(200),
    atc: z
      .string()
      .regex(/^[A-Z]\d{2}[A-Z0-9]{0,4}$/)
      .optional(),
  })
  .strict();

/**
 * appointment-book before the booking exists: what the person has chosen so far (the reason as an
 * ICD-10 code and the structured pre-visit answers). The client makes it a *proposed* Appointment
 * (CDS Hooks: context.appointments) with the answers as a contained QuestionnaireResponse.
 */
export const proposedAppointment = z
  .object({
    icd10: z
      .object({
        code: z.string().regex(/^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$/, 'an ICD-10 code such as J06.9'),
        display: text(300).optional(),
      })
      .strict(),
    answers: z.record(z.string().regex(/^[a-z0-9-]{1,40}$/), z.union([z.string().max(100), z.boolean()])).optional(),
  })
  .strict();
export type ProposedAppointment = z.infer<typeof proposedAppointment>;

/** `POST /api/cds/hooks/:hook` — the context the web app knows; the rest comes from the record. */
export const hookRequest = z
  .object({
    patientId: id,
    encounterId: id.optional(),
    appointmentId: id.optional(),
    /** order-select / order-sign: the medicines on the draft prescription. */
    items: z.array(draftItem).max(30).optional(),
    /** order-select: which of the items was just chosen (indexes). */
    selections: z.array(z.number().int().min(0).max(29)).max(30).optional(),
    /** appointment-book: the visit being booked, before it exists. */
    proposed: proposedAppointment.optional(),
  })
  .strict();
export type HookRequest = z.infer<typeof hookRequest>;

/** `POST /api/cds/booking-advice` — the citizen booking a remote visit (appointment-book), for themselves or a managed family member. */
export const bookingAdviceRequest = z.object({ patientId: id, proposed: proposedAppointment }).strict();
export type BookingAdviceRequest = z.infer<typeof bookingAdviceRequest>;
export const hookParams = z.object({ hook: z.enum(HOOKS) }).strict();

export interface CardSuggestionView {
  uuid: string;
  label: string;
  isRecommended?: boolean;
  /** What accepting it writes: only `create` actions become drafts; others are shown, never applied. */
  actions: { type: string; description?: string; resourceType?: string }[];
}

export interface CardView {
  /** The platform's id of this card (accept, override). */
  id: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  /** The service's own source label and link. */
  source: { label: string; url?: string; topic?: string };
  /** Who the platform called: the registry's record of the service. */
  service: { id: string; name: string; version: string; vendor: string; riskClass: string };
  suggestions: CardSuggestionView[];
  selectionBehavior?: string;
  overrideReasons: { code: string; display: string; system?: string }[];
  links: { label: string; url: string; type: string }[];
}

/** Answer of `POST /api/cds/hooks/:hook`. */
export interface HookResult {
  hook: Hook;
  cards: CardView[];
  /** Services asked, and those whose answer was dropped (too slow, an error): the clinician is never blocked. */
  called: number;
  dropped: { service: string; reason: string }[];
  /** System actions a service proposed: shown for a person to decide, never applied by the platform. */
  systemActions: { service: string; type: string; description?: string; resourceType?: string }[];
}

/** `POST /api/cds/cards/:id/accept` */
export const acceptRequest = z.object({ suggestion: z.string().min(1).max(100) }).strict();
export interface Accepted {
  card: string;
  /** The drafts written (FHIR references), each with a Provenance naming the service as a Device. */
  drafts: string[];
  /** Actions shown but not applied (update, delete: a person does these through the record). */
  skipped: string[];
  feedback: 'sent' | 'failed';
}

/** `POST /api/cds/cards/:id/override` */
export const overrideRequest = z
  .object({
    reason: text(500, 5),
    /** One of the card's overrideReasons, when it offers some. */
    code: z.string().max(100).optional(),
  })
  .strict();
export interface Overridden {
  card: string;
  feedback: 'sent' | 'failed';
}

/** `POST /api/cds/drafts/:type/:id/confirm`: the clinician signs an AI-suggested draft. */
export const draftParams = z.object({ type: z.enum(['MedicationRequest', 'ServiceRequest', 'CarePlan']), id }).strict();
export interface Confirmed {
  resource: string;
  status: string;
  /** Both Provenances: the service's (Device agent) and the clinician's confirmation. */
  provenance: string[];
}

// ------------------------------------------------------------------ registry

/** `POST /api/cds/registry/discover`: what a CDS Hooks server offers (its discovery endpoint). */
export const discoverRequest = z.object({ baseUrl: z.union([z.literal('bundled'), z.string().url().max(300)]) }).strict();
export interface Discovered {
  baseUrl: string;
  services: { id: string; hook: string; title?: string; description: string; prefetch: Record<string, string> }[];
}

/** `POST /api/cds/registry`: register a discovered service (proposed until approved). */
export const registerRequest = z
  .object({
    baseUrl: z.union([z.literal('bundled'), z.string().url().max(300)]),
    serviceId: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/),
    name: text(200),
    version: text(40),
    vendor: text(200),
    intendedUse: text(2000, 10),
    riskClass: z.enum(RISK_CLASSES),
    allowedHooks: z.array(z.enum(HOOKS)).min(1).max(HOOKS.length),
    dataScopes: z.array(z.enum(DATA_SCOPES)).max(DATA_SCOPES.length),
    /** The validation study: its title and where it is kept (becomes a DocumentReference). */
    evidence: z
      .object({ title: text(300, 5), url: z.string().url().max(500) })
      .strict()
      .optional(),
  })
  .strict();
export type RegisterRequest = z.infer<typeof registerRequest>;

/** `POST /api/cds/registry/:id/status` */
export const statusRequest = z
  .object({
    status: z.enum(STATUSES),
    reason: text(500, 5),
    evidence: z
      .object({ title: text(300, 5), url: z.string().url().max(500) })
      .strict()
      .optional(),
  })
  .strict();

/** `PUT /api/cds/registry/:id/scopes` */
export const scopesRequest = z
  .object({ allowedHooks: z.array(z.enum(HOOKS)).min(1).max(HOOKS.length), dataScopes: z.array(z.enum(DATA_SCOPES)).max(DATA_SCOPES.length) })
  .strict();
export const serviceParams = z.object({ id }).strict();

export interface Monitoring {
  calls: number;
  errors: number;
  /** Median and 95th percentile of answered calls, milliseconds. */
  latencyMedianMs?: number;
  latencyP95Ms?: number;
  cards: number;
  accepted: number;
  overridden: number;
  /** accepted / (accepted + overridden), when any card was acted on. */
  acceptanceRate?: number;
  overrideReasons: { reason: string; count: number }[];
  lastErrors: { at: string; error: string }[];
}

export interface ServiceView {
  id: string;
  baseUrl: string;
  serviceId: string;
  hook: string;
  name: string;
  version: string;
  vendor: string;
  intendedUse: string;
  riskClass: string;
  status: ServiceStatus;
  statusReason?: string;
  statusBy?: string;
  statusAt?: string;
  approvedBy?: string;
  approvedAt?: string;
  /** DocumentReference of the validation study. */
  evidence?: { reference: string; title?: string; url?: string };
  allowedHooks: string[];
  dataScopes: string[];
  prefetch: Record<string, string>;
  /** The FHIR Device that stands for the service in Provenance. */
  device: string;
  monitoring: Monitoring;
}

export { reference };
