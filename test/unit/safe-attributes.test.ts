import { readFileSync } from 'node:fs';
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import {
  CLASS_UID_ATTRIBUTE_ENTRIES,
  CLASS_UID_ATTRIBUTES,
  OVERLAY_GROUPS,
  SAFE_ATTRIBUTE_GROUPS,
  SAFE_ATTRIBUTES,
  SAFE_OVERLAY_ATTRIBUTES,
  isClassUidAttribute,
  isSafeAttribute,
  type SafeAttribute,
} from '../../src/deid/safe-attributes.js';
import { tag, type Tag } from '../../src/dicom/tag.js';

interface DcmjsEntry {
  tag: string;
  vr: string;
  name: string;
}

// dcmjs keeps its dictionary behind a lazy proxy keyed "(GGGG,EEEE)"; repeating groups are
// stored under their first group, e.g. "(6000,0010)".
const meta = (dcmjs as unknown as {
  data: { DicomMetaDictionary: { dictionary: Record<string, DcmjsEntry | undefined>; nameMap: Record<string, DcmjsEntry | undefined> } };
}).data.DicomMetaDictionary;

function dcmjsKey(hex: string): string {
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

/** Tag patterns of PS3.15 table E.1-1; "X" stands for any hex digit, as in (60XX,3000). */
function loadProfileTable(): { patterns: RegExp[]; rows: number } {
  const tsv = readFileSync(new URL('../../scripts/sources/ps315_table_E1-1_2024b.tsv', import.meta.url), 'utf8');
  const lines = tsv.replace(/^\uFEFF/, '').split(/\r?\n/);
  expect(lines[0]?.split('\t').slice(0, 4)).toEqual(['tag', 'name', 'in_std_comp_iod', 'basic_profile']);
  const patterns: RegExp[] = [];
  for (const line of lines.slice(1)) {
    // A name that spans lines in the standard leaves continuation lines without a tag.
    const m = /^\(([0-9A-FX]{4}),([0-9A-FX]{4})\)$/i.exec(line.split('\t')[0] ?? '');
    if (m) patterns.push(new RegExp(`^${(m[1]! + m[2]!).toUpperCase().replace(/X/g, '[0-9A-F]')}$`));
  }
  return { patterns, rows: patterns.length };
}

const table = loadProfileTable();
const inProfileTable = (hex: string): boolean => table.patterns.some((p) => p.test(hex));

const groupEntries: readonly (readonly [string, SafeAttribute])[] = Object.entries(SAFE_ATTRIBUTE_GROUPS).flatMap(
  ([group, entries]) => entries.map((e) => [group, e] as const),
);
/** Every overlay attribute once per overlay group, as concrete "GGGGEEEE" keys. */
const overlayEntries: readonly SafeAttribute[] = SAFE_OVERLAY_ATTRIBUTES.flatMap(([masked, keyword]) =>
  OVERLAY_GROUPS.map((g) => [g.toString(16).toUpperCase() + masked.slice(4), keyword] as const),
);
const allEntries: readonly SafeAttribute[] = [...groupEntries.map(([, e]) => e), ...overlayEntries];

const hexTag = (hex: string): Tag => tag(parseInt(hex.slice(0, 4), 16), parseInt(hex.slice(4), 16));

/**
 * Text-valued entries, each reviewed: defined terms, product/vendor names or values generated
 * by device software. Adding a text attribute to the list means adding it here too, on purpose.
 */
const REVIEWED_TEXT = new Set([
  'ImplementationVersionName', 'DeidentificationMethod', 'PrivateCreatorReference',
  'Manufacturer', 'ManufacturerModelName', 'SoftwareVersions', 'ManufacturerRelatedModelGroup',
  'SecondaryCaptureDeviceManufacturer', 'SecondaryCaptureDeviceManufacturerModelName', 'SecondaryCaptureDeviceSoftwareVersions',
  'PositionReferenceIndicator', 'RescaleType', 'ModalityLUTType',
  'StackID', 'DimensionIndexPrivateCreator', 'FunctionalGroupPrivateCreator',
  'CodeValue', 'CodingSchemeDesignator', 'CodingSchemeVersion', 'CodeMeaning', 'LongCodeValue', 'URNCodeValue', 'CodingSchemeRegistry',
  'FilterType', 'ConvolutionKernel', 'ImageFilter',
  'SequenceName', 'ImagedNucleus', 'ReceiveCoilName', 'TransmitCoilName', 'PulseSequenceName',
  'ReceiveCoilManufacturerName', 'TransmitCoilManufacturerName', 'MultiCoilElementName',
  'AttenuationCorrectionMethod', 'ScatterCorrectionMethod', 'ReconstructionMethod',
  'DetectorManufacturerName', 'DetectorManufacturerModelName',
  'SegmentAlgorithmName', 'AlgorithmName', 'AlgorithmVersion',
]);

describe('safe attribute list', () => {
  it('reads the profile table', () => {
    expect(table.rows).toBeGreaterThan(600);
    expect(inProfileTable('00100010')).toBe(true);
    expect(inProfileTable('60103000')).toBe(true);
  });

  it('names every entry by its dcmjs keyword and tag', () => {
    const wrong: string[] = [];
    for (const [hex, keyword] of allEntries) {
      if (!/^[0-9A-F]{8}$/.test(hex)) wrong.push(`${hex} is not GGGGEEEE`);
      // Repeating groups are filed under their first group.
      const key = /^60[0-9A-F]{2}/.test(hex) ? dcmjsKey(`6000${hex.slice(4)}`) : dcmjsKey(hex);
      const byTag = meta.dictionary[key];
      const byName = meta.nameMap[keyword];
      if (byTag?.name !== keyword) wrong.push(`${key}: dcmjs says ${byTag?.name ?? 'nothing'}, list says ${keyword}`);
      if (byName?.tag.toUpperCase() !== key) wrong.push(`${keyword}: dcmjs says ${byName?.tag ?? 'nothing'}, list says ${key}`);
    }
    expect(wrong).toEqual([]);
  });

  it('leaves every attribute of the profile table to the profile', () => {
    expect(allEntries.filter(([hex]) => inProfileTable(hex)).map(([hex, kw]) => `${hex} ${kw}`)).toEqual([]);
  });

  it('holds no private attribute', () => {
    expect(allEntries.filter(([hex]) => parseInt(hex.slice(0, 4), 16) % 2 === 1)).toEqual([]);
  });

  it('has no duplicates', () => {
    const seen = new Map<string, string>();
    const dups: string[] = [];
    for (const [group, [hex, keyword]] of groupEntries) {
      const other = seen.get(hex);
      if (other) dups.push(`${keyword} in ${group} and ${other}`);
      seen.set(hex, group);
    }
    for (const [masked] of SAFE_OVERLAY_ATTRIBUTES) {
      if (seen.has(masked)) dups.push(masked);
      seen.set(masked, 'overlay');
    }
    expect(dups).toEqual([]);
    expect(SAFE_ATTRIBUTES.size).toBe(allEntries.length);
  });

  it('keeps free text off, and text VRs only where reviewed', () => {
    const unreviewed: string[] = [];
    for (const [hex, keyword] of allEntries) {
      const vr = meta.nameMap[keyword]?.vr ?? '';
      if (['PN', 'LT', 'ST', 'UT', 'AE'].includes(vr)) unreviewed.push(`${keyword} (${vr}) is never safe`);
      else if (['LO', 'SH', 'UC', 'UR'].includes(vr) && !REVIEWED_TEXT.has(keyword)) unreviewed.push(`${keyword} (${vr}, ${hex})`);
    }
    expect(unreviewed).toEqual([]);
  });

  it('keeps what radiomics needs', () => {
    for (const keyword of ['PixelData', 'Rows', 'SliceThickness', 'Manufacturer', 'KVP', 'RepetitionTime', 'RescaleSlope', 'ContourData', 'SegmentNumber']) {
      const entry = meta.nameMap[keyword];
      expect(entry, keyword).toBeDefined();
      expect(isSafeAttribute(hexTag(entry!.tag.replace(/[(),]/g, ''))), keyword).toBe(true);
    }
  });

  it('leaves identifying attributes off', () => {
    for (const keyword of ['PatientName', 'PatientID', 'StationName', 'DeviceSerialNumber', 'InstitutionName', 'SOPInstanceUID', 'SegmentLabel', 'TextValue']) {
      const entry = meta.nameMap[keyword];
      expect(entry, keyword).toBeDefined();
      expect(isSafeAttribute(hexTag(entry!.tag.replace(/[(),]/g, ''))), keyword).toBe(false);
    }
  });

  it('expands overlay attributes to every overlay group and only those', () => {
    expect(isSafeAttribute(tag(0x6000, 0x0010))).toBe(true);
    expect(isSafeAttribute(tag(0x601e, 0x0102))).toBe(true);
    expect(isSafeAttribute(tag(0x6001, 0x0010))).toBe(false);
    expect(isSafeAttribute(tag(0x6020, 0x0010))).toBe(false);
    expect(isSafeAttribute(tag(0x6000, 0x3000))).toBe(false);
    expect(OVERLAY_GROUPS).toHaveLength(16);
  });
});

describe('class UID attributes', () => {
  it('are UI attributes that dcmjs knows by that keyword and tag', () => {
    const wrong: string[] = [];
    for (const [hex, keyword] of CLASS_UID_ATTRIBUTE_ENTRIES) {
      const entry = meta.dictionary[dcmjsKey(hex)];
      if (entry?.name !== keyword || entry.vr !== 'UI') wrong.push(`${hex} ${keyword}: dcmjs has ${entry?.name ?? 'nothing'} ${entry?.vr ?? ''}`);
    }
    expect(wrong).toEqual([]);
  });

  it('are not in the profile table and have no duplicates', () => {
    expect(CLASS_UID_ATTRIBUTE_ENTRIES.filter(([hex]) => inProfileTable(hex))).toEqual([]);
    expect(CLASS_UID_ATTRIBUTES.size).toBe(CLASS_UID_ATTRIBUTE_ENTRIES.length);
  });

  it('cover the SOP class and transfer syntax UIDs and no instance UID', () => {
    for (const keyword of ['SOPClassUID', 'MediaStorageSOPClassUID', 'ReferencedSOPClassUID', 'TransferSyntaxUID', 'ImplementationClassUID']) {
      const hex = meta.nameMap[keyword]!.tag.replace(/[(),]/g, '');
      expect(isClassUidAttribute(hexTag(hex)), keyword).toBe(true);
    }
    for (const keyword of ['SOPInstanceUID', 'ReferencedSOPInstanceUID', 'StudyInstanceUID', 'FrameOfReferenceUID', 'ContextGroupExtensionCreatorUID', 'PrivateInformationCreatorUID']) {
      const hex = meta.nameMap[keyword]!.tag.replace(/[(),]/g, '');
      expect(isClassUidAttribute(hexTag(hex)), keyword).toBe(false);
    }
  });
});
