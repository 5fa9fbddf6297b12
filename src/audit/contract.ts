/**
 * The one contract between the server and the web app for reading the audit trail
 * (src/audit/routes.ts): the data-protection officer's viewer and chain check, and a citizen's
 * "who saw my record". The zod schemas of the queries (the routes parse with them) and the types
 * of the answers as JSON carries them (instants as ISO 8601 strings).
 *
 * Rules: the web app imports this file with `import type` only, so zod never reaches the bundle;
 * nothing here imports server code at run time.
 */
import { z } from 'zod';
import type { VerifyResult } from './audit.ts';

/** A label in both languages. */
type Label = { vi: string; en: string };

/** `GET /api/audit` (officers): newest first, with filters. */
export const auditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    before: z.coerce.number().int().positive().optional(),
    accountId: z.string().max(64).optional(),
    patientId: z.string().max(64).optional(),
    action: z.string().max(40).optional(),
    outcome: z.enum(['success', 'denied', 'failure']).optional(),
    breakGlass: z.enum(['true', 'false']).optional(),
  })
  .strict();
export type AuditQuery = z.input<typeof auditQuery>;

/** `GET /fhir/R4/AuditEvent` (officers' FHIR tools; answers a Bundle of AuditEvent). */
export const auditEventQuery = z
  .object({
    _count: z.coerce.number().int().min(1).max(500).default(50),
    patient: z.string().max(80).optional(),
    _before: z.coerce.number().int().positive().optional(),
    // Result parameters that change nothing here (the answer is JSON, compact).
    _format: z.string().max(60).optional(),
    _pretty: z.string().max(10).optional(),
  })
  // Any other parameter is refused (400), never ignored: a tool asking for one agent's or one
  // subtype's entries must not get everyone's.
  .strict();

/** `GET /api/me/access-log`: the citizen's own log, or a family member's they manage (`patientId`). */
export const accessLogQuery = z
  .object({
    patientId: z
      .string()
      .regex(/^[A-Za-z0-9\-.]{1,64}$/)
      .optional(),
    /** The next page: entries older than this one. */
    before: z.coerce.number().int().positive().optional(),
  })
  .strict();
export type AccessLogQuery = z.infer<typeof accessLogQuery>;

/** An audit entry as an officer or a citizen reads it (what both answers share). */
export interface AuditView {
  id: number;
  at: string;
  /** The username, else the app's client id, else 'anonymous'. */
  who: string;
  role: string | null;
  roleLabel?: Label;
  organizationId: string | null;
  action: string;
  outcome: string;
  /** `Type/id` (or just the type) of what was acted on. */
  resource?: string;
  reason: string | null;
  breakGlass: boolean;
  ip: string | null;
  /** Linked into the hash chain already. */
  sealed: boolean;
}

/** One entry of `GET /api/audit`: with the patients the action touched. */
export interface AuditEntry extends AuditView {
  patients: string[];
}

/**
 * One entry of `GET /api/me/access-log`, as a citizen reads it: who in words (the person's name,
 * role and facility, or the app), what type of record, when and why — never a staff member's
 * login name, their IP address, record or facility ids, or other patients the entry touched.
 */
export interface AccessLogEntry {
  id: number;
  at: string;
  role: string | null;
  roleLabel?: Label;
  action: string;
  outcome: string;
  /** The type of record acted on (e.g. Observation). */
  resourceType?: string;
  reason: string | null;
  breakGlass: boolean;
  /** The citizen themselves (or the manager of the record, for a family member's). */
  self: boolean;
  /** The person's name as their account shows it. */
  whoName?: string;
  /** The name of the facility they acted for. */
  organizationName?: string;
  /** An app acting without a person (its client id). */
  app?: string;
}

/** Answer of `GET /api/audit/verify`: the hash chain checked from its start. */
export type ChainCheck = VerifyResult;
