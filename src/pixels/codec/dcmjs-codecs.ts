/**
 * The JPEG family through dcmjs-codecs (one WASM module: its JPEG codec, 8/12/16-bit, for .50 .51 .57
 * .70, CharLS for .80 .81, OpenJPEG for .90 .91, OpenJPH for HTJ2K). Chosen by measurement on
 * the shared corpus (see the guide): it decodes every compressed syntax found there, including
 * JPEG Extended 12-bit, exactly against dcmtk's and GDCM's decodes, and encodes the lossless ones,
 * so one library covers what cornerstone's codecs and itk-wasm would otherwise share.
 *
 * The module is initialised once per process, on first use, by the registry.
 */
import { createRequire } from 'node:module';
import type { Frame, PixelFormat, Samples } from '../types.js';
import type { StoredLayout } from './layout.js';
import type { CodecPlugin, FrameDecoder, FrameEncoder } from './plugin.js';
import { bytesOf, copyBytes, interleave, newSamples, samplesView } from './samples.js';
import { Syntax } from './syntax.js';

/** The part of dcmjs-codecs' API used here (its own typings use loose records). */
interface CodecContext {
  getDecodedBuffer(): Uint8Array | undefined;
  getEncodedBuffer(): Uint8Array | undefined;
  getBitsAllocated(): number | undefined;
}
interface ContextAttrs {
  width: number;
  height: number;
  bitsAllocated: number;
  bitsStored: number;
  samplesPerPixel: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometricInterpretation: string;
  encodedBuffer?: Uint8Array;
  decodedBuffer?: Uint8Array;
}
type Native = Record<
  'decodeJpeg' | 'decodeJpegLs' | 'decodeJpeg2000' | 'decodeHtJpeg2000' | 'encodeJpeg' | 'encodeJpegLs' | 'encodeJpeg2000' | 'encodeHtJpeg2000',
  (context: CodecContext, parameters?: Record<string, unknown>) => CodecContext
>;
interface DcmjsCodecs {
  readonly NativeCodecs: Native & { initializeAsync(opts: { webAssemblyModulePathOrUrl: string }): Promise<void> };
  readonly Context: new (attrs: ContextAttrs) => CodecContext;
}

const JPEG = [Syntax.JpegBaseline, Syntax.JpegExtended, Syntax.JpegLossless, Syntax.JpegLosslessSV1] as const;
const JPEG_LS = [Syntax.JpegLsLossless, Syntax.JpegLsNearLossless] as const;
const J2K = [Syntax.Jpeg2000Lossless, Syntax.Jpeg2000] as const;
const HTJ2K = [Syntax.HtJpeg2000Lossless, Syntax.HtJpeg2000LosslessRpcl, Syntax.HtJpeg2000] as const;

function family(syntax: string): 'jpeg' | 'jpegls' | 'j2k' | 'htj2k' | undefined {
  if ((JPEG as readonly string[]).includes(syntax)) return 'jpeg';
  if ((JPEG_LS as readonly string[]).includes(syntax)) return 'jpegls';
  if ((J2K as readonly string[]).includes(syntax)) return 'j2k';
  if ((HTJ2K as readonly string[]).includes(syntax)) return 'htj2k';
  return undefined;
}

function contextAttrs(layout: StoredLayout, photometric: string): ContextAttrs {
  return {
    width: layout.columns,
    height: layout.rows,
    bitsAllocated: layout.bitsAllocated,
    bitsStored: layout.bitsStored,
    samplesPerPixel: layout.samplesPerPixel,
    pixelRepresentation: layout.pixelRepresentation,
    // Decoded samples are asked for interleaved whatever the file says (the codestream decides).
    planarConfiguration: 0,
    photometricInterpretation: photometric,
  };
}

/** Widens 8-bit output (a 16-bit allocation holding an 8-bit codestream) to the frame's samples. */
function toSamples(decoded: Uint8Array, format: PixelFormat): Samples {
  const count = format.rows * format.columns * format.samplesPerPixel;
  const width = format.bitsAllocated >> 3;
  if (decoded.length === count * width) return samplesView(decoded.byteOffset % width === 0 ? decoded : copyBytes(decoded), format);
  if (decoded.length === count && width > 1) {
    const out = newSamples(count, format);
    for (let i = 0; i < count; i++) out[i] = decoded[i]!;
    return out;
  }
  throw new Error(`the decoder returned ${decoded.length} bytes where ${count * width} were expected`);
}

