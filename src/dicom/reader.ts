/**
 * DICOM Part 10 reader.
 *
 * Hand-written rather than built on dcmjs or dicom-parser: de-identification must copy every
 * value it does not change byte for byte (encapsulated fragments and offset tables included),
 * keep big-endian and UN-encoded values as they are, and stay within a small multiple of a
 * plain file copy. dcmjs decodes every value into JavaScript objects and re-encodes on write
 * (measured ~13 ms/file); dicom-parser does not write. This reader only walks element headers
 * and keeps values as zero-copy slices of the input.
 */
import { inflateRawSync } from 'node:zlib';
import { vrOf } from './dictionary.js';
import { DicomParseError, NotDicomError } from './errors.js';
import {
  TRANSFER_SYNTAX,
  transferSyntaxOf,
  type Dataset,
  type DicomFile,
  type Element,
  type TransferSyntax,
} from './dataset.js';
import { isPrivate, isPrivateCreator, tag as makeTag, Tags, type Tag } from './tag.js';
import { vrFromBytes, VR_TRAITS, type VR } from './vr.js';

const UNDEFINED_LENGTH = 0xffffffff;
const MAX_DEPTH = 64;

interface Cursor {
  readonly buf: Uint8Array;
  readonly view: DataView;
  readonly little: boolean;
  readonly explicit: boolean;
}

function cursor(buf: Uint8Array, little: boolean, explicit: boolean): Cursor {
  return { buf, view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength), little, explicit };
}

function vrAt(buf: Uint8Array, pos: number): VR | undefined {
  if (pos + 1 >= buf.length) return undefined;
  return vrFromBytes(buf[pos]!, buf[pos + 1]!);
}

export interface ReadOptions {
  /** Stop before this tag (e.g. PixelData) when only the header is needed. */
  readonly untilTag?: Tag;
}

/** Parses a complete DICOM file held in memory. Throws DicomParseError / NotDicomError. */
export function readDicom(input: Uint8Array, options: ReadOptions = {}): DicomFile {
  try {
    return parseFile(input, options);
  } catch (e) {
    // Every bounds check is explicit; this is the net under them, so that a cut file can
    // never surface as anything but a parse error.
    if (e instanceof RangeError) throw new DicomParseError(`truncated or corrupt: a read went past the end of the data (${e.message})`);
    throw e;
  }
}

function parseFile(input: Uint8Array, options: ReadOptions): DicomFile {
  let pos = 0;
  let preamble = false;
  if (input.length >= 132 && input[128] === 0x44 && input[129] === 0x49 && input[130] === 0x43 && input[131] === 0x4d) {
    pos = 132;
    preamble = true;
  } else if (input.length >= 4 && input[0] === 0x44 && input[1] === 0x49 && input[2] === 0x43 && input[3] === 0x4d) {
    pos = 4;
    preamble = true;
  }
  if (input.length - pos < 8) throw new NotDicomError(preamble ? 'truncated: file ends after the DICM marker' : undefined);

  let meta: Map<Tag, Element> = new Map();
  let fileMeta = false;
  const metaView = cursor(input, true, true);
  if (metaView.view.getUint16(pos, true) === 0x0002) {
    fileMeta = true;
    // The meta group is always explicit VR little endian; it ends where group 0002 ends
    // (its group length element is not trusted: some writers omit or miscompute it).
    const explicitMeta = vrAt(input, pos + 4) !== undefined;
    const c = explicitMeta ? metaView : cursor(input, true, false);
    pos = parseElements(c, pos, input.length, meta, 0, undefined, (g) => g !== 0x0002);
  } else if (!preamble && !looksLikeDataset(input, pos)) {
    const misplaced = findElementHeader(input);
    if (misplaced > 0) {
      // Not "not DICOM": such a file holds a dataset and likely a patient's data; it must be
      // listed as failed (and quarantined) rather than skipped.
      throw new DicomParseError(`malformed: no preamble and no element at byte 0, but a DICOM element header at byte ${misplaced}`);
    }
    throw new NotDicomError();
  }

  let inferred = false;
  const tsElement = meta.get(Tags.TransferSyntaxUID);
  let tsUid = tsElement && tsElement.kind === 'value' ? decodeUid(tsElement.bytes) : '';
  if (!tsUid && input.length - pos < 8) {
    throw new DicomParseError('truncated: the file ends after the file meta information, which states no transfer syntax', pos);
  }
  if (!tsUid) {
    tsUid = sniffTransferSyntax(input, pos);
    inferred = true;
  }
  const ts: TransferSyntax = transferSyntaxOf(tsUid);

  let body = input;
  let start = pos;
  if (ts.deflated) {
    try {
      body = inflateRawSync(input.subarray(pos));
    } catch (e) {
      throw new DicomParseError(`deflated dataset cannot be inflated (${(e as Error).message})`, pos);
    }
    start = 0;
  }
  const dataset = new Map<Tag, Element>();
  parseElements(cursor(body, ts.littleEndian, ts.explicitVR), start, body.length, dataset, 0, options.untilTag);
  return {
    meta,
    dataset,
    transferSyntax: ts,
    layout: { preamble, fileMeta, inferredTransferSyntax: inferred },
  };
}

