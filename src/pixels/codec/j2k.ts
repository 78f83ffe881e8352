/**
 * Reading just enough of a JPEG 2000 codestream (ISO 15444-1 A.5, A.6.1) to tell whether it was
 * coded with the reversible 5-3 wavelet: transfer syntaxes .91 and .203 carry both kinds, and
 * only an irreversible one is certainly lossy.
 */

/** The wavelet of the first COD marker segment, or undefined when the stream cannot be read that far. */
export function j2kWavelet(stream: Uint8Array): 'reversible' | 'irreversible' | undefined {
  let p = 0;
  // A JP2 file wraps the codestream in a box; find the SOC marker.
  if (!(stream[0] === 0xff && stream[1] === 0x4f)) {
    const limit = Math.min(stream.length - 1, 4096);
    p = -1;
    for (let i = 0; i < limit; i++) {
      if (stream[i] === 0xff && stream[i + 1] === 0x4f && stream[i + 2] === 0xff && stream[i + 3] === 0x51) {
        p = i;
        break;
      }
    }
    if (p < 0) return undefined;
  }
  p += 2;
  while (p + 4 <= stream.length) {
    if (stream[p] !== 0xff) return undefined;
    const marker = stream[p + 1]!;
    const length = (stream[p + 2]! << 8) | stream[p + 3]!;
    if (marker === 0x52) {
      // COD: Lcod, Scod, SGcod (4 bytes), SPcod: levels, xcb, ycb, style, transformation.
      const t = stream[p + 2 + 2 + 1 + 4 + 4];
      if (t === undefined) return undefined;
      return t === 1 ? 'reversible' : 'irreversible';
    }
    if (marker === 0x90 || marker === 0x93) return undefined; // SOT/SOD before any COD
    p += 2 + length;
  }
  return undefined;
}
