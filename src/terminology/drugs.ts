/**
 * The drug dictionary for prescribing: common medicines with Vietnamese generic names and WHO ATC
 * codes (data/drugs/vn-drugs-atc.csv, source and licence in data/drugs/README.md). Search by name
 * (accents optional) or by ATC code; look up one code; name the ATC group a code belongs to.
 * Pure data, loaded once; no store.
 */
import { readFileSync } from 'node:fs';
import { foldText } from '../fhir/normalize.ts';
import { controlledClassOfAtc, controlledClassOfName } from './controlled.ts';

export const ATC_SYSTEM = 'http://www.whocc.no/atc';

export interface DrugEntry {
  /** The substance's ATC code (level 5, or level 4 where the list holds a group). */
  atc: string;
  /** Vietnamese generic name. */
  name: string;
  /** English INN. */
  inn: string;
  /** Usual strengths and forms, separated by "; ". */
  forms: string;
  /** The therapeutic group's ATC code and Vietnamese name. */
  group: string;
  groupName: string;
}

let entries: (DrugEntry & { folded: string })[] | undefined;

function load(): (DrugEntry & { folded: string })[] {
  if (entries) return entries;
  const text = readFileSync(new URL('../../data/drugs/vn-drugs-atc.csv', import.meta.url), 'utf8');
  entries = text
    .split(/\r?\n/)
    .slice(1)
    .filter(Boolean)
    .map((line) => {
      const [atc, name, inn, forms, group, groupName] = line.split(',');
      return { atc, name, inn, forms, group, groupName, folded: foldText(`${atc} ${name} ${inn} ${groupName}`) };
    });
  return entries;
}

const strip = ({ folded: _folded, ...e }: DrugEntry & { folded: string }): DrugEntry => e;

/** Code first when the query looks like an ATC code; otherwise every word in the name, INN or group. */
export function searchDrugs(query: string, limit = 20): DrugEntry[] {
  const q = foldText(query);
  if (!q) return [];
  const all = load();
  const code = q.toUpperCase();
  const byCode = /^[A-Z]\d/.test(code) ? all.filter((e) => e.atc.startsWith(code)) : [];
  const words = q.split(' ');
  const byName = all.filter((e) => !byCode.includes(e) && words.every((w) => e.folded.includes(w)));
  // Names that start with the query before those that only contain it.
  byName.sort((a, b) => Number(foldText(b.name).startsWith(q)) - Number(foldText(a.name).startsWith(q)));
  return [...byCode, ...byName].slice(0, limit).map(strip);
}

export function drugByAtc(atc: string): DrugEntry | undefined {
  const e = load().find((x) => x.atc === atc.toUpperCase());
  return e && strip(e);
}

/** The Vietnamese name of an ATC group (e.g. J01C), when one of our drugs belongs to it. */
export function atcGroupName(code: string): string | undefined {
  return load().find((x) => x.group === code.toUpperCase())?.groupName;
}

/**
 * Words people write in an allergy's free text → the ATC codes they mean (folded, no accents).
 * A recorded allergy without a code is still matched through these and through drug names.
 */
export const ALLERGY_WORDS: [RegExp, string[]][] = [
  [/\bpenicill?in|\bbeta[- ]?lactam/, ['J01C']],
  [/\bcephalosporin|\bcefa|\bcefu|\bceft/, ['J01D']],
  [/\bsulfa|\bsulfonamid|\bcotrimoxazol|\bbactrim/, ['J01E']],
  [/\baspirin|\bacid acetylsalicylic/, ['N02BA01', 'B01AC06']],
  [/\bnsaid|\bchong viem khong steroid/, ['M01A']],
  [/\bmacrolid/, ['J01F']],
  [/\bquinolon/, ['J01M']],
];

/** The ATC codes an allergy's free text names (a class or a substance from the dictionary). */
export function atcCodesInText(text: string): string[] {
  const t = foldText(text);
  if (!t) return [];
  const out = new Set<string>();
  for (const [re, codes] of ALLERGY_WORDS) if (re.test(t)) for (const c of codes) out.add(c);
  for (const e of load()) {
    const names = [foldText(e.name.replace(/\(.*\)/, '')), foldText(e.inn)];
    if (names.some((n) => n.length >= 4 && t.includes(n))) out.add(e.atc);
  }
  return [...out];
}

/** The controlled ATC class of a prescribed item (by its ATC code, or its name in the dictionary), if any. */
export function controlledClassOf(item: { name: string; atc?: string }): string | undefined {
  if (item.atc) {
    const c = controlledClassOfAtc(item.atc);
    if (c) return c;
  }
  // A name written without a code: a controlled substance's INN, or the dictionary entry whose
  // Vietnamese name or INN it starts with.
  const name = foldText(item.name);
  if (!name) return undefined;
  const byName = controlledClassOfName(item.name);
  if (byName) return byName;
  for (const e of load()) {
    const c = controlledClassOfAtc(e.atc);
    if (c && [foldText(e.name), foldText(e.inn)].some((n) => n && (name === n || name.startsWith(`${n} `)))) return c;
  }
  return undefined;
}
