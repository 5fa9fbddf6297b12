/**
 * The contract of the data-protection officer's audit viewer (src/audit/officer-routes.ts):
 * the filter (query) schema and the answer types. The web imports this file type-only.
 */
import { z } from 'zod';

type Label = { vi: string; en: string };
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'yyyy-mm-dd');

/** `GET /api/audit/search` and `GET /api/audit/export.csv`. */
export const officerAuditQuery = z
  .object({
    /** Username, name or account id (part of it). */
    who: z.string().trim().max(100).optional(),
    /** A patient id, a name (accents optional) or a CCCD number. */
    patient: z.string().trim().max(100).optional(),
    /** An action code, or an area ("account" matches account.create, account.disable…). */
    action: z
      .string()
      .trim()
      .regex(/^[a-z0-9.-]{1,40}$/)
      .optional(),
    outcome: z.enum(['success', 'denied', 'failure']).optional(),
    breakGlass: z.enum(['true', 'false']).optional(),
    /** Inclusive calendar days in Vietnam's time zone. */
    from: day.optional(),
    to: day.optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** The export's language (columns and labels). */
    lang: z.enum(['vi', 'en']).optional(),
  })
  .strict();
export type OfficerAuditQuery = z.input<typeof officerAuditQuery>;

export interface OfficerAuditEntry {
  id: number;
  at: string;
  /** Username, else the app's client id. */
  who: string;
  /** The account's full name. */
  person?: string;
  roleLabel?: Label;
  /** The facility's name. */
  organization?: string;
  action: string;
  actionLabel: Label;
  outcome: string;
  outcomeLabel: Label;
  resourceType?: string;
  resourceLabel?: Label;
  patients: { id: string; name?: string }[];
  reason?: string;
  breakGlass: boolean;
  ip?: string;
  /** A refused request: what it tried to do, readable, and the refusal's message. */
  denied?: Label & { message?: string };
}

export interface OfficerAuditPage {
  items: OfficerAuditEntry[];
  /** `before` for the next (older) page. */
  next?: number;
}
