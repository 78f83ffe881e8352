/**
 * The ROI surface mesh of IBSI 3.1 ("Mesh-based representation"): marching cubes over the
 * morphological mask at iso-level 0.5, with the mask padded by one layer of empty voxels so the
 * surface closes where the ROI touches the image border. Vertices are in millimetres, relative to
 * the centre of voxel (0, 0, 0) along the grid axes (morphological features are invariant to the
 * origin and to a rotation of the frame, so the grid's position in the patient does not matter).
 *
 * Every triangle is wound so that its right-hand normal points out of the ROI; the mesh is closed
 * (each edge is shared by exactly two triangles, in opposite directions), so the signed volume
 * a·(b×c)/6 summed over the faces is the enclosed volume, positive (IBSI RNU0).
 */
import type { Vec3 } from '../volume/volume.js';
import { RadiomicsInputError } from './errors.js';
import { EDGE_AXIS, EDGE_CORNERS, TRIANGLES } from './geometry/marching-cubes-table.js';

export interface TriangleMesh {
  /** Vertex coordinates in mm, x y z for each vertex (length 3 × number of vertices). */
  readonly vertices: Float64Array;
  /** Vertex indices, three per triangle, counter-clockwise seen from outside the ROI. */
  readonly faces: Uint32Array;
}

/**
 * Builds the surface mesh of a binary mask (non-zero = inside) on a grid of `dims` voxels with
 * `spacing` mm between voxel centres. An empty mask gives an empty mesh.
 */
export function maskSurfaceMesh(mask: Uint8Array, dims: Vec3, spacing: Vec3): TriangleMesh {
  const [nx, ny, nz] = dims;
  if (mask.length !== nx * ny * nz) {
    throw new RadiomicsInputError(`mask has ${mask.length} voxels but its grid ${nx}×${ny}×${nz} has ${nx * ny * nz}`);
  }
  if (!spacing.every((s) => Number.isFinite(s) && s > 0)) {
    throw new RadiomicsInputError(`voxel spacing must be positive and finite, got ${spacing.join(' × ')}`);
  }
  const box = boundingBox(mask, dims);
  if (!box) return { vertices: new Float64Array(0), faces: new Uint32Array(0) };

  // The ROI's bounding box with one empty voxel on every side: the padding IBSI asks for.
  const [x0, y0, z0] = [box.min[0] - 1, box.min[1] - 1, box.min[2] - 1];
  const px = box.max[0] - box.min[0] + 3;
  const py = box.max[1] - box.min[1] + 3;
  const pz = box.max[2] - box.min[2] + 3;
  const padded = new Uint8Array(px * py * pz);
  for (let k = box.min[2]; k <= box.max[2]; k++) {
    for (let j = box.min[1]; j <= box.max[1]; j++) {
      const src = nx * (j + ny * k);
      const dst = px * (j - y0 + py * (k - z0)) - x0;
      for (let i = box.min[0]; i <= box.max[0]; i++) if (mask[src + i]) padded[dst + i] = 1;
    }
  }

  // One vertex per cut grid edge, shared by the (up to four) cubes around that edge: keyed by
  // the edge's lower voxel and its axis. The iso-level 0.5 between a 0 and a 1 lies half-way.
  const vertexOfEdge = new Int32Array(3 * px * py * pz).fill(-1);
  const coords: number[] = [];
  const faces: number[] = [];
  const edgeKeyOffset = new Int32Array(12);
  const edgeX = new Float64Array(12);
  const edgeY = new Float64Array(12);
  const edgeZ = new Float64Array(12);
  EDGE_CORNERS.forEach(([a], e) => {
    const axis = EDGE_AXIS[e]!;
    const [dx, dy, dz] = [a & 1, (a >> 1) & 1, (a >> 2) & 1];
    edgeKeyOffset[e] = 3 * (dx + px * (dy + py * dz)) + axis;
    // The edge's midpoint relative to the cube's first corner, in voxels.
    edgeX[e] = dx + (axis === 0 ? 0.5 : 0);
    edgeY[e] = dy + (axis === 1 ? 0.5 : 0);
    edgeZ[e] = dz + (axis === 2 ? 0.5 : 0);
  });
  const [sx, sy, sz] = spacing;
  const slab = px * py;

  for (let k = 0; k < pz - 1; k++) {
    for (let j = 0; j < py - 1; j++) {
      // The four rows of voxels the cubes of this row touch: (j, k), (j + 1, k), (j, k + 1), (j + 1, k + 1).
      const r0 = px * (j + py * k);
      const r1 = r0 + px;
      const r2 = r0 + slab;
      const r3 = r2 + px;
      // Corners with dx = 1 of cube i are the corners with dx = 0 of cube i + 1: carry them.
      let right = padded[r0]! | (padded[r1]! << 2) | (padded[r2]! << 4) | (padded[r3]! << 6);
      for (let i = 0; i < px - 1; i++) {
        const next = ((padded[r0 + i + 1]! << 1) | (padded[r1 + i + 1]! << 3) | (padded[r2 + i + 1]! << 5) | (padded[r3 + i + 1]! << 7)) >>> 0;
        const kase = right | next;
        right = next >>> 1;
        if (kase === 0 || kase === 255) continue;
        const base = r0 + i;
        const triangles = TRIANGLES[kase]!;
        for (let t = 0; t < triangles.length; t++) {
          const e = triangles[t]!;
          const key = 3 * base + edgeKeyOffset[e]!;
          let v = vertexOfEdge[key]!;
          if (v < 0) {
            v = coords.length / 3;
            vertexOfEdge[key] = v;
            coords.push((i + x0 + edgeX[e]!) * sx, (j + y0 + edgeY[e]!) * sy, (k + z0 + edgeZ[e]!) * sz);
          }
          faces.push(v);
        }
      }
    }
  }
  return { vertices: Float64Array.from(coords), faces: Uint32Array.from(faces) };
}