/** Components in the first scan of a JPEG-LS stream (Ns of the first SOS, ISO 14495-1 C.2.3), or undefined. */
export function jpegLsScanComponents(stream: Uint8Array): number | undefined {
  let p = 2;
  while (p + 4 < stream.length) {
    if (stream[p] !== 0xff) return undefined;
    const marker = stream[p + 1]!;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    const length = (stream[p + 2]! << 8) | stream[p + 3]!;
    if (marker === 0xda) return stream[p + 4];
    p += 2 + length;
  }
  return undefined;
}

async function load(): Promise<{ decoder: FrameDecoder; encoder: FrameEncoder }> {
  const require = createRequire(import.meta.url);
  const lib = require('dcmjs-codecs') as DcmjsCodecs;
  await lib.NativeCodecs.initializeAsync({ webAssemblyModulePathOrUrl: require.resolve('dcmjs-codecs/build/dcmjs-native-codecs.wasm') });
  const { NativeCodecs, Context } = lib;

  const decoder: FrameDecoder = {
    name: 'dcmjs-codecs',
    decode(codestream, layout, format, syntax) {
      const f = family(syntax);
      if (!f) throw new Error('not a syntax of this library');
      const context = new Context({ ...contextAttrs(layout, layout.photometric), encodedBuffer: codestream });
      let result: CodecContext;
      switch (f) {
        case 'jpeg':
          // Lossy JPEG holds YCbCr: the decoder converts it to RGB (the format says so); lossless
          // JPEG holds the samples as they were and must not be converted.
          result = NativeCodecs.decodeJpeg(context, { convertColorspaceToRgb: format.photometric === 'RGB' && layout.photometric !== 'RGB' });
          break;
        case 'jpegls':
          result = NativeCodecs.decodeJpegLs(context, {});
          // CharLS returns a stream coded without interleaving (ILV 0: one scan per component)
          // plane after plane, whatever the context asks.
          if (layout.samplesPerPixel === 3 && jpegLsScanComponents(codestream) === 1) {
            const planar = result.getDecodedBuffer();
            if (!planar) throw new Error('the decoder returned no samples');
            return interleave(toSamples(planar, format), format);
          }
          break;
        case 'j2k':
          result = NativeCodecs.decodeJpeg2000(context, {});
          break;
        case 'htj2k':
          result = NativeCodecs.decodeHtJpeg2000(context, {});
          break;
      }
      const decoded = result.getDecodedBuffer();
      if (!decoded) throw new Error('the decoder returned no samples');
      return toSamples(decoded, format);
    },
  };

  const encoder: FrameEncoder = {
    name: 'dcmjs-codecs',
    encode(frame: Frame, layout: StoredLayout, syntax: string) {
      const f = family(syntax);
      if (!f) throw new Error('not a syntax of this library');
      // The decoded frame's photometric (RGB for YBR_RCT/ICT) is what the samples are.
      const context = new Context({ ...contextAttrs(layout, frame.format.photometric), decodedBuffer: bytesOf(frame.data) });
      let result: CodecContext;
      switch (f) {
        case 'jpeg':
          // First-order prediction (selection value 1): a .70 stream, which .57 allows too.
          result = NativeCodecs.encodeJpeg(context, { lossy: false, predictor: 1, pointTransform: 0 });
          break;
        case 'jpegls':
          result = NativeCodecs.encodeJpegLs(context, { lossy: false, allowedLossyError: 0 });
          break;
        case 'j2k':
          result = NativeCodecs.encodeJpeg2000(context, { lossy: false });
          break;
        case 'htj2k':
          result = NativeCodecs.encodeHtJpeg2000(context, syntax === Syntax.HtJpeg2000LosslessRpcl ? { lossy: false, progressionOrder: 2 } : { lossy: false });
          break;
      }
      const encoded = result.getEncodedBuffer();
      if (!encoded || encoded.length === 0) throw new Error('the encoder returned no codestream');
      return encoded;
    },
  };
  return { decoder, encoder };
}

export const dcmjsCodecsPlugin: CodecPlugin = {
  name: 'dcmjs-codecs',
  decodes: [...JPEG, ...JPEG_LS, ...J2K, ...HTJ2K],
  encodes: [Syntax.JpegLossless, Syntax.JpegLosslessSV1, Syntax.JpegLsLossless, Syntax.Jpeg2000Lossless, Syntax.Jpeg2000, Syntax.HtJpeg2000Lossless, Syntax.HtJpeg2000LosslessRpcl, Syntax.HtJpeg2000],
  load,
};
