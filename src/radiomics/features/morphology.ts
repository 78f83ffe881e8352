/**
 * Morphological features (IBSI 3.1, family `morph`): always 3-D, in millimetres, on the ROI's
 * surface mesh (marching cubes over the morphological mask), its convex hull, the voxel centres
 * of the morphological mask, and the intensities of the intensity mask.
 *
 * Which mask each feature reads (IBSI 3.1, "ROI morphological and intensity masks"):
 * - morphological mask: the mesh (volume, area and everything built on them), voxel-counting
 *   volume, the geometric centre of mass, principal component analysis;
 * - intensity mask: the intensity-weighted centre of mass (KLMA), the mean intensity of
 *   integrated intensity (99N0), Moran's I (N365) and Geary's C (NPT7).
 *
 * The shared quantities are computed once into a context; each feature is a small function of it.
 */
import { RadiomicsInputError } from '../errors.js';
import { axisAlignedBox, boxSurfaceArea, boxVolume, orientedMinimumBox, type BoxExtents } from '../geometry/bounding-box.js';
import { convexHull, maximumDistance } from '../geometry/convex-hull.js';
import { ellipsoidSurfaceArea, ellipsoidVolume } from '../geometry/ellipsoid.js';
import { minimumVolumeEnclosingEllipsoid } from '../geometry/enclosing-ellipsoid.js';
import { spatialAutocorrelation, type SpatialAutocorrelation } from '../geometry/spatial-autocorrelation.js';
import { symmetricEigen3 } from '../geometry/symmetric-eigen.js';
import { maskSurfaceMesh, meshArea, meshVolume, type TriangleMesh } from '../mesh.js';
import type { Feature, RoiImage } from '../types.js';

export interface MorphologyOptions {
  /**
   * Also report the four features IBSI defines but has no reference values for (volume and area
   * density of the oriented minimum bounding box, ZH1A and IQYR, and of the minimum volume
   * enclosing ellipsoid, SWZ1 and BRI8: "should not be used"). Off by default, so that the rows
   * are exactly those of the IBSI reference table.
   */
  readonly unstandardised?: boolean;
}

/** The morphological features of `roi`, in the order of the IBSI reference table. */
export function morphologyFeatures(roi: RoiImage, options: MorphologyOptions = {}): Feature[] {
  const context = morphologyContext(roi);
  const rows = options.unstandardised ? FEATURES : FEATURES.filter((f) => !f.unstandardised);
  return rows.map((f) => ({ family: 'morph', name: f.name, code: f.code, aggregation: '', value: f.value(context) }));
}

interface FeatureDefinition {
  /** As the `feature` column of the IBSI reference table (or the manual's heading). */
  readonly name: string;
  readonly code: string;
  readonly unstandardised?: true;
  readonly value: (c: MorphologyContext) => number;
}

/** What the features share, computed once (lazily for what few features need). */
export interface MorphologyContext {
  /** Mesh volume V (mm³). */
  readonly volume: number;
  /** Mesh area A (mm²). */
  readonly area: number;
  /** Voxels in the morphological mask. */
  readonly morphologicalVoxels: number;
  readonly voxelVolume: number;
  readonly mesh: TriangleMesh;
  readonly hull: { readonly volume: number; readonly area: number; readonly diameter: number };
  /** Eigenvalues of the covariance of the morphological voxel centres, largest first (mm²). */
  readonly principal: readonly [number, number, number];
  /** ‖geometric centre − intensity-weighted centre‖ (mm). */
  readonly centreOfMassShift: number;
  /** Mean intensity over the intensity mask (NaN when it is empty). */
  readonly meanIntensity: number;
  readonly axisAlignedBox: BoxExtents;
  readonly orientedBox: () => BoxExtents;
  /** Semi-axes of the minimum volume enclosing ellipsoid, longest first. */
  readonly enclosingEllipsoid: () => readonly [number, number, number];
  readonly autocorrelation: () => SpatialAutocorrelation;
}

