/**
 * The data as the search sees it, and the equivalence classes of a transformation.
 *
 * Each quasi-identifier is encoded once: its hierarchy's rows get level-0 codes in file order,
 * each level's labels get codes of their own, and a level-major table maps a level-0 code to its
 * code at any level. The records are then compressed to their distinct quasi-identifier tuples
 * with a count (and, with a sensitive attribute, a count per sensitive value): everything the
 * search computes depends only on these.
 *
 * The classes of a transformation are found by hashing generalized tuples. As in ARX, a
 * transformation's classes are computed from the classes of any predecessor (a transformation
 * that generalizes no attribute further) rather than from the records ("roll-up"): a coarser
 * class is a union of finer ones, so the predecessor's classes, usually far fewer than the
 * records, are all that needs grouping.
 */
import { missingValuesError } from './hierarchy.js';
import { RiskInputError } from './table.js';
import type { Hierarchy, Table } from './types.js';

/** One quasi-identifier, encoded through its hierarchy. */
export interface EncodedColumn {
  readonly attribute: string;
  /** Levels, level 0 included. */
  readonly height: number;
  /** Rows of the hierarchy: the size of the attribute's domain (level-0 codes are 0 … domainSize-1). */
  readonly domainSize: number;
  /** labels[level][code]: the text of each code at each level. */
  readonly labels: readonly (readonly string[])[];
  /** Level-major lookup: generalize[level * domainSize + code0] is the code at `level` of level-0 code `code0`. */
  readonly generalize: Int32Array;
  /** leaves[level][code]: how many hierarchy rows (level-0 values) the code stands for. */
  readonly leaves: readonly Int32Array[];
  /** frequencies[level][code]: how many records have that code at that level. */
  readonly frequencies: readonly Int32Array[];
}

/** The sensitive attribute: its values in the data and their distribution over all records. */
export interface SensitiveColumn {
  readonly attribute: string;
  /** The distinct values, in order of first appearance: sensitive codes index this. */
  readonly labels: readonly string[];
  /** Records per sensitive code. */
  readonly totals: Int32Array;
}

/** The records compressed to distinct quasi-identifier tuples. */
export interface EncodedData {
  readonly columns: readonly EncodedColumn[];
  readonly records: number;
  /** Number of distinct quasi-identifier tuples. */
  readonly tuples: number;
  /** Level-0 codes, tuple-major: codes[t * columns.length + c]. */
  readonly codes: Int32Array;
  /** Records per tuple. */
  readonly counts: Int32Array;
  /** The tuple of each record. */
  readonly recordTuple: Int32Array;
  readonly sensitive?: SensitiveColumn;
  /** Records per tuple and sensitive code: tupleHistograms[t * sensitive.labels.length + v]. */
  readonly tupleHistograms?: Int32Array;
  /** How tuples pack into one number; null when the product of the domain sizes reaches 2^53. */
  readonly packing: Packing | null;
}

/**
 * The equivalence classes of one transformation: the generalized tuple of each class (codes at
 * the transformation's levels), its record count and, with a sensitive attribute, its
 * distribution of sensitive values.
 *
 * A tuple is stored as one number when the data allows (`packed`: Σ_c code_c · R_c with fixed
 * radices R_c, the product of the later columns' domain sizes, below 2^53), and as codes
 * otherwise (`keys`). Below 2^31 (as for adult: 333 million tuples are possible) the numbers are
 * 32-bit integers: a class then takes 8 bytes instead of 12, and a search's cached classes are
 * mostly memory freshly written, so their size is much of the cost of a roll-up. Read codes with
 * `classCode` / `columnCodes`.
 */
export interface ClassSet {
  /** Level per quasi-identifier. */
  readonly levels: Int32Array;
  /** Number of classes. */
  readonly size: number;
  readonly counts: Int32Array;
  /** histograms[i * sensitiveValues + v]; present when the data has a sensitive attribute. */
  readonly histograms?: Int32Array;
  /** Each class's tuple as one number (when the data packs): an Int32Array when `Packing.narrow`. */
  readonly packed?: Float64Array | Int32Array;
  /** keys[c * size + i]: the code of class i in column c (when the data does not pack). */
  readonly keys?: Int32Array;
}

