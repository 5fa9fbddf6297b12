/** The CapabilityStatement: generated from what the store really indexes and the routes really serve. */
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { loadDefinitions } from './definitions.ts';
import type { SearchRegistry } from './searchparams.ts';

const SEARCH_DOCS: Record<string, string> = {
  string: 'Starts-with match that ignores case and Vietnamese diacritics (đ = d); :exact and :contains supported',
  token: 'system|code, |code, system| or code; :not and :missing supported',
  reference: 'Type/id, id, or absolute URL; :[Type] and :missing supported',
  date: 'Prefixes eq ne lt gt le ge sa eb at any precision',
  quantity: '[prefix]number[|system|code]; prefixes eq ne lt gt le ge sa eb ap',
  number: '[prefix]number; prefixes eq ne lt gt le ge sa eb ap',
  uri: 'Exact match; :below supported',
};

export function buildCapabilityStatement(registry: SearchRegistry, fhirBase: string, software: { name: string; version: string }): CapabilityStatement {
  const types = [...loadDefinitions()].sort();
  const revIncludes = new Map<string, string[]>();
  for (const source of types) {
    for (const p of registry.forType(source)) {
      if (p.type !== 'reference') continue;
      for (const target of p.targets) {
        if (!revIncludes.has(target)) revIncludes.set(target, []);
        revIncludes.get(target)!.push(`${source}:${p.code}`);
      }
    }
  }
  const resources: CapabilityStatementRestResource[] = types.map((type) => {
    const params = registry.forType(type);
    return {
      type,
      profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
      interaction: ['read', 'vread', 'update', 'delete', 'history-instance', 'history-type', 'create', 'search-type'].map((code) => ({
        code,
      })) as CapabilityStatementRestResource['interaction'],
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalUpdate: true,
      conditionalDelete: 'not-supported',
      searchInclude: params.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`),
      searchRevInclude: revIncludes.get(type) ?? [],
      searchParam: [
        { name: '_id', type: 'token', documentation: 'Resource id; comma-separated ids are OR' },
        { name: '_lastUpdated', type: 'date', documentation: SEARCH_DOCS.date },
        ...params.map((p) => ({
          name: p.code,
          type: p.type,
          definition: `http://hl7.org/fhir/SearchParameter/${type}-${p.code}`,
          documentation: SEARCH_DOCS[p.type],
        })),
      ],
      ...(type === 'Patient' ? { operation: [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }] } : {}),
    } as CapabilityStatementRestResource;
  });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software,
    implementation: { description: 'Cầu Y Tế FHIR R4 server', url: fhirBase },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Search results page with _count (default 20, max 1000) and next links that carry a keyset cursor. ' +
          'Supported result parameters: _sort, _count, _include, _revinclude, _total, _summary=count, _elements. ' +
          'Not supported: chained parameters, _has, _filter, _text/_content, composite parameters, XML.',
        resource: resources,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
      },
    ],
  } as CapabilityStatement;
}
