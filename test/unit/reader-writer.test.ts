import dicomParser from 'dicom-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asciiValue, TRANSFER_SYNTAX, transferSyntaxOf, uint16Value, type Dataset, type DicomFile, type Element } from '../../src/dicom/dataset.js';
import { DicomParseError, NotDicomError } from '../../src/dicom/errors.js';
import { readDicom } from '../../src/dicom/reader.js';
import { Tags, tag, type Tag } from '../../src/dicom/tag.js';
import { encodeDicomToBuffer } from '../../src/dicom/writer.js';
import {
  binaryElement,
  dataset,
  datasetDifferences,
  fixtureBytes,
  part10Header,
  RawBuilder,
  readFixture,
  text,
  textElement,
} from './support/dicom.js';

const PatientName = Tags.PatientName;
const Rows = tag(0x0028, 0x0010);

/** Writes a parsed file back in its own transfer syntax, with a meta group that states it. */
function rewrite(file: DicomFile): Buffer {
  const meta = new Map(file.meta);
  if (!meta.has(Tags.TransferSyntaxUID)) meta.set(Tags.TransferSyntaxUID, textElement(Tags.TransferSyntaxUID, 'UI', file.transferSyntax.uid));
  return encodeDicomToBuffer({ meta, dataset: file.dataset, transferSyntax: file.transferSyntax });
}

function sq(ds: Dataset, t: Tag): Extract<Element, { kind: 'sequence' }> {
  const el = ds.get(t);
  if (!el || el.kind !== 'sequence') throw new Error(`no sequence ${t.toString(16)}`);
  return el;
}