/** How tuples pack into one number: radix and domain size per column. */
export interface Packing {
  readonly radices: Float64Array;
  readonly domains: Float64Array;
  /** Whether every packed number is below 2^31, so that tuples are stored as 32-bit integers. */
  readonly narrow: boolean;
}

/** The code of class `i` in column `c`. */
export function classCode(data: EncodedData, classes: ClassSet, c: number, i: number): number {
  if (classes.keys) return classes.keys[c * classes.size + i]!;
  const { radices, domains } = data.packing!;
  // Exact: p < 2^53, so floor(p / R) computed in doubles is the integer quotient.
  const k = Math.floor(classes.packed![i]! / radices[c]!);
  return k - Math.floor(k / domains[c]!) * domains[c]!;
}

/** The codes of every class in column `c`. */
export function columnCodes(data: EncodedData, classes: ClassSet, c: number): Int32Array {
  if (classes.keys) return classes.keys.subarray(c * classes.size, (c + 1) * classes.size);
  const out = new Int32Array(classes.size);
  const packed = classes.packed!;
  const r = data.packing!.radices[c]!;
  const d = data.packing!.domains[c]!;
  for (let i = 0; i < classes.size; i++) {
    const k = Math.floor(packed[i]! / r);
    out[i] = k - Math.floor(k / d) * d;
  }
  return out;
}

function encodeColumn(attribute: string, hierarchy: Hierarchy): { column: Omit<EncodedColumn, 'frequencies'>; codeOf: Map<string, number> } {
  const height = hierarchy.height;
  const domainSize = hierarchy.values.size;
  const generalize = new Int32Array(height * domainSize);
  const labels: string[][] = [];
  const leaves: Int32Array[] = [];
  const codeOf = new Map<string, number>();
  const levelCodes: Map<string, number>[] = [];
  for (let l = 0; l < height; l++) {
    labels.push([]);
    levelCodes.push(new Map());
  }
  let code0 = 0;
  for (const [original, entry] of hierarchy.values) {
    codeOf.set(original, code0);
    for (let l = 0; l < height; l++) {
      const label = entry[l]!;
      const map = levelCodes[l]!;
      let code = map.get(label);
      if (code === undefined) {
        code = labels[l]!.length;
        map.set(label, code);
        labels[l]!.push(label);
      }
      generalize[l * domainSize + code0] = code;
    }
    code0++;
  }
  for (let l = 0; l < height; l++) {
    const counts = new Int32Array(labels[l]!.length);
    for (let v = 0; v < domainSize; v++) counts[generalize[l * domainSize + v]!]!++;
    leaves.push(counts);
  }
  return { column: { attribute, height, domainSize, labels, generalize, leaves }, codeOf };
}

const EMPTY = -1;
/** Bytes of one chunk of class-set storage. */
const CHUNK_BYTES = 1 << 20;
/** Generalized tuples whose packed number stays below this are grouped by that number (exact in doubles). */
const PACKED_LIMIT = 2 ** 53;
/** Packed numbers below this are 32-bit integers. */
const NARROW_LIMIT = 2 ** 31;

/** Hash table slots for n keys: the smallest power of two ≥ 2n (and ≥ 16), so the table stays at most half full. */
function tableCapacity(n: number): number {
  let cap = 16;
  while (cap < n * 2) cap *= 2;
  return cap;
}

