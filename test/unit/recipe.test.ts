import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { asciiValue, type DicomFile, type Element } from '../../src/dicom/dataset.js';
import { readDicom } from '../../src/dicom/reader.js';
import { Tags, tag, type Tag } from '../../src/dicom/tag.js';
import { encodeDicomToBuffer } from '../../src/dicom/writer.js';
import { deidentify } from '../../src/deid/engine.js';
import { parseRecipe, RecipeError, type Recipe } from '../../src/deid/recipe.js';
import { engineFor } from './support/engine.js';
import { daysBetween } from './support/dates.js';
import { CLI, fixturePath, listFiles, readFixture, sequence, text, textElement } from './support/dicom.js';

function recipeError(source: string): RecipeError {
  try {
    parseRecipe(source, 'site.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(RecipeError);
    return e as RecipeError;
  }
  throw new Error('recipe accepted');
}

/** A valid preamble of two rules (lines 1-6), so that errors are never on line 1 by accident. */
const HEAD = `version: 1
description: test recipe
rules:
  - keyword: StudyDescription
    action: keep
  - tag: "(0008,1030)"
`;
const lines = (...rest: string[]) => HEAD + '    action: remove\n' + rest.join('\n') + '\n';
// HEAD + the action line is 7 lines: the first line of `rest` is line 8.

describe('valid recipes', () => {
  it('YAML: every target form, every action, conditions, comments', () => {
    const r = parseRecipe(
      `# site overrides
version: 1
description: "radiomics site A"
rules:
  - keyword: StudyDescription   # verbatim
    action: keep
  - tag: "(0010,1010)"
    action: replace
    value: "050Y"
    when: { modality: [CT, MR] }
  - tag: "00081090"
    action: remove
  - private: { group: "0019", creator: "GEMS_ACQU_01", element: "1E" }
    action: keep
  - private: { group: "0043", creator: "GEMS_PARM_01" }
    action: remove
  - keyword: AccessionNumber
    action: pseudonymize
    comment: "linkable within the project"
  - keyword: ContentDate
    action: shift
    when: { sopClass: "1.2.840.10008.5.1.4.1.1.4" }
  - keyword: InstitutionName
    action: empty
`,
      'site.yaml',
    );
    expect(r.rules).toHaveLength(8);
    expect(r.rules[0]).toMatchObject({ target: { kind: 'tag', tag: tag(0x0008, 0x1030) }, action: 'keep', source: 'site.yaml:5' });
    expect(r.rules[1]).toMatchObject({ target: { kind: 'tag', tag: tag(0x0010, 0x1010) }, action: 'replace', value: '050Y', when: { modality: ['CT', 'MR'] }, source: 'site.yaml:7' });
    expect(r.rules[2]!.target).toEqual({ kind: 'tag', tag: tag(0x0008, 0x1090) });
    expect(r.rules[3]!.target).toEqual({ kind: 'private', group: 0x0019, creator: 'GEMS_ACQU_01', elementByte: 0x1e });
    expect(r.rules[4]!.target).toMatchObject({ kind: 'private', group: 0x0043, creator: 'GEMS_PARM_01' });
    expect((r.rules[4]!.target as { elementByte?: number }).elementByte).toBeUndefined();
    expect(r.rules[5]).toMatchObject({ action: 'pseudonymize', source: 'site.yaml:17' });
    expect(r.rules[6]!.when).toMatchObject({ sopClass: ['1.2.840.10008.5.1.4.1.1.4'] });
    expect(r.rules.map((x) => x.action)).toEqual(['keep', 'replace', 'remove', 'keep', 'remove', 'pseudonymize', 'shift', 'empty']);
  });

  it('JSON, with line numbers in the rule sources', () => {
    const r = parseRecipe(
      `{
  "version": 1,
  "rules": [
    { "keyword": "StudyDescription", "action": "keep" },
    { "tag": "(0010,1010)", "action": "replace", "value": "050Y" },
    { "private": { "group": "0019", "creator": "GEMS_ACQU_01", "element": "1e" }, "action": "keep" }
  ]
}`,
      'site.json',
    );
    expect(r.rules.map((x) => x.source)).toEqual(['site.json:4', 'site.json:5', 'site.json:6']);
    expect(r.rules[2]!.target).toEqual({ kind: 'private', group: 0x0019, creator: 'GEMS_ACQU_01', elementByte: 0x1e });
  });

  it('an empty rules list is valid', () => {
    expect(parseRecipe('rules: []\n', 'x.yaml').rules).toEqual([]);
  });
});

describe('recipe errors: RecipeError with the line and a specific reason', () => {
  const cases: { name: string; source: string; line: number; reason: RegExp }[] = [
    { name: 'unknown keyword', source: lines('  - keyword: PatientNmae', '    action: remove'), line: 8, reason: /unknown DICOM keyword "PatientNmae"/ },
    { name: 'bad tag', source: lines('  - keyword: PatientAge', '    action: remove', '  - tag: "(0010,00ZZ)"', '    action: remove'), line: 10, reason: /not a DICOM tag: "\(0010,00ZZ\)"/ },
    { name: 'private tag by tag number', source: lines('  - tag: "(0019,101E)"', '    action: keep'), line: 8, reason: /private elements are addressed by private: \{group, creator, element\}/ },
    { name: 'missing action', source: lines('  - keyword: PatientAge', '    when: { modality: CT }'), line: 8, reason: /action must be one of keep, remove, empty, replace, pseudonymize, shift, generalize, got undefined/ },
    { name: 'bad action', source: lines('  - keyword: PatientAge', '    action: obliterate'), line: 9, reason: /action must be one of .* got "obliterate"/ },
    { name: 'replace without value', source: lines('  - keyword: PatientAge', '    action: replace'), line: 8, reason: /action "replace" needs a string "value"/ },
    { name: 'replace with a non-string value', source: lines('  - keyword: PatientAge', '    action: replace', '    value: 50'), line: 8, reason: /needs a string "value"/ },
    { name: 'value with a non-replace action', source: lines('  - keyword: PatientAge', '    action: remove', '    value: "050Y"'), line: 10, reason: /"value" is only used by action "replace", not "remove"/ },
    { name: 'unknown key in a rule', source: lines('  - keyword: PatientAge', '    action: remove', '    colour: red'), line: 10, reason: /unknown key "colour" in rule/ },
    { name: 'unknown top-level key', source: HEAD + '    action: remove\nrulez: []\n', line: 8, reason: /unknown top-level key "rulez"/ },
    { name: 'two targets in one rule', source: lines('  - keyword: PatientAge', '    tag: "(0010,1010)"', '    action: remove'), line: 8, reason: /exactly one of keyword, tag or private/ },
    { name: 'no target', source: lines('  - action: remove'), line: 8, reason: /exactly one of keyword, tag or private/ },
    { name: 'bad when: unknown condition', source: lines('  - keyword: PatientAge', '    action: remove', '    when: { site: A }'), line: 10, reason: /unknown condition "site" \(expected modality, sopClass\)/ },
    { name: 'bad when: not a mapping', source: lines('  - keyword: PatientAge', '    action: remove', '    when: [CT]'), line: 10, reason: /when must be a mapping with modality and\/or sopClass/ },
    { name: 'bad when: modality not a string', source: lines('  - keyword: PatientAge', '    action: remove', '    when:', '      modality: [CT, 12]'), line: 11, reason: /modality must be a string or a list of strings/ },
    { name: 'private: even group', source: lines('  - private: { group: "0018", creator: "X", element: "10" }', '    action: keep'), line: 8, reason: /private group must be an odd group/ },
    { name: 'private: bad element byte', source: lines('  - private: { group: "0019", creator: "X", element: "1E0" }', '    action: keep'), line: 8, reason: /private element must be the low byte in hex/ },
    { name: 'private: empty creator', source: lines('  - private: { group: "0019", creator: " ", element: "1E" }', '    action: keep'), line: 8, reason: /private creator must be a non-empty string/ },
    { name: 'rules is not a list', source: 'version: 1\nrules:\n  keyword: PatientAge\n', line: 3, reason: /"rules" must be a list/ },
    { name: 'a rule that is not a mapping', source: lines('  - PatientAge'), line: 8, reason: /each rule is a mapping/ },
  ];
  for (const c of cases) {
    it(`${c.name} → line ${c.line}`, () => {
      const e = recipeError(c.source);
      expect(e.reason).toMatch(c.reason);
      expect(e.line).toBe(c.line);
      expect(e.file).toBe('site.yaml');
      expect(e.message).toBe(`site.yaml:${c.line}: ${e.reason}`);
    });
  }

  // YAML syntax errors must point at the offending line too, not at line 1.
  const syntax: { name: string; source: string; line: number }[] = [
    { name: 'nested mapping in a compact mapping', source: lines('  - keyword: PatientAge', '    action: keep: now'), line: 9 },
    { name: 'duplicate key', source: lines('  - keyword: PatientAge', '    action: keep', '    action: remove'), line: 10 },
    { name: 'tab indentation', source: lines('  - keyword: PatientAge', '\taction: keep'), line: 9 },
    { name: 'JSON missing comma', source: '{\n  "rules": [\n    {"keyword": "StudyDescription", "action": "keep"},\n    {"keyword": "PatientAge" "action": "keep"}\n  ]\n}\n', line: 4 },
  ];
  for (const c of syntax) {
    it(`YAML syntax error (${c.name}) → line ${c.line}`, () => {
      const e = recipeError(c.source);
      expect(e.reason).toMatch(/^not valid YAML or JSON: /);
      expect(e.line).toBe(c.line);
    });
  }

  it('JSON recipes report semantic errors on their line', () => {
    const e = recipeError('{\n  "rules": [\n    {"keyword": "StudyDescription", "action": "keep"},\n    {"keyword": "PatientAge", "action": "explode"}\n  ]\n}\n');
    expect(e.line).toBe(4);
    expect(e.reason).toContain('"explode"');
  });
});

// ---------------------------------------------------------------------------------------
// The engine applies the rules

const SECRET = Buffer.from('recipe-test-secret-abcdefghijklmnop');
const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

async function deid(file: DicomFile, recipe: Recipe, preset: 'radiomics' | 'basic' = 'radiomics') {
  const m = await engineFor({ preset }, SECRET, recipe);
  const result = deidentify(file, m.plan, m.pseudonymizer);
  // Through the writer and reader, as the pipeline would write it.
  const parsed = readDicom(encodeDicomToBuffer({ meta: result.meta, dataset: result.dataset, transferSyntax: file.transferSyntax }));
  return { result, ds: parsed.dataset, m };
}

const K = {
  StudyDescription: Tags.StudyDescription,
  SeriesDescription: tag(0x0008, 0x103e),
  Manufacturer: tag(0x0008, 0x0070),
  InstitutionName: tag(0x0008, 0x0080),
  ImageComments: tag(0x0020, 0x4000),
  PatientAge: tag(0x0010, 0x1010),
  ProtocolName: tag(0x0018, 0x1030),
  BodyPartExamined: tag(0x0018, 0x0015),
  StudyID: Tags.StudyID,
  AcquisitionNumber: tag(0x0020, 0x0012),
  ReferencedImageSequence: tag(0x0008, 0x1140),
  ReferencedSOPInstanceUID: tag(0x0008, 0x1155),
} as const;

/** MR_small with descriptors holding a name, and two private blocks of unknown creators. */
function mrWithExtras(): DicomFile {
  const f = readFixture('MR_small.dcm');
  const ds = new Map(f.dataset);
  const set = (t: Tag, vr: Parameters<typeof textElement>[1], v: string) => ds.set(t, textElement(t, vr, v));
  set(K.StudyDescription, 'LO', 'Brain Zyxwvut follow-up');
  set(K.SeriesDescription, 'LO', 'T2 Zyxwvut axial');
  set(K.ImageComments, 'LT', 'Called Zyxwvut');
  set(K.PatientAge, 'AS', '045Y');
  set(K.ProtocolName, 'LO', 'BRAIN ROUTINE');
  set(K.BodyPartExamined, 'CS', 'HEAD');
  set(Tags.PatientName, 'PN', 'Zyxwvut^Qwerty');
  set(tag(0x0041, 0x0010), 'LO', 'ACME FAKE PRIVATE 01');
  set(tag(0x0041, 0x1001), 'LO', 'KEEP ME');
  set(tag(0x0041, 0x1002), 'LO', 'DROP ME');
  set(tag(0x0043, 0x0010), 'LO', 'ACME BLOCK');
  set(tag(0x0043, 0x1001), 'LO', 'BLOCK ONE');
  set(tag(0x0043, 0x1005), 'DS', '2.5');
  const item = new Map<Tag, Element>([[K.ReferencedSOPInstanceUID, textElement(K.ReferencedSOPInstanceUID, 'UI', '1.2.826.0.1.999.3')]]);
  ds.set(K.ReferencedImageSequence, sequence(K.ReferencedImageSequence, [item]));
  return { ...f, dataset: ds };
}

describe('the engine applies recipe rules', () => {
  it('keep / remove / empty / replace / pseudonymize, over the profile', async () => {
    const file = mrWithExtras();
    const recipe = parseRecipe(
      `rules:
  - keyword: StudyDescription
    action: keep
  - keyword: Manufacturer
    action: remove
  - keyword: ImageComments
    action: empty
  - keyword: PatientAge
    action: replace
    value: "050Y"
  - keyword: StudyID
    action: pseudonymize
  - keyword: ProtocolName
    action: replace
    value: "SITE PROTOCOL"
`,
      'r.yaml',
    );
    const { ds, result, m } = await deid(file, recipe);
    // keep: verbatim, although the radiomics preset would clean the name out of it
    expect(text(ds.get(K.StudyDescription))).toBe('Brain Zyxwvut follow-up');
    // without a rule, the same name is cleaned from the series description
    expect(text(ds.get(K.SeriesDescription))).toBe('T2 axial');
    expect(ds.has(K.Manufacturer)).toBe(false);
    expect(ds.get(K.ImageComments)?.kind).toBe('value');
    expect(text(ds.get(K.ImageComments))).toBe('');
    expect(text(ds.get(K.PatientAge))).toBe('050Y');
    expect(text(ds.get(K.ProtocolName))).toBe('SITE PROTOCOL');
    const studyId = text(ds.get(K.StudyID));
    expect(studyId).toBe(m.pseudonymizer.token('(0020,0010)', '4MR1', 16));
    expect(studyId).toMatch(/^[0-9A-F]{16}$/);
    // every recipe action is reported with its source line
    const byPath = new Map(result.actions.map((a) => [a.path, a]));
    expect(byPath.get('(0008,1030)')).toMatchObject({ action: 'kept', rule: 'recipe:r.yaml:2' });
    expect(byPath.get('(0008,0070)')).toMatchObject({ action: 'removed', rule: 'recipe:r.yaml:4' });
    expect(byPath.get('(0020,4000)')).toMatchObject({ action: 'emptied', rule: 'recipe:r.yaml:6' });
    expect(byPath.get('(0010,1010)')).toMatchObject({ action: 'replaced', rule: 'recipe:r.yaml:8' });
    expect(byPath.get('(0020,0010)')).toMatchObject({ action: 'pseudonymized', rule: 'recipe:r.yaml:11' });
  });

  it('shift: a date the basic profile would empty is shifted by the patient offset; shift on a non-date removes it', async () => {
    const file = mrWithExtras();
    const recipe = parseRecipe('rules:\n  - keyword: StudyDate\n    action: shift\n  - keyword: AcquisitionNumber\n    action: shift\n', 'r.yaml');
    const { ds, m } = await deid(file, recipe, 'basic');
    const before = asciiValue(file.dataset.get(Tags.StudyDate))!;
    const after = asciiValue(ds.get(Tags.StudyDate))!;
    expect(after).toMatch(/^\d{8}$/);
    expect(daysBetween(before, after)).toBe(m.pseudonymizer.dateOffsetDays('4MR1'));
    expect(ds.has(K.AcquisitionNumber)).toBe(false);
    // Without the rule, the basic profile empties the study date.
    const plain = await deid(file, { rules: [] }, 'basic');
    expect(asciiValue(plain.ds.get(Tags.StudyDate))).toBe('');
  });

  it('private rules: one element of a creator block, and a whole block', async () => {
    const file = mrWithExtras();
    const recipe = parseRecipe(
      `rules:
  - private: { group: "0041", creator: "acme fake private 01", element: "01" }
    action: keep
  - private: { group: "0043", creator: "ACME BLOCK" }
    action: keep
`,
      'r.yaml',
    );
    const { ds } = await deid(file, recipe);
    expect(text(ds.get(tag(0x0041, 0x1001)))).toBe('KEEP ME');
    expect(ds.has(tag(0x0041, 0x1002))).toBe(false);
    expect(text(ds.get(tag(0x0041, 0x0010)))).toBe('ACME FAKE PRIVATE 01'); // its block survives, so its creator does
    expect(text(ds.get(tag(0x0043, 0x1001)))).toBe('BLOCK ONE');
    expect(text(ds.get(tag(0x0043, 0x1005)))).toBe('2.5');
    expect(text(ds.get(tag(0x0043, 0x0010)))).toBe('ACME BLOCK');
    // Without the rules the unknown blocks go entirely, creators included.
    const plain = await deid(file, { rules: [] });
    for (const t of [0x00410010, 0x00411001, 0x00411002, 0x00430010, 0x00431001]) expect(plain.ds.has(t as Tag)).toBe(false);
  });

  it('a private rule matches the creator wherever the block sits (block byte other than 10)', async () => {
    const file = mrWithExtras();
    const ds = new Map(file.dataset);
    ds.set(tag(0x0045, 0x0022), textElement(tag(0x0045, 0x0022), 'LO', 'ACME BLOCK'));
    ds.set(tag(0x0045, 0x2201), textElement(tag(0x0045, 0x2201), 'LO', 'MOVED BLOCK'));
    const recipe = parseRecipe('rules:\n  - private: { group: "0045", creator: "ACME BLOCK", element: "01" }\n    action: keep\n', 'r.yaml');
    const out = await deid({ ...file, dataset: ds }, recipe);
    expect(text(out.ds.get(tag(0x0045, 0x2201)))).toBe('MOVED BLOCK');
  });

  it('when: modality and sopClass conditions', async () => {
    const file = mrWithExtras();
    const recipe = parseRecipe(
      `rules:
  - keyword: ProtocolName
    action: replace
    value: "CT ONLY"
    when: { modality: CT }
  - keyword: BodyPartExamined
    action: replace
    value: "MR RULE"
    when: { modality: [PT, MR] }
  - keyword: PatientAge
    action: replace
    value: "001Y"
    when: { sopClass: "${CT_IMAGE_STORAGE}" }
  - keyword: SeriesDescription
    action: keep
    when: { sopClass: ["${MR_IMAGE_STORAGE}"], modality: MR }
`,
      'r.yaml',
    );
    const { ds } = await deid(file, recipe);
    expect(text(ds.get(K.ProtocolName))).toBe('BRAIN ROUTINE'); // CT rule not applied; the profile keeps it under radiomics
    expect(text(ds.get(K.BodyPartExamined))).toBe('MR RULE');
    expect(text(ds.get(K.PatientAge))).toBe('045Y'); // CT-only rule not applied; kept by Retain Patient Characteristics
    expect(text(ds.get(K.SeriesDescription))).toBe('T2 Zyxwvut axial');
  });

  it('the last matching rule wins', async () => {
    const file = mrWithExtras();
    const recipe = parseRecipe(
      `rules:
  - keyword: Manufacturer
    action: remove
  - keyword: Manufacturer
    action: replace
    value: "ACME"
    when: { modality: MR }
  - keyword: InstitutionName
    action: keep
  - keyword: InstitutionName
    action: empty
`,
      'r.yaml',
    );
    const { ds } = await deid(file, recipe);
    expect(text(ds.get(K.Manufacturer))).toBe('ACME');
    expect(text(ds.get(K.InstitutionName))).toBe('');
  });

  it('keep on a sequence still applies the rules inside its items', async () => {
    const file = mrWithExtras();
    const recipe = parseRecipe('rules:\n  - keyword: ReferencedImageSequence\n    action: keep\n', 'r.yaml');
    const { ds } = await deid(file, recipe);
    const seq = ds.get(K.ReferencedImageSequence);
    expect(seq?.kind).toBe('sequence');
    const uid = seq?.kind === 'sequence' ? asciiValue(seq.items[0]!.get(K.ReferencedSOPInstanceUID)) : undefined;
    expect(uid).toMatch(/^2\.25\./);
  });
});

// ---------------------------------------------------------------------------------------
// The command line refuses a wrong recipe before writing anything

describe('radanon deid with a wrong recipe', () => {
  const work = mkdtempSync(join(tmpdir(), 'radanon-recipe-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('exits 2, names file and line, and writes no output file', () => {
    const input = join(work, 'in');
    mkdirSync(input);
    copyFileSync(fixturePath('MR_small.dcm'), join(input, 'a.dcm'));
    copyFileSync(fixturePath('CT_small.dcm'), join(input, 'b.dcm'));
    const key = join(work, 'project.key');
    writeFileSync(key, 'recipe-cli-test-secret-0123456789\n');
    const recipe = join(work, 'bad.yaml');
    writeFileSync(recipe, 'rules:\n  - keyword: StudyDescription\n    action: keep\n  - keyword: PatientAge\n    action: obliterate\n');
    const out = join(work, 'out');
    const r = spawnSync(process.execPath, [CLI, 'deid', input, out, '--secret-file', key, '--recipe', recipe, '--workers', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${recipe}:5:`);
    expect(r.stderr).toContain('"obliterate"');
    const written = existsSync(out) ? listFiles(out) : [];
    expect(written).toEqual([]);
    const runDir = `${out}.run`;
    expect(existsSync(runDir) ? listFiles(runDir) : []).toEqual([]);
  });

  it('exits 2 for a recipe that does not exist', () => {
    const input = join(work, 'in');
    const out = join(work, 'out2');
    const r = spawnSync(process.execPath, [CLI, 'deid', input, out, '--secret-file', join(work, 'project.key'), '--recipe', join(work, 'missing.yaml'), '--workers', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cannot read recipe');
    expect(existsSync(out) ? listFiles(out) : []).toEqual([]);
  });
});
