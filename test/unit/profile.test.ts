import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROFILE_EDITION, PROFILE_ROWS } from '../../src/deid/profile.generated.js';
import {
  DEIDENTIFICATION_METHOD_CODES,
  OPTION_NAMES,
  profileRuleFor,
  resolveAction,
  type OptionName,
  type ProfileRule,
} from '../../src/deid/profile.js';
import { Tags, tag } from '../../src/dicom/tag.js';

interface Generator {
  SOURCE_PATH: string;
  OUTPUT_PATH: string;
  renderProfile(tsv: string, sourceName: string): string;
}

const root = new URL('../../', import.meta.url);
const gen = (await import(new URL('scripts/generate-profile.mjs', root).href)) as Generator;
const tsv = readFileSync(new URL(gen.SOURCE_PATH, root), 'utf8');

const none: ReadonlySet<OptionName> = new Set();
const options = (...names: OptionName[]): ReadonlySet<OptionName> => new Set(names);

function ruleFor(group: number, element: number): ProfileRule {
  const rule = profileRuleFor(tag(group, element));
  if (!rule) throw new Error('no rule');
  return rule;
}

describe('generated profile', () => {
  it('is current with the TSV', () => {
    const onDisk = readFileSync(new URL(gen.OUTPUT_PATH, root), 'utf8');
    expect(gen.renderProfile(tsv, basename(gen.SOURCE_PATH)) === onDisk, 'run node scripts/generate-profile.mjs').toBe(true);
    expect(PROFILE_EDITION).toBe('2024b');
  });

  it('has one row per attribute row of the TSV', () => {
    // The Icon Image Sequence row is split over three lines in the TSV; only its first starts with a tag.
    const dataRows = tsv.split(/\r?\n/).filter((l) => /^\((?:[0-9A-FX]{4},[0-9A-FX]{4}\)|GGGG,EEEE\))/.test(l));
    expect(dataRows.length).toBe(621);
    expect(PROFILE_ROWS.length).toBe(dataRows.length);
  });

  it('joins the split Icon Image Sequence row', () => {
    expect(ruleFor(0x0088, 0x0200)).toMatchObject({ name: 'Icon Image Sequence (see Note 11)', inStdCompIod: true, basic: 'X' });
  });
});

describe('profileRuleFor', () => {
  it('finds exact rows', () => {
    expect(profileRuleFor(Tags.PatientName)).toMatchObject({ tag: '00100010', name: "Patient's Name", basic: 'Z', options: {} });
    expect(profileRuleFor(Tags.PatientBirthDate)).toMatchObject({ name: "Patient's Birth Date", basic: 'Z' });
    expect(profileRuleFor(Tags.StudyInstanceUID)).toMatchObject({ basic: 'U', options: { retainUIDs: 'K' } });
    expect(profileRuleFor(Tags.SOPInstanceUID)?.basic).toBe('U');
  });

  it('resolves overlay data through the 60XX row', () => {
    expect(ruleFor(0x6000, 0x3000)).toMatchObject({ tag: '60XX3000', name: 'Overlay Data', basic: 'X' });
    expect(ruleFor(0x6002, 0x3000).tag).toBe('60XX3000');
    expect(ruleFor(0x6002, 0x4000).name).toBe('Overlay Comments');
    expect(ruleFor(0x5010, 0x3000).name).toBe('Curve Data');
  });

  it('sends odd groups to the private row only', () => {
    expect(ruleFor(0x0009, 0x1001)).toMatchObject({ tag: 'XXXXXXXX', oddGroup: true, basic: 'X' });
    expect(ruleFor(0x6001, 0x3000).name).toBe('Private Attributes');
    expect(ruleFor(0x0029, 0x0010).name).toBe('Private Attributes');
  });

  it('returns undefined for attributes the table does not list', () => {
    expect(profileRuleFor(Tags.Modality)).toBeUndefined();
    expect(profileRuleFor(Tags.SOPClassUID)).toBeUndefined();
    expect(profileRuleFor(tag(0x6000, 0x0010))).toBeUndefined();
  });
});

