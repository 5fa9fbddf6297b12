/**
 * The documented limits of one request (README "Limits"): above them the answer is an
 * OperationOutcome — 413 for "too much at once", 400 for a malformed shape — never a stall or a
 * 500. One place, so the docs, the capability statement and the tests read the same numbers.
 */
export const LIMITS = {
  /** Entries in one batch or transaction Bundle. */
  bundleEntries: 1000,
  /** _count of one search page. */
  searchCount: 1000,
  /** _include + _revinclude parameters in one search. */
  includeParams: 10,
  /** Resources added by includes to one page. */
  includedResources: 1000,
  /** Entries of one history page. */
  historyCount: 1000,
  /** Entries of one Patient/$everything page. */
  everythingCount: 5000,
  /** Nesting depth of a JSON request body (objects and arrays). A FHIR resource needs far fewer. */
  jsonDepth: 100,
  /** Characters in one search parameter value. */
  searchValueLength: 4000,
} as const;

/**
 * Fails (returns the depth found) when a JSON text nests objects/arrays deeper than `max`, before
 * JSON.parse builds it. Linear, no allocation; strings (and escapes in them) are skipped.
 */
export function jsonTooDeep(text: string, max: number = LIMITS.jsonDepth): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return undefined;
}
