import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { riskCommand } from '../../../src/cli/commands/risk.js';
import { RiskInputError } from '../../../src/privacy/table.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-cli-risk-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Eight patients, ';'-separated as ARX writes them; every (age, sex) pair twice.
const csv = path.join(tmp, 'patients.csv');
fs.writeFileSync(
  csv,
  'id;age;sex;diagnosis\np1;20;M;flu\np2;25;M;cold\np3;30;F;flu\np4;35;F;cold\np5;30;F;flu\np6;20;M;flu\np7;25;M;cold\np8;35;F;asthma\n',
);
const hierarchyDir = path.join(tmp, 'hierarchies');
fs.mkdirSync(hierarchyDir);
fs.writeFileSync(path.join(hierarchyDir, 'patients_hierarchy_age.csv'), '20;20-29;*\n25;20-29;*\n30;30-39;*\n35;30-39;*\n');
fs.writeFileSync(path.join(hierarchyDir, 'patients_hierarchy_sex.csv'), 'M;*\nF;*\n');

/** Runs `radanon risk …` through commander and returns what it printed. */
async function run(args: string[]): Promise<string> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await riskCommand().exitOverride().configureOutput({ writeErr: () => undefined }).parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe('radanon risk', () => {
  it('reports the risk of the table as it is when no model is given', async () => {
    const json = JSON.parse(await run([csv, '--qi', 'age,sex', '--format', 'json']));
    expect(json.records).toBe(8);
    expect(json.quasiIdentifiers).toEqual(['age', 'sex']);
    // Four classes of two: prosecutor risk ½ for everyone.
    expect(json.before.classes).toBe(4);
    expect(json.before.prosecutor).toEqual({ highest: 0.5, average: 0.5 });
    expect(json.transformation).toBeUndefined();
    const text = await run([csv, '--qi', 'age,sex']);
    expect(text).toContain('8 records; quasi-identifiers age, sex');
    expect(text).toMatch(/prosecutor risk, highest\s+50\.00 %/);
  });

  it('finds the optimal generalization, prints JSON and writes the anonymized table with the input separator', async () => {
    const out = path.join(tmp, 'released.csv');
    const json = JSON.parse(await run([csv, '--qi', 'age,sex', '--hierarchies', hierarchyDir, '--k', '3', '--metric', 'precision', '--out', out, '--format', 'json']));
    expect(json.transformation).toEqual({ age: 1, sex: 0 });
    expect(json.utility).toBe(0.25); // (1/2 + 0) / 2
    expect(json.metric).toBe('precision');
    expect(json.suppressed).toBe(0);
    expect(json.classes).toBe(2);
    expect(json.minClassSize).toBe(4);
    expect(json.before.prosecutor.highest).toBe(0.5);
    expect(json.after.prosecutor.highest).toBe(0.25);
    expect(json.search.nodes).toBe(6);
    expect(json.outputs.table).toBe(out);
    const released = fs.readFileSync(out, 'utf8').split('\r\n');
    expect(released[0]).toBe('id;age;sex;diagnosis');
    expect(released[1]).toBe('p1;20-29;M;flu');
  });

  it('builds hierarchies from --build, reads suppression as a percentage and prints a text summary', async () => {
    const text = await run([csv, '--qi', 'age,sex', '--hierarchies', hierarchyDir, '--build', 'age=intervals:10', '--k', '2', '--suppression', '25%', '--metric', 'height']);
    expect(text).toContain('models: 2-anonymity; at most 25.00 % of the records suppressed');
    expect(text).toContain('transformation (level/highest): age 0/2, sex 0/1');
    expect(text).toContain('height (lower is better): 0');
  });

  it('writes the chart and the recipe', async () => {
    const chart = path.join(tmp, 'risk.svg');
    const recipe = path.join(tmp, 'generalization.yaml');
    await run([csv, '--qi', 'age,sex', '--build', 'age=intervals:10', '--build', 'sex=mask:1', '--k', '3', '--chart', chart, '--recipe-out', recipe]);
    expect(fs.readFileSync(chart, 'utf8')).toMatch(/<svg[\s>]/);
    const yaml = fs.readFileSync(recipe, 'utf8');
    expect(yaml).toContain('PatientAge');
  });

  it('reads the table from the headers of a DICOM folder', async () => {
    const fixtures = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/dicom');
    const json = JSON.parse(await run(['--from-dicom', fixtures, '--fields', 'sex,modality', '--format', 'json']));
    expect(json.quasiIdentifiers).toEqual(['sex', 'modality']);
    expect(json.records).toBeGreaterThan(0);
    expect(json.before.records).toBe(json.records);
    await expect(run([csv, '--qi', 'age', '--fields', 'sex'])).rejects.toThrow(/--fields applies to --from-dicom only/);
  });

  it('refuses bad options and bad input with RiskInputError', async () => {
    await expect(run([csv, '--qi', 'age,sex', '--k', '2', '--metric', 'speed'])).rejects.toThrow(RiskInputError);
    await expect(run([csv, '--qi', 'age,sex', '--k', '2', '--metric', 'speed'])).rejects.toThrow(/--metric must be one of loss, discernibility, entropy, precision, aecs, height/);
    await expect(run([csv, '--qi', 'age,sex', '--l', '2'])).rejects.toThrow(/--l and --t need --sensitive/);
    await expect(run(['--qi', 'age'])).rejects.toThrow(/either a table \(CSV\) or --from-dicom/);
    await expect(run([csv, '--qi', 'age,sex', '--k', '2'])).rejects.toThrow(/no hierarchy for age, sex: give --hierarchies/);
    await expect(run([csv, '--qi', 'age,sex', '--suppression', '3'])).rejects.toThrow(/share between 0 and 1/);
    await expect(run([csv, '--qi', 'age,sex', '--hierarchies', hierarchyDir, '--k', '20'])).rejects.toThrow(RiskInputError);
    await expect(run([csv, '--qi', 'age,zip', '--hierarchies', hierarchyDir, '--k', '2'])).rejects.toThrow(/no hierarchy file for zip/);
  });
});
