/**
 * `npm run bench -- --suite validate`: per-resource structure validation of the Synthea resources,
 * the compiled validator (src/fhir/validator-run.ts) against @medplum/core's validator, rounds
 * interleaved (A B A B …), medians with their spread. Also the whole write-path check
 * (assertValidResource: structure + bindings + calendar dates + Vietnamese identifiers) with the
 * compiled validator, to show what is left. No database; nothing asserted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../src/fhir/definitions.ts';
import { assertValidResource, medplumStructureIssues, structureIssues, validationStats } from '../src/fhir/validate.ts';
import { fmt, interleaved, log, rows, spread } from './lib.ts';

export async function benchValidate(quick: boolean): Promise<void> {
  const dir = new URL('../test/fixtures/synthea-r4/', import.meta.url);
  const resources: Resource[] = [];
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    for (const e of (JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Bundle).entry ?? []) resources.push(e.resource!);
  }
  loadDefinitions();
  const rounds = quick ? 5 : 9;
  const usPerResource = (fn: (r: Resource) => unknown) => async () => {
    const t0 = performance.now();
    for (const r of resources) fn(r);
    return ((performance.now() - t0) * 1000) / resources.length;
  };
  const before = validationStats();
  const r = await interleaved(rounds, usPerResource(medplumStructureIssues), usPerResource(structureIssues));
  const after = validationStats();
  const fallbacks = after.fallbacks - before.fallbacks;
  rows.push({
    benchmark: `structure validation of the Synthea resources (${fmt(resources.length)} per round)`,
    db: '-',
    value: spread(r.b, 1),
    unit: 'µs/resource (compiled)',
    baseline: `@medplum/core validator ${spread(r.a, 1)} µs/resource`,
    ratio: `${spread(r.ratios, 1)}× faster`,
    note: `${rounds} rounds each side, alternating; ${fallbacks} fallbacks to @medplum/core in ${fmt(after.compiled - before.compiled + fallbacks)} validations`,
  });
  log(`validate: compiled ${spread(r.b, 1)} µs, medplum ${spread(r.a, 1)} µs, speed-up ${spread(r.ratios, 1)}×, fallbacks ${fallbacks}`);
  const whole = await interleaved(
    rounds,
    usPerResource((res) => assertValidResource(res)),
    usPerResource(structureIssues),
  );
  rows.push({
    benchmark: 'the whole write-path check (assertValidResource) with the compiled validator',
    db: '-',
    value: spread(whole.a, 1),
    unit: 'µs/resource',
    baseline: `its structure part ${spread(whole.b, 1)} µs`,
    ratio: spread(whole.ratios, 2),
    note: 'the rest: required bindings, calendar dates, Vietnamese identifiers',
  });
}
