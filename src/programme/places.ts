/**
 * Vietnam's post-2025 administrative units (34 provinces, 3,321 communes), from
 * data/terminology/vn-admin-units-2025.json (source and licence in that folder's README): lookups
 * by code for the facility register, the CSV import and the dashboard's place filter. Loaded once.
 */
import { readFileSync } from 'node:fs';

export interface Commune {
  code: number;
  name: string;
}
export interface Province {
  code: number;
  name: string;
  wards: Commune[];
}

const FILE = new URL('../../data/terminology/vn-admin-units-2025.json', import.meta.url);
let cache: { provinces: Province[]; byCode: Map<number, Province>; communes: Map<number, { province: Province; commune: Commune }> } | undefined;

function load() {
  if (!cache) {
    const provinces = JSON.parse(readFileSync(FILE, 'utf8')) as Province[];
    const communes = new Map<number, { province: Province; commune: Commune }>();
    for (const p of provinces) for (const w of p.wards) communes.set(w.code, { province: p, commune: w });
    cache = { provinces, byCode: new Map(provinces.map((p) => [p.code, p])), communes };
  }
  return cache;
}

export const provinces = (): Province[] => load().provinces;
export const province = (code: number): Province | undefined => load().byCode.get(code);
/** The commune with this code, if it lies in that province. */
export function communeIn(provinceCode: number, communeCode: number): Commune | undefined {
  const c = load().communes.get(communeCode);
  return c && c.province.code === provinceCode ? c.commune : undefined;
}
export function communeByName(provinceCode: number, name: string): Commune | undefined {
  return province(provinceCode)?.wards.find((w) => w.name === name);
}
