/**
 * Workflow-owned resources. Some resources carry state that a domain's rules own: a case
 * conference's Task and ServiceRequest (triage, assignment, conclusion), a booking's Appointment
 * and Slot, a visit's ChargeItem, an alert's Flag. Changing them through plain FHIR would skip the
 * state machine and its checks (a commune clinician once "concluded" a case with a PUT on its
 * Task). Each domain plugin registers what it owns; a write to an owned resource — creating one,
 * changing one, or turning another resource into one — is accepted only from a repository acting
 * through one of that domain's actions, or from the system. Everyone else gets a 422
 * OperationOutcome naming the route to use.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal.ts';
import { domainOf } from '../auth/policy.ts';
import { FhirError } from './outcome.ts';

export interface OwnershipRule {
  /** The owning domain, as in policy.ts DOMAIN_OF (e.g. "consult"). */
  domain: string;
  /** What the resource is, for the message (Vietnamese first). */
  label: string;
  /** Where a person or system changes it instead, e.g. "POST /api/consults/{id}/triage". */
  route: string;
  owns(resource: Resource): boolean;
}

export class OwnershipRules {
  private readonly rules: OwnershipRule[] = [];

  register(rule: OwnershipRule): void {
    this.rules.push(rule);
  }

  /** The rule owning a resource, if any. */
  ownerOf(resource: Resource | undefined): OwnershipRule | undefined {
    if (!resource) return undefined;
    return this.rules.find((r) => r.owns(resource));
  }

  /** Throws unless the principal may write a resource that is (or would become) owned by a domain. */
  assertMayWrite(p: Principal, existing: Resource | undefined, next: Resource | undefined): void {
    if (p.kind === 'system') return;
    for (const r of [existing, next]) {
      const rule = this.ownerOf(r);
      if (!rule) continue;
      if (p.domain && domainOf(p.domain) === rule.domain) continue;
      const text =
        `${rule.label} do quy trình nghiệp vụ quản lý, không sửa trực tiếp qua FHIR; hãy dùng ${rule.route} ` +
        `(${r!.resourceType}/${r!.id ?? 'new'} is managed by the ${rule.domain} workflow: use ${rule.route})`;
      throw new FhirError(422, [
        {
          severity: 'error',
          code: 'business-rule',
          details: { text, coding: [{ system: 'https://fhir.cauyte.vn/CodeSystem/workflow-owner', code: rule.domain }] },
          diagnostics: text,
        },
      ]);
    }
  }
}
