import { describe, expect, it } from 'vitest';
import { RadiomicsInputError } from '../../../src/radiomics/errors.js';
import { localIntensityFeatures, PEAK_SPHERE_RADIUS_MM, sphereRuns } from '../../../src/radiomics/features/local-intensity.js';
import type { RoiImage } from '../../../src/radiomics/types.js';
import type { Vec3 } from '../../../src/volume/volume.js';
import { digitalPhantom } from '../support/ibsi-phantom.js';

/** IBSI publishes values to 3 significant digits (or more, when written): ours must round to them. */
function roundsTo(value: number, published: string): boolean {
  const digits = Math.max(3, published.replace(/^[-+]?0*\.?0*/, '').replace('.', '').replace(/0+$/, '').length);
  return Number(value.toPrecision(digits)) === Number(published);
}

function roi(dims: Vec3, spacing: Vec3, intensity: ArrayLike<number>, mask: ArrayLike<number>): RoiImage {
  const m = Uint8Array.from(mask);
  return { dims, spacing, intensity: Float64Array.from(intensity), morphMask: m, intensityMask: m };
}

function peaks(r: RoiImage): { local: number; global: number } {
  const [local, global] = localIntensityFeatures(r);
  return { local: local!.value, global: global!.value };
}

/** The definition, voxel by voxel: mean of the image voxels within the radius of each centre. */
function bruteForcePeaks(r: RoiImage): { local: number; global: number } {
  const [nx, ny, nz] = r.dims;
  const [sx, sy, sz] = r.spacing;
  const r2 = PEAK_SPHERE_RADIUS_MM ** 2;
  let max = -Infinity;
  for (let v = 0; v < r.intensity.length; v++) if (r.intensityMask[v] && r.intensity[v]! > max) max = r.intensity[v]!;
  let local = -Infinity;
  let global = -Infinity;
  for (let v = 0; v < r.intensity.length; v++) {
    if (!r.intensityMask[v]) continue;
    const [i, j, k] = [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))];
    let sum = 0;
    let count = 0;
    for (let kk = 0; kk < nz; kk++) {
      for (let jj = 0; jj < ny; jj++) {
        for (let ii = 0; ii < nx; ii++) {
          if (((ii - i) * sx) ** 2 + ((jj - j) * sy) ** 2 + ((kk - k) * sz) ** 2 <= r2) {
            sum += r.intensity[ii + nx * (jj + ny * kk)]!;
            count++;
          }
        }
      }
    }
    global = Math.max(global, sum / count);
    if (r.intensity[v] === max) local = Math.max(local, sum / count);
  }
  return { local, global };
}

