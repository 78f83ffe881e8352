import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tag } from '../../../src/dicom/tag.js';
import { complementBoxes, headerFindings, ultrasoundDataRegions } from '../../../src/pixels/detect/header-hints.js';
import { DeviceRulesError, loadDeviceRules, matchDeviceRules, parseDeviceRules, shippedDeviceRules } from '../../../src/pixels/detect/device-rules.js';
import type { Box, PixelFormat } from '../../../src/pixels/types.js';
import { binaryElement, dataset, readFixture, sequence, textElement } from '../support/dicom.js';

const US_FORMAT: PixelFormat = { rows: 600, columns: 800, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7, pixelRepresentation: 0, photometric: 'RGB' };

function ul(group: number, element: number, v: number, little = true) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, little);
  return binaryElement(tag(group, element), 'UL', b);
}

function us(group: number, element: number, v: number, little = true) {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, little);
  return binaryElement(tag(group, element), 'US', b);
}

function region(type: number, x0: number, y0: number, x1: number, y1: number, little = true) {
  return dataset(us(0x0018, 0x6014, type, little), ul(0x0018, 0x6018, x0, little), ul(0x0018, 0x601a, y0, little), ul(0x0018, 0x601c, x1, little), ul(0x0018, 0x601e, y1, little));
}

function area(boxes: readonly Box[]): number {
  return boxes.reduce((s, b) => s + b.width * b.height, 0);
}

function covers(boxes: readonly Box[], x: number, y: number): number {
  return boxes.filter((b) => x >= b.x && y >= b.y && x < b.x + b.width && y < b.y + b.height).length;
}

const tmp = mkdtempSync(join(tmpdir(), 'radanon-rules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('device rules', () => {
  it('loads the shipped rules file, and a CX50 800×600 matches its header band', () => {
    const rules = shippedDeviceRules();
    expect(rules.rules.length).toBeGreaterThanOrEqual(5);
    const m = matchDeviceRules(rules, { modality: 'US', manufacturer: 'Philips Medical Systems', model: 'CX50', rows: 600, columns: 800 });
    expect(m).toHaveLength(1);
    expect(m[0]!.regions).toEqual([{ x: 0, y: 0, width: 800, height: 59 }]);
    expect(m[0]!.rule.name).toMatch(/^device-rules\.yaml:\d+$/);
    expect(matchDeviceRules(rules, { modality: 'US', manufacturer: 'Philips Medical Systems', model: 'CX50', rows: 768, columns: 1024 })).toHaveLength(0);
    expect(matchDeviceRules(rules, { modality: 'CT', manufacturer: 'Philips', model: 'CX50', rows: 600, columns: 800 })).toHaveLength(0);
  });

  it('matches manufacturer and model as substrings ignoring case, and clips regions to the frame', () => {
    const rules = parseDeviceRules('rules:\n  - match: { manufacturer: acme, model: "scan 3" }\n    regions:\n      - [10, 10, 500, 20]\n', 'site.yaml');
    const m = matchDeviceRules(rules, { manufacturer: 'ACME Medical', model: 'SCAN 3000', rows: 100, columns: 200 });
    expect(m[0]!.regions).toEqual([{ x: 10, y: 10, width: 190, height: 20 }]);
    expect(m[0]!.rule.name).toBe('site.yaml:2');
  });

  const cases: [string, string, RegExp][] = [
    ['not yaml', 'rules: [\n', /^bad\.yaml:\d+: not valid YAML/],
    ['unknown top key', 'version: 1\nrulez: []\n', /^bad\.yaml:2: unknown key "rulez"/],
    ['rules not a list', 'rules: 3\n', /^bad\.yaml:1: "rules" must be a list/],
    ['no device condition', 'rules:\n  - match: { rows: 600 }\n    regions: [[0, 0, 1, 1]]\n', /^bad\.yaml:2: match needs manufacturer or model/],
    ['bad region', 'rules:\n  - match: { model: X }\n    regions:\n      - [0, 0, 10]\n', /^bad\.yaml:4: a region is \[x, y, width, height\]/],
    ['negative size', 'rules:\n  - match: { model: X }\n    regions:\n      - [0, 0, -1, 4]\n', /^bad\.yaml:4: a region needs/],
    ['region beyond size', 'rules:\n  - match: { model: X, columns: 100 }\n    regions:\n      - [50, 0, 60, 4]\n', /^bad\.yaml:4: region ends at column 110/],
    ['unknown match key', 'rules:\n  - match: { model: X, colour: red }\n    regions: [[0, 0, 1, 1]]\n', /^bad\.yaml:2: unknown match key "colour"/],
    ['rows not integer', 'rules:\n  - match: { model: X, rows: "six" }\n    regions: [[0, 0, 1, 1]]\n', /^bad\.yaml:2: match\.rows must be a positive integer/],
  ];
  for (const [name, text, message] of cases) {
    it(`rejects ${name} naming file:line`, () => {
      const file = join(tmp, 'bad.yaml');
      writeFileSync(file, text);
      let error: unknown;
      try {
        loadDeviceRules(file);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DeviceRulesError);
      expect((error as Error).message.replace(`${tmp}/`, '')).toMatch(message);
    });
  }

  it('names the file when it cannot be read', () => {
    expect(() => loadDeviceRules(join(tmp, 'missing.yaml'))).toThrow(/missing\.yaml: cannot be read \(ENOENT\)/);
  });
});

