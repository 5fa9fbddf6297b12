/**
 * Việt Nam's calendar (UTC+7, no daylight saving): the day an instant falls on there. Days,
 * weeks and months that people see or that rules test ("an agreement in force today", "this
 * week's cases") are Vietnamese days, not UTC ones — between 17:00 and 24:00 UTC they differ.
 */

export const VIETNAM_OFFSET_MS = 7 * 3_600_000;

const BARE_DAY = /^\d{4}-\d{2}-\d{2}$/;
/** A date-time with no offset (FHIR instants have one; some dateTimes do not): read as UTC, as the database sessions and src/fhir/dates.ts read it. */
const NO_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** The instant of a value, offset-less date-times as UTC (never the process's own time zone). */
const instantOf = (at: string | number | Date) => new Date(typeof at === 'string' && NO_OFFSET.test(at) ? `${at}Z` : at);

/** A YYYY-MM-DD that names a real calendar day (not 2026-02-31). */
function isRealDay(day: string): boolean {
  const t = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === day;
}

/** Whether vietnamDay can take this value (a real instant, or a real calendar day). */
export function isInstant(at: unknown): at is string | number | Date {
  if (typeof at === 'string' && BARE_DAY.test(at)) return isRealDay(at);
  return (typeof at === 'string' || typeof at === 'number' || at instanceof Date) && !Number.isNaN(instantOf(at).getTime());
}

/**
 * The Vietnamese calendar day (YYYY-MM-DD) of an instant; a bare date (YYYY-MM-DD) is itself.
 * Anything else (2026-02-31, an unparseable text) is a RangeError: callers with untrusted input
 * check with `isInstant` first.
 */
export function vietnamDay(at: Date | string | number = Date.now()): string {
  if (!isInstant(at)) throw new RangeError(`not an instant or a calendar day: ${String(at)}`);
  if (typeof at === 'string' && BARE_DAY.test(at)) return at;
  return new Date(instantOf(at).getTime() + VIETNAM_OFFSET_MS).toISOString().slice(0, 10);
}
