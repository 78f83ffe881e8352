/**
 * Boxes around the ROI mesh (IBSI 3.1): the axis-aligned bounding box (PBX1, R59B) and the
 * oriented minimum bounding box (ZH1A, IQYR).
 */
import type { ConvexHull } from './convex-hull.js';

/** A box's three edge lengths (mm), longest first. */
export type BoxExtents = readonly [number, number, number];

export function boxVolume([a, b, c]: BoxExtents): number {
  return a * b * c;
}

export function boxSurfaceArea([a, b, c]: BoxExtents): number {
  return 2 * (a * b + b * c + c * a);
}

/** The smallest box aligned with the grid axes that holds all `points` (x y z each). */
export function axisAlignedBox(points: Float64Array): BoxExtents {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let p = 0; p < points.length; p += 3) {
    for (let a = 0; a < 3; a++) {
      const v = points[p + a]!;
      if (v < lo[a]!) lo[a] = v;
      if (v > hi[a]!) hi[a] = v;
    }
  }
  return sortedExtents(hi[0]! - lo[0]!, hi[1]! - lo[1]!, hi[2]! - lo[2]!);
}

/**
 * The oriented minimum bounding box, approximated as IBSI ZH1A allows: the smallest of the
 * boxes that have one face on the plane of a face of the convex hull (or perpendicular to a grid
 * axis). For each such plane, the hull is projected onto it and the smallest rectangle around
 * the projection is found by rotating calipers (Freeman & Shapira 1975; exact in 2-D, since
 * that rectangle has a side on the projection's hull); the box is that rectangle times the
 * hull's extent along the plane's normal. O'Rourke's exact 3-D method is O(n³); this is
 * O(f·h·log h) for f hull faces and h hull vertices. Including the grid axes means the result is
 * never larger than the axis-aligned box.
 */
export function orientedMinimumBox(hull: ConvexHull): BoxExtents {
  const p = hull.vertices;
  const n = p.length / 3;
  const normals = candidateNormals(hull);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const order = new Uint32Array(n);
  const stack = new Uint32Array(2 * n + 1);
  let best: BoxExtents = axisAlignedBox(p);
  let bestVolume = boxVolume(best);
  for (let c = 0; c < normals.length; c += 3) {
    const nx = normals[c]!;
    const ny = normals[c + 1]!;
    const nz = normals[c + 2]!;
    // An orthonormal basis (u, v) of the plane: u across the normal's smallest component.
    const [ux, uy, uz] = unitPerpendicular(nx, ny, nz);
    const vx = ny * uz - nz * uy;
    const vy = nz * ux - nx * uz;
    const vz = nx * uy - ny * ux;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = p[3 * i]!;
      const y = p[3 * i + 1]!;
      const z = p[3 * i + 2]!;
      const h = nx * x + ny * y + nz * z;
      if (h < lo) lo = h;
      if (h > hi) hi = h;
      xs[i] = ux * x + uy * y + uz * z;
      ys[i] = vx * x + vy * y + vz * z;
    }
    const height = hi - lo;
    if (!(height > 0)) continue;
    const hullSize = convexHull2d(xs, ys, order, stack);
    const rect = minimumAreaRectangle(xs, ys, stack, hullSize);
    const volume = rect.area * height;
    if (volume < bestVolume) {
      bestVolume = volume;
      best = sortedExtents(height, rect.width, rect.depth);
    }
  }
  return best;
}

function sortedExtents(a: number, b: number, c: number): BoxExtents {
  const [longest, middle, shortest] = [a, b, c].sort((x, y) => y - x);
  return [longest!, middle!, shortest!];
}

/** Unit normals of the hull's faces, one per direction (n and −n count once), and the grid axes. */
function candidateNormals(hull: ConvexHull): Float64Array {
  const p = hull.vertices;
  const f = hull.faces;
  const seen = new Set<string>(['1,0,0', '0,1,0', '0,0,1']);
  const out: number[] = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let t = 0; t < f.length; t += 3) {
    const a = 3 * f[t]!;
    const b = 3 * f[t + 1]!;
    const c = 3 * f[t + 2]!;
    const ux = p[b]! - p[a]!;
    const uy = p[b + 1]! - p[a + 1]!;
    const uz = p[b + 2]! - p[a + 2]!;
    const vx = p[c]! - p[a]!;
    const vy = p[c + 1]! - p[a + 1]!;
    const vz = p[c + 2]! - p[a + 2]!;
    let nx = uy * vz - uz * vy;
    let ny = uz * vx - ux * vz;
    let nz = ux * vy - uy * vx;
    const length = Math.hypot(nx, ny, nz);
    if (!(length > 0)) continue;
    // One sign per direction: the first non-zero component positive.
    const sign = (nx !== 0 ? nx : ny !== 0 ? ny : nz) < 0 ? -1 : 1;
    nx = (sign * nx) / length;
    ny = (sign * ny) / length;
    nz = (sign * nz) / length;
    // Coplanar triangles of one hull facet share a normal up to rounding.
    const key = `${nx.toFixed(9)},${ny.toFixed(9)},${nz.toFixed(9)}`.replaceAll('-0.000000000', '0.000000000');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(nx, ny, nz);
  }
  return Float64Array.from(out);
}

