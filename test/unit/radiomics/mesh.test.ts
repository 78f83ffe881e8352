/**
 * The ROI surface mesh (marching cubes at iso-level 0.5 over a padded binary mask): closed,
 * consistently oriented, positive volume, and the volumes and areas of shapes with known answers.
 */
import { describe, expect, it } from 'vitest';
import { EDGE_CORNERS, TRIANGLES } from '../../../src/radiomics/geometry/marching-cubes-table.js';
import { convexHull } from '../../../src/radiomics/geometry/convex-hull.js';
import { maskSurfaceMesh, meshArea, meshVolume, type TriangleMesh } from '../../../src/radiomics/mesh.js';
import type { Vec3 } from '../../../src/volume/volume.js';
import { seededRandom } from '../../support/random.js';

/**
 * Checks IBSI's condition for a closed, consistently oriented mesh: every edge a→b of a face is
 * met exactly once as b→a in another face. Returns the problems found (empty when closed).
 */
function orientationProblems(mesh: TriangleMesh): string[] {
  const directed = new Map<string, number>();
  const f = mesh.faces;
  for (let t = 0; t < f.length; t += 3) {
    for (let e = 0; e < 3; e++) {
      const a = f[t + e]!;
      const b = f[t + ((e + 1) % 3)]!;
      if (a === b) return [`face ${t / 3} repeats vertex ${a}`];
      const key = `${a}>${b}`;
      directed.set(key, (directed.get(key) ?? 0) + 1);
    }
  }
  const problems: string[] = [];
  for (const [key, count] of directed) {
    const [a, b] = key.split('>');
    if (count !== 1) problems.push(`edge ${key} used ${count} times in the same direction`);
    if (directed.get(`${b}>${a}`) !== 1) problems.push(`edge ${key} has no opposite`);
  }
  return problems;
}

function maskFrom(dims: Vec3, inside: (i: number, j: number, k: number) => boolean): Uint8Array {
  const [nx, ny, nz] = dims;
  const mask = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (inside(i, j, k)) mask[i + nx * (j + ny * k)] = 1;
  return mask;
}

const random = seededRandom;

describe('the marching cubes case table', () => {
  it('has 256 cases, none for the empty and full cube, and triangles of three distinct edges', () => {
    expect(TRIANGLES).toHaveLength(256);
    expect(TRIANGLES[0]).toHaveLength(0);
    expect(TRIANGLES[255]).toHaveLength(0);
    for (let c = 1; c < 255; c++) {
      const t = TRIANGLES[c]!;
      expect(t.length % 3).toBe(0);
      expect(t.length).toBeGreaterThan(0);
      expect(t.length / 3).toBeLessThanOrEqual(5);
      for (let i = 0; i < t.length; i += 3) expect(new Set([t[i], t[i + 1], t[i + 2]]).size).toBe(3);
    }
  });

  it('only uses edges whose two corners are on different sides', () => {
    for (let c = 1; c < 255; c++) {
      for (const e of TRIANGLES[c]!) {
        const [a, b] = EDGE_CORNERS[e]!;
        expect(((c >> a) & 1) !== ((c >> b) & 1), `case ${c} edge ${e}`).toBe(true);
      }
    }
  });
});

