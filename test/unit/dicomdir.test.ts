/**
 * DICOMDIR writer: the records are found again by following the byte offsets in the file (a
 * parser written here, independent of src/), dcmtk's dcmdump reads the file, dicom3tools'
 * dciodvfy finds no errors in it and dcdirdmp (which also follows the offsets) sees the same
 * hierarchy, and two writes give the same bytes.
 *
 * dcmdump (dcmtk) and dciodvfy/dcdirdmp (dicom3tools) are required: a missing tool fails the
 * test with the package to install, it does not skip it.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAscii, type Dataset, type Element } from '../../src/dicom/dataset.js';
import { readDicom } from '../../src/dicom/reader.js';
import { tag, Tags, type Tag } from '../../src/dicom/tag.js';
import type { VR } from '../../src/dicom/vr.js';
import { encodeDicomToBuffer, FILE_META_VERSION } from '../../src/dicom/writer.js';
import { buildDirectory, normalizedDateTime, recordTypeFor, writeDicomdir } from '../../src/pipeline/dicomdir.js';
import { outputPathFor, type IndexEntry } from '../../src/pipeline/process-file.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const MR = '1.2.840.10008.5.1.4.1.1.4';
const RTSTRUCT = '1.2.840.10008.5.1.4.1.1.481.3';
const BASIC_TEXT_SR = '1.2.840.10008.5.1.4.1.1.88.11';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

// ---------------------------------------------------------------------------------------------
// Input

interface EntryInput {
  readonly researchId: string;
  readonly studyUid: string;
  readonly seriesUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly modality: string;
  readonly seriesNumber: string;
  readonly instanceNumber: string;
  readonly studyDate?: string;
  readonly studyTime?: string;
  readonly studyId?: string;
  readonly output?: string;
}

function entry(e: EntryInput): IndexEntry {
  const output = e.output ?? outputPathFor(e, 'FALLBACK', 'media');
  return {
    researchId: e.researchId,
    studyUid: e.studyUid,
    seriesUid: e.seriesUid,
    sopInstanceUid: e.sopInstanceUid,
    sopClassUid: e.sopClassUid,
    transferSyntaxUid: EXPLICIT_LE,
    modality: e.modality,
    studyDate: e.studyDate ?? '',
    studyTime: e.studyTime ?? '',
    studyId: e.studyId ?? '',
    accessionNumber: '',
    seriesNumber: e.seriesNumber,
    instanceNumber: e.instanceNumber,
    output,
  };
}

const A = 'RAD-AAAA1111';
const B = 'RAD-BBBB2222';
const study1 = { researchId: A, studyUid: '2.25.1001', studyDate: '20200102', studyTime: '14:04:38', studyId: 'ST1' };
const study2 = { researchId: A, studyUid: '2.25.1002', studyDate: '20210101', studyTime: '080000' };
const study3 = { researchId: B, studyUid: '2.25.1003' };

const ct1 = { ...study1, seriesUid: '2.25.2001', sopClassUid: CT, modality: 'CT', seriesNumber: '1' };
const rtss = { ...study1, seriesUid: '2.25.2002', sopClassUid: RTSTRUCT, modality: 'RTSTRUCT', seriesNumber: '2' };
const sr = { ...study1, seriesUid: '2.25.2005', sopClassUid: BASIC_TEXT_SR, modality: 'SR', seriesNumber: '3' };
const mr = { ...study2, seriesUid: '2.25.2003', sopClassUid: MR, modality: 'MR', seriesNumber: '5' };
const ct2 = { ...study3, seriesUid: '2.25.2004', sopClassUid: CT, modality: 'CT', seriesNumber: '' };

const E = {
  ct1a: entry({ ...ct1, sopInstanceUid: '2.25.3001', instanceNumber: '10' }),
  ct1b: entry({ ...ct1, sopInstanceUid: '2.25.3002', instanceNumber: '2' }),
  ct1c: entry({ ...ct1, sopInstanceUid: '2.25.3003', instanceNumber: '1' }),
  rtss: entry({ ...rtss, sopInstanceUid: '2.25.3004', instanceNumber: '1' }),
  sr: entry({ ...sr, sopInstanceUid: '2.25.3007', instanceNumber: '1' }),
  mr1: entry({ ...mr, sopInstanceUid: '2.25.3005', instanceNumber: '1' }),
  mr2: entry({ ...mr, sopInstanceUid: '2.25.3006', instanceNumber: '2' }),
  ct2a: entry({ ...ct2, sopInstanceUid: '2.25.3008', instanceNumber: '3' }),
  ct2b: entry({ ...ct2, sopInstanceUid: '2.25.3009', instanceNumber: '' }),
};
/** Entries a DICOMDIR cannot describe: left out, never a broken record. */
const noSopInstance = entry({ ...ct2, sopInstanceUid: '', instanceNumber: '7', output: 'DICOM/PX/SX/EX/INOUID' });
const treeLayout = entry({ ...ct2, sopInstanceUid: '2.25.3010', instanceNumber: '8', output: 'RAD-BBBB2222/2.25.1003/2.25.2004/2.25.3010.dcm' });

