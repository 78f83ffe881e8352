/**
 * Defacing end to end on a real head: the DICOM round trip the issue asks for (a head NIfTI
 * turned into a DICOM MR series with the geometry dcm2niix reads — Image Position and
 * Orientation (Patient) per slice, Pixel Spacing, Slice Thickness, Spacing Between Slices —
 * defaced as DICOM by `radanon deface`, read back), `radanon deface` on a NIfTI head with
 * previews, and `radanon deid --deface` on a batch holding the head series.
 *
 * The command runs from dist/ (built by the global setup), as users run it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asciiValue, type Dataset } from '../../src/dicom/dataset.js';
import { readDicom } from '../../src/dicom/reader.js';
import { tag, Tags, type Tag } from '../../src/dicom/tag.js';
import { encodeDicomToBuffer } from '../../src/dicom/writer.js';
import { readDicomSeries, type DicomSeriesVolume } from '../../src/volume/dicom-series.js';
import { writeDicomSeries } from '../../src/volume/dicom-series-writer.js';
import { defaceVolume, type DefaceResult } from '../../src/volume/deface/deface.js';
import type { DefaceRunReport } from '../../src/volume/deface/run.js';
import { gridDifference } from '../../src/volume/geometry.js';
import { readNifti } from '../../src/volume/nifti.js';
import type { Grid, Volume } from '../../src/volume/volume.js';
import { repoRoot, sharedDataDir } from './helpers.js';
import { decimals, el, rightHanded, t, T1_HEAD, writeHeaderSeries } from './support/head-series.js';

const CLI = path.join(repoRoot, 'dist', 'cli', 'main.js');
/** One defacing takes about 20 s on tfjs' WebAssembly backend, minutes on its JavaScript CPU backend. */
const RUN_TIMEOUT = 900_000;
const HEAD = path.join(sharedDataDir, 'deface', 'heads', 'chris_t1.nii.gz');
const OTHER_HEAD = path.join(sharedDataDir, 'deface', 'heads', 't1_crop.nii.gz');

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'radanon-deface-pipeline-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function radanon(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: RUN_TIMEOUT - 60_000, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// ---------------------------------------------------------------------------------------------
// A NIfTI head as a DICOM MR series

const STUDY_UID = '1.2.826.0.1.3680043.10.1234.1';
const SERIES_UID = '1.2.826.0.1.3680043.10.1234.1.2';


/**
 * A synthetic MR series on the grid (pixels zero), one file per slice: the header template of
 * the head series, with planted fake identities.
 */
function templateSeries(grid: Grid, dir: string): void {
  writeHeaderSeries(grid, dir, { ...T1_HEAD, studyUid: STUDY_UID, seriesUid: SERIES_UID, extra: [el(t.SpacingBetweenSlices, 'DS', decimals([grid.spacing[2]]))] });
}

function text(d: Dataset, tg: Tag): string | undefined {
  return asciiValue(d.get(tg));
}

/** The Code Values of De-identification Method Code Sequence. */
function methodCodes(d: Dataset): string[] {
  const seq = d.get(Tags.DeidentificationMethodCodeSequence);
  if (seq?.kind !== 'sequence') return [];
  return seq.items.map((item) => asciiValue(item.get(tag(0x0008, 0x0100))) ?? '');
}

