/**
 * Who acts in the video domain, and the repository each acts through. A person in a room is a
 * signed-in actor (staff or citizen) or the holder of an invitation link (no account):
 *   - an actor acts through a video action they hold: `video.join` for being in a call (their
 *     chat, their consent, their presence), `video.host` for what hosts do (open, invite,
 *     attendance, remove, end), `video.recordings` for watching recordings; patient reach and
 *     audit come from the repository (src/fhir/repository.ts);
 *   - an invitation holder has no account: the platform acts for the link (a system repository
 *     of the video component, audited with the link's label), within the one room and the one
 *     appointment the link was made for.
 * An app's token (SMART scopes) narrows what its holder may do here as on the FHIR API.
 */
import type { AccessContext, Actor } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import { tokenDomainRefusal } from '../auth/enforce.ts';
import type { FhirAction } from '../auth/policy.ts';
import { scopeAllows } from '../auth/scopes.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';

/** A person as a room sees them. */
export interface Entrant {
  accountId?: string;
  practitionerId?: string;
  patientId?: string;
  name: string;
  role: string;
  organizationId?: string;
  /** Clinicians (a Practitioner record) enter at once; citizens wait in the lobby for a host. */
  staff: boolean;
  /** A citizen signed in themselves, who may go with the family members they manage. */
  familyManager: boolean;
  /**
   * May act as a host where the room makes them one (admit, remove, end): a person signed in, or
   * an app's token that may host (an Appointment write scope: tokenDomainRefusal); another only watches.
   */
  hostControls?: boolean;
}

/** Who is acting: a signed-in actor, or the holder of an invitation link. */
export type Who =
  | { kind: 'actor'; ctx: AccessContext }
  | { kind: 'invitation'; key: string; label: string }
  // A member of a room taken over from a lost node who has not reconnected yet: the platform acts
  // (their stay ends on the record if they do not come back).
  | { kind: 'platform'; reason: string };

export type VideoAction = 'video.join' | 'video.host' | 'video.recordings';

/** The reason the platform gives when it acts for an invitation link (in the audit row). */
export const INVITATION_REASON = 'video call by invitation link';

/** Fully signed in (a role, the second factor done). */
export function signedIn(actor: Actor): boolean {
  return actor.via !== 'none' && !!actor.role && !actor.mfaPending;
}

export function entrantOf(actor: Actor): Entrant {
  return {
    accountId: actor.accountId,
    practitionerId: actor.practitionerId,
    patientId: actor.patientId,
    name: actor.displayName ?? actor.username ?? 'Người dùng',
    role: actor.role ?? 'citizen',
    organizationId: actor.organizationId,
    staff: !!actor.practitionerId,
    familyManager: actor.role === 'citizen' && actor.via === 'session',
    hostControls: actor.via !== 'bearer' || !tokenDomainRefusal(actor.scopes ?? [], 'video.host', 'POST'),
  };
}

/** The repository a person acts through (an invitation holder: the platform, for the link). */
export function repoFor(store: FhirStore, who: Who, action: VideoAction = 'video.join'): Repository {
  if (who.kind === 'platform') return store.system(who.reason, 'video');
  return who.kind === 'actor' ? store.as(who.ctx, action) : store.system(INVITATION_REASON, 'video');
}

/** Audit detail naming an invitation holder (they have no account to name). */
export function invitationDetail(who: Who): Record<string, string> {
  return who.kind === 'invitation' ? { invitation: who.label } : {};
}

/**
 * A bearer token's scopes must allow each FHIR interaction the video action makes or shows (a
 * domain repository replaces the type policy, not the token's narrowing). Sessions have no scopes.
 */
export function assertScopes(actor: Actor | undefined, needs: ReadonlyArray<readonly [FhirAction, string]>): void {
  if (!actor?.scopes) return;
  for (const [action, type] of needs) {
    if (!scopeAllows(actor.scopes, action, type))
      throw new AccessDenied(`Token không có phạm vi cho ${action} ${type} (token scope does not allow ${action} on ${type})`);
  }
}