function unitPerpendicular(nx: number, ny: number, nz: number): [number, number, number] {
  const ax = Math.abs(nx);
  const ay = Math.abs(ny);
  const az = Math.abs(nz);
  // cross(n, e) with e the axis of n's smallest component
  let x: number;
  let y: number;
  let z: number;
  if (ax <= ay && ax <= az) [x, y, z] = [0, nz, -ny];
  else if (ay <= az) [x, y, z] = [-nz, 0, nx];
  else [x, y, z] = [ny, -nx, 0];
  const length = Math.hypot(x, y, z);
  return [x / length, y / length, z / length];
}

/**
 * Andrew's monotone chain: writes the indices of the hull of (xs, ys) counter-clockwise into
 * `stack` (without repeating the first) and returns how many there are. Collinear points are
 * dropped. `order` is scratch space of the points' length.
 */
function convexHull2d(xs: Float64Array, ys: Float64Array, order: Uint32Array, stack: Uint32Array): number {
  const n = xs.length;
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => xs[a]! - xs[b]! || ys[a]! - ys[b]!);
  const cross = (o: number, a: number, b: number): number => (xs[a]! - xs[o]!) * (ys[b]! - ys[o]!) - (ys[a]! - ys[o]!) * (xs[b]! - xs[o]!);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const q = order[i]!;
    while (k >= 2 && cross(stack[k - 2]!, stack[k - 1]!, q) <= 0) k--;
    stack[k++] = q;
  }
  const lower = k + 1;
  for (let i = n - 2; i >= 0; i--) {
    const q = order[i]!;
    while (k >= lower && cross(stack[k - 2]!, stack[k - 1]!, q) <= 0) k--;
    stack[k++] = q;
  }
  return k - 1;
}

/**
 * The smallest rectangle around a convex polygon (indices `hull[0..m)` into xs, ys,
 * counter-clockwise): one side lies on a polygon edge, and rotating calipers find, for each
 * edge in turn, the farthest points along the edge, against it and across it in amortised O(1).
 */
function minimumAreaRectangle(xs: Float64Array, ys: Float64Array, hull: Uint32Array, m: number): { area: number; width: number; depth: number } {
  if (m < 3) {
    // A degenerate projection (a segment or a point): zero area, its length as width.
    let width = 0;
    for (let i = 0; i < m; i++) {
      for (let j = i + 1; j < m; j++) width = Math.max(width, Math.hypot(xs[hull[i]!]! - xs[hull[j]!]!, ys[hull[i]!]! - ys[hull[j]!]!));
    }
    return { area: 0, width, depth: 0 };
  }
  const x = (i: number): number => xs[hull[i % m]!]!;
  const y = (i: number): number => ys[hull[i % m]!]!;
  let best = { area: Infinity, width: 0, depth: 0 };
  let far = 1; // farthest from the edge's line
  let ahead = 1; // largest projection along the edge
  let behind = 0; // smallest projection along the edge
  for (let i = 0; i < m; i++) {
    let ex = x(i + 1) - x(i);
    let ey = y(i + 1) - y(i);
    const length = Math.hypot(ex, ey);
    ex /= length;
    ey /= length;
    // The polygon lies to the left of each counter-clockwise edge: (−ey, ex) points inwards.
    const along = (j: number): number => (x(j) - x(i)) * ex + (y(j) - y(i)) * ey;
    const across = (j: number): number => (x(j) - x(i)) * -ey + (y(j) - y(i)) * ex;
    if (i === 0) {
      for (let j = 0; j < m; j++) {
        if (along(j) > along(ahead)) ahead = j;
        if (across(j) > across(far)) far = j;
        if (along(j) < along(behind)) behind = j;
      }
    } else {
      for (let s = 0; s < m && along(ahead + 1) >= along(ahead); s++) ahead = (ahead + 1) % m;
      for (let s = 0; s < m && across(far + 1) >= across(far); s++) far = (far + 1) % m;
      for (let s = 0; s < m && along(behind + 1) <= along(behind); s++) behind = (behind + 1) % m;
    }
    const width = along(ahead) - along(behind);
    const depth = across(far);
    const area = width * depth;
    if (area < best.area) best = { area, width, depth };
  }
  return best;
}
