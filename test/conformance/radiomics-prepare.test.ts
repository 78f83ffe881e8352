/**
 * IBSI image processing on the IBSI CT phantom under configurations A–E, checked against the
 * reference values that depend only on image processing: statistics of the intensity mask
 * (interpolation, rounding, re-segmentation), the morphological mask's voxel-counting volume
 * (mask interpolation and the partial-volume threshold), and statistics of the grey levels
 * (discretisation). The features are computed here, directly from `prepareRoi` and `discretise`,
 * so a mismatch points at image processing and not at a feature family.
 */
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { discretise } from '../../src/radiomics/discretise.js';
import { prepareRoi } from '../../src/radiomics/prepare.js';
import { PRESETS, type PresetName } from '../../src/radiomics/settings.js';
import { readNifti } from '../../src/volume/nifti.js';
import type { Mask, Volume } from '../../src/volume/volume.js';
import { sharedDataDir } from './helpers.js';
import { matchesReference, readReferenceValues, type ReferenceValue } from './ibsi-reference.js';

const ibsiDir = path.join(sharedDataDir, 'ibsi');
const ctDir = path.join(ibsiDir, 'ct_phantom', 'nifti');

/**
 * Reads a NIfTI volume as IBSI asks for the CT phantom: converted to floating point and rounded
 * to whole numbers before any processing (IBSI chapter 5, "Lung cancer CT image").
 */
async function readNiftiRounded(file: string): Promise<Volume<Float64Array>> {
  const volume = await readNifti(file);
  const data = new Float64Array(volume.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(volume.data[i]!);
  return { grid: volume.grid, data };
}

/** The quantities of one configuration that image processing alone determines, named as in the reference table. */
function measure(image: Volume, mask: Mask, preset: PresetName): { quantities: Map<string, number>; ng: number } {
  const settings = PRESETS[preset];
  const roi = prepareRoi(image, mask, settings);
  const levels = discretise(roi, settings.discretisation, settings.resegmentation.range);
  const values: number[] = [];
  const grey: number[] = [];
  let morphVoxels = 0;
  for (let i = 0; i < roi.intensity.length; i++) {
    morphVoxels += roi.morphMask[i]!;
    if (roi.intensityMask[i]) {
      values.push(roi.intensity[i]!);
      grey.push(levels.levels[i]!);
    }
  }
  const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
  const variance = (x: number[]) => {
    const m = mean(x);
    return x.reduce((a, b) => a + (b - m) * (b - m), 0) / x.length;
  };
  const median = (x: number[]) => {
    const s = [...x].sort((a, b) => a - b);
    const h = s.length >> 1;
    return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
  };
  const min = (x: number[]) => x.reduce((a, b) => Math.min(a, b), Infinity);
  const max = (x: number[]) => x.reduce((a, b) => Math.max(a, b), -Infinity);
  const quantities = new Map([
    ['morph|Volume (voxel counting)', morphVoxels * roi.spacing[0] * roi.spacing[1] * roi.spacing[2]],
    ['stat|Mean intensity', mean(values)],
    ['stat|Minimum intensity', min(values)],
    ['stat|Maximum intensity', max(values)],
    ['stat|Intensity variance', variance(values)],
    ['stat|Median intensity', median(values)],
    ['stat|Intensity range', max(values) - min(values)],
    ['ih|Mean discretised intensity', mean(grey)],
    ['ih|Minimum discretised intensity', min(grey)],
    ['ih|Maximum discretised intensity', max(grey)],
    ['ih|Discretised intensity variance', variance(grey)],
    ['ih|Median discretised intensity', median(grey)],
    ['ih|Discretised intensity range', max(grey) - min(grey)],
  ]);
  return { quantities, ng: levels.ng };
}

const CONFIGS: readonly { readonly data: string; readonly preset: PresetName }[] = [
  { data: 'config. A', preset: 'ibsi-A' },
  { data: 'config. B', preset: 'ibsi-B' },
  { data: 'config. C', preset: 'ibsi-C' },
  { data: 'config. D', preset: 'ibsi-D' },
  { data: 'config. E', preset: 'ibsi-E' },
];

let image: Volume<Float64Array>;
let mask: Mask;
let references: ReferenceValue[];

beforeAll(async () => {
  image = await readNiftiRounded(path.join(ctDir, 'phantom.nii.gz'));
  const m = await readNiftiRounded(path.join(ctDir, 'mask.nii.gz'));
  mask = { grid: m.grid, data: Uint8Array.from(m.data, (v) => (v > 0 ? 1 : 0)) };
  references = readReferenceValues(path.join(ibsiDir, 'ibsi1_reference_values.csv'));
});

describe.each(CONFIGS)('IBSI CT phantom, $data', ({ data, preset }) => {
  test(`image processing under ${preset} matches the reference values it determines`, () => {
    const { quantities: ours, ng } = measure(image, mask, preset);
    const rows = [...ours].map(([key, value]) => {
      const [family, name] = key.split('|') as [string, string];
      const reference = references.find((r) => r.family === family && r.name === name && r.data === data);
      return { key, value, reference };
    });
    expect(rows.filter((r) => !r.reference).map((r) => r.key), 'quantities without a reference value').toEqual([]);
    const wrong = rows.filter((r) => !matchesReference(r.value, r.reference!)).map((r) => `${r.key}: ${r.value} vs ${r.reference!.value} ± ${r.reference!.tolerance}`);
    expect(wrong, 'values outside the reference tolerance').toEqual([]);
    // The number of grey levels: FBN's Ng, or FBS's highest level, is the highest discretised intensity here.
    const highest = references.find((r) => r.family === 'ih' && r.name === 'Maximum discretised intensity' && r.data === data)!;
    expect(ng).toBe(Number(highest.value));
  });
});
