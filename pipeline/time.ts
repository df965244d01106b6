/**
 * Timestamps: milliseconds since the epoch in, RFC 3339 UTC strings out (`2024-05-01T12:34:56.789Z`, a form
 * BigQuery's TIMESTAMP columns accept from JSON in both the streaming and the Storage Write APIs).
 * Hand-written parsing: Date.parse differs between engines for anything beyond the simplest ISO form.
 */
import { zeroPad } from './es5';

/** Largest timestamp BigQuery stores: 9999-12-31T23:59:59.999Z. */
export const MAX_TIMESTAMP_MS = 253402300799999;

/** Seconds (since the epoch) whose text `YYYY-MM-DDTHH:MM:SS.` is remembered, by the second's two low bits. */
const SECOND_OF = [-1, -1, -1, -1];
const SECOND_TEXT = ['', '', '', ''];

/** Formats ms since the epoch as `YYYY-MM-DDTHH:MM:SS.sssZ`; null outside 1970..9999 or for non-integers. */
export function formatTimestamp(ms: number): string | null {
  if (!(ms >= 0 && ms <= MAX_TIMESTAMP_MS) || Math.floor(ms) !== ms) return null;
  // An event's timestamps and the events of a batch mostly fall in a few seconds: their text up to the milliseconds
  // is remembered for four seconds (slot by the second's low bits), so most calls are one lookup and one concatenation.
  const second = Math.floor(ms / 1000);
  const at = second & 3;
  if (SECOND_OF[at] !== second) {
    SECOND_OF[at] = second;
    SECOND_TEXT[at] = secondText(ms);
  }
  return SECOND_TEXT[at] + MILLIS_Z[ms - second * 1000];
}

/** `YYYY-MM-DDTHH:MM:SS.` of the second holding `ms`, as one flat string. */
function secondText(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let dayText: string;
  if (day === cacheDayA) dayText = cacheTextA;
  else if (day === cacheDayB) dayText = cacheTextB;
  else {
    // Two cached days cover midnight; the date part comes from the engine's calendar arithmetic.
    dayText = (NATIVE_ISO ? new Date(day * DAY_MS).toISOString() : formatByHand(day * DAY_MS)).substring(0, 11);
    cacheDayB = cacheDayA;
    cacheTextB = cacheTextA;
    cacheDayA = day;
    cacheTextA = dayText;
  }
  let rest = ms - day * DAY_MS;
  const hours = Math.floor(rest / 3600000);
  rest -= hours * 3600000;
  const minutes = Math.floor(rest / 60000);
  rest -= minutes * 60000;
  const seconds = Math.floor(rest / 1000);
  // substring(0): the concatenation as one flat string (in Nashorn, a tree of pieces until read), made once a second.
  return (dayText + TWO_DIGITS[hours] + ':' + TWO_DIGITS[minutes] + ':' + TWO_DIGITS[seconds] + '.').substring(0);
}

const DAY_MS = 86400000;
let cacheDayA = -1;
let cacheTextA = '';
let cacheDayB = -1;
let cacheTextB = '';
const TWO_DIGITS: string[] = [];
/** `sssZ` for each millisecond. */
const MILLIS_Z: string[] = [];
for (let i = 0; i < 1000; i++) {
  if (i < 100) TWO_DIGITS.push(zeroPad(i, 2));
  MILLIS_Z.push(zeroPad(i, 3) + 'Z');
}

const NATIVE_ISO =
  typeof Date.prototype.toISOString === 'function' &&
  new Date(0).toISOString() === '1970-01-01T00:00:00.000Z' &&
  new Date(MAX_TIMESTAMP_MS).toISOString() === '9999-12-31T23:59:59.999Z' &&
  new Date(1714564800007).toISOString() === '2024-05-01T12:00:00.007Z';

