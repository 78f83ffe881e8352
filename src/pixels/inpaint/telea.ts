/**
 * Telea (fast marching) and Navier–Stokes inpainting through OpenCV's `cv.inpaint`, on the
 * frame's own bit depth. The installed build accepts 8UC1, 8UC3, 16UC1 and 32FC1 for both methods
 * (16UC3, 16SC1 and 32FC3 are refused), so:
 * - 8-bit unsigned grey or colour goes in as 8UC1 / 8UC3;
 * - unsigned up to 16 bits stored as 16UC1, each colour channel on its own;
 * - signed samples, and 32-bit ones, as 32FC1: every 16-bit signed value is exact in a float, and
 *   32-bit values only lose precision in the interpolated pixels, which are rounded and clamped
 *   to Bits Stored anyway.
 * Pixels outside the mask are never taken from OpenCV's output: the caller copies only masked
 * samples back, so the outside stays bit-identical by construction.
 */
import type { Frame, Mask } from '../types.js';
import { withOpenCvErrors, type CvMat, type OpenCv } from './opencv.js';

export type OpenCvMethod = 'telea' | 'navier-stokes';

/** Values for every sample, inpainted inside the mask (outside: whatever OpenCV returned). */
export function openCvValues(cv: OpenCv, frame: Frame, values: Float64Array, mask: Mask, method: OpenCvMethod, radius: number): Float64Array {
  const { rows, columns, samplesPerPixel: spp, bitsAllocated, bitsStored, pixelRepresentation } = frame.format;
  const flag = method === 'telea' ? cv.INPAINT_TELEA : cv.INPAINT_NS;
  const what = `${method} inpainting`;
  const out = new Float64Array(values.length);
  const unsigned = pixelRepresentation === 0;
  const maskMat = new cv.Mat(rows, columns, cv.CV_8UC1);
  const mats: CvMat[] = [maskMat];
  try {
    maskMat.data.set(mask.data);
    if (spp === 3 && unsigned && bitsAllocated === 8) {
      const src = new cv.Mat(rows, columns, cv.CV_8UC3);
      const dst = new cv.Mat(rows, columns, cv.CV_8UC3);
      mats.push(src, dst);
      src.data.set(values);
      withOpenCvErrors(cv, what, () => cv.inpaint(src, maskMat, dst, radius, flag));
      out.set(dst.data);
      return out;
    }
    const type = unsigned && bitsStored <= 8 ? cv.CV_8UC1 : unsigned && bitsStored <= 16 ? cv.CV_16UC1 : cv.CV_32FC1;
    const src = new cv.Mat(rows, columns, type);
    const dst = new cv.Mat(rows, columns, type);
    mats.push(src, dst);
    for (let s = 0; s < spp; s++) {
      // Views of the WebAssembly heap are taken afresh: an allocation inside OpenCV may grow the
      // heap and detach every earlier view.
      const plane = type === cv.CV_8UC1 ? src.data : type === cv.CV_16UC1 ? src.data16U : src.data32F;
      for (let p = 0, n = s; p < rows * columns; p++, n += spp) plane[p] = values[n]!;
      withOpenCvErrors(cv, what, () => cv.inpaint(src, maskMat, dst, radius, flag));
      const result = type === cv.CV_8UC1 ? dst.data : type === cv.CV_16UC1 ? dst.data16U : dst.data32F;
      for (let p = 0, n = s; p < rows * columns; p++, n += spp) out[n] = result[p]!;
    }
    return out;
  } finally {
    for (const m of mats) m.delete();
  }
}
