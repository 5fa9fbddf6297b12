/**
 * The one contract between the server and the web app for signing in and the account: sign-in,
 * the second factor and its enrolment, who am I, role switch, sign-out and sessions
 * (src/auth/routes.ts), account administration (account-routes.ts) and break-the-glass
 * (break-glass.ts). The zod schema of every JSON request body and query (the routes parse with
 * them; the input types are inferred from them) and the types of the answers as JSON carries them
 * (instants as ISO 8601 strings).
 *
 * Rules: the web app imports this file with `import type` only, so zod never reaches the bundle;
 * nothing here imports server code at run time except pure data (policy.ts).
 */
import { z } from 'zod';
import { isRole, type Role } from './policy.ts';

export type { Role };

/** A label in both languages. */
export type Label = { vi: string; en: string };

/** The plain answer of an action that has nothing else to say. */
export interface Ok {
  status: 'ok';
}

/**
 * The JSON problem of a refused request on a non-FHIR route (401 or 403). `breakGlass`: emergency
 * access (`POST /api/break-glass`) would open this patient's record.
 */
export interface AccessProblem {
  type: 'about:blank';
  title: string;
  status: number;
  breakGlass?: true;
  patientId?: string;
}

/** The same on a FHIR route: this coding in the OperationOutcome issue's details. */
export const BREAK_GLASS_CODING = { system: 'https://fhir.cauyte.vn/CodeSystem/access', code: 'break-glass-available' } as const;
export type BreakGlassCoding = typeof BREAK_GLASS_CODING;

// ------------------------------------------------------------------ sign-in and the second factor

/** `POST /api/auth/login` (public). */
export const loginBody = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256), role: z.string().max(40).optional() }).strict();
export type LoginRequest = z.infer<typeof loginBody>;

/** Answer of `POST /api/auth/login`: signed in, or the second factor (or its enrolment) comes next. */
export interface LoginResult {
  status: 'ok' | 'mfa-required' | 'enrolment-required';
  csrfToken: string;
}

/** `POST /api/auth/mfa` and `POST /api/auth/mfa/enrol/confirm`: a code from the authenticator app (or a recovery code). */
export const codeBody = z.object({ code: z.string().min(6).max(20) }).strict();
export type CodeRequest = z.infer<typeof codeBody>;

/** Answer of `POST /api/auth/mfa/enrol`: the new secret, as text and as a QR code. */
export interface MfaEnrolment {
  secret: string;
  otpauthUri: string;
  /** An SVG image of the otpauth URI. */
  qrSvg: string;
}

/** Answer of `POST /api/auth/mfa/enrol/confirm`: the recovery codes, shown once. */
export interface MfaEnrolled extends Ok {
  recoveryCodes: string[];
}

// ------------------------------------------------------------------ who am I, role, sessions

/** A role the account holds, at a facility ('' for none). */
export interface HeldRole {
  role: Role;
  organizationId: string;
  label: Label;
}

/** Answer of `GET /api/auth/me` (also while the second factor is pending). */
export interface Me {
  accountId?: string;
  username?: string;
  displayName?: string;
  kind?: 'staff' | 'citizen' | 'service';
  /** The active role and where it is held. */
  role?: Role;
  roleLabel?: Label;
  organizationId?: string;
  practitionerId?: string;
  /** A citizen's own record. */
  patientId?: string;
  roles?: HeldRole[];
  /** Password accepted, second factor not yet. */
  mfaPending: boolean;
  totpEnabled?: boolean;
  /** Carried by every state-changing request made with the session cookie. */
  csrfToken?: string;
}

/** `POST /api/auth/role`: switch to another role the account holds. */
export const roleBody = z.object({ role: z.string().max(40), organizationId: z.string().max(64).default('') }).strict();
export type RoleSwitchRequest = z.input<typeof roleBody>;

/** Answer of `POST /api/auth/logout-all`: every session, token and code of the account revoked. */
export interface SignedOutEverywhere extends Ok {
  /** Sessions ended. */
  revoked: number;
}

