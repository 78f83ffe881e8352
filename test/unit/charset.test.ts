import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CharacterSets,
  decodeText,
  encodeText,
  parseSpecificCharacterSet,
  UnknownCharacterSetError,
  UnrepresentableCharacterError,
} from '../../src/dicom/charset.js';
import type { VR } from '../../src/dicom/vr.js';

/** Bytes from a string whose characters are byte values ('\x1b$B;3ED' style, as in the standard's examples). */
const bin = (s: string): Uint8Array => Uint8Array.from(s, (c) => {
  const b = c.charCodeAt(0);
  if (b > 0xff) throw new Error('bin() takes byte characters only');
  return b;
});
/** Bytes from space-separated hex, as PS3.5 prints them. */
const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/), (x) => parseInt(x, 16));

const sets = (raw: string | undefined): CharacterSets => parseSpecificCharacterSet(raw);

interface Example {
  readonly title: string;
  readonly charset: string;
  readonly vr: VR;
  readonly text: string;
  readonly bytes: Uint8Array;
}

// Encoded examples from the standard, PS3.5 Annexes H (Japanese), I (Korean), J (UTF-8 and
// GB18030) and K (GB2312). In each, the encoder's output is byte-identical to the standard's.
const STANDARD_EXAMPLES: readonly Example[] = [
  {
    title: 'H.3.1 Japanese, ISO 2022 IR 87 (Kanji and Hiragana)',
    charset: '\\ISO 2022 IR 87',
    vr: 'PN',
    text: 'Yamada^Tarou=山田^太郎=やまだ^たろう',
    bytes: bin('Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B'),
  },
  {
    title: 'H.3.2 Japanese, ISO 2022 IR 13 + IR 87 (half-width Katakana as value 1)',
    charset: 'ISO 2022 IR 13\\ISO 2022 IR 87',
    vr: 'PN',
    text: 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
    bytes: bin('\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J'),
  },
  {
    title: 'I.2 Korean, ISO 2022 IR 149',
    charset: '\\ISO 2022 IR 149',
    vr: 'PN',
    text: 'Hong^Gildong=洪^吉洞=홍^길동',
    bytes: hex(`48 6F 6E 67 5E 47 69 6C 64 6F 6E 67 3D 1B 24 29 43 FB F3 5E 1B 24 29 43 D1 CE D4 D7
                3D 1B 24 29 43 C8 AB 5E 1B 24 29 43 B1 E6 B5 BF`),
  },
  {
    title: 'J.1 Chinese PN, ISO_IR 192 (UTF-8)',
    charset: 'ISO_IR 192',
    vr: 'PN',
    text: 'Wang^XiaoDong=王^小東=',
    bytes: hex('57 61 6E 67 5E 58 69 61 6F 44 6F 6E 67 3D E7 8E 8B 5E E5 B0 8F E6 9D B1 3D'),
  },
  {
    title: 'J.2 Chinese LT, ISO_IR 192 (UTF-8)',
    charset: 'ISO_IR 192',
    vr: 'LT',
    text: 'The first line includes中文.\r\nThe second line includes中文, too.\r\nThe third line.\r\n',
    bytes: new Uint8Array([
      ...bin('The first line includes'), ...hex('E4 B8 AD E6 96 87'), ...bin('.\r\nThe second line includes'),
      ...hex('E4 B8 AD E6 96 87'), ...bin(', too.\r\nThe third line.\r\n'),
    ]),
  },
  {
    title: 'J.3 Chinese PN, GB18030',
    charset: 'GB18030',
    vr: 'PN',
    text: 'Wang^XiaoDong=王^小东=',
    bytes: hex('57 61 6E 67 5E 58 69 61 6F 44 6F 6E 67 3D CD F5 5E D0 A1 B6 AB 3D'),
  },
  {
    title: 'J.4 Chinese LT, GB18030',
    charset: 'GB18030',
    vr: 'LT',
    text: 'The first line includes中文.\r\nThe second line includes中文, too.\r\nThe third line.\r\n',
    bytes: new Uint8Array([
      ...bin('The first line includes'), ...hex('D6 D0 CE C4'), ...bin('.\r\nThe second line includes'),
      ...hex('D6 D0 CE C4'), ...bin(', too.\r\nThe third line.\r\n'),
    ]),
  },
  {
    title: 'K.2 Chinese PN, ISO 2022 IR 58 (GB2312)',
    charset: '\\ISO 2022 IR 58',
    vr: 'PN',
    text: 'Zhang^XiaoDong=张^小东=',
    bytes: hex('5A 68 61 6E 67 5E 58 69 61 6F 44 6F 6E 67 3D 1B 24 29 41 D5 C5 5E 1B 24 29 41 D0 A1 B6 AB 3D'),
  },
  {
    title: 'K.3 Chinese LT, ISO 2022 IR 58 (GB2312), designation reset by CR LF',
    charset: '\\ISO 2022 IR 58',
    vr: 'LT',
    text: '1.第一行文字。\r\n2.第二行文字。\r\n3.第三行文字。\r\n',
    bytes: hex(`31 2E 1B 24 29 41 B5 DA D2 BB D0 D0 CE C4 D7 D6 A1 A3 0D 0A
                32 2E 1B 24 29 41 B5 DA B6 FE D0 D0 CE C4 D7 D6 A1 A3 0D 0A
                33 2E 1B 24 29 41 B5 DA C8 FD D0 D0 CE C4 D7 D6 A1 A3 0D 0A`),
  },
];

