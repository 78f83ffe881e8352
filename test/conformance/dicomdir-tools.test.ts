/**
 * The DICOMDIR that radanon writes, read by the tools of the field: dcmtk's dcmdump reads it,
 * dicom3tools' dciodvfy finds no error in it and dcdirdmp (which follows the offsets too) sees the
 * hierarchy the test fixture describes. A missing tool fails the test with the package to
 * install; CI installs them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDicom } from '../../src/dicom/reader.js';
import type { Tag } from '../../src/dicom/tag.js';
import { writeDicomdir } from '../../src/pipeline/dicomdir.js';
import { ENTRIES, type Node, EXPECTED, prepareOutput, T, tool } from '../support/dicomdir-fixture.js';

describe('a DICOMDIR written by radanon, read by dcmtk and dicom3tools', () => {
  let dir: string;
  let bytes: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'radanon-dicomdir-'));
    await prepareOutput(dir);
    await writeDicomdir(dir, ENTRIES);
    bytes = await readFile(join(dir, 'DICOMDIR'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
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

});
