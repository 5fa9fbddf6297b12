/** Who is making a request, as established by the enforcement point for every request. */
import type { Role } from './policy.ts';
import type { Scope } from './scopes.ts';

export interface Actor {
  via: 'session' | 'bearer' | 'none';
  accountId?: string;
  username?: string;
  displayName?: string;
  role?: Role;
  /** The facility the active role is held at. */
  organizationId?: string;
  practitionerId?: string;
  /** The patient whose compartment a citizen (or a patient-context token) is confined to. */
  patientId?: string;
  /** Present for bearer tokens: what the token may do, within the role. */
  scopes?: Scope[];
  clientId?: string;
  sessionId?: string;
  csrfToken?: string;
  /** Staff session that has not yet passed its second factor. */
  mfaPending?: boolean;
}

export interface AccessContext {
  actor: Actor;
  ip?: string;
  /** Purpose of use the client stated (header X-Purpose-Of-Use), recorded in the audit trail. */
  purpose?: string;
}

export const ANONYMOUS: Actor = { via: 'none' };

/**
 * Everything that decides what this actor may see, as one string: the account, the credential
 * (session, client), the role and where it is held, the patient it is confined to and the token's
 * scopes. Two requests equal in it have the same rights, so a decision made for one may serve the
 * other (a player's byte ranges of one viewing); a token narrowed to another patient or fewer
 * scopes, or another session, gets a key of its own.
 */
export function rightsKey(a: Actor): string {
  const scopes = (a.scopes ?? []).map((s) => `${s.context}/${s.resourceType}.${[...s.actions].sort().join('+')}`).sort();
  return JSON.stringify([
    a.via,
    a.accountId ?? null,
    a.sessionId ?? null,
    a.clientId ?? null,
    a.role ?? null,
    a.organizationId ?? null,
    a.practitionerId ?? null,
    a.patientId ?? null,
    scopes,
  ]);
}
