/**
 * One reading's checks (readings.ts checkReading), without a broker: a unit named after a
 * JavaScript object member (constructor, toString, __proto__…) is a wrong unit like any other —
 * never a crash that takes the whole ingest batch down, never a unit that passes the range check.
 */
import { describe, expect, it } from 'vitest';
import { checkReading } from './readings.ts';

const MEMBER_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf'];

describe('checkReading', () => {
  it('refuses units named after object members with a readable message, for every reading type', () => {
    for (const unit of MEMBER_NAMES) {
      for (const type of ['hr', 'spo2', 'glucose', 'temp', 'weight'] as const) {
        const result = checkReading({ type, value: 5, unit });
        expect('problems' in result, `${type} in ${unit}`).toBe(true);
        if ('problems' in result) expect(result.problems[0]).toMatch(/wrong unit/);
      }
    }
  });

  it('still accepts the real units', () => {
    expect('observation' in checkReading({ type: 'glucose', value: 6.1, unit: 'mmol/L' })).toBe(true);
    expect('observation' in checkReading({ type: 'hr', value: 72, unit: '/min' })).toBe(true);
  });
});
