/**
 * The masks of defacing: the face region (and, optionally, the ears) built once in template space
 * from the template's brain mask, and the dilation of a mask by a distance in millimetres, which
 * guards the brain in subject space.
 *
 * The face region is geometric: it is defined by the brain mask and planes in template space, not
 * by the template's intensities, and it extends past the template's field of view in front of and
 * below the head. MNI templates (avg152T1, MNI152) stop at 90 mm in front of the anterior
 * commissure and 72 mm below it, which cuts through the nose and the upper lip; a mask limited to
 * the template's head voxels would miss the nose tip, the lips and the chin of the subject. Air in
 * the region is harmless: it is set to the background it already is.
 */
import type { Grid, Mask, Vec3 } from '../volume.js';
import { voxelCount } from '../volume.js';
import { applyAffine, indexToWorldTransform, invertAffine } from './register.js';

// ---------------------------------------------------------------------------------------------
// Dilation in millimetres

/**
 * One-dimensional squared Euclidean distance transform of the sampled function f (lower envelope of
 * parabolas; Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled Functions", Theory of
 * Computing 8, 2012, algorithm 1), with samples `step` millimetres apart. Reads f[0..n), writes
 * d[0..n); `v` and `z` are scratch arrays of n and n + 1 entries.
 */
function distanceTransform1d(f: Float64Array, d: Float64Array, n: number, step: number, v: Int32Array, z: Float64Array): void {
  const s2 = step * step;
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q]!;
    if (fq === Infinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    for (;;) {
      const p = v[k]!;
      // Where the parabolas of p and q intersect, in sample units.
      const s = (fq + s2 * q * q - (f[p]! + s2 * p * p)) / (2 * s2 * (q - p));
      if (s <= z[k]!) {
        k--;
        if (k < 0) break;
        continue;
      }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = Infinity;
      break;
    }
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
    }
  }
  if (k < 0) {
    d.fill(Infinity, 0, n);
    return;
  }
  let j = 0;
  for (let q = 0; q < n; q++) {
    while (z[j + 1]! < q) j++;
    const p = v[j]!;
    d[q] = s2 * (q - p) * (q - p) + f[p]!;
  }
}

/**
 * The mask dilated by a ball of `radius` millimetres: every voxel whose centre lies within `radius`
 * of the centre of a mask voxel. Exact on anisotropic grids (the distance transform is separable,
 * each axis weighted by its spacing). Only the mask's bounding box grown by the radius is worked on.
 */
export function dilateMask(mask: Mask, radius: number): Mask {
  if (!(radius >= 0) || !Number.isFinite(radius)) throw new RangeError(`dilation radius must be a finite number of millimetres ≥ 0, got ${radius}`);
  const [nx, ny, nz] = mask.grid.dims;
  const src = mask.data;
  const lo = [nx, ny, nz];
  const hi = [-1, -1, -1];
  for (let k = 0, n = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if (!src[n]) continue;
        if (i < lo[0]!) lo[0] = i;
        if (i > hi[0]!) hi[0] = i;
        if (j < lo[1]!) lo[1] = j;
        if (j > hi[1]!) hi[1] = j;
        if (k < lo[2]!) lo[2] = k;
        if (k > hi[2]!) hi[2] = k;
      }
    }
  }
  const out = new Uint8Array(src.length);
  if (hi[0]! < 0) return { grid: mask.grid, data: out };
  if (radius === 0) {
    out.set(src.subarray(0, out.length).map((x) => (x ? 1 : 0)));
    return { grid: mask.grid, data: out };
  }
  const dims = mask.grid.dims;
  const reach = mask.grid.spacing.map((s) => Math.floor(radius / s));
  const b0 = [0, 1, 2].map((a) => Math.max(0, lo[a]! - reach[a]!));
  const b1 = [0, 1, 2].map((a) => Math.min(dims[a]! - 1, hi[a]! + reach[a]!));
  const [bx, by, bz] = [0, 1, 2].map((a) => b1[a]! - b0[a]! + 1) as [number, number, number];
  // Squared distances in mm², within the box.
  const dist = new Float64Array(bx * by * bz);
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      const row = b0[0]! + nx * (b0[1]! + j + ny * (b0[2]! + k));
      const at = bx * (j + by * k);
      for (let i = 0; i < bx; i++) dist[at + i] = src[row + i] ? 0 : Infinity;
    }
  }
  const longest = Math.max(bx, by, bz);
  const f = new Float64Array(longest);
  const d = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  // One pass per axis: every line of the box along that axis, transformed in place.
  const pass = (n: number, stride: number, step: number, strideA: number, countA: number, strideB: number, countB: number) => {
    for (let b = 0; b < countB; b++) {
      for (let a = 0; a < countA; a++) {
        const start = a * strideA + b * strideB;
        for (let q = 0; q < n; q++) f[q] = dist[start + q * stride]!;
        distanceTransform1d(f, d, n, step, v, z);
        for (let q = 0; q < n; q++) dist[start + q * stride] = d[q]!;
      }
    }
  };
  const [si, sj, sk] = mask.grid.spacing;
  pass(bx, 1, si, bx, by, bx * by, bz);
  pass(by, bx, sj, 1, bx, bx * by, bz);
  pass(bz, bx * by, sk, 1, bx, bx, by);
  const r2 = radius * radius * (1 + 1e-9);
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      const row = b0[0]! + nx * (b0[1]! + j + ny * (b0[2]! + k));
      const at = bx * (j + by * k);
      for (let i = 0; i < bx; i++) if (dist[at + i]! <= r2) out[row + i] = 1;
    }
  }
  return { grid: mask.grid, data: out };
}

