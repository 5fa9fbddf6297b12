/**
 * The compiled validator gives the same verdicts as @medplum/core's: for every Synthea resource,
 * the demo data, fuzzed resources (the shapes of the auth fuzz test) and thousands of deterministic
 * mutations of valid resources, both validators' issue lists (severity, code, expression, text,
 * diagnostics, order) or thrown errors are compared. Resources the compiled validator hands back
 * to @medplum/core are counted; the comparison only counts what it decided itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildDemoBundle } from '../seed/demo.ts';
import { prng } from '../seed/prng.ts';
import { loadDefinitions } from './definitions.ts';
import { medplumStructureIssues, structureIssues } from './validate.ts';
import { mutate } from './validator-mutants.ts';
import { compiledIssues, fallbackReasons } from './validator-run.ts';
import { resourceShaped } from '../testing/fuzz-shapes.ts';

// VALIDATOR_FUZZ_SEED / VALIDATOR_FUZZ_RUNS explore further than the fixed default.
const FUZZ_SEED = Number(process.env.VALIDATOR_FUZZ_SEED ?? 19);
const FUZZ_RUNS = Number(process.env.VALIDATOR_FUZZ_RUNS ?? 1500);
const FIXTURES = new URL('../../test/fixtures/synthea-r4/', import.meta.url);

/** Every resource of the Synthea bundles, and the bundles themselves (entries are Resource-typed). */
function synthea(): Resource[] {
  const out: Resource[] = [];
  for (const f of readdirSync(FIXTURES).filter((f) => f.endsWith('.json'))) {
    const b = JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as Bundle;
    for (const e of b.entry ?? []) out.push(e.resource!);
    out.push(b);
  }
  return out;
}

function outcome(fn: () => unknown): string {
  try {
    return JSON.stringify(fn());
  } catch (err) {
    return `threw ${JSON.stringify((err as { outcome?: unknown }).outcome ?? (err as Error).message)}`;
  }
}

interface Tally {
  compared: number;
  rejected: number;
  fallbacks: number;
  differences: string[];
}

function compare(resource: Resource, tally: Tally): void {
  const types = loadDefinitions();
  if (typeof resource.resourceType !== 'string' || !types.has(resource.resourceType)) return;
  const expected = outcome(() => medplumStructureIssues(structuredClone(resource)));
  let decided = true;
  const actual = outcome(() => {
    const r = structuredClone(resource);
    // The compiled run must leave the resource as it found it (a fallback must see it untouched).
    const copy = structuredClone(r);
    decided = compiledIssues(copy, types) !== undefined;
    if (JSON.stringify(copy) !== JSON.stringify(r)) throw new Error('the compiled validator changed the resource');
    return structureIssues(r, { strict: false });
  });
  tally.compared++;
  if (!decided) tally.fallbacks++;
  if (expected !== '[]') tally.rejected++;
  if (expected !== actual && tally.differences.length < 5) {
    tally.differences.push(`${JSON.stringify(resource).slice(0, 400)}\n  medplum:  ${expected.slice(0, 600)}\n  compiled: ${actual.slice(0, 600)}`);
  }
  if (expected !== actual) tally.differences.length = Math.max(tally.differences.length, 1);
}

const newTally = (): Tally => ({ compared: 0, rejected: 0, fallbacks: 0, differences: [] });

describe('compiled validator = @medplum/core validator', () => {
  const valid = [...synthea(), ...(buildDemoBundle(50).entry ?? []).map((e) => e.resource!)];

  it('on every Synthea and demo resource', () => {
    const tally = newTally();
    for (const r of valid) compare(r, tally);
    expect(tally.differences).toEqual([]);
    expect(tally.compared).toBeGreaterThan(5000);
    expect(tally.fallbacks).toBe(0);
    console.log('valid data', { ...tally, differences: tally.differences.length });
  });

  it('on mutations of valid resources (wrong types, unknown properties, cardinality, formats, extensions, choice types, references, contained)', () => {
    const tally = newTally();
    const rnd = prng(19);
    // Every resource type in the data, several times each, plus a spread of the rest.
    const byType = new Map<string, Resource[]>();
    for (const r of valid) byType.set(r.resourceType, [...(byType.get(r.resourceType) ?? []), r]);
    const sample: Resource[] = [];
    // (Whole bundles are slow to validate twice: a few of them.)
    for (const [type, list] of byType)
      for (let i = 0; i < Math.min(list.length, type === 'Bundle' ? 3 : 40); i++) sample.push(list[Math.floor(rnd() * list.length)]);
    for (const r of sample) for (let k = 0; k < 12; k++) compare(mutate(r, rnd), tally);
    console.log('mutants', { ...tally, differences: tally.differences.length }, fallbackReasons);
    expect(tally.differences).toEqual([]);
    expect(tally.compared).toBeGreaterThan(5000);
    // Most mutants are invalid, and the compiled validator decides most of them itself.
    expect(tally.rejected).toBeGreaterThan(tally.compared * 0.4);
    expect(tally.fallbacks).toBeLessThan(tally.compared * 0.3);
  });

  it('on fuzzed resources and fuzzed values inside real ones', () => {
    const types = [...loadDefinitions()];
    const weird = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('', ' ', 'NaN', '1e309', '\u0000', 'Nguyễn', '2024-02-30'),
      fc.integer(),
      fc.boolean(),
    );
    const jsonish = resourceShaped(fc.constantFrom('Patient', 'Observation', 'Bundle', 'Consent', 'Encounter', ...types.slice(0, 20)), weird, {
      meta: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ lastUpdated: weird, versionId: weird })),
    });
    const tally = newTally();
    fc.assert(
      fc.property(jsonish, (r) => {
        compare(r as unknown as Resource, tally);
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
    );
    const rnd = prng(FUZZ_SEED + 7);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.nat(valid.length - 1), (v, i) => {
        compare(mutate(valid[i], rnd, v), tally);
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
    );
    console.log('fuzz', { ...tally, differences: tally.differences.length });
    expect(tally.differences).toEqual([]);
    expect(tally.compared).toBeGreaterThan(2500);
  });
});
