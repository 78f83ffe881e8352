/**
 * The pixel codec layer: decoding a DICOM file's pixel data into frames and writing changed frames
 * back without adding a lossy generation. `detect/` and `inpaint/` work on its frames.
 */
export { openPixelData, type DecodeOptions, type PixelData, type OpenOptions } from './pixel-data.js';
export { replaceFrames, type ReplaceEncoding, type ReplaceResult } from './replace.js';
export { displayImage, DisplayError, type DisplayImage, type DisplayWindow } from './colour.js';
export { PixelDecodeError, PixelEncodeError } from './errors.js';
export { CodecRegistry, defaultRegistry } from './registry.js';
export type { CodecPlugin, FrameDecoder, FrameEncoder } from './plugin.js';
export type { StoredLayout } from './layout.js';
export { Syntax, syntaxInfo, syntaxLabel, type SyntaxInfo } from './syntax.js';
export { bytesOf, newSamples } from './samples.js';