// Single-byte sets: names from the classic charset test files and pydicom's test vectors.
const SINGLE_BYTE_EXAMPLES: readonly { readonly ir: number; readonly text: string; readonly bytes: Uint8Array }[] = [
  { ir: 100, text: 'Buc^Jérôme', bytes: hex('42 75 63 5E 4A E9 72 F4 6D 65') },
  { ir: 101, text: 'Wałęsa', bytes: bin('Wa\xb3\xeasa') },
  { ir: 109, text: 'antaŭnomo', bytes: bin('anta\xfdnomo') },
  { ir: 110, text: 'vārds', bytes: bin('v\xe0rds') },
  { ir: 144, text: 'Люкceмбypг', bytes: bin('\xbb\xee\xdace\xdc\xd1yp\xd3') },
  { ir: 127, text: 'قباني^لنزار', bytes: bin('\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1') },
  { ir: 126, text: 'Διονυσιος', bytes: bin('\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2') },
  { ir: 138, text: 'שרון^דבורה', bytes: bin('\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4') },
  { ir: 148, text: 'Çavuşoğlu', bytes: bin('\xc7avu\xfeo\xf0lu') },
  { ir: 203, text: 'Œuvre 5€ Šž', bytes: bin('\xbcuvre 5\xa4 \xa6\xb8') },
  { ir: 166, text: 'นามสกุล', bytes: bin('\xb9\xd2\xc1\xca\xa1\xd8\xc5') },
  { ir: 13, text: 'ﾔﾏﾀﾞ^ﾀﾛｳ', bytes: bin('\xd4\xcf\xc0\xde^\xc0\xdb\xb3') },
];

const ALL_TERMS = [
  '', 'ISO_IR 6', 'ISO_IR 100', 'ISO_IR 101', 'ISO_IR 109', 'ISO_IR 110', 'ISO_IR 144', 'ISO_IR 127', 'ISO_IR 126',
  'ISO_IR 138', 'ISO_IR 148', 'ISO_IR 203', 'ISO_IR 166', 'ISO_IR 13', 'ISO_IR 192', 'GB18030', 'GBK',
  'ISO 2022 IR 6', 'ISO 2022 IR 100', '\\ISO 2022 IR 87', 'ISO 2022 IR 13\\ISO 2022 IR 87',
  '\\ISO 2022 IR 87\\ISO 2022 IR 159', '\\ISO 2022 IR 149', '\\ISO 2022 IR 58', 'ISO 2022 IR 100\\ISO 2022 IR 144',
];

