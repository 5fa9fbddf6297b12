/**
 * SMART on FHIR scopes, v1 (`patient/*.read`, `user/Observation.write`) and v2
 * (`patient/Observation.rs`, `user/*.cruds`). A token's scopes narrow what its role allows;
 * they never widen it.
 */
import type { FhirAction } from './policy.ts';

export interface Scope {
  context: 'patient' | 'user' | 'system';
  resourceType: string; // or '*'
  actions: Set<FhirAction>;
}

const V1: Record<string, FhirAction[]> = {
  read: ['read', 'search'],
  write: ['create', 'update', 'delete'],
  '*': ['read', 'search', 'create', 'update', 'delete'],
};
const V2: Record<string, FhirAction> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

export const OTHER_SCOPES = new Set(['openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access']);

/** Parses one clinical scope; undefined for scopes that are not clinical (openid, launch/patient, ...). */
export function parseScope(text: string): Scope | undefined {
  const m = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)$/.exec(text);
  if (!m) return undefined;
  const [, context, resourceType, perm] = m;
  let actions: FhirAction[] | undefined = V1[perm];
  if (!actions && /^c?r?u?d?s?$/.test(perm) && perm.length > 0) actions = [...perm].map((c) => V2[c]);
  if (!actions) return undefined;
  return { context: context as Scope['context'], resourceType, actions: new Set(actions) };
}

export function parseScopes(text: string): { scopes: Scope[]; unknown: string[]; raw: string[] } {
  const raw = text.split(/\s+/).filter(Boolean);
  const scopes: Scope[] = [];
  const unknown: string[] = [];
  for (const s of raw) {
    const parsed = parseScope(s);
    if (parsed) scopes.push(parsed);
    else if (!OTHER_SCOPES.has(s)) unknown.push(s);
  }
  return { scopes, unknown, raw };
}

export function scopeAllows(scopes: Scope[], action: FhirAction, resourceType: string): boolean {
  return scopes.some((s) => (s.resourceType === '*' || s.resourceType === resourceType) && s.actions.has(action));
}

/** True when every granted scope is within what the client may ever ask for. */
export function withinScopes(requested: Scope[], allowed: Scope[]): boolean {
  return requested.every((r) =>
    allowed.some(
      (a) => a.context === r.context && (a.resourceType === '*' || a.resourceType === r.resourceType) && [...r.actions].every((x) => a.actions.has(x)),
    ),
  );
}
