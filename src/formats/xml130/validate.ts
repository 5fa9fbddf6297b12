/**
 * Checks a table's rows against its column spec (spec.ts) before anything is signed: every
 * required (`x`) column present, S columns within their length, N columns numeric within their
 * digits, dates in yyyyMMddHHmm / yyyyMMdd (and real calendar dates), no column the spec lacks.
 *
 * Rules: pure. Returns every problem (never stops at the first), each naming table, row and
 * column, so a visit that cannot be sent is listed with all that is missing.
 */
import type { Column, TableSpec } from './spec.ts';

export type Row = Record<string, string>;

export interface Problem {
  table: string;
  row: number;
  column: string;
  problem: 'missing' | 'too-long' | 'not-a-number' | 'bad-format' | 'unknown-column';
  detail?: string;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

function realDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** yyyyMMddHHmm; unknown parts of a birth date may be 0000/00 (QĐ 130: "unknown parts = 0000"). */
export function isTimestamp(v: string, allowUnknown = false): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(v);
  if (!m) return false;
  const [y, mo, d, h, mi] = m.slice(1).map(Number);
  if (h > 23 || mi > 59) return false;
  if (allowUnknown && (mo === 0 || d === 0)) return mo <= 12 && d <= 31;
  return realDate(y, mo, d);
}

export function isDate(v: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(v);
  return !!m && realDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

export function checkValue(c: Column, v: string): Problem['problem'] | undefined {
  if (c.type === 'N') {
    if (!NUMBER.test(v)) return 'not-a-number';
    if (c.max && v.replace(/[-.]/g, '').length > c.max) return 'too-long';
  } else if (c.max && [...v].length > c.max) return 'too-long';
  if (c.format === 'T' && !isTimestamp(v, c.name === 'NGAY_SINH')) return 'bad-format';
  if (c.format === 'D' && !isDate(v)) return 'bad-format';
  if (c.format === 'DL' && !v.split(';').every(isDate)) return 'bad-format';
  return undefined;
}

/** `waived`: required columns that cannot apply (e.g. MAHUYEN_CU_TRU after districts were abolished), each documented where it is waived. */
export function validateRows(spec: TableSpec, rows: Row[], waived: ReadonlySet<string> = new Set()): Problem[] {
  const out: Problem[] = [];
  const known = new Set(spec.columns.map((c) => c.name));
  rows.forEach((row, i) => {
    for (const c of spec.columns) {
      const v = row[c.name];
      if (v === undefined || v === '') {
        if (c.req === 'x' && !waived.has(c.name)) out.push({ table: spec.kind, row: i + 1, column: c.name, problem: 'missing' });
        continue;
      }
      const p = checkValue(c, v);
      if (p) out.push({ table: spec.kind, row: i + 1, column: c.name, problem: p, detail: p === 'too-long' ? `max ${c.max}` : c.format });
    }
    for (const k of Object.keys(row)) if (!known.has(k)) out.push({ table: spec.kind, row: i + 1, column: k, problem: 'unknown-column' });
  });
  return out;
}