/** The signed volume enclosed by a closed mesh: Σ a·(b×c)/6 over its faces (IBSI RNU0), mm³. */
export function meshVolume(mesh: TriangleMesh): number {
  const { vertices: p, faces: f } = mesh;
  let sum = 0;
  for (let t = 0; t < f.length; t += 3) {
    const a = 3 * f[t]!;
    const b = 3 * f[t + 1]!;
    const c = 3 * f[t + 2]!;
    const cx = p[b + 1]! * p[c + 2]! - p[b + 2]! * p[c + 1]!;
    const cy = p[b + 2]! * p[c]! - p[b]! * p[c + 2]!;
    const cz = p[b]! * p[c + 1]! - p[b + 1]! * p[c]!;
    sum += p[a]! * cx + p[a + 1]! * cy + p[a + 2]! * cz;
  }
  return sum / 6;
}

/** The area of a mesh: Σ |ab × ac| / 2 over its faces (IBSI C0JK), mm². */
export function meshArea(mesh: TriangleMesh): number {
  const { vertices: p, faces: f } = mesh;
  let sum = 0;
  for (let t = 0; t < f.length; t += 3) {
    const a = 3 * f[t]!;
    const b = 3 * f[t + 1]!;
    const c = 3 * f[t + 2]!;
    const ux = p[b]! - p[a]!;
    const uy = p[b + 1]! - p[a + 1]!;
    const uz = p[b + 2]! - p[a + 2]!;
    const vx = p[c]! - p[a]!;
    const vy = p[c + 1]! - p[a + 1]!;
    const vz = p[c + 2]! - p[a + 2]!;
    const x = uy * vz - uz * vy;
    const y = uz * vx - ux * vz;
    const z = ux * vy - uy * vx;
    sum += Math.sqrt(x * x + y * y + z * z);
  }
  return sum / 2;
}

interface VoxelBox {
  readonly min: [number, number, number];
  readonly max: [number, number, number];
}

function boundingBox(mask: Uint8Array, [nx, ny, nz]: Vec3): VoxelBox | undefined {
  const min: [number, number, number] = [nx, ny, nz];
  const max: [number, number, number] = [-1, -1, -1];
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = nx * (j + ny * k);
      for (let i = 0; i < nx; i++) {
        if (!mask[row + i]) continue;
        if (i < min[0]) min[0] = i;
        if (i > max[0]) max[0] = i;
        if (j < min[1]) min[1] = j;
        if (j > max[1]) max[1] = j;
        if (k < min[2]) min[2] = k;
        if (k > max[2]) max[2] = k;
      }
    }
  }
  return max[0] < 0 ? undefined : { min, max };
}
