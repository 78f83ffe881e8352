/**
 * A shaded surface render of a head's skin, seen as a photograph of the face would see it. The
 * re-identification check of defacing runs a face detector and a face-recognition model on such
 * renders, as the literature does (Schwarz et al., "Identification of anonymous MRI research
 * participants with face-recognition software", NEJM 2019; Abramian & Eklund, ISBI 2019).
 *
 * The camera is orthographic. At azimuth 0 and elevation 0 it looks at the face along +y of LPS
 * (the face looks toward −y, anterior); a positive azimuth turns the camera about the patient's
 * superior axis toward the patient's left (at +90° it looks at the left ear), a positive elevation
 * raises it above the head's horizontal plane (the default, −10°, looks up a little; see
 * DEFAULT_ELEVATION_DEGREES). The image's horizontal axis stays horizontal, with the patient's
 * right on the image's left and the superior end at the top, as in a photograph of the face.
 *
 * Each ray is marched from the camera through the volume in steps of half the smallest voxel
 * spacing, sampling trilinearly in index space (so voxels need not be cubes, nor the grid be
 * axis-aligned), skipping blocks of voxels that all lie below the threshold, and stops at the
 * first sample at or above the skin threshold; the crossing is placed between the last two samples
 * by linear interpolation. The pixel is shaded by Lambert's cosine law with the outward surface
 * normal (minus the intensity gradient, converted from index to patient coordinates) and a light
 * above the camera, the cosine raised to the third power, plus a little ambient light, so that the
 * relief of the face shows. Where the head is cut by the edge of the field of view, the cut is
 * shaded as the flat face of the volume.
 *
 * The default skin threshold is Otsu's threshold of the whole image (air against tissue). Cost:
 * one pass over the volume for block maxima, then 256² rays, most of which stop at the skin:
 * 0.1–0.6 s for a 1 mm head on one core.
 */
import { VolumeGeometryError } from '../errors.js';
import { cross, indexToWorld, worldToIndex } from '../geometry.js';
import type { Vec3, Volume, VoxelArray } from '../volume.js';
import { clampInPlace, CT_WINDOW_HU, intensityKind } from './intensity.js';

/** An 8-bit grey image, row by row from the top row, each row from left to right; 0 is black. */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

/** What the camera frames: the point at the image centre and the side of the square image, in mm. */
export interface RenderFrame {
  /** Patient coordinates (LPS, mm) of the point on the rotation axis that the image is centred on. */
  readonly centre: Vec3;
  /** Width (= height) of the field of view, in millimetres. */
  readonly fieldOfViewMm: number;
}

export interface RenderView {
  /** Rotation of the camera about the patient's superior axis, in degrees; positive toward the patient's left. */
  readonly azimuthDegrees: number;
  /** Height of the camera above the horizontal plane of the head, as an angle in degrees; negative looks up from below (default −10). */
  readonly elevationDegrees?: number;
  /** Side of the square image in pixels (default 256). */
  readonly size?: number;
  /**
   * The framing. Default: `headFrame(volume, threshold)`. Renders that are to be compared (a head
   * before and after defacing) should share one frame, so that the face has the same place and scale.
   */
  readonly frame?: RenderFrame;
}

export const DEFAULT_RENDER_SIZE = 256;

/**
 * The default camera elevation, in degrees: a little below the eyes, as a portrait is taken. Heads
 * in MRI (and in MNI space) are pitched chin-down against the Frankfurt plane of a photograph, and
 * their field of view often ends at the nose or the mouth; from 10° below, the face rather than the
 * crown fills the render. Measured with face-api's SSD detector, this raised the frontal scores of
 * two real heads from about 0.8 (at 0°) to 0.97, and of the MNI152 and avg152 templates from
 * about 0.1–0.2 to 0.8.
 */
export const DEFAULT_ELEVATION_DEGREES = -10;

/** Ambient share of the shading: surfaces facing away from the light stay just visible. */
const AMBIENT = 0.05;
/**
 * The light sits above the camera, 0.55 up for 1 toward the head (29°), so that the brows, the
 * nose and the cheekbones shade the eye sockets and the sides of the nose as top light does.
 */