function decodeUid(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0 || bytes[end - 1] === 0x20)) end--;
  return String.fromCharCode(...bytes.subarray(0, end));
}

/** Without a preamble, the first element must be a plausible low-group element. */
function looksLikeDataset(buf: Uint8Array, pos: number): boolean {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = v.getUint16(pos, true);
  const be = v.getUint16(pos, false);
  return (le >= 0x0002 && le <= 0x0010) || (be >= 0x0002 && be <= 0x0010) || le === 0x0000;
}

/** The first explicit-VR group 0002/0008 element header within the first bytes, or -1. */
function findElementHeader(buf: Uint8Array): number {
  const limit = Math.min(buf.length - 6, 256);
  for (let i = 1; i < limit; i++) {
    if ((buf[i] === 0x08 || buf[i] === 0x02) && buf[i + 1] === 0x00 && vrAt(buf, i + 4) !== undefined) return i;
  }
  return -1;
}

/** For files without a stated transfer syntax: explicit VR if a VR follows the first tag; byte order from the group. */
function sniffTransferSyntax(buf: Uint8Array, pos: number): string {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const explicit = vrAt(buf, pos + 4) !== undefined;
  const le = v.getUint16(pos, true);
  const be = v.getUint16(pos, false);
  if (!explicit) return TRANSFER_SYNTAX.ImplicitVRLittleEndian;
  return be < le ? TRANSFER_SYNTAX.ExplicitVRBigEndian : TRANSFER_SYNTAX.ExplicitVRLittleEndian;
}

/**
 * Parses elements from `pos` up to `end` into `out`. Returns the position after the last
 * element consumed. With `endsWithItemDelimiter`, stops after an Item Delimitation Item.
 */
function parseElements(
  c: Cursor,
  pos: number,
  end: number,
  out: Map<Tag, Element>,
  depth: number,
  untilTag?: Tag,
  stopAtGroup?: (group: number) => boolean,
  endsWithItemDelimiter = false,
): number {
  if (depth > MAX_DEPTH) throw new DicomParseError(`sequences nested deeper than ${MAX_DEPTH} levels`, pos);
  const { buf, view, little } = c;
  while (pos < end) {
    if (end - pos < 8) {
      if (isPadding(buf, pos, end)) return end;
      throw new DicomParseError(`truncated: ${end - pos} stray bytes where an element header was expected`, pos);
    }
    const group = view.getUint16(pos, little);
    const elem = view.getUint16(pos + 2, little);
    if (stopAtGroup?.(group)) return pos;
    const t = makeTag(group, elem);
    if (t === Tags.ItemDelimitationItem) {
      pos += 8;
      if (endsWithItemDelimiter) return pos;
      continue; // a stray delimiter in a defined-length item: harmless, skip it
    }
    if (group === 0xfffe) {
      throw new DicomParseError('unexpected item tag outside a sequence', pos, t);
    }
    if (group === 0 && elem === 0 && isPadding(buf, pos, end)) return end; // trailing zero padding
    if (untilTag !== undefined && t >= untilTag && depth === 0) return pos;
    if (t === makeTag(0xfffc, 0xfffc)) return end; // Data Set Trailing Padding: nothing after it matters

    let vr: VR;
    let length: number;
    const headerStart = pos;
    if (c.explicit) {
      const explicitVR = vrAt(buf, pos + 4);
      if (explicitVR === undefined) {
        const raw = String.fromCharCode(buf[pos + 4]!, buf[pos + 5]!);
        throw new DicomParseError(`invalid VR ${JSON.stringify(raw)}`, pos + 4, t);
      }
      vr = explicitVR;
      if (VR_TRAITS[vr].longLength) {
        if (end - pos < 12) throw new DicomParseError('truncated element header', pos, t);
        length = view.getUint32(pos + 8, little);
        pos += 12;
      } else {
        length = view.getUint16(pos + 6, little);
        pos += 8;
      }
    } else {
      length = view.getUint32(pos + 4, little);
      pos += 8;
      vr = implicitVR(t);
    }

    if (length === UNDEFINED_LENGTH) {
      if (vr === 'SQ' || vr === 'UN' || (!c.explicit && isPrivate(t))) {
        // An undefined-length UN value is a sequence encoded in implicit VR little endian (PS3.5 6.2.2).
        const inner = vr === 'UN' && c.explicit ? cursor(buf, true, false) : c;
        const items: Dataset[] = [];
        pos = parseItems(inner, pos, end, items, depth, true);
        out.set(t, { kind: 'sequence', tag: t, vr: vr === 'UN' && c.explicit ? 'UN' : 'SQ', items });
        continue;
      }
      if (vr === 'OB' || vr === 'OW') {
        const start = pos;
        pos = skipEncapsulated(c, pos, end, t);
        out.set(t, { kind: 'encapsulated', tag: t, vr, bytes: buf.subarray(start, pos) });
        continue;
      }
      throw new DicomParseError(`undefined length on a ${vr} element`, headerStart, t);
    }

    if (pos + length > end) {
      throw new DicomParseError(
        `truncated: element declares ${length} bytes but only ${end - pos} remain`,
        headerStart,
        t,
      );
    }
    if (elem === 0x0000) {
      pos += length; // group lengths are recomputed by writers that need them, never trusted
      continue;
    }
    if (vr === 'SQ' || (vr === 'UN' && looksLikeSequence(c, pos, length, t))) {
      const inner = vr === 'UN' && c.explicit ? cursor(buf, true, false) : c;
      const items: Dataset[] = [];
      parseItems(inner, pos, pos + length, items, depth, false);
      out.set(t, { kind: 'sequence', tag: t, vr: vr === 'UN' && c.explicit ? 'UN' : 'SQ', items });
    } else {
      // An explicit UN element of a known standard attribute is read with its real VR so
      // that the profile's rules (and text handling) apply to it; its bytes are little
      // endian implicit encoding, which is what a little-endian dataset holds anyway.
      if (vr === 'UN' && c.explicit && little && !isPrivate(t)) vr = vrOf(t) ?? 'UN';
      out.set(t, { kind: 'value', tag: t, vr, bytes: buf.subarray(pos, pos + length) });
    }
    pos += length;
  }
  if (endsWithItemDelimiter) throw new DicomParseError('truncated: item without Item Delimitation Item', pos);
  return pos;
}

