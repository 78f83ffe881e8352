/**
 * Specific Character Set (0008,0005): decoding and encoding of the text VRs it governs
 * (PS3.5 6.1, PS3.3 C.12.1.1.2, worked examples in PS3.5 Annexes H, I, J and K).
 *
 * Decoding is forgiving, because real files are not always conformant: undecodable bytes
 * become U+FFFD, unknown escape sequences are kept as literal characters, and any escape
 * sequence this module knows is honoured even when its set is not declared.
 * Encoding is strict, because the output is written into files: it only uses the declared
 * sets, emits the escape sequences the standard requires, and throws
 * `UnrepresentableCharacterError` instead of substituting anything.
 *
 * Decode and encode whole element values and split on '\' afterwards: in GBK, GB18030 and
 * ISO 2022 IR 87/159 the bytes of one multi-byte character can include 0x5C, so splitting
 * the raw bytes first corrupts text.
 */
import iconv from 'iconv-lite';
import { VR_TRAITS, type VR } from './vr.js';

export type CharacterSetKind = 'default' | 'single-byte' | 'utf-8' | 'gb18030' | 'gbk' | 'iso2022';

/** A (0008,0005) value names a character set this module does not know. */
export class UnknownCharacterSetError extends Error {
  override readonly name = 'UnknownCharacterSetError';
  constructor(readonly term: string) {
    super(`unknown Specific Character Set (0008,0005) term '${term}'`);
  }
}

/** A character cannot be written in the element's character sets. */
export class UnrepresentableCharacterError extends Error {
  override readonly name = 'UnrepresentableCharacterError';
  constructor(
    readonly codePoint: number,
    /** UTF-16 index of the character in the text being encoded. */
    readonly index: number,
    readonly characterSets: string,
  ) {
    const sets = characterSets === '' ? "'' (the default repertoire, ASCII)" : `'${characterSets}'`;
    super(`character ${formatCodePoint(codePoint)} at index ${index} cannot be encoded in Specific Character Set ${sets}`);
  }
}

function formatCodePoint(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  // Printing controls and surrogates would garble the message.
  const printable = cp >= 0x20 && !(cp >= 0x7f && cp < 0xa0) && !(cp >= 0xd800 && cp < 0xe000);
  return printable ? `${hex} '${String.fromCodePoint(cp)}'` : hex;
}

// ---------------------------------------------------------------------------------------
// Shared helpers

const ESC = 0x1b;
const REPLACEMENT = 0xfffd;

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

const decoderCache = new Map<string, TextDecoder>();
/** One TextDecoder per label for the life of the process; creating them is not free. */
function textDecoder(label: string): TextDecoder {
  let d = decoderCache.get(label);
  if (d === undefined) {
    d = new TextDecoder(label, { ignoreBOM: true });
    decoderCache.set(label, d);
  }
  return d;
}

const utf8Encoder = new TextEncoder();

const CHUNK = 8192;

/** Latin-1 byte-to-code-point identity (not TextDecoder's 'latin1', which is windows-1252). */
function latin1(bytes: Uint8Array): string {
  if (bytes.length <= CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** String.fromCharCode over an array, chunked to stay below the engine's argument limit. */
function fromCharCodes(codes: Uint16Array | readonly number[]): string {
  if (codes.length <= CHUNK) return String.fromCharCode.apply(null, codes as number[]);
  let s = '';
  for (let i = 0; i < codes.length; i += CHUNK) {
    s += String.fromCharCode.apply(null, codes.slice(i, i + CHUNK) as number[]);
  }
  return s;
}

function isAsciiBytes(bytes: Uint8Array, allowEsc: boolean): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x80 || (b === ESC && !allowEsc)) return false;
  }
  return true;
}

/** The ASCII bytes of `text`, or undefined as soon as a character needs real encoding. */
function asciiBytes(text: string, allowEsc: boolean): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80 || (c === ESC && !allowEsc)) return undefined;
    out[i] = c;
  }
  return out;
}