const CHARSET_AWARE_VRS: readonly VR[] = ['SH', 'LO', 'ST', 'LT', 'PN', 'UC', 'UT'];

describe('parseSpecificCharacterSet', () => {
  it('reads an absent, empty or blank value as the default repertoire', () => {
    for (const raw of [undefined, '', '  ', 'ISO_IR 6']) {
      const s = sets(raw);
      expect(s.kind).toBe('default');
      expect(s.terms).toEqual(['']);
      expect(s.warnings).toEqual([]);
    }
  });

  it('classifies each kind of defined term', () => {
    expect(sets('ISO_IR 100').kind).toBe('single-byte');
    expect(sets('ISO_IR 13').kind).toBe('single-byte');
    expect(sets('ISO_IR 192').kind).toBe('utf-8');
    expect(sets('GB18030').kind).toBe('gb18030');
    expect(sets('GBK').kind).toBe('gbk');
    expect(sets('ISO 2022 IR 100').kind).toBe('iso2022');
    expect(sets('\\ISO 2022 IR 87').kind).toBe('iso2022');
    expect(sets('\\ISO 2022 IR 87').terms).toEqual(['', 'ISO 2022 IR 87']);
  });

  it('ignores padding around values and returns the same object for the same raw value', () => {
    expect(sets('ISO_IR 100 ').terms).toEqual(['ISO_IR 100']);
    expect(sets('ISO 2022 IR 6\\ISO 2022 IR 87 ').terms).toEqual(['ISO 2022 IR 6', 'ISO 2022 IR 87']);
    expect(sets('ISO_IR 192')).toBe(sets('ISO_IR 192'));
  });

  it.each([
    ['ISO-IR 100', 'ISO_IR 100'],
    ['ISO_IR100', 'ISO_IR 100'],
    ['ISO IR 192', 'ISO_IR 192'],
    ['iso_ir 144', 'ISO_IR 144'],
    ['ISO 2022 IR 100', 'ISO 2022 IR 100'],
    ['ISO 2022 IR100', 'ISO 2022 IR 100'],
    ['ISO_2022-IR 100', 'ISO 2022 IR 100'],
    ['ISO_2022_IR+126', 'ISO 2022 IR 126'],
    ['ISO_IR 149', 'ISO 2022 IR 149'],
    ['GB 18030', 'GB18030'],
  ])('corrects the misspelling %j to %j with a warning', (raw, term) => {
    const s = sets(raw);
    expect(s.terms).toContain(term);
    if (raw !== term) expect(s.warnings.join('\n')).toContain(raw);
  });

  it('turns ISO_IR terms used next to code extensions into their ISO 2022 forms', () => {
    const s = sets('ISO_IR 13\\ISO 2022 IR 87');
    expect(s.terms).toEqual(['ISO 2022 IR 13', 'ISO 2022 IR 87']);
    expect(s.kind).toBe('iso2022');
    expect(s.warnings).toHaveLength(1);
  });

  it('drops values next to UTF-8, GB18030 and GBK, which allow no code extensions', () => {
    expect(sets('ISO_IR 192\\ISO 2022 IR 100').terms).toEqual(['ISO_IR 192']);
    expect(sets('ISO_IR 192\\ISO 2022 IR 100').warnings[0]).toMatch(/no code extensions/);
    expect(sets('ISO 2022 IR 100\\GBK\\ISO 2022 IR 144').terms).toEqual(['ISO 2022 IR 100', 'ISO 2022 IR 144']);
  });

  it('reads an empty value 1 next to UTF-8 as UTF-8', () => {
    expect(sets('\\ISO_IR 192').terms).toEqual(['ISO_IR 192']);
    expect(sets('\\ISO_IR 192').warnings).toHaveLength(1);
  });

  it('moves a multi-byte set given as value 1 behind the default repertoire', () => {
    const s = sets('ISO 2022 IR 149');
    expect(s.terms).toEqual(['', 'ISO 2022 IR 149']);
    expect(s.warnings[0]).toMatch(/value 1/);
  });

  it('throws an error naming an unknown term', () => {
    expect(() => sets('ISO_IR 999')).toThrow(UnknownCharacterSetError);
    expect(() => sets('ISO_IR 999')).toThrow(/'ISO_IR 999'/);
    expect(() => sets('\\ISO 2022 IR 146')).toThrow(/'ISO 2022 IR 146'/);
    expect(() => sets('KOI8-R')).toThrow(/'KOI8-R'/);
    try {
      sets('ISO 2022 IR 100\\LATIN1');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UnknownCharacterSetError);
      expect((e as UnknownCharacterSetError).term).toBe('LATIN1');
    }
  });
});

