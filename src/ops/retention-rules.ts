/**
 * How long medical records are kept (Circular 33/2025), as data. The unit is a medical record of
 * one episode of care (an Encounter and the resources that name it); the personal health book is
 * the Patient resource itself.
 *   ordinary        10 years after the episode ended
 *   mental_health   20 years (ICD-10 F00–F99)
 *   accident        20 years (ICD-10 S00–T98 injuries, V01–Y98 external causes)
 *   death           30 years (the episode ended in death: dischargeDisposition `exp`)
 *   incident        permanently (a medical incident, an AdverseEvent, names the episode)
 *   health_book     10 years after the person's death (never while they live)
 * The longest applicable period wins. A deployment may lengthen any period (CAUYTE_RETENTION_RULES,
 * a JSON file of { "<class>": years }); shortening below the circular's minimum is refused.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const RETENTION_CLASSES = ['ordinary', 'mental_health', 'accident', 'death', 'incident', 'health_book'] as const;
export type RetentionClass = (typeof RETENTION_CLASSES)[number];

/** Years kept (null = permanently). health_book counts from the date of death. */
export type RetentionRules = Record<RetentionClass, number | null>;

export const CIRCULAR_33_2025: RetentionRules = {
  ordinary: 10,
  mental_health: 20,
  accident: 20,
  death: 30,
  incident: null,
  health_book: 10,
};

export const CLASS_LABELS: Record<RetentionClass, { vi: string; en: string }> = {
  ordinary: { vi: 'Hồ sơ bệnh án thông thường', en: 'Ordinary medical record' },
  mental_health: { vi: 'Hồ sơ bệnh án tâm thần', en: 'Mental health record' },
  accident: { vi: 'Hồ sơ bệnh án tai nạn', en: 'Accident record' },
  death: { vi: 'Hồ sơ bệnh án tử vong', en: 'Record of a death' },
  incident: { vi: 'Hồ sơ sự cố y khoa', en: 'Medical incident record' },
  health_book: { vi: 'Sổ sức khỏe điện tử', en: 'Personal health book' },
};

const overrides = z.partialRecord(z.enum(RETENTION_CLASSES), z.number().int().positive().nullable());

/** The rules in force: the circular's, lengthened by a deployment's file (never shortened). */
export function loadRetentionRules(file?: string): RetentionRules {
  const rules = { ...CIRCULAR_33_2025 };
  if (!file) return rules;
  const parsed = overrides.parse(JSON.parse(readFileSync(file, 'utf8')));
  for (const [cls, years] of Object.entries(parsed) as [RetentionClass, number | null][]) {
    const min = CIRCULAR_33_2025[cls];
    if (min === null && years !== null) throw new Error(`${cls} records are kept permanently (Circular 33/2025); ${file} may not give them ${years} years`);
    if (min !== null && years !== null && years < min)
      throw new Error(`${cls} records are kept at least ${min} years (Circular 33/2025); ${file} says ${years}`);
    rules[cls] = years;
  }
  return rules;
}

const icd = (code: string) => code.toUpperCase().replace(/[^A-Z0-9]/g, '');

/** The retention class an ICD-10 code asks for, if longer than ordinary. */
export function classOfIcd10(code: string): RetentionClass | undefined {
  const c = icd(code);
  if (/^F\d/.test(c)) return 'mental_health';
  if (/^[ST]\d/.test(c) || /^[VWXY]\d/.test(c)) return 'accident';
  return undefined;
}

/** The longest-kept of several classes. */
export function longest(classes: RetentionClass[], rules: RetentionRules): RetentionClass {
  let best: RetentionClass = 'ordinary';
  for (const c of classes) {
    const a = rules[c];
    const b = rules[best];
    if (a === null || (b !== null && a > b)) best = c;
  }
  return best;
}

/** The date until which a record is kept (undefined = permanently). */
export function keepUntil(from: Date, cls: RetentionClass, rules: RetentionRules): Date | undefined {
  const years = rules[cls];
  if (years === null) return undefined;
  const d = new Date(from);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
}
