/**
 * Errors of the pixel codec layer. Every message names the transfer syntax (UID and name) and,
 * where one is concerned, the 0-based frame, and never holds a pixel value or header text; the
 * pipeline adds the file name.
 */
import { syntaxLabel } from './syntax.js';

/** Pixel data that cannot be decoded: missing or inconsistent attributes, a corrupt or unsupported stream. */
export class PixelDecodeError extends Error {
  override readonly name = 'PixelDecodeError';
  constructor(
    /** Transfer Syntax UID of the file. */
    readonly transferSyntax: string,
    /** Why, without any value from the file. */
    readonly reason: string,
    /** 0-based frame index, when one frame is concerned. */
    readonly frame?: number,
  ) {
    super(`cannot decode ${frame !== undefined ? `frame ${frame} of ` : ''}the pixel data (${syntaxLabel(transferSyntax)}): ${reason}`);
  }
}

/** Frames that cannot be written back: a frame of the wrong shape, or no encoder for the syntax. */
export class PixelEncodeError extends Error {
  override readonly name = 'PixelEncodeError';
  constructor(
    readonly transferSyntax: string,
    readonly reason: string,
    readonly frame?: number,
  ) {
    super(`cannot write ${frame !== undefined ? `frame ${frame} of ` : ''}the pixel data (${syntaxLabel(transferSyntax)}): ${reason}`);
  }
}
