/**
 * Neighbourhood grey tone difference matrix features (IBSI 3.10, family "ngt"). For a voxel k of
 * the intensity mask, X̄_k is the mean grey level of its neighbours within Chebyshev distance δ
 * (in its slice for the 2-D approach) that lie in the intensity mask, the voxel itself excluded;
 * a voxel without such neighbours has no valid neighbourhood and is left out. For grey level i,
 * n_i counts the voxels of level i with a valid neighbourhood and s_i = Σ |i − X̄_k| over them.
 */
import type { Vec3 } from '../../volume/volume.js';
import type { DiscretisedRoi, Feature, TextureDimension, TextureOptions } from '../types.js';
import {
  checkDistance, checkTextureOptions, cropToRoi, featureRows, meanRecordOverSlices, neighbourOffsets, requestedDimensions,
  type FeatureDefinition,
} from './zones.js';

const FAMILY = 'NGTDM';

/** The NGTDM: s_i and n_i of grey level i at index i − 1. */
export interface NgtdmMatrix {
  readonly ng: number;
  readonly s: Float64Array;
  readonly n: Float64Array;
}

export interface NgtdmFeatures {
  readonly coarseness: number;
  readonly contrast: number;
  readonly busyness: number;
  readonly complexity: number;
  readonly strength: number;
}

type NgtdmFeature = keyof NgtdmFeatures;

const KEYS: readonly NgtdmFeature[] = ['coarseness', 'contrast', 'busyness', 'complexity', 'strength'];

/** Names and codes as in the IBSI reference table. */
const FEATURES: readonly FeatureDefinition<NgtdmFeature>[] = [
  { name: 'Coarseness', code: 'QCDE', key: 'coarseness' },
  { name: 'Contrast', code: '65HE', key: 'contrast' },
  { name: 'Busyness', code: 'NQ30', key: 'busyness' },
  { name: 'Complexity', code: 'HDEZ', key: 'complexity' },
  { name: 'Strength', code: '1X9X', key: 'strength' },
];

/** IBSI 3.10 caps coarseness at 10^6, which is also its value when Σ p_i s_i = 0. */
const MAX_COARSENESS = 1e6;

/**
 * Accumulates s_i and n_i per slice (`inSlice`: one NGTDM per slice k, neighbourhoods in the
 * slice) or for the volume (one NGTDM, 3-D neighbourhoods). Returns [s, n] laid out as
 * [slice][grey level − 1].
 */
function accumulate(levels: Int32Array, dims: Vec3, ng: number, distance: number, inSlice: boolean): { s: Float64Array; n: Float64Array } {
  const [nx, ny, nz] = dims;
  const matrices = inSlice ? nz : 1;
  const s = new Float64Array(matrices * ng);
  const n = new Float64Array(matrices * ng);
  const { di, dj, dk, linear } = neighbourOffsets(dims, distance, inSlice);
  const m = linear.length;
  const kLow = inSlice ? 0 : distance;
  const kHigh = inSlice ? nz : nz - distance;
  for (let k = 0, v = 0; k < nz; k++) {
    const base = inSlice ? k * ng : 0;
    const kInterior = k >= kLow && k < kHigh;
    for (let j = 0; j < ny; j++) {
      const jInterior = kInterior && j >= distance && j < ny - distance;
      for (let i = 0; i < nx; i++, v++) {
        const g = levels[v]!;
        if (g <= 0) continue;
        let sum = 0;
        let count = 0;
        if (jInterior && i >= distance && i < nx - distance) {
          for (let o = 0; o < m; o++) {
            const h = levels[v + linear[o]!]!;
            if (h > 0) {
              sum += h;
              count++;
            }
          }
        } else {
          for (let o = 0; o < m; o++) {
            const a = i + di[o]!, b = j + dj[o]!, c = k + dk[o]!;
            if (a < 0 || a >= nx || b < 0 || b >= ny || c < 0 || c >= nz) continue;
            const h = levels[v + linear[o]!]!;
            if (h > 0) {
              sum += h;
              count++;
            }
          }
        }
        if (count === 0) continue;
        const cell = base + g - 1;
        s[cell] = s[cell]! + Math.abs(g - sum / count);
        n[cell] = n[cell]! + 1;
      }
    }
  }
  return { s, n };
}

function sliceMatricesOf(levels: Int32Array, dims: Vec3, ng: number, distance: number): NgtdmMatrix[] {
  const { s, n } = accumulate(levels, dims, ng, distance, true);
  const plane = dims[0] * dims[1];
  const out: NgtdmMatrix[] = [];
  for (let k = 0; k < dims[2]; k++) {
    let roiVoxels = false;
    for (let v = k * plane, end = v + plane; v < end && !roiVoxels; v++) roiVoxels = levels[v]! > 0;
    if (roiVoxels) out.push({ ng, s: s.slice(k * ng, (k + 1) * ng), n: n.slice(k * ng, (k + 1) * ng) });
  }
  return out;
}

