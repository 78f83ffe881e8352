/**
 * Telea (fast marching) and Navier–Stokes inpainting through OpenCV's `cv.inpaint`, on the
 * frame's own bit depth. The installed build accepts 8UC1, 8UC3, 16UC1 and 32FC1 for both methods
 * (16UC3, 16SC1 and 32FC3 are refused), so:
 * - 8-bit unsigned grey or colour goes in as 8UC1 / 8UC3;
 * - unsigned up to 16 bits stored as 16UC1, each colour channel on its own;
 * - signed samples, and 32-bit ones, as 32FC1: every 16-bit signed value is exact in a float, and
 *   32-bit values only lose precision in the interpolated pixels, which are rounded and clamped
 *   to Bits Stored anyway.
 * Both methods only look at known pixels within `radius` of the pixel being filled, so OpenCV is
 * given windows around the mask's parts, each grown by a margin beyond that radius (parts whose
 * windows meet share one): a small mask on a large frame costs little, and so do words in the
 * four corners of a radiograph (the unit tests check that the result equals that of the whole
 * frame).
 * Pixels outside the mask are never taken from OpenCV's output: the caller copies only masked
 * samples back, so the outside stays bit-identical by construction.
 */
import type { PixelFormat, Mask } from '../types.js';
import type { Box } from '../types.js';
import { maskComponents } from './mask.js';
import { withOpenCvErrors, type CvMat, type OpenCv } from './opencv.js';

export type OpenCvMethod = 'telea' | 'navier-stokes';

/** How far beyond the radius a window reaches around the mask. */
const MARGIN = 2;

/** The windows OpenCV is given for a mask and radius: `values` are needed inside them only. */
export function openCvWindows(mask: Mask, radius: number): Box[] {
  return maskWindows(mask, Math.ceil(radius) + MARGIN);
}

/**
 * Values for every sample, inpainted inside the mask (elsewhere: unspecified), computed in
 * `windows` (default: `openCvWindows`; the whole frame gives the same result).
 */
export function openCvValues(cv: OpenCv, format: PixelFormat, values: Float64Array, mask: Mask, method: OpenCvMethod, radius: number, windows: readonly Box[] = openCvWindows(mask, radius)): Float64Array {
  const out = new Float64Array(values.length);
  for (const window of windows) inpaintWindow(cv, format, values, mask, method, radius, window, out);
  return out;
}

/**
 * Boxes around the mask's 8-connected parts grown by `grow` and clipped to the frame, merged
 * while any two meet: no masked pixel of one window lies within `grow` of another's.
 */
export function maskWindows(mask: Mask, grow: number): Box[] {
  const { rows, columns } = mask;
  if (!Number.isFinite(grow)) return maskComponents(mask).length ? [{ x: 0, y: 0, width: columns, height: rows }] : [];
  let windows: Box[] = maskComponents(mask).map(({ bounds: b }) => {
    const x = Math.max(0, b.x - grow);
    const y = Math.max(0, b.y - grow);
    return { x, y, width: Math.min(columns, b.x + b.width + grow) - x, height: Math.min(rows, b.y + b.height + grow) - y };
  });
  for (let merged = true; merged; ) {
    merged = false;
    const next: Box[] = [];
    for (const w of windows) {
      const i = next.findIndex((o) => o.x < w.x + w.width && w.x < o.x + o.width && o.y < w.y + w.height && w.y < o.y + o.height);
      if (i < 0) {
        next.push(w);
        continue;
      }
      const o = next[i]!;
      const x = Math.min(o.x, w.x);
      const y = Math.min(o.y, w.y);
      next[i] = { x, y, width: Math.max(o.x + o.width, w.x + w.width) - x, height: Math.max(o.y + o.height, w.y + w.height) - y };
      merged = true;
    }
    windows = next;
  }
  return windows;
}

/** Inpaints one window of the frame with OpenCV, writing its masked values into `out`. */
function inpaintWindow(cv: OpenCv, format: PixelFormat, values: Float64Array, mask: Mask, method: OpenCvMethod, radius: number, window: Box, out: Float64Array): void {
  const { columns, samplesPerPixel: spp, bitsAllocated, bitsStored, pixelRepresentation } = format;
  const { x: x0, y: y0, width: w, height: h } = window;
  const x1 = x0 + w;
  const flag = method === 'telea' ? cv.INPAINT_TELEA : cv.INPAINT_NS;
  const what = `${method} inpainting`;
  const unsigned = pixelRepresentation === 0;
  const mats: CvMat[] = [];
  const make = (type: number): CvMat => {
    const m = new cv.Mat(h, w, type);
    mats.push(m);
    return m;
  };
  try {
    const maskMat = make(cv.CV_8UC1);
    const colour = spp === 3 && unsigned && bitsAllocated === 8;
    const type = colour ? cv.CV_8UC3 : unsigned && bitsStored <= 8 ? cv.CV_8UC1 : unsigned && bitsStored <= 16 ? cv.CV_16UC1 : cv.CV_32FC1;
    const src = make(type);
    const dst = make(type);
    // Views of the WebAssembly heap are taken after every allocation: an allocation may grow the
    // heap and detach earlier views.
    const maskData = maskMat.data;
    for (let r = 0; r < h; r++) maskData.set(mask.data.subarray((y0 + r) * columns + x0, (y0 + r) * columns + x1), r * w);
    const view = (m: CvMat) => (type === cv.CV_16UC1 ? m.data16U : type === cv.CV_32FC1 ? m.data32F : m.data);
    // 8UC3 takes the three channels at once; otherwise one channel at a time.
    const passes = colour ? 1 : spp;
    const step = colour ? 3 : 1;
    for (let s = 0; s < passes; s++) {
      const plane = view(src);
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const n = ((y0 + r) * columns + x0 + c) * spp + s;
          const q = (r * w + c) * step;
          for (let k = 0; k < step; k++) plane[q + k] = values[n + k]!;
        }
      }
      withOpenCvErrors(cv, what, () => cv.inpaint(src, maskMat, dst, radius, flag));
      const result = view(dst);
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const n = ((y0 + r) * columns + x0 + c) * spp + s;
          const q = (r * w + c) * step;
          for (let k = 0; k < step; k++) out[n + k] = result[q + k]!;
        }
      }
    }
  } finally {
    for (const m of mats) m.delete();
  }
}