/** The first unpaired surrogate in `text`, or -1: no encoder may silently turn it into U+FFFD. */
function loneSurrogateIndex(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

class ByteWriter {
  private buf: Uint8Array;
  private len = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }
  bytes(bs: readonly number[]): void {
    this.room(bs.length);
    for (const b of bs) this.buf[this.len++] = b;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

// ---------------------------------------------------------------------------------------
// Code elements: the graphic sets that ISO 2022 designates into G0 or G1

/** 256-entry table for an ISO 8859-style set; bytes below 0xA0 map to themselves. */
interface SingleByteTable {
  readonly decode: Uint16Array;
  readonly encode: ReadonlyMap<number, number>;
}

function singleByteTable(upperHalf: (b: number) => number): SingleByteTable {
  const decode = new Uint16Array(256);
  const encode = new Map<number, number>();
  for (let b = 0; b < 256; b++) {
    const cp = b < 0xa0 ? b : upperHalf(b);
    decode[b] = cp;
    if (b >= 0xa0 && cp !== REPLACEMENT && !encode.has(cp)) encode.set(cp, b);
  }
  return { decode, encode };
}

function tableFromLabel(label: string): SingleByteTable {
  const d = textDecoder(label);
  return singleByteTable((b) => {
    const s = d.decode(Uint8Array.of(b));
    const cp = s.length === 1 ? s.charCodeAt(0) : REPLACEMENT;
    // ICU fills positions that ISO 8859 / TIS-620 leave undefined with private-use code points.
    return cp >= 0xe000 && cp <= 0xf8ff ? REPLACEMENT : cp;
  });
}

// JIS X 0201 katakana (ISO-IR 13) sits at 0xA1-0xDF and maps linearly onto half-width katakana.
const katakanaTable = lazy(() => singleByteTable((b) => (b >= 0xa1 && b <= 0xdf ? 0xff61 + (b - 0xa1) : REPLACEMENT)));

/**
 * A 94x94 double-byte set. The byte pairs are mapped onto the EUC form that a TextDecoder
 * understands, and the encoding table is the exact inverse of that decoder, so anything
 * decoded re-encodes to the same bytes.
 */
interface DoubleByteCoder {
  /** Decodes bytes[start, end), each in 0x21-0x7E (G0) or 0xA1-0xFE (G1). */
  decodeRun(bytes: Uint8Array, start: number, end: number): string;
  /** The pair as (row byte << 8 | cell byte) in 0x21-0x7E form, or -1. */
  encode(cp: number, allowNonStandardRows: boolean): number;
}

function doubleByteCoder(label: string, prefix: number | undefined, isStandardRow: (row: number) => boolean): DoubleByteCoder {
  const width = prefix === undefined ? 2 : 3;
  const decoder = textDecoder(label);
  const tables = lazy(() => {
    // One decode call for all 8836 pairs, newline-separated; an undefined pair yields a single
    // U+FFFD because its second byte is not ASCII, so the split stays aligned.
    const buf = new Uint8Array(94 * 94 * (width + 1));
    let p = 0;
    for (let r = 0xa1; r <= 0xfe; r++) {
      for (let c = 0xa1; c <= 0xfe; c++) {
        if (prefix !== undefined) buf[p++] = prefix;
        buf[p++] = r;
        buf[p++] = c;
        buf[p++] = 0x0a;
      }
    }
    const parts = decoder.decode(buf).split('\n');
    if (parts.length !== 94 * 94 + 1) throw new Error(`${label} decoder did not decode the 94x94 pairs one by one`);
    const standard = new Map<number, number>();
    const other = new Map<number, number>();
    let k = 0;
    for (let r = 0x21; r <= 0x7e; r++) {
      for (let c = 0x21; c <= 0x7e; c++) {
        const s = parts[k++] ?? '';
        const cp = s.codePointAt(0) ?? REPLACEMENT;
        if (cp === REPLACEMENT || s.length !== (cp > 0xffff ? 2 : 1)) continue;
        const map = isStandardRow(r - 0x20) ? standard : other;
        if (!map.has(cp)) map.set(cp, (r << 8) | c);
      }
    }
    return { standard, other };
  });
  return {
    decodeRun(bytes, start, end) {
      const pairs = (end - start) >> 1;
      const buf = new Uint8Array(pairs * width);
      let p = 0;
      for (let i = start; i + 1 < end; i += 2) {
        if (prefix !== undefined) buf[p++] = prefix;
        buf[p++] = bytes[i]! | 0x80;
        buf[p++] = bytes[i + 1]! | 0x80;
      }
      const text = decoder.decode(buf);
      return (end - start) % 2 === 1 ? text + '\ufffd' : text;
    },
    encode(cp, allowNonStandardRows) {
      const t = tables();
      return t.standard.get(cp) ?? (allowNonStandardRows ? t.other.get(cp) ?? -1 : -1);
    },
  };
}

// JIS X 0208 defines rows 1-8 and 16-84; the decoder also knows vendor rows (NEC row 13,
// IBM extensions in rows 89-92), which are used for encoding only as a last resort so that a
// character also present in JIS X 0212 goes there instead.
const jis0208 = lazy(() => doubleByteCoder('euc-jp', undefined, (row) => row <= 8 || (row >= 16 && row <= 84)));
const jis0212 = lazy(() => doubleByteCoder('euc-jp', 0x8f, () => true));
const ksx1001 = lazy(() => doubleByteCoder('euc-kr', undefined, () => true));
const gb2312 = lazy(() => doubleByteCoder('gb18030', undefined, () => true));

type CodeElement =
  | { readonly kind: 'ascii'; readonly plane: 0; readonly esc: readonly number[] }
  | { readonly kind: 'sb'; readonly plane: 1; readonly esc: readonly number[]; readonly table: () => SingleByteTable }
  | { readonly kind: 'db'; readonly plane: 0 | 1; readonly esc: readonly number[]; readonly coder: () => DoubleByteCoder };

const escOf = (s: string): number[] => [ESC, ...Array.from(s, (c) => c.charCodeAt(0))];

const ASCII: CodeElement = { kind: 'ascii', plane: 0, esc: escOf('(B') };
// JIS X 0201 Romaji differs from ASCII only at 0x5C (YEN SIGN) and 0x7E (OVERLINE); it is
// handled as ASCII, as other toolkits do, because 0x5C must stay the DICOM value delimiter.
const ROMAJI: CodeElement = { kind: 'ascii', plane: 0, esc: escOf('(J') };
const KATAKANA: CodeElement = { kind: 'sb', plane: 1, esc: escOf(')I'), table: katakanaTable };
const JIS0208: CodeElement = { kind: 'db', plane: 0, esc: escOf('$B'), coder: jis0208 };
const JIS0212: CodeElement = { kind: 'db', plane: 0, esc: escOf('$(D'), coder: jis0212 };
const KSX1001: CodeElement = { kind: 'db', plane: 1, esc: escOf('$)C'), coder: ksx1001 };
const GB2312: CodeElement = { kind: 'db', plane: 1, esc: escOf('$)A'), coder: gb2312 };

const latin1Table = lazy(() => singleByteTable((b) => b));

function sb96(final: string, label: string | null): CodeElement {
  return {
    kind: 'sb',
    plane: 1,
    esc: escOf(`-${final}`),
    table: label === null ? latin1Table : lazy(() => tableFromLabel(label)),
  };
}

// WHATWG/ICU windows-1254 and windows-874 equal ISO 8859-9 and TIS-620 from 0xA0 up, and
// only bytes from 0xA0 up are taken from the decoder.
const SINGLE_BYTE: Readonly<Record<number, CodeElement>> = {
  100: sb96('A', null),
  101: sb96('B', 'iso-8859-2'),
  109: sb96('C', 'iso-8859-3'),
  110: sb96('D', 'iso-8859-4'),
  144: sb96('L', 'iso-8859-5'),
  127: sb96('G', 'iso-8859-6'),
  126: sb96('F', 'iso-8859-7'),
  138: sb96('H', 'iso-8859-8'),
  148: sb96('M', 'windows-1254'),
  203: sb96('b', 'iso-8859-15'),
  166: sb96('T', 'windows-874'),
  13: KATAKANA,
};

/** Escape sequences recognised while decoding (the bytes after ESC). */
const ESCAPES: ReadonlyMap<string, CodeElement> = new Map<string, CodeElement>([
  ['(B', ASCII],
  ['(J', ROMAJI],
  [')I', KATAKANA],
  ['$B', JIS0208],
  ['$@', JIS0208], // JIS C 6226-1978, decoded with the JIS X 0208 table it became
  ['$(D', JIS0212],
  ['$)C', KSX1001],
  ['$)A', GB2312],
  ...Object.values(SINGLE_BYTE)
    .filter((e) => e !== KATAKANA)
    .map((e): [string, CodeElement] => [String.fromCharCode(...e.esc.slice(1)), e]),
]);

// ---------------------------------------------------------------------------------------
// Defined terms (PS3.3 Tables C.12-2 to C.12-5)

interface TermDef {
  readonly standalone?: 'utf-8' | 'gb18030' | 'gbk';
  readonly iso2022: boolean;
  readonly g0?: CodeElement;
  readonly g1?: CodeElement;
}

const TERMS = new Map<string, TermDef>([
  ['', { iso2022: false, g0: ASCII }],
  ['ISO 2022 IR 6', { iso2022: true, g0: ASCII }],
  ['ISO_IR 192', { iso2022: false, standalone: 'utf-8' }],
  ['GB18030', { iso2022: false, standalone: 'gb18030' }],
  ['GBK', { iso2022: false, standalone: 'gbk' }],
  ['ISO 2022 IR 87', { iso2022: true, g0: JIS0208 }],
  ['ISO 2022 IR 159', { iso2022: true, g0: JIS0212 }],
  ['ISO 2022 IR 149', { iso2022: true, g1: KSX1001 }],
  ['ISO 2022 IR 58', { iso2022: true, g1: GB2312 }],
]);
for (const [ir, element] of Object.entries(SINGLE_BYTE)) {
  const g0 = element === KATAKANA ? ROMAJI : ASCII;
  TERMS.set(`ISO_IR ${ir}`, { iso2022: false, g0, g1: element });
  TERMS.set(`ISO 2022 IR ${ir}`, { iso2022: true, g0, g1: element });
}

const STANDALONE_IR = new Set(['192']);
const MULTI_BYTE_IR = new Set(['87', '159', '149', '58']);
const SEP = '[\\s_\\-+.]*';
const ISO2022_SPELLING = new RegExp(`^ISO${SEP}2022${SEP}(?:IR${SEP})?(\\d+)$`);
const ISO_IR_SPELLING = new RegExp(`^ISO${SEP}IR${SEP}(\\d+)$`);

/** The defined term a possibly misspelt value stands for. */
function normaliseTerm(value: string): string {
  if (TERMS.has(value)) return value;
  const up = value.toUpperCase();
  if (up === 'ISO_IR 6') return '';
  if (TERMS.has(up)) return up;
  let m = ISO2022_SPELLING.exec(up);
  if (m) {
    const ir = m[1]!;
    const term = STANDALONE_IR.has(ir) ? `ISO_IR ${ir}` : `ISO 2022 IR ${ir}`;
    if (TERMS.has(term)) return term;
  }
  m = ISO_IR_SPELLING.exec(up);
  if (m) {
    const ir = m[1]!;
    if (ir === '6') return '';
    const term = MULTI_BYTE_IR.has(ir) ? `ISO 2022 IR ${ir}` : `ISO_IR ${ir}`;
    if (TERMS.has(term)) return term;
  }
  const compact = up.replace(/[\s_\-.]/g, '');
  if (compact === 'GB18030') return 'GB18030';
  if (compact === 'GBK' || compact === 'ISO2022GBK') return 'GBK';
  throw new UnknownCharacterSetError(value);
}

function toIso2022(term: string): string {
  return term.startsWith('ISO_IR ') ? `ISO 2022 IR ${term.slice(7)}` : term;
}

// ---------------------------------------------------------------------------------------
// The parsed (0008,0005)

/** A parsed, validated Specific Character Set. Obtain one from `parseSpecificCharacterSet`. */
export class CharacterSets {
  /** The normalised defined terms, value 1 first; '' is the default repertoire. */
  readonly terms: readonly string[];
  readonly kind: CharacterSetKind;
  /** Spelling corrections and ignored values, for the caller to log against the file. */
  readonly warnings: readonly string[];

  readonly #initialG0: CodeElement;
  readonly #initialG1: CodeElement | undefined;
  /** Sets that may be designated, in the order (0008,0005) lists them. */
  readonly #elements: readonly CodeElement[];
  /** Used for G1 bytes that arrive with nothing designated in G1 (a common omission). */
  readonly #fallbackG1: CodeElement | undefined;

  /** @internal Checks only that the terms exist; parseSpecificCharacterSet also corrects spellings, checks combinations and caches. */
  constructor(terms: readonly string[], warnings: readonly string[] = []) {
    const unknown = terms.find((t) => !TERMS.has(t));
    if (unknown !== undefined || terms.length === 0) throw new UnknownCharacterSetError(unknown ?? '');
    this.terms = Object.freeze([...terms]);
    this.warnings = Object.freeze([...warnings]);
    const defs = terms.map((t) => TERMS.get(t)!);
    const first = defs[0]!;
    const iso2022 = terms.length > 1 || first.iso2022;
    this.kind = first.standalone ?? (iso2022 ? 'iso2022' : terms[0] === '' ? 'default' : 'single-byte');
    this.#initialG0 = first.g0 ?? ASCII;
    this.#initialG1 = first.g1;
    const elements: CodeElement[] = [];
    for (const d of defs) {
      for (const e of [d.g1, d.g0]) {
        if (e !== undefined && e.kind !== 'ascii' && !elements.includes(e)) elements.push(e);
      }
    }
    this.#elements = elements;
    this.#fallbackG1 = elements.find((e) => e.plane === 1 && e !== this.#initialG1);
  }

  /** The value as it would be written back to (0008,0005). */
  toString(): string {
    return this.terms.join('\\');
  }

  decode(bytes: Uint8Array, vr: VR): string {
    if (!VR_TRAITS[vr].charsetAware) return latin1(bytes);
    const kind = this.kind;
    if (isAsciiBytes(bytes, kind !== 'iso2022')) return latin1(bytes);
    switch (kind) {
      case 'default':
        // Not valid in the default repertoire, but Latin-1 is what such files almost always mean.
        return latin1(bytes);
      case 'single-byte': {
        const table = (this.#initialG1 as Extract<CodeElement, { kind: 'sb' }>).table().decode;
        if (table === latin1Table().decode) return latin1(bytes);
        const codes = new Uint16Array(bytes.length);
        for (let i = 0; i < bytes.length; i++) codes[i] = table[bytes[i]!]!;
        return fromCharCodes(codes);
      }
      case 'utf-8':
        return textDecoder('utf-8').decode(bytes);
      case 'gb18030':
      case 'gbk':
        // The WHATWG/ICU GBK decoder is the GB18030 one, a superset that is harmless for decoding.
        return textDecoder('gb18030').decode(bytes);
      case 'iso2022':
        return this.#decode2022(bytes, vr);
    }
  }

  encode(text: string, vr: VR): Uint8Array {
    if (!VR_TRAITS[vr].charsetAware) return encodeLatin1(text, this.toString());
    const kind = this.kind;
    const ascii = asciiBytes(text, kind !== 'iso2022');
    if (ascii !== undefined) return ascii;
    const surrogate = loneSurrogateIndex(text);
    if (surrogate >= 0) throw new UnrepresentableCharacterError(text.charCodeAt(surrogate), surrogate, this.toString());
    switch (kind) {
      case 'default':
        for (let i = 0; i < text.length; i++) {
          if (text.charCodeAt(i) >= 0x80) throw new UnrepresentableCharacterError(text.codePointAt(i)!, i, this.toString());
        }
        throw new Error('unreachable');
      case 'single-byte': {
        const map = (this.#initialG1 as Extract<CodeElement, { kind: 'sb' }>).table().encode;
        const out = new Uint8Array(text.length);
        for (let i = 0; i < text.length; i++) {
          const c = text.charCodeAt(i);
          const b = c < 0xa0 ? c : map.get(c);
          if (b === undefined) throw new UnrepresentableCharacterError(text.codePointAt(i)!, i, this.toString());
          out[i] = b;
        }
        return out;
      }
      case 'utf-8':
        return utf8Encoder.encode(text);
      case 'gb18030':
      case 'gbk':
        return this.#encodeGb(text, kind);
      case 'iso2022':
        return this.#encode2022(text, vr);
    }
  }

  #encodeGb(text: string, encoding: 'gb18030' | 'gbk'): Uint8Array {
    const check = textDecoder('gb18030');
    // iconv-lite writes '?' for what it cannot encode; reading the bytes back with the same
    // decoder as decodeText catches that and any table disagreement between the two libraries.
    const bytes = new Uint8Array(iconv.encode(text, encoding));
    if (check.decode(bytes) === text) return bytes;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      if (check.decode(iconv.encode(ch, encoding)) !== ch) throw new UnrepresentableCharacterError(cp, i, this.toString());
      i += ch.length;
    }
    throw new Error(`${encoding} encoding of the text does not read back identically`);
  }

  /** PS3.5 6.1.2.5.3: the value-1 sets are restored at these characters. */
  static #isDelimiter(c: number, vr: VR): boolean {
    if (c === 0x5c) return vr !== 'LT' && vr !== 'ST' && vr !== 'UT';
    return (c === 0x5e || c === 0x3d) && vr === 'PN';
  }

  #decode2022(bytes: Uint8Array, vr: VR): string {
    const init0 = this.#initialG0;
    const init1 = this.#initialG1;
    let g0 = init0;
    let g1 = init1;
    let out = '';
    let codes: number[] = [];
    const flush = (): void => {
      if (codes.length > 0) {
        out += fromCharCodes(codes);
        codes = [];
      }
    };
    const n = bytes.length;
    let i = 0;
    while (i < n) {
      const b = bytes[i]!;
      if (b === ESC) {
        const seq = readEscape(bytes, i);
        const element = seq === undefined ? undefined : ESCAPES.get(seq);
        if (element !== undefined) {
          if (element.plane === 0) g0 = element;
          else g1 = element;
          i += 1 + seq!.length;
        } else {
          codes.push(b);
          i++;
        }
        continue;
      }
      if (b < 0x20 || (b >= 0x80 && b < 0xa0)) {
        codes.push(b);
        g0 = init0;
        g1 = init1;
        i++;
        continue;
      }
      if (b < 0x80) {
        if (g0.kind === 'db' && b !== 0x20 && b !== 0x7f) {
          // A delimiter byte here is half of a two-byte character, not a delimiter.
          let j = i + 1;
          while (j < n && bytes[j]! >= 0x21 && bytes[j]! <= 0x7e) j++;
          flush();
          out += g0.coder().decodeRun(bytes, i, j);
          i = j;
          continue;
        }
        codes.push(b);
        if (CharacterSets.#isDelimiter(b, vr)) {
          g0 = init0;
          g1 = init1;
        }
        i++;
        continue;
      }
      const e1 = g1 ?? this.#fallbackG1;
      if (e1 === undefined) {
        codes.push(b);
        i++;
      } else if (e1.kind === 'sb') {
        codes.push(e1.table().decode[b]!);
        i++;
      } else if (e1.kind === 'db') {
        let j = i;
        while (j < n && bytes[j]! >= 0xa1 && bytes[j]! <= 0xfe) j++;
        if (j === i) {
          codes.push(REPLACEMENT);
          i++;
        } else {
          flush();
          out += e1.coder().decodeRun(bytes, i, j);
          i = j;
        }
      } else {
        codes.push(b);
        i++;
      }
    }
    flush();
    return out;
  }

  #encode2022(text: string, vr: VR): Uint8Array {
    const init0 = this.#initialG0;
    const init1 = this.#initialG1;
    const backToAscii = init0.kind === 'ascii' ? init0 : ASCII;
    let g0 = init0;
    let g1 = init1;
    const w = new ByteWriter(text.length * 3 + 8);
    const restore = (): void => {
      if (g0 !== init0) {
        w.bytes(init0.esc);
        g0 = init0;
      }
      if (g1 !== init1) {
        if (init1 !== undefined) w.bytes(init1.esc);
        g1 = init1;
      }
    };
    const tryElement = (e: CodeElement, cp: number, lenient: boolean): boolean => {
      if (e.kind === 'sb') {
        const b = e.table().encode.get(cp);
        if (b === undefined) return false;
        if (g1 !== e) {
          w.bytes(e.esc);
          g1 = e;
        }
        w.byte(b);
        return true;
      }
      if (e.kind === 'db') {
        const pair = e.coder().encode(cp, lenient);
        if (pair < 0) return false;
        if (e.plane === 0 ? g0 !== e : g1 !== e) {
          w.bytes(e.esc);
          if (e.plane === 0) g0 = e;
          else g1 = e;
        }
        const high = e.plane === 1 ? 0x80 : 0;
        w.byte((pair >> 8) | high);
        w.byte((pair & 0xff) | high);
        return true;
      }
      return false;
    };
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const size = cp > 0xffff ? 2 : 1;
      if (cp === ESC) throw new UnrepresentableCharacterError(cp, i, this.toString());
      if (cp < 0x20 || (cp >= 0x80 && cp < 0xa0) || CharacterSets.#isDelimiter(cp, vr)) {
        restore();
        w.byte(cp);
      } else if (cp < 0x80) {
        if (g0.kind !== 'ascii') {
          w.bytes(backToAscii.esc);
          g0 = backToAscii;
        }
        w.byte(cp);
      } else if (!this.#encodeOne(cp, g0, g1, tryElement)) {
        throw new UnrepresentableCharacterError(cp, i, this.toString());
      }
      i += size;
    }
    restore();
    return w.result();
  }

  /** Prefers the sets already designated, to keep escape sequences few, then declaration order. */
  #encodeOne(
    cp: number,
    g0: CodeElement,
    g1: CodeElement | undefined,
    tryElement: (e: CodeElement, cp: number, lenient: boolean) => boolean,
  ): boolean {
    for (const lenient of [false, true]) {
      if (g1 !== undefined && tryElement(g1, cp, lenient)) return true;
      if (g0.kind === 'db' && tryElement(g0, cp, lenient)) return true;
      for (const e of this.#elements) {
        if (e !== g0 && e !== g1 && tryElement(e, cp, lenient)) return true;
      }
    }
    return false;
  }
}

