/**
 * Grey level run length features (IBSI 3.7, family `rlm`, TP0I).
 *
 * A run is a maximal line of consecutive voxels along a direction m that are all in the
 * intensity mask and share one grey level (Galloway 1975); a voxel outside the mask ends a run.
 * The GLRLM counts runs by grey level i and length j. 2-D matrices are counted within one slice
 * (k constant) along the 4 in-plane directions, 3-D matrices over the volume along the 13
 * directions, and features are aggregated over directions and slices in the six ways of IBSI
 * 3.7.1 (see `aggregateDirectional`).
 *
 * Matrices are dense, row-major: `counts[(i − 1) · maxRun + (j − 1)]` for grey levels 1..ng and
 * run lengths 1..maxRun, where maxRun is the longest extent of the ROI's box, so that every
 * matrix of one ROI has the same shape and merging is an element-wise sum.
 */
import type { DiscretisedRoi, Feature, TextureOptions } from '../types.js';
import {
  aggregateDirectional,
  checkDirection,
  checkSlice,
  DIRECTIONS_2D,
  DIRECTIONS_3D,
  roiBox,
  TEXTURE_DIMENSIONS,
  type Direction,
  type MatrixFamily,
  type RoiBox,
} from './directions.js';

/** A grey level run length matrix with the voxel count it was taken over. */
export interface RunLengthMatrix {
  /** Rows: grey levels 1..ng. */
  readonly ng: number;
  /** Columns: run lengths 1..maxRun. */
  readonly maxRun: number;
  /** `counts[(i − 1) · maxRun + (j − 1)]`: the number of runs of grey level i and length j. */
  readonly counts: Float64Array;
  /**
   * N_v, the voxels of the intensity mask the runs were counted over. Merged matrices sum it
   * (IBSI 3.7.1: "when matrices are merged, N_v should likewise be summed"), which keeps the
   * run percentage of a merged matrix a fraction of its voxels.
   */
  readonly voxels: number;
}

/**
 * The run length matrix of `d` along `direction`: within slice `slice` (a k index; the
 * direction must lie in the slice plane), or over the whole volume when `slice` is null.
 */
export function runLengthMatrix(d: DiscretisedRoi, direction: Direction, slice: number | null): RunLengthMatrix {
  checkDirection(direction);
  if (slice !== null) checkSlice(d, direction, slice);
  const box = roiBox(d);
  if (!box) return { ng: d.ng, maxRun: 0, counts: new Float64Array(0), voxels: 0 };
  const maxRun = longestRun(box);
  const counts = new Float64Array(d.ng * maxRun);
  if (slice === null) {
    countRuns(d, box, direction, box.k0, box.k1, counts, maxRun, false);
    return { ng: d.ng, maxRun, counts, voxels: box.voxels };
  }
  if (slice < box.k0 || slice > box.k1) return { ng: d.ng, maxRun, counts, voxels: 0 };
  countRuns(d, box, direction, slice, slice, counts, maxRun, false);
  return { ng: d.ng, maxRun, counts, voxels: voxelsPerSlice(d, box)[slice - box.k0]! };
}

function longestRun(box: RoiBox): number {
  return Math.max(box.i1 - box.i0 + 1, box.j1 - box.j0 + 1, box.k1 - box.k0 + 1);
}

/**
 * Adds every run that starts in slices k0..k1 of the box to `out` (one ng × maxRun matrix per
 * slice of the box with `perSlice`, for in-plane directions). A voxel starts a run when the
 * voxel before it along the direction is outside the box or has another level (0 outside the
 * mask); the run is then followed forward. Every voxel is visited once as a candidate start
 * and once inside a run, so a direction costs O(voxels in the box).
 */
function countRuns(d: DiscretisedRoi, box: RoiBox, direction: Direction, k0: number, k1: number, out: Float64Array, maxRun: number, perSlice: boolean): void {
  const [nx, ny] = d.dims;
  const { levels, ng } = d;
  const [di, dj, dk] = direction;
  const offset = di + nx * (dj + ny * dk);
  const size = ng * maxRun;
  // Forward steps that stay in the box from coordinate c along an axis with step s.
  const room = (c: number, s: number, lo: number, hi: number) => (s > 0 ? hi - c : s < 0 ? c - lo : Infinity);
  for (let k = k0; k <= k1; k++) {
    const base = perSlice ? (k - box.k0) * size : 0;
    const kRoom = room(k, dk, box.k0, box.k1);
    const kBefore = k - dk >= box.k0 && k - dk <= box.k1;
    for (let j = box.j0; j <= box.j1; j++) {
      const jRoom = Math.min(kRoom, room(j, dj, box.j0, box.j1));
      const jkBefore = kBefore && j - dj >= box.j0 && j - dj <= box.j1;
      const row = nx * (j + ny * k);
      for (let i = box.i0; i <= box.i1; i++) {
        const index = row + i;
        const g = levels[index]!;
        if (g === 0) continue;
        if (jkBefore && i - di >= box.i0 && i - di <= box.i1 && levels[index - offset] === g) continue;
        const steps = Math.min(jRoom, room(i, di, box.i0, box.i1));
        let length = 1;
        while (length <= steps && levels[index + length * offset] === g) length++;
        const cell = base + (g - 1) * maxRun + length - 1;
        out[cell] = out[cell]! + 1;
      }
    }
  }
}

