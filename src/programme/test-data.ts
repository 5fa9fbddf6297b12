/** Test data shared by the programme's tests: a complete declaration, and a CSV of n facilities with some bad lines. */
import type { DeclarationInput } from './contract.ts';

export const DECLARATION: DeclarationInput = {
  services: ['case-conference', 'remote-examination'],
  specialties: ['internal', 'pediatrics'],
  staff: [{ name: 'Giàng A Sử', qualification: 'BS', role: 'Bác sĩ phụ trách' }],
  rooms: 1,
  equipment: { camera: true, display: true, ultrasound: 'digital', xray: 'none' },
  connectivity: { type: '4g', downKbps: 12000, upKbps: 4000 },
  hours: 'Thứ Hai – Thứ Sáu, 7:30–17:00',
};

/** A CSV of n facilities in Lào Cai, with some bad lines; returns the text and the bad line numbers. */
export function facilityCsv(n: number, prefix = 'L'): { csv: string; bad: number[] } {
  const communes = [2647, 2671, 2680, 2683, 2686, 2695];
  const lines = ['code,name,level,owner,province_code,commune_code,phone,address'];
  const bad: number[] = [];
  for (let i = 0; i < n; i++) {
    const line = lines.length + 1;
    const code = `${prefix}${String(i).padStart(4, '0')}`;
    if (i % 1000 === 7) {
      bad.push(line);
      lines.push(`${code},Trạm Y tế số ${i},commune,public,15,3127,,`); // commune of another province
    } else if (i % 1000 === 8) {
      bad.push(line);
      lines.push(`${code}X,Trạm Y tế số ${i},commune,public,15,2683,,`); // 6-character code
    } else if (i % 1000 === 9) {
      bad.push(line);
      lines.push(`${code},Trạm Y tế số ${i},hamlet,public,15,2683,,`); // unknown level
    } else
      lines.push(
        `${code},"Trạm Y tế số ${i}, Lào Cai",commune,public,15,${communes[i % communes.length]},0214380${String(i % 1000).padStart(4, '0')},Thôn ${i}`,
      );
  }
  return { csv: lines.join('\n'), bad };
}
