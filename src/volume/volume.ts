/**
 * A 3-D image on a regular grid: the common currency of NIfTI files, DICOM series,
 * segmentations and the radiomics engine.
 *
 * Voxel (i, j, k) is stored at index i + nx * (j + ny * k): i runs fastest. Geometry follows
 * DICOM's patient coordinate system (LPS, millimetres): the centre of voxel (i, j, k) is
 * origin + direction · (spacing ⊙ [i, j, k]), where `direction` holds the unit vectors of the i,
 * j and k axes as its three columns, stored column by column (direction[0..2] is the i axis).
 */
export type Vec3 = readonly [number, number, number];

export interface Grid {
  /** Number of voxels along i, j, k. */
  readonly dims: Vec3;
  /** Distance between voxel centres along i, j, k, in millimetres. */
  readonly spacing: Vec3;
  /** Centre of voxel (0, 0, 0) in patient coordinates (LPS, mm). */
  readonly origin: Vec3;
  /** Unit vectors of the i, j, k axes in patient coordinates, column by column (9 numbers). */
  readonly direction: readonly number[];
}

export type VoxelArray = Float32Array | Float64Array | Int16Array | Uint16Array | Int32Array | Uint8Array | Int8Array | Uint32Array;

export interface Volume<T extends VoxelArray = VoxelArray> {
  readonly grid: Grid;
  readonly data: T;
}

/** A binary mask on a grid: 1 inside, 0 outside. */
export type Mask = Volume<Uint8Array>;

export function voxelCount(grid: Grid): number {
  return grid.dims[0] * grid.dims[1] * grid.dims[2];
}