describe('standard examples (PS3.5 Annexes H, I, J, K)', () => {
  it.each(STANDARD_EXAMPLES.map((e) => [e.title, e] as const))('%s', (_title, e) => {
    const s = sets(e.charset);
    expect(decodeText(e.bytes, s, e.vr)).toBe(e.text);
    expect(encodeText(e.text, s, e.vr)).toEqual(e.bytes);
  });

  it('I.3 style Korean text, designating G1 at the start of each line, decodes the same and re-encodes to the shorter form', () => {
    const designate = '\x1b$)C';
    const bytes = bin(
      `${designate}The 1st line includes \xb1\xe6\xb5\xbf.\r\n` +
      `${designate}The 2nd line includes \xb1\xe6\xb5\xbf, too.\r\n` +
      'The 3rd line.',
    );
    const text = 'The 1st line includes 길동.\r\nThe 2nd line includes 길동, too.\r\nThe 3rd line.';
    const s = sets('\\ISO 2022 IR 149');
    expect(decodeText(bytes, s, 'LT')).toBe(text);
    const encoded = encodeText(text, s, 'LT');
    expect(encoded).toEqual(bin(
      `The 1st line includes ${designate}\xb1\xe6\xb5\xbf.\r\nThe 2nd line includes ${designate}\xb1\xe6\xb5\xbf, too.\r\nThe 3rd line.`,
    ));
    expect(decodeText(encoded, s, 'LT')).toBe(text);
  });

  it('encodes JIS X 0212 characters with their own escape and returns to ASCII before each delimiter', () => {
    // Same expectation as pydicom's test for 'Mori^Ogai=森^鷗外=もり^おうがい' (鷗 is only in JIS X 0212).
    const s = sets('ISO 2022 IR 6\\ISO 2022 IR 87\\ISO 2022 IR 159');
    const bytes = hex(`4D 6F 72 69 5E 4F 67 61 69 3D 1B 24 42 3F 39 1B 28 42 5E 1B 24 28 44 6C 3F 1B 24 42 33 30
                       1B 28 42 3D 1B 24 42 24 62 24 6A 1B 28 42 5E 1B 24 42 24 2A 24 26 24 2C 24 24 1B 28 42`);
    expect(encodeText('Mori^Ogai=森^鷗外=もり^おうがい', s, 'PN')).toEqual(bytes);
    expect(decodeText(bytes, s, 'PN')).toBe('Mori^Ogai=森^鷗外=もり^おうがい');
  });
});

