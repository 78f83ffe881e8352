/**
 * The shared vocabulary of pixel de-identification: a decoded frame, a box on it, what was found
 * and why. `codec/` makes frames from DICOM pixel data and writes them back, `detect/` finds text
 * and header-declared regions on frames, `inpaint/` removes masked pixels, `clean.ts` ties them.
 */

/** Photometric interpretations radanon decodes (PS3.3 C.7.6.3.1.2). */
export type Photometric = 'MONOCHROME1' | 'MONOCHROME2' | 'RGB' | 'YBR_FULL' | 'YBR_FULL_422' | 'PALETTE COLOR';

/** Typed arrays a frame's samples live in, by Bits Allocated and Pixel Representation. */
export type Samples = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

/** How a decoded frame's samples are laid out. */
export interface PixelFormat {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: 1 | 3;
  readonly bitsAllocated: 8 | 16 | 32;
  readonly bitsStored: number;
  readonly highBit: number;
  /** 0 unsigned, 1 two's complement. */
  readonly pixelRepresentation: 0 | 1;
  /**
   * The photometric interpretation of the decoded samples. A codec that converts colour on
   * decode (JPEG baseline YBR_FULL_422 to RGB) reports the converted one.
   */
  readonly photometric: Photometric;
}

/** One decoded frame: samples interleaved (R,G,B,R,G,B… for colour), row by row. */
export interface Frame {
  readonly format: PixelFormat;
  readonly data: Samples;
}

/** A rectangle in pixel coordinates of a frame: columns x … x+width−1, rows y … y+height−1. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Why a region is to be removed. */
export type FindingSource =
  /** A word box reported by the OCR engine. */
  | 'ocr'
  /** Outside every data region of the Sequence of Ultrasound Regions. */
  | 'ultrasound-region'
  /** A region fixed by a device rule (manufacturer/model/size). */
  | 'device-rule'
  /** A region the user marked (rectangles, mask image or DICOM SEG). */
  | 'marked';

/** One region to remove on one frame. Never holds the recognised text itself. */
export interface Finding {
  /** 0-based frame index. */
  readonly frame: number;
  readonly box: Box;
  readonly source: FindingSource;
  /** OCR only: the engine's confidence, 0–100 (every word is a finding whatever its confidence). */
  readonly confidence?: number;
  /**
   * OCR only: the text with every letter and digit masked (`Xxxx 99/99/9999`) and a keyed
   * digest, so a report can show shape and repeats without the identifier.
   */
  readonly text?: { readonly masked: string; readonly digest: string };
  /** Device rule or marked-region file that asked for it (name, not content). */
  readonly rule?: string;
}

/** How removed pixels are filled. */
export type Redaction =
  /** OpenCV's Telea inpainting (fast marching), the default for text. */
  | 'telea'
  /** OpenCV's Navier–Stokes inpainting. */
  | 'navier-stokes'
  /** Exemplar (patch-based) inpainting that continues texture; the default for marked regions. */
  | 'exemplar'
  /** A solid box at the frame's background value, for users who prefer visible boxes. */
  | 'fill';

/** A binary mask over one frame: 1 = remove, row by row, rows × columns bytes. */
export interface Mask {
  readonly rows: number;
  readonly columns: number;
  readonly data: Uint8Array;
}