/** Voxels of the intensity mask in each slice of the box: `[k − box.k0]`. */
function voxelsPerSlice(d: DiscretisedRoi, box: RoiBox): Float64Array {
  const [nx, ny] = d.dims;
  const out = new Float64Array(box.k1 - box.k0 + 1);
  for (let k = box.k0; k <= box.k1; k++) {
    let n = 0;
    for (let j = box.j0; j <= box.j1; j++) {
      const row = nx * (j + ny * k);
      for (let i = box.i0; i <= box.i1; i++) if (d.levels[row + i] !== 0) n++;
    }
    out[k - box.k0] = n;
  }
  return out;
}

/** The in-plane matrices of every slice of the box, for one direction: `[k − box.k0]`. */
function sliceMatrices(d: DiscretisedRoi, box: RoiBox, direction: Direction, maxRun: number, voxels: Float64Array): RunLengthMatrix[] {
  const size = d.ng * maxRun;
  const slices = box.k1 - box.k0 + 1;
  const all = new Float64Array(slices * size);
  countRuns(d, box, direction, box.k0, box.k1, all, maxRun, true);
  return Array.from({ length: slices }, (_, s) => ({ ng: d.ng, maxRun, counts: all.subarray(s * size, (s + 1) * size), voxels: voxels[s]! }));
}

/** The GLRLM features in the order of the IBSI reference values, with their IBSI codes. */
export const GLRLM_FEATURES: readonly { readonly name: string; readonly code: string }[] = [
  { name: 'Short runs emphasis', code: '22OV' },
  { name: 'Long runs emphasis', code: 'W4KF' },
  { name: 'Low grey level run emphasis', code: 'V3SW' },
  { name: 'High grey level run emphasis', code: 'G3QZ' },
  { name: 'Short run low grey level emphasis', code: 'HTZT' },
  { name: 'Short run high grey level emphasis', code: 'GD3A' },
  { name: 'Long run low grey level emphasis', code: 'IVPO' },
  { name: 'Long run high grey level emphasis', code: '3KUM' },
  { name: 'Grey level non-uniformity', code: 'R5YN' },
  { name: 'Normalised grey level non-uniformity', code: 'OVBL' },
  { name: 'Run length non-uniformity', code: 'W92Y' },
  { name: 'Normalised run length non-uniformity', code: 'IC23' },
  { name: 'Run percentage', code: '9ZK5' },
  { name: 'Grey level variance', code: '8CE5' },
  { name: 'Run length variance', code: 'SXLW' },
  { name: 'Run entropy', code: 'HJ9O' },
];

/**
 * The 16 features of one run length matrix (IBSI 3.7.2–3.7.17), in `GLRLM_FEATURES` order; all
 * NaN for a matrix without runs. They are built from r_ij, the runs of level i and length j,
 * N_s = Σ r_ij, the marginal sums r_i. (over lengths) and r_.j (over levels), and
 * p_ij = r_ij / N_s; each feature's formula is written beside the sum that computes it, with its
 * IBSI code, and every sum is divided by N_s at the end.
 */