/** The NGTDM of each slice (k ascending) that holds voxels of the intensity mask, 2-D neighbourhoods at Chebyshev `distance`. */
export function ngtdmSliceMatrices(d: DiscretisedRoi, distance = 1): NgtdmMatrix[] {
  checkDistance(distance, FAMILY);
  const roi = cropToRoi(d, FAMILY);
  return sliceMatricesOf(roi.levels, roi.dims, roi.ng, distance);
}

/** The NGTDM of the volume, 3-D neighbourhoods at Chebyshev `distance`. */
export function ngtdmVolumeMatrix(d: DiscretisedRoi, distance = 1): NgtdmMatrix {
  checkDistance(distance, FAMILY);
  const roi = cropToRoi(d, FAMILY);
  return { ng: roi.ng, ...accumulate(roi.levels, roi.dims, roi.ng, distance, false) };
}

/** The '2.5D' merge (IBSI 3.10): s_i and n_i summed over slices. */
export function mergeNgtdm(ng: number, matrices: readonly NgtdmMatrix[]): NgtdmMatrix {
  const s = new Float64Array(ng);
  const n = new Float64Array(ng);
  for (const m of matrices) {
    for (let i = 0; i < ng; i++) {
      s[i] = s[i]! + m.s[i]!;
      n[i] = n[i]! + m.n[i]!;
    }
  }
  return { ng, s, n };
}

/**
 * The five NGTDM features (IBSI 3.10). p_i = n_i / N_vc with N_vc = Σ n_i; sums over pairs
 * run over the N_gp grey levels with p_i > 0. All are NaN when no voxel has a valid neighbourhood.
 */
export function ngtdmFeatures(d: DiscretisedRoi, o: TextureOptions): Feature[] {
  checkTextureOptions(o, FAMILY);
  const roi = cropToRoi(d, FAMILY);
  let slices: NgtdmMatrix[] | undefined;
  const perSlice = () => (slices ??= sliceMatricesOf(roi.levels, roi.dims, roi.ng, o.distance));
  const results = requestedDimensions(o).map((dimension: TextureDimension) => {
    let values: NgtdmFeatures;
    if (dimension === '2D') values = meanRecordOverSlices(perSlice().map(ngtdmMatrixFeatures), KEYS);
    else if (dimension === '2.5D') values = ngtdmMatrixFeatures(mergeNgtdm(roi.ng, perSlice()));
    else values = ngtdmMatrixFeatures({ ng: roi.ng, ...accumulate(roi.levels, roi.dims, roi.ng, o.distance, false) });
    return { dimension, values };
  });
  return featureRows('ngt', FEATURES, results);
}

export function ngtdmMatrixFeatures(m: NgtdmMatrix): NgtdmFeatures {
  let nvc = 0;
  let sumS = 0;
  const present: number[] = [];
  for (let i = 0; i < m.ng; i++) {
    nvc += m.n[i]!;
    sumS += m.s[i]!;
    if (m.n[i]! > 0) present.push(i + 1);
  }
  if (nvc === 0) return { coarseness: Number.NaN, contrast: Number.NaN, busyness: Number.NaN, complexity: Number.NaN, strength: Number.NaN };
  const ngp = present.length;
  const level = Float64Array.from(present);
  const p = Float64Array.from(present, (i) => m.n[i - 1]! / nvc);
  const s = Float64Array.from(present, (i) => m.s[i - 1]!);
  let sumPS = 0;
  for (let a = 0; a < ngp; a++) sumPS += p[a]! * s[a]!;

  let dynamicRange = 0, busyDenominator = 0, complexity = 0, strength = 0;
  for (let a = 0; a < ngp; a++) {
    const ia = level[a]!, pa = p[a]!, sa = s[a]!;
    for (let b = 0; b < ngp; b++) {
      const ib = level[b]!, pb = p[b]!, sb = s[b]!;
      const diff = ia - ib;
      dynamicRange += pa * pb * diff * diff;
      busyDenominator += Math.abs(ia * pa - ib * pb);
      complexity += (Math.abs(diff) * (pa * sa + pb * sb)) / (pa + pb);
      strength += (pa + pb) * diff * diff;
    }
  }
  const coarseness = sumPS === 0 ? MAX_COARSENESS : Math.min(1 / sumPS, MAX_COARSENESS);
  // IBSI 3.10: contrast and busyness are 0 for a single grey level, strength is 0 when Σ s_i = 0.
  const contrast = ngp === 1 ? 0 : (dynamicRange / (ngp * (ngp - 1))) * (sumS / nvc);
  const busyness = ngp === 1 ? 0 : busyDenominator === 0 ? Number.NaN : sumPS / busyDenominator;
  return {
    coarseness,
    contrast,
    busyness,
    complexity: complexity / nvc,
    strength: sumS === 0 ? 0 : strength / sumS,
  };
}
