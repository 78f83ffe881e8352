/**
 * Morphological features (IBSI 3.1) on the IBSI digital phantom, against the published IBSI
 * consensus reference values, and the geometry they are built from: convex hull, bounding boxes,
 * eigen decomposition, ellipsoids, the Fourier transform and Moran's I / Geary's C.
 */
import { describe, expect, it } from 'vitest';
import { RadiomicsInputError } from '../../../src/radiomics/errors.js';
import { morphologyFeatures } from '../../../src/radiomics/features/morphology.js';
import { axisAlignedBox, boxSurfaceArea, boxVolume, orientedMinimumBox } from '../../../src/radiomics/geometry/bounding-box.js';
import { convexHull, maximumDistance } from '../../../src/radiomics/geometry/convex-hull.js';
import { ellipsoidSurfaceArea, ellipsoidVolume } from '../../../src/radiomics/geometry/ellipsoid.js';
import { minimumVolumeEnclosingEllipsoid } from '../../../src/radiomics/geometry/enclosing-ellipsoid.js';
import { Fft, fft3d, smoothLength } from '../../../src/radiomics/geometry/fft.js';
import { spatialAutocorrelation } from '../../../src/radiomics/geometry/spatial-autocorrelation.js';
import { symmetricEigen3 } from '../../../src/radiomics/geometry/symmetric-eigen.js';
import { meshArea, meshVolume } from '../../../src/radiomics/mesh.js';
import type { Feature, RoiImage } from '../../../src/radiomics/types.js';
import type { Vec3 } from '../../../src/volume/volume.js';
import { digitalPhantom } from '../support/ibsi-phantom.js';
import { seededRandom } from '../../support/random.js';

/**
 * The IBSI consensus reference values of the morphological features for the digital phantom
 * (IBSI reference manual, chapter 3.1, data "dig. phantom"): [IBSI code, feature, value, tolerance].
 */
const PHANTOM_REFERENCE: readonly (readonly [string, string, number, number])[] = [
  ['RNU0', 'Volume (mesh)', 556, 4],
  ['YEKZ', 'Volume (voxel counting)', 592, 4],
  ['C0JK', 'Surface area (mesh)', 388, 3],
  ['2PR5', 'Surface to volume ratio', 0.698, 0.004],
  ['SKGS', 'Compactness 1', 0.0411, 0.0003],
  ['BQWJ', 'Compactness 2', 0.599, 0.004],
  ['KRCK', 'Spherical disproportion', 1.19, 0.01],
  ['QCFX', 'Sphericity', 0.843, 0.005],
  ['25C7', 'Asphericity', 0.186, 0.001],
  ['KLMA', 'Centre of mass shift', 0.672, 0.004],
  ['L0JK', 'Maximum 3D diameter', 13.1, 0.1],
  ['TDIC', 'Major axis length', 11.4, 0.1],
  ['P9VJ', 'Minor axis length', 9.31, 0.06],
  ['7J51', 'Least axis length', 8.54, 0.05],
  ['Q3CK', 'Elongation', 0.816, 0.005],
  ['N17B', 'Flatness', 0.749, 0.005],
  ['PBX1', 'Volume density (axis-aligned bounding box)', 0.869, 0.005],
  ['R59B', 'Area density (axis-aligned bounding box)', 0.866, 0.005],
  ['6BDE', 'Volume density (approximate enclosing ellipsoid)', 1.17, 0.01],
  ['RDD2', 'Area density (approximate enclosing ellipsoid)', 1.36, 0.01],
  ['R3ER', 'Volume density (convex hull)', 0.961, 0.006],
  ['7T7F', 'Area density (convex hull)', 1.03, 0.01],
  ['99N0', 'Integrated intensity', 1200, 10],
  ['N365', "Moran's I index", 0.0397, 0.0003],
  ['NPT7', "Geary's C measure", 0.974, 0.006],
];

function phantomRoi(): RoiImage {
  const { image, mask } = digitalPhantom();
  return { dims: mask.grid.dims, spacing: mask.grid.spacing, intensity: image.data, morphMask: mask.data, intensityMask: mask.data };
}