const LIGHT_ELEVATION = 0.55;
/**
 * Lambert's cosine raised to this power: surfaces turned from the light darken faster than with
 * the plain cosine, which gives the eye sockets, the sides of the nose and the temples the
 * contrast a face detector looks for (a matt surface lit from the camera is otherwise nearly flat).
 */
const SHADE_EXPONENT = 3;
/** Side of the blocks used to skip empty space, in voxels. */
const BLOCK = 8;

/**
 * The default skin threshold: Otsu's threshold (Otsu 1979, maximum between-class variance) of
 * the intensity histogram between the minimum and a robust maximum (the 99.9th percentile, so
 * that a few very bright voxels do not squeeze the histogram). In a head image the two classes
 * are air (with its noise) and tissue, so the threshold lies between air and skin. A CT (values in
 * Hounsfield units, intensity.ts) is clamped to CT_WINDOW_HU first.
 */
export function skinThreshold(volume: Volume): number {
  let data = volume.data;
  if (data.length === 0) throw new VolumeGeometryError('cannot find a skin threshold in an empty volume');
  // A CT's padding (−2000, −3024) would make a class of its own, and Otsu would split padding from
  // air; its bone and metal would stretch the tissue class. Clamped to air…bone, the two classes
  // are air and tissue again.
  if (intensityKind(data) === 'ct') data = clampInPlace(new Float32Array(data), CT_WINDOW_HU[0], CT_WINDOW_HU[1]);
  let min = Infinity;
  let max = -Infinity;
  for (let n = 0; n < data.length; n++) {
    const v = data[n]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) throw new VolumeGeometryError(`cannot find a skin threshold: every voxel has the value ${min}`);
  const robustMax = percentile(data, min, max, 0.999);
  const top = robustMax > min ? robustMax : max;
  const bins = 256;
  const hist = new Float64Array(bins);
  const scale = bins / (top - min);
  for (let n = 0; n < data.length; n++) {
    const b = Math.floor((data[n]! - min) * scale);
    hist[b < 0 ? 0 : b >= bins ? bins - 1 : b]!++;
  }
  // The threshold is the upper edge of the last bin of the lower class.
  return min + (otsuBin(hist) + 1) / scale;
}

/** The fraction `q` quantile of the values, to 1/4096 of the range (a histogram, not a sort). */
function percentile(data: VoxelArray, min: number, max: number, q: number): number {
  const bins = 4096;
  const hist = new Float64Array(bins);
  const scale = bins / (max - min);
  for (let n = 0; n < data.length; n++) {
    const b = Math.floor((data[n]! - min) * scale);
    hist[b >= bins ? bins - 1 : b]!++;
  }
  const target = q * data.length;
  let cumulative = 0;
  for (let b = 0; b < bins; b++) {
    cumulative += hist[b]!;
    if (cumulative >= target) return min + (b + 1) / scale;
  }
  return max;
}

/**
 * The split of the histogram that maximises the between-class variance (Otsu 1979, eq. 18), as a
 * fractional bin: the lower class is bins 0 … ⌊result⌋. When the classes are separated by empty
 * bins, every split in the gap is equally good: the middle of the gap is taken, not its lower edge
 * (which would sit right on the noise of the air).
 */
function otsuBin(hist: Float64Array): number {
  let total = 0;
  let sum = 0;
  for (let b = 0; b < hist.length; b++) {
    total += hist[b]!;
    sum += b * hist[b]!;
  }
  const variances = new Float64Array(hist.length - 1);
  let weight0 = 0;
  let sum0 = 0;
  let bestVariance = -1;
  for (let b = 0; b < hist.length - 1; b++) {
    weight0 += hist[b]!;
    sum0 += b * hist[b]!;
    const weight1 = total - weight0;
    if (weight0 === 0 || weight1 === 0) continue;
    const mean0 = sum0 / weight0;
    const mean1 = (sum - sum0) / weight1;
    variances[b] = weight0 * weight1 * (mean0 - mean1) ** 2;
    bestVariance = Math.max(bestVariance, variances[b]!);
  }
  const tolerance = bestVariance * 1e-12;
  let first = 0;
  while (first < variances.length - 1 && variances[first]! < bestVariance - tolerance) first++;
  let last = first;
  while (last + 1 < variances.length && variances[last + 1]! >= bestVariance - tolerance) last++;
  return (first + last) / 2;
}

