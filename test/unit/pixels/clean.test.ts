import { describe, expect, it } from 'vitest';
import { TRANSFER_SYNTAX, transferSyntaxOf, type DicomFile } from '../../../src/dicom/dataset.js';
import { tag, Tags } from '../../../src/dicom/tag.js';
import { PixelCleaner, DEFAULT_PIXEL_SETTINGS } from '../../../src/pixels/clean.js';
import { binaryElement, dataset, textElement } from '../support/dicom.js';

function us(value: number): Uint8Array {
  return new Uint8Array([value & 0xff, value >> 8]);
}

/** A 1-bit segmentation-like bitmap: 16×16, one frame. */
function bitmap(): DicomFile {
  const ds = dataset(
    textElement(Tags.SOPInstanceUID, 'UI', '1.2.3.4'),
    binaryElement(tag(0x0028, 0x0002), 'US', us(1)),
    textElement(tag(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    binaryElement(tag(0x0028, 0x0010), 'US', us(16)),
    binaryElement(tag(0x0028, 0x0011), 'US', us(16)),
    binaryElement(tag(0x0028, 0x0100), 'US', us(1)),
    binaryElement(tag(0x0028, 0x0101), 'US', us(1)),
    binaryElement(tag(0x0028, 0x0102), 'US', us(0)),
    binaryElement(Tags.PixelData, 'OB', new Uint8Array(32).fill(0x5a)),
  );
  return { meta: new Map(), dataset: ds, transferSyntax: transferSyntaxOf(TRANSFER_SYNTAX.ExplicitVRLittleEndian), layout: { preamble: true, fileMeta: true, inferredTransferSyntax: false } };
}

describe('PixelCleaner', () => {
  it('passes a 1-bit bitmap through untouched, saying why, without starting the OCR engine', async () => {
    const cleaner = PixelCleaner.create(DEFAULT_PIXEL_SETTINGS, new Uint8Array(32));
    const file = bitmap();
    const { file: out, report } = await cleaner.clean(file, file, 'seg.dcm');
    expect(out).toBe(file);
    expect(report).toMatchObject({ frames: 0, cleanedFrames: 0, findings: [], encoding: 'unchanged' });
    expect(report.note).toMatch(/1-bit segmentation bitmap/);
    expect(await cleaner.scan(file, 'seg.dcm')).toEqual({ frames: 0, findings: [] });
    await cleaner.close();
  });

  it('refuses a device rules file with a clear error naming it', () => {
    expect(() => PixelCleaner.create({ ...DEFAULT_PIXEL_SETTINGS, deviceRules: 'no-such-rules.yaml' }, new Uint8Array(32))).toThrow(/no-such-rules\.yaml/);
  });
});
