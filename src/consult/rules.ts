/** TEMP (visits branch only — drop at merge in favour of the consult branch's rules.ts): lets the consult plugin load. */
import type { FhirStore } from '../fhir/store.ts';

export function registerConsultRules(_store: FhirStore): void {}
