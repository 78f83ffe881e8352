import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keywordOf, lookupEntry, tagOfKeyword, vrOf } from '../../src/dicom/dictionary.js';
import { DICTIONARY_ENTRIES } from '../../src/dicom/dictionary.generated.js';
import { Tags, tag } from '../../src/dicom/tag.js';

interface Generator {
  OUTPUT_PATH: string;
  renderDictionary(dictionary: unknown, version: string): string;
  loadDcmjsDictionary(): Promise<{ dictionary: unknown; version: string }>;
}

const generatorUrl = new URL('../../scripts/generate-dictionary.mjs', import.meta.url);

describe('generated dictionary', () => {
  it('is current with the installed dcmjs', async () => {
    const gen = (await import(generatorUrl.href)) as Generator;
    const { dictionary, version } = await gen.loadDcmjsDictionary();
    const onDisk = readFileSync(new URL(`../../${gen.OUTPUT_PATH}`, import.meta.url), 'utf8');
    expect(gen.renderDictionary(dictionary, version) === onDisk, 'run node scripts/generate-dictionary.mjs').toBe(true);
  });

  it('holds the public attributes and the repeating groups', () => {
    expect(DICTIONARY_ENTRIES.length).toBeGreaterThan(5000);
    expect(DICTIONARY_ENTRIES).toContain('60XX3000;OB|OW;1;OverlayData');
  });

  it('is sorted by pattern', () => {
    const patterns = DICTIONARY_ENTRIES.map((e) => e.slice(0, 8));
    for (let i = 1; i < patterns.length; i++) expect(patterns[i - 1]! < patterns[i]!, patterns[i]).toBe(true);
  });
});

describe('lookupEntry', () => {
  it('knows Patient Name', () => {
    expect(lookupEntry(Tags.PatientName)).toEqual({
      pattern: '00100010', vr: 'PN', vrs: ['PN'], vm: '1', keyword: 'PatientName', retired: false,
    });
  });

  it('keeps every VR PS3.6 allows for Pixel Data', () => {
    const entry = lookupEntry(Tags.PixelData);
    expect(entry?.vr).toBe('OB');
    expect(entry?.vrs).toEqual(['OB', 'OW']);
    expect(vrOf(Tags.PixelData)).toBe('OW');
  });

  it('resolves overlay groups through the 60XX mask', () => {
    expect(lookupEntry(tag(0x6000, 0x3000))?.keyword).toBe('OverlayData');
    expect(lookupEntry(tag(0x6002, 0x3000))?.pattern).toBe('60XX3000');
    expect(keywordOf(tag(0x6002, 0x3000))).toBe('OverlayData');
    expect(vrOf(tag(0x601e, 0x3000))).toBe('OW');
    expect(keywordOf(tag(0x6002, 0x0010))).toBe('OverlayRows');
  });

  it('does not apply repeating-group masks to odd (private) groups', () => {
    expect(lookupEntry(tag(0x6001, 0x3000))).toBeUndefined();
  });

  it('prefers an exact entry over a mask', () => {
    // (7FE0,0010) Pixel Data and (7FXX,0010) Variable Pixel Data overlap.
    expect(keywordOf(Tags.PixelData)).toBe('PixelData');
    expect(keywordOf(tag(0x7f00, 0x0010))).toBe('VariablePixelData');
  });

  it('resolves repeating elements such as (0020,31xx)', () => {
    const entry = lookupEntry(tag(0x0020, 0x3105));
    expect(entry?.keyword).toBe('SourceImageIDs');
    expect(entry?.retired).toBe(true);
  });

  it('gives UL for any group length', () => {
    expect(keywordOf(Tags.FileMetaInformationGroupLength)).toBe('FileMetaInformationGroupLength');
    expect(vrOf(tag(0x0008, 0x0000))).toBe('UL');
    expect(vrOf(tag(0x0029, 0x0000))).toBe('UL');
    expect(lookupEntry(tag(0x0010, 0x0000))?.retired).toBe(true);
  });

  it('gives LO for private creators and nothing for private data elements', () => {
    expect(vrOf(tag(0x0029, 0x0010))).toBe('LO');
    expect(vrOf(tag(0x0029, 0x1010))).toBeUndefined();
  });

  it('picks the implicit-VR default among alternatives', () => {
    expect(lookupEntry(tag(0x0028, 0x0106))?.vrs).toEqual(['US', 'SS']);
    expect(vrOf(tag(0x0028, 0x0106))).toBe('US');
    expect(vrOf(tag(0x0028, 0x3006))).toBe('OW');
    expect(vrOf(Tags.SOPInstanceUID)).toBe('UI');
  });

  it('marks retired attributes and keeps those without a keyword', () => {
    expect(lookupEntry(tag(0x0018, 0x0061))).toMatchObject({ vr: 'DS', keyword: undefined, retired: true });
    expect(lookupEntry(tag(0x0008, 0x0001))).toMatchObject({ keyword: 'LengthToEnd', retired: true });
  });

  it('has no VR for items and delimiters', () => {
    expect(lookupEntry(Tags.Item)?.keyword).toBe('Item');
    expect(vrOf(Tags.Item)).toBeUndefined();
  });

  it('returns undefined for unknown tags', () => {
    expect(lookupEntry(tag(0x0010, 0xfffe))).toBeUndefined();
    expect(vrOf(tag(0x0010, 0xfffe))).toBeUndefined();
    expect(keywordOf(tag(0x0010, 0xfffe))).toBeUndefined();
  });
});

describe('tagOfKeyword', () => {
  it('round-trips keywords', () => {
    for (const t of [Tags.PatientName, Tags.SOPInstanceUID, Tags.StudyInstanceUID, Tags.PixelData]) {
      expect(tagOfKeyword(keywordOf(t)!)).toBe(t);
    }
    expect(tagOfKeyword('SOPInstanceUID')).toBe(Tags.SOPInstanceUID);
    expect(tagOfKeyword('OverlayData')).toBe(tag(0x6000, 0x3000));
  });

  it('returns undefined for unknown keywords', () => {
    expect(tagOfKeyword('NoSuchKeyword')).toBeUndefined();
    expect(tagOfKeyword('')).toBeUndefined();
  });
});