describe('maskSurfaceMesh', () => {
  it('meshes a single voxel as an octahedron: volume abc/6, area √(a²b² + b²c² + c²a²)', () => {
    const spacing: Vec3 = [2, 3, 5];
    const mesh = maskSurfaceMesh(Uint8Array.of(1), [1, 1, 1], spacing);
    expect(mesh.vertices.length / 3).toBe(6);
    expect(mesh.faces.length / 3).toBe(8);
    expect(orientationProblems(mesh)).toEqual([]);
    expect(meshVolume(mesh)).toBeCloseTo((2 * 3 * 5) / 6, 12);
    expect(meshArea(mesh)).toBeCloseTo(Math.sqrt(36 + 225 + 100), 12);
  });

  it('closes the surface of a ROI touching the image border (the mask is padded)', () => {
    const dims: Vec3 = [3, 3, 3];
    const mesh = maskSurfaceMesh(new Uint8Array(27).fill(1), dims, [1, 1, 1]);
    expect(orientationProblems(mesh)).toEqual([]);
    expect(meshVolume(mesh)).toBeGreaterThan(0);
  });

  it('gives an empty mesh for an empty mask and rejects a mask of the wrong size', () => {
    expect(maskSurfaceMesh(new Uint8Array(8), [2, 2, 2], [1, 1, 1]).faces).toHaveLength(0);
    expect(() => maskSurfaceMesh(new Uint8Array(7), [2, 2, 2], [1, 1, 1])).toThrow(/7 voxels/);
    expect(() => maskSurfaceMesh(new Uint8Array(8), [2, 2, 2], [1, 0, 1])).toThrow(/spacing/);
  });

  it('is closed and consistently oriented for random masks (every ambiguous configuration occurs)', () => {
    const next = random(20240601);
    const seen = new Set<number>();
    for (let trial = 0; trial < 40; trial++) {
      const dims: Vec3 = [6, 5, 7];
      const density = 0.2 + 0.6 * next();
      const mask = maskFrom(dims, () => next() < density);
      const mesh = maskSurfaceMesh(mask, dims, [1, 1.5, 0.7]);
      expect(orientationProblems(mesh), `trial ${trial}`).toEqual([]);
      expect(meshVolume(mesh)).toBeGreaterThan(0);
      // Record which cube cases occurred, to make sure the test covers the table.
      for (let k = -1; k < dims[2]; k++) {
        for (let j = -1; j < dims[1]; j++) {
          for (let i = -1; i < dims[0]; i++) {
            let c = 0;
            for (let corner = 0; corner < 8; corner++) {
              const [x, y, z] = [i + (corner & 1), j + ((corner >> 1) & 1), k + ((corner >> 2) & 1)];
              const inside = x >= 0 && y >= 0 && z >= 0 && x < dims[0] && y < dims[1] && z < dims[2] && mask[x + dims[0] * (y + dims[1] * z)] === 1;
              if (inside) c |= 1 << corner;
            }
            seen.add(c);
          }
        }
      }
    }
    expect(seen.size).toBeGreaterThan(240);
  });

  it('approximates a digitised sphere of radius 10 voxels: volume within 2 %, area 0 to 12 % above 4πr²', () => {
    // Marching cubes on a binary mask over-estimates the area of smooth surfaces by several per
    // cent (the surface follows the voxel staircase); the volume converges quickly.
    const r = 10;
    const n = 2 * r + 5;
    const c = (n - 1) / 2;
    const mask = maskFrom([n, n, n], (i, j, k) => (i - c) ** 2 + (j - c) ** 2 + (k - c) ** 2 <= r * r);
    const mesh = maskSurfaceMesh(mask, [n, n, n], [1, 1, 1]);
    expect(orientationProblems(mesh)).toEqual([]);
    const volumeRatio = meshVolume(mesh) / ((4 / 3) * Math.PI * r ** 3);
    const areaRatio = meshArea(mesh) / (4 * Math.PI * r ** 2);
    expect(Math.abs(volumeRatio - 1)).toBeLessThan(0.02);
    expect(areaRatio).toBeGreaterThan(1);
    expect(areaRatio).toBeLessThan(1.12);
  });

  it('scales with the voxel spacing and does not depend on where the ROI sits in the grid', () => {
    const dims: Vec3 = [9, 8, 7];
    const blob = (di: number) => maskFrom(dims, (i, j, k) => (i - 3 - di) ** 2 / 6 + (j - 4) ** 2 / 4 + (k - 3) ** 2 / 5 <= 1);
    const unit = maskSurfaceMesh(blob(0), dims, [1, 1, 1]);
    const doubled = maskSurfaceMesh(blob(0), dims, [2, 2, 2]);
    const shifted = maskSurfaceMesh(blob(2), dims, [1, 1, 1]);
    expect(meshVolume(doubled)).toBeCloseTo(8 * meshVolume(unit), 9);
    expect(meshArea(doubled)).toBeCloseTo(4 * meshArea(unit), 9);
    expect(meshVolume(shifted)).toBeCloseTo(meshVolume(unit), 9);
    expect(meshArea(shifted)).toBeCloseTo(meshArea(unit), 9);
  });

  it('meshes a block of voxels as a convex solid equal to its own convex hull', () => {
    const dims: Vec3 = [6, 5, 4];
    const mask = maskFrom(dims, (i, j, k) => i >= 1 && i <= 4 && j >= 1 && j <= 3 && k >= 1 && k <= 2);
    const mesh = maskSurfaceMesh(mask, dims, [0.8, 1.2, 2.5]);
    expect(orientationProblems(mesh)).toEqual([]);
    const hull = convexHull(mesh.vertices);
    expect(meshVolume(mesh)).toBeCloseTo(meshVolume(hull), 9);
    expect(meshArea(mesh)).toBeCloseTo(meshArea(hull), 9);
    // The flat faces of the block lie half a voxel outside the outer voxel centres, so the mesh
    // fits in the box of 4 × 3 × 2 voxels and holds more than the box of their centres.
    expect(meshVolume(mesh)).toBeLessThan(4 * 0.8 * 3 * 1.2 * 2 * 2.5);
    expect(meshVolume(mesh)).toBeGreaterThan(3 * 0.8 * 2 * 1.2 * 1 * 2.5);
  });
});
