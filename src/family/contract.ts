/**
 * The family domain's contract between server and web app: the zod schemas of every JSON request
 * body (the routes parse with them) and the types of the answers. The web app imports the types
 * only (`import type`), so no validation code reaches the browser bundle.
 *
 * Rules: one schema per request body, named after the request; answers are plain types; nothing
 * here touches the store.
 */
import { z } from 'zod';

export const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');

/** How the managed member is related to the citizen who manages their record. */
export const FAMILY_RELATIONSHIPS = ['child', 'parent', 'spouse', 'grandparent', 'ward'] as const;
export type FamilyRelation = (typeof FAMILY_RELATIONSHIPS)[number];

/**
 * `POST /api/family-links` — staff record a relation after seeing the proof. The manager is named by
 * their record's id or, at the station's desk, by their CCCD number (one of the two).
 */
export const familyLinkRequest = z
  .object({
    managerPatientId: id.optional(),
    managerCccd: z
      .string()
      .regex(/^\d{12}$/, 'a 12-digit CCCD number')
      .optional(),
    patientId: id,
    relationship: z.enum(FAMILY_RELATIONSHIPS),
    proof: z
      .string()
      .trim()
      .min(1)
      .max(300)
      .refine((s) => s.length >= 5, 'name the document seen'),
  })
  .strict()
  .refine((x) => !!x.managerPatientId !== !!x.managerCccd, 'give managerPatientId or managerCccd (one of them)');
export type FamilyLinkRequest = z.input<typeof familyLinkRequest>;

/** Answer of `POST /api/family-links`. */
export interface FamilyLinkCreated {
  id: string;
  relatedPersonId: string;
}

/** One entry of `GET /api/me/family`: the citizen themselves, then each member they manage. */
export interface FamilyMember {
  patientId: string;
  name: string;
  birthDate?: string;
  /** The member's relation to the citizen, in Vietnamese (e.g. "Con"). */
  relation?: string;
  self: boolean;
  /** The link, for giving it up (`POST /api/me/family/:linkId/revoke`). */
  linkId?: string;
}

/** Answer of both revoke routes. */
export interface FamilyLinkRevoked {
  revoked: true;
}