function implicitVR(t: Tag): VR {
  if (isPrivateCreator(t)) return 'LO';
  if (isPrivate(t)) return 'UN';
  return vrOf(t) ?? 'UN';
}

/** An implicit-VR private element, or UN of a known SQ, holds items when its first bytes are an item tag. */
function looksLikeSequence(c: Cursor, pos: number, length: number, t: Tag): boolean {
  if (length < 8) return length === 0 && !isPrivate(t) && vrOf(t) === 'SQ';
  const inner = c.explicit ? new DataView(c.buf.buffer, c.buf.byteOffset, c.buf.byteLength) : c.view;
  const little = c.explicit ? true : c.little;
  const g = inner.getUint16(pos, little);
  const e = inner.getUint16(pos + 2, little);
  if (g !== 0xfffe || e !== 0xe000) return false;
  const itemLength = inner.getUint32(pos + 4, little);
  return itemLength === UNDEFINED_LENGTH || itemLength <= length - 8;
}

function parseItems(c: Cursor, pos: number, end: number, items: Dataset[], depth: number, undefinedLength: boolean): number {
  const { view, little } = c;
  while (pos < end) {
    if (end - pos < 8) throw new DicomParseError('truncated sequence item header', pos);
    const t = makeTag(view.getUint16(pos, little), view.getUint16(pos + 2, little));
    const length = view.getUint32(pos + 4, little);
    pos += 8;
    if (t === Tags.SequenceDelimitationItem) {
      if (undefinedLength) return pos;
      continue;
    }
    if (t !== Tags.Item) throw new DicomParseError('expected a sequence item', pos - 8, t);
    const item = new Map<Tag, Element>();
    if (length === UNDEFINED_LENGTH) {
      pos = parseElements(c, pos, end, item, depth + 1, undefined, undefined, true);
    } else {
      if (pos + length > end) throw new DicomParseError(`truncated: item declares ${length} bytes but only ${end - pos} remain`, pos - 8);
      parseElements(c, pos, pos + length, item, depth + 1);
      pos += length;
    }
    items.push(item);
  }
  if (undefinedLength) throw new DicomParseError('truncated: sequence without Sequence Delimitation Item', pos);
  return pos;
}

/** Walks encapsulated items by their lengths (never by searching for delimiter bytes, which may occur inside fragments). */
function skipEncapsulated(c: Cursor, pos: number, end: number, t: Tag): number {
  const { view } = c;
  // Encapsulated pixel data is only defined for little-endian transfer syntaxes.
  while (pos + 8 <= end) {
    const itemTag = makeTag(view.getUint16(pos, true), view.getUint16(pos + 2, true));
    const length = view.getUint32(pos + 4, true);
    if (itemTag === Tags.SequenceDelimitationItem) return pos + 8;
    if (itemTag !== Tags.Item) throw new DicomParseError('encapsulated pixel data: expected a fragment item', pos, t);
    if (length === UNDEFINED_LENGTH || pos + 8 + length > end) {
      throw new DicomParseError(`truncated: pixel data fragment declares ${length} bytes but only ${end - pos - 8} remain`, pos, t);
    }
    pos += 8 + length;
  }
  throw new DicomParseError('truncated: encapsulated pixel data without Sequence Delimitation Item', pos, t);
}

function isPadding(buf: Uint8Array, pos: number, end: number): boolean {
  for (let i = pos; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}
