import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDateValue, parseDateRange } from './dates.ts';

const iso = (s: string) => {
  const r = parseDateRange(s);
  return r && [r.low.toISOString(), r.high.toISOString()];
};

describe('FHIR dates as ranges', () => {
  it('covers the precision written', () => {
    expect(iso('2020')).toEqual(['2020-01-01T00:00:00.000Z', '2020-12-31T23:59:59.999Z']);
    expect(iso('2024-02')).toEqual(['2024-02-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z']);
    expect(iso('2023-02-28')).toEqual(['2023-02-28T00:00:00.000Z', '2023-02-28T23:59:59.999Z']);
    expect(iso('2020-03-05T10:00:00+07:00')).toEqual(['2020-03-05T03:00:00.000Z', '2020-03-05T03:00:00.999Z']);
    expect(iso('2020-03-05T10:00')).toEqual(['2020-03-05T10:00:00.000Z', '2020-03-05T10:00:59.999Z']);
    expect(iso('0050-06')).toEqual(['0050-06-01T00:00:00.000Z', '0050-06-30T23:59:59.999Z']);
  });
  it('refuses values outside the years 0001–9999 in UTC (the database cannot store them)', () => {
    for (const bad of ['9999-12-31T23:59:59-12:00', '9999-12-31T23:00-01:00', '0001-01-01T00:00:00+14:00', '0000', '0000-06-01']) {
      expect(parseDateRange(bad), bad).toBeUndefined();
    }
    expect(iso('9999-12-31T23:59:59Z')).toEqual(['9999-12-31T23:59:59.000Z', '9999-12-31T23:59:59.999Z']);
    expect(iso('9999')).toEqual(['9999-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']);
    expect(iso('0001-01-01T00:00:00Z')).toEqual(['0001-01-01T00:00:00.000Z', '0001-01-01T00:00:00.999Z']);
  });
  it('rejects impossible dates', () => {
    for (const bad of ['2023-02-29', '2020-13', '2020-00-10', '20', '2020-1-1', 'yesterday', '2020-01-01T25:00']) {
      expect(parseDateRange(bad), bad).toBeUndefined();
    }
  });
  it('isDateValue says exactly what parseDateRange does: every year on 29 February, and the years at the edges', () => {
    const same = (text: string) => expect(isDateValue(text), text).toBe(parseDateRange(text) !== undefined);
    for (let y = 0; y <= 9999; y++) {
      const year = String(y).padStart(4, '0');
      same(`${year}-02-29`);
      same(`${year}-02-29T12:00Z`);
    }
    for (const text of [
      '0001-01-01T00:00+14:00',
      '0001-01-01T00:00-14:00',
      '0001-01-01T00:00:00Z',
      '0002-01-01T00:00+99:99',
      '0002-01-01T00:00:00.5+99:99',
      '9998-12-31T24:59:60.9999-99:99',
      '9999-12-31T23:59-00:01',
      '9999-12-31T23:59:59+00:00',
      '9999-12-31T24:00Z',
      '0004-02-29',
      '0100-02-29',
      '0400-02-29',
      ' 2024-02-29 ',
      '2024-02-29T24:00',
      '2024-02-29T24:60',
      '2024-12-31T23:59:61Z',
    ])
      same(text);
  });
  it('isDateValue says exactly what parseDateRange does, on any text shaped like a date', () => {
    const digits = (n: number) => fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((a) => a.join(''));
    const part = (n: number, edge: string[]) => fc.oneof(digits(n), fc.constantFrom(...edge));
    const shaped = fc
      .tuple(
        part(4, ['0000', '0001', '0002', '0004', '0100', '0400', '1900', '2000', '2023', '2024', '9998', '9999']),
        part(2, ['00', '01', '02', '12', '13']),
        part(2, ['00', '01', '28', '29', '30', '31', '32']),
        part(2, ['00', '23', '24', '25']),
        part(2, ['00', '59', '60']),
        part(2, ['00', '59', '60', '61']),
        fc.constantFrom('', '.5', '.123456'),
        fc.constantFrom('', 'Z', '+07:00', '-12:00', '+14:00', '-14:00', '+99:99', '-99:99', '+00:30', '-00:01'),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom('', ' ', 'x'),
      )
      .map(([y, mo, d, h, mi, s, frac, tz, cut, pad]) => {
        const forms = [
          y,
          `${y}-${mo}`,
          `${y}-${mo}-${d}`,
          `${y}-${mo}-${d}T${h}:${mi}${tz}`,
          `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${tz}`,
          `${y}-${mo}-${d}T${h}`,
        ];
        return pad + forms[cut - 1] + (pad === 'x' ? '' : pad);
      });
    fc.assert(
      fc.property(fc.oneof(shaped, fc.string()), (text) => isDateValue(text) === (parseDateRange(text) !== undefined)),
      { numRuns: 20_000, seed: 19 },
    );
  });
});
