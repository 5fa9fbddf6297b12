import { readdirSync, readFileSync } from 'node:fs';
import { evalFhirPathTyped, getSearchParameterDetails, getSearchParameters, toTypedValue } from '@medplum/core';
import type { FhirPathAtom } from '@medplum/core';
import type { Bundle, Resource, SearchParameter } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildDemoBundle } from '../seed/demo.ts';
import { loadDefinitions } from './definitions.ts';
import { compileExpression } from './fastpath.ts';

const FIXTURES = new URL('../../test/fixtures/synthea-r4/', import.meta.url);

function realResources(): Resource[] {
  const out: Resource[] = [];
  for (const f of readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .slice(0, 6)) {
    const b = JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as Bundle;
    for (const e of b.entry ?? []) out.push(e.resource!);
  }
  for (const e of buildDemoBundle(20).entry ?? []) out.push(e.resource!);
  return out;
}

const key = (values: { type: string; value: unknown }[]) => values.map((v) => JSON.stringify([v.type, v.value])).sort();

describe('compiled search-parameter expressions', () => {
  it('give exactly what the FHIRPath engine gives, for every parameter, on real data', () => {
    loadDefinitions();
    const resources = realResources();
    let compared = 0;
    let compiled = 0;
    for (const r of resources) {
      for (const sp of Object.values(getSearchParameters(r.resourceType) ?? {}) as SearchParameter[]) {
        if (sp.type === 'composite' || sp.type === 'special') continue;
        const atom = getSearchParameterDetails(r.resourceType, sp).parsedExpression as FhirPathAtom;
        const fast = compileExpression(r.resourceType, atom);
        if (!fast) continue;
        compiled++;
        const expected = evalFhirPathTyped(atom, [toTypedValue(r)]);
        expect(key(fast(r)), `${r.resourceType}.${sp.code}: ${atom.toString()}`).toEqual(key(expected));
        compared += expected.length;
      }
    }
    // The comparison must have looked at real values, not only empty results.
    expect(compared).toBeGreaterThan(15_000);
    expect(compiled).toBeGreaterThan(30_000);
  });
});
