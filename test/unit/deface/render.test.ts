/**
 * The skin render on synthetic heads: a sphere of 60 mm radius at the origin of LPS, with bumps
 * (a nose in front, markers on the right side or on top), sampled from a smooth profile (the value
 * falls from 100 inside to 0 outside over about a millimetre) on grids whose voxels are not cubes
 * and whose axes are not the patient's.
 */
import { describe, expect, it } from 'vitest';
import { VolumeGeometryError } from '../../../src/volume/errors.js';
import { indexToWorld } from '../../../src/volume/geometry.js';
import { DEFAULT_ELEVATION_DEGREES, headFrame, renderSkin, skinThreshold, type GreyImage, type RenderFrame } from '../../../src/volume/deface/render.js';
import type { Grid, Vec3, Volume } from '../../../src/volume/volume.js';

interface Ball {
  readonly centre: Vec3;
  readonly radius: number;
}

const HEAD: Ball = { centre: [0, 0, 0], radius: 60 };
const NOSE: Ball = { centre: [0, -62, 0], radius: 12 };
/** On the patient's right (−x) and in front (−y), at the height of the centre. */
const RIGHT_MARKER: Ball = { centre: [-42, -42, 0], radius: 8 };
/** In front and above (+z). */
const TOP_MARKER: Ball = { centre: [0, -42, 42], radius: 8 };

/** Anisotropic voxels, axes along the patient's (i → left, j → posterior, k → superior). */
const AXIAL: Grid = gridAround([1.2, 0.9, 2.0], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
/** Cubic voxels, axes as in a sagittal-ish acquisition: i → left, j → inferior, k → anterior. */
const PERMUTED: Grid = gridAround([1.6, 1.6, 1.6], [1, 0, 0, 0, 0, -1, 0, -1, 0]);

/** A grid holding the box ±86 mm around the origin, with the given spacing and axes. */
function gridAround(spacing: Vec3, direction: number[]): Grid {
  const half = 86;
  const dims: Vec3 = [Math.ceil((2 * half) / spacing[0]) + 1, Math.ceil((2 * half) / spacing[1]) + 1, Math.ceil((2 * half) / spacing[2]) + 1];
  // Place voxel 0 so that the grid's centre is the origin, whatever the axes.
  const c = indexToWorld({ dims, spacing, origin: [0, 0, 0], direction }, (dims[0] - 1) / 2, (dims[1] - 1) / 2, (dims[2] - 1) / 2);
  return { dims, spacing, origin: [-c[0], -c[1], -c[2]], direction };
}

/** The union of the balls, as a smooth image: 100 / (1 + exp(d / 0.7 mm)), d the signed distance. */
function phantom(grid: Grid, balls: readonly Ball[]): Volume<Float32Array> {
  const [nx, ny, nz] = grid.dims;
  const data = new Float32Array(nx * ny * nz);
  const origin = indexToWorld(grid, 0, 0, 0);
  const stepI = indexToWorld(grid, 1, 0, 0).map((x, a) => x - origin[a]!);
  const stepJ = indexToWorld(grid, 0, 1, 0).map((x, a) => x - origin[a]!);
  const stepK = indexToWorld(grid, 0, 0, 1).map((x, a) => x - origin[a]!);
  for (let k = 0, n = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        const x = origin[0] + i * stepI[0]! + j * stepJ[0]! + k * stepK[0]!;
        const y = origin[1] + i * stepI[1]! + j * stepJ[1]! + k * stepK[1]!;
        const z = origin[2] + i * stepI[2]! + j * stepJ[2]! + k * stepK[2]!;
        let d = Infinity;
        for (const b of balls) d = Math.min(d, Math.hypot(x - b.centre[0], y - b.centre[1], z - b.centre[2]) - b.radius);
        // Far from the surface the value is 0 or 100 to float precision: skip the exponential.
        data[n] = d > 20 ? 0 : d < -20 ? 100 : 100 / (1 + Math.exp(d / 0.7));
      }
    }
  }
  return { grid, data };
}

/** 1 mm per pixel, centred on the origin. */
const FRAME: RenderFrame = { centre: [0, 0, 0], fieldOfViewMm: 200 };
const SIZE = 200;

