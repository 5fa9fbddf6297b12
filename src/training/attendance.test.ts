/** The time a person was present: overlapping stays merged, clipped to the session as held. */
import { describe, expect, it } from 'vitest';
import { coveredMinutes } from './attendance.ts';

const m = (x: number) => x * 60_000;

describe('coveredMinutes', () => {
  it('merges overlapping and touching stays and clips them to the session', () => {
    expect(coveredMinutes([[m(0), m(10)]], m(0), m(60))).toBe(10);
    expect(
      coveredMinutes(
        [
          [m(5), m(20)],
          [m(10), m(30)],
          [m(30), m(35)],
        ],
        m(0),
        m(60),
      ),
    ).toBe(30);
    expect(coveredMinutes([[m(-10), m(10)]], m(0), m(60))).toBe(10);
    expect(coveredMinutes([[m(50), m(90)]], m(0), m(60))).toBe(10);
    expect(
      coveredMinutes(
        [
          [m(0), m(5)],
          [m(40), m(45)],
        ],
        m(0),
        m(60),
      ),
    ).toBe(10);
    expect(coveredMinutes([], m(0), m(60))).toBe(0);
  });
});