export function runLengthFeatures(m: RunLengthMatrix): Float64Array {
  const { ng, maxRun, counts } = m;
  const out = new Float64Array(GLRLM_FEATURES.length).fill(NaN);
  const byLevel = new Float64Array(ng + 1); // r_i.
  const byLength = new Float64Array(maxRun + 1); // r_.j
  let runs = 0; // N_s
  let srlge = 0, srhge = 0, lrlge = 0, lrhge = 0, entropy = 0;
  for (let i = 1; i <= ng; i++) {
    for (let j = 1; j <= maxRun; j++) {
      const r = counts[(i - 1) * maxRun + (j - 1)]!;
      if (r === 0) continue;
      runs += r;
      byLevel[i] = byLevel[i]! + r;
      byLength[j] = byLength[j]! + r;
      const i2 = i * i;
      const j2 = j * j;
      srlge += r / (i2 * j2); // HTZT: Σ r_ij / (i² j²)
      srhge += (r * i2) / j2; // GD3A: Σ i² r_ij / j²
      lrlge += (r * j2) / i2; // IVPO: Σ j² r_ij / i²
      lrhge += r * i2 * j2; // 3KUM: Σ i² j² r_ij
      entropy -= r * Math.log2(r); // HJ9O, completed below: −Σ p log2 p = log2 N_s − Σ r log2 r / N_s
    }
  }
  if (runs === 0) return out;

  let sre = 0, lre = 0, rlnu = 0, lengthMean = 0;
  for (let j = 1; j <= maxRun; j++) {
    const r = byLength[j]!;
    sre += r / (j * j); // 22OV: Σ r_.j / j²
    lre += r * j * j; // W4KF: Σ j² r_.j
    rlnu += r * r; // W92Y: Σ r_.j²
    lengthMean += j * r;
  }
  lengthMean /= runs;
  let lgre = 0, hgre = 0, glnu = 0, levelMean = 0;
  for (let i = 1; i <= ng; i++) {
    const r = byLevel[i]!;
    lgre += r / (i * i); // V3SW: Σ r_i. / i²
    hgre += r * i * i; // G3QZ: Σ i² r_i.
    glnu += r * r; // R5YN: Σ r_i.²
    levelMean += i * r;
  }
  levelMean /= runs;
  // 8CE5 Σ (i − μ)² p_ij and SXLW Σ (j − μ)² p_ij, each from its marginal.
  let levelVariance = 0, lengthVariance = 0;
  for (let i = 1; i <= ng; i++) levelVariance += (i - levelMean) ** 2 * byLevel[i]!;
  for (let j = 1; j <= maxRun; j++) lengthVariance += (j - lengthMean) ** 2 * byLength[j]!;

  out[0] = sre / runs;
  out[1] = lre / runs;
  out[2] = lgre / runs;
  out[3] = hgre / runs;
  out[4] = srlge / runs;
  out[5] = srhge / runs;
  out[6] = lrlge / runs;
  out[7] = lrhge / runs;
  out[8] = glnu / runs;
  out[9] = glnu / (runs * runs);
  out[10] = rlnu / runs;
  out[11] = rlnu / (runs * runs);
  // 9ZK5: N_s / N_v; N_v of a merged matrix is the sum of its parts' (see `voxels`).
  out[12] = m.voxels > 0 ? runs / m.voxels : NaN;
  out[13] = levelVariance / runs;
  out[14] = lengthVariance / runs;
  out[15] = entropy / runs + Math.log2(runs);
  return out;
}

function mergeRunLengthMatrices(parts: readonly RunLengthMatrix[], ng: number, maxRun: number): RunLengthMatrix {
  const counts = new Float64Array(ng * maxRun);
  let voxels = 0;
  for (const m of parts) {
    for (let x = 0; x < counts.length; x++) counts[x] = counts[x]! + m.counts[x]!;
    voxels += m.voxels;
  }
  return { ng, maxRun, counts, voxels };
}

/** Every GLRLM feature (IBSI 3.7) of `d` under each aggregation method of `o.dimensions`, named as in the IBSI reference values. */
export function glrlmFeatures(d: DiscretisedRoi, o: TextureOptions): Feature[] {
  const box = roiBox(d);
  const ng = d.ng;
  const maxRun = box ? longestRun(box) : 0;
  const family: MatrixFamily<RunLengthMatrix> = {
    featureCount: GLRLM_FEATURES.length,
    merge: (parts) => mergeRunLengthMatrices(parts, ng, maxRun),
    features: runLengthFeatures,
  };
  const empty = (): RunLengthMatrix => ({ ng, maxRun, counts: new Float64Array(ng * maxRun), voxels: 0 });
  // 2D and 2.5D aggregate the same in-plane matrices: count them once.
  let inPlane: RunLengthMatrix[][] | undefined;
  const rows: Array<{ aggregation: Feature['aggregation']; values: Float64Array }> = [];
  for (const dimension of TEXTURE_DIMENSIONS) {
    if (!o.dimensions.includes(dimension)) continue;
    let matrices: RunLengthMatrix[][];
    if (!box) matrices = [[empty()]];
    else if (dimension === '3D') {
      matrices = DIRECTIONS_3D.map((direction) => {
        const m = empty();
        countRuns(d, box, direction, box.k0, box.k1, m.counts, maxRun, false);
        return [{ ...m, voxels: box.voxels }];
      });
    } else {
      inPlane ??= (() => {
        const voxels = voxelsPerSlice(d, box);
        return DIRECTIONS_2D.map((direction) => sliceMatrices(d, box, direction, maxRun, voxels));
      })();
      matrices = inPlane;
    }
    rows.push(...aggregateDirectional(dimension, matrices, family));
  }
  const features: Feature[] = [];
  GLRLM_FEATURES.forEach(({ name, code }, f) => {
    for (const { aggregation, values } of rows) features.push({ family: 'rlm', name, code, aggregation, value: values[f]! });
  });
  return features;
}