/**
 * The frame that holds the head from every azimuth: centred on the box around the voxels at or
 * above `threshold` (trimmed by 0.05% of those voxels at each end of each axis, so that stray
 * bright voxels in the air do not stretch it), as wide as the larger of the box's horizontal
 * diagonal and its height, plus 10%.
 */
export function headFrame(volume: Volume, threshold: number): RenderFrame {
  const { grid, data } = volume;
  const [nx, ny, nz] = grid.dims;
  const countI = new Float64Array(nx);
  const countJ = new Float64Array(ny);
  const countK = new Float64Array(nz);
  let total = 0;
  for (let k = 0, n = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if (data[n]! >= threshold) {
          countI[i]!++;
          countJ[j]!++;
          countK[k]!++;
          total++;
        }
      }
    }
  }
  if (total === 0) throw new VolumeGeometryError(`nothing to frame: no voxel reaches the skin threshold ${threshold}`);
  const [i0, i1] = trimmedRange(countI, total);
  const [j0, j1] = trimmedRange(countJ, total);
  const [k0, k1] = trimmedRange(countK, total);
  const lo: [number, number, number] = [Infinity, Infinity, Infinity];
  const hi: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (const i of [i0 - 0.5, i1 + 0.5]) {
    for (const j of [j0 - 0.5, j1 + 0.5]) {
      for (const k of [k0 - 0.5, k1 + 0.5]) {
        const p = indexToWorld(grid, i, j, k);
        for (let a = 0; a < 3; a++) {
          lo[a] = Math.min(lo[a]!, p[a]!);
          hi[a] = Math.max(hi[a]!, p[a]!);
        }
      }
    }
  }
  const centre: Vec3 = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2];
  const horizontal = Math.hypot(hi[0] - lo[0], hi[1] - lo[1]);
  const vertical = hi[2] - lo[2];
  return { centre, fieldOfViewMm: 1.1 * Math.max(horizontal, vertical) };
}

function trimmedRange(counts: Float64Array, total: number): [number, number] {
  const cut = total * 0.0005;
  let first = 0;
  for (let seen = 0; first < counts.length - 1; first++) {
    seen += counts[first]!;
    if (seen > cut) break;
  }
  let last = counts.length - 1;
  for (let seen = 0; last > first; last--) {
    seen += counts[last]!;
    if (seen > cut) break;
  }
  return [first, last];
}

/**
 * Renders the skin surface of a head (see the module comment for the camera and the shading).
 * `threshold` defaults to `skinThreshold(volume)`. Pixels whose ray meets no skin are black.
 */
