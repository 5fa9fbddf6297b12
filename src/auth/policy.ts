/**
 * The access policy as data: which role may do which action on which kind of resource.
 * One enforcement point reads it (src/auth/enforce.ts) for every route, FHIR and domain alike;
 * the authorization-matrix test is generated from it.
 *
 * Resource kinds:
 * - clinical: Patient and every type in the R4 Patient compartment, plus Binary — patient data,
 *   reachable only through a care relationship (or the citizen's own compartment);
 * - directory: facilities, practitioners, schedules, forms, terminology — not about one patient;
 * - other: everything else (devices, financial, definitional resources).
 */
export const ROLES = [
  'citizen',
  'commune_clinician',
  'specialist',
  'coordinator',
  'facility_admin',
  'analyst',
  'system_admin',
  'dpo',
  'integration',
  'disease_control',
] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, { vi: string; en: string }> = {
  citizen: { vi: 'Người dân', en: 'Citizen' },
  commune_clinician: { vi: 'Bác sĩ tuyến xã', en: 'Commune clinician' },
  specialist: { vi: 'Chuyên gia tuyến trên', en: 'Specialist' },
  coordinator: { vi: 'Điều phối khám chữa bệnh từ xa', en: 'Telemedicine coordinator' },
  facility_admin: { vi: 'Quản trị cơ sở', en: 'Facility administrator' },
  analyst: { vi: 'Chuyên viên thống kê (Sở/Bộ Y tế)', en: 'Health-authority analyst' },
  system_admin: { vi: 'Quản trị hệ thống', en: 'System administrator' },
  dpo: { vi: 'Cán bộ bảo vệ dữ liệu', en: 'Data-protection officer' },
  integration: { vi: 'Hệ thống tích hợp (HIS/LIS)', en: 'Integration system' },
  disease_control: { vi: 'Cán bộ kiểm soát bệnh tật tỉnh', en: 'Provincial disease-control officer' },
};

export const STAFF_ROLES: Role[] = ROLES.filter((r) => r !== 'citizen');

export type FhirAction = 'read' | 'search' | 'create' | 'update' | 'delete';
export type ResourceKind = 'clinical' | 'directory' | 'other';

