/**
 * What the header says about burned-in text before any pixel is read: Burned In Annotation
 * (0028,0301), the Sequence of Ultrasound Regions (0018,6011; everything outside the data
 * regions is display furniture, where scanners print names and dates), and the device rules.
 */
import { asciiValue, type Dataset, type Element } from '../../dicom/dataset.js';
import { tag } from '../../dicom/tag.js';
import type { Box, Finding, PixelFormat } from '../types.js';
import type { FrameHints } from './detector.js';
import { matchDeviceRules, type DeviceRules } from './device-rules.js';

const T = {
  Modality: tag(0x0008, 0x0060),
  Manufacturer: tag(0x0008, 0x0070),
  ManufacturerModelName: tag(0x0008, 0x1090),
  BurnedInAnnotation: tag(0x0028, 0x0301),
  SequenceOfUltrasoundRegions: tag(0x0018, 0x6011),
  RegionDataType: tag(0x0018, 0x6014),
  RegionLocationMinX0: tag(0x0018, 0x6018),
  RegionLocationMinY0: tag(0x0018, 0x601a),
  RegionLocationMaxX1: tag(0x0018, 0x601c),
  RegionLocationMaxY1: tag(0x0018, 0x601e),
};

/**
 * Region Data Types (PS3.3 C.8.5.5.1.2) that hold no image data: none (0), reserved (9), grey
 * bar (0x0D), colour bar (0x0E). Every other type (tissue, colour flow, Doppler, traces, …) is a
 * data region, kept and read by OCR like any image.
 */
const NON_DATA_REGION_TYPES = new Set([0x0000, 0x0009, 0x000d, 0x000e]);

function unsigned(el: Element | undefined, littleEndian: boolean, field: string): number | undefined {
  if (!el || el.kind !== 'value') return undefined;
  const b = el.bytes;
  if (el.vr === 'UL' || el.vr === 'SL') {
    if (b.length < 4) throw new Error(`${field}: value too short`);
    const v = new DataView(b.buffer, b.byteOffset, 4);
    return el.vr === 'UL' ? v.getUint32(0, littleEndian) : v.getInt32(0, littleEndian);
  }
  if (el.vr === 'US' || el.vr === 'SS') {
    if (b.length < 2) throw new Error(`${field}: value too short`);
    const v = new DataView(b.buffer, b.byteOffset, 2);
    return el.vr === 'US' ? v.getUint16(0, littleEndian) : v.getInt16(0, littleEndian);
  }
  throw new Error(`${field}: unexpected VR ${el.vr}`);
}

/** The data regions of the Sequence of Ultrasound Regions, clipped to the frame; undefined without the sequence. */
export function ultrasoundDataRegions(dataset: Dataset, format: Pick<PixelFormat, 'rows' | 'columns'>, littleEndian = true): Box[] | undefined {
  const seq = dataset.get(T.SequenceOfUltrasoundRegions);
  if (!seq || seq.kind !== 'sequence') return undefined;
  const boxes: Box[] = [];
  seq.items.forEach((item, i) => {
    const at = `Sequence of Ultrasound Regions item ${i + 1}`;
    const type = unsigned(item.get(T.RegionDataType), littleEndian, `${at}: Region Data Type`);
    if (type === undefined || NON_DATA_REGION_TYPES.has(type)) return;
    const x0 = unsigned(item.get(T.RegionLocationMinX0), littleEndian, `${at}: Region Location Min X0`);
    const y0 = unsigned(item.get(T.RegionLocationMinY0), littleEndian, `${at}: Region Location Min Y0`);
    const x1 = unsigned(item.get(T.RegionLocationMaxX1), littleEndian, `${at}: Region Location Max X1`);
    const y1 = unsigned(item.get(T.RegionLocationMaxY1), littleEndian, `${at}: Region Location Max Y1`);
    if (x0 === undefined || y0 === undefined || x1 === undefined || y1 === undefined) throw new Error(`${at}: a data region without its Region Location`);
    if (x1 < x0 || y1 < y0) throw new Error(`${at}: Region Location Max (${x1},${y1}) before Min (${x0},${y0})`);
    // Max X1/Y1 are inclusive (PS3.3 C.8.5.5.1.1).
    const bx0 = Math.max(0, x0);
    const by0 = Math.max(0, y0);
    const bx1 = Math.min(format.columns, x1 + 1);
    const by1 = Math.min(format.rows, y1 + 1);
    if (bx1 > bx0 && by1 > by0) boxes.push({ x: bx0, y: by0, width: bx1 - bx0, height: by1 - by0 });
  });
  return boxes;
}

