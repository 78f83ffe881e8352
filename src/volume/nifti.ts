/**
 * NIfTI-1 and NIfTI-2 single-file images (.nii, .nii.gz) in, NIfTI-1 out.
 *
 * The header fields are read with nifti-reader-js; the geometry is worked out here, because the
 * library prefers the qform over the sform, while the NIfTI-1 standard (nifti1.h, "METHOD 3")
 * and the tools radiomics data come from (ITK, nibabel) take the sform when sform_code > 0, then
 * the qform when qform_code > 0, then pixdim alone. NIfTI's world is RAS+ (+x towards the
 * patient's right, +y anterior, +z superior); radanon's is DICOM's LPS (+x left, +y posterior),
 * so the x and y components of the origin and of every axis are negated on the way in and out.
 */
import { readFile } from 'node:fs/promises';
import { writeReplacing } from '../pipeline/atomic.js';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { VolumeFormatError } from './errors.js';
import { voxelCount, type Grid, type Vec3, type Volume, type VoxelArray } from './volume.js';

const gunzip = promisify(zlib.gunzip);
const gzip = promisify(zlib.gzip);

/** NIfTI datatype codes (nifti1.h) radanon reads and writes, with their typed arrays. */
const DATATYPES = {
  2: { name: 'uint8', bytes: 1, make: (b: ArrayBuffer, at: number, n: number) => new Uint8Array(b, at, n) },
  256: { name: 'int8', bytes: 1, make: (b: ArrayBuffer, at: number, n: number) => new Int8Array(b, at, n) },
  4: { name: 'int16', bytes: 2, make: (b: ArrayBuffer, at: number, n: number) => new Int16Array(b, at, n) },
  512: { name: 'uint16', bytes: 2, make: (b: ArrayBuffer, at: number, n: number) => new Uint16Array(b, at, n) },
  8: { name: 'int32', bytes: 4, make: (b: ArrayBuffer, at: number, n: number) => new Int32Array(b, at, n) },
  768: { name: 'uint32', bytes: 4, make: (b: ArrayBuffer, at: number, n: number) => new Uint32Array(b, at, n) },
  16: { name: 'float32', bytes: 4, make: (b: ArrayBuffer, at: number, n: number) => new Float32Array(b, at, n) },
  64: { name: 'float64', bytes: 8, make: (b: ArrayBuffer, at: number, n: number) => new Float64Array(b, at, n) },
} as const satisfies Record<number, { name: string; bytes: number; make: (b: ArrayBuffer, at: number, n: number) => VoxelArray }>;

type DatatypeCode = keyof typeof DATATYPES;

function datatypeOf(code: number): (typeof DATATYPES)[DatatypeCode] | undefined {
  return (DATATYPES as Record<number, (typeof DATATYPES)[DatatypeCode] | undefined>)[code];
}

/** The NIfTI datatype code of a typed array. */
function datatypeCodeOf(data: VoxelArray): DatatypeCode {
  if (data instanceof Uint8Array) return 2;
  if (data instanceof Int8Array) return 256;
  if (data instanceof Int16Array) return 4;
  if (data instanceof Uint16Array) return 512;
  if (data instanceof Int32Array) return 8;
  if (data instanceof Uint32Array) return 768;
  if (data instanceof Float32Array) return 16;
  return 64;
}

/** Millimetres per spatial unit of xyzt_units (nifti1.h NIFTI_UNITS_*); unknown is taken as mm. */
function millimetresPerUnit(xyztUnits: number): number {
  switch (xyztUnits & 0x07) {
    case 1:
      return 1000; // metre
    case 3:
      return 0.001; // micron
    default:
      return 1;
  }
}

/** Whether a file name says NIfTI (.nii or .nii.gz, any case). */
export function isNiftiPath(file: string): boolean {
  return /\.nii(\.gz)?$/i.test(file);
}