/** Domain (non-FHIR) capabilities. */
export type DomainAction =
  | 'account.self' // my profile, my sessions, MFA enrolment
  | 'access-log.own' // who accessed my record
  | 'consent.own' // grant / withdraw my consents
  | 'breakglass.use'
  | 'breakglass.review'
  | 'audit.read'
  | 'account.manage'
  | 'reports.read'
  | 'consult.view' // see the cases of my facility or assigned to me
  | 'consult.request' // create, submit, withdraw, acknowledge, follow up (requesting side)
  | 'consult.triage' // accept, ask for information, decline, redirect (receiving side)
  | 'consult.schedule' // plan meetings (phiên hội chẩn)
  | 'consult.sign' // write and sign conclusions (assigned specialists)
  | 'eligibility.manage' // load a new version of the Circular 30 list
  | 'devices.manage' // register, rotate, revoke devices
  | 'monitoring.view' // alerts, chronic-disease registers
  | 'monitoring.manage' // set a patient's monitoring targets (alert limits): a clinical decision
  | 'video.host' // open video rooms, invite citizens, see attendance
  | 'video.join' // be in a video call one may enter (the room decides who: invited, on its appointment, managing a family member on it)
  | 'video.recordings' // watch the recordings of a room one may enter (made with everyone's consent)
  | 'record.own' // my health record (and my managed family members'): timeline, PDF, FHIR download
  | 'visits.book' // book, cancel, reschedule remote examinations for myself or my family
  | 'visits.attend' // be a party to a remote examination: see it, enter its room, download its prescription
  | 'visits.provide' // examine: the queue, the visit note, e-prescriptions
  | 'visits.schedule' // publish services and bookable slots
  | 'charges.export' // the facility's daily charges
  | 'claims.submit' // the facility's insurance XML (QĐ 130): check, download signed, send to the BHXH gateway
  | 'family.manage' // record (after seeing the proof) that a citizen manages a family member's record
  | 'family.own' // the family members I manage: list them, give a link up
  | 'ops.metrics' // read the platform's operational metrics (no patient data)
  | 'programme.view' // the facility register, hub-and-spoke support, agreements, readiness (directory data, no patient)
  | 'programme.facilities' // manage the register (import, edit), hubs, agreements (scope checked by the programme)
  | 'programme.declare' // declare my facility's telemedicine unit (Decree 96/2023, Art. 87–88)
  | 'programme.review' // approve or return declarations (the provincial health department)
  | 'programme.readiness' // record a bridge point's pre-call check
  | 'imaging.view' // see the imaging studies (and their images, reports) of patients one reaches
  | 'imaging.upload' // send a study (DICOM files or photos of a film) for a patient one reaches, ask a hub to read it
  | 'imaging.report' // the hub's reading worklist: write and sign imaging reports
  | 'training.learn' // courses open to me: enrol, attend, tests, my credits and certificates
  | 'training.teach' // sessions I teach: attendance, teaching cases, results; sign off supervised cases
  | 'training.manage' // my hub's programmes, courses, sessions and technology-transfer packages
  | 'surveillance.view' // the province's outbreak signals and full weekly counts (the disease-control officer)
  | 'surveillance.decide' // confirm or dismiss a signal (recorded, with a note)
  | 'surveillance.aggregates' // weekly notifiable-disease counts (small counts suppressed outside disease control)
  | 'surveillance.admin' // load the official notifiable-disease list, population denominators, disease-control centres
  | 'cds.use' // decision support: fire CDS hooks for patients one reaches, accept or override their cards
  | 'cds.advice' // the citizen's own booking advice: the appointment-book hook for a visit I am booking (cards to read, nothing to accept)
  | 'cds.manage'; // the registry of AI/CDS services: register, approve, suspend, withdraw

interface RolePolicy {
  fhir: Partial<Record<ResourceKind, FhirAction[]>>;
  /** Per-type exceptions that replace the kind's actions for that type. */
  types?: Record<string, FhirAction[]>;
  domain: DomainAction[];
  /**
   * How clinical resources are reached: 'own' = the citizen's own compartment; 'relationship' =
   * patients in the actor's care (facility, encounter, appointment, consultation, consent,
   * break-the-glass); 'all' = no patient restriction (integration systems, limited by scopes).
   */
  clinicalReach: 'own' | 'relationship' | 'all' | 'none';
  /**
   * Whose directory data a role with directory write may change through the FHIR API: 'facility'
   * (the default) = its own facility's only (src/auth/directory-scope.ts); 'all' = any (integration).
   */
  directoryWrites?: 'facility' | 'all';
}

const READ: FhirAction[] = ['read', 'search'];
const WRITE: FhirAction[] = ['read', 'search', 'create', 'update'];
const ALL: FhirAction[] = ['read', 'search', 'create', 'update', 'delete'];

