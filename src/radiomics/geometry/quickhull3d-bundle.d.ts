/**
 * Types for quickhull3d's self-contained ES module bundle. The package's main entry
 * (quickhull3d/dist/index.js, 3.1.2) imports its own files without file extensions, which
 * Node's ES module loader rejects; the bundle has no imports and loads everywhere, but ships
 * without a declaration file. The signature is that of the package's `dist/index.d.ts`.
 */
declare module 'quickhull3d/dist/quickhull3d.js' {
  export type Vec3Like = [number, number, number] | Float32Array | Float64Array;
  /** Triangles (point indices) whose right-hand normals point out of the hull. */
  export default function quickhull(points: Vec3Like[], options?: { skipTriangulation?: boolean }): number[][];
}
