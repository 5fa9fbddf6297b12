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
