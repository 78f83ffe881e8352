/**
 * Encapsulated pixel data (PS3.5 A.4): a Basic Offset Table item, then fragment items, then a
 * Sequence Delimitation Item. This module maps fragments to frames and back; it never decodes.
 *
 * Frames are found, in order of trust: the Extended Offset Table (7FE0,0001/0002) when present;
 * the Basic Offset Table when not empty; one frame = all fragments when there is one frame; one
 * fragment per frame when the counts agree; otherwise the fragments that begin a codestream (JPEG
 * SOI FF D8, JPEG 2000 SOC FF 4F or a JP2 signature box) start the frames, as pydicom and GDCM
 * do for files without offsets.
 */
import type { FrameStart } from './syntax.js';

const ITEM = 0xe000;
const SEQUENCE_DELIMITER = 0xe0dd;

/** One fragment item: where its value lies, relative to the first fragment item (as offsets count). */
export interface Fragment {
  /** Offset of the item's header from the first byte of the first fragment item. */
  readonly offset: number;
  /** The item value (a view on the file's bytes). */
  readonly bytes: Uint8Array;
  /** The whole item: header and value, as found. */
  readonly item: Uint8Array;
}

export interface ItemList {
  /** The Basic Offset Table's entries (empty when the table is empty). */
  readonly basicOffsets: readonly number[];
  /** The Basic Offset Table item as found (header and value). */
  readonly offsetTableItem: Uint8Array;
  readonly fragments: readonly Fragment[];
}

/** A problem with the item structure (wording without any value of the file). */
export class EncapsulationProblem extends Error {}

/** Walks the item list by lengths. `bytes` is EncapsulatedElement.bytes. */
export function parseItems(bytes: Uint8Array): ItemList {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const header = (at: number): { element: number; length: number } => {
    if (at + 8 > bytes.length) throw new EncapsulationProblem('truncated item list');
    if (view.getUint16(at, true) !== 0xfffe) throw new EncapsulationProblem(`an item tag was expected at byte ${at} of the pixel data`);
    return { element: view.getUint16(at + 2, true), length: view.getUint32(at + 4, true) };
  };
  const bot = header(0);
  if (bot.element !== ITEM) throw new EncapsulationProblem('the Basic Offset Table item is missing');
  if (bot.length % 4 !== 0 || 8 + bot.length > bytes.length) throw new EncapsulationProblem(`the Basic Offset Table has an invalid length ${bot.length}`);
  const basicOffsets: number[] = [];
  for (let p = 8; p < 8 + bot.length; p += 4) basicOffsets.push(view.getUint32(p, true));
  const offsetTableItem = bytes.subarray(0, 8 + bot.length);
  pos = 8 + bot.length;
  const first = pos;
  const fragments: Fragment[] = [];
  for (;;) {
    const h = header(pos);
    if (h.element === SEQUENCE_DELIMITER) break;
    if (h.element !== ITEM) throw new EncapsulationProblem(`unexpected item (FFFE,${h.element.toString(16).toUpperCase()}) among the fragments`);
    if (pos + 8 + h.length > bytes.length) throw new EncapsulationProblem(`a fragment declares ${h.length} bytes past the end of the pixel data`);
    fragments.push({ offset: pos - first, bytes: bytes.subarray(pos + 8, pos + 8 + h.length), item: bytes.subarray(pos, pos + 8 + h.length) });
    pos += 8 + h.length;
  }
  return { basicOffsets, offsetTableItem, fragments };
}

/** An Extended Offset Table: per frame, the offset of its first fragment item and its length in bytes. */
export interface ExtendedOffsets {
  readonly offsets: readonly number[];
  readonly lengths: readonly number[];
}

function startsFrame(bytes: Uint8Array, start: FrameStart): boolean {
  if (start === 'jpeg') return bytes[0] === 0xff && bytes[1] === 0xd8;
  if (start === 'j2k') {
    if (bytes[0] === 0xff && bytes[1] === 0x4f) return true;
    // JP2 file format: a signature box "jP  " (length 12).
    return bytes[4] === 0x6a && bytes[5] === 0x50 && bytes[6] === 0x20 && bytes[7] === 0x20;
  }
  return false;
}

/**
 * The fragment indices of each frame (each frame a non-empty, contiguous run). Throws
 * EncapsulationProblem when the fragments cannot be matched to `frames` frames.
 */