function pixel(image: GreyImage, col: number, row: number): number {
  return image.pixels[row * image.width + col]!;
}

/** Pixels where two renders differ by more than a few grey levels: their count and centroid (column, row). */
function difference(a: GreyImage, b: GreyImage): { count: number; col: number; row: number } {
  let count = 0;
  let col = 0;
  let row = 0;
  for (let r = 0; r < a.height; r++) {
    for (let c = 0; c < a.width; c++) {
      if (Math.abs(pixel(a, c, r) - pixel(b, c, r)) > 8) {
        count++;
        col += c;
        row += r;
      }
    }
  }
  return { count, col: col / count, row: row / count };
}

/** Where a point of the patient lands on the image (pixel coordinates, continuous), for FRAME and SIZE. */
function projection(p: Vec3, azimuthDegrees: number, elevationDegrees: number): { col: number; row: number } {
  const t = (azimuthDegrees * Math.PI) / 180;
  const f = (elevationDegrees * Math.PI) / 180;
  const right: Vec3 = [Math.cos(t), Math.sin(t), 0];
  // toCamera × right, with toCamera = (sin t cos f, −cos t cos f, sin f) and right = (cos t, sin t, 0).
  const up: Vec3 = [-Math.sin(f) * Math.sin(t), Math.sin(f) * Math.cos(t), Math.cos(f)];
  const u = p[0] * right[0] + p[1] * right[1] + p[2] * right[2];
  const v = p[0] * up[0] + p[1] * up[1] + p[2] * up[2];
  const mm = FRAME.fieldOfViewMm / SIZE;
  return { col: SIZE / 2 + u / mm - 0.5, row: SIZE / 2 - v / mm - 0.5 };
}

