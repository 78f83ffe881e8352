/**
 * Date shifting by whole days. Times of day are left alone, so every interval between two
 * events of one patient (in days, and in hours within DT values) is preserved exactly.
 */

const DAY_MS = 86_400_000;

/** Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear takes them as they are. */
function utcDate(y: number, m: number, d: number): Date {
  const dt = new Date(0);
  dt.setUTCFullYear(y, m - 1, d);
  return dt;
}

function shiftYmd(y: number, m: number, d: number, days: number): [number, number, number] {
  const dt = new Date(utcDate(y, m, d).getTime() + days * DAY_MS);
  const year = dt.getUTCFullYear();
  if (year < 0 || year > 9999) throw new NotADateError('the shifted date falls outside the years 0000-9999');
  return [year, dt.getUTCMonth() + 1, dt.getUTCDate()];
}

const p2 = (n: number) => String(n).padStart(2, '0');
const p4 = (n: number) => String(n).padStart(4, '0');

function validYmd(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  const dt = utcDate(y, m, d);
  return dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

/** Error for values that are not dates: the caller removes such values rather than keep them. */
export class NotADateError extends Error {
  override readonly name = 'NotADateError';
}

/**
 * Shifts one DA value: YYYYMMDD, or the ACR-NEMA form YYYY.MM.DD. Partial precision is not
 * defined for DA. Throws NotADateError for anything else.
 */
export function shiftDate(value: string, days: number): string {
  const v = value.trim();
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(v);
  if (!m) throw new NotADateError('not a DA value');
  const y = +m[1]!, mo = +m[2]!, d = +m[3]!;
  if (!validYmd(y, mo, d)) throw new NotADateError('not a calendar date');
  const [ny, nm, nd] = shiftYmd(y, mo, d, days);
  return `${p4(ny)}${p2(nm)}${p2(nd)}`;
}

/**
 * Shifts one DT value (YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&ZZXX]). A value with a full date keeps
 * its time and offset; a year-month or year-only value is shifted via its first day, keeping
 * its precision.
 */
export function shiftDateTime(value: string, days: number): string {
  const v = value.trim();
  const m = /^(\d{4})(\d{2})?(\d{2})?(.*)$/.exec(v);
  if (!m) throw new NotADateError('not a DT value');
  const rest = m[4]!;
  // Hours 00-23, minutes 00-59, seconds 00-60 (a leap second), offset -1200..+1400.
  const time = /^(?:([01]\d|2[0-3])(?:([0-5]\d)(?:([0-5]\d|60)(?:\.\d{1,6})?)?)?)?(?:([+-])(\d{2})([0-5]\d))?$/.exec(rest);
  if (!time) throw new NotADateError('not a DT value');
  if (time[4] && (+time[5]! > 14 || (time[4] === '-' && +time[5]! > 12))) throw new NotADateError('not a UTC offset');
  const y = +m[1]!;
  const mo = m[2] ? +m[2] : 1;
  const d = m[3] ? +m[3] : 1;
  if (!validYmd(y, mo, d)) throw new NotADateError('not a calendar date');
  const [ny, nm, nd] = shiftYmd(y, mo, d, days);
  if (!m[2]) return p4(ny) + rest;
  if (!m[3]) return p4(ny) + p2(nm) + rest;
  return p4(ny) + p2(nm) + p2(nd) + rest;
}

/** Shifts every value of a multi-valued DA or DT string; range queries ("a-b") shift both ends. */
export function shiftMultiValue(value: string, days: number, vr: 'DA' | 'DT'): string {
  const one = vr === 'DA' ? shiftDate : shiftDateTime;
  return value
    .split('\\')
    .map((v) => {
      if (v.trim() === '') return v;
      if (vr === 'DA' && v.includes('-')) return v.split('-').map((p) => (p.trim() ? one(p, days) : p)).join('-');
      return one(v, days);
    })
    .join('\\');
}