/** Builds the shared quantities. Throws `RadiomicsInputError` for inconsistent or empty input. */
export function morphologyContext(roi: RoiImage): MorphologyContext {
  const [nx, ny, nz] = roi.dims;
  const voxels = nx * ny * nz;
  for (const [what, array] of [
    ['intensity', roi.intensity],
    ['morphological mask', roi.morphMask],
    ['intensity mask', roi.intensityMask],
  ] as const) {
    if (array.length !== voxels) throw new RadiomicsInputError(`the ${what} has ${array.length} voxels but the ROI grid ${nx}×${ny}×${nz} has ${voxels}`);
  }
  const [sx, sy, sz] = roi.spacing;
  const mesh = maskSurfaceMesh(roi.morphMask, roi.dims, roi.spacing);
  if (mesh.faces.length === 0) throw new RadiomicsInputError('the morphological mask is empty: morphological features need at least one voxel');
  const hull = convexHull(mesh.vertices);
  const voxelCentres = morphologicalMoments(roi);
  const weighted = intensityWeightedCentre(roi);

  let orientedBox: BoxExtents | undefined;
  let ellipsoid: readonly [number, number, number] | undefined;
  let autocorrelation: SpatialAutocorrelation | undefined;
  return {
    volume: meshVolume(mesh),
    area: meshArea(mesh),
    morphologicalVoxels: voxelCentres.count,
    voxelVolume: sx * sy * sz,
    mesh,
    hull: { volume: meshVolume(hull), area: meshArea(hull), diameter: maximumDistance(hull.vertices) },
    principal: voxelCentres.principal,
    centreOfMassShift: Math.hypot(
      voxelCentres.centre[0] - weighted.centre[0],
      voxelCentres.centre[1] - weighted.centre[1],
      voxelCentres.centre[2] - weighted.centre[2],
    ),
    meanIntensity: weighted.mean,
    axisAlignedBox: axisAlignedBox(mesh.vertices),
    orientedBox: () => (orientedBox ??= orientedMinimumBox(hull)),
    enclosingEllipsoid: () => (ellipsoid ??= minimumVolumeEnclosingEllipsoid(hull.vertices).semiAxes),
    autocorrelation: () => (autocorrelation ??= spatialAutocorrelation(roi.intensity, roi.intensityMask, roi.dims, roi.spacing)),
  };
}

/**
 * Count, centre and principal variances of the morphological mask's voxel centres (mm). The
 * covariance is the sample covariance (divided by N − 1), as in the IBSI reference
 * implementations: with N the digital phantom's minor axis length would be 9.24 mm against the
 * reference 9.31 ± 0.06.
 */
function morphologicalMoments(roi: RoiImage): { count: number; centre: [number, number, number]; principal: [number, number, number] } {
  const [nx, ny, nz] = roi.dims;
  const [sx, sy, sz] = roi.spacing;
  const mask = roi.morphMask;
  let count = 0;
  let mx = 0;
  let my = 0;
  let mz = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = nx * (j + ny * k);
      for (let i = 0; i < nx; i++) {
        if (!mask[row + i]) continue;
        count++;
        mx += i;
        my += j;
        mz += k;
      }
    }
  }
  mx /= count;
  my /= count;
  mz /= count;
  // Second moments about the centre, in voxel units, scaled to mm afterwards.
  const c = new Float64Array(9);
  for (let k = 0; k < nz; k++) {
    const dz = k - mz;
    for (let j = 0; j < ny; j++) {
      const dy = j - my;
      const row = nx * (j + ny * k);
      for (let i = 0; i < nx; i++) {
        if (!mask[row + i]) continue;
        const dx = i - mx;
        c[0]! += dx * dx;
        c[1]! += dx * dy;
        c[2]! += dx * dz;
        c[4]! += dy * dy;
        c[5]! += dy * dz;
        c[8]! += dz * dz;
      }
    }
  }
  const denominator = count - 1;
  const scale = [sx, sy, sz];
  for (let a = 0; a < 3; a++) for (let b = a; b < 3; b++) c[3 * a + b] = (c[3 * a + b]! * scale[a]! * scale[b]!) / denominator;
  // One voxel has no sample covariance: the axis lengths are undefined.
  const principal: [number, number, number] = count > 1 ? [...symmetricEigen3(c).values] : [NaN, NaN, NaN];
  return { count, centre: [mx * sx, my * sy, mz * sz], principal };
}

