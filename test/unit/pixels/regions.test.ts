/**
 * Marked regions from real files written here: JSON rectangles (by file, SOP Instance UID or
 * series, with frames), PNG mask images (grey, RGBA, palette), and DICOM SEG files written with
 * radanon's DICOM writer (BINARY and LABELMAP, placed by source image or by position), resolved to
 * per-frame masks; and the errors for bad input, which name the file and the field.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readDicom } from '../../../src/dicom/reader.js';
import path from 'node:path';
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import type { Element } from '../../../src/dicom/dataset.js';
import { loadMarkedRegions, markedMaskFor, MarkedRegionsError, type MarkedImage } from '../../../src/pixels/regions.js';
import type { Mask } from '../../../src/pixels/types.js';
import { binaryElement } from '../support/dicom.js';
import { decimals, ds, encapsulate, packBits, seq, SOP_CLASS, str, t, temporaryFolder, us, writeDicom } from '../volume/builders.js';

const dir = temporaryFolder('radanon-regions-');
const ROWS = 6;
const COLUMNS = 8;
const SERIES = '1.2.826.0.1.3680043.10.999.1';
const OTHER_SERIES = '1.2.826.0.1.3680043.10.999.2';
const FOR = '1.2.826.0.1.3680043.10.999.3';

function image(over: Partial<MarkedImage> = {}): MarkedImage {
  return { sopInstanceUid: '1.2.826.0.1.3680043.10.999.10', seriesInstanceUid: SERIES, relativePath: 'CT/IM1.dcm', frame: 0, rows: ROWS, columns: COLUMNS, ...over };
}

function writeJson(name: string, json: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(json));
  return file;
}

/** Set pixels as "row,column" strings, for readable expectations. */
function setPixels(mask: Mask | undefined): string[] {
  if (!mask) return [];
  const out: string[] = [];
  for (let p = 0; p < mask.data.length; p++) if (mask.data[p]) out.push(`${Math.floor(p / mask.columns)},${p % mask.columns}`);
  return out;
}

describe('JSON rectangles', () => {
  const file = writeJson('rects.json', {
    version: 1,
    regions: [
      { file: './CT\\IM1.dcm', rectangles: [{ x: 1, y: 2, width: 2, height: 1 }], label: 'tattoo' },
      { sopInstanceUid: '1.2.826.0.1.3680043.10.999.11', rectangles: [{ x: 0, y: 0, width: 1, height: 1 }], frames: [2] },
      { seriesInstanceUid: SERIES, rectangles: [{ x: 7, y: 5, width: 1, height: 1 }] },
    ],
  });
  const regions = loadMarkedRegions(file);

  it('applies entries by file path (normalised), by series, and unions them', () => {
    expect(regions.name).toBe('rects.json');
    expect(setPixels(markedMaskFor(regions, image()))).toEqual(['2,1', '2,2', '5,7']);
  });

  it('applies an entry by SOP Instance UID on its frames only (frames count from 1)', () => {
    const other = { sopInstanceUid: '1.2.826.0.1.3680043.10.999.11', seriesInstanceUid: OTHER_SERIES, relativePath: 'CT/IM2.dcm' };
    expect(markedMaskFor(regions, image({ ...other, frame: 0 }))).toBeUndefined();
    expect(setPixels(markedMaskFor(regions, image({ ...other, frame: 1 })))).toEqual(['0,0']);
  });

  it('says when a rectangle reaches beyond the image it applies to', () => {
    expect(() => markedMaskFor(regions, image({ columns: 7 }))).toThrow(/rects\.json: regions\[2\]\.rectangles\[0\]: reaches beyond the 7×6 image/);
  });
});

