/**
 * Defacing a compressed head series, as a PACS sends them: a real T1 head (NIfTI) turned into a
 * DICOM MR series (as deface-pipeline.test.ts does), compressed losslessly by dcmtk (dcmcjpeg:
 * JPEG Lossless SV1, 1.2.840.10008.1.2.4.70), defaced by runDeface (what `radanon deface` runs)
 * and read back. The defaced values must be exactly those the method gives on the native series,
 * the output must stay JPEG Lossless, and the slices whose values defacing did not change keep
 * their codestreams byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAscii, type Element } from '../../src/dicom/dataset.js';
import { readDicom } from '../../src/dicom/reader.js';
import { tag, Tags, type Tag } from '../../src/dicom/tag.js';
import { encodeDicomToBuffer, FILE_META_VERSION } from '../../src/dicom/writer.js';
import type { VR } from '../../src/dicom/vr.js';
import { defaceVolume, type DefaceResult } from '../../src/volume/deface/deface.js';
import { runDeface } from '../../src/volume/deface/run.js';
import { readDicomSeries, type DicomSeriesVolume } from '../../src/volume/dicom-series.js';
import { writeDicomSeries } from '../../src/volume/dicom-series-writer.js';
import { indexToWorld } from '../../src/volume/geometry.js';
import { readNifti } from '../../src/volume/nifti.js';
import { seriesOf } from '../../src/volume/source.js';
import type { Grid, Volume } from '../../src/volume/volume.js';
import { sharedDataDir } from './helpers.js';

/** One defacing takes about 20 s on tfjs' WebAssembly backend; two run here. */
const RUN_TIMEOUT = 900_000;
const HEAD = path.join(sharedDataDir, 'deface', 'heads', 'chris_t1.nii.gz');
const JPEG_LOSSLESS_SV1 = '1.2.840.10008.1.2.4.70';
const SERIES_UID = '1.2.826.0.1.3680043.10.1234.3.2';

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'radanon-deface-compressed-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const t = {
  SOPClassUID: tag(0x0008, 0x0016),
  SOPInstanceUID: tag(0x0008, 0x0018),
  Modality: tag(0x0008, 0x0060),
  BodyPartExamined: tag(0x0018, 0x0015),
  SliceThickness: tag(0x0018, 0x0050),
  SeriesInstanceUID: tag(0x0020, 0x000e),
  InstanceNumber: tag(0x0020, 0x0013),
  ImagePositionPatient: tag(0x0020, 0x0032),
  ImageOrientationPatient: tag(0x0020, 0x0037),
  FrameOfReferenceUID: tag(0x0020, 0x0052),
  SamplesPerPixel: tag(0x0028, 0x0002),
  PhotometricInterpretation: tag(0x0028, 0x0004),
  Rows: tag(0x0028, 0x0010),
  Columns: tag(0x0028, 0x0011),
  PixelSpacing: tag(0x0028, 0x0030),
  BitsAllocated: tag(0x0028, 0x0100),
  BitsStored: tag(0x0028, 0x0101),
  HighBit: tag(0x0028, 0x0102),
  PixelRepresentation: tag(0x0028, 0x0103),
};
const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
const el = (tg: Tag, vr: VR, value: string): Element => ({ kind: 'value', tag: tg, vr, bytes: encodeAscii(value, vr === 'UI' ? 0 : 0x20) });
const us = (tg: Tag, value: number): Element => ({ kind: 'value', tag: tg, vr: 'US', bytes: Uint8Array.of(value & 0xff, value >> 8) });
const ds = (values: readonly number[]) => values.map((v) => String(Number(v.toPrecision(10)))).join('\\');

