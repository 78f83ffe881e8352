/**
 * Compressed DICOM images of the shared corpus read as volumes: every lossless encoding must give
 * exactly the values of the same image stored natively, and of dcmtk's own decode (dcmdjpeg,
 * dcmdjpls, dcmdrle write the native file compared against); lossy encodings are read as decoded,
 * against dcmtk's decode, and said to be lossy.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDicomSeries, type DicomSeriesVolume } from '../../src/volume/dicom-series.js';
import { VolumeFormatError } from '../../src/volume/errors.js';
import { loadImage } from '../../src/volume/load.js';
import { listSegments, readSegmentation } from '../../src/volume/segmentation.js';
import { seriesOf } from '../../src/volume/source.js';
import { sharedDataDir } from './helpers.js';

const corpus = path.join(sharedDataDir, 'dicom');
const CT0012 = (name: string) => path.join(corpus, 'dicomParser', `encapsulated__multi-frame__CT0012.${name}.dcm`);

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'radanon-volume-compressed-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** dcmtk's decode of a compressed file, written as a native file. */
function dcmtkDecoded(tool: 'dcmdjpeg' | 'dcmdjpls' | 'dcmdrle', file: string): string {
  const out = path.join(work, `${tool}-${path.basename(file)}`);
  const r = spawnSync(tool, [file, out], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return out;
}

/** How many values differ, and by how much at most (a plain loop: millions of values). */
function difference(a: ArrayLike<number>, b: ArrayLike<number>): { differing: number; largest: number } {
  expect(a.length).toBe(b.length);
  let differing = 0;
  let largest = 0;
  for (let n = 0; n < a.length; n++) {
    const d = Math.abs(a[n]! - b[n]!);
    if (d > 0) differing++;
    if (d > largest) largest = d;
  }
  return { differing, largest };
}

function encoding(volume: DicomSeriesVolume) {
  return seriesOf(volume.grid)!.encoding;
}

describe('CT1_UNC: one CT slice, natively and in JPEG-LS lossless', () => {
  it('gives the same volume from Implicit VR Little Endian, Explicit VR Big Endian and JPEG-LS lossless (.80)', async () => {
    const implicit = await readDicomSeries([path.join(corpus, 'dicomParser', 'CT1_UNC.implicit_little_endian.dcm')]);
    const big = await readDicomSeries([path.join(corpus, 'dicomParser', 'CT1_UNC.explicit_big_endian.dcm')]);
    const jpegLsFile = path.join(corpus, 'dicomParser', 'encapsulated__single-frame__CT1_UNC.fragmented_bot_jpeg_ls.80.dcm');
    const jpegLs = await readDicomSeries([jpegLsFile]);
    const dcmtk = await readDicomSeries([dcmtkDecoded('dcmdjpls', jpegLsFile)]);
    expect(jpegLs.grid).toEqual(implicit.grid);
    expect(jpegLs.data.constructor).toBe(implicit.data.constructor);
    for (const other of [big, jpegLs, dcmtk]) expect(difference(other.data, implicit.data)).toEqual({ differing: 0, largest: 0 });
    expect(encoding(jpegLs)).toEqual({ transferSyntaxUids: ['1.2.840.10008.1.2.4.80'], compressed: true, lossy: false });
    expect(encoding(implicit)).toEqual({ transferSyntaxUids: ['1.2.840.10008.1.2'], compressed: false, lossy: false });
    // Hounsfield units: stored −2000 (padding) to 2278, intercept −1024.
    let min = Infinity;
    let max = -Infinity;
    for (const v of jpegLs.data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).toEqual([-3024, 1254]);
  });
});

describe('CT0012: an enhanced CT of two frames in four encodings', () => {
  it('JPEG lossless (.57) and RLE read exactly as dcmtk decodes them, and as each other', async () => {
    const jpeg = await loadImage(CT0012('fragmented_no_bot_jpeg_lossless.57'));
    const rle = await loadImage(CT0012('not_fragmented_bot_rle'));
    const jpegByDcmtk = await loadImage(dcmtkDecoded('dcmdjpeg', CT0012('fragmented_no_bot_jpeg_lossless.57')));
    const rleByDcmtk = await loadImage(dcmtkDecoded('dcmdrle', CT0012('not_fragmented_bot_rle')));
    expect(jpeg.grid.dims).toEqual([512, 512, 2]);
    expect(rle.grid).toEqual(jpeg.grid);
    expect(difference(jpeg.data, jpegByDcmtk.data)).toEqual({ differing: 0, largest: 0 });
    expect(difference(rle.data, rleByDcmtk.data)).toEqual({ differing: 0, largest: 0 });
    expect(difference(rle.data, jpeg.data)).toEqual({ differing: 0, largest: 0 });
    // Unsigned 16-bit storage whose values fit Int16 after the intercept: the narrow array, as for native data.
    expect(jpeg.data.constructor).toBe(jpegByDcmtk.data.constructor);
    expect(jpeg.data).toBeInstanceOf(Int16Array);
    expect(encoding(jpeg as DicomSeriesVolume)).toEqual({ transferSyntaxUids: ['1.2.840.10008.1.2.4.57'], compressed: true, lossy: false });
    expect(encoding(rle as DicomSeriesVolume).lossy).toBe(false);
  });

  it('JPEG-LS near-lossless (.81) and JPEG extended (.51) are read as decoded and said to be lossy', async () => {
    const lossless = await loadImage(CT0012('fragmented_no_bot_jpeg_lossless.57'));
    const jpegLs = await loadImage(CT0012('fragmented_no_bot_jpeg_ls.81'));
    const jpegLsByDcmtk = await loadImage(dcmtkDecoded('dcmdjpls', CT0012('fragmented_no_bot_jpeg_ls.81')));
    // JPEG-LS decoding is exact by its definition: the same values as dcmtk's.
    expect(difference(jpegLs.data, jpegLsByDcmtk.data)).toEqual({ differing: 0, largest: 0 });
    expect(encoding(jpegLs as DicomSeriesVolume)).toEqual({ transferSyntaxUids: ['1.2.840.10008.1.2.4.81'], compressed: true, lossy: true });
    // Near-lossless: within 2 units of the lossless image (measured), but not equal to it.
    const fromLossless = difference(jpegLs.data, lossless.data);
    console.info(`CT0012 .81 against .57: ${fromLossless.differing} of ${jpegLs.data.length} values differ, by at most ${fromLossless.largest}`);
    expect(fromLossless.differing).toBeGreaterThan(0);
    expect(fromLossless.largest).toBeLessThanOrEqual(2);

    const extended = await loadImage(CT0012('fragmented_no_bot_jpeg_baseline.51'));
    const extendedByDcmtk = await loadImage(dcmtkDecoded('dcmdjpeg', CT0012('fragmented_no_bot_jpeg_baseline.51')));
    const againstDcmtk = difference(extended.data, extendedByDcmtk.data);
    console.info(`CT0012 .51 against dcmtk's decode: ${againstDcmtk.differing} values differ, by at most ${againstDcmtk.largest}`);
    expect(againstDcmtk).toEqual({ differing: 0, largest: 0 });
    expect(encoding(extended as DicomSeriesVolume)).toEqual({ transferSyntaxUids: ['1.2.840.10008.1.2.4.51'], compressed: true, lossy: true });
  });
});

describe('MR_small: one MR slice natively, in RLE, JPEG 2000 lossless and JPEG-LS lossless', () => {
  it('gives the same volume from every encoding', async () => {
    const mr = (name: string) => readDicomSeries([path.join(corpus, 'pydicom', `${name}.dcm`)]);
    const native = await mr('MR_small');
    for (const name of ['MR_small_RLE', 'MR_small_jp2klossless', 'MR_small_jpeg_ls_lossless', 'MR_small_bigendian', 'MR_small_implicit']) {
      const volume = await mr(name);
      expect(volume.grid, name).toEqual(native.grid);
      expect(difference(volume.data, native.data), name).toEqual({ differing: 0, largest: 0 });
      expect(encoding(volume).lossy, name).toBe(false);
      expect(encoding(volume).compressed, name).toBe(!name.endsWith('endian') && !name.endsWith('implicit'));
    }
  });
});

describe('liver_deflate.dcm: a 1-bit SEG in Deflated Image Frame Compression', () => {
  it('lists its segment, and is refused with the reason when read as a mask', async () => {
    const file = path.join(corpus, 'pydicom-data', 'liver_deflate.dcm');
    expect((await listSegments(file)).map((s) => [s.number, s.label, s.frames])).toEqual([[1, 'Liver', 3]]);
    const grid = { dims: [512, 512, 3] as const, spacing: [0.810547, 0.810547, 1] as const, origin: [-235.2, -226.8, -128.69] as const, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const error = await readSegmentation(file, grid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeFormatError);
    expect((error as Error).message).toBe(`${file}: compressed 1-bit segmentation frames (transfer syntax 1.2.840.10008.1.2.8.1) are not decoded: the codecs take frames of 8, 16 or 32 bits`);
  });
});