export function frameFragments(list: ItemList, frames: number, start: FrameStart, extended?: ExtendedOffsets): number[][] {
  const { fragments } = list;
  if (fragments.length === 0) throw new EncapsulationProblem('the pixel data holds no fragment');
  const byOffset = (offsets: readonly number[], what: string): number[][] => {
    if (offsets.length !== frames) throw new EncapsulationProblem(`the ${what} has ${offsets.length} entries for ${frames} frames`);
    const groups: number[][] = [];
    let f = 0;
    for (let i = 0; i < frames; i++) {
      const begin = offsets[i]!;
      const end = i + 1 < frames ? offsets[i + 1]! : Infinity;
      if (fragments[f]?.offset !== begin) throw new EncapsulationProblem(`the ${what}'s entry for frame ${i} does not point at a fragment`);
      const group: number[] = [];
      while (f < fragments.length && fragments[f]!.offset < end) group.push(f++);
      groups.push(group);
    }
    return groups;
  };
  if (extended) return byOffset(extended.offsets, 'Extended Offset Table');
  if (list.basicOffsets.length > 0) return byOffset(list.basicOffsets, 'Basic Offset Table');
  if (frames === 1) return [fragments.map((_, i) => i)];
  if (fragments.length === frames) return fragments.map((_, i) => [i]);
  if (fragments.length < frames) throw new EncapsulationProblem(`${fragments.length} fragments for ${frames} frames`);
  if (start === 'any') throw new EncapsulationProblem(`${fragments.length} fragments for ${frames} frames and no offset table to group them`);
  const groups: number[][] = [];
  fragments.forEach((frag, i) => {
    if (i === 0 || startsFrame(frag.bytes, start)) groups.push([i]);
    else groups[groups.length - 1]!.push(i);
  });
  if (groups.length !== frames) throw new EncapsulationProblem(`${groups.length} codestreams found in ${fragments.length} fragments for ${frames} frames (no offset table)`);
  return groups;
}

/** A frame's codestream: the fragment itself when there is one (no copy), else their concatenation. */
export function frameBytes(list: ItemList, group: readonly number[]): Uint8Array {
  if (group.length === 1) return list.fragments[group[0]!]!.bytes;
  const total = group.reduce((n, i) => n + list.fragments[i]!.bytes.length, 0);
  const out = new Uint8Array(total);
  let p = 0;
  for (const i of group) {
    out.set(list.fragments[i]!.bytes, p);
    p += list.fragments[i]!.bytes.length;
  }
  return out;
}

function itemHeader(length: number, element = ITEM): Uint8Array {
  const h = new Uint8Array(8);
  const v = new DataView(h.buffer);
  v.setUint16(0, 0xfffe, true);
  v.setUint16(2, element, true);
  v.setUint32(4, length, true);
  return h;
}

/** One frame as it is to be written: the original fragment items, or a new codestream. */
export type FrameItems = { readonly kind: 'kept'; readonly items: readonly Uint8Array[] } | { readonly kind: 'new'; readonly codestream: Uint8Array };

export interface BuiltItems {
  /** The item list (offset table, fragments, delimiter) as one buffer. */
  readonly bytes: Uint8Array;
  /** Offset of each frame's first fragment item from the first fragment item. */
  readonly offsets: readonly number[];
  /** Each frame's length in bytes, item headers included (as the Extended Offset Table Lengths count). */
  readonly lengths: readonly number[];
}

/**
 * Builds a new item list. Kept frames keep their items byte for byte; a new codestream becomes
 * one fragment, padded with a zero byte to even length (PS3.5 A.4: fragments have even length;
 * trailing padding after a codestream's end marker is allowed). With `basicOffsetTable`, the
 * Basic Offset Table is filled in; otherwise it is empty (as with an Extended Offset Table).
 */
export function buildItems(frames: readonly FrameItems[], basicOffsetTable: boolean): BuiltItems {
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  const lengths: number[] = [];
  let pos = 0;
  for (const frame of frames) {
    offsets.push(pos);
    const start = pos;
    if (frame.kind === 'kept') {
      for (const item of frame.items) {
        parts.push(item);
        pos += item.length;
      }
    } else {
      const padded = frame.codestream.length % 2 === 0 ? frame.codestream : concat([frame.codestream, new Uint8Array(1)]);
      parts.push(itemHeader(padded.length), padded);
      pos += 8 + padded.length;
    }
    lengths.push(pos - start);
  }
  if (pos > 0xffffffff && basicOffsetTable) basicOffsetTable = false;
  let table: Uint8Array;
  if (basicOffsetTable) {
    table = new Uint8Array(8 + 4 * offsets.length);
    table.set(itemHeader(4 * offsets.length));
    const v = new DataView(table.buffer);
    offsets.forEach((o, i) => v.setUint32(8 + 4 * i, o, true));
  } else {
    table = itemHeader(0);
  }
  return { bytes: concat([table, ...parts, itemHeader(0, SEQUENCE_DELIMITER)]), offsets, lengths };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** Reads an Extended Offset Table pair of OV values (little endian, 64-bit each). */
export function readExtendedOffsets(offsets: Uint8Array, lengths: Uint8Array): ExtendedOffsets {
  const read = (b: Uint8Array): number[] => {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const out: number[] = [];
    for (let p = 0; p + 8 <= b.length; p += 8) out.push(Number(v.getBigUint64(p, true)));
    return out;
  };
  return { offsets: read(offsets), lengths: read(lengths) };
}

/** Encodes numbers as OV (64-bit little endian). */
export function encodeOV(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const v = new DataView(out.buffer);
  values.forEach((n, i) => v.setBigUint64(8 * i, BigInt(n), true));
  return out;
}
