/**
 * The ICD-10 picker: search by code or by Vietnamese name, accents optional
 * ("dai thao duong" finds "Bệnh đái tháo đường …"). Data: data/terminology/icd10-vi-subset.csv.
 */
import { readFileSync } from 'node:fs';
import { foldText } from '../fhir/normalize.ts';

export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';

export interface Icd10Entry {
  code: string;
  display: string;
}

let entries: (Icd10Entry & { folded: string })[] | undefined;

function load(): (Icd10Entry & { folded: string })[] {
  if (entries) return entries;
  const text = readFileSync(new URL('../../data/terminology/icd10-vi-subset.csv', import.meta.url), 'utf8');
  entries = text
    .split(/\r?\n/)
    .slice(1)
    .filter(Boolean)
    .map((line) => {
      const i = line.indexOf(',');
      const code = line.slice(0, i);
      const display = line.slice(i + 1);
      return { code, display, folded: foldText(`${code} ${display}`) };
    });
  return entries;
}

/** What people type → the classification's wording (both folded). */
const SYNONYMS: [RegExp, string][] = [
  [/\bung thu\b/g, 'u ac'],
  [/\bcao huyet ap\b/g, 'tang huyet ap'],
  [/\btieu duong\b/g, 'dai thao duong'],
  [/\bsot xuat huyet\b/g, 'dengue'],
  [/\bhen suyen\b/g, 'hen'],
  [/\bda day\b/g, 'da day'],
];

/** Codes first when the query looks like a code; otherwise every word must appear in the name. */
export function searchIcd10(query: string, limit = 20): Icd10Entry[] {
  let q = foldText(query);
  for (const [from, to] of SYNONYMS) q = q.replace(from, to);
  if (!q) return [];
  const words = q.split(' ');
  const all = load();
  const byCode = all.filter((e) => e.code.toLowerCase().startsWith(q));
  const byName = all.filter((e) => !byCode.includes(e) && words.every((w) => e.folded.includes(w)));
  return [...byCode, ...byName].slice(0, limit).map(({ code, display }) => ({ code, display }));
}

export function icd10Display(code: string): string | undefined {
  return load().find((e) => e.code === code.toUpperCase())?.display;
}