export const POLICY: Record<Role, RolePolicy> = {
  citizen: {
    fhir: { clinical: READ, directory: READ },
    types: { Consent: ['read', 'search', 'create', 'update'], AuditEvent: [] },
    domain: [
      'account.self',
      'access-log.own',
      'consent.own',
      'record.own',
      'visits.book',
      'visits.attend',
      'video.join',
      'video.recordings',
      'family.own',
      'imaging.view',
      'cds.advice',
    ],
    clinicalReach: 'own',
  },
  commune_clinician: {
    fhir: { clinical: WRITE, directory: READ },
    types: { AuditEvent: [] },
    domain: [
      'account.self',
      'breakglass.use',
      'consult.view',
      'consult.request',
      'devices.manage',
      'monitoring.view',
      'monitoring.manage',
      'video.host',
      'video.join',
      'video.recordings',
      'visits.attend',
      'visits.provide',
      'visits.schedule',
      'family.manage',
      'programme.view',
      'programme.readiness',
      'imaging.view',
      'imaging.upload',
      'training.learn',
      'cds.use',
    ],
    clinicalReach: 'relationship',
  },
  specialist: {
    fhir: { clinical: WRITE, directory: READ },
    types: { AuditEvent: [] },
    domain: [
      'account.self',
      'breakglass.use',
      'consult.view',
      'consult.request',
      'consult.triage',
      'consult.sign',
      'devices.manage',
      'monitoring.view',
      'video.host',
      'video.join',
      'video.recordings',
      'visits.attend',
      'visits.provide',
      'visits.schedule',
      'programme.view',
      'programme.readiness',
      'imaging.view',
      'imaging.upload',
      'imaging.report',
      'training.learn',
      'training.teach',
      'cds.use',
    ],
    clinicalReach: 'relationship',
  },
  coordinator: {
    fhir: { clinical: READ, directory: WRITE },
    types: { Appointment: WRITE, ServiceRequest: WRITE, Communication: WRITE, AuditEvent: [] },
    domain: [
      'account.self',
      'consult.view',
      'consult.triage',
      'consult.schedule',
      'monitoring.view',
      'video.host',
      'video.join',
      'video.recordings',
      'visits.schedule',
      'charges.export',
      'claims.submit',
      'family.manage',
      'programme.view',
      'programme.readiness',
      'training.learn',
      'training.teach',
      'training.manage',
    ],
    clinicalReach: 'relationship',
  },
  facility_admin: {
    fhir: { directory: WRITE },
    domain: [
      'account.self',
      'account.manage',
      'devices.manage',
      'visits.schedule',
      'charges.export',
      'programme.view',
      'programme.facilities',
      'programme.declare',
      'programme.readiness',
      'reports.read',
      'claims.submit',
    ],
    clinicalReach: 'none',
  },
  analyst: {
    fhir: {},
    domain: ['account.self', 'reports.read', 'programme.view', 'programme.review', 'surveillance.aggregates'],
    clinicalReach: 'none',
  },
  system_admin: {
    fhir: { directory: READ },
    domain: [
      'account.self',
      'account.manage',
      'eligibility.manage',
      'ops.metrics',
      'programme.view',
      'programme.facilities',
      'surveillance.admin',
      'cds.manage',
    ],
    clinicalReach: 'none',
  },
  dpo: {
    fhir: {},
    types: { AuditEvent: READ },
    domain: ['account.self', 'audit.read', 'breakglass.review'],
    clinicalReach: 'none',
  },
  integration: {
    fhir: { clinical: ALL, directory: ALL, other: ALL },
    types: { AuditEvent: [] },
    domain: [],
    clinicalReach: 'all',
    directoryWrites: 'all',
  },
  disease_control: {
    fhir: { directory: READ },
    domain: ['account.self', 'surveillance.view', 'surveillance.decide', 'surveillance.aggregates'],
    clinicalReach: 'none',
  },
};

export const DIRECTORY_TYPES = new Set([
  'Organization',
  'Practitioner',
  'PractitionerRole',
  'Location',
  'HealthcareService',
  'Endpoint',
  'Schedule',
  'Slot',
  'Questionnaire',
  'ValueSet',
  'CodeSystem',
  'ConceptMap',
  'NamingSystem',
  'StructureDefinition',
  'SearchParameter',
  'ActivityDefinition',
  'PlanDefinition',
  'Medication',
  'Substance',
  'OrganizationAffiliation',
  'CapabilityStatement',
]);

/**
 * Which domain each action belongs to: a repository acting through an action may write the
 * resources that domain owns (src/fhir/ownership.ts) and use that domain's own tables (DOMAIN_TABLES).
 */