/** A 32-bit hash of `q` codes starting at `offset` (multiply–xorshift, as in MurmurHash3's finalizer). */
function hashKey(keys: Int32Array, offset: number, q: number): number {
  let h = 0x2545f491 ^ q;
  for (let c = 0; c < q; c++) {
    h = Math.imul(h ^ keys[offset + c]!, 0x9e3779b1);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Groups `n` keys of `q` codes: `groupOf[i]` receives the group of key i and `first[g]` the
 * first key of group g. Returns the number of groups. `table` must hold tableCapacity(n) slots.
 */
function groupKeys(keys: Int32Array, q: number, n: number, table: Int32Array, groupOf: Int32Array, first: Int32Array): number {
  const cap = tableCapacity(n);
  const mask = cap - 1;
  table.fill(EMPTY, 0, cap);
  let groups = 0;
  for (let i = 0; i < n; i++) {
    const base = i * q;
    let slot = hashKey(keys, base, q) & mask;
    for (;;) {
      const g = table[slot]!;
      if (g === EMPTY) {
        table[slot] = groups;
        first[groups] = i;
        groupOf[i] = groups++;
        break;
      }
      const other = first[g]! * q;
      let same = true;
      for (let c = 0; c < q; c++) {
        if (keys[other + c] !== keys[base + c]) {
          same = false;
          break;
        }
      }
      if (same) {
        groupOf[i] = g;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return groups;
}

/**
 * Encodes the quasi-identifiers (and the sensitive attribute) of a table and compresses the
 * records to distinct tuples. A value missing from its hierarchy is a HierarchyError listing up
 * to ten missing values with their counts (the check and the encoding are one pass).
 */
export function encodeData(table: Table, quasiIdentifiers: readonly string[], hierarchies: ReadonlyMap<string, Hierarchy>, sensitive?: string): EncodedData {
  const q = quasiIdentifiers.length;
  const n = table.rows.length;
  const columnIndex = (name: string) => {
    const i = table.columns.indexOf(name);
    if (i < 0) throw new RiskInputError(`${table.source}: no column "${name}" (columns: ${table.columns.join(', ')})`);
    return i;
  };
  const encoded = quasiIdentifiers.map((qi) => {
    const h = hierarchies.get(qi);
    if (!h) throw new RiskInputError(`no hierarchy for the quasi-identifier ${qi}`);
    return { ...encodeColumn(qi, h), index: columnIndex(qi) };
  });
  // Level-0 codes per record, record-major.
  const recordCodes = new Int32Array(n * q);
  for (let c = 0; c < q; c++) {
    const { codeOf, index, column } = encoded[c]!;
    let missing: Map<string, number> | undefined;
    for (let r = 0; r < n; r++) {
      const value = table.rows[r]![index]!;
      const code = codeOf.get(value);
      if (code === undefined) {
        missing ??= new Map();
        missing.set(value, (missing.get(value) ?? 0) + 1);
      } else {
        recordCodes[r * q + c] = code;
      }
    }
    if (missing) throw missingValuesError(table, column.attribute, hierarchies.get(column.attribute)!, missing);
  }
  const recordTuple = new Int32Array(n);
  const first = new Int32Array(n);
  const tuples = groupKeys(recordCodes, q, n, new Int32Array(tableCapacity(n)), recordTuple, first);
  const codes = new Int32Array(tuples * q);
  for (let t = 0; t < tuples; t++) codes.set(recordCodes.subarray(first[t]! * q, first[t]! * q + q), t * q);
  const counts = new Int32Array(tuples);
  for (let r = 0; r < n; r++) counts[recordTuple[r]!]!++;

  const columns: EncodedColumn[] = encoded.map(({ column }, c) => {
    const frequencies: Int32Array[] = [];
    const base = new Int32Array(column.domainSize);
    for (let t = 0; t < tuples; t++) base[codes[t * q + c]!]! += counts[t]!;
    for (let l = 0; l < column.height; l++) {
      const f = new Int32Array(column.labels[l]!.length);
      for (let v = 0; v < column.domainSize; v++) f[column.generalize[l * column.domainSize + v]!]! += base[v]!;
      frequencies.push(f);
    }
    return { ...column, frequencies };
  });

  const packing = packingOf(columns);
  if (sensitive === undefined) return { columns, records: n, tuples, codes, counts, recordTuple, packing };
  const sIndex = columnIndex(sensitive);
  const labels: string[] = [];
  const codeOf = new Map<string, number>();
  const recordValue = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const v = table.rows[r]![sIndex]!;
    let code = codeOf.get(v);
    if (code === undefined) {
      code = labels.length;
      codeOf.set(v, code);
      labels.push(v);
    }
    recordValue[r] = code;
  }
  const s = labels.length;
  const totals = new Int32Array(s);
  const tupleHistograms = new Int32Array(tuples * s);
  for (let r = 0; r < n; r++) {
    totals[recordValue[r]!]!++;
    tupleHistograms[recordTuple[r]! * s + recordValue[r]!]!++;
  }
  return { columns, records: n, tuples, codes, counts, recordTuple, sensitive: { attribute: sensitive, labels, totals }, tupleHistograms, packing };
}

/** Fixed radices for packing a tuple into one number, or null when the domains are too large. */
function packingOf(columns: readonly EncodedColumn[]): Packing | null {
  const q = columns.length;
  const radices = new Float64Array(q);
  const domains = Float64Array.from(columns, (c) => c.domainSize);
  let product = 1;
  for (let c = q - 1; c >= 0; c--) {
    radices[c] = product;
    product *= domains[c]!;
  }
  return product <= PACKED_LIMIT ? { radices, domains, narrow: product <= NARROW_LIMIT } : null;
}

/** The classes of the untransformed data (every level 0): the distinct tuples themselves. */
export function bottomClasses(data: EncodedData): ClassSet {
  const q = data.columns.length;
  const base = { levels: new Int32Array(q), size: data.tuples, counts: data.counts, ...(data.tupleHistograms ? { histograms: data.tupleHistograms } : {}) };
  if (data.packing) {
    const { radices, narrow } = data.packing;
    const packed = narrow ? new Int32Array(data.tuples) : new Float64Array(data.tuples);
    for (let t = 0; t < data.tuples; t++) {
      let p = 0;
      for (let c = 0; c < q; c++) p += data.codes[t * q + c]! * radices[c]!;
      packed[t] = p;
    }
    return { ...base, packed };
  }
  const keys = new Int32Array(data.tuples * q);
  for (let t = 0; t < data.tuples; t++) for (let c = 0; c < q; c++) keys[c * data.tuples + t] = data.codes[t * q + c]!;
  return { ...base, keys };
}

/**
 * Computes classes of transformations from classes of their predecessors, with buffers sized
 * once for the largest case (the distinct tuples) and reused.
 */
export class ClassBuilder {
  private readonly q: number;
  private readonly s: number;
  private readonly table: Int32Array;
  private readonly keys: Int32Array;
  private readonly groupOf: Int32Array;
  private readonly first: Int32Array;
  private readonly packed: Float64Array;
  private readonly groupKey: Float64Array;
  /** The same two for narrow packing. */
  private readonly packed32: Int32Array;
  private readonly groupKey32: Int32Array;
  private readonly counts: Int32Array;
  private readonly radices: Float64Array | null;
  /** climbs[c][from * height + to]: code at level `to` of each code at level `from` (from ≤ to). */
  private readonly climbs: (Int32Array | undefined)[][];
  /** The same, as the change of the packed number: (climb − code) · R_c (32-bit when narrow: |change| < 2^31). */
  private readonly deltas: (Float64Array | undefined)[][];
  private readonly deltas32: (Int32Array | undefined)[][];
  readonly bottom: ClassSet;

  constructor(readonly data: EncodedData) {
    this.q = data.columns.length;
    this.s = data.sensitive?.labels.length ?? 0;
    const n = Math.max(1, data.tuples);
    this.table = new Int32Array(tableCapacity(n));
    this.keys = new Int32Array(n * this.q);
    this.groupOf = new Int32Array(n);
    this.first = new Int32Array(n);
    const narrow = data.packing?.narrow ?? false;
    this.packed = new Float64Array(narrow ? 0 : n);
    this.groupKey = new Float64Array(narrow ? 0 : n);
    this.packed32 = new Int32Array(narrow ? n : 0);
    this.groupKey32 = new Int32Array(narrow ? n : 0);
    this.counts = new Int32Array(n);
    this.radices = data.packing?.radices ?? null;
    this.climbs = data.columns.map((col) => new Array<Int32Array | undefined>(col.height * col.height));
    this.deltas = data.columns.map((col) => new Array<Float64Array | undefined>(col.height * col.height));
    this.deltas32 = data.columns.map((col) => new Array<Int32Array | undefined>(col.height * col.height));
    this.bottom = bottomClasses(data);
  }

  /** The map from codes at level `from` to codes at level `to` of column `c`. */
  private climb(c: number, from: number, to: number): Int32Array {
    const col = this.data.columns[c]!;
    const slot = from * col.height + to;
    let map = this.climbs[c]![slot];
    if (!map) {
      map = new Int32Array(col.labels[from]!.length);
      // Consistent hierarchies make the code at `to` a function of the code at `from`: any
      // level-0 value under a code gives the same answer.
      for (let v = 0; v < col.domainSize; v++) map[col.generalize[from * col.domainSize + v]!] = col.generalize[to * col.domainSize + v]!;
      this.climbs[c]![slot] = map;
    }
    return map;
  }

  private delta(c: number, from: number, to: number): Float64Array {
    const col = this.data.columns[c]!;
    const slot = from * col.height + to;
    let d = this.deltas[c]![slot];
    if (!d) {
      const map = this.climb(c, from, to);
      const r = this.radices![c]!;
      d = Float64Array.from(map, (up, code) => (up - code) * r);
      this.deltas[c]![slot] = d;
    }
    return d;
  }

  private delta32(c: number, from: number, to: number): Int32Array {
    const col = this.data.columns[c]!;
    const slot = from * col.height + to;
    let d = this.deltas32[c]![slot];
    if (!d) {
      d = Int32Array.from(this.delta(c, from, to));
      this.deltas32[c]![slot] = d;
    }
    return d;
  }

  /**
   * The classes of `levels`, computed from `source`, the classes of a predecessor (or of
   * `levels` itself). With `assignment`, receives the class of each source class.
   *
   * When tuples pack into one number (the product of the domain sizes is below 2^53, as for
   * adult), the source's packed numbers are updated for the columns that change only and
   * grouped by number; otherwise tuples are hashed code by code.
   */
  rollUp(source: ClassSet, levels: ArrayLike<number>, assignment?: Int32Array): ClassSet {
    const q = this.q;
    const n = source.size;
    const groupOf = assignment ?? this.groupOf;
    const first = this.first;
    let size: number;
    let tuple: { packed: Float64Array | Int32Array } | { keys: Int32Array };
    for (let c = 0; c < q; c++) {
      if (levels[c]! < source.levels[c]!) throw new Error(`rollUp: level ${levels[c]} of column ${c} is below the source's ${source.levels[c]}`);
    }
    const sp = source.packed;
    if (sp instanceof Int32Array) {
      size = this.rollUpNarrow(sp, n, source, levels, groupOf);
      const packedOut = this.take(size * 4, (b, o, n) => new Int32Array(b, o, n), size);
      packedOut.set(this.groupKey32.subarray(0, size));
      tuple = { packed: packedOut };
    } else if (sp) {
      // Only the columns that change are touched: their digit is read off the packed number
      // and replaced by its generalization.
      const { radices, domains } = this.data.packing!;
      const packed = this.packed;
      packed.set(sp.subarray(0, n));
      for (let c = 0; c < q; c++) {
        const from = source.levels[c]!;
        const to = levels[c]!;
        if (from === to) continue;
        const delta = this.delta(c, from, to);
        const r = radices[c]!;
        const d = domains[c]!;
        for (let i = 0; i < n; i++) {
          const p = packed[i]!;
          const k = Math.floor(p / r);
          packed[i] = p + delta[k - Math.floor(k / d) * d]!;
        }
      }
      size = this.groupPacked(packed, n, groupOf, source.counts, this.counts);
      const packedOut = this.take(size * 8, (b, o, n) => new Float64Array(b, o, n), size);
      packedOut.set(this.groupKey.subarray(0, size));
      tuple = { packed: packedOut };
    } else {
      const sk = source.keys!;
      const keys = this.keys;
      const maps: Int32Array[] = [];
      for (let c = 0; c < q; c++) {
        const map = this.climb(c, source.levels[c]!, levels[c]!);
        maps.push(map);
        const column = c * n;
        for (let i = 0; i < n; i++) keys[i * q + c] = map[sk[column + i]!]!;
      }
      size = groupKeys(keys, q, n, this.table, groupOf, first);
      const sc = source.counts;
      this.counts.fill(0, 0, size);
      for (let i = 0; i < n; i++) this.counts[groupOf[i]!]! += sc[i]!;
      const outKeys = new Int32Array(size * q);
      for (let c = 0; c < q; c++) {
        const map = maps[c]!;
        const column = c * n;
        const out = c * size;
        for (let g = 0; g < size; g++) outKeys[out + g] = map[sk[column + first[g]!]!]!;
      }
      tuple = { keys: outKeys };
    }
    const counts = this.take(size * 4, (b, o, n) => new Int32Array(b, o, n), size);
    counts.set(this.counts.subarray(0, size));
    const ownLevels = new Int32Array(q);
    for (let c = 0; c < q; c++) ownLevels[c] = levels[c]!;
    const out: ClassSet = { levels: ownLevels, size, counts, ...tuple };
    const sh = source.histograms;
    if (!sh || this.s === 0) return out;
    const s = this.s;
    const histograms = this.take(size * s * 4, (b, o, n) => new Int32Array(b, o, n), size * s);
    histograms.fill(0);
    for (let i = 0; i < n; i++) {
      const g = groupOf[i]! * s;
      const from = i * s;
      for (let v = 0; v < s; v++) histograms[g + v]! += sh[from + v]!;
    }
    return { ...out, histograms };
  }

  /**
   * Storage for class sets. Allocating a typed array costs far more than filling it (an
   * off-heap store, zeroed, and garbage collection driven by external memory), and a search
   * makes thousands of small class sets: they are carved out of 1 MiB chunks instead. A chunk is
   * reused once every set carved from it has been released (`release`, called by the optimal
   * search's cache when it evicts a set); large sets get a buffer of their own.
   */
  private readonly chunks = new Map<ArrayBuffer, { live: number; used: number }>();
  private readonly freeChunks: ArrayBuffer[] = [];
  private current: ArrayBuffer | null = null;

  private take<T>(bytes: number, view: (buffer: ArrayBuffer, offset: number, length: number) => T, length: number): T {
    const size = (bytes + 7) & ~7;
    if (size > CHUNK_BYTES / 8) return view(new ArrayBuffer(size), 0, length);
    let chunk = this.current ? this.chunks.get(this.current)! : undefined;
    if (!this.current || !chunk || chunk.used + size > CHUNK_BYTES) {
      if (this.current && chunk && chunk.live === 0) this.freeChunks.push(this.current);
      this.current = this.freeChunks.pop() ?? new ArrayBuffer(CHUNK_BYTES);
      chunk = { live: 0, used: 0 };
      this.chunks.set(this.current, chunk);
    }
    const offset = chunk.used;
    chunk.used += size;
    chunk.live++;
    return view(this.current, offset, length);
  }

  /**
   * Hands the storage of a class set back for reuse. The set must not be used afterwards; the
   * distinct tuples (`bottom`) are never released.
   */
  release(classes: ClassSet): void {
    if (classes === this.bottom) return;
    for (const array of [classes.packed, classes.counts, classes.histograms]) {
      if (!array) continue;
      const buffer = array.buffer as ArrayBuffer;
      const chunk = this.chunks.get(buffer);
      if (!chunk) continue;
      chunk.live--;
      if (chunk.live === 0 && buffer !== this.current) {
        this.chunks.delete(buffer);
        this.freeChunks.push(buffer);
      }
    }
  }

  /**
   * `rollUp` for narrow packing: the packed numbers are updated and grouped as 32-bit integers
   * (the division is exact: p and R_c are below 2^31). Fills `groupOf`, `groupKey32` and
   * `counts`; returns the number of groups.
   */
  private rollUpNarrow(sp: Int32Array, n: number, source: ClassSet, levels: ArrayLike<number>, groupOf: Int32Array): number {
    const { radices, domains } = this.data.packing!;
    const packed = this.packed32;
    packed.set(sp.subarray(0, n));
    for (let c = 0; c < this.q; c++) {
      const from = source.levels[c]!;
      const to = levels[c]!;
      if (from === to) continue;
      const delta = this.delta32(c, from, to);
      const r = radices[c]! | 0;
      const d = domains[c]! | 0;
      if (r === 1) {
        for (let i = 0; i < n; i++) {
          const p = packed[i]!;
          packed[i] = (p + delta[p % d]!) | 0;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const p = packed[i]!;
          packed[i] = (p + delta[((p / r) | 0) % d]!) | 0;
        }
      }
    }
    // The same open addressing as groupPacked, kept as its own loop: one key type per loop keeps
    // each monomorphic on the hottest path of the search.
    const cap = tableCapacity(n);
    const mask = cap - 1;
    const table = this.table;
    table.fill(EMPTY, 0, cap);
    const groupKey = this.groupKey32;
    const counts = this.counts;
    const sourceCounts = source.counts;
    let groups = 0;
    for (let i = 0; i < n; i++) {
      const p = packed[i]!;
      let h = Math.imul(p, 0x9e3779b1);
      h ^= h >>> 16;
      let slot = h & mask;
      for (;;) {
        const g = table[slot]!;
        if (g === EMPTY) {
          table[slot] = groups;
          groupKey[groups] = p;
          counts[groups] = sourceCounts[i]!;
          groupOf[i] = groups++;
          break;
        }
        if (groupKey[g] === p) {
          counts[g]! += sourceCounts[i]!;
          groupOf[i] = g;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
    return groups;
  }

  /**
   * Groups packed tuples through an open-addressing hash table; `counts` receives the record
   * count of each group (the source's counts summed).
   */
  private groupPacked(packed: Float64Array, n: number, groupOf: Int32Array, sourceCounts: Int32Array, counts: Int32Array): number {
    const cap = tableCapacity(n);
    const mask = cap - 1;
    const table = this.table;
    table.fill(EMPTY, 0, cap);
    const first = this.first;
    const groupKey = this.groupKey;
    let groups = 0;
    for (let i = 0; i < n; i++) {
      const p = packed[i]!;
      // Split into 32-bit halves without leaving the integer range (p < 2^53).
      const hi = p > 2147483647 ? (p / 4294967296) | 0 : 0;
      const lo = (p - hi * 4294967296) | 0;
      let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
      h ^= h >>> 16;
      let slot = h & mask;
      for (;;) {
        const g = table[slot]!;
        if (g === EMPTY) {
          table[slot] = groups;
          first[groups] = i;
          groupKey[groups] = p;
          counts[groups] = sourceCounts[i]!;
          groupOf[i] = groups++;
          break;
        }
        if (groupKey[g] === p) {
          counts[g]! += sourceCounts[i]!;
          groupOf[i] = g;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
    return groups;
  }

  /** The classes of `levels` computed from the distinct tuples, with the class of each tuple. */
  classesWithAssignment(levels: ArrayLike<number>): { classes: ClassSet; tupleClass: Int32Array } {
    const tupleClass = new Int32Array(this.data.tuples);
    const classes = this.rollUp(this.bottom, levels, tupleClass);
    return { classes, tupleClass };
  }
}
