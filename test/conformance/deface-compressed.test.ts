/**
 * Defacing a compressed head series, as a PACS sends them: a real T1 head (NIfTI) turned into a
 * DICOM MR series (as deface-pipeline.test.ts does), compressed losslessly by dcmtk (dcmcjpeg:
 * JPEG Lossless SV1, 1.2.840.10008.1.2.4.70), defaced by runDeface (what `radanon deface` runs)
 * and read back. The defaced values must be exactly those the method gives on the native series,
 * the output must stay JPEG Lossless, and the slices whose values defacing did not change keep
 * their codestreams byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDicom } from '../../src/dicom/reader.js';
import { Tags } from '../../src/dicom/tag.js';
import { defaceVolume, type DefaceResult } from '../../src/volume/deface/deface.js';
import { runDeface } from '../../src/volume/deface/run.js';
import { readDicomSeries, type DicomSeriesVolume } from '../../src/volume/dicom-series.js';
import { readNifti } from '../../src/volume/nifti.js';
import { seriesOf } from '../../src/volume/source.js';
import type { Volume } from '../../src/volume/volume.js';
import { sharedDataDir } from './helpers.js';
import { rightHanded, T1_HEAD, writeHeadSeries } from './support/head-series.js';

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

/** A native MR series of `head` (12 of 16 bits, unsigned), as a scanner would send it. */
function mrSeries(head: Volume, dir: string): Promise<DicomSeriesVolume> {
  const spec = { ...T1_HEAD, studyUid: `${SERIES_UID}.0`, seriesUid: SERIES_UID };
  return writeHeadSeries({ grid: head.grid, data: Int16Array.from(head.data) }, dir, spec, 'converted from NIfTI');
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
        const sop = Buffer.from((source.dataset.get(Tags.SOPInstanceUID) as { bytes: Uint8Array }).bytes).toString('latin1').replace(/\0+$/, '');
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
