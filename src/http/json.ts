/** Values JSON has no type of its own for, written the way the contracts' answer types say. */

/** An instant as ISO 8601 text: what JSON.stringify makes of a Date, so the answer is unchanged. */
export function iso(d: Date | string): string {
  return new Date(d).toISOString();
}

/** The same for an instant that may be missing (SQL NULL stays null). */
export function isoOrNull(d: Date | string | null): string | null {
  return d === null ? null : iso(d);
}
