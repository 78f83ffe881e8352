/**
 * The transfer syntaxes the codec layer knows (PS3.5 Table A-1, PS3.6 Table A-1): their names,
 * whether their stored encoding is lossy, and how a frame's first fragment is recognised when
 * fragments have to be grouped into frames without an offset table.
 */

export const Syntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JpegBaseline: '1.2.840.10008.1.2.4.50',
  JpegExtended: '1.2.840.10008.1.2.4.51',
  JpegLossless: '1.2.840.10008.1.2.4.57',
  JpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  JpegLsLossless: '1.2.840.10008.1.2.4.80',
  JpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  Jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  Jpeg2000: '1.2.840.10008.1.2.4.91',
  HtJpeg2000Lossless: '1.2.840.10008.1.2.4.201',
  HtJpeg2000LosslessRpcl: '1.2.840.10008.1.2.4.202',
  HtJpeg2000: '1.2.840.10008.1.2.4.203',
  RleLossless: '1.2.840.10008.1.2.5',
  DeflatedImageFrame: '1.2.840.10008.1.2.8.1',
} as const;

/** How the first fragment of a frame begins, for grouping fragments without an offset table. */
export type FrameStart = 'jpeg' | 'j2k' | 'any';

export interface SyntaxInfo {
  readonly uid: string;
  readonly name: string;
  /**
   * 'lossy': every stream of the syntax is lossy; 'lossless': none is; 'per-stream': the syntax
   * allows both (JPEG 2000 .91, HTJ2K .203) and the stream itself says (reversible wavelet or not).
   */
  readonly lossy: 'lossy' | 'lossless' | 'per-stream';
  readonly frameStart: FrameStart;
  /** The Lossy Image Compression Method (0028,2114) term of a lossy stream (PS3.3 C.7.6.1.1.5.1). */
  readonly lossyMethod?: string;
}

const TABLE: readonly SyntaxInfo[] = [
  { uid: Syntax.ImplicitVRLittleEndian, name: 'Implicit VR Little Endian', lossy: 'lossless', frameStart: 'any' },
  { uid: Syntax.ExplicitVRLittleEndian, name: 'Explicit VR Little Endian', lossy: 'lossless', frameStart: 'any' },
  { uid: Syntax.DeflatedExplicitVRLittleEndian, name: 'Deflated Explicit VR Little Endian', lossy: 'lossless', frameStart: 'any' },
  { uid: Syntax.ExplicitVRBigEndian, name: 'Explicit VR Big Endian', lossy: 'lossless', frameStart: 'any' },
  { uid: Syntax.JpegBaseline, name: 'JPEG Baseline', lossy: 'lossy', frameStart: 'jpeg', lossyMethod: 'ISO_10918_1' },
  { uid: Syntax.JpegExtended, name: 'JPEG Extended', lossy: 'lossy', frameStart: 'jpeg', lossyMethod: 'ISO_10918_1' },
  { uid: Syntax.JpegLossless, name: 'JPEG Lossless', lossy: 'lossless', frameStart: 'jpeg' },
  { uid: Syntax.JpegLosslessSV1, name: 'JPEG Lossless SV1', lossy: 'lossless', frameStart: 'jpeg' },
  { uid: Syntax.JpegLsLossless, name: 'JPEG-LS Lossless', lossy: 'lossless', frameStart: 'jpeg' },
  { uid: Syntax.JpegLsNearLossless, name: 'JPEG-LS Near-Lossless', lossy: 'lossy', frameStart: 'jpeg', lossyMethod: 'ISO_14495_1' },
  { uid: Syntax.Jpeg2000Lossless, name: 'JPEG 2000 Lossless', lossy: 'lossless', frameStart: 'j2k' },
  { uid: Syntax.Jpeg2000, name: 'JPEG 2000', lossy: 'per-stream', frameStart: 'j2k', lossyMethod: 'ISO_15444_1' },
  { uid: Syntax.HtJpeg2000Lossless, name: 'HTJ2K Lossless', lossy: 'lossless', frameStart: 'j2k' },
  { uid: Syntax.HtJpeg2000LosslessRpcl, name: 'HTJ2K Lossless RPCL', lossy: 'lossless', frameStart: 'j2k' },
  { uid: Syntax.HtJpeg2000, name: 'HTJ2K', lossy: 'per-stream', frameStart: 'j2k', lossyMethod: 'ISO_15444_15' },
  { uid: Syntax.RleLossless, name: 'RLE Lossless', lossy: 'lossless', frameStart: 'any' },
  { uid: Syntax.DeflatedImageFrame, name: 'Deflated Image Frame Compression', lossy: 'lossless', frameStart: 'any' },
];

const BY_UID = new Map(TABLE.map((s) => [s.uid, s]));

/** What the codec layer knows of a transfer syntax, or undefined for one it does not know. */
export function syntaxInfo(uid: string): SyntaxInfo | undefined {
  return BY_UID.get(uid);
}

/** "1.2.840.10008.1.2.4.50, JPEG Baseline" for messages. */
export function syntaxLabel(uid: string): string {
  const info = BY_UID.get(uid);
  return info ? `${uid}, ${info.name}` : `${uid}, unknown transfer syntax`;
}

/** Syntaxes whose pixel data is native (not encapsulated). */
export function isNativeSyntax(uid: string): boolean {
  return (
    uid === Syntax.ImplicitVRLittleEndian ||
    uid === Syntax.ExplicitVRLittleEndian ||
    uid === Syntax.DeflatedExplicitVRLittleEndian ||
    uid === Syntax.ExplicitVRBigEndian
  );
}
