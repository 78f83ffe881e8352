/**
 * DICOM Part 10 writer: the counterpart of reader.ts (see there for why it is hand-written).
 * Values are emitted as the slices they are, so unchanged values (pixel data above all) are
 * never copied until the final write; only element headers are built here.
 */
import { deflateRawSync } from 'node:zlib';
import { TRANSFER_SYNTAX, transferSyntaxOf, type Dataset, type Element, type TransferSyntax } from './dataset.js';
import { groupOf, elementOf, tag as makeTag, Tags, type Tag } from './tag.js';
import { VR_TRAITS } from './vr.js';

const UNDEFINED_LENGTH = 0xffffffff;
/** Values at most this long are copied into the header buffer; longer ones are passed by reference. */
const INLINE_LIMIT = 256;

/**
 * Collects output as a list of chunks: headers and small values go into a scratch buffer,
 * large values are passed by reference. A flush hands out the filled part of the scratch and
 * keeps writing after it, so a file costs one or two small allocations, not one per value.
 */
class ChunkSink {
  readonly chunks: Uint8Array[] = [];
  private scratch: Uint8Array;
  private view: DataView;
  private start = 0;
  private used = 0;

  constructor(private readonly little: boolean, initialSize = 4096) {
    this.scratch = new Uint8Array(initialSize);
    this.view = new DataView(this.scratch.buffer);
  }

  private ensure(n: number): void {
    if (this.used + n <= this.scratch.length) return;
    this.flush();
    this.scratch = new Uint8Array(Math.max(4096, n));
    this.view = new DataView(this.scratch.buffer);
    this.start = 0;
    this.used = 0;
  }

  private flush(): void {
    if (this.used === this.start) return;
    this.chunks.push(this.scratch.subarray(this.start, this.used));
    this.start = this.used;
  }

  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.used, v, this.little);
    this.used += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.used, v, this.little);
    this.used += 4;
  }

  ascii(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.scratch[this.used++] = s.charCodeAt(i);
  }

  bytes(b: Uint8Array): void {
    if (b.length <= INLINE_LIMIT) {
      this.ensure(b.length);
      this.scratch.set(b, this.used);
      this.used += b.length;
    } else {
      this.flush();
      this.chunks.push(b);
    }
  }

  /** Appends what another sink produced (in its own byte order). */
  append(chunks: readonly Uint8Array[]): void {
    this.flush();
    for (const c of chunks) this.chunks.push(c);
  }

  get littleEndian(): boolean {
    return this.little;
  }

  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }
}

function sortedElements(ds: Dataset): Element[] {
  return [...ds.values()].sort((a, b) => a.tag - b.tag);
}

function writeHeader(sink: ChunkSink, explicit: boolean, t: Tag, vr: string, length: number, longLength: boolean): void {
  sink.u16(groupOf(t));
  sink.u16(elementOf(t));
  if (!explicit) {
    sink.u32(length);
  } else if (longLength) {
    sink.ascii(vr);
    sink.u16(0);
    sink.u32(length);
  } else {
    sink.ascii(vr);
    sink.u16(length);
  }
}

function writeDataset(sink: ChunkSink, ds: Dataset, explicit: boolean): void {
  for (const el of sortedElements(ds)) writeElement(sink, el, explicit);
}

function writeItems(sink: ChunkSink, items: readonly Dataset[], explicit: boolean): void {
  for (const item of items) {
    writeHeader(sink, false, Tags.Item, '', UNDEFINED_LENGTH, true);
    writeDataset(sink, item, explicit);
    writeHeader(sink, false, Tags.ItemDelimitationItem, '', 0, true);
  }
  writeHeader(sink, false, Tags.SequenceDelimitationItem, '', 0, true);
}

