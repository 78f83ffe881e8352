/**
 * Who masks with whom and holds whose shares. Bonawitz et al. 2017 pair every client with every
 * other (the complete graph): each client does n − 1 key agreements and mask expansions. SecAgg+
 * (Bell et al., CCS 2020) replaces it with a sparse random graph of degree k = O(log n); the
 * masks still cancel pairwise along its edges and the shares of a client's secrets go to its
 * neighbours only, so the cost per client grows with log n instead of n.
 *
 * The sparse graph here is the Harary graph H(k, m) — each node joined to the ⌊k/2⌋ nearest on
 * each side of a ring, plus the opposite node when k is odd — with the nodes placed on the ring in
 * a random order drawn from the server's seed (the random relabelling is what keeps the server
 * from choosing whose neighbours are whose); Google's production SecAgg+ builds its graph the same
 * way. It is k-regular and k-connected. A client's shares go to itself and its k neighbours, so
 * the threshold t counts among k + 1 holders. No k-regular graph on m nodes exists when k and m
 * are both odd; k + 1 is used then.
 */
import { SeededRandom } from './prg.js';
import { SecAggConfigError } from './errors.js';

/** Every other client ('all', Bonawitz et al.) or k random neighbours (SecAgg+). */
export type Neighbourhood = 'all' | number;

/** The degree a neighbourhood gives among `m` clients (what `neighbourGraph` will build). */
export function graphDegree(neighbours: Neighbourhood, m: number): number {
  if (neighbours === 'all' || neighbours >= m - 1) return m - 1;
  return neighbours % 2 === 1 && m % 2 === 1 ? neighbours + 1 : neighbours;
}

/** Checks a neighbourhood setting: 'all' or a whole number ≥ 1. */
export function checkNeighbourhood(neighbours: Neighbourhood): void {
  if (neighbours === 'all') return;
  if (!Number.isSafeInteger(neighbours) || neighbours < 1) {
    throw new SecAggConfigError(`neighbours must be 'all' or a whole number ≥ 1, got ${String(neighbours)}`);
  }
}

/**
 * The neighbour lists (ascending, without the client itself) of the clients `ids`: the complete
 * graph for 'all' or when k ≥ m − 1, otherwise a Harary graph on a random ring order from `seed`
 * (32 bytes). Symmetric: v is in u's list exactly when u is in v's.
 */
export function neighbourGraph(ids: readonly number[], neighbours: Neighbourhood, seed: Uint8Array): Map<number, number[]> {
  checkNeighbourhood(neighbours);
  const sorted = [...ids].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new SecAggConfigError(`client ${sorted[i]} appears twice in the graph`);
  }
  const m = sorted.length;
  const degree = graphDegree(neighbours, m);
  const graph = new Map<number, number[]>();
  if (degree >= m - 1) {
    for (const u of sorted) graph.set(u, sorted.filter((v) => v !== u));
    return graph;
  }
  // Fisher–Yates with an unbiased draw: the ring order, hence the graph, is uniform over labellings.
  const random = new SeededRandom(seed);
  const ring = [...sorted];
  for (let i = m - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [ring[i], ring[j]] = [ring[j]!, ring[i]!];
  }
  const sets = new Map<number, Set<number>>(sorted.map((u) => [u, new Set<number>()]));
  const link = (a: number, b: number): void => {
    sets.get(a)!.add(b);
    sets.get(b)!.add(a);
  };
  for (let i = 0; i < m; i++) {
    for (let d = 1; d <= Math.floor(degree / 2); d++) link(ring[i]!, ring[(i + d) % m]!);
    if (degree % 2 === 1) link(ring[i]!, ring[(i + m / 2) % m]!);
  }
  for (const [u, set] of sets) graph.set(u, [...set].sort((a, b) => a - b));
  return graph;
}