/** One entry of `GET /api/auth/sessions` (`DELETE /api/auth/sessions/:id` ends one). */
export interface SessionView {
  /** The first 12 characters of the session's id. */
  id: string;
  /** The session making this request. */
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip?: string;
  userAgent?: string;
  role?: string;
}

// ------------------------------------------------------------------ account administration

const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');

/** `POST /api/accounts` (facility and system administrators). */
export const accountBody = z
  .object({
    username: z.string().min(3).max(64),
    displayName: z.string().min(1).max(200),
    kind: z.enum(['staff', 'citizen']),
    password: z.string().min(8).max(256),
    practitionerId: id.optional(),
    patientId: id.optional(),
    roles: z
      .array(z.object({ role: z.string().refine(isRole, 'unknown role'), organizationId: z.string().max(64).default('') }).strict())
      .max(10)
      .default([]),
    /** Why (system administrators binding a person outside any facility rule); recorded in the audit trail. */
    reason: z.string().trim().min(10).max(500).optional(),
  })
  .strict();
export type AccountRequest = z.input<typeof accountBody>;
export type AccountInput = z.infer<typeof accountBody>;

/** Answer of `POST /api/accounts` (201). */
export interface AccountCreated {
  id: string;
  username: string;
}

/** `POST /api/accounts/:id/enable` and `/disable`: an optional reason for the audit trail. */
export const accountStateBody = z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict();
export type AccountStateRequest = z.infer<typeof accountStateBody>;

/** Answer of enable and disable. */
export interface AccountStateChanged extends Ok {
  disabled: boolean;
  /** False when the account already was in that state. */
  changed: boolean;
}

// ------------------------------------------------------------------ break-the-glass

/** `POST /api/break-glass`: emergency access to one patient's record, with the reason. */
export const breakGlassBody = z
  .object({
    patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/),
    reason: z.string().trim().min(10, 'Lý do cần ít nhất 10 ký tự (state the reason in at least 10 characters)').max(500),
  })
  .strict();
export type BreakGlassRequest = z.infer<typeof breakGlassBody>;

/** Answer of `POST /api/break-glass`: the grant and when it ends. */
export interface BreakGlassGrant {
  id: string;
  patientId: string;
  expiresAt: string;
}

/** `GET /api/break-glass?unreviewed=true` (the data-protection officer's review list). */
export const breakGlassListQuery = z.object({ unreviewed: z.enum(['true', 'false']).optional() }).strict();

/** One entry of `GET /api/break-glass`: the grant as stored, with the account's username. */
export interface BreakGlassEntry {
  id: string;
  account_id: string;
  patient_id: string;
  reason: string;
  created_at: string;
  expires_at: string;
  reviewed_by: string | null;
  reviewed_at: string | null;
  review_note: string | null;
  username: string;
}

/** `POST /api/break-glass/:id/review`: the officer's note (the answer is `Ok`). */
export const breakGlassReviewBody = z.object({ note: z.string().trim().min(3).max(1000) }).strict();
export type BreakGlassReviewRequest = z.infer<typeof breakGlassReviewBody>;

/** SMART EHR launch (POST /api/smart/launch): where to open the app (its launch address with iss and launch). */
export interface SmartLaunchResponse {
  launchUrl: string;
}

/** An app a clinician may open from a chart (GET /api/smart/apps). */
export interface SmartApp {
  clientId: string;
  name: string;
}

/** The consent screen's content (GET /api/smart/requests/:id). */
export interface SmartRequestView {
  id: string;
  app: { clientId: string; name: string; redirectHost: string };
  /** Every scope asked for, as sent (openid, fhirUser, launch/patient, offline_access, patient/Observation.rs …). */
  scopes: string[];
  /** The clinical ones, parsed: who (patient/user), which resource type ('*' = all), which actions. */
  clinical: { context: 'patient' | 'user' | 'system'; resourceType: string; actions: ('read' | 'search' | 'create' | 'update' | 'delete')[] }[];
  patientId?: string;
}

/** The person's answer (POST /api/smart/requests/:id/decision): where the browser goes next. */
export interface SmartDecisionResponse {
  redirect: string;
}