export const DOMAIN_OF: Record<DomainAction, string> = {
  'account.self': 'account',
  'access-log.own': 'audit',
  'consent.own': 'consent',
  'breakglass.use': 'breakglass',
  'breakglass.review': 'audit',
  'audit.read': 'audit',
  'account.manage': 'account',
  'reports.read': 'reports',
  'consult.view': 'consult',
  'consult.request': 'consult',
  'consult.triage': 'consult',
  'consult.schedule': 'consult',
  'consult.sign': 'consult',
  'eligibility.manage': 'consult',
  'devices.manage': 'devices',
  'monitoring.view': 'devices',
  'monitoring.manage': 'devices',
  'video.host': 'video',
  'video.join': 'video',
  'video.recordings': 'video',
  'record.own': 'visits',
  'visits.book': 'visits',
  'visits.attend': 'visits',
  'visits.provide': 'visits',
  'visits.schedule': 'visits',
  'charges.export': 'visits',
  'claims.submit': 'formats',
  'family.manage': 'family',
  'family.own': 'family',
  'ops.metrics': 'ops',
  'programme.view': 'programme',
  'programme.facilities': 'programme',
  'programme.declare': 'programme',
  'programme.review': 'programme',
  'programme.readiness': 'programme',
  'imaging.view': 'imaging',
  'imaging.upload': 'imaging',
  'imaging.report': 'imaging',
  'training.learn': 'training',
  'training.teach': 'training',
  'training.manage': 'training',
  'surveillance.view': 'surveillance',
  'surveillance.decide': 'surveillance',
  'surveillance.aggregates': 'surveillance',
  'surveillance.admin': 'surveillance',
  'cds.use': 'cds',
  'cds.advice': 'cds',
  'cds.manage': 'cds',
};

export function domainOf(action: DomainAction): string {
  return DOMAIN_OF[action];
}

export function fhirAllowed(role: Role, action: FhirAction, resourceType: string, kind: ResourceKind): boolean {
  const p = POLICY[role];
  const actions = p.types?.[resourceType] ?? p.fhir[kind] ?? [];
  return actions.includes(action);
}

/**
 * What an app's token (a bearer token: a SMART app, an OAuth client) may do on a domain route,
 * beyond what its role allows. Every domain action has a rule, so a new action is a decision, not
 * a default (the type is a complete Record):
 * - 'person': a person's own act at the screen (their account and sessions, emergency access, a
 *   policy setting, a professional signature, advice from a machine that a clinician accepts,
 *   learning that earns credit) — refused to any token, however scoped.
 * - `{ type }`: the domain shows or changes data of that FHIR type (of each, when several), so the
 *   token needs a scope for it (reading: search; anything else: create), as it would on the FHIR
 *   API. Whatever the domain then reads or writes through the guarded store is narrowed by the
 *   token's scopes type by type as well (src/auth/guard.ts). `facility`: the route lists a
 *   facility's data (billing, claims, alerts, the fleet, the programme's network), read outside
 *   one patient's compartment, so only user/ and system/ scopes count — a token launched for one
 *   patient (patient/ scopes) reaches no one else's row through it.
 * - 'aggregate': counts with no person's data (metrics, case counts by commune): the role decides,
 *   and a token with no write scope at all (read-only) changes nothing (enforce.ts: tokenDomainRefusal).
 * A route that shows more than its action's type stands for names a stricter rule for itself
 * (`access: { domain, tokens }`, e.g. who holds access to a record: src/consent/routes.ts).
 */
export type TokenDomainRule = 'person' | 'aggregate' | { type: string | readonly string[]; facility?: true };

