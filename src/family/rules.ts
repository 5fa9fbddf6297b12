/**
 * What the family workflow owns: the RelatedPerson of a family link (it names the manager and the
 * proof staff saw). It changes only through the family routes; a plain FHIR write to it (or one
 * turning another RelatedPerson into one) is refused with 422 naming the route.
 */
import type { RelatedPerson, Resource } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/store.ts';
import { MANAGER_EXT } from './service.ts';

export function isFamilyLinkPerson(r: Resource): boolean {
  return r.resourceType === 'RelatedPerson' && !!(r as RelatedPerson).extension?.some((e) => e.url === MANAGER_EXT);
}

export function registerFamilyRules(store: FhirStore): void {
  store.owns({
    domain: 'family',
    label: 'Người thân quản lý hồ sơ (family link)',
    route: 'POST /api/family-links, POST /api/family-links/{id}/revoke',
    owns: isFamilyLinkPerson,
  });
}