function valueOf(features: readonly Feature[], code: string): number {
  const f = features.find((x) => x.code === code);
  if (!f) throw new Error(`no feature ${code}`);
  return f.value;
}

/** A ROI on a grid from a predicate; intensities from a function of the voxel. */
function syntheticRoi(dims: Vec3, spacing: Vec3, inside: (i: number, j: number, k: number) => boolean, intensity: (i: number, j: number, k: number) => number): RoiImage {
  const [nx, ny, nz] = dims;
  const mask = new Uint8Array(nx * ny * nz);
  const values = new Float64Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const index = i + nx * (j + ny * k);
        values[index] = intensity(i, j, k);
        if (inside(i, j, k)) mask[index] = 1;
      }
    }
  }
  return { dims, spacing, intensity: values, morphMask: mask, intensityMask: mask };
}

const random = seededRandom;

describe('morphologyFeatures on the IBSI digital phantom', () => {
  const roi = phantomRoi();
  const features = morphologyFeatures(roi);

  it('reads the phantom as IBSI describes it: 5 × 4 × 4 voxels of 2 mm, 74 in the ROI', () => {
    expect(roi.dims).toEqual([5, 4, 4]);
    expect(roi.spacing).toEqual([2, 2, 2]);
    expect(roi.morphMask.reduce((a, b) => a + b, 0)).toBe(74);
  });

  it('emits exactly the reference table rows, named as the table names them', () => {
    expect(features.map((f) => [f.code, f.name])).toEqual(PHANTOM_REFERENCE.map(([code, name]) => [code, name]));
    for (const f of features) {
      expect(f.family).toBe('morph');
      expect(f.aggregation).toBe('');
    }
  });

  for (const [code, name, value, tolerance] of PHANTOM_REFERENCE) {
    it(`${code} ${name}: ${value} ± ${tolerance}`, () => {
      const ours = valueOf(features, code);
      expect(Math.abs(ours - value), `${name} = ${ours}`).toBeLessThanOrEqual(tolerance);
    });
  }

  it('adds the four features without reference values on request, in IBSI order', () => {
    const all = morphologyFeatures(roi, { unstandardised: true });
    expect(all).toHaveLength(29);
    const codes = all.map((f) => f.code);
    expect(codes.slice(16, 24)).toEqual(['PBX1', 'R59B', 'ZH1A', 'IQYR', '6BDE', 'RDD2', 'SWZ1', 'BRI8']);
    // The oriented minimum box is never larger than the axis-aligned one.
    expect(valueOf(all, 'ZH1A')).toBeGreaterThanOrEqual(valueOf(all, 'PBX1') - 1e-12);
    // The minimum volume enclosing ellipsoid holds the mesh (within Khachiyan's tolerance).
    expect(valueOf(all, 'SWZ1')).toBeGreaterThan(0);
    expect(valueOf(all, 'SWZ1')).toBeLessThan(1);
    expect(valueOf(all, 'BRI8')).toBeGreaterThan(0);
  });
});

