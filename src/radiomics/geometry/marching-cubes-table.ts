/**
 * The marching cubes case table (Lorensen & Cline 1987), derived here from the cube's faces rather
 * than typed in, so that every mesh it produces is closed and consistently oriented (IBSI 3.1,
 * "Mesh-based representation": all edges shared by exactly two faces, traversed in opposite
 * directions).
 *
 * Why derive it: the classic 256-case table resolves an ambiguous face (two inside corners on a
 * diagonal) differently in a case and in its complement, so two neighbouring cubes can disagree
 * on the shared face and leave a hole. Here the isoline on every face is a function of that
 * face's four corners only, with one fixed rule for ambiguous faces (the inside corners are
 * separated, i.e. the object is not joined across a face diagonal), so neighbouring cubes always
 * draw the same segments on their shared face. The segments of the six faces link up into closed
 * loops on the cube's surface; each loop is the border of one sheet of the isosurface inside the
 * cube and is triangulated with the largest total area (in the unit cube). That rule is the same
 * for a case and its complement, as in Lorensen's table, and picks the classic table's tilings:
 * with it the IBSI digital phantom's mesh has volume 556.3 mm³ and area 388.1 mm² (references
 * 556 ± 4 and 388 ± 3), where the least-area tiling gives 549.3 mm³. A cube whose loops leave
 * a tunnel open in the classic table (cases 4, 6, 7, 10, 12, 13 of Chernyaev) gets separate
 * sheets here; either choice gives a closed surface.
 *
 * Conventions. Corner c of a cube at voxel (i, j, k) is the voxel (i + dx, j + dy, k + dz) with
 * c = dx + 2·dy + 4·dz. Edge e joins corners EDGE_CORNERS[e] = [a, b] (a < b, they differ along one
 * axis, EDGE_AXIS[e]). A case is the 8-bit number whose bit c is set when corner c is inside.
 * Triangles are wound so that their normal (right-hand rule) points from the inside out.
 */

/** The two corners of each of the 12 cube edges, lower corner first. */
export const EDGE_CORNERS: readonly (readonly [number, number])[] = buildEdges();

/** The axis (0 = i, 1 = j, 2 = k) along which each edge runs. */
export const EDGE_AXIS: readonly number[] = EDGE_CORNERS.map(([a, b]) => Math.log2(b - a));

function corner(c: number): [number, number, number] {
  return [c & 1, (c >> 1) & 1, (c >> 2) & 1];
}

function buildEdges(): [number, number][] {
  const edges: [number, number][] = [];
  for (let a = 0; a < 8; a++) {
    for (let axis = 0; axis < 3; axis++) {
      const bit = 1 << axis;
      if ((a & bit) === 0) edges.push([a, a | bit]);
    }
  }
  return edges;
}

function edgeBetween(a: number, b: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const e = EDGE_CORNERS.findIndex(([x, y]) => x === lo && y === hi);
  if (e < 0) throw new Error(`corners ${a} and ${b} share no edge`);
  return e;
}

/**
 * The six faces, each as its four corners in counter-clockwise order seen from outside the cube
 * (so the right-hand normal of the cycle points out of the cube).
 */
function facesSeenFromOutside(): number[][] {
  const faces: number[][] = [];
  for (let axis = 0; axis < 3; axis++) {
    const u = (axis + 1) % 3;
    const v = (axis + 2) % 3;
    for (const side of [0, 1]) {
      // (u, v, axis) is a right-handed frame, so the cycle (0,0) → (1,0) → (1,1) → (0,1) in the
      // (u, v) plane has its normal along +axis: keep it on the far side, reverse it on the near.
      const cycle = [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ].map(([du, dv]) => (side << axis) | (du! << u) | (dv! << v));
      faces.push(side === 1 ? cycle : cycle.reverse());
    }
  }
  return faces;
}

const FACES = facesSeenFromOutside();

/**
 * The directed segments the isosurface draws on the cube's faces for one case, as a map from
 * the edge where a segment starts to the edge where it ends. Walking a face counter-clockwise
 * from outside, a segment runs from an edge where the walk enters the inside to an edge where it
 * leaves it: then the inside is on the segment's right seen from outside the cube, which makes
 * the sheet's boundary run the way its outward normal requires. On an ambiguous face each entry
 * is paired with the next exit, which cuts each inside corner off on its own.
 */