/** How many values differ (a plain loop: deep equality of millions of values is slow). */
function differing(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('the DICOM round trip: a real head as an MR series, defaced as DICOM, read back', () => {
  let head: Volume;
  let input: DicomSeriesVolume;
  let inputDir: string;
  let expected: DefaceResult;

  beforeAll(async () => {
    head = rightHanded(await readNifti(HEAD));
    const template = path.join(work, 'template');
    templateSeries(head.grid, template);
    const templateVolume = await readDicomSeries(template);
    // The series' geometry, read back by the series reader, is the NIfTI's.
    expect(gridDifference(head.grid, templateVolume.grid)).toBeUndefined();
    inputDir = path.join(work, 'head-dicom');
    const values = Int16Array.from(head.data);
    await writeDicomSeries({ grid: templateVolume.grid, data: values }, templateVolume, inputDir, { derivationDescription: 'converted from NIfTI', uidSeed: 'test-conversion', uidKey: Buffer.alloc(32, 1) });
    input = await readDicomSeries(inputDir);
    // What the method does to this volume, computed here: the face mask and brain mask to check against.
    expected = await defaceVolume(input, {});
  });

  it('has the NIfTI head in it, voxel for voxel', () => {
    expect(gridDifference(head.grid, input.grid)).toBeUndefined();
    expect(differing(input.data, head.data)).toBe(0);
  });

  it('radanon deface writes a de-identified DICOM series with identical geometry, the face at background and the brain untouched', async () => {
    const output = path.join(work, 'head-defaced');
    const secret = path.join(work, 'deface-secret.key');
    writeFileSync(secret, 'conformance-deface-secret-0123456789\n');
    // DICOM leaves de-identified by the core engine, so a secret is needed before any work.
    const refused = radanon('deface', inputDir, path.join(work, 'never'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/a project secret is required: --secret-file/);
    expect(existsSync(path.join(work, 'never'))).toBe(false);

    const r = radanon('deface', inputDir, output, '--secret-file', secret, '--json');
    expect(r.stderr).toMatch(/radanon deface: registering/);
    expect(r.code, r.stderr).toBe(0);
    const { deid, ...report } = JSON.parse(r.stdout) as DefaceRunReport & { deid: { counts: { done: number; failed: number } } };
    expect(report.status).toBe('passed');
    expect(report.format).toBe('dicom');
    expect(report.written).toBe(true);
    expect(report.output).toBe(output);
    expect(report.metrics.brainVoxelsAltered).toBe(0);
    expect(report.metrics.faceRemovedFraction).toBeGreaterThanOrEqual(0.95);
    expect(JSON.parse(readFileSync(`${output}.deface.json`, 'utf8'))).toEqual(report);
    expect(deid.counts).toMatchObject({ done: filesOf(inputDir).length, failed: 0 });
    // The working folder of the method is gone; only the output, its report and its run folder remain.
    expect(readdirSync(work).filter((n) => n.startsWith('.radanon-deface-'))).toEqual([]);

    // One file per input file, in deid's layout; the series reads back on the same grid.
    const written = filesOf(output).map((f) => path.join(output, f));
    expect(written).toHaveLength(filesOf(inputDir).length);
    expect(filesOf(output).every((f) => f.split(path.sep).length === 4)).toBe(true);
    const back = await readDicomSeries(written);
    expect(back.grid).toEqual(input.grid);
    expect(back.data.constructor).toBe(input.data.constructor);

    // Face gone: every voxel of the face mask is at background; brain identical; nothing else changed.
    const face = expected.faceMask.data;
    const brain = expected.brainMask.data;
    let faceVoxels = 0;
    let faceNotBackground = 0;
    let brainVoxels = 0;
    let brainAltered = 0;
    let changedOutsideFace = 0;
    for (let n = 0; n < back.data.length; n++) {
      if (face[n]) {
        faceVoxels++;
        if (back.data[n] !== expected.background) faceNotBackground++;
      } else if (back.data[n] !== input.data[n]) {
        changedOutsideFace++;
      }
      if (brain[n]) {
        brainVoxels++;
        if (back.data[n] !== input.data[n]) brainAltered++;
      }
    }
    expect(faceVoxels).toBeGreaterThan(1000);
    expect(brainVoxels).toBeGreaterThan(100_000);
    expect({ faceNotBackground, brainAltered, changedOutsideFace }).toEqual({ faceNotBackground: 0, brainAltered: 0, changedOutsideFace: 0 });
    // The face region held head, not air: defacing changed it.
    let changed = 0;
    for (let n = 0; n < back.data.length; n++) if (back.data[n] !== input.data[n]) changed++;
    expect(changed).toBeGreaterThan(1000);

    // Each file is a derived image of a new series, with new instance UIDs, de-identified: no
    // original UID or name left, the defacing declared.
    const inputSops = new Set(filesOf(inputDir).map((f) => text(readDicom(readFileSync(path.join(inputDir, f))).dataset, t.SOPInstanceUID)));
    const seriesUids = new Set<string | undefined>();
    for (const f of written) {
      const d = readDicom(readFileSync(f)).dataset;
      expect(inputSops.has(text(d, t.SOPInstanceUID))).toBe(false);
      seriesUids.add(text(d, t.SeriesInstanceUID));
      expect(text(d, t.ImageType)?.split('\\')[0]).toBe('DERIVED');
      // The conversion's description is replaced by the defacing's.
      expect(text(d, t.DerivationDescription)).toMatch(/^defaced by radanon \S+: face voxels set to background$/);
      expect(text(d, t.StudyInstanceUID)).not.toBe(STUDY_UID);
      expect(text(d, t.PatientName) ?? '').not.toContain('Quux');
      expect(text(d, Tags.PatientIdentityRemoved)).toBe('YES');
      expect(methodCodes(d)).toEqual(expect.arrayContaining(['113100', '113102']));
    }
    expect(seriesUids.size).toBe(1);
    expect(seriesUids.has(text(readDicom(readFileSync(path.join(inputDir, filesOf(inputDir)[0]!))).dataset, t.SeriesInstanceUID))).toBe(false);
  }, RUN_TIMEOUT);

  it('radanon deid --deface releases the head series defaced and de-identified, and the rest as before', async () => {
    const batch = path.join(work, 'batch');
    mkdirSync(batch);
    // The head series, and a second copy of one slice as a series of another body part.
    for (const f of filesOf(inputDir)) {
      mkdirSync(path.dirname(path.join(batch, 'head', f)), { recursive: true });
      writeFileSync(path.join(batch, 'head', f), readFileSync(path.join(inputDir, f)));
    }
    const knee = readDicom(readFileSync(path.join(inputDir, filesOf(inputDir)[0]!)));
    const kneeDs = new Map(knee.dataset);
    kneeDs.set(t.BodyPartExamined, el(t.BodyPartExamined, 'CS', 'KNEE'));
    kneeDs.set(t.StudyDescription, el(t.StudyDescription, 'LO', 'MRI KNEE'));
    kneeDs.set(t.SeriesInstanceUID, el(t.SeriesInstanceUID, 'UI', `${SERIES_UID}.77`));
    kneeDs.set(t.SOPInstanceUID, el(t.SOPInstanceUID, 'UI', `${SERIES_UID}.77.1`));
    const kneeMeta = new Map(knee.meta).set(Tags.MediaStorageSOPInstanceUID, el(Tags.MediaStorageSOPInstanceUID, 'UI', `${SERIES_UID}.77.1`));
    writeFileSync(path.join(batch, 'knee.dcm'), encodeDicomToBuffer({ meta: kneeMeta, dataset: kneeDs }));
    const secret = path.join(work, 'secret.key');
    writeFileSync(secret, 'conformance-deface-secret-0123456789\n');
    const out = path.join(work, 'batch-out');
    const r = radanon('deid', batch, out, '--secret-file', secret, '--deface', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { counts: { done: number; failed: number }; notes: { file: string; note: string }[] };
    expect(report.counts).toMatchObject({ done: input.grid.dims[2] + 1, failed: 0 });
    expect(report.notes.some((n) => /^defaced with its series \(MR, Body Part Examined HEAD; \d+ files\)/.test(n.note))).toBe(true);

    const written = filesOf(out).filter((f) => f.endsWith('.dcm'));
    expect(written).toHaveLength(input.grid.dims[2] + 1);
    const headFiles: string[] = [];
    for (const f of written) {
      const d = readDicom(readFileSync(path.join(out, f))).dataset;
      expect(text(d, t.PatientName) ?? '').not.toContain('Quux');
      if (text(d, t.BodyPartExamined) === 'KNEE') {
        expect(text(d, Tags.DeidentificationMethod)).not.toContain('defaced');
        expect(methodCodes(d)).not.toContain('113102');
        expect(text(d, t.DerivationDescription)).toBe('converted from NIfTI');
        continue;
      }
      headFiles.push(path.join(out, f));
      expect(text(d, Tags.DeidentificationMethod)?.split('\\')).toContain('defaced');
      // Clean Recognizable Visual Features (PS3.15 E.3.2), declared in the code sequence too.
      expect(methodCodes(d)).toEqual(expect.arrayContaining(['113100', '113102']));
      expect(text(d, Tags.DeidentificationMethod)?.split('\\')).toContain('Clean Recognizable Visual Features Option');
      expect(text(d, t.ImageType)?.split('\\')[0]).toBe('DERIVED');
      // The radiomics preset cleans descriptions: the derivation, which names no one, stays.
      expect(text(d, t.DerivationDescription)).toMatch(/^defaced by radanon/);
    }
    // The released head series is the defaced volume.
    const released = await readDicomSeries(headFiles);
    expect(gridDifference(input.grid, released.grid)).toBeUndefined();
    expect(differing(released.data, expected.defaced.data)).toBe(0);
    expect(existsSync(path.join(`${out}.run`))).toBe(true);
    expect(readdirSync(`${out}.run`).filter((n) => n.startsWith('.deface-'))).toEqual([]);
  }, RUN_TIMEOUT);
});

describe('radanon deface on a NIfTI head', () => {
  it('writes the defaced NIfTI on the same grid and type, its report, and the previews with --preview', async () => {
    const output = path.join(work, 'nifti', 't1_crop_defaced.nii.gz');
    mkdirSync(path.dirname(output), { recursive: true });
    const previews = path.join(work, 'previews');
    const r = radanon('deface', OTHER_HEAD, output, '--preview', previews);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^deface: passed$/m);
    const report = JSON.parse(readFileSync(`${output}.deface.json`, 'utf8')) as DefaceRunReport;
    expect(report.status).toBe('passed');
    expect(report.faceCheck.passed).toBe(true);

    const original = await readNifti(OTHER_HEAD);
    const defaced = await readNifti(output);
    expect(gridDifference(original.grid, defaced.grid)).toBeUndefined();
    expect(defaced.data.constructor).toBe(original.data.constructor);
    let changed = 0;
    for (let n = 0; n < defaced.data.length; n++) if (defaced.data[n] !== original.data[n]) changed++;
    expect(changed).toBeGreaterThan(1000);

    // Every view has its before and after render, as PNG files a person can open.
    expect(report.faceCheck.views.length).toBeGreaterThanOrEqual(3);
    const pngs = readdirSync(previews).filter((n) => n.endsWith('.png'));
    expect(pngs.length).toBeGreaterThanOrEqual(2 * report.faceCheck.views.length);
    for (const v of report.faceCheck.views) {
      for (const file of [v.previews!.before, v.previews!.after]) {
        const image = decode(readFileSync(path.resolve(previews, file)));
        expect(image.width).toBeGreaterThan(64);
        expect(image.height).toBeGreaterThan(64);
      }
    }
  }, RUN_TIMEOUT);
});
