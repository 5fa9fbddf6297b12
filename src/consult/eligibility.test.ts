/** The Circular 30/2023 list as shipped: its rows parse, its code notations are read, eligible and ineligible conditions are decided with the list's version. */
import { describe, expect, it } from 'vitest';
import { decide, matches, parseCodes, shippedList, SHIPPED_SOURCE } from './eligibility.ts';

describe('Circular 30/2023 eligibility list', () => {
  const list = shippedList();

  it('ships with its source named and every row parsed', () => {
    expect(SHIPPED_SOURCE).toMatch(/Thông tư 30\/2023\/TT-BYT/);
    expect(list.entries.length).toBeGreaterThanOrEqual(45);
    for (const e of list.entries) expect(e.patterns.length, e.icd10).toBeGreaterThan(0);
    expect(list.entries.filter((e) => e.confidence === 'verified').map((e) => e.icd10)).toEqual(['E66', 'J00', 'J31.1', 'K12.0', 'K14.1', 'K06.9', 'M25.5']);
  });

  it('reads the code notations of the annex', () => {
    expect(parseCodes('E10.9-E14.9')).toEqual([{ kind: 'range', from: 'E10', to: 'E14', sub: '9' }]);
    expect(parseCodes('L01; L02; L66').map((p) => (p.kind === 'code' ? p.code : ''))).toEqual(['L01', 'L02', 'L66']);
    expect(parseCodes('Z76.0 + A15-A19')).toEqual([
      { kind: 'code', code: 'Z76.0' },
      { kind: 'range', from: 'A15', to: 'A19' },
    ]);
    expect(parseCodes('M05.0 (check: M05/M06)')).toEqual([{ kind: 'code', code: 'M05.0' }]);
    expect(matches({ kind: 'code', code: 'E66' }, 'E66.9')).toBe(true);
    expect(matches({ kind: 'code', code: 'E66' }, 'E660')).toBe(false);
    expect(matches({ kind: 'range', from: 'E10', to: 'E14', sub: '9' }, 'E11.9')).toBe(true);
    expect(matches({ kind: 'range', from: 'E10', to: 'E14', sub: '9' }, 'E11.6')).toBe(false);
  });

  it('decides eligible cases, with confirmation only for verified rows', () => {
    const obesity = decide(list, 'E66.0');
    expect(obesity).toMatchObject({ eligible: true, confirmed: true, listVersion: list.version });
    expect(obesity.entry?.condition).toBe('Béo phì');
    const rhinitis = decide(list, 'j00');
    expect(rhinitis.eligible && rhinitis.confirmed).toBe(true);
    const hypertension = decide(list, 'I10');
    expect(hypertension).toMatchObject({ eligible: true, confirmed: false });
    expect(hypertension.reason).toMatch(/chưa xác minh/);
    expect(decide(list, 'E11.9').eligible).toBe(true);
  });

  it('refuses ineligible cases with a reason and the list version', () => {
    const stroke = decide(list, 'I63.9'); // cerebral infarction: never remote
    expect(stroke.eligible).toBe(false);
    expect(stroke.reason).toMatch(/không thuộc danh mục/);
    expect(stroke.reason).toContain(list.version);
    expect(decide(list, 'E11.6').eligible).toBe(false); // diabetes with complications is not in E10.9–E14.9
    expect(decide(list, 'C50.9').eligible).toBe(false); // active breast cancer
    expect(decide(list, 'banana').reason).toMatch(/không phải mã ICD-10/);
  });
});
