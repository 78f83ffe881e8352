/**
 * Shared helpers for the unit tests: the fixture folder, building and editing datasets with
 * the project's own model, raw byte builders for hand-made (malformed) files, and searching
 * encoded files for planted strings.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { decodeText, encodeText, parseSpecificCharacterSet, type CharacterSets } from '../../../src/dicom/charset.js';
import { asciiValue, encodeAscii, type Dataset, type DicomFile, type Element } from '../../../src/dicom/dataset.js';
import { readDicom } from '../../../src/dicom/reader.js';
import { formatTag, Tags, type Tag } from '../../../src/dicom/tag.js';
import { VR_TRAITS, type VR } from '../../../src/dicom/vr.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../../fixtures/dicom/', import.meta.url));
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export function fixturePath(name: string): string {
  return join(FIXTURES, name);
}

export function fixtureBytes(name: string): Buffer {
  return readFileSync(fixturePath(name));
}

export function readFixture(name: string): DicomFile {
  return readDicom(fixtureBytes(name));
}

/** The character sets of a dataset (top level). */
export function charsetsOf(ds: Dataset): CharacterSets {
  return parseSpecificCharacterSet(asciiValue(ds.get(Tags.SpecificCharacterSet)));
}

/** A value element holding `text`, encoded for its VR (charset-aware VRs through `sets`), padded to even length. */
export function textElement(t: Tag, vr: VR, text: string, sets: CharacterSets = parseSpecificCharacterSet(undefined)): Element {
  const traits = VR_TRAITS[vr];
  if (traits.charsetAware) {
    const raw = encodeText(text, sets, vr);
    const bytes = raw.length % 2 === 0 ? raw : Uint8Array.from([...raw, traits.pad]);
    return { kind: 'value', tag: t, vr, bytes };
  }
  return { kind: 'value', tag: t, vr, bytes: encodeAscii(text, traits.pad) };
}

export function binaryElement(t: Tag, vr: VR, bytes: Uint8Array): Element {
  return { kind: 'value', tag: t, vr, bytes };
}

export function sequence(t: Tag, items: Dataset[], vr: 'SQ' | 'UN' = 'SQ'): Element {
  return { kind: 'sequence', tag: t, vr, items };
}

/** Builds a dataset from elements. */
export function dataset(...elements: Element[]): Map<Tag, Element> {
  return new Map(elements.map((e) => [e.tag, e]));
}

/** The text of a value element, decoded in the given (or default) character sets, padding removed. */
export function text(el: Element | undefined, sets: CharacterSets = parseSpecificCharacterSet(undefined)): string | undefined {
  if (!el || el.kind !== 'value') return undefined;
  return decodeText(el.bytes, sets, el.vr).replace(/[\0 ]+$/, '');
}

export function valueBytes(el: Element | undefined): Uint8Array | undefined {
  if (!el || el.kind === 'sequence') return undefined;
  return el.bytes;
}

/** Every element of a dataset at every depth, with its path. */
export function* walk(ds: Dataset, prefix = ''): Generator<{ path: string; el: Element; parent: Dataset }> {
  for (const el of ds.values()) {
    const path = prefix + formatTag(el.tag);
    yield { path, el, parent: ds };
    if (el.kind === 'sequence') {
      for (let i = 0; i < el.items.length; i++) yield* walk(el.items[i]!, `${path}[${i}]`);
    }
  }
}

/**
 * Structural differences between two datasets: the same tags, kinds and VRs, the same value
 * bytes (an odd-length value may come back with its one padding byte), the same items.
 */
export function datasetDifferences(a: Dataset, b: Dataset, prefix = ''): string[] {
  const out: string[] = [];
  const tags = new Set([...a.keys(), ...b.keys()]);
  for (const t of [...tags].sort((x, y) => x - y)) {
    const path = prefix + formatTag(t);
    const x = a.get(t);
    const y = b.get(t);
    if (!x || !y) {
      out.push(`${path}: ${x ? 'missing after' : 'added after'}`);
      continue;
    }
    if (x.kind !== y.kind) {
      out.push(`${path}: kind ${x.kind} -> ${y.kind}`);
      continue;
    }
    if (x.vr !== y.vr) out.push(`${path}: VR ${x.vr} -> ${y.vr}`);
    if (x.kind === 'sequence' && y.kind === 'sequence') {
      if (x.items.length !== y.items.length) out.push(`${path}: ${x.items.length} items -> ${y.items.length}`);
      for (let i = 0; i < Math.min(x.items.length, y.items.length); i++) out.push(...datasetDifferences(x.items[i]!, y.items[i]!, `${path}[${i}]`));
      continue;
    }
    const xb = Buffer.from((x as { bytes: Uint8Array }).bytes);
    const yb = Buffer.from((y as { bytes: Uint8Array }).bytes);
    if (xb.equals(yb)) continue;
    const padded = xb.length % 2 === 1 && yb.length === xb.length + 1 && yb.subarray(0, xb.length).equals(xb) && (yb[xb.length] === 0x20 || yb[xb.length] === 0x00);
    if (!padded) out.push(`${path}: value bytes differ (${xb.length} -> ${yb.length} bytes)`);
  }
  return out;
}

