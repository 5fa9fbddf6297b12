import { describe, expect, it } from 'vitest';
import { parseDateRange } from './dates.ts';

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
  it('rejects impossible dates', () => {
    for (const bad of ['2023-02-29', '2020-13', '2020-00-10', '20', '2020-1-1', 'yesterday', '2020-01-01T25:00']) {
      expect(parseDateRange(bad), bad).toBeUndefined();
    }
  });
});