/** In no particular order, with a duplicate (a resumed, identical file) and the unusable ones. */
const ENTRIES: readonly IndexEntry[] = [E.mr2, E.ct2b, E.sr, E.ct1a, noSopInstance, E.rtss, E.ct1c, E.mr1, E.ct2a, treeLayout, E.ct1b, E.mr1];

/** The hierarchy the directory must hold, written out by hand. */
interface Node {
  readonly type: string;
  readonly id: string;
  readonly file?: string;
  readonly children: readonly Node[];
}

const fileId = (e: IndexEntry) => e.output.split('/').join('\\');
const leaf = (type: string, e: IndexEntry): Node => ({ type, id: e.sopInstanceUid, file: fileId(e), children: [] });
const EXPECTED: readonly Node[] = [
  {
    type: 'PATIENT',
    id: A,
    children: [
      {
        type: 'STUDY',
        id: '2.25.1001',
        children: [
          { type: 'SERIES', id: '2.25.2001', children: [leaf('IMAGE', E.ct1c), leaf('IMAGE', E.ct1b), leaf('IMAGE', E.ct1a)] },
          { type: 'SERIES', id: '2.25.2002', children: [leaf('RT STRUCTURE SET', E.rtss)] },
          { type: 'SERIES', id: '2.25.2005', children: [leaf('SR DOCUMENT', E.sr)] },
        ],
      },
      { type: 'STUDY', id: '2.25.1002', children: [{ type: 'SERIES', id: '2.25.2003', children: [leaf('IMAGE', E.mr1), leaf('IMAGE', E.mr2)] }] },
    ],
  },
  {
    type: 'PATIENT',
    id: B,
    children: [{ type: 'STUDY', id: '2.25.1003', children: [{ type: 'SERIES', id: '2.25.2004', children: [leaf('IMAGE', E.ct2a), leaf('IMAGE', E.ct2b)] }] }],
  },
];

// ---------------------------------------------------------------------------------------------
// The non-image files, whose record keys are read from the written file

function el(t: Tag, vr: VR, value: string): Element {
  return { kind: 'value', tag: t, vr, bytes: encodeAscii(value, vr === 'UI' ? 0x00 : 0x20) };
}

function ds(...elements: Element[]): Dataset {
  return new Map(elements.map((e) => [e.tag, e]));
}

function sq(t: Tag, ...items: Dataset[]): Element {
  return { kind: 'sequence', tag: t, vr: 'SQ', items };
}

const code = (value: string, scheme: string, meaning: string) =>
  ds(el(tag(0x0008, 0x0100), 'SH', value), el(tag(0x0008, 0x0102), 'SH', scheme), el(tag(0x0008, 0x0104), 'LO', meaning));

function fileFor(e: IndexEntry, extra: Element[]): Buffer {
  const meta = ds(
    FILE_META_VERSION,
    el(Tags.MediaStorageSOPClassUID, 'UI', e.sopClassUid),
    el(Tags.MediaStorageSOPInstanceUID, 'UI', e.sopInstanceUid),
    el(Tags.TransferSyntaxUID, 'UI', EXPLICIT_LE),
  );
  const dataset = ds(
    el(Tags.SOPClassUID, 'UI', e.sopClassUid),
    el(Tags.SOPInstanceUID, 'UI', e.sopInstanceUid),
    el(Tags.Modality, 'CS', e.modality),
    el(Tags.PatientName, 'PN', e.researchId),
    el(Tags.PatientID, 'LO', e.researchId),
    el(Tags.StudyInstanceUID, 'UI', e.studyUid),
    el(Tags.SeriesInstanceUID, 'UI', e.seriesUid),
    ...extra,
  );
  return encodeDicomToBuffer({ meta, dataset });
}

