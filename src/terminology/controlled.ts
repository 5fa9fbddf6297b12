/**
 * Substances under special control (narcotics, psychotropics and precursors) and the prescription
 * kind each needs: the server refuses them on an ordinary prescription (src/visits/contract.ts),
 * and the prescribing form suggests the kind as soon as such a medicine is written
 * (web/src/pages/formats/PrescriptionKind.tsx). Pure data and string matching, no file or store,
 * so the web bundle imports it too.
 *
 * UNVERIFIED against the Ministry's own lists (Thông tư 20/2017/TT-BYT annexes), which are not in
 * this project's reference: these are the WHO ATC classes holding substances under international
 * control — opioid anaesthetics and analgesics, benzodiazepines and related hypnotics,
 * psychostimulants, drugs used in opioid dependence, barbiturates, clonazepam, ketamine. A class is
 * flagged whole, so a prescriber may be asked to confirm more often than the law strictly needs,
 * never less. The kind: opioids (the 1961 Single Convention's narcotic drugs) → "n"; the others
 * (the 1971 Convention's psychotropic substances, and ketamine) → "h". The kind is a suggestion the
 * prescriber may change between n and h; the server only refuses an uncontrolled kind.
 */
import { foldText } from '../fhir/normalize.ts';

/** Each controlled ATC class (a prefix of the substances' codes) and the prescription kind it suggests. */
export const CONTROLLED_CLASSES: readonly { atc: string; kind: 'n' | 'h' }[] = [
  { atc: 'N01AH', kind: 'n' }, // opioid anaesthetics
  { atc: 'N01AX03', kind: 'h' }, // ketamine
  { atc: 'N02A', kind: 'n' }, // opioids
  { atc: 'N03AA', kind: 'h' }, // barbiturates
  { atc: 'N03AE01', kind: 'h' }, // clonazepam
  { atc: 'N05BA', kind: 'h' }, // benzodiazepine anxiolytics
  { atc: 'N05CD', kind: 'h' }, // benzodiazepine hypnotics
  { atc: 'N05CF', kind: 'h' }, // benzodiazepine-related hypnotics (zolpidem, zopiclone)
  { atc: 'N06BA', kind: 'h' }, // centrally acting sympathomimetics
  { atc: 'N07BC', kind: 'n' }, // drugs used in opioid dependence (methadone, buprenorphine)
  { atc: 'R05DA', kind: 'n' }, // opium alkaloids as cough suppressants (codeine)
];

export const CONTROLLED_ATC: readonly string[] = CONTROLLED_CLASSES.map((c) => c.atc);

/**
 * Controlled substances named without a code, by INN as people write it (folded: no accents, lower
 * case) → their ATC class. UNVERIFIED as the classes are.
 */
const CONTROLLED_WORDS: [RegExp, string][] = [
  [/\b(morphin|pethidin|fentanyl|methadon|oxycodon|hydromorphon|tramadol|codein|buprenorphin)/, 'N02A'],
  [/\b(diazepam|alprazolam|lorazepam|bromazepam|clorazepat|clordiazepoxid|chlordiazepoxid)/, 'N05BA'],
  [/\b(midazolam|nitrazepam|flunitrazepam|triazolam|zolpidem|zopiclon)/, 'N05CD'],
  [/\b(clonazepam)/, 'N03AE01'],
  [/\b(ketamin)/, 'N01AX03'],
  [/\b(phenobarbital|gardenal)/, 'N03AA02'],
];

/** The controlled class an ATC code belongs to, if any. */
export function controlledClassOfAtc(atc: string): string | undefined {
  const code = atc.trim().toUpperCase();
  return code ? CONTROLLED_ATC.find((c) => code.startsWith(c)) : undefined;
}

/** The controlled class a medicine's name (free text) names, by the INNs above, if any. */
export function controlledClassOfName(name: string): string | undefined {
  const folded = foldText(name);
  if (!folded) return undefined;
  for (const [words, atcClass] of CONTROLLED_WORDS) if (words.test(folded)) return controlledClassOfAtc(atcClass);
  return undefined;
}

/** The prescription kind a controlled class suggests. */
export function controlledKindOf(atcClass: string): 'n' | 'h' {
  return CONTROLLED_CLASSES.find((c) => c.atc === atcClass)?.kind ?? 'h';
}