/** Mean intensity and intensity-weighted centre (mm) of the intensity mask (IBSI KLMA). */
function intensityWeightedCentre(roi: RoiImage): { mean: number; centre: [number, number, number] } {
  const [nx, ny, nz] = roi.dims;
  const [sx, sy, sz] = roi.spacing;
  const mask = roi.intensityMask;
  const x = roi.intensity;
  let count = 0;
  let total = 0;
  let wx = 0;
  let wy = 0;
  let wz = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = nx * (j + ny * k);
      for (let i = 0; i < nx; i++) {
        if (!mask[row + i]) continue;
        const value = x[row + i]!;
        count++;
        total += value;
        wx += value * i;
        wy += value * j;
        wz += value * k;
      }
    }
  }
  // An empty intensity mask, or intensities summing to zero, leave the weighted centre undefined.
  const centre: [number, number, number] = total !== 0 ? [(wx / total) * sx, (wy / total) * sy, (wz / total) * sz] : [NaN, NaN, NaN];
  return { mean: count > 0 ? total / count : NaN, centre };
}

/**
 * A feature that divides by a comparison volume or area, or by an eigenvalue: NaN where the
 * divisor vanishes (a ROI of one voxel, or one row of voxels, has a flat enclosing ellipsoid),
 * which IBSI leaves undefined.
 */
function ratio(numerator: number, denominator: number): number {
  return denominator > 0 && Number.isFinite(denominator) ? numerator / denominator : NaN;
}

/** Semi-axes of the approximate enclosing ellipsoid: 2√λ (IBSI 6BDE). */
function approximateEllipsoid(c: MorphologyContext): [number, number, number] {
  return [2 * Math.sqrt(c.principal[0]), 2 * Math.sqrt(c.principal[1]), 2 * Math.sqrt(c.principal[2])];
}

/** 36π·V²/A³ (IBSI BQWJ), which compactness, sphericity and their relatives derive from. */
function compactness2(c: MorphologyContext): number {
  return (36 * Math.PI * c.volume ** 2) / c.area ** 3;
}