const NON_IMAGE_FILES: readonly [IndexEntry, Element[]][] = [
  [
    E.rtss,
    [el(tag(0x3006, 0x0002), 'SH', 'PTV'), el(tag(0x3006, 0x0008), 'DA', '20200102'), el(tag(0x3006, 0x0009), 'TM', '101500')],
  ],
  [
    // VERIFIED, but de-identification emptied the Verifying Observer Sequence.
    E.sr,
    [
      el(tag(0x0008, 0x0023), 'DA', '20200103'),
      el(tag(0x0008, 0x0033), 'TM', '090000'),
      el(tag(0x0040, 0xa040), 'CS', 'CONTAINER'),
      sq(tag(0x0040, 0xa043), code('18782-3', 'LN', 'Radiology Study observation')),
      sq(tag(0x0040, 0xa073)),
      el(tag(0x0040, 0xa491), 'CS', 'COMPLETE'),
      el(tag(0x0040, 0xa493), 'CS', 'VERIFIED'),
      sq(
        tag(0x0040, 0xa730),
        ds(el(tag(0x0040, 0xa010), 'CS', 'CONTAINS'), el(tag(0x0040, 0xa040), 'CS', 'TEXT'), sq(tag(0x0040, 0xa043), code('121071', 'DCM', 'Finding')), el(tag(0x0040, 0xa160), 'UT', 'no finding')),
        ds(el(tag(0x0040, 0xa010), 'CS', 'HAS CONCEPT MOD'), el(tag(0x0040, 0xa040), 'CS', 'CODE'), sq(tag(0x0040, 0xa043), code('121049', 'DCM', 'Language of Content Item and Descendants')), sq(tag(0x0040, 0xa168), code('eng', 'RFC5646', 'English'))),
      ),
    ],
  ],
];

async function prepareOutput(dir: string): Promise<void> {
  for (const [e, extra] of NON_IMAGE_FILES) {
    const path = join(dir, e.output);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, fileFor(e, extra));
  }
}

// ---------------------------------------------------------------------------------------------
// An explicit VR little endian parser for one directory record, independent of src/

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const T = {
  first: 0x00041200,
  last: 0x00041202,
  sequence: 0x00041220,
  next: 0x00041400,
  inUse: 0x00041410,
  lower: 0x00041420,
  type: 0x00041430,
  fileId: 0x00041500,
  sopClass: 0x00041510,
  sopInstance: 0x00041511,
  transferSyntax: 0x00041512,
};

interface Raw {
  readonly vr: string;
  readonly value: Buffer;
}

/** The elements of the item whose Item tag is at `offset` (defined lengths only, as written). */
function itemAt(buf: Buffer, offset: number): Map<number, Raw> {
  expect(offset, 'offset inside the file').toBeLessThan(buf.length);
  expect([buf.readUInt16LE(offset), buf.readUInt16LE(offset + 2)], `Item tag (FFFE,E000) at offset ${offset}`).toEqual([0xfffe, 0xe000]);
  const length = buf.readUInt32LE(offset + 4);
  expect(length, 'defined item length').not.toBe(0xffffffff);
  const out = new Map<number, Raw>();
  let pos = offset + 8;
  const end = pos + length;
  while (pos < end) {
    const t = ((buf.readUInt16LE(pos) << 16) | buf.readUInt16LE(pos + 2)) >>> 0;
    const vr = buf.toString('latin1', pos + 4, pos + 6);
    const long = LONG_VRS.has(vr);
    const len = long ? buf.readUInt32LE(pos + 8) : buf.readUInt16LE(pos + 6);
    const header = long ? 12 : 8;
    expect(len, `defined length of (${t.toString(16)})`).not.toBe(0xffffffff);
    out.set(t, { vr, value: buf.subarray(pos + header, pos + header + len) });
    pos += header + len;
  }
  expect(pos, 'item ends where its length says').toBe(end);
  return out;
}

