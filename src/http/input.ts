/** Validation of non-FHIR input: a zod schema, and a 400 problem that lists what is wrong. */
import type { z } from 'zod';

export class InputError extends Error {
  readonly statusCode = 400;
}

/** Parses a body or query with the schema; throws InputError ("field: problem; …") when it does not fit. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new InputError(r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}