// ---------------------------------------------------------------------------------------------
// The face region in template space

/** How the face and ear regions are drawn around a template's brain mask (millimetres, degrees). */
export interface FaceMaskParameters {
  /**
   * Distance kept between the face region and the template's brain (default 6 mm; defaceVolume
   * keeps its own margin around the brain carried to the subject on top). With 8 mm, the cut left
   * more of the orbits' roof and the brow standing, and on one head registered to the MNI152 1 mm
   * template (1.5 mm away from where the avg152 template put it) a face detector took the cut for a
   * face (score 0.45); with 6 mm no after-render of either head with either template scored above 0.21.
   */
  readonly brainClearance: number;
  /**
   * Distance kept from the temporal lobes: brain lateral of `temporalFrom` mm and below the
   * inferior-frontal edge (default 14 mm). Subjects' temporal poles reach further down and forward
   * than an affine fit of the template's, and the cheeks lie right in front of them.
   */
  readonly temporalClearance: number;
  readonly temporalFrom: number;
  /** How far the grid of the masks extends in front of the template's field of view (default 60 mm). */
  readonly extendAnterior: number;
  /** How far it extends below the template's field of view (default 80 mm). */
  readonly extendInferior: number;
  /** How far it extends to the left and to the right of the template's field of view (default 20 mm: the ears' rims). */
  readonly extendLateral: number;
  /**
   * Height of the top of the face region above the brain's inferior-frontal edge (the most anterior
   * and inferior point of the frontal lobes), measured at that edge (default 30 mm: over the brow
   * ridge). With the top at the eyebrows (12 mm), the brow ridge stayed above the cut and framed the
   * emptied orbits, which a face detector then took for a pair of eyes under a brow.
   */
  readonly browHeight: number;
  /** Tilt of the top plane: it rises towards the front of the face by this angle (default 30°), so the brow ridge's front goes and the forehead behind it stays. */
  readonly browTilt: number;
  /** Half-width of the face region, left to right, from the mid-sagittal plane (default 68 mm: to the cheeks, short of the ears). */
  readonly halfWidth: number;
  /** Ears: the band from this far behind to `earFront` in front of the brainstem's front (default 50 mm). */
  readonly earBack: number;
  readonly earFront: number;
  /** Ears: lateral of this distance from the mid-sagittal plane (default 56 mm). */
  readonly earLateral: number;
  /** Ears: from this far below to this far above the inferior-frontal edge (defaults 40 and 45 mm). */
  readonly earBelow: number;
  readonly earAbove: number;
}

export const DEFAULT_FACE_MASK_PARAMETERS: FaceMaskParameters = {
  brainClearance: 6,
  temporalClearance: 14,
  temporalFrom: 25,
  extendAnterior: 60,
  extendInferior: 80,
  extendLateral: 20,
  browHeight: 30,
  browTilt: 30,
  halfWidth: 68,
  earBack: 50,
  earFront: 18,
  earLateral: 56,
  earBelow: 40,
  earAbove: 45,
};

export interface TemplateFaceMasks {
  /** Nose, lips, chin, cheeks, eyes and the soft tissue of the orbits, and the air in front of them. */
  readonly face: Mask;
  /** Both external ears. */
  readonly ears: Mask;
  /** Landmarks found on the brain mask, for the record (patient coordinates, mm). */
  readonly landmarks: {
    /** The most anterior-inferior point of the frontal lobes. */
    readonly inferiorFrontalEdge: Vec3;
    /** How far in front of the mid-sagittal plane's origin the brainstem (plus clearance) reaches, along the anterior axis. */
    readonly brainstemFront: number;
  };
}