describe('single-byte character sets', () => {
  it.each(SINGLE_BYTE_EXAMPLES.map((e) => [e.ir, e] as const))('ISO_IR %i decodes and encodes', (ir, e) => {
    const s = sets(`ISO_IR ${ir}`);
    expect(decodeText(e.bytes, s, 'PN')).toBe(e.text);
    expect(encodeText(e.text, s, 'PN')).toEqual(e.bytes);
  });

  it.each(SINGLE_BYTE_EXAMPLES.map((e) => [e.ir, e] as const))('ISO 2022 IR %i as a code extension after ASCII', (ir, e) => {
    const s = sets(`\\ISO 2022 IR ${ir}`);
    const designation = ir === 13 ? '\x1b)I' : '';
    const prefix = bin(`ASCII+${designation}`);
    // ESC - x for the 96-character sets, from PS3.3 Table C.12-3.
    const final = { 100: 'A', 101: 'B', 109: 'C', 110: 'D', 144: 'L', 127: 'G', 126: 'F', 138: 'H', 148: 'M', 203: 'b', 166: 'T', 13: '' }[ir]!;
    const bytes = ir === 13 ? new Uint8Array([...prefix, ...e.bytes]) : new Uint8Array([...prefix, ...bin(`\x1b-${final}`), ...e.bytes]);
    expect(decodeText(bytes, s, 'LO')).toBe(`ASCII+${e.text}`);
    const encoded = encodeText(`ASCII+${e.text}`, s, 'LO');
    expect(decodeText(encoded, s, 'LO')).toBe(`ASCII+${e.text}`);
  });

  it('keeps C1 control bytes of ISO 8859 sets as the same code points, so they round-trip', () => {
    const s = sets('ISO_IR 100');
    const bytes = bin('caf\xe9 \x92s');
    expect(decodeText(bytes, s, 'LO')).toBe('café \u0092s');
    expect(encodeText('café \u0092s', s, 'LO')).toEqual(bytes);
  });

  it('decodes bytes a set leaves undefined as U+FFFD', () => {
    expect(decodeText(bin('\xa5'), sets('ISO_IR 109'), 'LO')).toBe('\ufffd');
    expect(decodeText(bin('\xfc'), sets('ISO_IR 166'), 'LO')).toBe('\ufffd');
  });

  it('decodes high bytes under the default repertoire as Latin-1 but refuses to write them', () => {
    const s = sets(undefined);
    expect(decodeText(bin('M\xfcller'), s, 'PN')).toBe('Müller');
    expect(() => encodeText('Müller', s, 'PN')).toThrow(UnrepresentableCharacterError);
  });
});

describe('ISO 2022 code extensions', () => {
  it('treats delimiter bytes inside a two-byte JIS X 0208 run as part of a character', () => {
    // 'ま' is 0x24 0x5E in JIS X 0208; 0x5E is also '^'.
    const s = sets('\\ISO 2022 IR 87');
    expect(decodeText(bin('\x1b$B$^\x1b(B^x'), s, 'PN')).toBe('ま^x');
  });

  it('restores the value-1 sets at each PN delimiter and after control characters', () => {
    const s = sets('\\ISO 2022 IR 100\\ISO 2022 IR 126');
    // G1 is Greek until '=', then nothing is designated; the first declared G1 set (Latin-1) is used.
    expect(decodeText(bin('\x1b-F\xc4\xe9=\xe9'), s, 'PN')).toBe('Δι=é');
    expect(decodeText(bin('\x1b-F\xc4\xe9\r\n\xe9'), s, 'LT')).toBe('Δι\r\né');
    // In LT, '^', '=' and '\' are ordinary characters and do not reset anything.
    expect(decodeText(bin('\x1b-F\xc4\\\xe9^=\xe9'), s, 'LT')).toBe('Δ\\ι^=ι');
    // In LO, '\' separates values.
    expect(decodeText(bin('\x1b-F\xc4\\\xe9'), s, 'LO')).toBe('Δ\\é');
  });

  it('re-designates after every delimiter when encoding', () => {
    const s = sets('\\ISO 2022 IR 149');
    expect(encodeText('홍\\홍', s, 'LO')).toEqual(bin('\x1b$)C\xc8\xab\\\x1b$)C\xc8\xab'));
    expect(encodeText('홍=홍', s, 'LO')).toEqual(bin('\x1b$)C\xc8\xab=\xc8\xab'));
    expect(encodeText('홍=홍', s, 'PN')).toEqual(bin('\x1b$)C\xc8\xab=\x1b$)C\xc8\xab'));
  });

  it('returns to a value-1 G1 set before a delimiter', () => {
    const s = sets('ISO 2022 IR 100\\ISO 2022 IR 126');
    const bytes = encodeText('é=Δ^é', s, 'PN');
    expect(bytes).toEqual(bin('\xe9=\x1b-F\xc4\x1b-A^\xe9'));
    expect(decodeText(bytes, s, 'PN')).toBe('é=Δ^é');
  });

  it('decodes Korean bytes that arrive without any escape sequence', () => {
    const s = sets('\\ISO 2022 IR 149');
    expect(decodeText(bin('\xb1\xe8\xc8\xf1\xc1\xdf'), s, 'PN')).toBe('김희중');
  });

  it('keeps an unknown escape sequence as literal characters and will not write ESC back', () => {
    const s = sets('\\ISO 2022 IR 87');
    expect(decodeText(bin('a\x1b%Gb'), s, 'LO')).toBe('a\x1b%Gb');
    expect(() => encodeText('a\x1b%Gb', s, 'LO')).toThrow(/U\+001B/);
  });

  it('switches between half-width Katakana in G1 and Kanji in G0 inside one value', () => {
    const s = sets('ISO 2022 IR 13\\ISO 2022 IR 87');
    const text = 'ｱ山ｱ';
    const bytes = encodeText(text, s, 'LO');
    // G1 Katakana stays invoked while G0 holds Kanji; G0 returns to Romaji (value 1) at the end.
    expect(bytes).toEqual(bin('\xb1\x1b$B;3\xb1\x1b(J'));
    expect(decodeText(bytes, s, 'LO')).toBe(text);
  });
});