describe('morphologyFeatures on synthetic ROIs', () => {
  it('gives the maximum 3D diameter of a cube of 3 × 3 × 3 voxels: √(n² + 2(n − 1)²) voxel widths', () => {
    // The mesh's farthest vertices sit half a voxel beyond opposite corner voxels along one axis:
    // (−½, 0, 0) and (n − ½, n − 1, n − 1) in voxel units.
    const roi = syntheticRoi([5, 5, 5], [1.5, 1.5, 1.5], (i, j, k) => i >= 1 && i <= 3 && j >= 1 && j <= 3 && k >= 1 && k <= 3, () => 1);
    const features = morphologyFeatures(roi);
    expect(valueOf(features, 'L0JK')).toBeCloseTo(1.5 * Math.sqrt(9 + 2 * 4), 12);
    expect(valueOf(features, 'YEKZ')).toBeCloseTo(27 * 1.5 ** 3, 9);
    // A convex ROI fills its convex hull.
    expect(valueOf(features, 'R3ER')).toBeCloseTo(1, 9);
    expect(valueOf(features, '7T7F')).toBeCloseTo(1, 9);
  });

  it('reports NaN for what a single voxel leaves undefined, and finite values for the rest', () => {
    const roi = syntheticRoi([3, 3, 3], [1, 1, 1], (i, j, k) => i === 1 && j === 1 && k === 1, () => 5);
    const features = morphologyFeatures(roi);
    expect(valueOf(features, 'RNU0')).toBeCloseTo(1 / 6, 12);
    expect(valueOf(features, 'KLMA')).toBeCloseTo(0, 12);
    for (const code of ['TDIC', 'P9VJ', '7J51', 'Q3CK', 'N17B', '6BDE', 'RDD2', 'N365', 'NPT7']) {
      expect(valueOf(features, code), code).toBeNaN();
    }
    expect(valueOf(features, '99N0')).toBeCloseTo(5 / 6, 12);
  });

  it('reports NaN for Moran and Geary when all intensities are equal', () => {
    const roi = syntheticRoi([6, 6, 6], [1, 1, 1], (i, j, k) => (i - 2.5) ** 2 + (j - 2.5) ** 2 + (k - 2.5) ** 2 < 6, () => 100);
    const features = morphologyFeatures(roi);
    expect(valueOf(features, 'N365')).toBeNaN();
    expect(valueOf(features, 'NPT7')).toBeNaN();
    expect(valueOf(features, 'KLMA')).toBeCloseTo(0, 9);
  });

  it('uses the intensity mask for intensity features and the morphological mask for geometry', () => {
    const dims: Vec3 = [6, 6, 6];
    const base = syntheticRoi(dims, [1, 1, 1], (i, j, k) => i >= 1 && i <= 4 && j >= 1 && j <= 4 && k >= 1 && k <= 4, (i) => (i <= 2 ? 10 : 30));
    // Re-segmentation keeps only the voxels of intensity 30.
    const intensityMask = base.morphMask.map((m, index) => (m && base.intensity[index] === 30 ? 1 : 0));
    const roi: RoiImage = { ...base, intensityMask };
    const features = morphologyFeatures(roi);
    const geometry = morphologyFeatures(base);
    expect(valueOf(features, 'RNU0')).toBeCloseTo(valueOf(geometry, 'RNU0'), 12);
    // Mean intensity over the intensity mask is 30.
    expect(valueOf(features, '99N0')).toBeCloseTo(30 * valueOf(features, 'RNU0'), 9);
    // Geometric centre at i = 2.5; intensity-weighted centre of the voxels i = 3, 4 at 3.5.
    expect(valueOf(features, 'KLMA')).toBeCloseTo(1, 12);
  });

  it('rejects arrays that do not fit the grid and an empty morphological mask', () => {
    const roi = phantomRoi();
    expect(() => morphologyFeatures({ ...roi, intensityMask: new Uint8Array(3) })).toThrow(RadiomicsInputError);
    expect(() => morphologyFeatures({ ...roi, intensity: new Float64Array(10) })).toThrow(/intensity has 10 voxels/);
    expect(() => morphologyFeatures({ ...roi, morphMask: new Uint8Array(roi.morphMask.length) })).toThrow(/morphological mask is empty/);
  });
});