function writeElement(sink: ChunkSink, el: Element, explicit: boolean): void {
  switch (el.kind) {
    case 'value': {
      let vr: string = el.vr;
      let long: boolean = VR_TRAITS[el.vr].longLength;
      const len = el.bytes.length + (el.bytes.length & 1);
      if (!long && len > 0xffff) {
        // A short-length VR cannot hold this value in explicit VR; UN keeps the bytes intact.
        vr = 'UN';
        long = true;
      }
      writeHeader(sink, explicit, el.tag, vr, len, long);
      sink.bytes(el.bytes);
      if (len !== el.bytes.length) sink.bytes(Uint8Array.of(VR_TRAITS[el.vr].pad));
      return;
    }
    case 'sequence': {
      if (el.vr === 'UN' && explicit && !sink.littleEndian) {
        // A UN sequence holds implicit VR little endian items (PS3.5 6.2.2) whatever the
        // dataset's byte order: written back the same way, its binary values stay as they were.
        writeHeader(sink, explicit, el.tag, 'UN', UNDEFINED_LENGTH, true);
        const inner = new ChunkSink(true, 1024);
        writeItems(inner, el.items, false);
        sink.append(inner.finish());
        return;
      }
      // Undefined lengths: one pass, no length bookkeeping, and readable back even in
      // implicit VR where a private sequence has no VR to announce itself.
      writeHeader(sink, explicit, el.tag, 'SQ', UNDEFINED_LENGTH, true);
      writeItems(sink, el.items, explicit);
      return;
    }
    case 'encapsulated': {
      writeHeader(sink, explicit, el.tag, el.vr, UNDEFINED_LENGTH, true);
      sink.bytes(el.bytes);
      return;
    }
  }
}

export interface WriteInput {
  /** File meta elements other than (0002,0000), which is computed. */
  readonly meta: Dataset;
  readonly dataset: Dataset;
  /** Defaults to the meta's Transfer Syntax UID. */
  readonly transferSyntax?: TransferSyntax;
}

/**
 * Encodes a Part 10 file (preamble, DICM, file meta in explicit VR little endian, dataset in
 * its transfer syntax) as a list of chunks, to be written with one vectored write.
 */
export function encodeDicom(input: WriteInput): Uint8Array[] {
  const tsEl = input.meta.get(Tags.TransferSyntaxUID);
  const ts =
    input.transferSyntax ??
    transferSyntaxOf(tsEl && tsEl.kind === 'value' ? new TextDecoder().decode(tsEl.bytes).replace(/[\0 ]+$/, '') : TRANSFER_SYNTAX.ExplicitVRLittleEndian);

  const metaSink = new ChunkSink(true, 256);
  const metaBody = new ChunkSink(true, 512);
  writeDataset(metaBody, withoutGroupLength(input.meta), true);
  const metaChunks = metaBody.finish();
  const metaLength = metaChunks.reduce((n, c) => n + c.length, 0);
  metaSink.bytes(new Uint8Array(128));
  metaSink.ascii('DICM');
  writeHeader(metaSink, true, Tags.FileMetaInformationGroupLength, 'UL', 4, false);
  metaSink.u32(metaLength);

  const body = new ChunkSink(ts.littleEndian);
  writeDataset(body, input.dataset, ts.explicitVR);
  let bodyChunks = body.finish();
  if (ts.deflated) bodyChunks = [deflateRawSync(Buffer.concat(bodyChunks))];
  return [...metaSink.finish(), ...metaChunks, ...bodyChunks];
}

/** Convenience for tests and small files: the encoded file as one buffer. */
export function encodeDicomToBuffer(input: WriteInput): Buffer {
  return Buffer.concat(encodeDicom(input));
}

function withoutGroupLength(meta: Dataset): Dataset {
  if (!meta.has(Tags.FileMetaInformationGroupLength)) return meta;
  const m = new Map(meta);
  m.delete(Tags.FileMetaInformationGroupLength);
  return m;
}

export const FILE_META_VERSION: Element = {
  kind: 'value',
  tag: makeTag(0x0002, 0x0001),
  vr: 'OB',
  bytes: Uint8Array.of(0x00, 0x01),
};