export function renderSkin(volume: Volume, view: RenderView, threshold?: number): GreyImage {
  const { grid, data } = volume;
  const [nx, ny, nz] = grid.dims;
  if (nx < 2 || ny < 2 || nz < 2) {
    throw new VolumeGeometryError(`cannot render the skin of a ${nx}×${ny}×${nz} image: a surface render needs a 3-D volume (at least 2 voxels along each axis)`);
  }
  if (data.length !== nx * ny * nz) throw new VolumeGeometryError(`the volume holds ${data.length} voxels but its grid ${nx}×${ny}×${nz} needs ${nx * ny * nz}`);
  const size = view.size ?? DEFAULT_RENDER_SIZE;
  if (!Number.isInteger(size) || size < 8 || size > 4096) throw new RangeError(`render size must be a whole number of pixels from 8 to 4096, not ${size}`);
  if (!Number.isFinite(view.azimuthDegrees)) throw new RangeError(`render azimuth must be a finite number of degrees, not ${view.azimuthDegrees}`);
  const elevation = view.elevationDegrees ?? DEFAULT_ELEVATION_DEGREES;
  if (!(Math.abs(elevation) <= 90)) throw new RangeError(`render elevation must be a number of degrees from −90 to 90, not ${elevation}`);
  const thr = threshold ?? skinThreshold(volume);
  if (!Number.isFinite(thr)) throw new RangeError(`skin threshold must be a finite number, not ${thr}`);
  const frame = view.frame ?? headFrame(volume, thr);
  if (!(frame.fieldOfViewMm > 0)) throw new RangeError(`the field of view must be positive, not ${frame.fieldOfViewMm} mm`);

  const toIndex = worldToIndex(grid); // throws on a degenerate grid
  const theta = (view.azimuthDegrees * Math.PI) / 180;
  const phi = (elevation * Math.PI) / 180;
  // Camera axes in LPS: `toCamera` points from the head to the camera; rays go the other way, along
  // `d`. The image's rightward axis is `right` (the patient's left at azimuth 0), always
  // horizontal; its upward axis is toCamera × right (superior at elevation 0).
  const toCamera: Vec3 = [Math.sin(theta) * Math.cos(phi), -Math.cos(theta) * Math.cos(phi), Math.sin(phi)];
  const d: Vec3 = [-toCamera[0], -toCamera[1], -toCamera[2]];
  const right: Vec3 = [Math.cos(theta), Math.sin(theta), 0];
  const up = cross(toCamera, right);
  const lightNorm = Math.hypot(1, LIGHT_ELEVATION);
  const light: Vec3 = [(toCamera[0] + LIGHT_ELEVATION * up[0]) / lightNorm, (toCamera[1] + LIGHT_ELEVATION * up[1]) / lightNorm, (toCamera[2] + LIGHT_ELEVATION * up[2]) / lightNorm];

  // The index-space images of the camera axes (toIndex is affine: differences of two points).
  const o = toIndex(0, 0, 0);
  const di = subtract(toIndex(d[0], d[1], d[2]), o);
  const ri = subtract(toIndex(right[0], right[1], right[2]), o);
  const ui = subtract(toIndex(up[0], up[1], up[2]), o);
  const ci = toIndex(frame.centre[0], frame.centre[1], frame.centre[2]);
  // ∇_world f = Aᵀ ∇_index f, where A is the linear part of world → index.
  const ax = subtract(toIndex(1, 0, 0), o);
  const ay = subtract(toIndex(0, 1, 0), o);
  const az = subtract(toIndex(0, 0, 1), o);

  const step = 0.5 * Math.min(...grid.spacing); // mm along the ray
  const pixelMm = frame.fieldOfViewMm / size;
  const blocks = blockMaxima(data, nx, ny, nz);
  const bx = Math.ceil((nx - 1) / BLOCK);
  const by = Math.ceil((ny - 1) / BLOCK);
  const bz = Math.ceil((nz - 1) / BLOCK);
  const pixels = new Uint8Array(size * size);
  const hi: Vec3 = [nx - 1, ny - 1, nz - 1];

  for (let row = 0; row < size; row++) {
    const v = (size / 2 - row - 0.5) * pixelMm;
    for (let col = 0; col < size; col++) {
      const u = (col + 0.5 - size / 2) * pixelMm;
      // The ray in index space: p(t) = q + t·di, t in mm along d.
      const qx = ci[0] + u * ri[0] + v * ui[0];
      const qy = ci[1] + u * ri[1] + v * ui[1];
      const qz = ci[2] + u * ri[2] + v * ui[2];
      // Clip to the box of voxel centres (slab method).
      let t0 = -Infinity;
      let t1 = Infinity;
      let entryAxis = 0;
      let inside = true;
      for (let a = 0; a < 3 && inside; a++) {
        const q = a === 0 ? qx : a === 1 ? qy : qz;
        const dd = di[a]!;
        if (Math.abs(dd) < 1e-12) {
          if (q < 0 || q > hi[a]!) inside = false;
        } else {
          let ta = (0 - q) / dd;
          let tb = (hi[a]! - q) / dd;
          if (ta > tb) [ta, tb] = [tb, ta];
          if (ta > t0) {
            t0 = ta;
            entryAxis = a;
          }
          if (tb < t1) t1 = tb;
        }
      }
      if (!inside || t0 > t1) continue;

      let t = t0;
      let hit = false;
      let value = 0;
      while (t <= t1) {
        const x = qx + t * di[0];
        const y = qy + t * di[1];
        const z = qz + t * di[2];
        const block = blockOf(x, y, z, bx, by, bz);
        if (blocks[block]! < thr) {
          // Nothing in this block reaches the threshold: jump to where the ray leaves it.
          t = blockExit(x, y, z, di, t) + 1e-6;
          continue;
        }
        value = trilinear(data, nx, ny, nz, x, y, z);
        if (value >= thr) {
          hit = true;
          break;
        }
        t += step;
      }
      if (!hit) continue;
      if (t === t0) {
        // Tissue at the very edge of the volume: the field of view cut through the head. Shade the
        // cut as the flat face of the volume it is (its outward normal is ∓ the gradient of the
        // index coordinate the ray entered by), not by the meaningless gradient at the edge.
        const sign = di[entryAxis]! > 0 ? -1 : 1;
        const nxw = sign * ax[entryAxis]!;
        const nyw = sign * ay[entryAxis]!;
        const nzw = sign * az[entryAxis]!;
        const lambert = Math.max(0, (nxw * light[0] + nyw * light[1] + nzw * light[2]) / Math.hypot(nxw, nyw, nzw));
        pixels[row * size + col] = Math.max(1, Math.round(255 * (AMBIENT + (1 - AMBIENT) * lambert ** SHADE_EXPONENT)));
        continue;
      }

      // Place the crossing between this sample and the one before it.
      const tp = Math.max(t0, t - step);
      const before = tp < t ? trilinear(data, nx, ny, nz, qx + tp * di[0], qy + tp * di[1], qz + tp * di[2]) : value;
      const th = before < thr && value > before ? tp + ((thr - before) / (value - before)) * (t - tp) : t;
      const x = qx + th * di[0];
      const y = qy + th * di[1];
      const z = qz + th * di[2];

      // Intensity gradient by central differences of one voxel in index space, then in patient space.
      const gi = trilinear(data, nx, ny, nz, Math.min(x + 1, hi[0]), y, z) - trilinear(data, nx, ny, nz, Math.max(x - 1, 0), y, z);
      const gj = trilinear(data, nx, ny, nz, x, Math.min(y + 1, hi[1]), z) - trilinear(data, nx, ny, nz, x, Math.max(y - 1, 0), z);
      const gk = trilinear(data, nx, ny, nz, x, y, Math.min(z + 1, hi[2])) - trilinear(data, nx, ny, nz, x, y, Math.max(z - 1, 0));
      const gx = ax[0] * gi + ax[1] * gj + ax[2] * gk;
      const gy = ay[0] * gi + ay[1] * gj + ay[2] * gk;
      const gz = az[0] * gi + az[1] * gj + az[2] * gk;
      const gNorm = Math.hypot(gx, gy, gz);
      // The outward normal points down the gradient (tissue is brighter than air); where the
      // gradient vanishes (a plateau), the surface is taken to face the camera.
      const lambert = gNorm > 0 ? Math.max(0, -(gx * light[0] + gy * light[1] + gz * light[2]) / gNorm) : toCamera[0] * light[0] + toCamera[1] * light[1] + toCamera[2] * light[2];
      const shade = AMBIENT + (1 - AMBIENT) * lambert ** SHADE_EXPONENT;
      pixels[row * size + col] = Math.max(1, Math.round(255 * shade));
    }
  }
  return { width: size, height: size, pixels };
}

