import { digitsValue, formatTimestamp, MAX_TIMESTAMP_MS, parseEpochMillis, parseRfc3339 } from '../../pipeline/time';
import { prng } from '../../pipeline/local/sample-events';

describe('timestamps', () => {
  it('formats ms since the epoch exactly like toISOString, across days and years', () => {
    const rand = prng(11);
    for (let t = 0; t < 5000; t++) {
      const ms = t < 100 ? Date.UTC(2024, 1, 28 + (t % 3), 23, 59, 59, t) : Math.floor(rand() * MAX_TIMESTAMP_MS);
      expect(formatTimestamp(ms)).toBe(new Date(ms).toISOString());
    }
    expect(formatTimestamp(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(formatTimestamp(MAX_TIMESTAMP_MS)).toBe('9999-12-31T23:59:59.999Z');
  });

  it('formats alike when seconds repeat and alternate (the per-second text it remembers)', () => {
    // Times within a few seconds of each other, in and out of order, and seconds 4 apart (the same slot).
    const rand = prng(12);
    const base = Date.UTC(2026, 11, 31, 23, 59, 57, 0);
    for (let t = 0; t < 5000; t++) {
      const ms = base + Math.floor(rand() * 8000) + (t % 7 === 0 ? 4000 * Math.floor(rand() * 4) : 0);
      expect(formatTimestamp(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('refuses what BigQuery could not store', () => {
    expect(formatTimestamp(-1)).toBeNull();
    expect(formatTimestamp(MAX_TIMESTAMP_MS + 1)).toBeNull();
    expect(formatTimestamp(1.5)).toBeNull();
    expect(formatTimestamp(NaN)).toBeNull();
  });

  it('parses RFC 3339 with fractions up to nanoseconds and offsets', () => {
    expect(parseRfc3339('2024-05-01T12:00:50.123456789Z')).toBe(Date.UTC(2024, 4, 1, 12, 0, 50, 123));
    expect(parseRfc3339('2024-05-01T12:00:50Z')).toBe(Date.UTC(2024, 4, 1, 12, 0, 50));
    expect(parseRfc3339('2024-05-01 12:00:50.5z')).toBe(Date.UTC(2024, 4, 1, 12, 0, 50, 500));
    expect(parseRfc3339('2024-05-01T14:00:00+02:00')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parseRfc3339('2024-05-01T10:30:00-0130')).toBe(Date.UTC(2024, 4, 1, 12));
    for (const bad of ['yesterday', '2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', '2024-05-01T24:00:00Z', '2024-05-01T12:00:00', '1969-12-31T23:59:59Z', '']) {
      expect(parseRfc3339(bad)).toBeNull();
    }
  });

  it('parses the canonical form (the fast path) exactly as any other spelling of the same instant', () => {
    const rand = prng(12);
    const two = (n: number): string => String(n).padStart(2, '0');
    for (let t = 0; t < 5000; t++) {
      const s = `${1965 + Math.floor(rand() * 80)}-${two(Math.floor(rand() * 14))}-${two(Math.floor(rand() * 33))}T${two(Math.floor(rand() * 25))}:${two(Math.floor(rand() * 61))}:${two(Math.floor(rand() * 62))}.${String(Math.floor(rand() * 1000)).padStart(3, '0')}Z`;
      // 't' and 'z' are valid RFC 3339 too, and take the general parser.
      expect([s, parseRfc3339(s)]).toEqual([s, parseRfc3339(s.replace('T', 't').replace('Z', 'z'))]);
    }
    expect(parseRfc3339('2024-02-29T23:59:60.999Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
    expect(parseRfc3339('2023-02-29T00:00:00.000Z')).toBeNull();
    expect(parseRfc3339('2024-05-01T12:00:00.00xZ')).toBeNull();
    expect(parseRfc3339('9999-12-31T23:59:59.999Z')).toBe(MAX_TIMESTAMP_MS);
  });

  it('reads runs of decimal digits as /^[0-9]{1,N}$/ and + would', () => {
    const rand = prng(14);
    const alphabet = '0123456789012345678901234567890123456789-+. xe٣０';
    for (let t = 0; t < 5000; t++) {
      let s = '';
      for (let i = Math.floor(rand() * 18); i > 0; i--) s += alphabet.charAt(Math.floor(rand() * alphabet.length));
      for (const max of [6, 15]) {
        const want = new RegExp('^[0-9]{1,' + max + '}$').test(s) ? +s : -1;
        expect([s, max, digitsValue(s, 0, s.length, max)]).toEqual([s, max, want]);
      }
      const ms = /^\d{1,15}$/.test(s) && +s <= MAX_TIMESTAMP_MS ? +s : null;
      expect([s, parseEpochMillis(s)]).toEqual([s, ms]);
    }
    expect(digitsValue('ab123cd', 2, 5, 3)).toBe(123);
    expect(digitsValue('ab123cd', 2, 2, 3)).toBe(-1);
  });

  it('parses tracker timestamps (integer ms) and nothing else', () => {
    expect(parseEpochMillis('1714564800000')).toBe(1714564800000);
    expect(parseEpochMillis('0')).toBe(0);
    for (const bad of ['1714564800000.5', '-1', '1e12', ' 1', '', '9999999999999999', 'abc']) expect(parseEpochMillis(bad)).toBeNull();
  });
});
