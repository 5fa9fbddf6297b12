/**
 * What one finished visit says, in the words the insurance tables need: a plain object gathered
 * from the record (gather.ts) and turned into rows (rows.ts). Kept separate so building and
 * signing can be tested and measured without a database.
 *
 * Rules: types only, plus the small pure helpers every table uses (Việt Nam local time formats,
 * money, the benefit level a card's digit gives).
 */

export interface ClaimFacts {
  /** MA_LK: the visit key linking every table (the Appointment id). */
  visitKey: string;
  /** MA_HSBA: the outpatient sheet number (the Encounter id). */
  recordNo: string;
  facility: { code?: string; name: string; departmentCode?: string; headInsuranceNo?: string; provinceCode?: string };
  patient: {
    id: string;
    name: string;
    cccd?: string;
    birthDate?: string;
    /** FHIR gender. */
    gender?: string;
    nationality?: string;
    ethnicity?: string;
    occupation?: string;
    address?: string;
    provinceCode?: string;
    communeCode?: string;
    phone?: string;
    weightKg?: number;
  };
  /** The BHYT card the visit was billed to (absent for a self-paid visit). */
  card?: { number: string; registeredFacility?: string; validFrom?: string; validTo?: string };
  /** MA_DOITUONG_KCB, when it can be decided (gather.ts). */
  subjectCode?: string;
  /** ISO instants. */
  start: string;
  end: string;
  reason: string;
  diagnosis: { code: string; display?: string };
  conclusion: string;
  advice?: string;
  /** Re-examination date (yyyy-mm-dd) when the visit set a follow-up. */
  followUp?: string;
  practitioner: { licence?: string; name?: string };
  service: { code?: string; name: string; price: number; inList: boolean; insured: boolean };
  medicines: Medicine[];
  /** A referral written at this visit (XML13). Remote visits do not refer yet: set by callers that do. */
  referral?: Referral;
  /**
   * The receiving (hub) facility's part of a concluded case conference (gather-consult.ts): the
   * consultation is the one XML3 service, performed by the specialists who signed the conclusion.
   */
  consult?: { performers: string[]; requestingFacilityCode?: string };
  /** What the record lacks that no column's validation can see (e.g. a price never configured): listed with the rest. */
  gaps?: { table: string; row: number; column: string; problem: 'missing'; detail?: string }[];
}

export interface Medicine {
  name: string;
  /** Active-ingredient code (MA_THUOC) from the facility's formulary. */
  activeCode?: string;
  registration?: string;
  unit: string;
  strength?: string;
  routeCode?: string;
  form?: string;
  dose: string;
  quantity: number;
  /** Unit price from the facility's formulary; absent = not dispensed and billed by the facility. */
  price?: number;
  orderedAt: string;
  /** Prescribed by a remote consulting facility (hội chẩn từ xa): its code and doctor's licence. */
  remote?: { facilityCode: string; licence: string };
}

export interface Referral {
  number: string;
  toFacility: string;
  reasonCode: '1' | '2' | '3';
  signs: string;
  course: string;
  results: string;
  direction: string;
  transport: string;
  /** 2 = clinical transfer, 5 = transfer on request. */
  kind: '2' | '5';
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** An instant in Việt Nam time (UTC+7, no daylight saving) as yyyyMMddHHmm. */
export function vnTimestamp(iso: string): string {
  const d = new Date(new Date(iso).getTime() + 7 * 3_600_000);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
}

/** yyyy-mm-dd (or an instant, taken in Việt Nam time) as yyyyMMdd. */
export function vnDate(v: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(v) ? v.replace(/-/g, '') : vnTimestamp(v).slice(0, 8);
}

/** A birth date (yyyy, yyyy-mm or yyyy-mm-dd) as yyyyMMddHHmm with unknown parts 0 (QĐ 130). */
export function birthTimestamp(birthDate: string): string {
  const [y, m = '00', d = '00'] = birthDate.split('-');
  return `${y}${m}${d}0000`;
}

/** Money in VND as the tables write it: "." decimal, at most 2 places, no grouping. */
export function money(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/**
 * Benefit level (MUC_HUONG) from the card's benefit digit (3rd character): 1, 2, 5 → 100; 3 → 95;
 * 4 → 80. [U] general knowledge of the card layout (docs/national-formats.md §1.5), not from the
 * decision; the 15%-of-base-salary and commune-station 100% rules are not applied here.
 */
export function benefitLevel(card: string): number | undefined {
  return ({ '1': 100, '2': 100, '3': 95, '4': 80, '5': 100 } as Record<string, number>)[card[2]];
}
