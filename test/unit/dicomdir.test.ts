/**
 * DICOMDIR writer: the records are found again by following the byte offsets in the file (a
 * parser written here, independent of src/), and two writes give the same bytes. The checks by
 * external tools (dcmtk, dicom3tools) are in test/conformance/dicomdir-tools.test.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDicom } from '../../src/dicom/reader.js';
import { Tags, type Tag } from '../../src/dicom/tag.js';
import type { Dataset } from '../../src/dicom/dataset.js';
import { buildDirectory, normalizedDateTime, recordTypeFor, writeDicomdir } from '../../src/pipeline/dicomdir.js';
import { CT, RTSTRUCT, BASIC_TEXT_SR, EXPLICIT_LE, A, E, noSopInstance, treeLayout, ENTRIES, EXPECTED, prepareOutput, T, type Raw, str, walk } from '../support/dicomdir-fixture.js';

// ---------------------------------------------------------------------------------------------

describe('writeDicomdir', () => {
  let dir: string;
  let bytes: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'radanon-dicomdir-'));
    await prepareOutput(dir);
    const written = await writeDicomdir(dir, ENTRIES);
    expect(written.path).toBe('DICOMDIR');
    // The entry without a SOP Instance UID and the one with a non-media path are reported, not written.
    expect(written.excluded.length).toBeGreaterThanOrEqual(2);
    for (const e of written.excluded) expect(e.reason).not.toBe('');
    bytes = await readFile(join(dir, 'DICOMDIR'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is a Part 10 file of the Media Storage Directory Storage SOP Class in explicit VR little endian', () => {
    expect(bytes.subarray(0, 128).every((b) => b === 0)).toBe(true);
    expect(bytes.toString('latin1', 128, 132)).toBe('DICM');
    const file = readDicom(bytes);
    const meta = (t: Tag) => str(new Map([[0, { vr: 'UI', value: Buffer.from((file.meta.get(t) as { bytes: Uint8Array }).bytes) }]]), 0);
    expect(meta(Tags.MediaStorageSOPClassUID)).toBe('1.2.840.10008.1.3.10');
    expect(meta(Tags.TransferSyntaxUID)).toBe(EXPLICIT_LE);
    expect(meta(Tags.MediaStorageSOPInstanceUID)).toMatch(/^2\.25\.[1-9]\d{0,38}$/);
    expect(file.transferSyntax.uid).toBe(EXPLICIT_LE);
  });

  it('links its records by offsets counted from byte 0 of the file (preamble included), giving back the input hierarchy', () => {
    const file = readDicom(bytes);
    const top = (t: number) => {
      const e = file.dataset.get(t as Tag);
      expect(e?.kind).toBe('value');
      return Buffer.from((e as { bytes: Uint8Array }).bytes);
    };
    expect(top(0x00041130).toString('latin1').trim()).toBe('RADANON');
    expect(top(0x00041212).readUInt16LE(0)).toBe(0);
    const first = top(T.first).readUInt32LE(0);
    const lastRoot = top(T.last).readUInt32LE(0);

    const visited = new Map<number, Map<number, Raw>>();
    const { nodes, last } = walk(bytes, first, visited);
    expect(nodes).toEqual(EXPECTED);
    expect(last, 'Offset of the Last Directory Record of the Root Directory Entity').toBe(lastRoot);

    // Every item of the sequence is reached, and nothing else.
    const seq = file.dataset.get(T.sequence as Tag);
    expect(seq?.kind).toBe('sequence');
    expect(visited.size).toBe((seq as { items: readonly Dataset[] }).items.length);
    expect(visited.size).toBe(2 + 3 + 5 + 9);
  });

  it('fills the record keys, with placeholders only where the files have no value', () => {
    const visited = new Map<number, Map<number, Raw>>();
    const file = readDicom(bytes);
    walk(bytes, Buffer.from((file.dataset.get(T.first as Tag) as { bytes: Uint8Array }).bytes).readUInt32LE(0), visited);
    const records = [...visited.values()];
    const find = (type: string, key: number, value: string) => {
      const r = records.find((i) => str(i, T.type) === type && str(i, key) === value);
      expect(r, `${type} ${value}`).toBeDefined();
      return r!;
    };
    const patient = find('PATIENT', 0x00100020, A);
    expect(str(patient, 0x00100010)).toBe(A);

    const s1 = find('STUDY', 0x0020000d, '2.25.1001');
    expect([str(s1, 0x00080020), str(s1, 0x00080030), str(s1, 0x00200010)]).toEqual(['20200102', '140438', 'ST1']);
    const s3 = find('STUDY', 0x0020000d, '2.25.1003');
    expect([str(s3, 0x00080020), str(s3, 0x00080030)]).toEqual(['19000101', '000000']);
    expect(str(s3, 0x00200010)).toBe(E.ct2a.output.split('/')[2]);
    expect(s3.has(0x00080050) && s3.has(0x00081030)).toBe(true);

    const series = find('SERIES', 0x0020000e, '2.25.2004');
    expect([str(series, 0x00080060), str(series, 0x00200011)]).toEqual(['CT', '1']);
    const numbered = find('IMAGE', T.sopInstance, '2.25.3009');
    expect(str(numbered, 0x00200013)).toBe('4');

    const image = find('IMAGE', T.sopInstance, '2.25.3001');
    expect(str(image, T.fileId).split('\\')).toEqual(E.ct1a.output.split('/'));
    expect(str(image, T.fileId)).toMatch(/^DICOM(\\[A-Z0-9]{8}){4}$/);
    expect(image.get(T.fileId)!.vr).toBe('CS');
    expect([str(image, T.sopClass), str(image, T.transferSyntax), str(image, 0x00200013)]).toEqual([CT, EXPLICIT_LE, '10']);

    const rt = find('RT STRUCTURE SET', T.sopInstance, '2.25.3004');
    expect([str(rt, 0x30060002), str(rt, 0x30060008), str(rt, 0x30060009), str(rt, 0x00200013)]).toEqual(['PTV', '20200102', '101500', '1']);

    const report = find('SR DOCUMENT', T.sopInstance, '2.25.3007');
    expect([str(report, 0x0040a491), str(report, 0x0040a493), str(report, 0x00080023), str(report, 0x00080033)]).toEqual(['COMPLETE', 'VERIFIED', '20200103', '090000']);
    expect(str(report, 0x0040a030)).toBe('19000101000000');
    expect(report.get(0x0040a043)?.vr).toBe('SQ');
    // Only the concept modifier of the document title is copied, not the report's content.
    const content = report.get(0x0040a730);
    expect(content?.vr).toBe('SQ');
    expect(content!.value.toString('latin1')).toContain('HAS CONCEPT MOD');
    expect(content!.value.toString('latin1')).not.toContain('no finding');

    // Left out: no SOP Instance UID, or a path that is no File ID.
    const referenced = records.map((r) => str(r, T.sopInstance)).filter((s) => s !== '');
    expect(referenced).not.toContain('2.25.3010');
    expect(referenced).toHaveLength(9);
  });

  it('writes the same bytes for the same files, whatever the order of the entries', async () => {
    const other = await mkdtemp(join(tmpdir(), 'radanon-dicomdir-'));
    try {
      await prepareOutput(other);
      await writeDicomdir(other, [...ENTRIES].reverse());
      expect((await readFile(join(other, 'DICOMDIR'))).equals(bytes)).toBe(true);
      await writeDicomdir(other, ENTRIES);
      expect((await readFile(join(other, 'DICOMDIR'))).equals(bytes)).toBe(true);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('directory contents', () => {
  it('maps SOP classes to record types', () => {
    expect(recordTypeFor(CT)).toBe('IMAGE');
    expect(recordTypeFor('1.2.840.10008.5.1.4.1.1.66.4')).toBe('IMAGE');
    expect(recordTypeFor(RTSTRUCT)).toBe('RT STRUCTURE SET');
    expect(recordTypeFor('1.2.840.10008.5.1.4.1.1.481.2')).toBe('RT DOSE');
    expect(recordTypeFor('1.2.840.10008.5.1.4.1.1.481.8')).toBe('RT PLAN');
    expect(recordTypeFor(BASIC_TEXT_SR)).toBe('SR DOCUMENT');
    expect(recordTypeFor('1.2.840.10008.5.1.4.1.1.88.59')).toBe('KEY OBJECT DOC');
    expect(recordTypeFor('1.2.840.10008.5.1.4.1.1.9.1.1')).toBe('WAVEFORM');
    expect(recordTypeFor('1.2.840.10008.5.1.4.1.1.11.1')).toBe('PRESENTATION');
    expect(recordTypeFor('1.2.840.10008.5.1.4.1.1.104.1')).toBe('ENCAP DOC');
    expect(recordTypeFor('1.2.840.10008.5.1.4.38.1')).toBeUndefined();
  });

  it('reports the entries it leaves out', () => {
    const d = buildDirectory([E.ct1a, noSopInstance, treeLayout]);
    expect(d.included).toEqual([E.ct1a]);
    expect(d.excluded.map((x) => x.reason)).toEqual([expect.stringContaining('SOP Instance UID'), expect.stringContaining('not a valid File ID')]);
  });

  it('normalizes ACR-NEMA dates and times and rejects other malformed ones', () => {
    expect(normalizedDateTime('DA', '1999.01.17')).toBe('19990117');
    expect(normalizedDateTime('TM', '14:04:38.5')).toBe('140438.5');
    expect(normalizedDateTime('TM', '1404')).toBe('1404');
    expect(normalizedDateTime('DA', '17/01/1999')).toBeUndefined();
    expect(normalizedDateTime('DT', '20200101120000.000000+0100')).toBe('20200101120000.000000+0100');
  });
});
