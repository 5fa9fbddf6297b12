/** Surveillance weeks are Vietnamese weeks: Monday 00:00 in Việt Nam starts a new one. */
import { describe, expect, it } from 'vitest';
import { addWeeks, weekLabel, weekOf } from './weeks.ts';

describe('weekOf', () => {
  it('puts a case at Monday 06:00 in Việt Nam (Sunday 23:00 UTC) in that Monday’s week', () => {
    expect(weekOf('2026-11-29T23:00:00Z')).toBe('2026-11-30');
    expect(weekOf('2026-11-30T06:00:00+07:00')).toBe('2026-11-30');
    expect(weekOf('2026-11-29T16:59:59Z')).toBe('2026-11-23');
    expect(weekOf('2026-11-29')).toBe('2026-11-23');
    expect(weekOf(new Date('2026-12-06T16:00:00Z'))).toBe('2026-11-30');
    expect(weekOf(new Date('2026-12-06T17:00:00Z'))).toBe('2026-12-07');
  });

  it('labels ISO weeks across a year end', () => {
    expect(weekLabel(weekOf('2026-12-31T18:00:00Z'))).toBe('2026-W53');
    expect(weekLabel(addWeeks('2026-12-28', 1))).toBe('2027-W01');
  });
});
