/** The Vietnamese day of an instant, around the UTC day's end and across month and year ends. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isInstant, vietnamDay } from './vietnam-time.ts';

describe('vietnamDay', () => {
  it('moves to the next day at 17:00 UTC, across a month and a year', () => {
    expect(vietnamDay('2026-11-30T16:59:59Z')).toBe('2026-11-30');
    expect(vietnamDay('2026-11-30T17:00:00Z')).toBe('2026-12-01');
    expect(vietnamDay('2026-12-31T18:00:00Z')).toBe('2027-01-01');
    expect(vietnamDay('2027-01-01T06:59:59+07:00')).toBe('2027-01-01');
    expect(vietnamDay('2026-12-06')).toBe('2026-12-06');
  });

  it('reads a date-time without an offset as UTC, whatever the process time zone', () => {
    const tz = process.env.TZ;
    try {
      for (const zone of ['UTC', 'Asia/Ho_Chi_Minh', 'America/Los_Angeles']) {
        process.env.TZ = zone;
        expect(vietnamDay('2026-03-31T18:30:00')).toBe('2026-04-01');
        expect(vietnamDay('2026-03-31T16:59')).toBe('2026-03-31');
        expect(vietnamDay('2026-03-31T17:00:00.000')).toBe('2026-04-01');
      }
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('refuses what is not an instant or a real day', () => {
    for (const bad of ['2026-02-31', 'hôm qua', '2026-13-01T00:00:00Z', '', NaN]) {
      expect(() => vietnamDay(bad as string)).toThrow(RangeError);
      expect(isInstant(bad)).toBe(false);
    }
    expect(isInstant('2028-02-29')).toBe(true);
    expect(isInstant(undefined)).toBe(false);
  });

  it('agrees with the Asia/Ho_Chi_Minh calendar for any instant', () => {
    const tz = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' });
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) }), (ms) => {
        expect(vietnamDay(ms)).toBe(tz.format(new Date(ms)));
        expect(vietnamDay(new Date(ms))).toBe(tz.format(new Date(ms)));
      }),
      { numRuns: 2000 },
    );
  });
});