/** The same form assembled by hand, for engines whose toISOString deviates (checked once at load). */
function formatByHand(ms: number): string {
  const d = new Date(ms);
  return (
    zeroPad(d.getUTCFullYear(), 4) + '-' + zeroPad(d.getUTCMonth() + 1, 2) + '-' + zeroPad(d.getUTCDate(), 2) +
    'T' + zeroPad(d.getUTCHours(), 2) + ':' + zeroPad(d.getUTCMinutes(), 2) + ':' + zeroPad(d.getUTCSeconds(), 2) +
    '.' + zeroPad(d.getUTCMilliseconds(), 3) + 'Z'
  );
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Parses an RFC 3339 timestamp (fractions up to nanoseconds, `Z` or an offset) to ms since the epoch, truncating
 * below the millisecond; null when it is not one or is out of range.
 */
export function parseRfc3339(s: string): number | null {
  if (s.length === 24) {
    const fast = parseCanonical(s);
    if (fast !== -1) return fast;
  }
  const m = RFC3339.exec(s);
  if (!m) return null;
  const year = +m[1];
  const month = +m[2];
  const day = +m[3];
  const hour = +m[4];
  const minute = +m[5];
  const second = +m[6];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const frac = m[7] ? +(m[7] + '00').substring(0, 3) : 0;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second === 60 ? 59 : second, frac);
  // Date.UTC maps years 0..99 to 1900..1999; those are out of range for us anyway.
  if (year < 1970) return null;
  const check = new Date(ms);
  if (check.getUTCDate() !== day) return null; // 2023-02-30 and the like
  if (m[9]) {
    const offset = (+m[10] * 60 + +m[11]) * 60000;
    ms = m[9] === '+' ? ms - offset : ms + offset;
  }
  return ms >= 0 && ms <= MAX_TIMESTAMP_MS ? ms : null;
}

/** The day (ms since the epoch at midnight UTC) of the last date {@link parseCanonical} saw, or -1 for none. */
let lastYear = -1;
let lastMonth = -1;
let lastDate = -1;
let lastDayMs = -1;

/** Digit value of `s[i]`, or -1000 (making any sum of digits negative) for another character. */
function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1000;
}

/**
 * The canonical form `YYYY-MM-DDTHH:MM:SS.sssZ` (what collectors and the load balancer write) parsed without a regex,
 * the date's day computed once per date; -1 when `s` is not in exactly that form (the general parser decides then).
 * Gives exactly what the general parser gives for such text, including null for impossible dates and times.
 */
function parseCanonical(s: string): number | null {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) return -1;
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const month = digit(s, 5) * 10 + digit(s, 6);
  const date = digit(s, 8) * 10 + digit(s, 9);
  const hour = digit(s, 11) * 10 + digit(s, 12);
  const minute = digit(s, 14) * 10 + digit(s, 15);
  const second = digit(s, 17) * 10 + digit(s, 18);
  const frac = digit(s, 20) * 100 + digit(s, 21) * 10 + digit(s, 22);
  if (year < 0 || month < 0 || date < 0 || hour < 0 || minute < 0 || second < 0 || frac < 0) return -1;
  if (month < 1 || month > 12 || date < 1 || date > 31 || hour > 23 || minute > 59 || second > 60 || year < 1970) return null;
  let day: number;
  if (year === lastYear && month === lastMonth && date === lastDate) day = lastDayMs;
  else {
    day = Date.UTC(year, month - 1, date);
    if (new Date(day).getUTCDate() !== date) return null; // 2023-02-30 and the like
    lastYear = year;
    lastMonth = month;
    lastDate = date;
    lastDayMs = day;
  }
  const ms = day + hour * 3600000 + minute * 60000 + (second === 60 ? 59 : second) * 1000 + frac;
  return ms <= MAX_TIMESTAMP_MS ? ms : null;
}

/**
 * The value of the decimal digits `s[from..to)` (1 to `maxDigits` of them, ASCII 0-9 only), or -1 when they are
 * not all digits or too many. Exact up to 15 digits. (What `/^\d{1,N}$/` and `+s` do, without a regex.)
 */
export function digitsValue(s: string, from: number, to: number, maxDigits: number): number {
  if (to <= from || to - from > maxDigits) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** Parses a tracker timestamp (`dtm`, `stm`, `ttm`: integer ms since the epoch); null when invalid. */
export function parseEpochMillis(s: string): number | null {
  const ms = digitsValue(s, 0, s.length, 15);
  return ms >= 0 && ms <= MAX_TIMESTAMP_MS ? ms : null;
}