/** The block (see blockMaxima) of the trilinear cell that holds index point (x, y, z). */
function blockOf(x: number, y: number, z: number, bx: number, by: number, bz: number): number {
  const a = Math.min(Math.floor(x / BLOCK), bx - 1);
  const b = Math.min(Math.floor(y / BLOCK), by - 1);
  const c = Math.min(Math.floor(z / BLOCK), bz - 1);
  return a + bx * (b + by * c);
}

function subtract(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

/**
 * The largest voxel value of each block of BLOCK³ trilinear cells: block (a, b, c) covers the
 * cells with lower corners a·BLOCK … (a+1)·BLOCK − 1 along i (and so on), whose corners are the
 * voxels a·BLOCK … (a+1)·BLOCK. A trilinear sample never exceeds the largest of its cell's corners.
 */
function blockMaxima(data: VoxelArray, nx: number, ny: number, nz: number): Float64Array {
  const bx = Math.ceil((nx - 1) / BLOCK);
  const by = Math.ceil((ny - 1) / BLOCK);
  const bz = Math.ceil((nz - 1) / BLOCK);
  const out = new Float64Array(bx * by * bz).fill(-Infinity);
  // Voxel j is a corner of the cells of blocks b with b·BLOCK ≤ j ≤ (b+1)·BLOCK: on a block
  // boundary, of the blocks on both sides.
  const first = (j: number, blocks: number) => Math.min(blocks - 1, Math.max(0, Math.ceil(j / BLOCK) - 1));
  const last = (j: number, blocks: number) => Math.min(blocks - 1, Math.floor(j / BLOCK));
  const rowMax = new Float64Array(bx);
  for (let k = 0; k < nz; k++) {
    const c0 = first(k, bz);
    const c1 = last(k, bz);
    for (let j = 0; j < ny; j++) {
      const rowStart = nx * (j + ny * k);
      // The maximum of each block's span of this row, voxels a·BLOCK … (a+1)·BLOCK.
      for (let a = 0; a < bx; a++) {
        const end = rowStart + Math.min((a + 1) * BLOCK, nx - 1);
        let m = -Infinity;
        for (let n = rowStart + a * BLOCK; n <= end; n++) {
          const v = data[n]!;
          if (v > m) m = v;
        }
        rowMax[a] = m;
      }
      const b0 = first(j, by);
      const b1 = last(j, by);
      for (let c = c0; c <= c1; c++) {
        for (let b = b0; b <= b1; b++) {
          const blockRow = bx * (b + by * c);
          for (let a = 0; a < bx; a++) {
            if (rowMax[a]! > out[blockRow + a]!) out[blockRow + a] = rowMax[a]!;
          }
        }
      }
    }
  }
  return out;
}

/** The ray parameter where the ray through index point (x, y, z) at parameter t leaves its block. */
function blockExit(x: number, y: number, z: number, di: Vec3, t: number): number {
  let exit = Infinity;
  const p = [x, y, z];
  for (let a = 0; a < 3; a++) {
    const dd = di[a]!;
    if (Math.abs(dd) < 1e-12) continue;
    const start = Math.floor(p[a]! / BLOCK) * BLOCK;
    const boundary = dd > 0 ? start + BLOCK : start;
    const dt = (boundary - p[a]!) / dd;
    if (dt < exit) exit = dt;
  }
  return t + Math.max(exit, 0);
}

/** Trilinear interpolation at a continuous index inside [0, n−1] along each axis. */
function trilinear(data: VoxelArray, nx: number, ny: number, nz: number, x: number, y: number, z: number): number {
  let i = Math.floor(x);
  let j = Math.floor(y);
  let k = Math.floor(z);
  if (i >= nx - 1) i = nx - 2;
  if (j >= ny - 1) j = ny - 2;
  if (k >= nz - 1) k = nz - 2;
  if (i < 0) i = 0;
  if (j < 0) j = 0;
  if (k < 0) k = 0;
  const fx = x - i;
  const fy = y - j;
  const fz = z - k;
  const sxy = nx * ny;
  const n000 = i + nx * j + sxy * k;
  const c00 = data[n000]! + fx * (data[n000 + 1]! - data[n000]!);
  const c10 = data[n000 + nx]! + fx * (data[n000 + nx + 1]! - data[n000 + nx]!);
  const n001 = n000 + sxy;
  const c01 = data[n001]! + fx * (data[n001 + 1]! - data[n001]!);
  const c11 = data[n001 + nx]! + fx * (data[n001 + nx + 1]! - data[n001 + nx]!);
  const c0 = c00 + fy * (c10 - c00);
  const c1 = c01 + fy * (c11 - c01);
  return c0 + fz * (c1 - c0);
}