/** Unit vectors of the anatomical axes in patient coordinates (LPS): anterior is −y, superior +z, left +x. */
const ANTERIOR: Vec3 = [0, -1, 0];
const SUPERIOR: Vec3 = [0, 0, 1];
const LEFT: Vec3 = [1, 0, 0];
const dot3 = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/**
 * The grid of the template's masks: the template's grid grown towards the front, the feet and both
 * sides, so that it holds the whole face and both ears of a subject. The template's axes must run
 * along the anatomical axes (a signed permutation, as MNI templates have).
 */
export function extendedTemplateGrid(template: Grid, anteriorMm: number, inferiorMm: number, lateralMm = 0): Grid {
  const axes = [0, 1, 2].map((a) => [template.direction[3 * a]!, template.direction[3 * a + 1]!, template.direction[3 * a + 2]!] as Vec3);
  const dims = [...template.dims] as [number, number, number];
  const origin = [...template.origin] as [number, number, number];
  const grow = (want: Vec3, mm: number) => {
    const a = axes.findIndex((axis) => Math.abs(Math.abs(dot3(axis, want)) - 1) < 1e-6);
    if (a < 0) throw new RangeError('the template grid is oblique: its axes must run along the anatomical axes');
    const extra = Math.ceil(mm / template.spacing[a]! - 1e-9);
    dims[a] = dims[a]! + extra;
    if (dot3(axes[a]!, want) < 0) {
      // The axis points away from the wanted side: grow before index 0.
      for (let c = 0; c < 3; c++) origin[c] = origin[c]! - axes[a]![c]! * template.spacing[a]! * extra;
    }
  };
  grow(ANTERIOR, anteriorMm);
  grow([0, 0, -1], inferiorMm);
  grow(LEFT, lateralMm);
  grow([-1, 0, 0], lateralMm);
  return { dims, spacing: template.spacing, origin, direction: template.direction };
}

/**
 * Builds the face and ear masks on the extended template grid from the template's brain mask:
 *
 * 1. The brain is dilated by `brainClearance`, and its temporal lobes (lateral of `temporalFrom`,
 *    below E) by `temporalClearance`; no face or ear voxel lies within those distances of it.
 * 2. The inferior-frontal edge E is the brain voxel within 25 mm of the mid-sagittal plane that lies
 *    furthest along the anterior-inferior diagonal (the front of the orbital surface of the frontal
 *    lobes). The top of the face region is the plane through the point `browHeight` above E that
 *    rises towards the front by `browTilt`: the eyebrows and the brow ridge are in it, the forehead
 *    above is not.
 * 3. Below that plane and within `halfWidth` of the mid-sagittal plane, a voxel is face when it lies
 *    in front of the dilated brain in its own left-right/superior-inferior row (in front of the
 *    frontal lobes for the orbits, of the temporal poles for the cheeks) and, in every row, in front
 *    of the front of the dilated brainstem (the coronal plane `brainClearance` in front of the most
 *    anterior brain voxel within 12 mm of the midline in the lowest 15 mm of the brain mask): what lies below the brain and in front of
 *    that plane is the nose, mouth, chin and the front of the neck; the spine stays.
 * 4. Ears: lateral of `earLateral`, from `earBack` behind to `earFront` in front of the brainstem
 *    plane, from `earBelow` below to `earAbove` above E, farther than `temporalClearance` from the
 *    brain.
 */
