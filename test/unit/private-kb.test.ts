import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRIVATE_KB_ENTRIES } from '../../src/deid/private-kb.generated.js';
import { isSafePrivate, safePrivateRule } from '../../src/deid/private-kb.js';

interface Generator {
  SOURCE_PATH: string;
  OUTPUT_PATH: string;
  renderPrivateKb(csv: string, sourceName: string): string;
}

const root = new URL('../../', import.meta.url);
const gen = (await import(new URL('scripts/generate-private-kb.mjs', root).href)) as Generator;

describe('generated private tag knowledge base', () => {
  it('is current with the CSV', () => {
    const csv = readFileSync(new URL(gen.SOURCE_PATH, root), 'utf8');
    const onDisk = readFileSync(new URL(gen.OUTPUT_PATH, root), 'utf8');
    expect(gen.renderPrivateKb(csv, basename(gen.SOURCE_PATH)) === onDisk, 'run node scripts/generate-private-kb.mjs').toBe(true);
  });

  it('is sorted by signature, creators compared lower-cased', () => {
    const keys = PRIVATE_KB_ENTRIES.map((e) => e.split('|').slice(0, 3).join('|').toLowerCase());
    for (let i = 1; i < keys.length; i++) expect(keys[i - 1]! <= keys[i]!, keys[i]).toBe(true);
  });

  it('repairs the broken quoting of the source', () => {
    // `(0008,1084)[<0>](312f,"Ramsoft ...",10)` and `(312f,Ramsoft ...",20)` (no opening quote).
    expect(PRIVATE_KB_ENTRIES).toContain('312f|Ramsoft Diagnosis Datetime Identifier|10|DA|d|0008,1084');
    expect(PRIVATE_KB_ENTRIES).toContain('312f|Ramsoft Diagnosis Datetime Identifier|20|TM|d|0008,1084');
    // A creator containing a comma, and rows with an empty creator.
    expect(PRIVATE_KB_ENTRIES).toContain('0019|HOLOGIC, Inc.|02|IS|d');
    expect(PRIVATE_KB_ENTRIES).toContain('0009||02|UN|d');
    for (const e of PRIVATE_KB_ENTRIES) expect(e).toMatch(/^[0-9a-f]{4}\|[^|]*\|[0-9a-f]{2}\|[A-Z]{0,2}\|(k|d|h|o|oi|na|)(\|[^|]+)?$/);
  });
});

describe('safePrivateRule', () => {
  it('knows a safe GE signature', () => {
    expect(safePrivateRule(0x0019, 'GEMS_ACQU_01', 0x1e)).toEqual({ vr: 'DS', disposition: 'k' });
    expect(isSafePrivate(0x0019, 'GEMS_ACQU_01', 0x1e)).toBe(true);
    // The element number may be passed whole: only its low byte identifies the element in the block.
    expect(isSafePrivate(0x0019, 'GEMS_ACQU_01', 0x101e)).toBe(true);
  });

  it('does not keep an element marked d', () => {
    expect(safePrivateRule(0x0019, 'GEMS_ACQU_01', 0x10)).toEqual({ vr: 'DT', disposition: 'd' });
    expect(isSafePrivate(0x0019, 'GEMS_ACQU_01', 0x10)).toBe(false);
    expect(isSafePrivate(0x0019, 'SIEMENS MR HEADER', 0x08)).toBe(false);
  });

  it('matches creators whatever their padding and case', () => {
    expect(isSafePrivate(0x0019, 'GEMS_ACQU_01 ', 0x1e)).toBe(true);
    expect(isSafePrivate(0x0019, 'gems_acqu_01', 0x1e)).toBe(true);
    expect(isSafePrivate(0x0019, 'SIEMENS MR HEADER\0', 0x0b)).toBe(true);
    expect(isSafePrivate(0x0019, 'Siemens MR Header  ', 0x0b)).toBe(true);
  });

  it('returns undefined for unknown signatures', () => {
    expect(safePrivateRule(0x0019, 'NO SUCH CREATOR', 0x1e)).toBeUndefined();
    expect(safePrivateRule(0x0021, 'GEMS_ACQU_01', 0x1e)).toBeUndefined();
    expect(isSafePrivate(0x0019, 'NO SUCH CREATOR', 0x1e)).toBe(false);
  });

  it('takes the VR into account', () => {
    // Seen as LO the value was checked and kept; seen as UN it could not be and is deleted.
    expect(safePrivateRule(0x0009, 'GEMS_PETD_01', 0x37)).toEqual({ vr: 'LO', disposition: 'k' });
    expect(safePrivateRule(0x0009, 'GEMS_PETD_01', 0x37, undefined, 'LO')).toEqual({ vr: 'LO', disposition: 'k' });
    expect(safePrivateRule(0x0009, 'GEMS_PETD_01', 0x37, undefined, 'UN')).toEqual({ vr: 'UN', disposition: 'd' });
    expect(safePrivateRule(0x0009, 'GEMS_PETD_01', 0x37, undefined, 'DS')).toBeUndefined();
    expect(safePrivateRule(0x0009, 'GEMS_PETD_01', 0x97)).toEqual({ vr: 'LO', disposition: 'h' });
  });

  it('matches nested elements by their sequence path', () => {
    // Linear Modality GL Transform: kept at the top level, deleted inside Referenced Series Sequence.
    expect(isSafePrivate(0x2001, 'Philips Imaging DD 001', 0xc1)).toBe(true);
    expect(safePrivateRule(0x2001, 'Philips Imaging DD 001', 0xc1, [{ group: 0x0008, element: 0x1115 }])?.disposition).toBe('d');
    expect(isSafePrivate(0x2001, 'Philips Imaging DD 001', 0xc1, [{ group: 0x0008, element: 0x1110 }])).toBe(true);
    expect(
      isSafePrivate(0x2001, 'philips imaging dd 001', 0xc1, [
        { group: 0x2001, creator: 'PHILIPS IMAGING DD 129 ', elementByte: 0x00 },
        { group: 0x0008, element: 0x1115 },
      ]),
    ).toBe(true);
    // A nesting the knowledge base does not list leaves the element unknown.
    expect(safePrivateRule(0x2001, 'Philips Imaging DD 001', 0xc1, [{ group: 0x0040, element: 0x0275 }])).toBeUndefined();
  });

  it('counts the signatures safe to keep', () => {
    const safe = PRIVATE_KB_ENTRIES.filter((e) => e.split('|')[4] === 'k');
    expect(safe.length).toBe(3747);
    expect(PRIVATE_KB_ENTRIES.length).toBe(8233);
  });
});
