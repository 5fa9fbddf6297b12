/**
 * Validation of input: a zod schema and a 400 problem that lists what is wrong (non-FHIR bodies), and
 * the one rule for text every store needs — well-formed Unicode (no lone surrogate, which has no
 * UTF-8 form and which PostgreSQL's jsonb refuses).
 */
import type { z } from 'zod';

/** A lone (unpaired) surrogate: with the `u` flag a well-formed pair is one code point and does not match. */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

/** Whether the text is well-formed Unicode (no lone surrogate). */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** The text with each lone surrogate replaced by U+FFFD (for quoting bad input back safely). */
export function wellFormedText(s: string): string {
  return s.replace(LONE_SURROGATES, '\uFFFD');
}

/** Whether any string or property name in a parsed JSON value holds a lone surrogate. */
export function holdsLoneSurrogate(value: unknown): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (!isWellFormedText(v)) return true;
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (!isWellFormedText(k)) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

export class InputError extends Error {
  readonly statusCode = 400;
}

/** Parses a body or query with the schema; throws InputError ("field: problem; …") when it does not fit. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new InputError(r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}