export function buildFaceMasks(template: Grid, brain: Mask, parameters: FaceMaskParameters = DEFAULT_FACE_MASK_PARAMETERS): TemplateFaceMasks {
  const p = parameters;
  const grid = extendedTemplateGrid(template, p.extendAnterior, p.extendInferior, p.extendLateral);
  // The brain mask on the extended grid (same spacing and axes: an index shift).
  const toTemplate = invertAffine(indexToWorldTransform(template));
  const shift = applyAffine(toTemplate, grid.origin).map((x) => Math.round(x));
  const [nx, ny, nz] = grid.dims;
  const [tx, ty, tz] = template.dims;
  const brainOnGrid = new Uint8Array(voxelCount(grid));
  for (let k = 0, n = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        const a = i + shift[0]!, b = j + shift[1]!, c = k + shift[2]!;
        if (a >= 0 && b >= 0 && c >= 0 && a < tx && b < ty && c < tz && brain.data[a + tx * (b + ty * c)]) brainOnGrid[n] = 1;
      }
    }
  }
  const toWorld = indexToWorldTransform(grid);
  const world = (n: number): Vec3 => {
    const i = n % nx;
    const j = Math.floor(n / nx) % ny;
    const k = Math.floor(n / (nx * ny));
    return applyAffine(toWorld, [i, j, k]);
  };
  // Anatomical coordinates of every voxel, relative to the template's origin: lateral (left +),
  // anterior, superior.
  const count = voxelCount(grid);
  const lateral = new Float32Array(count);
  const anterior = new Float32Array(count);
  const superior = new Float32Array(count);
  for (let n = 0; n < count; n++) {
    const w = world(n);
    lateral[n] = dot3(w, LEFT);
    anterior[n] = dot3(w, ANTERIOR);
    superior[n] = dot3(w, SUPERIOR);
  }
  // 2. The inferior-frontal edge.
  let edge = -1;
  let best = -Infinity;
  for (let n = 0; n < count; n++) {
    if (!brainOnGrid[n] || Math.abs(lateral[n]!) > 25) continue;
    const score = anterior[n]! - superior[n]!;
    if (score > best || (score === best && anterior[n]! > anterior[edge]!)) {
      best = score;
      edge = n;
    }
  }
  if (edge < 0) throw new RangeError('the brain mask is empty near the mid-sagittal plane');
  const edgeAnterior = anterior[edge]!;
  const edgeSuperior = superior[edge]!;
  // 1. The guarded zone: the brain dilated by the clearance, the temporal lobes by more.
  const guarded = dilateMask({ grid, data: brainOnGrid }, p.brainClearance).data;
  const temporal = new Uint8Array(count);
  for (let n = 0; n < count; n++) if (brainOnGrid[n] && Math.abs(lateral[n]!) >= p.temporalFrom && superior[n]! < edgeSuperior) temporal[n] = 1;
  const temporalGuard = dilateMask({ grid, data: temporal }, p.temporalClearance).data;
  for (let n = 0; n < count; n++) guarded[n] = guarded[n]! | temporalGuard[n]!;
  // The ears lie beside the temporal and parietal lobes: they keep the larger clearance everywhere.
  const earGuard = dilateMask({ grid, data: brainOnGrid }, p.temporalClearance).data;
  // 3. The front of the brainstem, plus the clearance: the most anterior brain voxel within 12 mm
  // of the midline in the lowest 15 mm of the brain.
  let bottom = Infinity;
  for (let n = 0; n < count; n++) if (brainOnGrid[n] && superior[n]! < bottom) bottom = superior[n]!;
  let brainstemFront = -Infinity;
  for (let n = 0; n < count; n++) {
    if (brainOnGrid[n] && superior[n]! <= bottom + 15 && Math.abs(lateral[n]!) <= 12 && anterior[n]! > brainstemFront) brainstemFront = anterior[n]!;
  }
  brainstemFront += p.brainClearance;
  // The front of the dilated brain in each row along the anterior axis, keyed by the row's voxel
  // with the lowest index along that axis: rows are found by walking the grid axis that is most
  // nearly anterior.
  const axisAnterior = [0, 1, 2].reduce((best, a) => (Math.abs(dot3([grid.direction[3 * a]!, grid.direction[3 * a + 1]!, grid.direction[3 * a + 2]!], ANTERIOR)) > 0.5 ? a : best), -1);
  const strides = [1, nx, nx * ny];
  const stride = strides[axisAnterior]!;
  const length = grid.dims[axisAnterior]!;
  const rowFront = new Float32Array(count).fill(-Infinity);
  for (let n = 0; n < count; n++) {
    const index = Math.floor(n / stride) % length;
    if (index !== 0) continue;
    let front = -Infinity;
    for (let q = 0; q < length; q++) {
      const m = n + q * stride;
      if (guarded[m] && anterior[m]! > front) front = anterior[m]!;
    }
    for (let q = 0; q < length; q++) rowFront[n + q * stride] = front;
  }
  const tilt = Math.tan((p.browTilt * Math.PI) / 180);
  const face = new Uint8Array(count);
  const ears = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    if (guarded[n]) continue;
    const a = anterior[n]!;
    const s = superior[n]!;
    const l = lateral[n]!;
    const top = edgeSuperior + p.browHeight + tilt * (a - edgeAnterior);
    if (s < top && Math.abs(l) <= p.halfWidth && a > rowFront[n]! && a > brainstemFront) face[n] = 1;
    if (
      !earGuard[n] &&
      Math.abs(l) >= p.earLateral &&
      a >= brainstemFront - p.earBack &&
      a <= brainstemFront + p.earFront &&
      s >= edgeSuperior - p.earBelow &&
      s <= edgeSuperior + p.earAbove
    ) {
      ears[n] = 1;
    }
  }
  return {
    face: { grid, data: face },
    ears: { grid, data: ears },
    landmarks: { inferiorFrontalEdge: world(edge), brainstemFront },
  };
}