function expectParseError(bytes: Uint8Array): DicomParseError {
  try {
    readDicom(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(DicomParseError);
    return e as DicomParseError;
  }
  throw new Error('readDicom accepted the input');
}

const ROUND_TRIP = [
  { name: 'CT_small.dcm', ts: TRANSFER_SYNTAX.ExplicitVRLittleEndian, what: 'explicit VR little endian, GE private blocks' },
  { name: 'MR_small.dcm', ts: TRANSFER_SYNTAX.ExplicitVRLittleEndian, what: 'explicit VR little endian' },
  { name: 'MR_small_implicit.dcm', ts: TRANSFER_SYNTAX.ImplicitVRLittleEndian, what: 'implicit VR little endian' },
  { name: 'MR_small_bigendian.dcm', ts: TRANSFER_SYNTAX.ExplicitVRBigEndian, what: 'explicit VR big endian' },
  { name: 'image_dfl.dcm', ts: TRANSFER_SYNTAX.DeflatedExplicitVRLittleEndian, what: 'deflated explicit VR little endian' },
  { name: 'MR_small_RLE.dcm', ts: '1.2.840.10008.1.2.5', what: 'RLE lossless, encapsulated pixel data' },
  { name: 'rtstruct.dcm', ts: TRANSFER_SYNTAX.ImplicitVRLittleEndian, what: 'implicit, no preamble, no meta, nested sequences' },
  { name: 'test-SR.dcm', ts: TRANSFER_SYNTAX.ExplicitVRLittleEndian, what: 'SR content tree, 5 levels of sequences' },
  { name: 'reportsi.dcm', ts: TRANSFER_SYNTAX.ExplicitVRLittleEndian, what: 'basic text SR' },
  { name: 'chrH31.dcm', ts: TRANSFER_SYNTAX.ExplicitVRLittleEndian, what: 'ISO 2022 escape sequences' },
  { name: 'chrX1.dcm', ts: TRANSFER_SYNTAX.ExplicitVRLittleEndian, what: 'UTF-8 text' },
  { name: 'nested_priv_SQ.dcm', ts: TRANSFER_SYNTAX.ImplicitVRLittleEndian, what: 'nested private sequences, odd-length value' },
  { name: 'ExplVR_BigEndNoMeta.dcm', ts: TRANSFER_SYNTAX.ExplicitVRBigEndian, what: 'big endian without preamble and meta' },
] as const;

describe('read → write → read round trip of real files', () => {
  for (const f of ROUND_TRIP) {
    describe(`${f.name} (${f.what})`, () => {
      const original = readFixture(f.name);
      const written = rewrite(original);
      const again = readDicom(written);

      it('keeps its transfer syntax', () => {
        expect(original.transferSyntax.uid).toBe(f.ts);
        expect(again.transferSyntax.uid).toBe(f.ts);
        expect(again.layout.inferredTransferSyntax).toBe(false);
        expect(again.layout.preamble && again.layout.fileMeta).toBe(true);
      });

      it('has the same elements, VRs, items and value bytes', () => {
        expect(original.dataset.size).toBeGreaterThan(0);
        expect(datasetDifferences(original.dataset, again.dataset)).toEqual([]);
      });

      it('keeps the pixel data bytes identical', () => {
        const before = original.dataset.get(Tags.PixelData);
        const after = again.dataset.get(Tags.PixelData);
        if (!before) {
          expect(after).toBeUndefined();
          return;
        }
        expect(after?.kind).toBe(before.kind);
        if (before.kind === 'sequence' || after?.kind === 'sequence' || !after) throw new Error('pixel data read as a sequence');
        expect(Buffer.from(after.bytes).equals(Buffer.from(before.bytes))).toBe(true);
        if (!f.ts.endsWith('.99')) {
          // Not deflated: the pixel bytes occur verbatim at the end of the written file.
          expect(written.lastIndexOf(Buffer.from(before.bytes))).toBe(written.length - before.bytes.length);
        }
      });

      it('is a fixed point: writing the re-read file gives the same bytes', () => {
        expect(rewrite(again).equals(written)).toBe(true);
      });
    });
  }

  it('an independent parser (dicom-parser) reads the written files with the same values', () => {
    for (const name of ['CT_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_RLE.dcm']) {
      const original = readFixture(name);
      const parsed = dicomParser.parseDicom(new Uint8Array(rewrite(original)));
      expect(parsed.string('x00100010'), name).toBe(text(original.dataset.get(PatientName)));
      expect(parsed.string('x0020000d'), name).toBe(asciiValue(original.dataset.get(Tags.StudyInstanceUID)));
      expect(parsed.uint16('x00280010'), name).toBe(uint16Value(original.dataset.get(Rows), original.transferSyntax.littleEndian));
      const px = original.dataset.get(Tags.PixelData)!;
      if (px.kind === 'value') expect(parsed.elements['x7fe00010']!.length, name).toBe(px.bytes.length);
    }
  });

  it('the untilTag option stops before pixel data and reads the same header', () => {
    const full = readFixture('CT_small.dcm');
    const header = readDicom(fixtureBytes('CT_small.dcm'), { untilTag: Tags.PixelData });
    expect(header.dataset.has(Tags.PixelData)).toBe(false);
    expect(header.dataset.size).toBe(full.dataset.size - 1);
    const withoutPixels = new Map(full.dataset);
    withoutPixels.delete(Tags.PixelData);
    expect(datasetDifferences(withoutPixels, header.dataset)).toEqual([]);
  });
});

const EXPLICIT_LE = TRANSFER_SYNTAX.ExplicitVRLittleEndian;

describe('synthetic structures', () => {
  it('undefined-length sequences and items, mixed with defined-length items', () => {
    const innerDefined = new RawBuilder().explicit(0x0008, 0x1155, 'UI', '1.2.3.99').build();
    const secondItem = new RawBuilder().explicit(0x0020, 0x000e, 'UI', '1.2.3.5\0').build();
    const bytes = Buffer.concat([
      part10Header(EXPLICIT_LE),
      new RawBuilder()
        .explicit(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.7\0')
        .explicitHeader(0x0008, 0x1115, 'SQ', 0xffffffff)
        .item()
        .explicit(0x0008, 0x1150, 'UI', '1.2.840.10008.5.1.4.1.1.2\0')
        .explicitHeader(0x0008, 0x1199, 'SQ', 0xffffffff)
        .item(innerDefined.length)
        .raw(innerDefined)
        .sequenceEnd()
        .explicit(0x0020, 0x000e, 'UI', '1.2.3.4\0')
        .itemEnd()
        .item(secondItem.length)
        .raw(secondItem)
        .sequenceEnd()
        .explicit(0x0010, 0x0010, 'PN', 'Doe^John')
        .build(),
    ]);
    const file = readDicom(bytes);
    const seq = sq(file.dataset, tag(0x0008, 0x1115));
    expect(seq.items).toHaveLength(2);
    expect(asciiValue(seq.items[0]!.get(tag(0x0020, 0x000e)))).toBe('1.2.3.4');
    const nested = sq(seq.items[0]!, tag(0x0008, 0x1199));
    expect(nested.items).toHaveLength(1);
    expect(asciiValue(nested.items[0]!.get(tag(0x0008, 0x1155)))).toBe('1.2.3.99');
    expect(asciiValue(seq.items[1]!.get(tag(0x0020, 0x000e)))).toBe('1.2.3.5');
    // The element after the sequence is found: the delimiters were consumed exactly.
    expect(text(file.dataset.get(PatientName))).toBe('Doe^John');

    const again = readDicom(rewrite(file));
    expect(datasetDifferences(file.dataset, again.dataset)).toEqual([]);
  });

  it('nested empty sequences and empty items survive as such', () => {
    const bytes = Buffer.concat([
      part10Header(EXPLICIT_LE),
      new RawBuilder()
        .explicitHeader(0x0008, 0x1110, 'SQ', 0) // empty, defined length
        .explicitHeader(0x0008, 0x1115, 'SQ', 0xffffffff) // empty, undefined length
        .sequenceEnd()
        .explicitHeader(0x0008, 0x1140, 'SQ', 0xffffffff)
        .item(0) // empty item, defined length
        .item() // empty item, undefined length
        .itemEnd()
        .item()
        .explicitHeader(0x0040, 0x0275, 'SQ', 0) // empty sequence inside an item
        .explicitHeader(0x0040, 0xa730, 'SQ', 0xffffffff)
        .item()
        .explicitHeader(0x0040, 0xa730, 'SQ', 0xffffffff) // two levels down, still empty
        .sequenceEnd()
        .itemEnd()
        .sequenceEnd()
        .itemEnd()
        .sequenceEnd()
        .explicit(0x0010, 0x0020, 'LO', 'ID42')
        .build(),
    ]);
    const file = readDicom(bytes);
    expect(sq(file.dataset, tag(0x0008, 0x1110)).items).toHaveLength(0);
    expect(sq(file.dataset, tag(0x0008, 0x1115)).items).toHaveLength(0);
    const items = sq(file.dataset, tag(0x0008, 0x1140)).items;
    expect(items.map((i) => i.size)).toEqual([0, 0, 2]);
    expect(sq(items[2]!, tag(0x0040, 0x0275)).items).toHaveLength(0);
    const content = sq(items[2]!, tag(0x0040, 0xa730));
    expect(content.items).toHaveLength(1);
    expect(sq(content.items[0]!, tag(0x0040, 0xa730)).items).toHaveLength(0);
    expect(text(file.dataset.get(Tags.PatientID))).toBe('ID42');

    for (const ts of [EXPLICIT_LE, TRANSFER_SYNTAX.ImplicitVRLittleEndian, TRANSFER_SYNTAX.ExplicitVRBigEndian]) {
      const again = readDicom(encodeDicomToBuffer({ meta: dataset(textElement(Tags.TransferSyntaxUID, 'UI', ts)), dataset: file.dataset }));
      expect(datasetDifferences(file.dataset, again.dataset), ts).toEqual([]);
    }
  });

  function unSequenceFile(little: boolean): Buffer {
    // The UN value holds items in implicit VR little endian (PS3.5 6.2.2), whatever the dataset's byte order.
    const items = new RawBuilder(true)
      .item()
      .implicit(0x0010, 0x0010, 'Doe^Jane')
      .implicit(0x0028, 0x0010, Uint8Array.of(0x40, 0x00)) // Rows = 64, little endian
      .itemEnd()
      .item()
      .implicit(0x0008, 0x0100, 'T-1234')
      .itemEnd()
      .sequenceEnd()
      .build();
    const body = new RawBuilder(little)
      .explicit(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.7\0')
      .explicit(0x0019, 0x0010, 'LO', 'ACME 1.0')
      .explicitHeader(0x0019, 0x1010, 'UN', 0xffffffff)
      .raw(items)
      .explicit(0x0020, 0x000d, 'UI', '1.2.3.4\0')
      .build();
    return Buffer.concat([part10Header(little ? EXPLICIT_LE : TRANSFER_SYNTAX.ExplicitVRBigEndian), body]);
  }

  it('UN with undefined length is read as a sequence of implicit-VR little-endian items (explicit VR little endian)', () => {
    const file = readDicom(unSequenceFile(true));
    const seq = sq(file.dataset, tag(0x0019, 0x1010));
    expect(seq.vr).toBe('UN');
    expect(seq.items).toHaveLength(2);
    const first = seq.items[0]!;
    expect(first.get(PatientName)?.vr).toBe('PN');
    expect(text(first.get(PatientName))).toBe('Doe^Jane');
    expect(uint16Value(first.get(Rows), true)).toBe(64);
    expect(text(seq.items[1]!.get(tag(0x0008, 0x0100)))).toBe('T-1234');
    expect(asciiValue(file.dataset.get(Tags.StudyInstanceUID))).toBe('1.2.3.4');

    const again = readDicom(rewrite(file));
    const seq2 = sq(again.dataset, tag(0x0019, 0x1010));
    expect(seq2.items).toHaveLength(2);
    expect(text(seq2.items[0]!.get(PatientName))).toBe('Doe^Jane');
    expect(uint16Value(seq2.items[0]!.get(Rows), true)).toBe(64);
    expect(asciiValue(again.dataset.get(Tags.StudyInstanceUID))).toBe('1.2.3.4');
  });

  it('UN with undefined length in a big-endian dataset keeps binary values intact through a rewrite', () => {
    const file = readDicom(unSequenceFile(false));
    const seq = sq(file.dataset, tag(0x0019, 0x1010));
    expect(text(seq.items[0]!.get(PatientName))).toBe('Doe^Jane');
    // The items of a UN sequence are implicit VR little endian whatever the data set's byte
    // order (PS3.5 6.2.2): written back as UN, Rows must still read 64 as little endian.
    const written = rewrite(file);
    const again = readDicom(written);
    expect(again.transferSyntax.littleEndian).toBe(false);
    const rewritten = sq(again.dataset, tag(0x0019, 0x1010));
    expect(rewritten.vr).toBe('UN');
    expect(uint16Value(rewritten.items[0]!.get(Rows), true)).toBe(64);
    expect(text(rewritten.items[0]!.get(PatientName))).toBe('Doe^Jane');
  });

  it('an explicit UN element of a standard attribute is read with its dictionary VR', () => {
    const bytes = Buffer.concat([
      part10Header(EXPLICIT_LE),
      new RawBuilder().explicit(0x0010, 0x0010, 'UN', 'Doe^John').explicit(0x0028, 0x0010, 'UN', Uint8Array.of(0x00, 0x02)).build(),
    ]);
    const file = readDicom(bytes);
    expect(file.dataset.get(PatientName)?.vr).toBe('PN');
    expect(file.dataset.get(Rows)?.vr).toBe('US');
    expect(uint16Value(file.dataset.get(Rows), true)).toBe(512);
  });

  it('odd-length values are padded to even length with the VR padding byte', () => {
    const ds = dataset(
      binaryElement(PatientName, 'PN', Buffer.from('ABC')),
      binaryElement(Tags.StudyInstanceUID, 'UI', Buffer.from('1.2.3')),
      binaryElement(tag(0x0009, 0x0010), 'LO', Buffer.from('ODD')),
      binaryElement(tag(0x0009, 0x1001), 'OB', Uint8Array.of(1, 2, 3)),
    );
    for (const ts of [EXPLICIT_LE, TRANSFER_SYNTAX.ImplicitVRLittleEndian, TRANSFER_SYNTAX.ExplicitVRBigEndian]) {
      const out = encodeDicomToBuffer({ meta: dataset(textElement(Tags.TransferSyntaxUID, 'UI', ts)), dataset: ds });
      expect(out.length % 2, ts).toBe(0);
      const back = readDicom(out).dataset;
      expect(Buffer.from((back.get(PatientName) as { bytes: Uint8Array }).bytes).toString('latin1'), ts).toBe('ABC ');
      expect(Buffer.from((back.get(Tags.StudyInstanceUID) as { bytes: Uint8Array }).bytes).toString('latin1'), ts).toBe('1.2.3\0');
      expect(Buffer.from((back.get(tag(0x0009, 0x0010)) as { bytes: Uint8Array }).bytes).toString('latin1'), ts).toBe('ODD ');
      expect([...(back.get(tag(0x0009, 0x1001)) as { bytes: Uint8Array }).bytes], ts).toEqual([1, 2, 3, 0]);
    }
    // In explicit VR little endian, the header states the padded length.
    const le = encodeDicomToBuffer({ meta: dataset(textElement(Tags.TransferSyntaxUID, 'UI', EXPLICIT_LE)), dataset: ds });
    const at = le.indexOf(Buffer.from([0x10, 0x00, 0x10, 0x00, 0x50, 0x4e])); // (0010,0010) PN
    expect(le.readUInt16LE(at + 6)).toBe(4);
    expect(le.subarray(at + 8, at + 12).toString('latin1')).toBe('ABC ');
  });

  it('a value too long for a 16-bit length is written as UN and read back with its own VR', () => {
    const long = 'x'.repeat(70_000);
    const ds = dataset(textElement(tag(0x0008, 0x1030), 'LO', long));
    const back = readDicom(encodeDicomToBuffer({ meta: dataset(textElement(Tags.TransferSyntaxUID, 'UI', EXPLICIT_LE)), dataset: ds })).dataset;
    expect(back.get(tag(0x0008, 0x1030))?.vr).toBe('LO');
    expect(text(back.get(tag(0x0008, 0x1030)))).toBe(long);
  });
});

describe('malformed input', () => {
  it('a truncated real file: DicomParseError naming the element and "truncated"', () => {
    const e = expectParseError(fixtureBytes('MR_truncated.dcm'));
    expect(e.tag).toBe(Tags.PixelData);
    expect(e.message).toContain('truncated');
    expect(e.message).toContain('(7FE0,0010)');
    expect(e).not.toBeInstanceOf(NotDicomError);
  });

  it('a text element whose declared length runs past the end', () => {
    const bytes = Buffer.concat([
      part10Header(EXPLICIT_LE),
      new RawBuilder().explicit(0x0008, 0x0060, 'CS', 'CT').explicitHeader(0x0010, 0x0010, 'PN', 20).raw('Doe^Jo').build(),
    ]);
    const e = expectParseError(bytes);
    expect(e.tag).toBe(PatientName);
    expect(e.message).toMatch(/truncated/);
    expect(e.message).toContain('(0010,0010)');
  });

  it('a truncated element inside a sequence item is named', () => {
    const bytes = Buffer.concat([
      part10Header(EXPLICIT_LE),
      new RawBuilder().explicitHeader(0x0008, 0x1115, 'SQ', 0xffffffff).item().explicitHeader(0x0020, 0x000e, 'UI', 40).raw('1.2.3').build(),
    ]);
    const e = expectParseError(bytes);
    expect(e.tag).toBe(Tags.SeriesInstanceUID);
    expect(e.message).toContain('truncated');
  });

  it('a sequence without its delimiter, and an item without its delimiter', () => {
    const noSeqEnd = Buffer.concat([
      part10Header(EXPLICIT_LE),
      new RawBuilder().explicitHeader(0x0008, 0x1115, 'SQ', 0xffffffff).item().explicit(0x0020, 0x000e, 'UI', '1.2\0').itemEnd().build(),
    ]);
    expect(expectParseError(noSeqEnd).message).toContain('truncated');
    const noItemEnd = Buffer.concat([
      part10Header(EXPLICIT_LE),
      new RawBuilder().explicitHeader(0x0008, 0x1115, 'SQ', 0xffffffff).item().explicit(0x0020, 0x000e, 'UI', '1.2\0').build(),
    ]);
    expect(expectParseError(noItemEnd).message).toContain('truncated');
  });

  it('an encapsulated pixel data fragment cut short', () => {
    // The file ends with 138 bytes of (FFFC,FFFC) Data Set Trailing Padding, which the reader
    // rightly ignores; cut into the last fragment itself.
    const good = fixtureBytes('MR_small_RLE.dcm');
    const e = expectParseError(good.subarray(0, good.length - 300));
    expect(e.tag).toBe(Tags.PixelData);
    expect(e.message).toContain('truncated');
  });

  it('every prefix of a real file either parses or throws DicomParseError (never a RangeError)', () => {
    for (const name of ['MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_RLE.dcm', 'test-SR.dcm']) {
      const full = fixtureBytes(name);
      const wrong: string[] = [];
      for (let n = 0; n < Math.min(full.length, 2400); n++) {
        try {
          readDicom(full.subarray(0, n));
        } catch (e) {
          if (!(e instanceof DicomParseError)) wrong.push(`${n}: ${(e as Error).name}: ${(e as Error).message}`);
        }
      }
      expect(wrong.slice(0, 5), name).toEqual([]);
    }
  });

  it('random corruption of header bytes gives DicomParseError or a parse, never another exception', () => {
    const full = fixtureBytes('test-SR.dcm');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(full.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
        const b = Buffer.from(full);
        for (const [at, v] of edits) b[at] = v;
        try {
          readDicom(b);
        } catch (e) {
          if (!(e instanceof DicomParseError)) throw e;
        }
      }),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('an invalid VR gives DicomParseError naming the VR and the element', () => {
    const lower = Buffer.concat([part10Header(EXPLICIT_LE), new RawBuilder().explicit(0x0008, 0x0060, 'CS', 'CT').explicit(0x0010, 0x0010, 'zz', 'Doe^John').build()]);
    const e = expectParseError(lower);
    expect(e.message).toContain('invalid VR');
    expect(e.message).toContain('"zz"');
    expect(e.tag).toBe(PatientName);
    const unknownUpper = Buffer.concat([part10Header(EXPLICIT_LE), new RawBuilder().explicit(0x0010, 0x0010, 'QQ', 'Doe^John').build()]);
    expect(expectParseError(unknownUpper).message).toContain('invalid VR "QQ"');
  });

  it('a text file, an empty file, a PNG and a DICM marker with nothing after it: NotDicomError', () => {
    expect(() => readDicom(Buffer.from('Patient list\nDoe, John; 1970-01-01\n'.repeat(20)))).toThrow(NotDicomError);
    expect(() => readDicom(new Uint8Array(0))).toThrow(NotDicomError);
    expect(() => readDicom(Buffer.from('89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61', 'hex'))).toThrow(NotDicomError);
    expect(() => readDicom(Buffer.concat([Buffer.alloc(128), Buffer.from('DICM')]))).toThrow(NotDicomError);
    // NotDicomError is a DicomParseError, so callers catching the latter also catch it.
    expect(new NotDicomError()).toBeInstanceOf(DicomParseError);
  });
});

describe('files without preamble or file meta', () => {
  it('real files with neither: transfer syntax inferred, values readable', () => {
    const cases = [
      { name: 'ExplVR_LitEndNoMeta.dcm', ts: EXPLICIT_LE },
      { name: 'ExplVR_BigEndNoMeta.dcm', ts: TRANSFER_SYNTAX.ExplicitVRBigEndian },
      { name: 'rtstruct.dcm', ts: TRANSFER_SYNTAX.ImplicitVRLittleEndian },
    ];
    for (const c of cases) {
      const f = readFixture(c.name);
      expect(f.layout, c.name).toEqual({ preamble: false, fileMeta: false, inferredTransferSyntax: true });
      expect(f.transferSyntax.uid, c.name).toBe(c.ts);
      expect(f.meta.size, c.name).toBe(0);
      expect(asciiValue(f.dataset.get(Tags.SOPClassUID)), c.name).toMatch(/^1\.2\.840\.10008\.5\.1\.4\.1\.1\./);
    }
    expect(text(readFixture('rtstruct.dcm').dataset.get(PatientName))).toBe('Test^Phantom30sep');
    // The two RT plans are the same dataset in two byte orders.
    const le = readFixture('ExplVR_LitEndNoMeta.dcm').dataset;
    const be = readFixture('ExplVR_BigEndNoMeta.dcm').dataset;
    expect([...be.keys()]).toEqual([...le.keys()]);
  });

  it('"DICM" at byte 0 without the 128-byte preamble', () => {
    const withPreamble = fixtureBytes('MR_small.dcm');
    const f = readDicom(withPreamble.subarray(128));
    expect(f.layout.fileMeta).toBe(true);
    expect(datasetDifferences(readFixture('MR_small.dcm').dataset, f.dataset)).toEqual([]);
  });

  it('a preamble but no meta group', () => {
    const implicitBody = new RawBuilder().implicit(0x0008, 0x0016, '1.2.840.10008.5.1.4.1.1.7\0').implicit(0x0010, 0x0010, 'Doe^John').build();
    const f = readDicom(Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), implicitBody]));
    expect(f.layout).toEqual({ preamble: true, fileMeta: false, inferredTransferSyntax: true });
    expect(f.transferSyntax.uid).toBe(TRANSFER_SYNTAX.ImplicitVRLittleEndian);
    expect(text(f.dataset.get(PatientName))).toBe('Doe^John');
  });

  it('a meta group without a transfer syntax: the dataset encoding is inferred', () => {
    const meta = new RawBuilder().explicit(0x0002, 0x0001, 'OB', Uint8Array.of(0, 1)).explicit(0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.7\0').build();
    const body = new RawBuilder(false).explicit(0x0008, 0x0060, 'CS', 'MR').explicit(0x0028, 0x0010, 'US', Uint8Array.of(0x01, 0x00)).build();
    const f = readDicom(Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), meta, body]));
    expect(f.layout.inferredTransferSyntax).toBe(true);
    expect(f.transferSyntax).toEqual(transferSyntaxOf(TRANSFER_SYNTAX.ExplicitVRBigEndian));
    expect(uint16Value(f.dataset.get(Rows), false)).toBe(256);
  });
});