/**
 * Reads a .nii or .nii.gz image (gzip is recognised by its magic bytes, not the name).
 * Values are scaled by scl_slope/scl_inter when they are not the identity (the result is then
 * Float32Array, or Float64Array for 32- and 64-bit sources, whose values float32 cannot hold).
 */
export async function readNifti(file: string): Promise<Volume> {
  let bytes: Uint8Array = await readFile(file);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzip(bytes);
    } catch (e) {
      throw new VolumeFormatError(`cannot decompress (truncated or corrupt gzip data: ${(e as Error).message})`, file);
    }
  }
  return decodeNifti(bytes, file);
}

/**
 * Decodes NIfTI bytes (already decompressed); `file` names the source in errors. The voxels are
 * viewed in place when aligned (the bytes belong to this module: read or inflated here).
 */
function decodeNifti(bytes: Uint8Array, file: string): Volume {
  if (bytes.length < 348) throw new VolumeFormatError(`not a NIfTI file: ${bytes.length} bytes, shorter than a NIfTI-1 header`, file);
  // Only the header goes to nifti-reader-js: cut before the extension flag, so that it does not
  // parse extensions (not needed) or copy the voxels.
  const head = bytes.slice(0, Math.min(bytes.length, 540)).buffer as ArrayBuffer;
  if (!nifti.isNIFTI(head)) {
    if (nifti.isNIFTI(head, true)) {
      throw new VolumeFormatError('a NIfTI header of a .hdr/.img pair: only single-file NIfTI (.nii, .nii.gz) is read', file);
    }
    throw new VolumeFormatError('not a NIfTI file: no NIfTI-1 or NIfTI-2 magic ("n+1", "n+2")', file);
  }
  const version = nifti.isNIFTI1(head) ? 1 : 2;
  if (version === 2 && bytes.length < 540) throw new VolumeFormatError(`truncated: ${bytes.length} bytes, shorter than a NIfTI-2 header`, file);
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    header = nifti.readHeader(head.slice(0, version === 1 ? 348 : 540));
  } catch (e) {
    throw new VolumeFormatError(`unreadable NIfTI header (${(e as Error).message})`, file);
  }

  const dims = readDims(header.dims, file);
  const type = datatypeOf(header.datatypeCode);
  if (!type) {
    throw new VolumeFormatError(
      `NIfTI datatype ${header.datatypeCode} (${header.getDatatypeCodeString(header.datatypeCode)}) is not supported; supported: ${Object.values(DATATYPES).map((t) => t.name).join(', ')}`,
      file,
    );
  }
  const count = dims[0] * dims[1] * dims[2];
  const offset = Number(header.vox_offset);
  const minOffset = version === 1 ? 348 : 540;
  if (!Number.isInteger(offset) || offset < minOffset) throw new VolumeFormatError(`invalid vox_offset ${header.vox_offset}`, file);
  const needed = offset + count * type.bytes;
  if (bytes.length < needed) {
    throw new VolumeFormatError(`truncated: the image needs ${needed} bytes (${count} ${type.name} voxels from byte ${offset}) but the file has ${bytes.length}`, file);
  }
  const start = bytes.byteOffset + offset;
  const raw =
    start % type.bytes === 0
      ? new Uint8Array(bytes.buffer, start, count * type.bytes)
      : bytes.slice(offset, offset + count * type.bytes);
  if (!header.littleEndian && type.bytes > 1) swapBytes(raw, type.bytes);
  const stored = type.make(raw.buffer as ArrayBuffer, raw.byteOffset, count);

  const grid = niftiGrid(header, version, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), dims, file);
  const slope = header.scl_slope;
  const inter = Number.isFinite(header.scl_inter) ? header.scl_inter : 0;
  // nifti1.h: "If the scl_slope field is nonzero, then each voxel value in the dataset should be
  // scaled as y = scl_slope * x + scl_inter"; zero (or not a number) means no scaling.
  if (!Number.isFinite(slope) || slope === 0 || (slope === 1 && inter === 0)) return { grid, data: stored };
  const wide = type.bytes >= 4 && header.datatypeCode !== 16;
  const scaled = wide ? new Float64Array(count) : new Float32Array(count);
  for (let n = 0; n < count; n++) scaled[n] = stored[n]! * slope + inter;
  return { grid, data: scaled };
}

