/**
 * IBSI chapter 1 conformance: every feature of the digital phantom and of the CT phantom under
 * configurations A–E against the consensus reference values. Writes docs/IBSI_CONFORMANCE.md,
 * the table of every reference value, ours, and whether they match.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { computeFeatures } from '../../src/radiomics/engine.js';
import { FAMILIES, FAMILY_NAMES } from '../../src/radiomics/families.js';
import { featureKey } from '../../src/radiomics/feature-table.js';
import { PRESETS } from '../../src/radiomics/settings.js';
import type { Feature, FamilyShort } from '../../src/radiomics/types.js';
import { loadImage, loadMask } from '../../src/volume/load.js';
import { repoRoot, sharedDataDir } from './helpers.js';
import { matchesReference, readReferenceValues, type ReferenceValue } from './ibsi-reference.js';

const ibsiDir = path.join(sharedDataDir, 'ibsi');

const DATA_SETS = [
  { data: 'dig. phantom', preset: 'ibsi-phantom', folder: 'digital_phantom' },
  { data: 'config. A', preset: 'ibsi-A', folder: 'ct_phantom/nifti' },
  { data: 'config. B', preset: 'ibsi-B', folder: 'ct_phantom/nifti' },
  { data: 'config. C', preset: 'ibsi-C', folder: 'ct_phantom/nifti' },
  { data: 'config. D', preset: 'ibsi-D', folder: 'ct_phantom/nifti' },
  { data: 'config. E', preset: 'ibsi-E', folder: 'ct_phantom/nifti' },
] as const;

interface Row {
  readonly reference: ReferenceValue;
  readonly ours: number | undefined;
  /** 'none' where the table gives no value to compare with (one row of configuration C). */
  readonly match: boolean | 'none';
}

const results = new Map<string, { rows: Row[]; extra: Feature[] }>();
let references: ReferenceValue[] = [];

beforeAll(() => {
  references = readReferenceValues(path.join(ibsiDir, 'ibsi1_reference_values.csv'));
});

describe.each(DATA_SETS)('$data', ({ data, preset, folder }) => {
  test(`every reference value is computed and matches (${preset})`, async () => {
    const image = await loadImage(path.join(ibsiDir, folder, 'phantom.nii.gz'));
    const mask = await loadMask(path.join(ibsiDir, folder, 'mask.nii.gz'), image.grid);
    const { features } = computeFeatures(image, mask, PRESETS[preset]);
    const ours = new Map(features.map((f) => [featureKey(f), f]));
    const expected = references.filter((r) => r.data === data);
    const rows = expected.map((reference) => {
      const f = ours.get(featureKey(reference));
      if (reference.value === '') return { reference, ours: f?.value, match: 'none' as const };
      return { reference, ours: f?.value, match: f !== undefined && matchesReference(f.value, reference) };
    });
    const referenced = new Set(expected.map((r) => featureKey(r)));
    results.set(data, { rows, extra: features.filter((f) => !referenced.has(featureKey(f))) });

    const missing = rows.filter((r) => r.ours === undefined).map((r) => featureKey(r.reference));
    expect(missing, 'reference values radanon does not compute').toEqual([]);
    const wrong = rows.filter((r) => r.ours !== undefined && r.match === false).map((r) => `${featureKey(r.reference)}: ${r.ours} vs ${r.reference.value} ± ${r.reference.tolerance}`);
    expect(wrong, 'values outside the reference tolerance').toEqual([]);
  });
});

describe('the conformance table', () => {
  test('docs/IBSI_CONFORMANCE.md lists every reference value', () => {
    expect(results.size, 'every data set ran').toBe(DATA_SETS.length);
    const file = path.join(repoRoot, 'docs', 'IBSI_CONFORMANCE.md');
    fs.writeFileSync(file, conformanceTable());
    const written = fs.readFileSync(file, 'utf8');
    const tableRows = written.split('\n').filter((l) => /^\| (✓|✗|–) /.test(l));
    expect(tableRows.length).toBe(references.length);
  });
});

function formatNumber(v: number | undefined): string {
  if (v === undefined) return '—';
  if (Number.isNaN(v)) return 'NaN';
  return Number(v.toPrecision(6)).toString();
}

function conformanceTable(): string {
  const out: string[] = [
    '# IBSI chapter 1 conformance',
    '',
    'Written by `npm run test:conformance` (test/conformance/ibsi.test.ts): every reference value of the',
    'IBSI digital phantom and of the IBSI CT phantom under configurations A–E',
    '(`ibsi1_reference_values.csv`), the value radanon computes with the matching preset',
    '(`radanon features --settings ibsi-phantom | ibsi-A … ibsi-E`), and whether it matches. Timings are',
    'in docs/BENCHMARKS.md (`npm run bench:radiomics`).',
    'A value matches when, rounded to the reference\'s significant digits (at least three), it lies',
    'within the reference tolerance. One row of the table (compactness 1, configuration C) has no',
    'reference value: it is marked – and counted apart.',
    '',
    '| data set | reference values | matched | without a value |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const { data } of DATA_SETS) {
    const r = results.get(data);
    if (!r) continue;
    const withoutValue = r.rows.filter((x) => x.match === 'none').length;
    out.push(`| ${data} | ${r.rows.length - withoutValue} | ${r.rows.filter((x) => x.match === true).length} | ${withoutValue} |`);
  }
  for (const { data } of DATA_SETS) {
    const r = results.get(data);
    if (!r) continue;
    out.push('', `## ${data}`, '', '| match | family | feature | code | aggregation | reference | tolerance | radanon |', '| --- | --- | --- | --- | --- | ---: | ---: | ---: |');
    const byFamily = (f: FamilyShort) => FAMILIES.indexOf(f);
    const rows = [...r.rows].sort((a, b) => byFamily(a.reference.family) - byFamily(b.reference.family));
    for (const x of rows) {
      const ref = x.reference;
      out.push(`| ${x.match === 'none' ? '–' : x.match ? '✓' : '✗'} | ${FAMILY_NAMES[ref.family]} | ${ref.name} | ${ref.code} | ${ref.aggregation} | ${ref.value} | ${ref.tolerance} | ${formatNumber(x.ours)} |`);
    }
    if (r.extra.length) {
      out.push('', `Computed without a reference value for this data set: ${r.extra.length} (${[...new Set(r.extra.map((f) => f.name))].slice(0, 12).join(', ')}${r.extra.length > 12 ? ', …' : ''}).`);
    }
  }
  return out.join('\n') + '\n';
}
