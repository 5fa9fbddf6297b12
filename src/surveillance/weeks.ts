/**
 * ISO weeks (Monday to Sunday; week 1 holds the year's first Thursday), the unit surveillance
 * counts in. A week is kept as the date of its Monday (YYYY-MM-DD); labels as 2026-W05. An instant
 * belongs to the week of its day in Việt Nam (a case at Monday 06:00 there is that Monday's week).
 */
import { vietnamDay } from '../platform/vietnam-time.ts';

const DAY = 86_400_000;

/** The Monday of the ISO week holding this instant (its day in Việt Nam) or date (YYYY-MM-DD). */
export function weekOf(t: string | Date): string {
  const day = Date.parse(`${vietnamDay(t)}T00:00:00Z`);
  const dow = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return new Date(day - dow * DAY).toISOString().slice(0, 10);
}

export function addWeeks(monday: string, n: number): string {
  return new Date(Date.parse(`${monday}T00:00:00Z`) + n * 7 * DAY).toISOString().slice(0, 10);
}

/** Whole weeks from a to b (both Mondays). */
export function weeksBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / (7 * DAY));
}

/** ISO year and week number of a Monday: 2026-W05. */
export function weekLabel(monday: string): string {
  const d = new Date(`${monday}T00:00:00Z`);
  const thursday = new Date(d.getTime() + 3 * DAY);
  const year = thursday.getUTCFullYear();
  const jan1 = Date.UTC(year, 0, 1);
  const n = Math.floor((thursday.getTime() - jan1) / DAY / 7) + 1;
  return `${year}-W${String(n).padStart(2, '0')}`;
}
