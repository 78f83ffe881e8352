/**
 * Removing masked pixels from a frame: `inpaintFrame` with Telea, Navier–Stokes (OpenCV), exemplar
 * (patch-based, hand-written) or a solid fill.
 *
 * Whatever the method, the result is assembled the same way: a copy of the input's samples, into
 * which only the masked pixels' new values are written, rounded and clamped to Bits Stored. So
 * every pixel outside the mask is bit-identical to the input by construction, and the input is
 * never modified. A method that fails throws before anything is returned: there is no partly
 * cleaned frame.
 */
import type { Frame, Mask, Redaction } from '../types.js';
import { InpaintError } from './errors.js';
import { exemplarValues } from './exemplar.js';
import { fillValues } from './fill.js';
import { checkMask, maskArea } from './mask.js';
import { loadOpenCv } from './opencv.js';
import { checkFrame, copySamples, meaningfulValues, sampleWriter } from './samples.js';
import { openCvValues, openCvWindows } from './telea.js';

export { boxesToMask, dilateMask, emptyMask, maskArea, maskBounds, maskComponents, unionMasks, type MaskComponent } from './mask.js';
export { InpaintError } from './errors.js';
export { loadOpenCv } from './opencv.js';
export { valueRange } from './samples.js';

export interface InpaintOptions {
  /** Telea / Navier–Stokes: the neighbourhood considered around each inpainted pixel (default 3). */
  readonly radius?: number;
  /** Exemplar: side of the square patches, odd, 3–31 (default 9). */
  readonly patchSize?: number;
  /** Exemplar: half-side of the first search window, in pixels (default 40). */
  readonly searchRadius?: number;
}

export const INPAINT_DEFAULTS = { radius: 3, patchSize: 9, searchRadius: 40 } as const;

/**
 * A new frame with the masked pixels filled by `method`; every pixel outside the mask is
 * bit-identical to the input, and the input is not modified.
 */
export async function inpaintFrame(frame: Frame, mask: Mask, method: Redaction, options: InpaintOptions = {}): Promise<Frame> {
  checkFrame(frame);
  checkMask(mask, frame.format.rows, frame.format.columns);
  const settings = checkOptions(options);
  if (maskArea(mask) === 0) return { format: frame.format, data: copySamples(frame.data) };
  const { rows, columns, samplesPerPixel: spp, photometric } = frame.format;
  let filled: Float64Array;
  switch (method) {
    case 'telea':
    case 'navier-stokes': {
      // Interpolating palette indices would invent colours that are not in the image.
      if (photometric === 'PALETTE COLOR') {
        throw new InpaintError(`${method} inpainting cannot be applied to PALETTE COLOR frames (it would interpolate palette indices); use exemplar or fill`);
      }
      const { cv } = await loadOpenCv();
      const windows = openCvWindows(mask, settings.radius);
      filled = openCvValues(cv, frame.format, meaningfulValues(frame, windows), mask, method, settings.radius, windows);
      break;
    }
    case 'exemplar':
      filled = exemplarValues(meaningfulValues(frame), spp, rows, columns, mask, settings);
      break;
    case 'fill':
      filled = fillValues(frame, mask);
      break;
    default:
      throw new InpaintError(`unknown redaction method ${JSON.stringify(method satisfies never)}`);
  }
  const data = copySamples(frame.data);
  const write = sampleWriter(frame.format, data);
  for (let p = 0; p < rows * columns; p++) {
    if (!mask.data[p]) continue;
    for (let s = 0, n = p * spp; s < spp; s++, n++) write(n, filled[n]!);
  }
  return { format: frame.format, data };
}

function checkOptions(options: InpaintOptions): { radius: number; patchSize: number; searchRadius: number } {
  const radius = options.radius ?? INPAINT_DEFAULTS.radius;
  const patchSize = options.patchSize ?? INPAINT_DEFAULTS.patchSize;
  const searchRadius = options.searchRadius ?? INPAINT_DEFAULTS.searchRadius;
  if (!Number.isFinite(radius) || radius < 1 || radius > 64) throw new InpaintError(`option radius must be between 1 and 64 pixels (got ${radius})`);
  if (!Number.isInteger(patchSize) || patchSize < 3 || patchSize > 31 || patchSize % 2 === 0) {
    throw new InpaintError(`option patchSize must be an odd integer from 3 to 31 (got ${patchSize})`);
  }
  if (!Number.isInteger(searchRadius) || searchRadius < 1) throw new InpaintError(`option searchRadius must be a positive integer (got ${searchRadius})`);
  return { radius, patchSize, searchRadius };
}