describe('errors for unrepresentable characters', () => {
  it.each([
    ['', 'Jérôme', 0xe9],
    ['ISO_IR 100', 'Ωmega', 0x3a9],
    ['ISO_IR 144', 'Jérôme', 0xe9],
    ['\\ISO 2022 IR 87', '홍', 0xd64d],
    ['\\ISO 2022 IR 149', '小东', 0x4e1c],
    ['\\ISO 2022 IR 58', '洪^吉洞=홍', 0xd64d],
    ['GBK', 'name \u{1F600}', 0x1f600],
    ['ISO_IR 13', 'ｱ山', 0x5c71],
  ])('%j cannot encode %j', (charset, text, codePoint) => {
    const s = sets(charset);
    try {
      encodeText(text, s, 'LO');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UnrepresentableCharacterError);
      const err = e as UnrepresentableCharacterError;
      expect(err.codePoint).toBe(codePoint);
      expect(err.message).toContain(`U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`);
    }
  });

  it('rejects a lone surrogate rather than writing U+FFFD', () => {
    expect(() => encodeText('a\ud800b', sets('ISO_IR 192'), 'LO')).toThrow(/U\+D800/);
    expect(() => encodeText('a\udc00', sets('GB18030'), 'LO')).toThrow(/U\+DC00/);
  });

  it('encodes characters outside the BMP where the set has them', () => {
    const emoji = 'x\u{1F600}';
    expect(decodeText(encodeText(emoji, sets('GB18030'), 'LO'), sets('GB18030'), 'LO')).toBe(emoji);
    expect(encodeText(emoji, sets('ISO_IR 192'), 'LO')).toEqual(hex('78 F0 9F 98 80'));
  });
});

describe('VRs not governed by Specific Character Set', () => {
  it('read and write Latin-1 whatever the character set', () => {
    const s = sets('ISO_IR 192');
    expect(decodeText(bin('AB\xe9'), s, 'CS')).toBe('ABé');
    expect(encodeText('ABé', s, 'CS')).toEqual(bin('AB\xe9'));
    expect(() => encodeText('A山', s, 'UI')).toThrow(UnrepresentableCharacterError);
  });
});

