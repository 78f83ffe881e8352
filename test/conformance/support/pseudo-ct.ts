/**
 * A synthetic "pseudo-CT" head made from a real T1-weighted head, for the CT path of defacing.
 *
 * The shared data holds no CT head volume. The pseudo-CT gives a real head's shape (skin surface,
 * face, brain) CT-like values: it proves what defacing does with Hounsfield units (the background
 * written into the face, the registration and the similarity check across modalities, the skin
 * threshold of the renders, face detection on the skin surface, the DICOM CT round trip) and says
 * nothing about CT anatomy. Its tissue classes come from the T1 intensities and the brain mask the
 * template carries onto the head:
 *
 * | where (T1 head) | value (HU) |
 * | --- | --- |
 * | outside the head (T1 at or below its skin threshold, connected to the grid's border) | air, −1000 ± 10, rising with the T1 towards the skin (below) |
 * | inside the head, dark in T1, outside the skull band (sinuses) | air, −1000 ± 10 |
 * | brain mask: dark (CSF) | 5 ± 5 |
 * | brain mask: the rest (grey and white matter, by T1 brightness) | 30 to 40 ± 5 |
 * | skull band (1 to 14 mm outside the brain), dark in T1 | bone, 800 to 1500 (denser where darker) |
 * | elsewhere in the head, bright in T1 (fat) | −100 ± 10 |
 * | elsewhere in the head (skin, muscle, soft tissue) | 40 ± 10; at the skin, −1000 + 1040 · T1 / (2 · skin threshold), the T1's partial volume |
 * | outside the circular reconstruction field (in each slice across the head's long axis) | padding, −3024 |
 *
 * The values are Int16 Hounsfield units; a DICOM CT series stores them with Rescale Intercept
 * −1024 and slope 1 (dicom-series-writer inverts the rescale).
 */
import { tag } from '../../../src/dicom/tag.js';
import { dilateMask } from '../../../src/volume/deface/face-mask.js';
import { skinThreshold } from '../../../src/volume/deface/render.js';
import type { DicomSeriesVolume } from '../../../src/volume/dicom-series.js';
import type { Grid, Mask, Volume } from '../../../src/volume/volume.js';
import { el, writeHeadSeries } from './head-series.js';

export const PADDING_HU = -3024;
export const AIR_HU = -1000;

/** Deterministic noise: a Park–Miller generator and a sum of four uniforms (close enough to Gaussian). */
function noise(seed: number): (sd: number) => number {
  let s = seed % 2147483647 || 1;
  const next = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return (sd) => (next() + next() + next() + next() - 2) * sd * Math.sqrt(3);
}

/** The grid axis that runs closest to superior (patient +z): the reconstruction circle lies across it. */
function axialAxis(grid: Grid): number {
  let best = 0;
  for (let a = 1; a < 3; a++) if (Math.abs(grid.direction[3 * a + 2]!) > Math.abs(grid.direction[3 * best + 2]!)) best = a;
  return best;
}

/**
 * The pseudo-CT of a T1 head, on its grid. `brain` is the template's brain mask carried onto the
 * head (defaceVolume's brainMask). `seed` fixes the noise.
 */