export const TOKEN_DOMAIN_RULES: Record<DomainAction, TokenDomainRule> = {
  'account.self': 'person',
  // Accounts, service clients and their secrets: an app holding an administrator's token must not
  // mint accounts or clients (with wider scopes than its own).
  'account.manage': 'person',
  // Emergency access is a person's own statement, and its review a person's judgement.
  'breakglass.use': 'person',
  'breakglass.review': 'person',
  'access-log.own': { type: 'AuditEvent' },
  'audit.read': { type: 'AuditEvent' },
  'consent.own': { type: 'Consent' },
  // Family links are RelatedPerson resources and open a record to its manager: an app needs that scope.
  'family.own': { type: 'RelatedPerson' },
  'family.manage': { type: 'RelatedPerson' },
  // Case conferences: the request (a ServiceRequest), its triage (the case's Task), the meeting
  // (an Appointment). The conclusion carries the specialist's own signature (their key): a
  // person's act, like the official list of conditions eligible for remote examination.
  'consult.view': { type: 'ServiceRequest' },
  'consult.request': { type: 'ServiceRequest' },
  'consult.triage': { type: 'Task' },
  'consult.sign': 'person',
  'consult.schedule': { type: 'Appointment' },
  'eligibility.manage': 'person',
  // Billing, claims and the device fleet are a facility's lists, read through the platform's own
  // repository: held to the FHIR type they stand for, with a user/ or system/ scope.
  'charges.export': { type: 'ChargeItem', facility: true },
  'claims.submit': { type: 'Claim', facility: true },
  'devices.manage': { type: 'Device', facility: true },
  // Device alerts (Flags, listed with the patient's latest readings — Observations — and
  // acknowledged) and the chronic-disease registers; a patient's monitoring targets (Goals, a
  // clinical decision).
  'monitoring.view': { type: ['Flag', 'Observation'], facility: true },
  'monitoring.manage': { type: 'Goal' },
  // Hosting a call (opening a room — also by opening a visit's room — inviting by a link that lets
  // its holder in as the patient, admitting, ending): an app needs to be allowed to make
  // appointments. Being in a call is reading its Appointment (src/video/routes.ts, for every
  // room); recordings are DocumentReferences.
  'video.host': { type: 'Appointment' },
  'video.join': { type: 'Appointment' },
  'video.recordings': { type: 'DocumentReference' },
  // Citizens' visits: booking and attending (Appointments; opening the visit's room makes one),
  // the provider's side (the Encounter, its prescription), the services on offer (Schedules),
  // one's own record (the Patient compartment, every type of it narrowed again by the guard).
  'record.own': { type: 'Patient' },
  'visits.book': { type: 'Appointment' },
  'visits.attend': { type: 'Appointment' },
  'visits.provide': { type: 'Encounter' },
  'visits.schedule': { type: 'Schedule' },
  // Imaging: studies (ImagingStudy: listing, viewing, uploading, annotating). The radiology report
  // carries the reading specialist's own signature: a person's act.
  'imaging.view': { type: 'ImagingStudy' },
  'imaging.upload': { type: 'ImagingStudy' },
  'imaging.report': 'person',
  // The programme's network (Organizations), a facility's declaration (a QuestionnaireResponse)
  // and its decision, the site's equipment check (recorded against its Organization), the
  // programme's indicators (MeasureReports, also $evaluate-measure).
  'programme.view': { type: 'Organization', facility: true },
  'programme.facilities': { type: 'Organization', facility: true },
  'programme.declare': { type: 'QuestionnaireResponse', facility: true },
  'programme.review': { type: 'Organization', facility: true },
  'programme.readiness': { type: 'Organization', facility: true },
  'reports.read': { type: 'MeasureReport', facility: true },
  // Outbreak signals (DetectedIssues) seen and decided; counts by commune carry no one's data; the
  // notifiable-disease lists, population and authorities are policy settings.
  'surveillance.view': { type: 'DetectedIssue', facility: true },
  'surveillance.decide': { type: 'DetectedIssue', facility: true },
  'surveillance.aggregates': 'aggregate',
  'surveillance.admin': 'person',
  // Remote training: attendance, test answers and feedback earn a person CME credit; teaching and
  // running programmes are a person's too.
  'training.learn': 'person',
  'training.teach': 'person',
  'training.manage': 'person',
  // Decision support: advice from a machine is for a clinician (or a citizen booking) at the screen
  // to accept or override, and what an outside service may receive is a person's judgement.
  'cds.use': 'person',
  'cds.advice': 'person',
  'cds.manage': 'person',
  'ops.metrics': 'aggregate',
};

export function domainAllowed(role: Role, action: DomainAction): boolean {
  return POLICY[role].domain.includes(action);
}

export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

/** Roles a facility administrator may neither hold power over nor grant (on every account route and client registration). */
export const NON_FACILITY_ROLES: readonly Role[] = ['system_admin', 'dpo', 'integration', 'analyst', 'facility_admin', 'disease_control'];
