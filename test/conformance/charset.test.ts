import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import dicomParser from 'dicom-parser';
import { decodeText, encodeText, parseSpecificCharacterSet, type CharacterSets } from '../../src/dicom/charset.js';
import { isVR, VR_TRAITS, type VR } from '../../src/dicom/vr.js';
import { independentOptions } from './helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = process.env.RADANON_SHARED_DATA ?? path.resolve(repoRoot, '../shared/data');
const dicomDir = path.join(dataDir, 'dicom');
const charsetDir = path.join(dicomDir, 'pydicom', 'charset');
const manifestPath = path.join(dicomDir, 'MANIFEST.tsv');

// Decoded names of the charset test files' PatientName, as pydicom's tests state them.
const EXPECTED_PATIENT_NAMES: Readonly<Record<string, string>> = {
  'chrArab.dcm': 'قباني^لنزار',
  'chrFren.dcm': 'Buc^Jérôme',
  'chrFrenMulti.dcm': 'Buc^Jérôme',
  'chrGerm.dcm': 'Äneas^Rüdiger',
  'chrGreek.dcm': 'Διονυσιος',
  'chrH31.dcm': 'Yamada^Tarou=山田^太郎=やまだ^たろう',
  'chrH32.dcm': 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
  'chrHbrw.dcm': 'שרון^דבורה',
  'chrI2.dcm': 'Hong^Gildong=洪^吉洞=홍^길동',
  'chrJapMulti.dcm': 'やまだ^たろう',
  'chrJapMultiExplicitIR6.dcm': 'やまだ^たろう',
  'chrKoreanMulti.dcm': '김희중',
  'chrRuss.dcm': 'Люкceмбypг',
  'chrX1.dcm': 'Wang^XiaoDong=王^小東=',
  'chrX2.dcm': 'Wang^XiaoDong=王^小东=',
};

/**
 * Files whose values re-encode to different, equally legal bytes. Every difference elsewhere,
 * and any difference here that does not decode to the same text, fails the test.
 */
const DIFFERENT_ESCAPE_STYLE: Readonly<Record<string, string>> = {
  'pydicom/charset/chrKoreanMulti.dcm':
    'each value ends with ESC ( B although only G1 was switched (to KS X 1001) and G0 never left ASCII; the encoder leaves the redundant sequence out',
  'pydicom/charset/chrSQEncoding.dcm':
    "the sequence item's value 1 is ISO 2022 IR 13, so G0 starts as JIS X 0201 Romaji and PS3.5 H.3.2 returns to it with ESC ( J; the file returns with ESC ( B (ASCII), which reads the same",
};

type DataSet = dicomParser.DataSet;
type Element = dicomParser.Element;

/** The parsed data set, or what was parsed before an error (truncated files), or undefined. */
function readDataSet(file: string, transferSyntax: string): DataSet | undefined {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const options = independentOptions(
    !transferSyntax.startsWith('no meta') ? undefined
      : transferSyntax.includes('BE') ? '1.2.840.10008.1.2.2'
      : transferSyntax.includes('implicit') ? '1.2.840.10008.1.2' : '1.2.840.10008.1.2.1',
  );
  try {
    return dicomParser.parseDicom(bytes, options);
  } catch (e) {
    return (e as { dataSet?: DataSet }).dataSet;
  }
}

function rawBytes(ds: DataSet, el: Element): Uint8Array | undefined {
  if (el.length === 0xffffffff || el.dataOffset + el.length > ds.byteArray.length) return undefined;
  return ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
}

/** Value bytes without the trailing padding that encoding leaves to the writer. */
function unpadded(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x00)) end--;
  return bytes.subarray(0, end);
}

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

interface TextElement {
  readonly where: string;
  readonly vr: VR;
  readonly sets: CharacterSets;
  readonly bytes: Uint8Array;
}

/** Every charset-aware element, nested ones included, with the (0008,0005) in force for it (PS3.5 7.5.3 inheritance). */
function textElements(ds: DataSet, inherited: CharacterSets, where = ''): TextElement[] {
  let sets = inherited;
  const cs = ds.elements['x00080005'];
  if (cs !== undefined) {
    const raw = rawBytes(ds, cs);
    if (raw !== undefined) sets = parseSpecificCharacterSet(latin1(raw));
  }
  const out: TextElement[] = [];
  for (const el of Object.values(ds.elements)) {
    if (el.items !== undefined) {
      el.items.forEach((item, i) => {
        if (item.dataSet !== undefined) out.push(...textElements(item.dataSet, sets, `${where}${el.tag}[${i}].`));
      });
      continue;
    }
    const vr = el.vr;
    if (vr === undefined || !isVR(vr) || !VR_TRAITS[vr].charsetAware) continue;
    const bytes = rawBytes(ds, el);
    if (bytes !== undefined) out.push({ where: `${where}${el.tag}`, vr, sets, bytes: unpadded(bytes) });
  }
  return out;
}

/** Python bytes literal body ('\x1b$B;3ED' etc.), as FileInfo.txt prints the names. */
function pythonBytes(body: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out.push(c.charCodeAt(0));
      continue;
    }
    const next = body[++i]!;
    if (next === 'x') {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(({ n: 0x0a, r: 0x0d, t: 0x09 } as Record<string, number>)[next] ?? next.charCodeAt(0));
    }
  }
  return Uint8Array.from(out);
}