export function pseudoCtFromT1(t1: Volume, brain: Mask, seed = 7): Volume<Int16Array> {
  const { grid, data } = t1;
  const count = data.length;
  const skin = skinThreshold(t1);
  const near = dilateMask(brain, 1).data;
  const band = dilateMask(brain, 14).data;
  // T1 brightness inside the head, as quantiles, for the class boundaries.
  const inside: number[] = [];
  for (let n = 0; n < count; n += 7) if (data[n]! > skin) inside.push(data[n]!);
  inside.sort((a, b) => a - b);
  const at = (q: number) => inside[Math.min(inside.length - 1, Math.floor(q * inside.length))]!;
  const fat = at(0.9);
  const brainValues: number[] = [];
  for (let n = 0; n < count; n += 7) if (brain.data[n]) brainValues.push(data[n]!);
  brainValues.sort((a, b) => a - b);
  const csf = brainValues[Math.floor(0.1 * brainValues.length)]!;
  const brainTop = brainValues[Math.floor(0.95 * brainValues.length)]!;
  const outside = outsideAir(grid, data, skin);
  const rand = noise(seed);
  const out = new Int16Array(count);
  for (let n = 0; n < count; n++) {
    const v = data[n]!;
    let hu: number;
    // From air to soft tissue, the T1's own partial-volume ramp at the skin (0 → twice the skin
    // threshold) becomes −1000 → 40 HU, as a CT's point-spread blurs the skin: with a step instead,
    // the rendered skin is a staircase of voxels.
    const ramp = AIR_HU + (40 - AIR_HU) * Math.min(1, Math.max(0, v / (2 * skin)));
    if (outside[n]) {
      hu = ramp + rand(10);
    } else if (brain.data[n]) {
      hu = v <= csf ? 5 + rand(5) : 30 + 10 * Math.min(1, Math.max(0, (v - csf) / (brainTop - csf))) + rand(5);
    } else if (band[n] && !near[n] && v < skin * 1.5) {
      // The dark band between scalp and brain: bone, densest where the T1 is darkest.
      hu = 800 + 700 * Math.min(1, Math.max(0, 1 - v / (skin * 1.5))) + rand(20);
    } else if (v <= skin) {
      // Dark inside the head, away from the skull: the sinuses.
      hu = AIR_HU + rand(10);
    } else if (v >= fat) {
      hu = -100 + rand(10);
    } else {
      hu = ramp + rand(10);
    }
    out[n] = Math.round(hu);
  }
  // The reconstruction field: a circle across the axial axis, centred on the grid, its radius 55%
  // of the larger in-plane extent; the corners of each slice are padding.
  const axial = axialAxis(grid);
  const [a, b] = [0, 1, 2].filter((x) => x !== axial) as [number, number];
  const dims = grid.dims;
  const radius = 0.55 * Math.max(dims[a]! * grid.spacing[a]!, dims[b]! * grid.spacing[b]!);
  const ca = (dims[a]! - 1) / 2;
  const cb = (dims[b]! - 1) / 2;
  const strides = [1, dims[0], dims[0] * dims[1]];
  for (let n = 0; n < count; n++) {
    const index = [n % dims[0], Math.floor(n / strides[1]!) % dims[1], Math.floor(n / strides[2]!)];
    const da = (index[a]! - ca) * grid.spacing[a]!;
    const db = (index[b]! - cb) * grid.spacing[b]!;
    if (da * da + db * db > radius * radius) out[n] = PADDING_HU;
  }
  return { grid, data: out };
}

/**
 * The air around the head: the voxels at or below the skin threshold that connect (face to face)
 * to the border of the grid. Dark voxels inside the head (skull, sinuses) are not reached.
 */
function outsideAir(grid: Grid, data: ArrayLike<number>, skin: number): Uint8Array {
  const [nx, ny, nz] = grid.dims;
  const reached = new Uint8Array(data.length);
  const queue = new Int32Array(data.length);
  let head = 0;
  let tail = 0;
  const visit = (n: number) => {
    if (!reached[n] && data[n]! <= skin) {
      reached[n] = 1;
      queue[tail++] = n;
    }
  };
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        if (i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1) visit(i + nx * (j + ny * k));
      }
    }
  }
  while (head < tail) {
    const n = queue[head++]!;
    const i = n % nx;
    const j = Math.floor(n / nx) % ny;
    const k = Math.floor(n / (nx * ny));
    if (i > 0) visit(n - 1);
    if (i < nx - 1) visit(n + 1);
    if (j > 0) visit(n - nx);
    if (j < ny - 1) visit(n + nx);
    if (k > 0) visit(n - nx * ny);
    if (k < nz - 1) visit(n + nx * ny);
  }
  return reached;
}

// ---------------------------------------------------------------------------------------------
// As a DICOM CT series

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const CT_STUDY_UID = '1.2.826.0.1.3680043.10.1234.7';
export const CT_SERIES_UID = '1.2.826.0.1.3680043.10.1234.7.2';

/**
 * Writes `volume` (Hounsfield units on a right-handed grid) as a DICOM CT series into `dir`, one
 * CT Image Storage file per slice along k: signed 16-bit pixels, Rescale Intercept −1024, slope 1,
 * Rescale Type HU, with planted fake identities. Returns the series read back.
 */
export function writeCtSeries(volume: Volume<Int16Array>, dir: string): Promise<DicomSeriesVolume> {
  return writeHeadSeries(
    volume,
    dir,
    {
      sopClassUid: CT_IMAGE_STORAGE,
      modality: 'CT',
      imageType: 'ORIGINAL\\PRIMARY\\AXIAL',
      studyUid: CT_STUDY_UID,
      seriesUid: CT_SERIES_UID,
      studyDate: '20240305',
      studyDescription: 'CT HEAD',
      seriesDescription: 'pseudo-CT head (synthetic)',
      patientName: 'Quux^Zorblatt',
      patientId: 'MRN55507777',
      bitsStored: 16,
      signed: true,
      rescale: { intercept: -1024, slope: 1 },
      extra: [el(tag(0x0018, 0x0060), 'DS', '120'), el(tag(0x0028, 0x1054), 'LO', 'HU')],
      filePrefix: 'CT',
    },
    'pseudo-CT (synthetic) from a T1 head',
  );
}