/** The grid with a right-handed axis system: DICOM slices are ordered along row × column. */
function rightHanded(volume: Volume): Volume {
  const d = volume.grid.direction;
  const det = d[0]! * (d[4]! * d[8]! - d[7]! * d[5]!) - d[3]! * (d[1]! * d[8]! - d[7]! * d[2]!) + d[6]! * (d[1]! * d[5]! - d[4]! * d[2]!);
  if (det > 0) return volume;
  const [nx, ny, nz] = volume.grid.dims;
  const data = volume.data.slice();
  const slice = nx * ny;
  for (let k = 0; k < nz; k++) data.set(volume.data.subarray((nz - 1 - k) * slice, (nz - k) * slice), k * slice);
  const grid: Grid = { ...volume.grid, origin: indexToWorld(volume.grid, 0, 0, nz - 1), direction: [...d.slice(0, 6), -d[6]!, -d[7]!, -d[8]!] };
  return { grid, data };
}

/** A native MR series of `head`: headers written here, values through the series writer (12 of 16 bits, unsigned). */
async function mrSeries(head: Volume, dir: string): Promise<DicomSeriesVolume> {
  const headers = `${dir}.headers`;
  mkdirSync(headers, { recursive: true });
  const [nx, ny, nz] = head.grid.dims;
  const [si, sj, sk] = head.grid.spacing;
  for (let k = 0; k < nz; k++) {
    const sop = `${SERIES_UID}.${k + 1}`;
    const elements: Element[] = [
      el(t.SOPClassUID, 'UI', MR_IMAGE_STORAGE),
      el(t.SOPInstanceUID, 'UI', sop),
      el(t.Modality, 'CS', 'MR'),
      el(t.BodyPartExamined, 'CS', 'HEAD'),
      el(t.SliceThickness, 'DS', ds([sk])),
      el(t.SeriesInstanceUID, 'UI', SERIES_UID),
      el(t.InstanceNumber, 'IS', String(k + 1)),
      el(t.ImagePositionPatient, 'DS', ds(indexToWorld(head.grid, 0, 0, k))),
      el(t.ImageOrientationPatient, 'DS', ds(head.grid.direction.slice(0, 6))),
      el(t.FrameOfReferenceUID, 'UI', `${SERIES_UID}.9`),
      us(t.SamplesPerPixel, 1),
      el(t.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
      us(t.Rows, ny),
      us(t.Columns, nx),
      el(t.PixelSpacing, 'DS', ds([sj, si])),
      us(t.BitsAllocated, 16),
      us(t.BitsStored, 12),
      us(t.HighBit, 11),
      us(t.PixelRepresentation, 0),
      { kind: 'value', tag: Tags.PixelData, vr: 'OW', bytes: new Uint8Array(2 * nx * ny) },
    ];
    const dataset = new Map<Tag, Element>(elements.map((e) => [e.tag, e]));
    const meta = new Map<Tag, Element>([
      [FILE_META_VERSION.tag, FILE_META_VERSION],
      [Tags.MediaStorageSOPClassUID, el(Tags.MediaStorageSOPClassUID, 'UI', MR_IMAGE_STORAGE)],
      [Tags.MediaStorageSOPInstanceUID, el(Tags.MediaStorageSOPInstanceUID, 'UI', sop)],
      [Tags.TransferSyntaxUID, el(Tags.TransferSyntaxUID, 'UI', '1.2.840.10008.1.2.1')],
    ]);
    writeFileSync(path.join(headers, `IM${String(k + 1).padStart(4, '0')}`), encodeDicomToBuffer({ meta, dataset }));
  }
  const layout = await readDicomSeries(headers);
  await writeDicomSeries({ grid: layout.grid, data: Int16Array.from(head.data) }, layout, dir, { derivationDescription: 'converted from NIfTI', uidSeed: 'compressed-test', uidKey: Buffer.alloc(32, 5) });
  rmSync(headers, { recursive: true, force: true });
  return readDicomSeries(dir);
}

function filesOf(dir: string): string[] {
  return readdirSync(dir).sort();
}

function pixelBytes(file: string): Uint8Array {
  const element = readDicom(readFileSync(file)).dataset.get(Tags.PixelData);
  if (!element || element.kind === 'sequence') throw new Error(`${file}: no pixel data`);
  return element.bytes;
}

describe('a JPEG Lossless head series, defaced', () => {
  let native: DicomSeriesVolume;
  let compressedDir: string;
  let expected: DefaceResult;

  beforeAll(async () => {
    const head = rightHanded(await readNifti(HEAD));
    native = await mrSeries(head, path.join(work, 'native'));
    compressedDir = path.join(work, 'jpeg-lossless');
    mkdirSync(compressedDir);
    for (const name of filesOf(path.join(work, 'native'))) {
      const r = spawnSync('dcmcjpeg', ['+e1', path.join(work, 'native', name), path.join(compressedDir, name)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    expected = await defaceVolume(native, {});
  }, RUN_TIMEOUT);

  it('reads the compressed series exactly as the native one, said to be compressed losslessly', async () => {
    const compressed = await readDicomSeries(compressedDir);
    expect(compressed.grid).toEqual(native.grid);
    expect(compressed.data.constructor).toBe(native.data.constructor);
    let differing = 0;
    for (let n = 0; n < native.data.length; n++) if (compressed.data[n] !== native.data[n]) differing++;
    expect(differing).toBe(0);
    expect(seriesOf(compressed.grid)!.encoding).toEqual({ transferSyntaxUids: [JPEG_LOSSLESS_SV1], compressed: true, lossy: false });
  });

  it(
    'defaces it to exactly the native result, written back in JPEG Lossless; untouched slices keep their codestreams',
    async () => {
      const output = path.join(work, 'defaced');
      const report = await runDeface(compressedDir, output, { uidKey: Buffer.alloc(32, 9) });
      expect(report.status, report.failures.join('; ')).toBe('passed');
      expect(report.format).toBe('dicom');
      expect(report.metrics.brainVoxelsAltered).toBe(0);
      expect(report.dicom).toMatchObject({ files: filesOf(compressedDir).length, clampedVoxels: 0, transferSyntaxes: [JPEG_LOSSLESS_SV1] });
      expect(report.dicom!.notes?.every((n) => /re-encoded losslessly/.test(n))).toBe(true);

      const back = await readDicomSeries(output);
      expect(back.grid).toEqual(native.grid);
      let differing = 0;
      let changed = 0;
      for (let n = 0; n < back.data.length; n++) {
        if (back.data[n] !== expected.defaced.data[n]) differing++;
        if (back.data[n] !== native.data[n]) changed++;
      }
      expect(differing).toBe(0);
      expect(changed).toBeGreaterThan(1000);
      expect(seriesOf(back.grid)!.encoding).toEqual({ transferSyntaxUids: [JPEG_LOSSLESS_SV1], compressed: true, lossy: false });

      // Slices whose values did not change keep their codestreams byte for byte; the others were re-encoded.
      const [nx, ny] = native.grid.dims;
      const sliceOf = seriesOf(native.grid)!.sliceOfInstance;
      let kept = 0;
      let reencoded = 0;
      for (const name of filesOf(output)) {
        const file = readDicom(readFileSync(path.join(output, name)));
        expect(file.transferSyntax.uid).toBe(JPEG_LOSSLESS_SV1);
        const source = readDicom(readFileSync(path.join(compressedDir, name)));
        const sop = Buffer.from((source.dataset.get(t.SOPInstanceUID) as { bytes: Uint8Array }).bytes).toString('latin1').replace(/\0+$/, '');
        const k = sliceOf.get(sop)!;
        // A face voxel already at the background value is no change: what counts is a changed value.
        let valuesChanged = false;
        for (let n = k * nx * ny; n < (k + 1) * nx * ny && !valuesChanged; n++) valuesChanged = back.data[n] !== native.data[n];
        const same = Buffer.compare(Buffer.from(pixelBytes(path.join(output, name))), Buffer.from(pixelBytes(path.join(compressedDir, name)))) === 0;
        expect(same, name).toBe(!valuesChanged);
        if (same) kept++;
        else reencoded++;
      }
      console.info(`defaced JPEG Lossless series: ${reencoded} slices re-encoded, ${kept} kept byte for byte`);
      expect(kept).toBeGreaterThan(0);
      expect(reencoded).toBeGreaterThan(0);
    },
    RUN_TIMEOUT,
  );
});
