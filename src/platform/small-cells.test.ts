/** Small-cell protection: properties over random breakdowns (fast-check). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hiddenParts, SMALL_CELL } from './small-cells.ts';

describe('small-cell protection', () => {
  it('hides every count of 1–4; what is hidden is never one cell alone nor under 5 together, unless nothing is left to hide', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 40 }), { maxLength: 12 }), fc.boolean(), (parts, zeroIsSmall) => {
        const hidden = hiddenParts(parts, { zeroIsSmall });
        parts.forEach((n, i) => {
          if (n > 0 && n < SMALL_CELL) expect(hidden[i]).toBe(true);
          if (n === 0) expect(hidden[i]).toBe(zeroIsSmall);
        });
        const count = hidden.filter(Boolean).length;
        const sum = parts.reduce((a, n, i) => a + (hidden[i] ? n : 0), 0);
        const leftToHide = parts.some((n, i) => !hidden[i] && n > 0);
        if (count > 0 && leftToHide) expect(count >= 2 && sum >= SMALL_CELL).toBe(true);
      }),
    );
  });

  it('leaves a breakdown of large counts alone', () => {
    expect(hiddenParts([12, 30, 7])).toEqual([false, false, false]);
    expect(hiddenParts([12, 3, 7])).toEqual([false, true, true]);
  });
});