describe('PNG mask images', () => {
  const grey = new Uint8Array(ROWS * COLUMNS);
  grey[1 * COLUMNS + 3] = 255;
  grey[4 * COLUMNS + 0] = 1;
  writeFileSync(path.join(dir, 'grey.png'), encodePng({ width: COLUMNS, height: ROWS, data: grey, channels: 1, depth: 8 }));
  const rgba = new Uint8Array(ROWS * COLUMNS * 4);
  rgba.set([255, 0, 0, 255], (2 * COLUMNS + 2) * 4); // red, opaque: marked
  rgba.set([255, 255, 255, 0], (3 * COLUMNS + 3) * 4); // white but transparent: not marked
  rgba.set([0, 0, 0, 255], (0 * COLUMNS + 0) * 4); // black, opaque: not marked
  writeFileSync(path.join(dir, 'rgba.png'), encodePng({ width: COLUMNS, height: ROWS, data: rgba, channels: 4, depth: 8 }));
  const indexed = new Uint8Array(ROWS * COLUMNS).fill(0);
  indexed[5 * COLUMNS + 6] = 1;
  writeFileSync(path.join(dir, 'palette.png'), encodePng({ width: COLUMNS, height: ROWS, data: indexed, channels: 1, depth: 8, palette: [[0, 0, 0], [0, 128, 0]] }));

  it('marks non-zero, non-transparent pixels of grey, RGBA and palette images', () => {
    const regions = loadMarkedRegions(
      writeJson('masks.json', {
        regions: [
          { file: 'CT/IM1.dcm', maskImage: 'grey.png' },
          { file: 'CT/IM1.dcm', maskImage: 'rgba.png', frames: [1] },
          { seriesInstanceUid: SERIES, maskImage: 'palette.png' },
        ],
      }),
    );
    expect(setPixels(markedMaskFor(regions, image()))).toEqual(['1,3', '2,2', '4,0', '5,6']);
    expect(setPixels(markedMaskFor(regions, image({ relativePath: 'CT/IM9.dcm', frame: 3 })))).toEqual(['5,6']);
  });

  it('refuses a mask image of another size than the image, and a PNG given alone', () => {
    const regions = loadMarkedRegions(writeJson('mask-size.json', { regions: [{ file: 'CT/IM1.dcm', maskImage: 'grey.png' }] }));
    expect(() => markedMaskFor(regions, image({ rows: 7 }))).toThrow(/mask-size\.json: regions\[0\]: the mask image is 8×6, but the image it applies to is 8×7/);
    expect(() => loadMarkedRegions(path.join(dir, 'grey.png'))).toThrow(/grey\.png: a mask image says nothing of the image it belongs to/);
  });
});