/** The frame minus the union of `keep`, as disjoint rectangles (row bands, merged down the frame). */
export function complementBoxes(keep: readonly Box[], rows: number, columns: number): Box[] {
  const cuts = new Set([0, rows]);
  for (const b of keep) {
    cuts.add(Math.max(0, Math.min(rows, b.y)));
    cuts.add(Math.max(0, Math.min(rows, b.y + b.height)));
  }
  const ys = [...cuts].sort((a, b) => a - b);
  const out: Box[] = [];
  let open = new Map<string, Box>();
  for (let k = 0; k + 1 < ys.length; k++) {
    const y0 = ys[k]!;
    const y1 = ys[k + 1]!;
    const spans = keep
      .filter((b) => b.y <= y0 && b.y + b.height >= y1)
      .map((b) => [Math.max(0, b.x), Math.min(columns, b.x + b.width)] as const)
      .sort((a, b) => a[0] - b[0]);
    const free: [number, number][] = [];
    let x = 0;
    for (const [a, b] of spans) {
      if (a > x) free.push([x, a]);
      x = Math.max(x, b);
    }
    if (x < columns) free.push([x, columns]);
    const next = new Map<string, Box>();
    for (const [a, b] of free) {
      const key = `${a}:${b}`;
      const prev = open.get(key);
      if (prev && prev.y + prev.height === y0) next.set(key, { ...prev, height: y1 - prev.y });
      else next.set(key, { x: a, y: y0, width: b - a, height: y1 - y0 });
    }
    for (const [key, box] of open) if (next.get(key)?.y !== box.y) out.push(box);
    open = next;
  }
  out.push(...open.values());
  return out.filter((b) => b.width > 0 && b.height > 0);
}

export interface HeaderFindings {
  /** Regions to remove on every frame, from the ultrasound regions and the device rules. */
  readonly findings: Finding[];
  /** Burned In Annotation as the header states it (undefined when absent or another value). */
  readonly burnedInAnnotation: 'YES' | 'NO' | undefined;
  /** What OCR should be told for every frame of this file (add frameIndex per frame). */
  readonly ocrHints: Omit<FrameHints, 'frameIndex'>;
}

/**
 * Regions declared by the header and the device rules, before any OCR. `littleEndian` is the
 * byte order of the dataset's binary values (false only for Explicit VR Big Endian files).
 */
export function headerFindings(dataset: Dataset, frame: PixelFormat, frameCount: number, rules: DeviceRules, littleEndian = true): HeaderFindings {
  if (!Number.isInteger(frameCount) || frameCount < 1) throw new Error(`frameCount: must be a positive integer (got ${frameCount})`);
  const boxes: { box: Box; source: 'ultrasound-region' | 'device-rule'; rule?: string }[] = [];
  const data = ultrasoundDataRegions(dataset, frame, littleEndian);
  // A sequence that declares no data region says nothing about where text is: OCR decides.
  if (data && data.length > 0) for (const box of complementBoxes(data, frame.rows, frame.columns)) boxes.push({ box, source: 'ultrasound-region' });
  const matched = matchDeviceRules(rules, {
    modality: asciiValue(dataset.get(T.Modality)),
    manufacturer: asciiValue(dataset.get(T.Manufacturer)),
    model: asciiValue(dataset.get(T.ManufacturerModelName)),
    rows: frame.rows,
    columns: frame.columns,
  });
  for (const m of matched) for (const box of m.regions) boxes.push({ box, source: 'device-rule', rule: m.rule.name });
  const findings: Finding[] = [];
  for (let f = 0; f < frameCount; f++) {
    for (const b of boxes) findings.push(b.rule === undefined ? { frame: f, box: b.box, source: b.source } : { frame: f, box: b.box, source: b.source, rule: b.rule });
  }
  const bia = asciiValue(dataset.get(T.BurnedInAnnotation))?.trim().toUpperCase();
  return {
    findings,
    burnedInAnnotation: bia === 'YES' || bia === 'NO' ? bia : undefined,
    ocrHints: { covered: boxes.map((b) => b.box) },
  };
}