describe('local intensity features (IBSI 3.2)', () => {
  it('reproduces the consensus values of the digital phantom', () => {
    const { image, mask } = digitalPhantom();
    const features = localIntensityFeatures({ dims: image.grid.dims, spacing: image.grid.spacing, intensity: image.data, morphMask: mask.data, intensityMask: mask.data });
    // [name, IBSI code, published value for "dig. phantom"]
    const reference: [string, string, string][] = [
      ['Local intensity peak', 'VJGA', '2.6'],
      ['Global intensity peak', '0F91', '3.1'],
    ];
    expect(features.map((f) => f.name)).toEqual(reference.map((r) => r[0]));
    for (const [i, [name, code, published]] of reference.entries()) {
      const f = features[i]!;
      expect(f.code).toBe(code);
      expect(f.family).toBe('loc');
      expect(f.aggregation).toBe('');
      expect(roundsTo(f.value, published), `${name} (${code}) = ${f.value}, published ${published}`).toBe(true);
    }
  });

  it('has a sphere of 1 cm³ radius and the voxels within it', () => {
    expect(PEAK_SPHERE_RADIUS_MM).toBeCloseTo(6.2035, 4);
    expect((4 / 3) * Math.PI * PEAK_SPHERE_RADIUS_MM ** 3).toBeCloseTo(1000, 9);
    const count = (spacing: Vec3) => sphereRuns(spacing).reduce((n, run) => n + 2 * run.halfWidth + 1, 0);
    // 2 mm voxels: offsets with a² + b² + c² ≤ 9 (4·9.62 mm² = r²): 123 voxels
    expect(count([2, 2, 2])).toBe(123);
    // 5 mm voxels: the centre and its 6 face neighbours
    expect(count([5, 5, 5])).toBe(7);
    // The CT phantom's voxels: brute force over offsets
    const ct: Vec3 = [0.977, 0.977, 3];
    let brute = 0;
    for (let c = -3; c <= 3; c++) for (let b = -8; b <= 8; b++) for (let a = -8; a <= 8; a++) if ((a * ct[0]) ** 2 + (b * ct[1]) ** 2 + (c * ct[2]) ** 2 <= PEAK_SPHERE_RADIUS_MM ** 2) brute++;
    expect(count(ct)).toBe(brute);
  });

  it('averages only the voxels inside the image near its border', () => {
    // 3 × 3 × 3 of 5 mm voxels: spheres are the voxel and its face neighbours
    const intensity = new Array<number>(27).fill(1);
    intensity[13] = 8; // the centre
    const centreOnly = new Array<number>(27).fill(0);
    centreOnly[13] = 1;
    expect(peaks(roi([3, 3, 3], [5, 5, 5], intensity, centreOnly))).toEqual({ local: (8 + 6) / 7, global: (8 + 6) / 7 });
    // The corner (0, 0, 0) has 3 neighbours in the image: its sphere holds 4 voxels.
    intensity[0] = 7;
    const corner = new Array<number>(27).fill(0);
    corner[0] = 1;
    expect(peaks(roi([3, 3, 3], [5, 5, 5], intensity, corner))).toEqual({ local: (7 + 3) / 4, global: (7 + 3) / 4 });
    // A ROI of the corner and the centre: the local peak is around the maximum (the centre, 8,
    // whose sphere is all outside the ROI but itself), the global peak around the corner.
    const both = corner.slice();
    both[13] = 1;
    expect(peaks(roi([3, 3, 3], [5, 5, 5], intensity, both))).toEqual({ local: 2, global: 2.5 });
  });

  it('takes the highest peak when several voxels share the maximum, and the global peak over all', () => {
    // A row of 9 voxels of 5 mm: spheres are the voxel and its two neighbours along i.
    const intensity = [9, 0, 0, 0, 9, 8, 0, 0, 7];
    const all = new Array<number>(9).fill(1);
    // the maxima at 0 (sphere {9, 0}: 4.5) and 4 (sphere {0, 9, 8}: 17/3); global: 5 ({9, 8, 0}: 17/3 too) → 17/3
    const p = peaks(roi([9, 1, 1], [5, 5, 5], intensity, all));
    expect(p.local).toBeCloseTo(17 / 3, 12);
    expect(p.global).toBeCloseTo(17 / 3, 12);
    // Without voxel 4 in the ROI the local peak is around voxel 0 alone, the global one still near 4.
    const without4 = all.slice();
    without4[4] = 0;
    const q = peaks(roi([9, 1, 1], [5, 5, 5], intensity, without4));
    expect(q.local).toBe(4.5);
    expect(q.global).toBeCloseTo(17 / 3, 12);
  });

  it('matches the definition voxel by voxel on a random anisotropic image', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const dims: Vec3 = [13, 11, 7];
    const n = dims[0] * dims[1] * dims[2];
    const intensity = Array.from({ length: n }, () => Math.round(random() * 2000 - 1000) + random());
    const mask = Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
    const r = roi(dims, [0.977, 1.3, 3], intensity, mask);
    const ours = peaks(r);
    const brute = bruteForcePeaks(r);
    expect(ours.local).toBeCloseTo(brute.local, 9);
    expect(ours.global).toBeCloseTo(brute.global, 9);
  });

  it('gives NaN for an empty intensity mask and refuses inconsistent input', () => {
    expect(peaks(roi([2, 2, 1], [1, 1, 1], [1, 2, 3, 4], [0, 0, 0, 0]))).toEqual({ local: NaN, global: NaN });
    expect(() => localIntensityFeatures(roi([2, 2, 2], [1, 1, 1], [1, 2, 3, 4], [1, 0, 0, 0]))).toThrow(RadiomicsInputError);
    expect(() => localIntensityFeatures(roi([2, 2, 1], [1, 0, 1], [1, 2, 3, 4], [1, 0, 0, 0]))).toThrow(/spacing must be positive/);
  });
});