/** sha256 of every file under `dir`, by relative path. */
export function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else out.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  visit(dir);
  return out;
}

export function listFiles(dir: string): string[] {
  return [...hashTree(dir).keys()];
}

/**
 * The bytes to search for planted strings: the file itself, and for a deflated transfer
 * syntax the inflated dataset as well (compressed bytes would hide any leak).
 */
export function searchableBytes(file: Uint8Array): Buffer[] {
  const buf = Buffer.from(file);
  const out = [buf];
  const parsed = readDicom(buf);
  if (parsed.transferSyntax.deflated) {
    // Preamble (128) + DICM (4) + (0002,0000) UL element (12), whose value is the meta length.
    const metaLength = buf.readUInt32LE(128 + 4 + 8);
    out.push(inflateRawSync(buf.subarray(128 + 4 + 12 + metaLength)));
  }
  return out;
}

/** Where `needle` occurs (case-insensitively) in any of the buffers, as latin1 or utf8 text; undefined if nowhere. */
export function findText(buffers: readonly Buffer[], needle: string): string | undefined {
  const lowered = needle.toLowerCase();
  for (const b of buffers) {
    for (const enc of ['latin1', 'utf8'] as const) {
      const hay = b.toString(enc).toLowerCase();
      const at = hay.indexOf(lowered);
      if (at >= 0) return `${enc} offset ${at}: …${JSON.stringify(b.toString(enc).slice(Math.max(0, at - 24), at + needle.length + 24))}…`;
    }
    // The exact bytes as well, for needles with characters outside Latin-1.
    const at = b.indexOf(Buffer.from(needle, 'utf8'));
    if (at >= 0) return `utf8 bytes at ${at}`;
  }
  return undefined;
}

/** Little builder for raw DICOM bytes in any byte order. */
export class RawBuilder {
  private readonly parts: Buffer[] = [];
  constructor(private readonly little = true) {}

  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.little) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    this.parts.push(b);
    return this;
  }

  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.little) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    this.parts.push(b);
    return this;
  }

  raw(b: Uint8Array | string): this {
    this.parts.push(typeof b === 'string' ? Buffer.from(b, 'latin1') : Buffer.from(b));
    return this;
  }

  tag(group: number, element: number): this {
    return this.u16(group).u16(element);
  }

  /** Explicit VR element header; `length` 0xFFFFFFFF for undefined length. */
  explicitHeader(group: number, element: number, vr: string, length: number): this {
    this.tag(group, element).raw(vr);
    if (VR_TRAITS[vr as VR]?.longLength) return this.u16(0).u32(length);
    return this.u16(length);
  }

  /** Explicit VR element with a value (not padded: callers choose). */
  explicit(group: number, element: number, vr: string, value: Uint8Array | string): this {
    const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value);
    return this.explicitHeader(group, element, vr, v.length).raw(v);
  }

  implicit(group: number, element: number, value: Uint8Array | string): this {
    const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value);
    return this.tag(group, element).u32(v.length).raw(v);
  }

  /** Item, item delimiter and sequence delimiter headers (always tag + 4-byte length). */
  item(length = 0xffffffff): this {
    return this.tag(0xfffe, 0xe000).u32(length);
  }

  itemEnd(): this {
    return this.tag(0xfffe, 0xe00d).u32(0);
  }

  sequenceEnd(): this {
    return this.tag(0xfffe, 0xe0dd).u32(0);
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Preamble, DICM and a file meta group (explicit VR little endian) stating `transferSyntax`. */
export function part10Header(transferSyntax: string, sopClass = '1.2.840.10008.5.1.4.1.1.7', sopInstance = '1.2.3.4.5.6'): Buffer {
  const pad = (s: string) => (s.length % 2 ? s + '\0' : s);
  const body = new RawBuilder()
    .explicit(0x0002, 0x0001, 'OB', Uint8Array.of(0, 1))
    .explicit(0x0002, 0x0002, 'UI', pad(sopClass))
    .explicit(0x0002, 0x0003, 'UI', pad(sopInstance))
    .explicit(0x0002, 0x0010, 'UI', pad(transferSyntax))
    .build();
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  const group = new RawBuilder().explicit(0x0002, 0x0000, 'UL', length).build();
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), group, body]);
}
