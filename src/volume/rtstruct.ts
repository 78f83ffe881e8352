/**
 * RT Structure Set ROIs (PS3.3 C.8.8.5 Structure Set, C.8.8.6 ROI Contour) rasterised to a mask
 * on an image's grid.
 *
 * An ROI is a stack of CLOSED_PLANAR contours, each a polygon of (x, y, z) points in patient
 * coordinates (mm) lying in one image plane. Each contour is mapped into the grid's continuous
 * index space with the inverse of the grid's geometry and assigned to the slice it lies on (every
 * point within half a slice spacing of it). On each slice all the ROI's contours are filled
 * together by the even-odd rule at voxel centres, so a contour inside another cuts a hole (PS3.3
 * C.8.8.6.3 leaves the meaning of nested contours to this convention, which planning systems
 * follow). A voxel is inside when its centre is; a centre exactly on an edge counts as inside on
 * the left and top edges and outside on the right and bottom ones, so that shapes sharing an
 * edge do not both claim it.
 */
import type { Dataset } from '../dicom/dataset.js';
import { characterSetsOf } from '../dicom/text.js';
import { itemsOf, labelOf, numberOf, numbersOf, readDicomFile, textOf, VolumeTags as T } from './dicom-values.js';
import { VolumeFormatError, VolumeGeometryError } from './errors.js';
import { worldToIndex } from './geometry.js';
import { describeRegion, selectRegion, type LabelledRegion, type RegionSelection } from './selection.js';
import { seriesOf, sourceOf } from './source.js';
import { voxelCount, type Grid, type Mask } from './volume.js';

const RT_STRUCTURE_SET_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.481.3';

export interface RoiInfo extends LabelledRegion {
  /** ROI Number (3006,0022). */
  readonly number: number;
  /** ROI Name (3006,0026). */
  readonly label: string | undefined;
  /** Referenced Frame of Reference UID (3006,0024). */
  readonly frameOfReferenceUid: string | undefined;
  /** Number of contours by Contour Geometric Type, e.g. { CLOSED_PLANAR: 42 }. */
  readonly contours: Readonly<Record<string, number>>;
}

export interface RtStructReadOptions {
  /** The ROI, by ROI Number or ROI Name; needed when the structure set holds several. */
  readonly roi?: RegionSelection;
}

interface StructureSet {
  readonly rois: readonly RoiInfo[];
  /** Contour Sequence items by ROI Number. */
  readonly contoursOf: ReadonlyMap<number, readonly Dataset[]>;
}

async function openStructureSet(file: string): Promise<StructureSet> {
  const dicom = await readDicomFile(file);
  const ds = dicom.dataset;
  const little = dicom.transferSyntax.littleEndian;
  const sopClass = textOf(ds, T.SOPClassUID) ?? textOf(dicom.meta, T.MediaStorageSOPClassUID);
  const modality = textOf(ds, T.Modality);
  if (sopClass !== RT_STRUCTURE_SET_SOP_CLASS && modality !== 'RTSTRUCT') {
    throw new VolumeFormatError(`not an RT Structure Set (Modality ${modality ?? 'absent'}, SOP Class ${sopClass ?? 'absent'})`, file);
  }
  const sets = characterSetsOf(ds);
  const contoursOf = new Map<number, Dataset[]>();
  for (const item of itemsOf(ds, T.ROIContourSequence)) {
    const number = numberOf(item, T.ReferencedROINumber, little);
    if (number === undefined) continue;
    const list = contoursOf.get(number) ?? [];
    list.push(...itemsOf(item, T.ContourSequence));
    contoursOf.set(number, list);
  }
  const rois = itemsOf(ds, T.StructureSetROISequence).map((item, n): RoiInfo => {
    const number = numberOf(item, T.ROINumber, little);
    if (number === undefined || !Number.isInteger(number)) throw new VolumeFormatError(`Structure Set ROI Sequence item ${n + 1} has no ROI Number`, file);
    const contours: Record<string, number> = {};
    for (const contour of contoursOf.get(number) ?? []) {
      const type = textOf(contour, T.ContourGeometricType) ?? '(no type)';
      contours[type] = (contours[type] ?? 0) + 1;
    }
    return { number, label: labelOf(item, T.ROIName, sets), frameOfReferenceUid: textOf(item, T.ReferencedFrameOfReferenceUID), contours };
  });
  return { rois, contoursOf };
}

/** The ROIs of an RT Structure Set: number, name, frame of reference and contour counts. */
export async function listRtStructRois(file: string): Promise<RoiInfo[]> {
  return [...(await openStructureSet(file)).rois];
}