describe('renderSkin', () => {
  const head = phantom(AXIAL, [HEAD]);
  const withNose = phantom(AXIAL, [HEAD, NOSE]);
  const frontal = { azimuthDegrees: 0, elevationDegrees: 0, size: SIZE, frame: FRAME };

  it('draws the sphere as a round disc on black, whatever the voxel shape', () => {
    const image = renderSkin(head, frontal, 50);
    expect(image.width).toBe(SIZE);
    expect(image.height).toBe(SIZE);
    expect(image.pixels.length).toBe(SIZE * SIZE);
    const c = SIZE / 2 - 0.5;
    for (let a = 0; a < 16; a++) {
      const angle = (a * Math.PI) / 8;
      const at = (r: number) => pixel(image, Math.round(c + r * Math.cos(angle)), Math.round(c + r * Math.sin(angle)));
      expect(at(56), `inside the disc at ${a * 22.5}°`).toBeGreaterThan(0);
      expect(at(63), `outside the disc at ${a * 22.5}°`).toBe(0);
    }
    expect(pixel(image, 2, 2)).toBe(0);
  });

  it('shades by the cosine between the surface normal and a light above the camera', () => {
    const image = renderSkin(head, frontal, 50);
    // The analytic normal of the sphere where each pixel's ray meets it.
    const light = [0, -1, 0.55].map((x) => x / Math.hypot(1, 0.55));
    const cosines: number[] = [];
    const greys: number[] = [];
    for (let row = 0; row < SIZE; row += 3) {
      for (let col = 0; col < SIZE; col += 3) {
        const u = col + 0.5 - SIZE / 2;
        const v = SIZE / 2 - row - 0.5;
        if (u * u + v * v > 55 * 55) continue;
        const n = [u / 60, -Math.sqrt(60 * 60 - u * u - v * v) / 60, v / 60];
        cosines.push(Math.max(0, n[0]! * light[0]! + n[1]! * light[1]! + n[2]! * light[2]!));
        greys.push(pixel(image, col, row));
      }
    }
    expect(rankCorrelation(cosines, greys)).toBeGreaterThan(0.98);
    // Lit from above: the upper half of the face of the sphere is brighter than the lower half.
    expect(pixel(image, 100, 70)).toBeGreaterThan(pixel(image, 100, 130) + 40);
    // The rim, seen edge-on, is darker than the middle.
    expect(pixel(image, 100 + 58, 100)).toBeLessThan(pixel(image, 100, 100) / 2);
  });

  it('shows the nose at the centre, lit on top and shaded below', () => {
    const a = renderSkin(head, frontal, 50);
    const b = renderSkin(withNose, frontal, 50);
    const nose = difference(a, b);
    expect(nose.count).toBeGreaterThan(200);
    expect(Math.abs(nose.col - 99.5)).toBeLessThan(2);
    expect(Math.abs(nose.row - 99.5)).toBeLessThan(4);
    // Its upper flank faces the light, its lower flank faces away from it.
    expect(pixel(b, 100, 92)).toBeGreaterThan(pixel(b, 100, 108) + 40);
  });

  it("puts the patient's right on the image's left and the superior end at the top", () => {
    const base = renderSkin(head, frontal, 50);
    const right = difference(base, renderSkin(phantom(AXIAL, [HEAD, RIGHT_MARKER]), frontal, 50));
    const expected = projection(RIGHT_MARKER.centre, 0, 0);
    expect(right.col).toBeLessThan(SIZE / 2);
    expect(Math.abs(right.col - expected.col)).toBeLessThan(3);
    expect(Math.abs(right.row - expected.row)).toBeLessThan(3);
    const top = difference(base, renderSkin(phantom(AXIAL, [HEAD, TOP_MARKER]), frontal, 50));
    expect(top.row).toBeLessThan(SIZE / 2);
    expect(Math.abs(top.row - projection(TOP_MARKER.centre, 0, 0).row)).toBeLessThan(3);
    expect(Math.abs(top.col - 99.5)).toBeLessThan(2);
  });

  it('turns the camera about the superior axis by the azimuth, positive toward the patient\'s left', () => {
    const marked = phantom(AXIAL, [HEAD, RIGHT_MARKER]);
    for (const azimuth of [30, -30, -90]) {
      const view = { ...frontal, azimuthDegrees: azimuth };
      const seen = difference(renderSkin(head, view, 50), renderSkin(marked, view, 50));
      const expected = projection(RIGHT_MARKER.centre, azimuth, 0);
      expect(Math.abs(seen.col - expected.col), `azimuth ${azimuth}: column ${seen.col} vs ${expected.col}`).toBeLessThan(3);
      expect(Math.abs(seen.row - expected.row), `azimuth ${azimuth}`).toBeLessThan(3);
    }
    // From the patient's left the marker on the right is hidden behind the head.
    const fromLeft = { ...frontal, azimuthDegrees: 90 };
    expect(difference(renderSkin(head, fromLeft, 50), renderSkin(marked, fromLeft, 50)).count).toBe(0);
  });

  it('looks up from a little below by default, which raises what is in front', () => {
    expect(DEFAULT_ELEVATION_DEGREES).toBeLessThan(0);
    const view = { azimuthDegrees: 0, size: SIZE, frame: FRAME };
    const nose = difference(renderSkin(head, view, 50), renderSkin(withNose, view, 50));
    expect(nose.row).toBeLessThan(99.5 - 5);
    expect(Math.abs(nose.row - projection(NOSE.centre, 0, DEFAULT_ELEVATION_DEGREES).row)).toBeLessThan(4);
  });

  it('renders the same head the same on a grid with other axes and voxel sizes', () => {
    const balls = [HEAD, NOSE, RIGHT_MARKER];
    const axial = phantom(AXIAL, balls);
    const permuted = phantom(PERMUTED, balls);
    for (const view of [frontal, { ...frontal, azimuthDegrees: -30, elevationDegrees: -10 }]) {
      const a = renderSkin(axial, view, 50);
      const b = renderSkin(permuted, view, 50);
      let both = 0;
      let either = 0;
      let diff = 0;
      for (let n = 0; n < a.pixels.length; n++) {
        const inA = a.pixels[n]! > 0;
        const inB = b.pixels[n]! > 0;
        if (inA && inB) {
          both++;
          diff += Math.abs(a.pixels[n]! - b.pixels[n]!);
        }
        if (inA || inB) either++;
      }
      expect(both / either).toBeGreaterThan(0.98);
      expect(diff / both).toBeLessThan(6);
    }
  });

  it('shades a head cut by the edge of the field of view as a flat cut', () => {
    // The grid starts 40 mm in front of the centre: the front of the sphere is cut off.
    const dims: Vec3 = [141, 101, 141];
    const grid: Grid = { dims, spacing: [1, 1, 1], origin: [-70, -40, -70], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const image = renderSkin(phantom(grid, [HEAD]), frontal, 50);
    const cut = new Set<number>();
    for (let row = 70; row < 130; row++) for (let col = 70; col < 130; col++) cut.add(pixel(image, col, row));
    expect(cut.size).toBe(1);
    expect([...cut][0]).toBeGreaterThan(100);
  });

  it('frames the head by default', () => {
    const frame = headFrame(withNose, 50);
    // The box runs from x −60 to 60, y −74 to 60, z −60 to 60 (to within a voxel).
    expect(frame.centre[0]).toBeCloseTo(0, 0);
    expect(Math.abs(frame.centre[1] - -7)).toBeLessThan(1.5);
    expect(frame.centre[2]).toBeCloseTo(0, 0);
    expect(frame.fieldOfViewMm / (1.1 * Math.hypot(120, 134))).toBeCloseTo(1, 1);
    const image = renderSkin(withNose, { azimuthDegrees: 0 }, 50);
    expect(image.width).toBe(256);
    let lit = 0;
    for (const p of image.pixels) if (p > 0) lit++;
    // The head's disc (60 mm of a ≈198 mm field) covers about a third of the image.
    expect(lit / image.pixels.length).toBeGreaterThan(0.25);
    expect(lit / image.pixels.length).toBeLessThan(0.4);
  });

  it('rejects what it cannot render', () => {
    const flat: Volume = { grid: { dims: [10, 10, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, data: new Float32Array(100).fill(1) };
    expect(() => renderSkin(flat, { azimuthDegrees: 0 }, 0.5)).toThrow(VolumeGeometryError);
    expect(() => renderSkin(flat, { azimuthDegrees: 0 }, 0.5)).toThrow(/3-D volume/);
    expect(() => renderSkin(head, { azimuthDegrees: 0, size: 3 }, 50)).toThrow(RangeError);
    expect(() => renderSkin(head, { azimuthDegrees: Number.NaN }, 50)).toThrow(RangeError);
    expect(() => renderSkin(head, { azimuthDegrees: 0, elevationDegrees: 120 }, 50)).toThrow(/elevation/);
    expect(() => renderSkin(head, { azimuthDegrees: 0, frame: { centre: [0, 0, 0], fieldOfViewMm: 0 } }, 50)).toThrow(RangeError);
    const nothing: Volume = { grid: AXIAL, data: new Float32Array(head.data.length) };
    expect(() => skinThreshold(nothing)).toThrow(VolumeGeometryError);
    expect(() => headFrame(head, 1000)).toThrow(/no voxel reaches/);
  });
});

describe('skinThreshold', () => {
  it("lies between air and tissue (Otsu's threshold)", () => {
    // Air with noise around 5 and tissue around 100, in a 2:1 ratio, plus a few bright outliers.
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const data = new Int16Array(30 * 30 * 30);
    for (let n = 0; n < data.length; n++) {
      const noise = (random() + random() + random() - 1.5) * 8;
      data[n] = Math.round(n % 3 === 0 ? 100 + noise : 5 + noise / 2);
    }
    data[0] = 3000;
    data[1] = 2500;
    const threshold = skinThreshold({ grid: { dims: [30, 30, 30], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, data });
    expect(threshold).toBeGreaterThan(15);
    expect(threshold).toBeLessThan(85);
  });
});

/** Spearman's rank correlation. */
function rankCorrelation(a: readonly number[], b: readonly number[]): number {
  const rank = (x: readonly number[]) => {
    const order = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(x.length);
    for (let s = 0; s < order.length; ) {
      let e = s;
      while (e + 1 < order.length && order[e + 1]![0] === order[s]![0]) e++;
      for (let t = s; t <= e; t++) r[order[t]![1]] = (s + e) / 2;
      s = e + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}