describe('DICOM SEG', () => {
  const SOURCE_A = '1.2.826.0.1.3680043.10.999.21';
  const SOURCE_B = '1.2.826.0.1.3680043.10.999.22';
  const frameValues = (cells: readonly [number, number][]): number[] => {
    const v = new Array<number>(ROWS * COLUMNS).fill(0);
    for (const [r, c] of cells) v[r * COLUMNS + c] = 1;
    return v;
  };

  function writeSeg(name: string, type: 'BINARY' | 'LABELMAP', frames: { segment: number; place: { source: string; frame?: number } | { position: number[] }; values: number[] }[], segments: [number, string][]): string {
    const perFrame = frames.map((f) => {
      const items: Element[] = type === 'LABELMAP' ? [] : [seq(t.SegmentIdentificationSequence, [[us(t.ReferencedSegmentNumber, f.segment)]])];
      if ('source' in f.place) {
        const ref: Element[] = [str(t.ReferencedSOPInstanceUID, 'UI', f.place.source)];
        if (f.place.frame !== undefined) ref.push(str(0x00081160 as Element['tag'], 'IS', String(f.place.frame)));
        items.push(seq(t.DerivationImageSequence, [[seq(t.SourceImageSequence, [ref])]]));
      } else {
        items.push(seq(t.PlanePositionSequence, [[decimals(t.ImagePositionPatient, f.place.position)]]));
      }
      return items;
    });
    const values = frames.flatMap((f) => f.values);
    const dataset = ds(
      str(t.SOPClassUID, 'UI', SOP_CLASS.seg),
      str(t.SOPInstanceUID, 'UI', '1.2.826.0.1.3680043.10.999.900'),
      str(t.Modality, 'CS', 'SEG'),
      str(t.SeriesInstanceUID, 'UI', '1.2.826.0.1.3680043.10.999.901'),
      str(t.FrameOfReferenceUID, 'UI', FOR),
      str(t.NumberOfFrames, 'IS', String(frames.length)),
      us(t.SamplesPerPixel, 1),
      str(t.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
      us(t.Rows, ROWS),
      us(t.Columns, COLUMNS),
      us(t.BitsAllocated, type === 'BINARY' ? 1 : 8),
      us(t.BitsStored, type === 'BINARY' ? 1 : 8),
      us(t.HighBit, type === 'BINARY' ? 0 : 7),
      us(t.PixelRepresentation, 0),
      str(t.SegmentationType, 'CS', type),
      seq(t.SegmentSequence, segments.map(([number, label]) => [us(t.SegmentNumber, number), str(t.SegmentLabel, 'LO', label)])),
      seq(0x00081115 as Element['tag'], [[str(t.SeriesInstanceUID, 'UI', SERIES)]]),
      seq(t.PerFrameFunctionalGroupsSequence, perFrame),
      binaryElement(t.PixelData, 'OB', type === 'BINARY' ? packBits(values) : Uint8Array.from(values.length % 2 ? [...values, 0] : values)),
    );
    return writeDicom(path.join(dir, name), dataset);
  }

  const binarySeg = writeSeg(
    'binary-seg.dcm',
    'BINARY',
    [
      { segment: 1, place: { source: SOURCE_A }, values: frameValues([[0, 1], [0, 2]]) },
      { segment: 2, place: { source: SOURCE_A }, values: frameValues([[5, 5]]) },
      { segment: 1, place: { source: SOURCE_B, frame: 2 }, values: frameValues([[3, 3]]) },
      { segment: 1, place: { position: [10, 20, 30] }, values: frameValues([[4, 4]]) },
    ],
    [[1, 'Tattoo'], [2, 'Scar']],
  );

  it('maps the chosen segment to its source images, frame numbers and positions', () => {
    const regions = loadMarkedRegions(writeJson('seg.json', { regions: [{ segmentation: 'binary-seg.dcm', segment: 'tattoo' }] }));
    expect(setPixels(markedMaskFor(regions, image({ sopInstanceUid: SOURCE_A })))).toEqual(['0,1', '0,2']);
    expect(markedMaskFor(regions, image({ sopInstanceUid: SOURCE_B, frame: 0 }))).toBeUndefined();
    expect(setPixels(markedMaskFor(regions, image({ sopInstanceUid: SOURCE_B, frame: 1 })))).toEqual(['3,3']);
    // By position: only in the series the SEG refers to.
    expect(setPixels(markedMaskFor(regions, image({ imagePositionPatient: [10, 20, 30.01] })))).toEqual(['4,4']);
    expect(markedMaskFor(regions, image({ imagePositionPatient: [10, 20, 31] }))).toBeUndefined();
    expect(markedMaskFor(regions, image({ seriesInstanceUid: OTHER_SERIES, imagePositionPatient: [10, 20, 30] }))).toBeUndefined();
    const scar = loadMarkedRegions(writeJson('seg2.json', { regions: [{ segmentation: 'binary-seg.dcm', segment: 2 }] }));
    expect(setPixels(markedMaskFor(scar, image({ sopInstanceUid: SOURCE_A })))).toEqual(['5,5']);
  });

  it('refuses a SEG whose pixel data is compressed, naming the file, the syntax and the fix', () => {
    const seg = writeSeg('rle-seg.dcm', 'LABELMAP', [{ segment: 1, place: { source: SOURCE_A }, values: frameValues([[1, 1]]) }], [[1, 'Tattoo']]);
    const file = readDicom(readFileSync(seg));
    const dataset = new Map(file.dataset);
    // The codestream's content does not matter: the refusal comes before any decoding.
    dataset.set(t.PixelData, { kind: 'encapsulated', tag: t.PixelData, vr: 'OB', bytes: encapsulate([new Uint8Array(64)]) });
    writeDicom(seg, dataset, '1.2.840.10008.1.2.5');
    expect(() => loadMarkedRegions(seg)).toThrow(/rle-seg\.dcm: its pixel data is compressed \(transfer syntax 1\.2\.840\.10008\.1\.2\.5\); .*write it uncompressed first/);
  });

  it('needs a choice when the SEG holds several segments, and lists them', () => {
    expect(() => loadMarkedRegions(binarySeg)).toThrow(MarkedRegionsError);
    expect(() => loadMarkedRegions(binarySeg)).toThrow(/binary-seg\.dcm: the file holds 2 segments; choose one by number or name; available: 1: Tattoo, 2: Scar/);
    expect(() => loadMarkedRegions(writeJson('seg3.json', { regions: [{ segmentation: 'binary-seg.dcm', segment: 'Mole' }] }))).toThrow(/regions\[0\]\.segmentation: no segment named "Mole"/);
  });

  it('reads a LABELMAP SEG given directly', () => {
    const labels = new Array<number>(ROWS * COLUMNS).fill(0);
    labels[2 * COLUMNS + 4] = 1;
    labels[2 * COLUMNS + 5] = 3;
    const file = writeSeg('labelmap-seg.dcm', 'LABELMAP', [{ segment: 1, place: { source: SOURCE_A }, values: labels }], [[1, 'Tattoo']]);
    expect(setPixels(markedMaskFor(loadMarkedRegions(file), image({ sopInstanceUid: SOURCE_A })))).toEqual(['2,4']);
  });
});

describe('errors name the file and the field', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not-object.json', [1], /must be a JSON object with a "regions" array/],
    ['empty.json', { regions: [] }, /regions: must be a non-empty array/],
    ['typo.json', { regions: [{ file: 'a.dcm', rectangle: [] }] }, /regions\[0\]\.rectangle: is not a field of an entry/],
    ['two-targets.json', { regions: [{ file: 'a.dcm', seriesInstanceUid: '1.2', rectangles: [{ x: 0, y: 0, width: 1, height: 1 }] }] }, /regions\[0\]: must name exactly one of file, sopInstanceUid, seriesInstanceUid/],
    ['no-what.json', { regions: [{ file: 'a.dcm' }] }, /regions\[0\]: must have exactly one of rectangles, maskImage, segmentation/],
    ['bad-width.json', { regions: [{ file: 'a.dcm', rectangles: [{ x: 0, y: 0, width: 0, height: 1 }] }] }, /regions\[0\]\.rectangles\[0\]\.width: must be an integer ≥ 1/],
    ['bad-frame.json', { regions: [{ file: 'a.dcm', frames: [0], rectangles: [{ x: 0, y: 0, width: 1, height: 1 }] }] }, /regions\[0\]\.frames\[0\]: must be a frame number, an integer from 1/],
    ['bad-uid.json', { regions: [{ sopInstanceUid: 'abc', rectangles: [{ x: 0, y: 0, width: 1, height: 1 }] }] }, /regions\[0\]\.sopInstanceUid: must be a UID/],
    ['escape.json', { regions: [{ file: '../a.dcm', rectangles: [{ x: 0, y: 0, width: 1, height: 1 }] }] }, /regions\[0\]\.file: must be a path relative to the input folder/],
    ['missing-png.json', { regions: [{ file: 'a.dcm', maskImage: 'nowhere.png' }] }, /nowhere\.png: mask image cannot be read \(ENOENT\)/],
    ['seg-target.json', { regions: [{ segmentation: 'x.dcm', file: 'a.dcm' }] }, /regions\[0\]\.file: does not apply to a segmentation/],
  ];
  for (const [name, json, message] of cases) {
    it(name, () => {
      const file = writeJson(name, json);
      expect(() => loadMarkedRegions(file)).toThrow(message);
      try {
        loadMarkedRegions(file);
      } catch (e) {
        expect(e).toBeInstanceOf(MarkedRegionsError);
        expect((e as MarkedRegionsError).file).toMatch(/\.(json|png)$/);
      }
    });
  }

  it('a file that is neither JSON nor DICOM, and a missing file', () => {
    writeFileSync(path.join(dir, 'junk.txt'), 'hello');
    expect(() => loadMarkedRegions(path.join(dir, 'junk.txt'))).toThrow(/junk\.txt: is neither a DICOM SEG nor valid JSON/);
    expect(() => loadMarkedRegions(path.join(dir, 'absent.json'))).toThrow(/absent\.json: cannot be read \(ENOENT\)/);
  });
});