/** One ROI of an RT Structure Set as a mask on `referenceGrid`. */
export async function readRtStruct(file: string, referenceGrid: Grid, options: RtStructReadOptions = {}): Promise<Mask> {
  const structureSet = await openStructureSet(file);
  const roi = selectRegion(structureSet.rois, options.roi, 'ROI', file);
  const name = `ROI ${describeRegion(roi)}`;
  const reference = sourceOf(referenceGrid) ?? 'the image';
  const series = seriesOf(referenceGrid);
  if (series?.frameOfReferenceUid && roi.frameOfReferenceUid && series.frameOfReferenceUid !== roi.frameOfReferenceUid) {
    throw new VolumeGeometryError(`${name} is drawn in Frame of Reference ${roi.frameOfReferenceUid}, not that of ${reference} (${series.frameOfReferenceUid})`, file);
  }
  const closed = (structureSet.contoursOf.get(roi.number) ?? []).filter((c) => textOf(c, T.ContourGeometricType) === 'CLOSED_PLANAR');
  if (closed.length === 0) {
    const held = Object.entries(roi.contours).map(([type, n]) => `${n} ${type}`).join(', ');
    throw new VolumeFormatError(`${name} has no CLOSED_PLANAR contour to fill${held ? ` (it holds ${held})` : ' (it has no contours)'}`, file);
  }

  const [nx, ny, nz] = referenceGrid.dims;
  const toIndex = worldToIndex(referenceGrid);
  /** Polygons in (i, j) index space, by slice. */
  const polygonsBySlice = new Map<number, Float64Array[]>();
  closed.forEach((contour, n) => {
    const points = numbersOf(contour, T.ContourData, true);
    if (!points || points.length < 9 || points.length % 3 !== 0 || points.some((v) => !Number.isFinite(v))) {
      throw new VolumeFormatError(`${name}: contour ${n + 1} has no valid Contour Data (at least three x, y, z points)`, file);
    }
    const count = points.length / 3;
    const polygon = new Float64Array(2 * count);
    let kSum = 0;
    const ks = new Float64Array(count);
    for (let p = 0; p < count; p++) {
      const [i, j, k] = toIndex(points[3 * p]!, points[3 * p + 1]!, points[3 * p + 2]!);
      polygon[2 * p] = i;
      polygon[2 * p + 1] = j;
      ks[p] = k;
      kSum += k;
    }
    const slice = Math.round(kSum / count);
    // Every point must be within half a slice spacing of the slice the contour is given to.
    let worst = 0;
    for (let p = 0; p < count; p++) worst = Math.max(worst, Math.abs(ks[p]! - slice));
    if (slice < 0 || slice >= nz || !(worst < 0.5)) {
      const z = points[2]!;
      const where = slice < 0 || slice >= nz ? `outside the ${nz} slices of ${reference}` : `${worst.toFixed(2)} slice spacings from slice ${slice} of ${reference}`;
      throw new VolumeGeometryError(`${name}: contour ${n + 1} (first point z = ${z} mm, slice index ${(kSum / count).toFixed(2)}) does not lie on a slice: it is ${where}`, file);
    }
    const list = polygonsBySlice.get(slice);
    if (list) list.push(polygon);
    else polygonsBySlice.set(slice, [polygon]);
  });

  const data = new Uint8Array(voxelCount(referenceGrid));
  for (const [k, polygons] of polygonsBySlice) fillEvenOdd(polygons, nx, ny, data.subarray(k * nx * ny, (k + 1) * nx * ny));
  return { grid: referenceGrid, data };
}

/**
 * Fills the voxels of one slice whose centres (i, j) are inside the polygons by the even-odd rule:
 * for each row j, the crossings of every polygon edge with the line y = j (an edge counts when
 * one end is at or below the line and the other above it, half-open so a vertex on the line is
 * counted once), sorted; the centres from one crossing up to, not including, the next are inside.
 */
export function fillEvenOdd(polygons: readonly Float64Array[], nx: number, ny: number, slice: Uint8Array): void {
  const crossings: number[][] = Array.from({ length: ny }, () => []);
  for (const polygon of polygons) {
    const count = polygon.length / 2;
    for (let p = 0; p < count; p++) {
      const q = (p + 1) % count; // closed: the last point joins the first
      const x0 = polygon[2 * p]!, y0 = polygon[2 * p + 1]!;
      const x1 = polygon[2 * q]!, y1 = polygon[2 * q + 1]!;
      if (y0 === y1) continue;
      const lo = Math.min(y0, y1);
      const hi = Math.max(y0, y1);
      // Rows j with lo <= j < hi.
      const jStart = Math.max(0, Math.ceil(lo));
      const jEnd = Math.min(ny - 1, Math.ceil(hi) - 1);
      for (let j = jStart; j <= jEnd; j++) crossings[j]!.push(x0 + ((j - y0) * (x1 - x0)) / (y1 - y0));
    }
  }
  for (let j = 0; j < ny; j++) {
    const xs = crossings[j]!;
    if (xs.length < 2) continue;
    xs.sort((a, b) => a - b);
    for (let n = 0; n + 1 < xs.length; n += 2) {
      const iStart = Math.max(0, Math.ceil(xs[n]!));
      const iEnd = Math.min(nx - 1, Math.ceil(xs[n + 1]!) - 1);
      for (let i = iStart; i <= iEnd; i++) slice[i + nx * j] = 1;
    }
  }
}
