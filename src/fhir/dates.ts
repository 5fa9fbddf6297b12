/**
 * FHIR date/dateTime/instant values as inclusive ranges at the precision written:
 * "2020" is the whole year, "2020-03-05" the whole day, "2020-03-05T10:00:00Z" one second.
 * Values without a time zone are read as UTC, both when indexing and when searching, so the
 * two sides always agree. A value whose range, in UTC, leaves the years 0001–9999 (FHIR's years,
 * and what the database stores) is not a date here: "9999-12-31T23:59:59-12:00" is in year
 * 10000 in UTC, "0001-01-01T00:00+14:00" in year 0.
 */
export interface DateRange {
  low: Date;
  high: Date;
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function parseDateRange(text: string): DateRange | undefined {
  const m = DATE_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) : undefined;
  const day = d ? Number(d) : undefined;
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined && (day < 1 || day > daysInMonth(year, month!))) return undefined;
  if (h === undefined) {
    const low = utc(year, (month ?? 1) - 1, day ?? 1);
    let high: Date;
    if (day !== undefined) high = utc(year, month! - 1, day + 1);
    else if (month !== undefined) high = utc(year, month, 1);
    else high = utc(year + 1, 0, 1);
    return storable({ low, high: new Date(high.getTime() - 1) });
  }
  const hour = Number(h);
  const minute = Number(mi);
  const second = s ? Number(s) : 0;
  if (hour > 24 || minute > 59 || second > 60) return undefined;
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  let t = utc(year, month! - 1, day!).getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const [th, tm] = tz.slice(1).split(':').map(Number);
    t -= sign * (th * 60 + tm) * 60_000;
  }
  // Precision: minutes → the whole minute, seconds → the whole second, fractions → as given.
  const span = s === undefined ? 60_000 : frac ? 1 : 1000;
  return storable({ low: new Date(t), high: new Date(t + span - 1) });
}

/**
 * Whether `text` is a date here — exactly `parseDateRange(text) !== undefined`, without building
 * the range (validation asks this of every date in a resource). Between the years 0002 and 9998 no
 * time zone offset the pattern admits (at most ±99:99) can take the range out of 0001–9999, so only
 * the calendar and the clock are checked; the first and last years take the full parse.
 */
export function isDateValue(text: string): boolean {
  const m = DATE_RE.exec(text.trim());
  if (!m) return false;
  const [, y, mo, d, h, mi, s] = m;
  const year = Number(y);
  if (year <= 1 || year >= 9999) return parseDateRange(text) !== undefined;
  if (mo === undefined) return true;
  const month = Number(mo);
  if (month < 1 || month > 12) return false;
  if (d === undefined) return true;
  const day = Number(d);
  if (day < 1 || day > (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1])) return false;
  return h === undefined || (Number(h) <= 24 && Number(mi) <= 59 && (s === undefined || Number(s) <= 60));
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The proleptic Gregorian calendar's leap years (as Date's setUTCFullYear counts them). */
function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** 0001-01-01T00:00:00Z (Date.UTC reads years below 100 as 19xx, hence setUTCFullYear). */
const FIRST_MS = new Date(0).setUTCFullYear(1, 0, 1);
const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function storable(r: DateRange): DateRange | undefined {
  return r.low.getTime() >= FIRST_MS && r.high.getTime() <= LAST_MS ? r : undefined;
}

/** A UTC date from parts; setUTCFullYear keeps years below 100 as written and rolls over days/months. */
function utc(y: number, m: number, d: number): Date {
  const dt = new Date(0);
  dt.setUTCFullYear(y, m, d);
  return dt;
}

function daysInMonth(year: number, month: number): number {
  return utc(year, month, 0).getUTCDate();
}
