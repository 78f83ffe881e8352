import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotADateError, shiftDate, shiftDateTime, shiftMultiValue } from '../../src/deid/dates.js';
import { ProjectSecret, Pseudonymizer, type PseudonymSettings } from '../../src/deid/pseudonyms.js';
import { dayNumber, daysBetween, fromDayNumber } from './support/dates.js';

const SECRET_TEXT = 'unit-test-secret-do-not-print-7f3a9c';
const secret = (text = SECRET_TEXT) => ProjectSecret.fromBytes(Buffer.from(text));
const SETTINGS: PseudonymSettings = { researchIdPrefix: 'RAD-', dateShiftDays: [-3650, -30] };
const pseudo = (text = SECRET_TEXT, settings: PseudonymSettings = SETTINGS) => new Pseudonymizer(secret(text), settings);

const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;
/** Plausible original UIDs: dotted numeric components, up to 64 characters. */
const originalUid = fc
  .array(fc.oneof(fc.constant('0'), fc.bigInt({ min: 1n, max: 10n ** 20n }).map(String)), { minLength: 2, maxLength: 12 })
  .map((parts) => parts.join('.').slice(0, 64).replace(/\.$/, ''));
const secretText = fc.string({ minLength: 16, maxLength: 64 }).filter((s) => s.trim().length >= 16 && Buffer.byteLength(s.trim()) >= 16);

describe('UID pseudonyms', () => {
  it('valid UID syntax, at most 64 characters, under 2.25, no leading zeros, deterministic', () => {
    const p = pseudo();
    const q = pseudo(); // another run with the same secret
    fc.assert(
      fc.property(fc.oneof(originalUid, fc.string({ maxLength: 80 })), (u) => {
        const v = p.uid(u);
        expect(v.length).toBeLessThanOrEqual(64);
        expect(v).toMatch(UID);
        expect(v.startsWith('2.25.')).toBe(true);
        for (const c of v.split('.')) expect(c === '0' || !c.startsWith('0')).toBe(true);
        expect(q.uid(u)).toBe(v);
        expect(p.uid(u)).toBe(v); // the cache returns the same
      }),
      { numRuns: 2000 },
    );
  });

  it('is a UUID of version 8 with the RFC 4122/9562 variant (PS3.5 B.2)', () => {
    const p = pseudo();
    fc.assert(
      fc.property(originalUid, (u) => {
        const hex = BigInt(p.uid(u).slice('2.25.'.length)).toString(16).padStart(32, '0');
        expect(hex).toHaveLength(32);
        expect(hex[12]).toBe('8'); // version nibble
        expect(parseInt(hex[16]!, 16) & 0xc).toBe(0x8); // variant 10xx
      }),
      { numRuns: 2000 },
    );
  });

  it('differs between secrets', () => {
    fc.assert(
      fc.property(secretText, secretText, originalUid, (s1, s2, u) => {
        fc.pre(s1.trim() !== s2.trim());
        expect(pseudo(s1).uid(u)).not.toBe(pseudo(s2).uid(u));
      }),
      { numRuns: 300 },
    );
  });

  it('no collisions over 1,000,000 distinct inputs', () => {
    const p = pseudo();
    const seen = new Set<string>();
    const base = '1.2.826.0.1.3680043.8.498.';
    for (let i = 0; i < 1_000_000; i++) seen.add(p.uid(base + i));
    expect(seen.size).toBe(1_000_000);
  }, 60_000);

  it('leaves nothing of the original in the pseudonym', () => {
    const p = pseudo();
    const original = '1.3.6.1.4.1.5962.1.2.4.20040826185059.5457';
    expect(p.uid(original)).not.toContain('20040826185059');
  });
});

