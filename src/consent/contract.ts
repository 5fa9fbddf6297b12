/**
 * The one contract between the server and the web app for a citizen's consents
 * (src/consent/routes.ts): the zod schemas of the request body and query (the routes parse with
 * them) and the types of the answers, which are FHIR Consent resources.
 *
 * Rules: the web app imports this file with `import type` only, so zod never reaches the bundle;
 * nothing here imports server code at run time.
 */
import { z } from 'zod';
import type { Consent } from '@medplum/fhirtypes';

export const consentId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/);

/** `POST /api/me/consents`: share the record with a facility or block it, for treatment or research. */
export const consentBody = z
  .object({
    purpose: z.enum(['treatment', 'research']),
    decision: z.enum(['permit', 'deny']),
    organizationId: consentId.optional(),
    /** A family member the citizen manages; their own record when absent. */
    patientId: consentId.optional(),
  })
  .strict();
export type ConsentRequest = z.infer<typeof consentBody>;

/** `GET /api/me/consents`: the citizen's own, or a managed family member's (`patientId`). */
export const consentListQuery = z.object({ patientId: consentId.optional() }).strict();
export type ConsentListQuery = z.infer<typeof consentListQuery>;

/**
 * The answers: `GET /api/me/consents` gives the person's Consents (newest first);
 * `POST /api/me/consents` the new one (201); `POST /api/me/consents/:id/withdraw` the withdrawn one
 * (status `inactive`).
 */
export type { Consent };

/** `GET /api/me/access-holders`: who can read the record now, for the citizen or a managed member. */
export const accessHoldersQuery = consentListQuery;

/** Why someone holds access to a record right now. */
export type AccessBasis =
  /** The facility (all its clinical staff) or a named clinician cares for the person: registration, GP, visit, booking, consultation, care team. */
  | 'care'
  /** The person (or their family manager) shared the record with this facility, or with every facility. */
  | 'consent'
  /** A family member manages the record (recorded by staff who saw the proof). */
  | 'family'
  /** Emergency access (break-the-glass), time-limited and reviewed by the data-protection officer. */
  | 'break-glass';

/** One holder of access: a facility, a clinician, a family member, or an emergency grant. */
export interface AccessHolder {
  basis: AccessBasis;
  /** Readable name of the person or facility ("Trạm Y tế xã Bản Khoang", "BS. Lò Văn Minh"). */
  name: string;
  /** The facility they act for, by name, when the holder is a person. */
  facility?: string;
  /** Role labels (Vietnamese and English), when known. */
  roles?: { vi: string; en: string }[];
  /** For `care`: how the care relationship arose (`registered`, `gp`, `encounter`, `appointment`, `consultation`, `care-team`, `episode`). */
  kinds?: string[];
  /** For `family`: what the manager is to the person (`parent`, `child`, `spouse`, `grandchild`, `guardian`). */
  relation?: 'parent' | 'child' | 'spouse' | 'grandchild' | 'guardian';
  /** For `break-glass`: the stated reason and when the access ends (ISO). */
  reason?: string;
  expiresAt?: string;
  /** For `consent`: shared with every facility. */
  everyFacility?: boolean;
  /** A facility the person blocked: care exists but their refusal wins (shown so they know). */
  blocked?: boolean;
}
