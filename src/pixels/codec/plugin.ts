/** The contract between the registry and a codec plug-in. */
import type { Frame, PixelFormat, Samples } from '../types.js';
import type { StoredLayout } from './layout.js';

/** A loaded decoder: one frame's codestream to interleaved samples (machine byte order). */
export interface FrameDecoder {
  /** The library or module doing the work, named in errors and reports. */
  readonly name: string;
  decode(codestream: Uint8Array, layout: StoredLayout, format: PixelFormat, syntax: string): Samples;
}

/** A loaded lossless encoder: one frame to a codestream of the transfer syntax. */
export interface FrameEncoder {
  readonly name: string;
  encode(frame: Frame, layout: StoredLayout, syntax: string): Uint8Array;
}

/** A plug-in: what it handles, and how to load it (once, on first use). */
export interface CodecPlugin {
  readonly name: string;
  readonly decodes: readonly string[];
  /** Syntaxes it encodes losslessly. */
  readonly encodes: readonly string[];
  load(): Promise<{ readonly decoder?: FrameDecoder; readonly encoder?: FrameEncoder }>;
}