describe('convex hull and bounding boxes', () => {
  const cube = (side: number): Float64Array => {
    const points: number[] = [];
    for (const x of [0, side]) for (const y of [0, side]) for (const z of [0, side]) points.push(x, y, z);
    // Points inside and on faces, which the hull must drop.
    points.push(side / 2, side / 2, side / 2, side / 3, side / 4, 0, side, side / 2, side / 5);
    return Float64Array.from(points);
  };

  it('finds the hull of a cube: its 8 corners, volume s³, area 6s², diameter s√3', () => {
    const hull = convexHull(cube(3));
    expect(hull.vertices.length / 3).toBe(8);
    expect(meshVolume(hull)).toBeCloseTo(27, 9);
    expect(meshArea(hull)).toBeCloseTo(54, 9);
    expect(maximumDistance(hull.vertices)).toBeCloseTo(3 * Math.sqrt(3), 12);
  });

  it('rejects points in one plane', () => {
    expect(() => convexHull(Float64Array.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0.5, 0.5, 0]))).toThrow(RadiomicsInputError);
  });

  it('recovers the extents of a rotated box as its oriented minimum bounding box', () => {
    // A 4 × 2 × 1 box, rotated by a rotation matrix with rational entries, and shifted.
    const rotation = [
      [0.36, 0.48, -0.8],
      [-0.8, 0.6, 0],
      [0.48, 0.64, 0.6],
    ];
    const points: number[] = [];
    for (const x of [0, 4]) {
      for (const y of [0, 2]) {
        for (const z of [0, 1]) {
          for (let r = 0; r < 3; r++) points.push(rotation[r]![0]! * x + rotation[r]![1]! * y + rotation[r]![2]! * z + 10 * r);
        }
      }
    }
    const hull = convexHull(Float64Array.from(points));
    const box = orientedMinimumBox(hull);
    expect(box[0]).toBeCloseTo(4, 9);
    expect(box[1]).toBeCloseTo(2, 9);
    expect(box[2]).toBeCloseTo(1, 9);
    expect(boxVolume(box)).toBeCloseTo(8, 9);
    expect(boxSurfaceArea(box)).toBeCloseTo(28, 9);
    expect(boxVolume(axisAlignedBox(hull.vertices))).toBeGreaterThan(8.5);
  });
});

describe('symmetricEigen3', () => {
  it('decomposes a symmetric matrix: A·v = λ·v, orthonormal vectors, values largest first', () => {
    const next = random(7);
    for (let trial = 0; trial < 20; trial++) {
      const m = Array.from({ length: 9 }, () => next() * 10 - 5);
      const a = [m[0]!, m[1]!, m[2]!, m[1]!, m[4]!, m[5]!, m[2]!, m[5]!, m[8]!];
      const { values, vectors } = symmetricEigen3(a);
      expect(values[0]).toBeGreaterThanOrEqual(values[1]);
      expect(values[1]).toBeGreaterThanOrEqual(values[2]);
      for (let e = 0; e < 3; e++) {
        const v = vectors[e]!;
        for (let r = 0; r < 3; r++) {
          const av = a[3 * r]! * v[0] + a[3 * r + 1]! * v[1] + a[3 * r + 2]! * v[2];
          expect(av).toBeCloseTo(values[e]! * v[r]!, 9);
        }
        for (let f = 0; f < 3; f++) {
          const dot = v[0] * vectors[f]![0] + v[1] * vectors[f]![1] + v[2] * vectors[f]![2];
          expect(dot).toBeCloseTo(e === f ? 1 : 0, 9);
        }
      }
    }
  });
});

