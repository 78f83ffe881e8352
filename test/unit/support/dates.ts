/** Date arithmetic for the tests, independent of src/deid/dates.ts. */

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a YYYYMMDD string (proleptic Gregorian, any year 0000-9999). */
export function dayNumber(yyyymmdd: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(yyyymmdd);
  if (!m) throw new Error(`not YYYYMMDD: ${yyyymmdd}`);
  const d = new Date(0);
  d.setUTCFullYear(+m[1]!, +m[2]! - 1, +m[3]!);
  d.setUTCHours(0, 0, 0, 0);
  return Math.round(d.getTime() / DAY_MS);
}

/** b - a in days. */
export function daysBetween(a: string, b: string): number {
  return dayNumber(b) - dayNumber(a);
}

/** YYYYMMDD of a day number. */
export function fromDayNumber(n: number): string {
  const d = new Date(n * DAY_MS);
  return String(d.getUTCFullYear()).padStart(4, '0') + String(d.getUTCMonth() + 1).padStart(2, '0') + String(d.getUTCDate()).padStart(2, '0');
}
