/**
 * 8-connected components of a binary image, labelled by runs: each row's horizontal runs of set
 * pixels are joined (union–find) to the runs of the row above that they touch. Text renderings
 * and masks are mostly empty, so the cost is one read per pixel to find the runs plus a little
 * per run, with no label image: measured 3–4× faster than labelling pixel by pixel on 1024×768
 * and 1760×2140 frames. Written here because the pre-filter and the mask code need it without
 * loading OpenCV's WebAssembly module.
 */

/** The runs of an image, in raster order, each with its component. */
export interface ConnectedRuns {
  /** Number of runs. */
  readonly count: number;
  readonly y: Int32Array;
  /** First and last column of each run (inclusive). */
  readonly x0: Int32Array;
  readonly x1: Int32Array;
  /** Component of each run, 0-based, numbered in raster order of the components' first pixels. */
  readonly component: Int32Array;
  /** Number of components. */
  readonly components: number;
}

function grown(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** The runs of the pixels of `data` (width × height, row by row) that are not 0, and their 8-connected components. */
export function connectedRuns(data: Uint8Array, width: number, height: number): ConnectedRuns {
  let capacity = 1024;
  let ys: Int32Array<ArrayBuffer> = new Int32Array(capacity);
  let x0s = new Int32Array(capacity);
  let x1s = new Int32Array(capacity);
  let parent = new Int32Array(capacity);
  let count = 0;
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]!]!;
      a = parent[a]!;
    }
    return a;
  };
  let previousStart = 0;
  let previousEnd = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const rowStart = count;
    let j = previousStart;
    for (let x = 0; x < width; ) {
      while (x < width && data[row + x] === 0) x++;
      if (x === width) break;
      const a = x;
      while (x < width && data[row + x] !== 0) x++;
      const b = x - 1;
      if (count === capacity) {
        capacity *= 2;
        ys = grown(ys, capacity);
        x0s = grown(x0s, capacity);
        x1s = grown(x1s, capacity);
        parent = grown(parent, capacity);
      }
      ys[count] = y;
      x0s[count] = a;
      x1s[count] = b;
      parent[count] = count;
      // Runs of the row above that end before this one's left neighbour touch no later run either.
      while (j < previousEnd && x1s[j]! < a - 1) j++;
      for (let k = j; k < previousEnd && x0s[k]! <= b + 1; k++) {
        const ra = find(k);
        const rb = find(count);
        // The smaller index is the root: a component's root is its first run in raster order.
        if (ra < rb) parent[rb] = ra;
        else if (rb < ra) parent[ra] = rb;
      }
      count++;
    }
    previousStart = rowStart;
    previousEnd = count;
  }
  const component = new Int32Array(count);
  let components = 0;
  for (let r = 0; r < count; r++) {
    const root = find(r);
    component[r] = root === r ? components++ : component[root]!;
  }
  return { count, y: ys, x0: x0s, x1: x1s, component, components };
}