function faceSegments(inside: (c: number) => boolean): Map<number, number> {
  const next = new Map<number, number>();
  for (const face of FACES) {
    const entries: number[] = [];
    const exits: number[] = [];
    for (let s = 0; s < 4; s++) {
      const a = face[s]!;
      const b = face[(s + 1) % 4]!;
      if (inside(a) === inside(b)) continue;
      // Position s along the walk; entries and exits alternate around the face.
      (inside(b) ? entries : exits).push(s);
    }
    for (const entry of entries) {
      // The next exit after this entry going round the face.
      let best = -1;
      let bestGap = 5;
      for (const exit of exits) {
        const gap = (exit - entry + 4) % 4;
        if (gap > 0 && gap < bestGap) {
          bestGap = gap;
          best = exit;
        }
      }
      const from = edgeBetween(face[entry]!, face[(entry + 1) % 4]!);
      const to = edgeBetween(face[best]!, face[(best + 1) % 4]!);
      next.set(from, to);
    }
  }
  return next;
}

function edgeMidpoint(e: number): [number, number, number] {
  const [a, b] = EDGE_CORNERS[e]!;
  const pa = corner(a);
  const pb = corner(b);
  return [(pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2, (pa[2] + pb[2]) / 2];
}

function triangleArea(p: readonly number[], q: readonly number[], r: readonly number[]): number {
  const u = [q[0]! - p[0]!, q[1]! - p[1]!, q[2]! - p[2]!];
  const v = [r[0]! - p[0]!, r[1]! - p[1]!, r[2]! - p[2]!];
  const x = u[1]! * v[2]! - u[2]! * v[1]!;
  const y = u[2]! * v[0]! - u[0]! * v[2]!;
  const z = u[0]! * v[1]! - u[1]! * v[0]!;
  return Math.sqrt(x * x + y * y + z * z) / 2;
}

/**
 * Triangulates a closed polygon (edge indices in order) with the largest total area: the classic
 * dynamic programme over sub-polygons. Ties keep the first split found, so the table is
 * deterministic.
 */
function triangulateLoop(loop: readonly number[]): number[] {
  const n = loop.length;
  const points = loop.map(edgeMidpoint);
  const area: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const split: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(-1));
  for (let len = 2; len < n; len++) {
    for (let i = 0; i + len < n; i++) {
      const j = i + len;
      let best = -Infinity;
      for (let k = i + 1; k < j; k++) {
        const c = area[i]![k]! + area[k]![j]! + triangleArea(points[i]!, points[k]!, points[j]!);
        if (c > best + 1e-12) {
          best = c;
          split[i]![j] = k;
        }
      }
      area[i]![j] = best;
    }
  }
  const out: number[] = [];
  const emit = (i: number, j: number): void => {
    if (j - i < 2) return;
    const k = split[i]![j]!;
    out.push(loop[i]!, loop[k]!, loop[j]!);
    emit(i, k);
    emit(k, j);
  };
  emit(0, n - 1);
  return out;
}

function triangulateCase(c: number): Int8Array {
  const inside = (corner: number): boolean => ((c >> corner) & 1) === 1;
  const next = faceSegments(inside);
  const triangles: number[] = [];
  const visited = new Set<number>();
  for (const start of [...next.keys()].sort((a, b) => a - b)) {
    if (visited.has(start)) continue;
    const loop: number[] = [];
    let e: number | undefined = start;
    while (e !== undefined && !visited.has(e)) {
      visited.add(e);
      loop.push(e);
      e = next.get(e);
    }
    if (e !== start) throw new Error(`marching cubes case ${c}: the face segments do not close into a loop`);
    triangles.push(...triangulateLoop(loop));
  }
  return Int8Array.from(triangles);
}

// Last: it calls the functions and constants above.
/**
 * For each of the 256 cases, the triangles as edge indices, three per triangle: triangle t of
 * case c is edges TRIANGLES[c][3t], [3t + 1], [3t + 2], each standing for the surface point on
 * that edge.
 */
export const TRIANGLES: readonly Int8Array[] = Array.from({ length: 256 }, (_, c) => triangulateCase(c));