describe('resolveAction', () => {
  it('applies the basic action when no option has an entry', () => {
    expect(resolveAction(profileRuleFor(Tags.PatientName)!, options(...OPTION_NAMES))).toEqual({ action: 'Z', rule: 'basic:Z' });
    expect(resolveAction(profileRuleFor(Tags.StudyInstanceUID)!, none)).toEqual({ action: 'U', rule: 'basic:U' });
  });

  it('lets an enabled option override the basic action', () => {
    const station = ruleFor(0x0008, 0x1010);
    expect(station.basic).toBe('X/Z/D');
    expect(resolveAction(station, none)).toEqual({ action: 'D', rule: 'basic:X/Z/D' });
    expect(resolveAction(station, options('retainDeviceIdentity'))).toEqual({ action: 'K', rule: 'retainDeviceIdentity:K' });
    expect(resolveAction(station, options('retainUIDs'))).toEqual({ action: 'D', rule: 'basic:X/Z/D' });

    const studyDate = profileRuleFor(Tags.StudyDate)!;
    expect(resolveAction(studyDate, none).action).toBe('Z');
    expect(resolveAction(studyDate, options('retainLongitudinalModifiedDates'))).toEqual({
      action: 'C', rule: 'retainLongitudinalModifiedDates:C',
    });
    expect(resolveAction(profileRuleFor(Tags.StudyInstanceUID)!, options('retainUIDs')).action).toBe('K');
  });

  it('prefers K over C when several enabled options have entries', () => {
    const studyDate = profileRuleFor(Tags.StudyDate)!;
    expect(resolveAction(studyDate, options('retainLongitudinalModifiedDates', 'retainLongitudinalFullDates'))).toEqual({
      action: 'K', rule: 'retainLongitudinalFullDates:K',
    });
    // Date of Last Detector Calibration: K for device identity and full dates, C for modified dates.
    const calibration = ruleFor(0x0018, 0x700c);
    expect(resolveAction(calibration, options('retainLongitudinalModifiedDates', 'retainDeviceIdentity'))).toEqual({
      action: 'K', rule: 'retainDeviceIdentity:K',
    });
  });

  it('resolves compound basic actions to the choice valid for any Type', () => {
    expect(resolveAction(ruleFor(0x0008, 0x0022), none)).toEqual({ action: 'Z', rule: 'basic:X/Z' });
    expect(resolveAction(ruleFor(0x0008, 0x0021), none)).toEqual({ action: 'D', rule: 'basic:X/D' });
    expect(resolveAction(ruleFor(0x0010, 0x0020), none)).toEqual({ action: 'D', rule: 'basic:Z/D' });
    expect(resolveAction(ruleFor(0x0008, 0x1140), none)).toEqual({ action: 'U', rule: 'basic:X/Z/U*' });
  });

  it('cleans private attributes under Retain Safe Private', () => {
    const priv = ruleFor(0x0019, 0x1010);
    expect(resolveAction(priv, none)).toEqual({ action: 'X', rule: 'basic:X' });
    expect(resolveAction(priv, options('retainSafePrivate'))).toEqual({ action: 'C', rule: 'retainSafePrivate:C' });
  });
});

describe('DEIDENTIFICATION_METHOD_CODES', () => {
  it('has a CID 7050 code for the profile and every option', () => {
    for (const name of OPTION_NAMES) expect(DEIDENTIFICATION_METHOD_CODES[name].scheme).toBe('DCM');
    expect(DEIDENTIFICATION_METHOD_CODES.basicProfile.value).toBe('113100');
    expect(DEIDENTIFICATION_METHOD_CODES.retainSafePrivate).toEqual({ value: '113111', scheme: 'DCM', meaning: 'Retain Safe Private Option' });
    const values = Object.values(DEIDENTIFICATION_METHOD_CODES).map((c) => Number(c.value)).sort();
    expect(values).toEqual(Array.from({ length: 13 }, (_, i) => 113100 + i));
  });
});