function readDims(headerDims: readonly number[], file: string): Vec3 {
  const rank = headerDims[0] ?? 0;
  if (!Number.isInteger(rank) || rank < 1 || rank > 7) throw new VolumeFormatError(`invalid dim[0] = ${rank} (must be 1..7)`, file);
  // Dimensions past dim[0] are unused and may hold anything.
  const dim = (n: number): number => (n <= rank ? Number(headerDims[n]) : 1);
  const all = Array.from({ length: rank }, (_, n) => dim(n + 1));
  if (all.some((d) => !Number.isInteger(d) || d < 1)) throw new VolumeFormatError(`invalid dimensions [${all.join(', ')}]: every dimension must be at least 1`, file);
  const extra = all.slice(3);
  if (extra.some((d) => d > 1)) {
    throw new VolumeFormatError(`a ${rank}-D image with dimensions [${all.join(', ')}]: only one 3-D volume per file is supported`, file);
  }
  return [dim(1), dim(2), dim(3)];
}

/** Spacing of an axis from pixdim: must be positive, except along an axis of one voxel. */
function pixdimSpacing(value: number, size: number, axis: string, file: string): number {
  const s = Math.abs(value);
  if (Number.isFinite(s) && s > 0) return s;
  if (size === 1) return 1;
  throw new VolumeFormatError(`invalid voxel size pixdim along ${axis}: ${value}`, file);
}

/**
 * The grid in LPS from the sform (sform_code > 0), else the qform (qform_code > 0), else pixdim
 * alone (nifti1.h METHODs 3, 2, 1).
 */
function niftiGrid(header: nifti.NIFTI1 | nifti.NIFTI2, version: 1 | 2, view: DataView, dims: Vec3, file: string): Grid {
  const unit = millimetresPerUnit(header.xyzt_units);
  const little = header.littleEndian;
  // Columns of the RAS affine (axis i, j, k) and its translation.
  let columns: [Vec3, Vec3, Vec3];
  let translation: Vec3;
  let spacing: [number, number, number];
  if (header.sform_code > 0) {
    // srow_x, srow_y, srow_z: float32 at byte 280 (NIfTI-1), float64 at byte 400 (NIfTI-2).
    const at = (row: number, col: number): number =>
      version === 1 ? view.getFloat32(280 + (row * 4 + col) * 4, little) : view.getFloat64(400 + (row * 4 + col) * 8, little);
    columns = [0, 1, 2].map((c) => [at(0, c), at(1, c), at(2, c)] as Vec3) as [Vec3, Vec3, Vec3];
    translation = [at(0, 3), at(1, 3), at(2, 3)];
    spacing = columns.map((col, n) => {
      const s = Math.hypot(...col);
      if (!Number.isFinite(s) || s === 0) throw new VolumeFormatError(`invalid sform: column ${n} of the affine is zero`, file);
      return s;
    }) as [number, number, number];
  } else {
    spacing = [
      pixdimSpacing(header.pixDims[1] ?? 0, dims[0], 'i', file),
      pixdimSpacing(header.pixDims[2] ?? 0, dims[1], 'j', file),
      pixdimSpacing(header.pixDims[3] ?? 0, dims[2], 'k', file),
    ];
    if (header.qform_code > 0) {
      const r = quaternionRotation(header.quatern_b, header.quatern_c, header.quatern_d);
      // pixdim[0] is qfac: -1 flips the k axis (a left-handed voxel grid).
      const qfac = (header.pixDims[0] ?? 1) < 0 ? -1 : 1;
      columns = [
        [r[0]! * spacing[0], r[3]! * spacing[0], r[6]! * spacing[0]],
        [r[1]! * spacing[1], r[4]! * spacing[1], r[7]! * spacing[1]],
        [r[2]! * spacing[2] * qfac, r[5]! * spacing[2] * qfac, r[8]! * spacing[2] * qfac],
      ];
      translation = [header.qoffset_x, header.qoffset_y, header.qoffset_z];
    } else {
      columns = [
        [spacing[0], 0, 0],
        [0, spacing[1], 0],
        [0, 0, spacing[2]],
      ];
      translation = [0, 0, 0];
    }
  }
  // `+ 0` turns the −0 of negated zeros into 0, so grids print and compare plainly.
  const direction: number[] = [];
  for (let c = 0; c < 3; c++) {
    const col = columns[c]!;
    const s = spacing[c]!;
    direction.push(-col[0] / s + 0, -col[1] / s + 0, col[2] / s + 0);
  }
  if (translation.some((t) => !Number.isFinite(t)) || direction.some((d) => !Number.isFinite(d))) {
    throw new VolumeFormatError('invalid geometry: the affine holds a non-finite number', file);
  }
  return {
    dims,
    spacing: [spacing[0] * unit, spacing[1] * unit, spacing[2] * unit],
    origin: [-translation[0] * unit + 0, -translation[1] * unit + 0, translation[2] * unit + 0],
    direction,
  };
}

