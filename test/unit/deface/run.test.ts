import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { asciiValue } from '../../../src/dicom/dataset.js';
import { readDicom } from '../../../src/dicom/reader.js';
import { tag, Tags } from '../../../src/dicom/tag.js';
import { resolveOptions } from '../../../src/deid/plan.js';
import { EMPTY_RECIPE } from '../../../src/deid/recipe.js';
import { runDeid } from '../../../src/pipeline/run.js';
import { VolumeError, VolumeFormatError } from '../../../src/volume/errors.js';
import { DefaceError } from '../../../src/volume/deface/deface.js';
import type { FaceCheckReport } from '../../../src/volume/deface/face-check.js';
import { defaceReportPath, findHeadSeries, headImageReason, judge, runDeface } from '../../../src/volume/deface/run.js';
import { writeNifti } from '../../../src/volume/nifti.js';
import { VERSION } from '../../../src/version.js';
import { CLI } from '../support/dicom.js';
import { ctSlice, ds, encode, str, temporaryFolder } from '../volume/builders.js';

const root = temporaryFolder('radanon-deface-run-');
let count = 0;
function folder(name: string): string {
  const dir = path.join(root, `${count++}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const BodyPartExamined = tag(0x0018, 0x0015);
const StudyDescription = tag(0x0008, 0x1030);
const SeriesDescription = tag(0x0008, 0x103e);
const PatientName = tag(0x0010, 0x0010);

interface SeriesSpec {
  readonly uid: string;
  readonly modality: string;
  readonly slices: number;
  readonly size?: number;
  /** Extra attributes of slice k. */
  readonly extra?: (k: number) => ReturnType<typeof str>[];
  /** Stored value of voxel (i, j, k). */
  readonly value?: (i: number, j: number, k: number) => number;
}

/** Writes a small series of axial slices into `dir`, one file per slice. */
function writeSeries(dir: string, s: SeriesSpec): string[] {
  mkdirSync(dir, { recursive: true });
  const n = s.size ?? 8;
  return Array.from({ length: s.slices }, (_, k) => {
    const dataset = ctSlice({
      sopInstanceUid: `${s.uid}.${k + 1}`,
      seriesInstanceUid: s.uid,
      frameOfReferenceUid: `${s.uid}.0`,
      position: [-n / 2, -n / 2, 2 * k],
      pixelSpacing: [2, 2],
      rows: n,
      columns: n,
      stored: Array.from({ length: n * n }, (_, p) => s.value?.(p % n, Math.floor(p / n), k) ?? 100 + ((p + k) % 7)),
      signed: true,
      instanceNumber: k + 1,
    });
    dataset.set(Tags.Modality, str(Tags.Modality, 'CS', s.modality));
    dataset.set(PatientName, str(PatientName, 'PN', 'Doe^Jane'));
    for (const e of s.extra?.(k) ?? []) dataset.set(e.tag, e);
    const file = path.join(dir, `slice-${String(k).padStart(3, '0')}.dcm`);
    writeFileSync(file, encode(dataset));
    return file;
  });
}


describe('headImageReason', () => {
  const image = (...elements: ReturnType<typeof str>[]) => ds(...elements);
  it('takes MR and CT images whose Body Part Examined or description says head or brain', () => {
    expect(headImageReason(image(str(Tags.Modality, 'CS', 'MR'), str(BodyPartExamined, 'CS', 'HEAD')))).toBe('MR, Body Part Examined HEAD');
    expect(headImageReason(image(str(Tags.Modality, 'CS', 'CT'), str(BodyPartExamined, 'CS', 'brain')))).toBe('CT, Body Part Examined BRAIN');
    expect(headImageReason(image(str(Tags.Modality, 'CS', 'MR'), str(SeriesDescription, 'LO', 'T1 MPRAGE Brain sag')))).toBe('MR, Series Description says "brain"');
    expect(headImageReason(image(str(Tags.Modality, 'CS', 'CT'), str(StudyDescription, 'LO', 'CT HEAD W/O')))).toBe('CT, Study Description says "head"');
  });
  it('leaves other modalities, other body parts and words that only contain "head"', () => {
    expect(headImageReason(image(str(Tags.Modality, 'CS', 'PT'), str(BodyPartExamined, 'CS', 'HEAD')))).toBeUndefined();
    expect(headImageReason(image(str(Tags.Modality, 'CS', 'MR'), str(BodyPartExamined, 'CS', 'KNEE')))).toBeUndefined();
    // A stated body part wins over the descriptions; without one, the words decide.
    expect(headImageReason(image(str(Tags.Modality, 'CS', 'MR'), str(BodyPartExamined, 'CS', 'HIP'), str(SeriesDescription, 'LO', 'femoral head')))).toBeUndefined();
    expect(headImageReason(image(str(Tags.Modality, 'CS', 'MR'), str(SeriesDescription, 'LO', 'femoral head')))).toBe('MR, Series Description says "head"');
    expect(headImageReason(image(str(Tags.Modality, 'CS', 'CT'), str(SeriesDescription, 'LO', 'forehead lesion')))).toBeUndefined();
    expect(headImageReason(image(str(Tags.Modality, 'CS', 'MR')))).toBeUndefined();
  });
});

describe('findHeadSeries', () => {
  it('groups the head series with all their files, and passes over other series and non-DICOM files', async () => {
    const input = folder('batch');
    // The body part is stated on one slice only: the whole series goes.
    writeSeries(path.join(input, 'a', 'mr-head'), { uid: '1.2.3.1', modality: 'MR', slices: 3, extra: (k) => (k === 1 ? [str(BodyPartExamined, 'CS', 'HEAD')] : []) });
    writeSeries(path.join(input, 'a', 'mr-knee'), { uid: '1.2.3.2', modality: 'MR', slices: 2, extra: () => [str(BodyPartExamined, 'CS', 'KNEE')] });
    writeSeries(path.join(input, 'b'), { uid: '1.2.3.3', modality: 'CT', slices: 2, extra: () => [str(StudyDescription, 'LO', 'Brain CT')] });
    writeFileSync(path.join(input, 'a', 'notes.txt'), 'not DICOM');
    const heads = await findHeadSeries(input);
    expect(heads.map((h) => ({ uid: h.seriesInstanceUid, files: h.files, why: h.why }))).toEqual([
      { uid: '1.2.3.1', files: ['a/mr-head/slice-000.dcm', 'a/mr-head/slice-001.dcm', 'a/mr-head/slice-002.dcm'], why: 'MR, Body Part Examined HEAD' },
      { uid: '1.2.3.3', files: ['b/slice-000.dcm', 'b/slice-001.dcm'], why: 'CT, Study Description says "brain"' },
    ]);
    // An excluded folder is not searched.
    expect((await findHeadSeries(input, (p) => p.endsWith(`${path.sep}b`))).map((h) => h.seriesInstanceUid)).toEqual(['1.2.3.1']);
  });
});

describe('judge', () => {
  const metrics = { faceRegionVoxels: 1000, faceRemovedFraction: 0.97, brainDice: 1, brainVoxelsAltered: 0, registration: { similarity: 0.9, converged: true, ms: 1000 } };
  const view = (azimuth: number, before: boolean, after: boolean, distance: number | null) => ({
    azimuth,
    before: { detected: before, score: before ? 0.95 : 0.1 },
    after: { detected: after, score: after ? 0.8 : 0.05 },
    distance,
  });
  const report = (views: FaceCheckReport['views'], passed: boolean, reason: string): FaceCheckReport => ({
    views,
    passed,
    reason,
    skinThreshold: 100,
    minConfidence: 0.3,
    backend: 'cpu',
    timings: { modelLoadMs: 0, renderMs: 0, detectMs: 0 },
  });
  const passed = report([view(0, true, false, null), view(-30, true, false, null), view(30, false, false, null)], true, 'a face was detected before defacing and none after');

  it('passes a defacing whose every check passed', () => {
    expect(judge(metrics, passed)).toEqual([]);
  });
  it('fails too little face removed, any brain voxel altered, a Dice below 1 and a failed face check, each with its reason', () => {
    expect(judge({ ...metrics, faceRemovedFraction: 0.9 }, passed)).toEqual([expect.stringMatching(/only 90% of the face region's 1000 voxels were removed \(at least 95% required\)/)]);
    expect(judge({ ...metrics, brainVoxelsAltered: 3, brainDice: 0.9999 }, passed)).toEqual([
      '3 voxels of the brain were altered (none may be)',
      "the brain mask's Dice coefficient before vs after is 0.9999, not 1",
    ]);
    const recognised = report([view(0, true, true, 0.31), view(30, true, false, null)], false, 'after defacing a face is still detected at azimuth 0');
    expect(judge(metrics, recognised)).toEqual(['face check failed: after defacing a face is still detected at azimuth 0']);
    expect(judge({ ...metrics, faceRemovedFraction: 0.5, brainVoxelsAltered: 1, brainDice: 0.99 }, recognised)).toHaveLength(4);
  });
});

describe('runDeface refuses before any work', () => {
  const smallVolume = async (dir: string) => {
    const file = path.join(dir, 'image.nii.gz');
    await writeNifti(file, { grid: { dims: [4, 4, 4], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, data: new Int16Array(64).fill(7) });
    return file;
  };
  it('a NIfTI input with an output that is not a NIfTI file name, or already exists, or the input itself', async () => {
    const dir = folder('refuse');
    const input = await smallVolume(dir);
    await expect(runDeface(input, path.join(dir, 'out'))).rejects.toThrow(VolumeFormatError);
    writeFileSync(path.join(dir, 'exists.nii.gz'), 'x');
    await expect(runDeface(input, path.join(dir, 'exists.nii.gz'))).rejects.toThrow(/already exists: not overwritten/);
    await expect(runDeface(input, input)).rejects.toThrow(VolumeError);
    expect(readdirSync(dir).sort()).toEqual(['exists.nii.gz', 'image.nii.gz']);
  });
  it('a DICOM series into a NIfTI name or into a folder that holds files', async () => {
    const dir = folder('refuse-dicom');
    writeSeries(path.join(dir, 'series'), { uid: '1.2.3.9', modality: 'MR', slices: 3 });
    await expect(runDeface(path.join(dir, 'series'), path.join(dir, 'out.nii'))).rejects.toThrow(/the output is a folder, not a NIfTI file/);
    mkdirSync(path.join(dir, 'full'));
    writeFileSync(path.join(dir, 'full', 'x'), 'x');
    await expect(runDeface(path.join(dir, 'series'), path.join(dir, 'full'))).rejects.toThrow(/not an empty folder/);
    await expect(runDeface(path.join(dir, 'series'), path.join(dir, 'series', 'inside'))).rejects.toThrow(VolumeError);
  });
});

describe('an image that is not a head', () => {
  it('is refused with a DefaceError and nothing is written, not even a report', async () => {
    const dir = folder('not-a-head');
    const input = path.join(dir, 'cube.nii.gz');
    // A bright cube in a dark box: a 3-D image with orientation, but no head.
    const n = 24;
    const data = new Int16Array(n * n * n);
    for (let k = 6; k < 18; k++) for (let j = 6; j < 18; j++) for (let i = 6; i < 18; i++) data[i + n * (j + n * k)] = 800;
    await writeNifti(input, { grid: { dims: [n, n, n], spacing: [4, 4, 4], origin: [-46, -46, -46], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, data });
    const output = path.join(dir, 'defaced.nii.gz');
    await expect(runDeface(input, output)).rejects.toThrow(DefaceError);
    expect(existsSync(output)).toBe(false);
    expect(existsSync(defaceReportPath(output))).toBe(false);
    expect(readdirSync(dir)).toEqual(['cube.nii.gz']);
  });
});

describe('runDeid with deface', () => {
  it('reports a head series that cannot be defaced as failed and writes none of it; other files go through as before', async () => {
    const input = folder('deid-in');
    const output = path.join(root, `${count++}-deid-out`);
    // Says HEAD, but is a small cube: defacing must fail, so the series must not be released.
    writeSeries(path.join(input, 'head'), {
      uid: '1.2.3.20',
      modality: 'MR',
      slices: 12,
      size: 12,
      extra: () => [str(BodyPartExamined, 'CS', 'HEAD')],
      value: (i, j, k) => (i > 3 && i < 9 && j > 3 && j < 9 && k > 3 && k < 9 ? 900 : 0),
    });
    writeSeries(path.join(input, 'knee'), { uid: '1.2.3.21', modality: 'MR', slices: 2, extra: () => [str(BodyPartExamined, 'CS', 'KNEE')] });
    const report = await runDeid({
      inputDir: input,
      outputDir: output,
      dryRun: false,
      workers: 0,
      plan: {
        options: resolveOptions('radiomics', {}),
        allowList: true,
        birthDate: 'remove',
        recipe: EMPTY_RECIPE,
        methodName: `radanon ${VERSION}`,
        implementation: { classUid: '2.25.1', versionName: 'TEST' },
      },
      pseudonyms: { researchIdPrefix: 'RAD-', dateShiftDays: [-30, -1] },
      secret: Buffer.from('unit-test-secret-for-deface-runs'),
      deface: {},
    });
    expect(report.counts.failed).toBe(12);
    expect(report.counts.done).toBe(2);
    expect(report.failures.map((f) => f.file).sort()).toEqual(Array.from({ length: 12 }, (_, k) => `head/slice-${String(k).padStart(3, '0')}.dcm`));
    for (const f of report.failures) expect(f.reason).toMatch(/^defacing failed \(MR, Body Part Examined HEAD; 12 files, none written\): /);
    // Only the knee's two files were written, and they are de-identified as usual (no defacing mark).
    const written = readdirSync(output, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(written).toHaveLength(2);
    for (const e of written) {
      const d = readDicom(readFileSync(path.join(e.parentPath, e.name))).dataset;
      expect(asciiValue(d.get(BodyPartExamined))).toBe('KNEE');
      expect(asciiValue(d.get(Tags.DeidentificationMethod))).not.toContain('defaced');
      expect(asciiValue(d.get(PatientName))).not.toContain('Doe');
    }
    // The working folder of the defacing is gone from the run folder.
    expect(readdirSync(`${output}.run`).filter((n) => n.startsWith('.deface-'))).toEqual([]);
  });
});

describe('the command line (dist/, built by the global setup)', () => {
  const radanon = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });

  it('radanon deface exits 2 for an image that is not a head, saying why, and writes nothing', async () => {
    const dir = folder('cli-not-a-head');
    const n = 24;
    const data = new Int16Array(n * n * n);
    for (let k = 6; k < 18; k++) for (let j = 6; j < 18; j++) for (let i = 6; i < 18; i++) data[i + n * (j + n * k)] = 800;
    await writeNifti(path.join(dir, 'cube.nii.gz'), { grid: { dims: [n, n, n], spacing: [4, 4, 4], origin: [-46, -46, -46], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, data });
    const r = radanon('deface', path.join(dir, 'cube.nii.gz'), path.join(dir, 'out.nii.gz'), '--preview', path.join(dir, 'previews'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/radanon deface: registering/);
    expect(r.stderr).toMatch(/^radanon: .*cube\.nii\.gz: .*(head|registration)/m);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir)).toEqual(['cube.nii.gz']);
  });

  it('radanon deface and radanon deid refuse unknown templates and defacing options without --deface (exit 2)', () => {
    const dir = folder('cli-usage');
    const bad = radanon('deface', path.join(dir, 'in.nii.gz'), path.join(dir, 'out.nii.gz'), '--template', 'colin27');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--template must be avg152-2mm or mni152-1mm, got "colin27"/);
    const deid = radanon('deid', dir, path.join(dir, '..', 'deid-out'), '--ephemeral-secret', '--deface-ears');
    expect(deid.status).toBe(2);
    expect(deid.stderr).toMatch(/--deface-ears, --deface-template and --deface-template-dir need --deface/);
    const template = radanon('deid', dir, path.join(dir, '..', 'deid-out'), '--ephemeral-secret', '--deface', '--deface-template', 'colin27');
    expect(template.status).toBe(2);
    expect(template.stderr).toMatch(/--deface-template must be avg152-2mm or mni152-1mm/);
    expect(existsSync(path.join(dir, '..', 'deid-out'))).toBe(false);
  });
});
