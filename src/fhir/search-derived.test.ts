/** The row-saving rules of search-derived.ts: union terms, derived parameters, duplicates, :contains rows. */
import { describe, expect, it } from 'vitest';
import { containsRows, dedupe, derivedParams, unionTerms } from './search-derived.ts';

const param = (id: number, code: string, expression: string, type = 'token', resourceType = 'Observation') => ({ id, resourceType, code, type, expression });

describe('search-derived', () => {
  it('flattens nested unions and leaves other expressions whole', () => {
    expect(unionTerms('((((O.value as Quantity) | (O.value as SampledData)) | (O.component.value as Quantity)) | (O.component.value as SampledData))')).toEqual(
      ['O.value as Quantity', 'O.value as SampledData', 'O.component.value as Quantity', 'O.component.value as SampledData'],
    );
    expect(unionTerms("O.code.where(system = 'a|b')")).toEqual(["O.code.where(system = 'a|b')"]);
    expect(unionTerms('(a.b) | (c.where(d | e))')).toEqual(['a.b', 'c.where(d | e)']);
  });

  it('derives a union of other parameters, and the second of two identical ones, but never a reference or a partial cover', () => {
    const d = derivedParams([
      param(1, 'code', 'Observation.code'),
      param(2, 'component-code', 'Observation.component.code'),
      param(3, 'combo-code', '(Observation.code | Observation.component.code)'),
      param(4, 'partial', '(Observation.code | Observation.method)'),
      param(5, 'phonetic', 'Patient.name', 'string', 'Patient'),
      param(6, 'name', 'Patient.name', 'string', 'Patient'),
      param(7, 'subject', 'Observation.subject', 'reference'),
      param(8, 'patient', 'Observation.subject', 'reference'),
      param(9, 'other-type', 'Observation.code', 'string'),
    ]);
    expect([...d].sort()).toEqual([
      [3, [1, 2]],
      [5, [6]],
    ]);
  });

  it('drops a resource’s identical rows, dates compared by instant', () => {
    const t = new Date('2020-01-01T00:00:00Z');
    expect(
      dedupe([
        { param: 1, low: t, high: t },
        { param: 1, low: new Date(t), high: new Date(t) },
        { param: 2, low: t, high: t },
      ]),
    ).toHaveLength(2);
  });

  it('keeps, per parameter with a trigram index, only the strings no longer string contains', () => {
    const rows = [
      { param: 1, norm: 'nguyen', exact: 'Nguyễn' },
      { param: 1, norm: 'van an', exact: 'Văn An' },
      { param: 1, norm: 'nguyen van an', exact: 'Nguyễn Văn An' },
      { param: 1, norm: 'van an nguyen', exact: 'Văn An Nguyễn' },
      { param: 1, norm: 'nguyen van an', exact: 'NGUYỄN VĂN AN' },
      { param: 2, norm: 'nguyen', exact: 'Nguyễn' },
      { param: 3, norm: 'ha noi', exact: 'Hà Nội' },
    ];
    expect(containsRows(rows, new Set([1, 2]))).toEqual([
      { param: 1, norm: 'nguyen van an' },
      { param: 1, norm: 'van an nguyen' },
      { param: 2, norm: 'nguyen' },
    ]);
  });
});