interface FileInfoRow {
  readonly file: string;
  readonly charset: string;
  readonly patientName: Uint8Array;
}

function readFileInfo(): FileInfoRow[] {
  const rows: FileInfoRow[] = [];
  for (const line of fs.readFileSync(path.join(charsetDir, 'FileInfo.txt'), 'latin1').split(/\r?\n/)) {
    // File name, then a term ('ISO_IR 100', 'GB18030') or a Python list of terms, then a bytes literal.
    const m = /^(\S+\.dcm)\s+(\[[^\]]*\]|\S+(?: \S+)?)\s+'(.*)'$/.exec(line.trim());
    if (m === null) continue;
    const charsetCol = m[2]!;
    const charset = charsetCol.startsWith('[') ? [...charsetCol.matchAll(/'([^']*)'/g)].map((t) => t[1]).join('\\') : charsetCol;
    rows.push({ file: m[1]!, charset, patientName: pythonBytes(m[3]!) });
  }
  return rows;
}

function manifestDicomFiles(): { path: string; transferSyntax: string }[] {
  const [header, ...lines] = fs.readFileSync(manifestPath, 'utf8').trim().split('\n');
  const cols = header!.split('\t');
  const pathCol = cols.indexOf('path');
  const tsCol = cols.indexOf('transfer_syntax');
  return lines
    .map((l) => l.split('\t'))
    .filter((c) => !(c[tsCol] ?? '').startsWith('n/a'))
    .map((c) => ({ path: c[pathCol]!, transferSyntax: c[tsCol] ?? '' }));
}

describe.skipIf(!fs.existsSync(manifestPath))('Specific Character Set on real files', () => {
  it('decodes the PatientName of every charset test file to the expected name', () => {
    let checked = 0;
    for (const [file, expected] of Object.entries(EXPECTED_PATIENT_NAMES)) {
      const full = path.join(charsetDir, file);
      if (!fs.existsSync(full)) continue;
      const ds = readDataSet(full, '')!;
      const pn = textElements(ds, parseSpecificCharacterSet(undefined)).find((e) => e.where === 'x00100010');
      expect(pn, file).toBeDefined();
      expect(decodeText(pn!.bytes, pn!.sets, 'PN'), file).toBe(expected);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('decodes the PatientName inside a sequence item with its own Specific Character Set', () => {
    const ds = readDataSet(path.join(charsetDir, 'chrSQEncoding.dcm'), '')!;
    const nested = textElements(ds, parseSpecificCharacterSet(undefined)).filter((e) => e.where.endsWith('.x00100010'));
    expect(nested).toHaveLength(1);
    expect(nested[0]!.sets.terms).toEqual(['ISO 2022 IR 13', 'ISO 2022 IR 87']);
    expect(decodeText(nested[0]!.bytes, nested[0]!.sets, 'PN')).toBe('ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう');
  });

  it('agrees with FileInfo.txt on the raw names and character sets, and re-encodes those names byte for byte', () => {
    let checked = 0;
    for (const row of readFileInfo()) {
      const full = path.join(charsetDir, row.file);
      if (!fs.existsSync(full)) continue;
      const ds = readDataSet(full, '')!;
      const pn = textElements(ds, parseSpecificCharacterSet(undefined)).find((e) => e.where === 'x00100010')!;
      expect(pn.bytes, row.file).toEqual(row.patientName);
      expect(pn.sets.terms, row.file).toEqual(parseSpecificCharacterSet(row.charset).terms);
      expect(encodeText(decodeText(pn.bytes, pn.sets, 'PN'), pn.sets, 'PN'), row.file).toEqual(row.patientName);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('round-trips every charset-aware element of every manifest file, byte for byte except known escape styles', () => {
    const differences = new Map<string, string[]>();
    const failures: string[] = [];
    let identical = 0;
    for (const entry of manifestDicomFiles()) {
      const full = path.join(dicomDir, entry.path);
      if (!fs.existsSync(full)) continue;
      const ds = readDataSet(full, entry.transferSyntax);
      if (ds === undefined) continue;
      for (const e of textElements(ds, parseSpecificCharacterSet(undefined))) {
        const label = `${entry.path} ${e.where} ${e.vr} [${e.sets.toString()}]`;
        const text = decodeText(e.bytes, e.sets, e.vr);
        let back: Uint8Array;
        try {
          back = encodeText(text, e.sets, e.vr);
        } catch (err) {
          failures.push(`${label}: ${(err as Error).message}`);
          continue;
        }
        if (Buffer.from(back).equals(Buffer.from(e.bytes))) {
          identical++;
        } else if (decodeText(back, e.sets, e.vr) !== text) {
          failures.push(`${label}: re-encoded bytes decode differently`);
        } else {
          const list = differences.get(entry.path) ?? [];
          list.push(`${label}: ${JSON.stringify(latin1(e.bytes))} -> ${JSON.stringify(latin1(back))}`);
          differences.set(entry.path, list);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(identical).toBeGreaterThan(1000);
    expect([...differences.keys()].filter((f) => !(f in DIFFERENT_ESCAPE_STYLE))).toEqual([]);
    // Keeps the list above honest: each file in it still shows the difference it describes.
    expect([...differences.keys()].sort()).toEqual(
      Object.keys(DIFFERENT_ESCAPE_STYLE).filter((f) => fs.existsSync(path.join(dicomDir, f))).sort(),
    );
  });
});