describe('properties', () => {
  const asciiText = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).filter((c) => c !== 0x1b).map((c) => String.fromCharCode(c)) });

  it('ASCII text encodes to its own bytes in every character set and decodes back', () => {
    fc.assert(
      fc.property(asciiText, fc.constantFrom(...ALL_TERMS), fc.constantFrom(...CHARSET_AWARE_VRS), (text, charset, vr) => {
        const s = sets(charset);
        const bytes = encodeText(text, s, vr);
        expect(bytes).toEqual(Uint8Array.from(text, (c) => c.charCodeAt(0)));
        expect(decodeText(bytes, s, vr)).toBe(text);
      }),
    );
  });

  const REPERTOIRES: readonly [string, string][] = [
    ['ISO_IR 100', 'aéÿ^=\\ Ä¿'],
    ['ISO_IR 144', 'aЖя^=\\ №'],
    ['ISO_IR 192', 'aé山홍^=\\ \u{1F600}'],
    ['GB18030', 'a张东é^=\\ \u{1F600}'],
    ['\\ISO 2022 IR 87', 'a山田やま^=\\ ー'],
    ['ISO 2022 IR 13\\ISO 2022 IR 87\\ISO 2022 IR 159', 'aｱﾞ山鷗^=\\ \r\n'],
    ['\\ISO 2022 IR 149', 'a홍길동洪^=\\ \t'],
    ['\\ISO 2022 IR 58', 'a张小东^=\\ '],
    ['ISO 2022 IR 100\\ISO 2022 IR 126\\ISO 2022 IR 144', 'aéΔЖ^=\\ '],
  ];

  it.each(REPERTOIRES)('%j: decodeText(encodeText(s)) === s for strings from its repertoire', (charset, pool) => {
    const s = sets(charset);
    const chars = [...pool];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...chars), { maxLength: 24 }), fc.constantFrom(...CHARSET_AWARE_VRS), (parts, vr) => {
        const text = parts.join('');
        expect(decodeText(encodeText(text, s, vr), s, vr)).toBe(text);
      }),
    );
  });

  it.each([
    ['\\ISO 2022 IR 87', '\x1b$B', 0x00],
    ['\\ISO 2022 IR 159', '\x1b$(D', 0x00],
    ['\\ISO 2022 IR 149', '\x1b$)C', 0x80],
    ['\\ISO 2022 IR 58', '\x1b$)A', 0x80],
  ])('%j: every decodable two-byte code re-encodes to a code that decodes to the same character', (charset, designation, high) => {
    const s = sets(charset);
    let decodable = 0;
    for (let r = 0x21; r <= 0x7e; r++) {
      for (let c = 0x21; c <= 0x7e; c++) {
        const bytes = new Uint8Array([...bin(designation), r | high, c | high]);
        const text = decodeText(bytes, s, 'LO');
        if (text === '\ufffd') continue;
        decodable++;
        expect(decodeText(encodeText(text, s, 'LO'), s, 'LO')).toBe(text);
      }
    }
    expect(decodable).toBeGreaterThan(5000);
  });

  it.each(ALL_TERMS.filter((t) => t.startsWith('ISO_IR')))('%j: every decodable byte re-encodes to itself', (charset) => {
    const s = sets(charset);
    for (let b = 0; b < 256; b++) {
      const text = decodeText(Uint8Array.of(b), s, 'LT');
      if (text === '\ufffd' || (b >= 0x80 && s.kind === 'default')) continue;
      expect(encodeText(text, s, 'LT')).toEqual(Uint8Array.of(b));
    }
  });

  it('long values decode in full', () => {
    const s = sets('ISO_IR 100');
    const text = 'é'.repeat(20_000) + 'x';
    expect(decodeText(encodeText(text, s, 'UT'), s, 'UT')).toBe(text);
    const jp = sets('\\ISO 2022 IR 87');
    const kanji = '山'.repeat(10_000);
    expect(decodeText(encodeText(kanji, jp, 'UT'), jp, 'UT')).toBe(kanji);
  });
});
