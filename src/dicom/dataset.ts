import type { Tag } from './tag.js';
import type { VR } from './vr.js';

/**
 * The in-memory model keeps values as raw bytes (slices of the input buffer) and decodes
 * them only on request: de-identification touches a few dozen text elements per file and
 * must pass pixel data and unknown values through untouched and uncopied.
 */
export interface ValueElement {
  readonly kind: 'value';
  readonly tag: Tag;
  readonly vr: VR;
  /** The value exactly as encoded, in the dataset's byte order, including any padding byte. */
  readonly bytes: Uint8Array;
}

export interface SequenceElement {
  readonly kind: 'sequence';
  readonly tag: Tag;
  /** 'SQ', or 'UN' for a sequence whose VR was unknown to the writer of the file. */
  readonly vr: 'SQ' | 'UN';
  readonly items: readonly Dataset[];
}

/**
 * Encapsulated (compressed) pixel data. `bytes` is the complete item list as found in the
 * file: the Basic Offset Table item, every fragment item and the Sequence Delimitation Item,
 * so fragments and offset table come out byte-identical.
 */
export interface EncapsulatedElement {
  readonly kind: 'encapsulated';
  readonly tag: Tag;
  readonly vr: 'OB' | 'OW';
  readonly bytes: Uint8Array;
}

export type Element = ValueElement | SequenceElement | EncapsulatedElement;

/** A dataset (or a sequence item): elements by tag. Never mutated once built. */
export type Dataset = ReadonlyMap<Tag, Element>;

export interface TransferSyntax {
  readonly uid: string;
  readonly explicitVR: boolean;
  readonly littleEndian: boolean;
  /** The whole dataset after the file meta information is deflate-compressed. */
  readonly deflated: boolean;
  /** Pixel data is encapsulated (compressed frames in items). */
  readonly encapsulated: boolean;
}

/** A parsed DICOM file: the file meta information group and the dataset. */
export interface DicomFile {
  readonly meta: Dataset;
  readonly dataset: Dataset;
  readonly transferSyntax: TransferSyntax;
  /** How the input was laid out; informative for reports, the writer always writes Part 10. */
  readonly layout: {
    readonly preamble: boolean;
    readonly fileMeta: boolean;
    /** The transfer syntax was not stated by the file and was inferred from its bytes. */
    readonly inferredTransferSyntax: boolean;
  };
}

export const TRANSFER_SYNTAX = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
} as const;

/** Every other transfer syntax in use is explicit VR little endian with encapsulated pixel data. */
export function transferSyntaxOf(uid: string): TransferSyntax {
  switch (uid) {
    case TRANSFER_SYNTAX.ImplicitVRLittleEndian:
      return { uid, explicitVR: false, littleEndian: true, deflated: false, encapsulated: false };
    case TRANSFER_SYNTAX.ExplicitVRLittleEndian:
      return { uid, explicitVR: true, littleEndian: true, deflated: false, encapsulated: false };
    case TRANSFER_SYNTAX.DeflatedExplicitVRLittleEndian:
      return { uid, explicitVR: true, littleEndian: true, deflated: true, encapsulated: false };
    case TRANSFER_SYNTAX.ExplicitVRBigEndian:
      return { uid, explicitVR: true, littleEndian: false, deflated: false, encapsulated: false };
    default:
      return { uid, explicitVR: true, littleEndian: true, deflated: false, encapsulated: true };
  }
}

const latin1 = new TextDecoder('latin1');

/**
 * The value of a non-charset text element (UI, CS, DA, TM, DT, AS, DS, IS, AE, UR) as a
 * string, without trailing padding (space or NUL).
 */
export function asciiValue(element: Element | undefined): string | undefined {
  if (!element || element.kind !== 'value') return undefined;
  return latin1.decode(element.bytes).replace(/[\0 ]+$/, '');
}

/** Encodes a non-charset text value with the padding its VR requires (even length). */
export function encodeAscii(text: string, pad: 0x20 | 0x00): Uint8Array {
  const len = text.length + (text.length & 1);
  const out = new Uint8Array(len);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  if (len > text.length) out[len - 1] = pad;
  return out;
}

/** Pads arbitrary bytes to an even length. */
export function padEven(bytes: Uint8Array, pad: 0x20 | 0x00): Uint8Array {
  if ((bytes.length & 1) === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = pad;
  return out;
}

/** Reads an unsigned 16-bit value of a US element in the dataset's byte order. */
export function uint16Value(element: Element | undefined, littleEndian: boolean): number | undefined {
  if (!element || element.kind !== 'value' || element.bytes.length < 2) return undefined;
  const b = element.bytes;
  return littleEndian ? b[0]! | (b[1]! << 8) : (b[0]! << 8) | b[1]!;
}
