/**
 * The generalization lattice: one node per transformation (a level per quasi-identifier, from 0
 * to that attribute's hierarchy height − 1), ordered componentwise. Its size is the product of
 * the heights: 6,480 nodes for adult's eight quasi-identifiers of heights 2,5,2,3,4,3,3,3.
 *
 * Node ids are mixed-radix numbers with the first quasi-identifier most significant, so that
 * ordering ids orders transformations lexicographically (the tie-break of the searches).
 */
export class Lattice {
  /** Number of quasi-identifiers. */
  readonly dimensions: number;
  /** Highest level per quasi-identifier (height − 1). */
  readonly maxLevels: Int32Array;
  /** Number of nodes. */
  readonly size: number;
  /** Place value of each dimension in a node id. */
  private readonly radix: Int32Array;
  /** Sum of levels per node. */
  readonly totalLevel: Int32Array;
  /** Levels per node, node-major. */
  private readonly levelTable: Int32Array;

  constructor(maxLevels: readonly number[]) {
    this.dimensions = maxLevels.length;
    this.maxLevels = Int32Array.from(maxLevels);
    let size = 1;
    for (const m of maxLevels) {
      if (!Number.isInteger(m) || m < 0) throw new Error(`a maximum level must be a whole number ≥ 0, got ${m}`);
      size *= m + 1;
    }
    if (size > 50_000_000) throw new Error(`the generalization lattice would have ${size} nodes, too many to search`);
    this.size = size;
    this.radix = new Int32Array(this.dimensions);
    let r = 1;
    for (let d = this.dimensions - 1; d >= 0; d--) {
      this.radix[d] = r;
      r *= maxLevels[d]! + 1;
    }
    this.levelTable = new Int32Array(size * this.dimensions);
    this.totalLevel = new Int32Array(size);
    for (let id = 0; id < size; id++) {
      let rest = id;
      let total = 0;
      for (let d = 0; d < this.dimensions; d++) {
        const level = Math.floor(rest / this.radix[d]!);
        rest -= level * this.radix[d]!;
        this.levelTable[id * this.dimensions + d] = level;
        total += level;
      }
      this.totalLevel[id] = total;
    }
  }

  /** The id of a transformation. */
  id(levels: ArrayLike<number>): number {
    let id = 0;
    for (let d = 0; d < this.dimensions; d++) {
      const l = levels[d]!;
      if (l < 0 || l > this.maxLevels[d]!) throw new Error(`level ${l} of dimension ${d} is outside 0…${this.maxLevels[d]}`);
      id += l * this.radix[d]!;
    }
    return id;
  }

  /** The levels of a node (a view: do not modify). */
  levels(id: number): Int32Array {
    return this.levelTable.subarray(id * this.dimensions, (id + 1) * this.dimensions);
  }

  level(id: number, dimension: number): number {
    return this.levelTable[id * this.dimensions + dimension]!;
  }

  /** The node one level higher in `dimension`, or -1 at its top (no array is made). */
  successorIn(id: number, dimension: number): number {
    return this.levelTable[id * this.dimensions + dimension]! < this.maxLevels[dimension]! ? id + this.radix[dimension]! : -1;
  }

  /** The node one level lower in `dimension`, or -1 at 0. */
  predecessorIn(id: number, dimension: number): number {
    return this.levelTable[id * this.dimensions + dimension]! > 0 ? id - this.radix[dimension]! : -1;
  }

  /** The nodes one step above: one attribute generalized one more level. */
  successors(id: number): number[] {
    const out: number[] = [];
    for (let d = 0; d < this.dimensions; d++) if (this.level(id, d) < this.maxLevels[d]!) out.push(id + this.radix[d]!);
    return out;
  }

  /** The nodes one step below. */
  predecessors(id: number): number[] {
    const out: number[] = [];
    for (let d = 0; d < this.dimensions; d++) if (this.level(id, d) > 0) out.push(id - this.radix[d]!);
    return out;
  }

  /** Whether `a` ≤ `b` componentwise (a is b or a predecessor of b, transitively). */
  isBelowOrEqual(a: number, b: number): boolean {
    const base = a * this.dimensions;
    const other = b * this.dimensions;
    for (let d = 0; d < this.dimensions; d++) if (this.levelTable[base + d]! > this.levelTable[other + d]!) return false;
    return true;
  }

  get bottom(): number {
    return 0;
  }

  get top(): number {
    return this.size - 1;
  }

  /**
   * The parent of a node in a spanning tree of the lattice: the node with its first non-zero
   * level lowered by one. Walking the tree depth-first visits every node once, each right after
   * a predecessor (see `treeChildren`).
   */
  treeParent(id: number): number {
    for (let d = 0; d < this.dimensions; d++) if (this.level(id, d) > 0) return id - this.radix[d]!;
    return -1;
  }

  /** The children of a node in the spanning tree of `treeParent`. */
  treeChildren(id: number): number[] {
    let firstNonZero = this.dimensions - 1;
    for (let d = 0; d < this.dimensions; d++) {
      if (this.level(id, d) > 0) {
        firstNonZero = d;
        break;
      }
    }
    const out: number[] = [];
    for (let d = 0; d <= firstNonZero; d++) if (this.level(id, d) < this.maxLevels[d]!) out.push(id + this.radix[d]!);
    return out;
  }
}
