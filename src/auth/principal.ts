/**
 * On whose behalf the record store is used. Every repository (src/fhir/repository.ts) is built
 * for exactly one principal, and every check and audit row follows from it:
 *   - an actor on a plain FHIR interaction: role policy per resource type, SMART scopes, patient
 *     relationship / consent / break-the-glass, one audit row per interaction;
 *   - an actor through a domain action (e.g. `consult.triage`): the route already checked the
 *     action against the policy table, so the type policy is replaced by that action; patient
 *     reach still applies to every resource, and the unit of work is audited under the action;
 *   - the system, for genuine platform work (demo seed, derived tables, ingest pipelines,
 *     reminders): no actor to check, audited with its reason.
 * There is no other kind: no "test" or "unchecked" principal exists outside tests.
 */
import type { AuditEntry } from '../audit/audit.ts';
import type { AccessContext, Actor } from './actor.ts';
import type { DomainAction } from './policy.ts';

/** Accesses a domain or system unit of work made so far, recorded as one audit row. */
export class AuditUnit {
  readonly patients = new Set<string>();
  readonly resources: string[] = [];
  breakGlass = false;
  first?: { resourceType: string; resourceId?: string };
  /** Set while a transaction of this unit is open: accesses wait for the unit's row. */
  open = false;

  add(e: Pick<AuditEntry, 'action' | 'resourceType' | 'resourceId' | 'patientIds' | 'breakGlass'>): void {
    for (const p of e.patientIds ?? []) this.patients.add(p);
    this.breakGlass ||= !!e.breakGlass;
    if (e.resourceType) {
      this.first ??= { resourceType: e.resourceType, resourceId: e.resourceId };
      if (this.resources.length < 40) this.resources.push(`${e.action} ${e.resourceType}${e.resourceId ? `/${e.resourceId}` : ''}`);
    }
  }

  get empty(): boolean {
    return this.resources.length === 0 && this.patients.size === 0;
  }

  clear(): void {
    this.patients.clear();
    this.resources.length = 0;
    this.breakGlass = false;
    this.first = undefined;
  }
}

export interface ActorPrincipal {
  kind: 'actor';
  ctx: AccessContext;
  /** The domain action this repository acts through (already allowed for the actor's role). */
  domain?: DomainAction;
  unit?: AuditUnit;
}

export interface SystemPrincipal {
  kind: 'system';
  /** Why the platform itself touches the record, e.g. "device ingest" — kept in every audit row. */
  reason: string;
  /** Which part of the platform acts (its domain tables), e.g. "devices". */
  component?: string;
  unit?: AuditUnit;
}

export type Principal = ActorPrincipal | SystemPrincipal;

export function actorOf(p: Principal): Actor | undefined {
  return p.kind === 'actor' ? p.ctx.actor : undefined;
}

/** The audit row's "who" for a principal. */
export function principalFields(p: Principal): Pick<AuditEntry, 'accountId' | 'username' | 'role' | 'organizationId' | 'clientId' | 'ip' | 'reason'> {
  if (p.kind === 'system') return { username: `system${p.component ? `:${p.component}` : ''}`, reason: p.reason };
  const a = p.ctx.actor;
  return {
    accountId: a.accountId,
    username: a.username,
    role: a.role,
    organizationId: a.organizationId,
    clientId: a.clientId,
    ip: p.ctx.ip,
    reason: p.ctx.purpose,
  };
}

/** The audit row's "who" for a request context (denials, sign-in, domain events). */
export function actorFields(ctx: AccessContext): Pick<AuditEntry, 'accountId' | 'username' | 'role' | 'organizationId' | 'clientId' | 'ip'> {
  const a = ctx.actor;
  return { accountId: a.accountId, username: a.username, role: a.role, organizationId: a.organizationId, clientId: a.clientId, ip: ctx.ip };
}

/** The action name a unit's summary row carries when the domain recorded none itself. */
export function unitAction(p: Principal): string {
  if (p.kind === 'system') return `system${p.component ? `.${p.component}` : ''}`;
  return p.domain ?? 'fhir';
}