describe('header hints', () => {
  it('complementBoxes covers exactly the pixels outside the kept boxes, once each', () => {
    const keep = [{ x: 100, y: 50, width: 300, height: 200 }, { x: 350, y: 220, width: 100, height: 100 }];
    const out = complementBoxes(keep, 400, 600);
    for (let y = 0; y < 400; y += 7) {
      for (let x = 0; x < 600; x += 7) {
        const kept = covers(keep, x, y) > 0;
        expect(covers(out, x, y)).toBe(kept ? 0 : 1);
      }
    }
    const keptArea = 300 * 200 + 100 * 100 - 50 * 30;
    expect(area(out)).toBe(400 * 600 - keptArea);
  });

  it('reads the ultrasound data regions (inclusive max, grey bar ignored) in either byte order', () => {
    for (const little of [true, false]) {
      const ds = dataset(sequence(tag(0x0018, 0x6011), [region(1, 100, 60, 699, 539, little), region(0x0d, 750, 100, 780, 400, little)]));
      expect(ultrasoundDataRegions(ds, US_FORMAT, little)).toEqual([{ x: 100, y: 60, width: 600, height: 480 }]);
    }
  });

  it('turns everything outside the data regions into findings on every frame, and adds device rules', () => {
    const ds = dataset(
      textElement(tag(0x0008, 0x0060), 'CS', 'US'),
      textElement(tag(0x0008, 0x0070), 'LO', 'Philips Medical Systems'),
      textElement(tag(0x0008, 0x1090), 'LO', 'CX50'),
      textElement(tag(0x0028, 0x0301), 'CS', 'YES'),
      sequence(tag(0x0018, 0x6011), [region(1, 100, 60, 699, 539)]),
    );
    const h = headerFindings(ds, US_FORMAT, 2, shippedDeviceRules());
    expect(h.burnedInAnnotation).toBe('YES');
    const us0 = h.findings.filter((f) => f.frame === 0 && f.source === 'ultrasound-region');
    expect(area(us0.map((f) => f.box))).toBe(800 * 600 - 600 * 480);
    expect(h.findings.filter((f) => f.frame === 1 && f.source === 'ultrasound-region')).toHaveLength(us0.length);
    const rule = h.findings.filter((f) => f.source === 'device-rule');
    expect(rule.map((f) => [f.frame, f.box])).toEqual([
      [0, { x: 0, y: 0, width: 800, height: 59 }],
      [1, { x: 0, y: 0, width: 800, height: 59 }],
    ]);
    expect(rule[0]!.rule).toMatch(/^device-rules\.yaml:\d+$/);
    expect(h.ocrHints.covered).toHaveLength(us0.length + 1);
  });

  it('says nothing for a CT slice without hints, and reads Burned In Annotation NO', () => {
    const file = readFixture('CT_small.dcm');
    const format: PixelFormat = { rows: 128, columns: 128, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, highBit: 15, pixelRepresentation: 1, photometric: 'MONOCHROME2' };
    const h = headerFindings(file.dataset, format, 1, shippedDeviceRules());
    expect(h.findings).toEqual([]);
    expect(h.ocrHints.covered).toEqual([]);
    const no = headerFindings(dataset(textElement(tag(0x0028, 0x0301), 'CS', 'NO')), format, 1, shippedDeviceRules());
    expect(no.burnedInAnnotation).toBe('NO');
  });

  it('rejects a data region whose max is before its min, naming the item', () => {
    const ds = dataset(sequence(tag(0x0018, 0x6011), [region(1, 500, 60, 100, 539)]));
    expect(() => ultrasoundDataRegions(ds, US_FORMAT)).toThrow(/Sequence of Ultrasound Regions item 1: Region Location Max \(100,539\) before Min \(500,60\)/);
  });
});