/** Row-major 3×3 rotation of the quaternion (a, b, c, d) with a = sqrt(1 − b² − c² − d²) (nifti1_io.c quatern_to_mat44). */
function quaternionRotation(b: number, c: number, d: number): number[] {
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // A 180° rotation: a is 0 and (b, c, d) is renormalised, as nifti1_io does.
    const n = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= n;
    c *= n;
    d *= n;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  return [
    a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c),
    2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b),
    2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b,
  ];
}

/** Quaternion (b, c, d) and qfac of an orthonormal row-major 3×3 matrix (nifti1_io.c nifti_mat44_to_quatern). */
function rotationQuaternion(m: readonly number[]): { b: number; c: number; d: number; qfac: 1 | -1 } {
  let [r11, r12, r13, r21, r22, r23, r31, r32, r33] = m as [number, number, number, number, number, number, number, number, number];
  const det = r11 * (r22 * r33 - r23 * r32) - r12 * (r21 * r33 - r23 * r31) + r13 * (r21 * r32 - r22 * r31);
  const qfac = det < 0 ? -1 : 1;
  if (qfac < 0) {
    r13 = -r13;
    r23 = -r23;
    r33 = -r33;
  }
  let a = r11 + r22 + r33 + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { b, c, d, qfac };
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let p = 0; p + size <= bytes.length; p += size) {
    for (let lo = p, hi = p + size - 1; lo < hi; lo++, hi--) {
      const t = bytes[lo]!;
      bytes[lo] = bytes[hi]!;
      bytes[hi] = t;
    }
  }
}

export interface NiftiWriteOptions {
  /** Up to 79 ASCII characters for the header's descrip field. */
  readonly description?: string;
}

const HEADER_BYTES = 352; // 348-byte NIfTI-1 header + 4-byte extension flag

/**
 * Encodes a volume as a single-file NIfTI-1 image, little endian: sform (exact, float32) and,
 * when the axes are orthonormal, the matching qform, both with code 1 (scanner anatomical);
 * units mm; no scaling.
 */