describe('research IDs', () => {
  const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{12}$/;

  it('prefix, fixed length, Crockford base32, deterministic across instances', () => {
    const a = pseudo();
    const b = pseudo();
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (pid) => {
        const id = a.researchId(pid);
        expect(id.startsWith('RAD-')).toBe(true);
        expect(id).toHaveLength(4 + 12);
        expect(id.slice(4)).toMatch(CROCKFORD);
        expect(b.researchId(pid)).toBe(id);
      }),
      { numRuns: 2000 },
    );
  });

  it('honours any prefix, and differs between secrets', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z0-9_-]{0,10}$/), fc.string({ minLength: 1, maxLength: 20 }), (prefix, pid) => {
        const id = pseudo(SECRET_TEXT, { ...SETTINGS, researchIdPrefix: prefix }).researchId(pid);
        expect(id.startsWith(prefix)).toBe(true);
        expect(id).toHaveLength(prefix.length + 12);
        expect(pseudo('another-secret-of-sixteen-bytes').researchId(pid)).not.toBe(pseudo().researchId(pid));
      }),
      { numRuns: 300 },
    );
  });

  it('does not collide over 200,000 patients', () => {
    const p = pseudo();
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) seen.add(p.researchId(`MRN${i}`));
    expect(seen.size).toBe(200_000);
  });

  it('the site lookup table wins over the keyed ID; others still get keyed IDs', () => {
    const lookup = new Map([['4MR1', 'STUDY-007'], ['1CT1', 'STUDY-008']]);
    const p = pseudo(SECRET_TEXT, { ...SETTINGS, lookup });
    expect(p.researchId('4MR1')).toBe('STUDY-007');
    expect(p.researchId('1CT1')).toBe('STUDY-008');
    expect(p.researchId('OTHER')).toBe(pseudo().researchId('OTHER'));
    expect(p.researchId('4mr1')).not.toBe('STUDY-007'); // exact match only
  });
});

describe('date offsets', () => {
  const range = fc.tuple(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: 0, max: 5000 })).map(([min, span]) => [min, min + span] as [number, number]).filter(([a, b]) => !(a === 0 && b === 0));

  it('inside the configured range and never 0', () => {
    fc.assert(
      fc.property(range, fc.string({ maxLength: 30 }), ([min, max], pid) => {
        const o = pseudo(SECRET_TEXT, { ...SETTINGS, dateShiftDays: [min, max] }).dateOffsetDays(pid);
        expect(Number.isInteger(o)).toBe(true);
        expect(o).toBeGreaterThanOrEqual(min);
        expect(o).toBeLessThanOrEqual(max);
        expect(o).not.toBe(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('never 0 even in ranges that contain 0 or end at it', () => {
    for (const r of [[-1, 1], [0, 1], [-1, 0], [0, 3], [-3, 0]] as [number, number][]) {
      const p = pseudo(SECRET_TEXT, { ...SETTINGS, dateShiftDays: r });
      for (let i = 0; i < 500; i++) {
        const o = p.dateOffsetDays(`P${i}`);
        expect(o, `range ${r}`).not.toBe(0);
        expect(o).toBeGreaterThanOrEqual(r[0]);
        expect(o).toBeLessThanOrEqual(r[1]);
      }
    }
  });

  it('a zero-width range at 0, or an inverted range, is refused', () => {
    expect(() => pseudo(SECRET_TEXT, { ...SETTINGS, dateShiftDays: [0, 0] })).toThrow();
    expect(() => pseudo(SECRET_TEXT, { ...SETTINGS, dateShiftDays: [5, -5] })).toThrow();
    expect(() => pseudo(SECRET_TEXT, { ...SETTINGS, dateShiftDays: [1.5, 3] })).toThrow();
  });

  it('the same patient gets the same offset in every run (new Pseudonymizer, same secret)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (pid) => {
        expect(pseudo().dateOffsetDays(pid)).toBe(pseudo().dateOffsetDays(pid));
      }),
      { numRuns: 1000 },
    );
  });

  it('offsets spread over the range (not stuck at one end)', () => {
    const p = pseudo();
    const offsets = Array.from({ length: 2000 }, (_, i) => p.dateOffsetDays(`P${i}`));
    expect(new Set(offsets).size).toBeGreaterThan(1500);
    expect(Math.min(...offsets)).toBeLessThan(-3000);
    expect(Math.max(...offsets)).toBeGreaterThan(-700);
  });
});