describe('ellipsoids', () => {
  it('gives 4πr² and 4πr³/3 for a sphere', () => {
    expect(ellipsoidSurfaceArea(2, 2, 2)).toBeCloseTo(16 * Math.PI, 12);
    expect(ellipsoidVolume(2, 2, 2)).toBeCloseTo((32 * Math.PI) / 3, 12);
  });

  it("evaluates IBSI's Legendre series (RDD2) to ν = 20", () => {
    // Prolate case: α = β = e and P_ν(1) = 1, so the series is 4πab·Σ e^(2ν)/(1 − 4ν²).
    const [a, b] = [2, 1.5];
    const e2 = 1 - (b / a) ** 2;
    let sum = 0;
    for (let nu = 0; nu <= 20; nu++) sum += e2 ** nu / (1 - 4 * nu * nu);
    expect(ellipsoidSurfaceArea(a, b, b)).toBeCloseTo(4 * Math.PI * a * b * sum, 10);
    // Tri-axial: the same series evaluated independently with numpy's Legendre polynomials
    // (numpy.polynomial.legendre.legval) for semi-axes 3, 2, 1 gives 52.81348101202416.
    expect(ellipsoidSurfaceArea(1, 3, 2)).toBeCloseTo(52.81348101202416, 9);
  });

  it("finds the minimum volume enclosing ellipsoid by Khachiyan's method", () => {
    // A cube's corners: the circumscribed sphere, radius √3 for the cube [−1, 1]³.
    const corners: number[] = [];
    for (const x of [-1, 1]) for (const y of [-1, 1]) for (const z of [-1, 1]) corners.push(x, y, z);
    const sphere = minimumVolumeEnclosingEllipsoid(Float64Array.from(corners));
    for (const axis of sphere.semiAxes) expect(axis).toBeCloseTo(Math.sqrt(3), 9);
    // Points spread over an ellipsoid of semi-axes 3, 2, 1, rotated and shifted.
    const rotation = [
      [0.36, 0.48, -0.8],
      [-0.8, 0.6, 0],
      [0.48, 0.64, 0.6],
    ];
    const points: number[] = [];
    for (let t = 0; t < 20; t++) {
      for (let p = 0; p < 40; p++) {
        const theta = (Math.PI * (t + 0.5)) / 20;
        const phi = (2 * Math.PI * p) / 40;
        const v = [3 * Math.sin(theta) * Math.cos(phi), 2 * Math.sin(theta) * Math.sin(phi), Math.cos(theta)];
        for (let r = 0; r < 3; r++) points.push(rotation[r]![0]! * v[0]! + rotation[r]![1]! * v[1]! + rotation[r]![2]! * v[2]! + 5);
      }
    }
    const fitted = minimumVolumeEnclosingEllipsoid(Float64Array.from(points));
    expect(fitted.semiAxes[0]).toBeCloseTo(3, 1);
    expect(fitted.semiAxes[1]).toBeCloseTo(2, 1);
    expect(fitted.semiAxes[2]).toBeCloseTo(1, 1);
    for (const c of fitted.centre) expect(c).toBeCloseTo(5, 1);
  });
});

describe('Fourier transform', () => {
  function naiveDft(re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
    const n = re.length;
    const outRe = new Float64Array(n);
    const outIm = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < n; j++) {
        const angle = (-2 * Math.PI * j * k) / n;
        outRe[k]! += re[j]! * Math.cos(angle) - im[j]! * Math.sin(angle);
        outIm[k]! += re[j]! * Math.sin(angle) + im[j]! * Math.cos(angle);
      }
    }
    return [outRe, outIm];
  }

  it('rounds lengths up to products of 2, 3 and 5', () => {
    expect([1, 7, 11, 13, 17, 49, 97, 199].map(smoothLength)).toEqual([1, 8, 12, 15, 18, 50, 100, 200]);
  });

  it('matches the DFT by definition for lengths with factors 2, 3, 4 and 5', () => {
    const next = random(11);
    for (const n of [1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16, 18, 20, 25, 27, 30, 45, 50, 54, 60, 64, 75, 100]) {
      const re = Float64Array.from({ length: n }, () => next() - 0.5);
      const im = Float64Array.from({ length: n }, () => next() - 0.5);
      const [expectRe, expectIm] = naiveDft(re, im);
      new Fft(n).transformVectors(re, im, 1, new Float64Array(n), new Float64Array(n));
      for (let k = 0; k < n; k++) {
        expect(re[k], `n = ${n}, k = ${k}`).toBeCloseTo(expectRe[k]!, 10);
        expect(im[k], `n = ${n}, k = ${k}`).toBeCloseTo(expectIm[k]!, 10);
      }
    }
  });

  it('transforms a 3-D array along each axis, with and without the zero-padding shortcut', () => {
    const dims = [6, 5, 4] as const;
    const n = 6 * 5 * 4;
    const next = random(3);
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    // Non-zero only in i < 4, j < 3, k < 2.
    for (let k = 0; k < 2; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 4; i++) [re[i + 6 * (j + 5 * k)], im[i + 6 * (j + 5 * k)]] = [next(), next()];
    const expectRe = new Float64Array(n);
    const expectIm = new Float64Array(n);
    for (let c = 0; c < n; c++) {
      const [ci, cj, ck] = [c % 6, Math.floor(c / 6) % 5, Math.floor(c / 30)];
      for (let x = 0; x < n; x++) {
        const [i, j, k] = [x % 6, Math.floor(x / 6) % 5, Math.floor(x / 30)];
        const angle = -2 * Math.PI * ((ci * i) / 6 + (cj * j) / 5 + (ck * k) / 4);
        expectRe[c]! += re[x]! * Math.cos(angle) - im[x]! * Math.sin(angle);
        expectIm[c]! += re[x]! * Math.sin(angle) + im[x]! * Math.cos(angle);
      }
    }
    const [fullRe, fullIm] = [re.slice(), im.slice()];
    fft3d(fullRe, fullIm, dims);
    fft3d(re, im, dims, { size: [4, 3, 2] });
    for (let c = 0; c < n; c++) {
      expect(fullRe[c]).toBeCloseTo(expectRe[c]!, 10);
      expect(fullIm[c]).toBeCloseTo(expectIm[c]!, 10);
      expect(re[c]).toBeCloseTo(expectRe[c]!, 10);
      expect(im[c]).toBeCloseTo(expectIm[c]!, 10);
    }
  });
});

