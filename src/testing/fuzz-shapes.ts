/**
 * Shared fast-check shapes for fuzz tests: something shaped like a FHIR resource (a resourceType and
 * the commonest elements) whose values are whatever `weird` produces, with nested JSON where a
 * structure belongs. Used by the input-edge fuzzing (src/auth/fuzz.test.ts) and the validator
 * equivalence test (src/fhir/validator.equivalence.test.ts).
 */
import fc from 'fast-check';

export function resourceShaped(
  resourceType: fc.Arbitrary<unknown>,
  weird: fc.Arbitrary<unknown>,
  extra: Record<string, fc.Arbitrary<unknown>> = {},
): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      resourceType,
      id: fc.oneof(weird, fc.integer()),
      name: fc.oneof(weird, fc.jsonValue({ maxDepth: 2 })),
      gender: weird,
      birthDate: weird,
      status: weird,
      entry: fc.jsonValue({ maxDepth: 3 }),
      type: weird,
      ...extra,
    },
    { requiredKeys: ['resourceType'] },
  );
}