export function encodeNifti(volume: Volume, options: NiftiWriteOptions = {}): Uint8Array {
  const { grid, data } = volume;
  const count = voxelCount(grid);
  if (data.length !== count) throw new RangeError(`the volume has ${data.length} values for a ${grid.dims.join('×')} grid (${count} voxels)`);
  if (grid.dims.some((d) => !Number.isInteger(d) || d < 1 || d > 32767)) throw new RangeError(`NIfTI-1 cannot hold dimensions ${grid.dims.join('×')} (1..32767 each)`);
  const code = datatypeCodeOf(data);
  const type = DATATYPES[code];
  const out = new Uint8Array(HEADER_BYTES + count * type.bytes);
  const view = new DataView(out.buffer);
  const le = true;
  view.setInt32(0, 348, le);
  out[38] = 0x72; // regular = 'r', as nifti1_io writes it
  view.setInt16(40, 3, le);
  for (let n = 0; n < 3; n++) view.setInt16(42 + 2 * n, grid.dims[n]!, le);
  for (let n = 3; n < 7; n++) view.setInt16(42 + 2 * n, 1, le);
  view.setInt16(70, code, le);
  view.setInt16(72, type.bytes * 8, le);

  // The affine in RAS: LPS axes and origin with x and y negated.
  const ras: number[] = []; // row-major 3×3 of unit axes
  for (let row = 0; row < 3; row++) {
    const sign = row < 2 ? -1 : 1;
    for (let col = 0; col < 3; col++) ras.push(sign * grid.direction[3 * col + row]!);
  }
  const offset: Vec3 = [-grid.origin[0], -grid.origin[1], grid.origin[2]];
  const orthonormal = isOrthonormal(ras);
  const q = orthonormal ? rotationQuaternion(ras) : undefined;
  view.setFloat32(76, q?.qfac ?? 1, le);
  for (let n = 0; n < 3; n++) view.setFloat32(80 + 4 * n, grid.spacing[n]!, le);
  view.setFloat32(108, HEADER_BYTES, le);
  view.setFloat32(112, 1, le);
  view.setFloat32(116, 0, le);
  out[123] = 2; // NIFTI_UNITS_MM
  const description = (options.description ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 79);
  for (let n = 0; n < description.length; n++) out[148 + n] = description.charCodeAt(n);
  view.setInt16(252, q ? 1 : 0, le);
  view.setInt16(254, 1, le);
  if (q) {
    view.setFloat32(256, q.b, le);
    view.setFloat32(260, q.c, le);
    view.setFloat32(264, q.d, le);
  }
  for (let n = 0; n < 3; n++) view.setFloat32(268 + 4 * n, offset[n]!, le);
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 3; col++) view.setFloat32(280 + (row * 4 + col) * 4, ras[row * 3 + col]! * grid.spacing[col]!, le);
    view.setFloat32(280 + (row * 4 + 3) * 4, offset[row]!, le);
  }
  out.set([0x6e, 0x2b, 0x31, 0x00], 344); // "n+1\0"

  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(body, HEADER_BYTES);
  // Typed arrays use the platform's byte order; NIfTI written here is little endian.
  if (!platformLittleEndian && type.bytes > 1) swapBytes(out.subarray(HEADER_BYTES), type.bytes);
  return out;
}

const platformLittleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function isOrthonormal(m: readonly number[]): boolean {
  for (let a = 0; a < 3; a++) {
    for (let b = a; b < 3; b++) {
      const d = m[a]! * m[b]! + m[3 + a]! * m[3 + b]! + m[6 + a]! * m[6 + b]!;
      if (Math.abs(d - (a === b ? 1 : 0)) > 1e-5) return false;
    }
  }
  return true;
}

/**
 * Writes a volume as NIfTI-1 (.nii, or gzip-compressed when the name ends in .gz), atomically:
 * into a temporary file in the same folder, then renamed over the name, so a reader never sees
 * a half-written image.
 */
export async function writeNifti(file: string, volume: Volume, options: NiftiWriteOptions = {}): Promise<void> {
  if (!isNiftiPath(file)) throw new VolumeFormatError('a NIfTI file name must end in .nii or .nii.gz', file);
  const encoded = encodeNifti(volume, options);
  const bytes = /\.gz$/i.test(file) ? await gzip(encoded) : encoded;
  await writeReplacing(file, bytes);
}