describe("Moran's I and Geary's C", () => {
  it('gives the hand-computed values for three voxels in a row with intensities 1, 2, 3', () => {
    // z = (−1, 0, 1), Σz² = 2; weights 1, 1 and ½ between neighbours and ends; over ordered pairs
    // W = 5, Σ w·z₁z₂ = −1, Σ w·(x₁ − x₂)² = 8: I = 3/5 · (−1)/2 = −0.3, C = 2/10 · 8/2 = 0.8.
    const intensity = Float64Array.of(1, 2, 3);
    const mask = Uint8Array.of(1, 1, 1);
    for (const method of ['direct', 'fourier'] as const) {
      const { moransI, gearysC } = spatialAutocorrelation(intensity, mask, [3, 1, 1], [1, 1, 1], method);
      expect(moransI, method).toBeCloseTo(-0.3, 12);
      expect(gearysC, method).toBeCloseTo(0.8, 12);
    }
  });

  it('gives I = −1 and C = 1 for two voxels of different intensity, at any distance', () => {
    const result = spatialAutocorrelation(Float64Array.of(4, 0, 0, 9), Uint8Array.of(1, 0, 0, 1), [4, 1, 1], [0.7, 1, 1]);
    expect(result.moransI).toBeCloseTo(-1, 12);
    expect(result.gearysC).toBeCloseTo(1, 12);
  });

  it('agrees between the pair loop and the Fourier transform on a random ROI with anisotropic voxels', () => {
    const next = random(99);
    const dims: Vec3 = [9, 7, 5];
    const n = 9 * 7 * 5;
    const mask = Uint8Array.from({ length: n }, () => (next() < 0.6 ? 1 : 0));
    const intensity = Float64Array.from({ length: n }, (_, index) => 50 * Math.sin(index / 7) + 20 * next());
    const direct = spatialAutocorrelation(intensity, mask, dims, [0.98, 0.98, 3], 'direct');
    const fourier = spatialAutocorrelation(intensity, mask, dims, [0.98, 0.98, 3], 'fourier');
    expect(Math.abs(fourier.moransI - direct.moransI)).toBeLessThan(1e-11 * Math.abs(direct.moransI) + 1e-13);
    expect(Math.abs(fourier.gearysC - direct.gearysC)).toBeLessThan(1e-11 * direct.gearysC);
  });

  it('is NaN for a single voxel or constant intensities', () => {
    expect(spatialAutocorrelation(Float64Array.of(3, 4), Uint8Array.of(1, 0), [2, 1, 1], [1, 1, 1]).moransI).toBeNaN();
    const constant = spatialAutocorrelation(Float64Array.of(3, 3, 3), Uint8Array.of(1, 1, 1), [3, 1, 1], [1, 1, 1]);
    expect(constant.moransI).toBeNaN();
    expect(constant.gearysC).toBeNaN();
  });
});