describe('date shifting preserves intervals exactly', () => {
  /** Day numbers of 1900-01-01 .. 2199-12-31. */
  const day = fc.integer({ min: dayNumber('19000101'), max: dayNumber('21991231') });
  const offset = fc.integer({ min: -3650, max: 3650 });

  it('DA: shift(d2) - shift(d1) = d2 - d1, and shift(d) - d = offset', () => {
    fc.assert(
      fc.property(day, day, offset, (a, b, o) => {
        const d1 = fromDayNumber(a);
        const d2 = fromDayNumber(b);
        const s1 = shiftDate(d1, o);
        const s2 = shiftDate(d2, o);
        expect(s1).toMatch(/^\d{8}$/);
        expect(daysBetween(s1, s2)).toBe(b - a);
        expect(daysBetween(d1, s1)).toBe(o);
      }),
      { numRuns: 5000 },
    );
  });

  it('DA in the ACR-NEMA form YYYY.MM.DD is shifted to YYYYMMDD', () => {
    fc.assert(
      fc.property(day, offset, (a, o) => {
        const d = fromDayNumber(a);
        const dotted = `${d.slice(0, 4)}.${d.slice(4, 6)}.${d.slice(6)}`;
        expect(shiftDate(dotted, o)).toBe(shiftDate(d, o));
      }),
      { numRuns: 500 },
    );
  });

  it('DT: date moves by the offset, time of day, fraction and UTC offset stay', () => {
    const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 999999 }));
    const tz = fc.constantFrom('', '+0100', '-0500', '+0000');
    fc.assert(
      fc.property(day, day, offset, time, time, tz, (a, b, o, t1, t2, z) => {
        const fmt = (d: number, [h, m, s, f]: [number, number, number, number]) =>
          `${fromDayNumber(d)}${String(h).padStart(2, '0')}${String(m).padStart(2, '0')}${String(s).padStart(2, '0')}.${String(f).padStart(6, '0')}${z}`;
        const v1 = fmt(a, t1);
        const v2 = fmt(b, t2);
        const s1 = shiftDateTime(v1, o);
        const s2 = shiftDateTime(v2, o);
        expect(s1.slice(8)).toBe(v1.slice(8));
        expect(s2.slice(8)).toBe(v2.slice(8));
        expect(daysBetween(s1, s2)).toBe(b - a);
        expect(daysBetween(v1, s1)).toBe(o);
      }),
      { numRuns: 3000 },
    );
  });

  it('DT with reduced precision keeps its precision', () => {
    expect(shiftDateTime('2021', -400)).toMatch(/^\d{4}$/);
    expect(shiftDateTime('202103', -1)).toMatch(/^\d{6}$/);
    expect(shiftDateTime('2021030412', 10)).toBe('2021031412');
    expect(shiftDateTime('20210304+0100', 1)).toBe('20210305+0100');
  });

  it('multi-valued DA/DT and DA ranges: every value and both ends shift by the same offset', () => {
    fc.assert(
      fc.property(fc.array(day, { minLength: 1, maxLength: 5 }), offset, fc.boolean(), (days, o, asRange) => {
        const values = days.map(fromDayNumber);
        const input = asRange && values.length >= 2 ? `${values[0]}-${values[1]}` : values.join('\\');
        const out = shiftMultiValue(input, o, 'DA');
        const parts = out.split(asRange && values.length >= 2 ? '-' : '\\');
        const ins = input.split(asRange && values.length >= 2 ? '-' : '\\');
        expect(parts).toHaveLength(ins.length);
        parts.forEach((p, i) => expect(daysBetween(ins[i]!, p)).toBe(o));
        const dt = shiftMultiValue(values.map((v) => `${v}101500`).join('\\'), o, 'DT').split('\\');
        dt.forEach((p, i) => {
          expect(p.slice(8)).toBe('101500');
          expect(daysBetween(values[i]!, p)).toBe(o);
        });
      }),
      { numRuns: 1000 },
    );
    expect(shiftMultiValue('-20210301', 1, 'DA')).toBe('-20210302');
    expect(shiftMultiValue('20210301-', 1, 'DA')).toBe('20210302-');
    expect(shiftMultiValue('20210301\\\\20210302', 1, 'DA')).toBe('20210302\\\\20210303');
  });

  it('the same patient in two runs: the interval between their two studies survives', () => {
    const offsetRun1 = pseudo().dateOffsetDays('4MR1');
    const offsetRun2 = pseudo().dateOffsetDays('4MR1');
    const first = shiftDate('20040826', offsetRun1);
    const later = shiftDate('20050315', offsetRun2);
    expect(daysBetween(first, later)).toBe(daysBetween('20040826', '20050315'));
  });

  it('invalid dates throw NotADateError', () => {
    for (const bad of ['', '2021-03-04', '20210230', '20211301', '20210000', '2021034', '202103045', 'abcdefgh', '2021.3.4', '19000229']) {
      expect(() => shiftDate(bad, 10), JSON.stringify(bad)).toThrow(NotADateError);
    }
    for (const bad of ['', 'abc', '20210230', '2021023', '20210304120000.1234567', '20210304+01', '202113']) {
      expect(() => shiftDateTime(bad, 10), JSON.stringify(bad)).toThrow(NotADateError);
    }
    expect(() => shiftMultiValue('20210101\\notadate', 1, 'DA')).toThrow(NotADateError);
    expect(() => shiftMultiValue('20210101-2021XX01', 1, 'DA')).toThrow(NotADateError);
    expect(shiftDate('20000229', 1)).toBe('20000301'); // a leap day is a date
  });

  it('DT with an impossible time of day is not a DT value either', () => {
    for (const bad of ['20210304250000', '20210304126000', '20210304120075']) {
      expect(() => shiftDateTime(bad, 10), JSON.stringify(bad)).toThrow(NotADateError);
    }
  });

  it('any valid DA, years 0000-9999, shifts to a valid 8-digit DA with the interval kept, or throws NotADateError', () => {
    // Years below 100 must not be read as 19xx (Date.UTC maps years 0-99 to 1900-1999), and a
    // shift past year 9999 or before year 0 cannot be written as a DA.
    const anyDay = fc.record({ y: fc.integer({ min: 0, max: 9999 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }) });
    fc.assert(
      fc.property(anyDay, offset, ({ y, m, d }, o) => {
        const v = `${String(y).padStart(4, '0')}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
        let s: string;
        try {
          s = shiftDate(v, o);
        } catch (e) {
          expect(e).toBeInstanceOf(NotADateError);
          return;
        }
        expect(s).toMatch(/^\d{8}$/);
        expect(daysBetween(v, s)).toBe(o);
      }),
      { numRuns: 5000, seed: 7, examples: [[{ y: 50, m: 1, d: 1 }, 1], [{ y: 9999, m: 12, d: 28 }, 10]] },
    );
  });
});

describe('ProjectSecret never prints', () => {
  const s = secret();
  const p = new Pseudonymizer(s, SETTINGS);

  it('String(), template, JSON.stringify, util.inspect, console formatting', () => {
    const renderings = [
      String(s),
      `${s}`,
      s + '',
      JSON.stringify(s),
      JSON.stringify({ secret: s, nested: [s] }),
      inspect(s),
      inspect({ s }, { showHidden: true, depth: Infinity }),
      inspect(s, { customInspect: false, showHidden: true }),
      inspect(p, { showHidden: true, depth: Infinity }),
      JSON.stringify(p),
      Object.keys(s).join(','),
      JSON.stringify(structuredClone({ x: 1 })), // sanity: a plain clone
    ];
    for (const r of renderings) {
      expect(r).not.toContain(SECRET_TEXT);
      expect(r).not.toContain(Buffer.from(SECRET_TEXT).toString('hex'));
      expect(r).not.toContain(Buffer.from(SECRET_TEXT).toString('base64'));
    }
    expect(String(s)).toBe('[ProjectSecret]');
    expect(JSON.stringify({ s })).toBe('{"s":"[ProjectSecret]"}');
  });

  it('derived keys are neither the secret nor each other', () => {
    const a = s.deriveKey('uid');
    const b = s.deriveKey('patient-id');
    expect(a.equals(b)).toBe(false);
    expect(a.toString('latin1')).not.toContain(SECRET_TEXT);
    expect(s.deriveKey('uid').equals(a)).toBe(true);
  });

  it('secret files: surrounding whitespace is ignored, fewer than 16 bytes are refused without echoing them', () => {
    expect(ProjectSecret.fromBytes(Buffer.from(`  ${SECRET_TEXT}\r\n`)).deriveKey('x').equals(s.deriveKey('x'))).toBe(true);
    let message = '';
    try {
      ProjectSecret.fromBytes(Buffer.from('short-secret\n'));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/at least 16 bytes/);
    expect(message).not.toContain('short-secret');
  });
});
