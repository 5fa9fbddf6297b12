import { describe, expect, it } from 'vitest';
import { checkBhyt, checkCccd } from './identifiers.ts';

describe('CCCD (citizen identity number)', () => {
  it('accepts a number that agrees with birth year and sex', () => {
    expect(checkCccd('001090123456', { birthDate: '1990-04-01', gender: 'male' })).toBeUndefined();
    expect(checkCccd('079305000001', { birthDate: '2005-01-01', gender: 'female' })).toBeUndefined();
  });
  it('names the rule that fails', () => {
    expect(checkCccd('00109012345')).toMatch(/12 chữ số/);
    expect(checkCccd('00109012345a')).toMatch(/12 chữ số/);
    expect(checkCccd('003090123456')).toMatch(/Mã tỉnh/); // 003 is not a province code
    expect(checkCccd('099090123456')).toMatch(/Mã tỉnh/);
    expect(checkCccd('001090123456', { birthDate: '1991-04-01' })).toMatch(/năm sinh 1990/);
    expect(checkCccd('001290123456', { birthDate: '1990-04-01' })).toMatch(/năm sinh 2090/);
    expect(checkCccd('001190123456', { birthDate: '1990-04-01', gender: 'male' })).toMatch(/giới tính nữ/);
  });
  it('does not guess sex for other/unknown gender', () => {
    expect(checkCccd('001190123456', { gender: 'unknown' })).toBeUndefined();
  });
});

describe('BHYT (health-insurance card number)', () => {
  it('accepts the 15-character format with a real province code', () => {
    expect(checkBhyt('DN4790123456789')).toBeUndefined();
    expect(checkBhyt('CA5980000000001')).toBeUndefined(); // police social insurance (98)
  });
  it('rejects wrong shapes, benefit levels and provinces', () => {
    expect(checkBhyt('dn4790123456789')).toMatch(/2 chữ cái/);
    expect(checkBhyt('DN6790123456789')).toMatch(/mức hưởng 1–5/);
    expect(checkBhyt('DN479012345678')).toMatch(/BHYT/);
    expect(checkBhyt('DN4990123456789')).toMatch(/Mã tỉnh "99"/);
  });
});
