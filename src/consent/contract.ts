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
