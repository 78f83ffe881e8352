/** The DICOMDIR test fixture: index entries, the output files they describe, an independent reader of the records by their offsets, and the external tools. */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { encodeAscii, type Dataset, type Element } from '../../src/dicom/dataset.js';
import { tag, Tags, type Tag } from '../../src/dicom/tag.js';
import type { VR } from '../../src/dicom/vr.js';
import { encodeDicomToBuffer, FILE_META_VERSION } from '../../src/dicom/writer.js';
import { outputPathFor, type IndexEntry } from '../../src/pipeline/process-file.js';

export const CT = '1.2.840.10008.5.1.4.1.1.2';
export const MR = '1.2.840.10008.5.1.4.1.1.4';
export const RTSTRUCT = '1.2.840.10008.5.1.4.1.1.481.3';
export const BASIC_TEXT_SR = '1.2.840.10008.5.1.4.1.1.88.11';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';

// ---------------------------------------------------------------------------------------------
// Input

export interface EntryInput {
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

export function entry(e: EntryInput): IndexEntry {
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

export const A = 'RAD-AAAA1111';
export const B = 'RAD-BBBB2222';
export const study1 = { researchId: A, studyUid: '2.25.1001', studyDate: '20200102', studyTime: '14:04:38', studyId: 'ST1' };
export const study2 = { researchId: A, studyUid: '2.25.1002', studyDate: '20210101', studyTime: '080000' };
export const study3 = { researchId: B, studyUid: '2.25.1003' };

export const ct1 = { ...study1, seriesUid: '2.25.2001', sopClassUid: CT, modality: 'CT', seriesNumber: '1' };
export const rtss = { ...study1, seriesUid: '2.25.2002', sopClassUid: RTSTRUCT, modality: 'RTSTRUCT', seriesNumber: '2' };
export const sr = { ...study1, seriesUid: '2.25.2005', sopClassUid: BASIC_TEXT_SR, modality: 'SR', seriesNumber: '3' };
export const mr = { ...study2, seriesUid: '2.25.2003', sopClassUid: MR, modality: 'MR', seriesNumber: '5' };
export const ct2 = { ...study3, seriesUid: '2.25.2004', sopClassUid: CT, modality: 'CT', seriesNumber: '' };

export const E = {
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
export const noSopInstance = entry({ ...ct2, sopInstanceUid: '', instanceNumber: '7', output: 'DICOM/PX/SX/EX/INOUID' });
export const treeLayout = entry({ ...ct2, sopInstanceUid: '2.25.3010', instanceNumber: '8', output: 'RAD-BBBB2222/2.25.1003/2.25.2004/2.25.3010.dcm' });

/** In no particular order, with a duplicate (a resumed, identical file) and the unusable ones. */
export const ENTRIES: readonly IndexEntry[] = [E.mr2, E.ct2b, E.sr, E.ct1a, noSopInstance, E.rtss, E.ct1c, E.mr1, E.ct2a, treeLayout, E.ct1b, E.mr1];

/** The hierarchy the directory must hold, written out by hand. */
export interface Node {
  readonly type: string;
  readonly id: string;
  readonly file?: string;
  readonly children: readonly Node[];
}

export const fileId = (e: IndexEntry) => e.output.split('/').join('\\');
export const leaf = (type: string, e: IndexEntry): Node => ({ type, id: e.sopInstanceUid, file: fileId(e), children: [] });
export const EXPECTED: readonly Node[] = [
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

export function el(t: Tag, vr: VR, value: string): Element {
  return { kind: 'value', tag: t, vr, bytes: encodeAscii(value, vr === 'UI' ? 0x00 : 0x20) };
}

export function ds(...elements: Element[]): Dataset {
  return new Map(elements.map((e) => [e.tag, e]));
}

export function sq(t: Tag, ...items: Dataset[]): Element {
  return { kind: 'sequence', tag: t, vr: 'SQ', items };
}

export const code = (value: string, scheme: string, meaning: string) =>
  ds(el(tag(0x0008, 0x0100), 'SH', value), el(tag(0x0008, 0x0102), 'SH', scheme), el(tag(0x0008, 0x0104), 'LO', meaning));

export function fileFor(e: IndexEntry, extra: Element[]): Buffer {
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

export const NON_IMAGE_FILES: readonly [IndexEntry, Element[]][] = [
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

export async function prepareOutput(dir: string): Promise<void> {
  for (const [e, extra] of NON_IMAGE_FILES) {
    const path = join(dir, e.output);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, fileFor(e, extra));
  }
}

// ---------------------------------------------------------------------------------------------
// An explicit VR little endian parser for one directory record, independent of src/

export const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
export const T = {
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

export interface Raw {
  readonly vr: string;
  readonly value: Buffer;
}

/** The elements of the item whose Item tag is at `offset` (defined lengths only, as written). */
export function itemAt(buf: Buffer, offset: number): Map<number, Raw> {
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

export const str = (item: Map<number, Raw>, t: number) => item.get(t)?.value.toString('latin1').replace(/[\0 ]+$/, '') ?? '';
export const u32 = (item: Map<number, Raw>, t: number) => {
  const raw = item.get(t);
  expect(raw?.vr, `UL (${t.toString(16)})`).toBe('UL');
  return raw!.value.readUInt32LE(0);
};

export const ID_KEY: Record<string, number> = { PATIENT: 0x00100020, STUDY: 0x0020000d, SERIES: 0x0020000e };

/** Follows the chain of records from `offset` and, depth first, their lower-level entities. */
export function walk(buf: Buffer, offset: number, visited: Map<number, Map<number, Raw>>): { nodes: Node[]; last: number } {
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

export function tool(cmd: string, args: string[], pkg: string): { status: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${cmd} is not installed: this test needs it (Debian/Ubuntu: apt-get install ${pkg})`);
    }
    throw r.error;
  }
  return { status: r.status, out: r.stdout, err: r.stderr };
}

