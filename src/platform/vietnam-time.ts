/**
 * Việt Nam's calendar (UTC+7, no daylight saving): the day an instant falls on there. Days,
 * weeks and months that people see or that rules test ("an agreement in force today", "this
 * week's cases") are Vietnamese days, not UTC ones — between 17:00 and 24:00 UTC they differ.
 */

export const VIETNAM_OFFSET_MS = 7 * 3_600_000;

/** The Vietnamese calendar day (YYYY-MM-DD) of an instant; a bare date (YYYY-MM-DD) is itself. */
export function vietnamDay(at: Date | string | number = Date.now()): string {
  if (typeof at === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(at)) return at;
  return new Date(new Date(at).getTime() + VIETNAM_OFFSET_MS).toISOString().slice(0, 10);
}
