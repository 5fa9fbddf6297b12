/**
 * De-identification of teaching cases against the demo data: for every demo patient, free text
 * that names them (in full, in lower case, in reverse order), their identifiers, phone, birth
 * date, address, another patient's name and exact dates is cleaned of all of it — checked against
 * the list of every demo patient's names — while the clinical content stays.
 */
import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildDemoBundle } from '../seed/demo.ts';
import { deidentify, identityOf, scrub } from './teaching.ts';

const patients = buildDemoBundle(50)
  .entry!.map((e) => e.resource)
  .filter((r): r is Patient => r?.resourceType === 'Patient');
const fullName = (p: Patient) => p.name![0].text!;
const ALL_NAMES = patients.map(fullName);

function noteAbout(p: Patient, other: Patient): string {
  const n = p.name![0];
  const [y, m, d] = p.birthDate!.split('-');
  return [
    `Bệnh nhân ${fullName(p)} (CCCD ${p.identifier![0].value}, thẻ BHYT ${p.identifier![1].value}), sinh ngày ${d}/${m}/${y} (${p.birthDate}).`,
    `Điện thoại ${p.telecom![0].value}. Địa chỉ: ${p.address![0].line![0]}, ${p.address![0].city}, ${p.address![0].state}.`,
    `Người nhà gọi là ${n.given!.join(' ')} ${n.family}; ghi chép cũ: ${fullName(p).toLowerCase()}. Con gái ${fullName(other)} đi cùng.`,
    `Khám ngày 12 tháng 3 năm 2025, tái khám 2025-04-09T08:00:00+07:00. Bệnh nhân nam, huyết áp 150/90 mmHg, đường huyết 7,2 mmol/L, an toàn để dùng thuốc.`,
  ].join(' ');
}

describe('teaching cases are de-identified (against every demo patient)', () => {
  it('has the demo patients to check against', () => {
    expect(patients.length).toBe(50);
  });

  it.each(patients.map((p, i) => [fullName(p), p, patients[(i + 7) % patients.length]] as const))('%s', (_name, p, other) => {
    const who = identityOf(p);
    const copy = deidentify(
      {
        ageBand: '40–49 tuổi',
        sex: p.gender,
        reason: [{ text: `Tăng huyết áp — ${fullName(p)}` }],
        summary: [{ title: 'Bệnh sử', text: noteAbout(p, other) }],
        conclusion: [{ title: `Kết luận cho ${fullName(p)}`, text: `Tiếp tục theo dõi tại ${p.address![0].city}. Hẹn 15/05/2025.` }],
      },
      who,
      '03/2025',
    );
    const text = JSON.stringify(copy);
    const lower = text.toLowerCase();
    for (const name of ALL_NAMES) expect(lower, name).not.toContain(name.toLowerCase());
    for (const part of [
      p.name![0].family!,
      ...p.name![0].given!.filter((g) => g.length > 1 && !['Văn', 'Thị', 'Minh', 'Thu', 'Thanh', 'Ngọc', 'Đức', 'Hữu', 'Quang', 'Công'].includes(g)),
    ])
      expect(text, part).not.toMatch(new RegExp(`(?<!\\p{L})${part}(?!\\p{L})`, 'u'));
    for (const id of p.identifier!) expect(text).not.toContain(id.value!);
    expect(text).not.toContain(p.telecom![0].value!);
    expect(text).not.toContain(p.birthDate!);
    expect(text).not.toContain(p.address![0].line![0]);
    expect(text).not.toContain(p.address![0].city!);
    // No date finer than the month.
    expect(text).not.toMatch(/\b\d{1,2}\/\d{1,2}\/\d{4}\b/);
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    expect(text).not.toMatch(/ngày \d{1,2} tháng/);
    // The clinical content stays, and ordinary words that are also names are left alone.
    expect(text).toContain('huyết áp 150/90 mmHg');
    expect(text).toContain('7,2 mmol/L');
    expect(text).toContain('Bệnh nhân nam');
    expect(text).toContain('an toàn');
    expect(text).toContain('05/2025');
  });

  it('keeps text without identity as it is', () => {
    const who = { names: [], identifiers: [], address: [] };
    expect(scrub('HA 170/100 mmHg, nhịp tim 88 lần/phút', who)).toBe('HA 170/100 mmHg, nhịp tim 88 lần/phút');
  });
});