/** The bytes after ESC up to and including the final byte (ISO 2022 6.3), if well formed. */
function readEscape(bytes: Uint8Array, at: number): string | undefined {
  let j = at + 1;
  let s = '';
  while (j < bytes.length && bytes[j]! >= 0x20 && bytes[j]! <= 0x2f && s.length < 3) s += String.fromCharCode(bytes[j++]!);
  const final = bytes[j];
  if (final === undefined || final < 0x30 || final > 0x7e || s.length === 0) return undefined;
  return s + String.fromCharCode(final);
}

function encodeLatin1(text: string, sets: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new UnrepresentableCharacterError(text.codePointAt(i)!, i, sets);
    out[i] = c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Public functions

const parsedCache = new Map<string, CharacterSets>();
const PARSED_CACHE_LIMIT = 1024;

/**
 * Parses the raw (0008,0005) value: backslash-separated, padding ignored, an empty value 1
 * meaning the default repertoire. Common misspellings ('ISO-IR 100', 'ISO_IR100',
 * 'ISO 2022 IR100', 'ISO_IR 13' next to code extensions) are corrected with a warning, as are
 * GB18030/GBK/ISO_IR 192 next to other values (they allow no code extensions, so the others
 * are dropped). Throws `UnknownCharacterSetError` for anything else. Results are cached by the
 * raw string, so calling this once per element is cheap.
 */
export function parseSpecificCharacterSet(value: string | undefined): CharacterSets {
  const raw = value ?? '';
  let sets = parsedCache.get(raw);
  if (sets === undefined) {
    sets = buildCharacterSets(raw);
    // Bounded because the key comes from untrusted files.
    if (parsedCache.size >= PARSED_CACHE_LIMIT) parsedCache.clear();
    parsedCache.set(raw, sets);
  }
  return sets;
}

function buildCharacterSets(raw: string): CharacterSets {
  const warnings: string[] = [];
  const values = raw.split('\\').map((v) => v.replace(/^[\s\0]+|[\s\0]+$/g, ''));
  const terms = values.map((v) => {
    const term = normaliseTerm(v);
    if (term !== v && !(term === '' && v.toUpperCase() === 'ISO_IR 6')) warnings.push(`Specific Character Set '${v}' read as '${term}'`);
    return term;
  });
  let first = terms[0]!;
  let rest = terms.slice(1).filter((t) => t !== '');
  const standalone = rest.find((t) => TERMS.get(t)!.standalone !== undefined);
  if (first === '' && standalone !== undefined) {
    // '\ISO_IR 192' and the like: the empty value 1 cannot be meant literally next to a set
    // that replaces the whole repertoire.
    warnings.push(`'${standalone}' allows no code extensions; reading '${raw}' as '${standalone}'`);
    return new CharacterSets([standalone], warnings);
  }

  const firstDef = TERMS.get(first)!;
  if (firstDef.standalone !== undefined) {
    if (rest.length > 0) warnings.push(`'${first}' allows no code extensions; ignoring ${rest.map((t) => `'${t}'`).join(', ')}`);
    return new CharacterSets([first], warnings);
  }
  rest = rest.filter((t) => {
    if (TERMS.get(t)!.standalone === undefined) return true;
    warnings.push(`'${t}' cannot be used as a code extension; ignoring it`);
    return false;
  });
  if (first.startsWith('ISO 2022 IR ') && MULTI_BYTE_IR.has(first.slice('ISO 2022 IR '.length))) {
    // Multi-byte sets are only allowed as value 2..n; value 1 then is the default repertoire.
    warnings.push(`'${first}' cannot be value 1; assuming the default repertoire as value 1`);
    rest = [first, ...rest];
    first = '';
  }
  if (rest.length === 0) return new CharacterSets([first], warnings);

  const ext = [first, ...rest].map((t, i) => {
    const fixed = i === 0 && t === '' ? t : toIso2022(t);
    if (fixed !== t) warnings.push(`'${t}' used with code extensions; read as '${fixed}'`);
    return fixed;
  });
  return new CharacterSets(ext.filter((t, i) => ext.indexOf(t) === i), warnings);
}

/**
 * Decodes the bytes of one element value (all of its values, with their '\' delimiters).
 * VRs that (0008,0005) does not govern are read as Latin-1, which keeps every byte.
 */
export function decodeText(bytes: Uint8Array, sets: CharacterSets, vr: VR): string {
  return sets.decode(bytes, vr);
}

/**
 * Encodes text for one element value in the file's own character sets: the inverse of
 * `decodeText`. ASCII text always yields its ASCII bytes. For ISO 2022 sets the escape
 * sequences are emitted as PS3.5 6.1.2.5.3 requires, returning to the value-1 sets before
 * control characters, '\' (except in LT/ST/UT), '^' and '=' in PN, and at the end.
 * Padding to even length is left to the caller. Throws `UnrepresentableCharacterError`
 * (which names the code point) for a character the sets cannot represent.
 */
export function encodeText(text: string, sets: CharacterSets, vr: VR): Uint8Array {
  return sets.encode(text, vr);
}