/** The features, in the order of the IBSI reference table and of the manual's section 3.1. */
const FEATURES: readonly FeatureDefinition[] = [
  // Σ a·(b×c)/6 over the mesh faces
  { name: 'Volume (mesh)', code: 'RNU0', value: (c) => c.volume },
  // number of voxels × voxel volume
  { name: 'Volume (voxel counting)', code: 'YEKZ', value: (c) => c.morphologicalVoxels * c.voxelVolume },
  // Σ |ab × ac|/2 over the mesh faces
  { name: 'Surface area (mesh)', code: 'C0JK', value: (c) => c.area },
  // A/V
  { name: 'Surface to volume ratio', code: '2PR5', value: (c) => ratio(c.area, c.volume) },
  // V/(√π·A^{3/2})
  { name: 'Compactness 1', code: 'SKGS', value: (c) => c.volume / (Math.sqrt(Math.PI) * c.area ** 1.5) },
  // 36π·V²/A³
  { name: 'Compactness 2', code: 'BQWJ', value: compactness2 },
  // A/(36π·V²)^{1/3}
  { name: 'Spherical disproportion', code: 'KRCK', value: (c) => c.area / Math.cbrt(36 * Math.PI * c.volume ** 2) },
  // (36π·V²)^{1/3}/A
  { name: 'Sphericity', code: 'QCFX', value: (c) => Math.cbrt(36 * Math.PI * c.volume ** 2) / c.area },
  // (A³/(36π·V²))^{1/3} − 1
  { name: 'Asphericity', code: '25C7', value: (c) => Math.cbrt(c.area ** 3 / (36 * Math.PI * c.volume ** 2)) - 1 },
  // ‖CoM_geom − CoM_gl‖
  { name: 'Centre of mass shift', code: 'KLMA', value: (c) => c.centreOfMassShift },
  // the largest distance between two mesh vertices (they are convex hull vertices)
  { name: 'Maximum 3D diameter', code: 'L0JK', value: (c) => c.hull.diameter },
  // 4√λ
  { name: 'Major axis length', code: 'TDIC', value: (c) => 4 * Math.sqrt(c.principal[0]) },
  { name: 'Minor axis length', code: 'P9VJ', value: (c) => 4 * Math.sqrt(c.principal[1]) },
  { name: 'Least axis length', code: '7J51', value: (c) => 4 * Math.sqrt(c.principal[2]) },
  // √(λ_minor/λ_major) and √(λ_least/λ_major)
  { name: 'Elongation', code: 'Q3CK', value: (c) => Math.sqrt(ratio(c.principal[1], c.principal[0])) },
  { name: 'Flatness', code: 'N17B', value: (c) => Math.sqrt(ratio(c.principal[2], c.principal[0])) },
  // the mesh's axis-aligned bounding box
  { name: 'Volume density (axis-aligned bounding box)', code: 'PBX1', value: (c) => ratio(c.volume, boxVolume(c.axisAlignedBox)) },
  { name: 'Area density (axis-aligned bounding box)', code: 'R59B', value: (c) => ratio(c.area, boxSurfaceArea(c.axisAlignedBox)) },
  // the oriented minimum bounding box (no IBSI reference values)
  { name: 'Volume density (oriented minimum bounding box)', code: 'ZH1A', unstandardised: true, value: (c) => ratio(c.volume, boxVolume(c.orientedBox())) },
  { name: 'Area density (oriented minimum bounding box)', code: 'IQYR', unstandardised: true, value: (c) => ratio(c.area, boxSurfaceArea(c.orientedBox())) },
  // the ellipsoid of semi-axes 2√λ; its area by the Legendre series to ν = 20
  { name: 'Volume density (approximate enclosing ellipsoid)', code: '6BDE', value: (c) => ratio(c.volume, ellipsoidVolume(...approximateEllipsoid(c))) },
  { name: 'Area density (approximate enclosing ellipsoid)', code: 'RDD2', value: (c) => ratio(c.area, ellipsoidSurfaceArea(...approximateEllipsoid(c))) },
  // the minimum volume enclosing ellipsoid of the hull (no IBSI reference values)
  { name: 'Volume density (minimum volume enclosing ellipsoid)', code: 'SWZ1', unstandardised: true, value: (c) => ratio(c.volume, ellipsoidVolume(...c.enclosingEllipsoid())) },
  { name: 'Area density (minimum volume enclosing ellipsoid)', code: 'BRI8', unstandardised: true, value: (c) => ratio(c.area, ellipsoidSurfaceArea(...c.enclosingEllipsoid())) },
  // the convex hull of the mesh
  { name: 'Volume density (convex hull)', code: 'R3ER', value: (c) => ratio(c.volume, c.hull.volume) },
  { name: 'Area density (convex hull)', code: '7T7F', value: (c) => ratio(c.area, c.hull.area) },
  // V × mean intensity of the intensity mask
  { name: 'Integrated intensity', code: '99N0', value: (c) => c.volume * c.meanIntensity },
  // inverse-distance weighted autocorrelation over the intensity mask
  { name: "Moran's I index", code: 'N365', value: (c) => c.autocorrelation().moransI },
  { name: "Geary's C measure", code: 'NPT7', value: (c) => c.autocorrelation().gearysC },
];
