/**
 * Administrative codes of a place named in an address: the province (MATINH_CU_TRU, 2 digits)
 * and commune (MAXA_CU_TRU, 5 digits) of the 2025 two-level units, from the NSO list shipped in
 * data/terminology (vn-admin-units-2025.json), and the GSO ethnic-group code (MA_DANTOC) from
 * vn-ethnic-groups-54.csv. Names are matched without diacritics and case.
 *
 * Rules: pure lookups over files read once; an unknown name gives undefined (then listed as missing).
 */
import { readFileSync } from 'node:fs';

const norm = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/gi, 'd')
    .toLowerCase()
    .trim();

interface Unit {
  code: number;
  name: string;
  wards: { code: number; name: string }[];
}

let units: Map<string, { code: string; wards: Map<string, string> }> | undefined;
let ethnic: Map<string, string> | undefined;
/** Other spellings in use ("Mông" for the list's "Hmông"). */
const ALIASES: Record<string, string> = { mong: 'hmong', 'h mong': 'hmong', khmer: 'kho-me' };

function load() {
  if (units) return units;
  const data = JSON.parse(readFileSync(new URL('../../data/terminology/vn-admin-units-2025.json', import.meta.url), 'utf8')) as Unit[];
  units = new Map(
    data.map((p) => [
      norm(p.name),
      { code: String(p.code).padStart(2, '0'), wards: new Map(p.wards.map((w) => [norm(w.name), String(w.code).padStart(5, '0')])) },
    ]),
  );
  return units;
}

export function placeCodes(province?: string, commune?: string): { provinceCode?: string; communeCode?: string } {
  if (!province) return {};
  const p = load().get(norm(province));
  if (!p) return {};
  return { provinceCode: p.code, communeCode: commune ? p.wards.get(norm(commune)) : undefined };
}

/** GSO ethnic-group code, 2 digits, by name (e.g. "Kinh" → "01"). */
export function ethnicCode(name?: string): string | undefined {
  if (!name) return undefined;
  if (!ethnic) {
    const lines = readFileSync(new URL('../../data/terminology/vn-ethnic-groups-54.csv', import.meta.url), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    ethnic = new Map(lines.map((l) => l.split(',')).map(([code, n]) => [norm(n), code.padStart(2, '0')]));
  }
  const n = norm(name);
  return ethnic.get(n) ?? ethnic.get(ALIASES[n] ?? '');
}