const str = (item: Map<number, Raw>, t: number) => item.get(t)?.value.toString('latin1').replace(/[\0 ]+$/, '') ?? '';
const u32 = (item: Map<number, Raw>, t: number) => {
  const raw = item.get(t);
  expect(raw?.vr, `UL (${t.toString(16)})`).toBe('UL');
  return raw!.value.readUInt32LE(0);
};

const ID_KEY: Record<string, number> = { PATIENT: 0x00100020, STUDY: 0x0020000d, SERIES: 0x0020000e };

/** Follows the chain of records from `offset` and, depth first, their lower-level entities. */
function walk(buf: Buffer, offset: number, visited: Map<number, Map<number, Raw>>): { nodes: Node[]; last: number } {
  const nodes: Node[] = [];
  let last = 0;
  for (let at = offset; at !== 0; ) {
    expect(visited.has(at), `record at ${at} reached twice`).toBe(false);
    const item = itemAt(buf, at);
    visited.set(at, item);
    expect(item.get(T.inUse)?.value.readUInt16LE(0), 'Record In-use Flag').toBe(0xffff);
    const type = str(item, T.type);
    const lower = u32(item, T.lower);
    const idKey = ID_KEY[type];
    nodes.push({
      type,
      id: str(item, idKey ?? T.sopInstance),
      ...(idKey ? {} : { file: str(item, T.fileId) }),
      children: lower ? walk(buf, lower, visited).nodes : [],
    });
    last = at;
    at = u32(item, T.next);
  }
  return { nodes, last };
}

// ---------------------------------------------------------------------------------------------
// External tools

function tool(cmd: string, args: string[], pkg: string): { status: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${cmd} is not installed: this test needs it (Debian/Ubuntu: apt-get install ${pkg})`);
    }
    throw r.error;
  }
  return { status: r.status, out: r.stdout, err: r.stderr };
}

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

  it('reads with dcmtk (dcmdump) without errors or warnings', () => {
    const r = tool('dcmdump', [join(dir, 'DICOMDIR')], 'dcmtk');
    expect(r.err, r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toContain('MediaStorageDirectoryStorage');
    // dcmdump shows each record at the offset it has in the file: the same our links use.
    const dumped = [...r.out.matchAll(/#\s+offset=\$(\d+)/g)].map((m) => Number(m[1]));
    expect(dumped).toHaveLength(2 + 3 + 5 + 9);
    const firstRecord = Buffer.from((readDicom(bytes).dataset.get(T.first as Tag) as { bytes: Uint8Array }).bytes).readUInt32LE(0);
    expect(dumped[0]).toBe(firstRecord);
  });

  it('passes dciodvfy (dicom3tools) without errors', () => {
    const r = tool('dciodvfy', [join(dir, 'DICOMDIR')], 'dicom3tools');
    const out = r.out + r.err;
    expect(out).toMatch(/^BasicDirectory$/m);
    expect(out.split('\n').filter((l) => /^Error/.test(l)), out).toEqual([]);
  });

  it('shows the same hierarchy in dcdirdmp (dicom3tools), which follows the offsets too', () => {
    const r = tool('dcdirdmp', [join(dir, 'DICOMDIR')], 'dicom3tools');
    expect(r.status, r.err).toBe(0);
    // dcdirdmp writes its dump to standard error.
    const lines = (r.out + r.err).split('\n').filter((l) => l.trim() !== '');
    const got = lines.map((l) => {
      const depth = /^\t*/.exec(l)![0].length;
      const body = l.trim();
      return body.startsWith('->') ? `${depth}:file ${body.slice(2).trim()}` : `${depth}:${body}`;
    });
    const expected: string[] = [];
    const flatten = (nodes: readonly Node[], depth: number) => {
      for (const n of nodes) {
        expected.push(`${depth}:${n.type}`);
        if (n.file) expected.push(`${depth}:file ${n.file}`);
        flatten(n.children, depth + 1);
      }
    };
    flatten(EXPECTED, 0);
    // dcdirdmp prints some keys after the record type: compare the type and the file ID only.
    expect(got.map((g, i) => (expected[i] && g.startsWith(expected[i]!) ? expected[i] : g))).toEqual(expected);
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
