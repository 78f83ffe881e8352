import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  dequantiseSum,
  maxQuantisationBits,
  quantise,
  SecAggAbortError,
  SecAggClient,
  SecAggConfigError,
  SecAggMessageError,
  SecAggRefusalError,
  SecAggServer,
  SecAggStateError,
  SeededRandom,
  type ClientId,
  type Neighbourhood,
  type SecAggResult,
} from '../../../src/federated/secagg/index.js';
import { decodeBytes, decodeWords, encodeBytes, encodeWords } from '../../../src/federated/secagg/messages.js';
import { expandSeed } from '../../../src/federated/secagg/prg.js';
import { subtractInto } from '../../../src/federated/secagg/ring.js';
import { reconstructSecret } from '../../../src/federated/secagg/shamir.js';

// --- an in-process run of the protocol, every message through JSON as on the wire -------------

type Round = 'advertise-keys' | 'share-keys' | 'masked-input' | 'unmask';
const ROUNDS: readonly Round[] = ['advertise-keys', 'share-keys', 'masked-input', 'unmask'];

interface Scenario {
  readonly n: number;
  readonly threshold: number;
  readonly neighbours: Neighbourhood;
  readonly inputs: readonly Uint32Array[]; // inputs[id − 1]
  /** Clients that fall silent at a round (send nothing from then on). */
  readonly silentFrom?: Partial<Record<Round, readonly ClientId[]>>;
  /** Changes what a client sends (after JSON), or undefined to leave it. */
  readonly alterUp?: (round: Round, from: ClientId, message: any) => unknown;
  /** Changes what the server sends a client. */
  readonly alterDown?: (round: Round, to: ClientId, message: any) => unknown;
  readonly label?: string;
}

interface Run {
  readonly result: SecAggResult;
  readonly server: SecAggServer;
  /** JSON text of every message the server received, by round and sender. */
  readonly received: Map<Round, Map<ClientId, string>>;
  /** Bytes (JSON, UTF-8) each client sent and received, by round. */
  readonly up: Map<Round, Map<ClientId, number>>;
  readonly down: Map<Round, Map<ClientId, number>>;
  readonly clientErrors: Map<ClientId, Error>;
}

function seedOf(label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(label).digest());
}

function run(s: Scenario): Run {
  const label = s.label ?? 'run';
  const vectorLength = s.inputs[0]!.length;
  const server = new SecAggServer({
    n: s.n,
    threshold: s.threshold,
    vectorLength,
    neighbours: s.neighbours,
    seed: 7,
    random: new SeededRandom(seedOf(`${label}/server`)).source,
  });
  const clients = new Map<ClientId, SecAggClient>();
  for (let id = 1; id <= s.n; id++) {
    clients.set(id, new SecAggClient({ id, vectorLength, random: new SeededRandom(seedOf(`${label}/client ${id}`)).source }));
  }
  const silent = new Set<ClientId>();
  const received = new Map<Round, Map<ClientId, string>>();
  const up = new Map<Round, Map<ClientId, number>>(ROUNDS.map((r) => [r, new Map()]));
  const down = new Map<Round, Map<ClientId, number>>(ROUNDS.map((r) => [r, new Map()]));
  const clientErrors = new Map<ClientId, Error>();
  let inbox = new Map<ClientId, unknown>(); // what the server sent each client last
  let result: SecAggResult | undefined;

  for (const [index, round] of ROUNDS.entries()) {
    for (const id of s.silentFrom?.[round] ?? []) silent.add(id);
    const ids = index === 0 ? [...clients.keys()] : [...inbox.keys()];
    const outgoing = new Map<ClientId, any>();
    for (const id of ids) {
      if (silent.has(id)) continue;
      const client = clients.get(id)!;
      try {
        const fromServer = inbox.get(id) as any;
        const message =
          round === 'advertise-keys'
            ? client.advertiseKeys()
            : round === 'share-keys'
              ? client.shareKeys(fromServer)
              : round === 'masked-input'
                ? client.maskedInput(s.inputs[id - 1]!, fromServer)
                : client.unmask(fromServer);
        let wire = JSON.parse(JSON.stringify(message));
        if (s.alterUp !== undefined) wire = s.alterUp(round, id, wire) ?? wire;
        const text = JSON.stringify(wire);
        up.get(round)!.set(id, Buffer.byteLength(text));
        outgoing.set(id, JSON.parse(text));
      } catch (error) {
        clientErrors.set(id, error as Error);
        silent.add(id);
      }
    }
    received.set(round, new Map([...outgoing].map(([id, m]) => [id, JSON.stringify(m)])));
    if (round === 'unmask') {
      result = server.receiveUnmaskResponses(outgoing);
      break;
    }
    const replies: Map<ClientId, unknown> =
      round === 'advertise-keys'
        ? server.receiveAdvertisedKeys(outgoing)
        : round === 'share-keys'
          ? server.receiveSharedKeys(outgoing)
          : server.receiveMaskedInputs(outgoing);
    inbox = new Map();
    const next = ROUNDS[index + 1]!;
    for (const [id, message] of replies) {
      let wire = JSON.parse(JSON.stringify(message));
      if (s.alterDown !== undefined) wire = s.alterDown(next, id, wire) ?? wire;
      const text = JSON.stringify(wire);
      down.get(next)!.set(id, Buffer.byteLength(text));
      inbox.set(id, JSON.parse(text));
    }
  }
  return { result: result!, server, received, up, down, clientErrors };
}

function randomInputs(n: number, length: number, label: string): Uint32Array[] {
  return Array.from({ length: n }, (_, i) => expandSeed(seedOf(`${label}/${i}`), length));
}

/** The sum mod 2^32 of the inputs of `ids`. */
function plainSum(inputs: readonly Uint32Array[], ids: readonly ClientId[]): Uint32Array {
  const sum = new Uint32Array(inputs[0]!.length);
  for (const id of ids) for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + inputs[id - 1]![i]!;
  return sum;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// --- the chi-square test of uniformity --------------------------------------------------------

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.5.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Q(a, x), the regularised upper incomplete gamma function (Numerical Recipes §6.2). */
function upperGamma(a: number, x: number): number {
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let k = 1; k < 1000; k++) {
      term *= x / (a + k);
      sum += term;
      if (term < sum * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }
  let b = x + 1 - a;
  let c = 1e300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    d = 1 / (Math.abs(d) < 1e-300 ? 1e-300 : d);
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** p-value of the chi-square test that the top bytes of `words` are uniform over 0..255. */
function topByteUniformityP(words: Uint32Array): number {
  const counts = new Float64Array(256);
  for (const w of words) counts[w >>> 24]! += 1;
  const expected = words.length / 256;
  let chi2 = 0;
  for (const c of counts) chi2 += (c - expected) ** 2 / expected;
  return upperGamma(255 / 2, chi2 / 2);
}

// --- tests ---------------------------------------------------------------------------------------

describe('secure aggregation, all clients surviving', () => {
  for (const [n, threshold] of [
    [5, 3],
    [10, 6],
  ] as const) {
    it(`gives the exact sum mod 2^32 for n = ${n} (t = ${threshold})`, () => {
      const inputs = randomInputs(n, 257, `inputs ${n}`);
      const r = run({ n, threshold, neighbours: 'all', inputs, label: `all ${n}` });
      expect(r.clientErrors.size).toBe(0);
      expect(r.result.summands).toEqual(range(1, n));
      expect(r.result.sum).toEqual(plainSum(inputs, range(1, n)));
      expect(r.server.result()).toBe(r.result.sum);
      expect(r.server.stage).toBe('done');
      expect(r.server.rejected().size).toBe(0);
    });
  }

  it('carries quantised real vectors: the decoded sum is within quantisation error of the real sum', () => {
    const n = 5;
    const clip = 0.25;
    const bits = maxQuantisationBits(n);
    const random = new SeededRandom(seedOf('real inputs'));
    const real = Array.from({ length: n }, () => Float64Array.from({ length: 300 }, () => (random.nextUint32() / 2 ** 32 - 0.5) * 0.4));
    const r = run({ n, threshold: 3, neighbours: 'all', inputs: real.map((v) => quantise(v, clip, bits)), label: 'real' });
    const decoded = dequantiseSum(r.result.sum, clip, bits, r.result.summands.length);
    for (let i = 0; i < 300; i++) {
      const exact = real.reduce((a, v) => a + v[i]!, 0);
      expect(Math.abs(decoded[i]! - exact)).toBeLessThanOrEqual(clip * 2 ** (1 - bits) * n);
    }
  });
});

describe('secure aggregation with dropouts', () => {
  const n = 10;
  const threshold = 6;
  const inputs = randomInputs(n, 101, 'dropout inputs');

  it('recovers n − t clients dropping after ShareKeys: the sum of the survivors is exact', () => {
    const r = run({ n, threshold, neighbours: 'all', inputs, silentFrom: { 'masked-input': [2, 5, 7, 10] }, label: 'drop after share' });
    expect(r.result.summands).toEqual([1, 3, 4, 6, 8, 9]);
    expect(r.result.sum).toEqual(plainSum(inputs, [1, 3, 4, 6, 8, 9]));
    // The server asked for the mask keys of exactly the clients that shared keys and sent nothing.
    const answer = JSON.parse(r.received.get('unmask')!.get(1)!);
    expect(answer.maskKeyShares.map((s: { of: number }) => s.of)).toEqual([2, 5, 7, 10]);
  });

  it('counts clients that drop after MaskedInputCollection, unmasked with the others’ shares', () => {
    const r = run({ n, threshold, neighbours: 'all', inputs, silentFrom: { unmask: [1, 4, 9, 10] }, label: 'drop after masked' });
    expect(r.result.summands).toEqual(range(1, 10));
    expect(r.result.sum).toEqual(plainSum(inputs, range(1, 10)));
    expect([...r.received.get('unmask')!.keys()]).toEqual([2, 3, 5, 6, 7, 8]);
  });

  it('recovers dropouts at every round together, n − t in all', () => {
    const r = run({
      n,
      threshold,
      neighbours: 'all',
      inputs,
      silentFrom: { 'share-keys': [3], 'masked-input': [6], unmask: [8, 1] },
      label: 'drop everywhere',
    });
    const summands = [1, 2, 4, 5, 7, 8, 9, 10];
    expect(r.result.summands).toEqual(summands);
    expect(r.result.sum).toEqual(plainSum(inputs, summands));
  });

  it('aborts with a clear error when fewer than t clients survive', () => {
    expect(() => run({ n, threshold, neighbours: 'all', inputs, silentFrom: { 'masked-input': [1, 2, 3, 4, 5] }, label: 'too few' })).toThrow(
      /aborted: only 5 clients sent masked inputs; the threshold is 6/,
    );
    expect(() => run({ n, threshold, neighbours: 'all', inputs, silentFrom: { 'advertise-keys': range(1, 5) }, label: 'too few keys' })).toThrow(SecAggAbortError);
  });

  it('aborts when too few shares come back to unmask the sum', () => {
    // All 10 send their inputs but only 5 answer the unmasking: each seed has 5 shares, 6 are needed.
    const attempt = (): Run => run({ n, threshold, neighbours: 'all', inputs, silentFrom: { unmask: [1, 2, 3, 4, 5] }, label: 'few shares' });
    expect(attempt).toThrow(/cannot rebuild client 1's self-mask seed: 5 shares came back, 6 are needed/);
  });

  it('leaves out a client whose message is malformed, as if it had dropped, and says why', () => {
    const r = run({
      n,
      threshold,
      neighbours: 'all',
      inputs,
      alterUp: (round, from, m) => {
        if (round === 'masked-input' && from === 4) return { ...m, masked: m.masked.slice(0, -8) }; // two words short
        if (round === 'masked-input' && from === 5) return { ...m, masked: `*${m.masked.slice(1)}` };
        if (round === 'share-keys' && from === 6) return { ...m, session: encodeBytes(new Uint8Array(16)) };
        if (round === 'advertise-keys' && from === 7) return { ...m, from: 8 };
        return undefined;
      },
      label: 'malformed',
    });
    const summands = [1, 2, 3, 8, 9, 10];
    expect(r.result.summands).toEqual(summands);
    expect(r.result.sum).toEqual(plainSum(inputs, summands));
    const reasons = r.server.rejected();
    expect(reasons.get(4)).toMatch(/masked-input: the masked input must hold 404 bytes/);
    expect(reasons.get(5)).toMatch(/masked-input: the masked input is not valid base64/);
    expect(reasons.get(6)).toMatch(/share-keys: the message belongs to another session/);
    expect(reasons.get(7)).toMatch(/advertise-keys: the message says it is from client 8/);
  });

  it('a client whose forwarded shares were altered aborts; the others finish without it', () => {
    const r = run({
      n,
      threshold,
      neighbours: 'all',
      inputs,
      alterDown: (round, to, m) => {
        if (round !== 'masked-input' || to !== 3) return undefined;
        const shares = m.shares.map((s: { from: number; ciphertext: string }) => (s.from === 9 ? { ...s, ciphertext: `${s.ciphertext[0] === 'A' ? 'B' : 'A'}${s.ciphertext.slice(1)}` } : s));
        return { ...m, shares };
      },
      label: 'altered shares',
    });
    expect(r.clientErrors.get(3)).toBeInstanceOf(SecAggMessageError);
    expect(r.clientErrors.get(3)!.message).toMatch(/shares from client 9 do not decrypt/);
    const summands = range(1, 10).filter((id) => id !== 3);
    expect(r.result.summands).toEqual(summands);
    expect(r.result.sum).toEqual(plainSum(inputs, summands));
  });

  it('detects an altered share in the unmasking round instead of returning a wrong sum', () => {
    const flip = (share: string): string => {
      const bytes = Buffer.from(share, 'base64');
      bytes[32] = bytes[32]! ^ 1;
      return bytes.toString('base64');
    };
    // A self-mask share: with more than t shares back, the extra share exposes the alteration.
    expect(() =>
      run({
        n,
        threshold,
        neighbours: 'all',
        inputs,
        alterUp: (round, from, m) => (round === 'unmask' && from === 1 ? { ...m, selfMaskShares: m.selfMaskShares.map((s: any) => (s.of === 1 ? { ...s, share: flip(s.share) } : s)) } : undefined),
        label: 'altered self share',
      }),
    ).toThrow(/self-mask seed: the shares of holders .* do not lie on one polynomial/);
    // A mask-key share, with exactly t shares back: the rebuilt key does not match the advertised one.
    expect(() =>
      run({
        n,
        threshold,
        neighbours: 'all',
        inputs,
        silentFrom: { 'masked-input': [10], unmask: [7, 8, 9] },
        alterUp: (round, from, m) => (round === 'unmask' && from === 2 ? { ...m, maskKeyShares: m.maskKeyShares.map((s: any) => ({ ...s, share: flip(s.share) })) } : undefined),
        label: 'altered key share',
      }),
    ).toThrow(/rebuilt mask key of dropped client 10 does not match/);
  });
});

describe('the client protects its neighbours', () => {
  /** Runs rounds 0–2 for three clients, and returns the objects with client 1's unmask request. */
  function upToUnmasking() {
    const server = new SecAggServer({ n: 3, threshold: 2, vectorLength: 4, neighbours: 'all' });
    const clients = [1, 2, 3].map((id) => new SecAggClient({ id, vectorLength: 4 }));
    const rosters = server.receiveAdvertisedKeys(new Map(clients.map((c) => [c.id, c.advertiseKeys()])));
    const forwarded = server.receiveSharedKeys(new Map(clients.map((c) => [c.id, c.shareKeys(rosters.get(c.id)!)])));
    const requests = server.receiveMaskedInputs(new Map(clients.map((c) => [c.id, c.maskedInput(Uint32Array.of(c.id, 0, 0, 0), forwarded.get(c.id)!)])));
    return { server, clients, requests };
  }

  it('refuses a request for both the self-mask and the mask-key share of the same peer, and stays silent after', () => {
    const { clients, requests } = upToUnmasking();
    const honest = requests.get(1)!;
    expect(honest.survivors).toEqual([1, 2, 3]);
    expect(honest.dropped).toEqual([]);
    // A server that calls client 2 "dropped" while its masked input is in hand would, with b_2 and
    // s_2^SK, strip all masks from y_2.
    const greedy = { ...honest, dropped: [2] };
    expect(() => clients[0]!.unmask(greedy)).toThrow(SecAggRefusalError);
    expect(() => clients[0]!.unmask(greedy)).toThrow(SecAggStateError);
    expect(() => clients[0]!.unmask(honest)).toThrow(/aborted/);
    expect(clients[0]!.stage).toBe('aborted');
  });

  it('answers the honest request once, then never again (no second request for the other share)', () => {
    const { clients, requests } = upToUnmasking();
    const answer = clients[1]!.unmask(requests.get(2)!);
    expect(answer.selfMaskShares.map((s) => s.of)).toEqual([1, 2, 3]);
    expect(answer.maskKeyShares).toEqual([]);
    expect(() => clients[1]!.unmask({ ...requests.get(2)!, survivors: [2, 3], dropped: [1] })).toThrow(SecAggStateError);
  });

  it('refuses requests that drop itself, or with fewer survivors than the threshold', () => {
    const { clients, requests } = upToUnmasking();
    expect(() => clients[0]!.unmask({ ...requests.get(1)!, survivors: [2, 3], dropped: [1] })).toThrow(/does not count client 1 among the survivors/);
    const { clients: c2, requests: r2 } = upToUnmasking();
    expect(() => c2[2]!.unmask({ ...r2.get(3)!, survivors: [3], dropped: [1, 2] })).toThrow(/only 1 survivors, fewer than the threshold 2/);
  });

  it('checks the messages it receives and the order of the steps', () => {
    const client = new SecAggClient({ id: 1, vectorLength: 4 });
    expect(() => client.shareKeys({} as any)).toThrow(SecAggStateError);
    client.advertiseKeys();
    const server = new SecAggServer({ n: 3, threshold: 2, vectorLength: 4, neighbours: 'all' });
    const others = [2, 3].map((id) => new SecAggClient({ id, vectorLength: 4 }));
    const rosters = server.receiveAdvertisedKeys(new Map<number, any>([[1, 'not a message'], ...others.map((c) => [c.id, c.advertiseKeys()] as const)]));
    expect(server.rejected().get(1)).toMatch(/advertise-keys: a secagg\/advertise-keys message must be a JSON object/);
    expect([...rosters.keys()]).toEqual([2, 3]);
    expect(rosters.get(2)!.neighbours.map((k) => k.id)).toEqual([3]);
    // The same client now sends a forged roster to itself: the client's own checks stop it.
    const roster2 = rosters.get(2)!;
    expect(() => others[0]!.shareKeys({ ...roster2, to: 3 })).toThrow(/addressed to client 3, not 2/);
    expect(others[0]!.stage).toBe('aborted');
    const fresh = new SecAggClient({ id: 1, vectorLength: 4 });
    const keys = fresh.advertiseKeys();
    const roster = { type: 'secagg/roster', session: encodeBytes(new Uint8Array(16)), to: 1, threshold: 2, vectorLength: 5, neighbours: [{ id: 2, encryptionKey: keys.maskKey, maskKey: keys.encryptionKey }] } as const;
    expect(() => fresh.shareKeys(roster)).toThrow(/vectors of 5 elements; this client has 4/);
    const again = new SecAggClient({ id: 1, vectorLength: 4 });
    const own = again.advertiseKeys();
    expect(() => again.shareKeys({ ...roster, vectorLength: 4, neighbours: [{ id: 2, encryptionKey: own.encryptionKey, maskKey: own.maskKey }] })).toThrow(/repeats a public key/);
    expect(() => new SecAggClient({ id: 0, vectorLength: 4 })).toThrow(/client id/);
    expect(() => new SecAggClient({ id: 1, vectorLength: 0 })).toThrow(SecAggConfigError);
  });
});

describe('the server', () => {
  it('refuses settings it cannot run', () => {
    expect(() => new SecAggServer({ n: 10, threshold: 1, vectorLength: 4, neighbours: 'all' })).toThrow(/threshold must be a whole number 2..10/);
    expect(() => new SecAggServer({ n: 10, threshold: 11, vectorLength: 4, neighbours: 'all' })).toThrow(SecAggConfigError);
    expect(() => new SecAggServer({ n: 10, threshold: 6, vectorLength: 4, neighbours: 4 })).toThrow(/2..5 .*its 4 neighbours/);
    expect(() => new SecAggServer({ n: 10, threshold: 3, vectorLength: 0, neighbours: 4 })).toThrow(/vector length/);
    expect(() => new SecAggServer({ n: 10, threshold: 3, vectorLength: 4, neighbours: 0 })).toThrow(/neighbours/);
    expect(() => new SecAggServer({ n: 1, threshold: 2, vectorLength: 4, neighbours: 'all' })).toThrow(/n must be/);
  });

  it('takes the rounds in order only, and has no result before the end', () => {
    const server = new SecAggServer({ n: 3, threshold: 2, vectorLength: 4, neighbours: 'all' });
    expect(() => server.receiveMaskedInputs(new Map())).toThrow(/at step advertise-keys; masked-input is not allowed/);
    expect(() => server.result()).toThrow(SecAggStateError);
    expect(server.participants()).toEqual([1, 2, 3]);
  });

  it('leaves out a client that loses too many neighbours to keep its shares, in SecAgg+', () => {
    // k = 2: a ring. Dropping 1's two neighbours leaves it with no holder but itself (t = 2).
    const server = new SecAggServer({ n: 8, threshold: 2, vectorLength: 3, neighbours: 2, seed: 3 });
    const clients = range(1, 8).map((id) => new SecAggClient({ id, vectorLength: 3 }));
    const rosters = server.receiveAdvertisedKeys(new Map(clients.map((c) => [c.id, c.advertiseKeys()])));
    const ring = server.neighbourGraph().get(1)!;
    expect(ring).toHaveLength(2);
    const sharing = clients.filter((c) => !ring.includes(c.id));
    const forwarded = server.receiveSharedKeys(new Map(sharing.map((c) => [c.id, c.shareKeys(rosters.get(c.id)!)])));
    expect(forwarded.has(1)).toBe(false);
    expect(server.rejected().get(1)).toMatch(/only 0 of its neighbours shared keys; the threshold 2 needs 1/);
  });
});

describe('SecAgg+ (k neighbours instead of n − 1)', () => {
  it('gives the same sums as the complete graph, with and without dropouts', () => {
    const n = 10;
    const inputs = randomInputs(n, 64, 'secagg+ inputs');
    for (const k of [4, 5]) {
      const full = run({ n, threshold: 3, neighbours: k, inputs, label: `k${k}` });
      expect(full.result.sum).toEqual(plainSum(inputs, range(1, n)));
      for (const roster of full.received.get('share-keys')!.values()) expect(JSON.parse(roster).shares).toHaveLength(k);
      const graph = full.server.neighbourGraph();
      expect(range(1, n).every((u) => graph.get(u)!.length === k)).toBe(true);
      // Two clients drop after ShareKeys and one after masking; the first such choice (in id
      // order) that leaves every needed secret t holders among those answering round 3.
      const recoverable = (gone: number[], late: number): boolean => {
        const answering = range(1, n).filter((u) => !gone.includes(u) && u !== late);
        const inSum = range(1, n).filter((u) => !gone.includes(u));
        return (
          inSum.every((u) => [u, ...graph.get(u)!].filter((v) => answering.includes(v)).length >= 3) &&
          gone.every((v) => graph.get(v)!.filter((w) => answering.includes(w)).length >= 3)
        );
      };
      let choice: [number[], number] | undefined;
      for (let a = 1; a <= n && choice === undefined; a++)
        for (let b = a + 1; b <= n && choice === undefined; b++)
          for (let c = 1; c <= n && choice === undefined; c++) if (c !== a && c !== b && graph.get(a)!.includes(b) && recoverable([a, b], c)) choice = [[a, b], c];
      expect(choice).toBeDefined();
      const [gone, late] = choice!;
      const dropped = run({ n, threshold: 3, neighbours: k, inputs, silentFrom: { 'masked-input': gone, unmask: [late] }, label: `k${k}` });
      const summands = range(1, n).filter((id) => !gone.includes(id));
      expect(dropped.result.summands).toEqual(summands);
      expect(dropped.result.sum).toEqual(plainSum(inputs, summands));
      expect(JSON.parse(dropped.received.get('unmask')!.values().next().value!).type).toBe('secagg/unmask-response');
    }
  });
});

describe('what the server sees', () => {
  it('masked inputs look uniform (chi-square on their top bytes) and differ from the plain inputs', () => {
    const n = 5;
    const length = 25_600; // 100 expected per top-byte value
    const clip = 1;
    const bits = maxQuantisationBits(n);
    // Structured plain inputs: small updates near zero, all quantised to the middle of the range.
    const real = Array.from({ length: n }, (_, c) => Float64Array.from({ length }, (_, i) => 0.01 * Math.sin(i + c)));
    const plain = real.map((v) => quantise(v, clip, bits));
    const r = run({ n, threshold: 3, neighbours: 'all', inputs: plain, label: 'uniformity' });
    for (const [id, text] of r.received.get('masked-input')!) {
      const masked = decodeWords(JSON.parse(text).masked, 'masked', length);
      expect(topByteUniformityP(masked)).toBeGreaterThan(0.001);
      expect(topByteUniformityP(plain[id - 1]!)).toBeLessThan(1e-12); // the test has power: plain inputs fail it
      let equal = 0;
      for (let i = 0; i < length; i++) if (masked[i] === plain[id - 1]![i]) equal++;
      expect(equal).toBeLessThan(5);
    }
    // ...while the sum is still the plain sum.
    expect(r.result.sum).toEqual(plainSum(plain, range(1, n)));
  });

  it('the self-mask seeds the server rebuilds in round 3 do not unmask any one input: pairwise masks still hide it', () => {
    const n = 5;
    const length = 25_600;
    const plain = Array.from({ length: n }, () => new Uint32Array(length).fill(12345));
    const r = run({ n, threshold: 3, neighbours: 'all', inputs: plain, label: 'server view' });
    // Rebuild b_1 from the shares the server received, as the server does.
    const shares = [...r.received.get('unmask')!].map(([from, text]) => {
      const share = JSON.parse(text).selfMaskShares.find((s: { of: number }) => s.of === 1);
      return { x: from, y: BigInt(`0x${Buffer.from(decodeBytes(share.share, 'share', 33)).toString('hex')}`) };
    });
    const b1 = reconstructSecret(shares, 3);
    const y1 = decodeWords(JSON.parse(r.received.get('masked-input')!.get(1)!).masked, 'masked', length);
    const withoutSelfMask = Uint32Array.from(y1);
    subtractInto(withoutSelfMask, expandSeed(b1, length));
    expect(topByteUniformityP(withoutSelfMask)).toBeGreaterThan(0.001);
    expect(withoutSelfMask.filter((w) => w === 12345).length).toBeLessThan(5);
    expect(r.result.sum).toEqual(new Uint32Array(length).fill(5 * 12345));
  });

  it('the chi-square helper itself rejects a skewed vector and accepts a uniform one', () => {
    const random = new SeededRandom(seedOf('chi'));
    const uniform = Uint32Array.from({ length: 25_600 }, () => random.nextUint32());
    const skewed = Uint32Array.from(uniform, (w, i) => (i % 10 === 0 ? w & 0x0fffffff : w));
    expect(topByteUniformityP(uniform)).toBeGreaterThan(0.001);
    expect(topByteUniformityP(skewed)).toBeLessThan(0.001);
    expect(upperGamma(1, 2)).toBeCloseTo(Math.exp(-2), 12);
    expect(upperGamma(127.5, 127.5)).toBeGreaterThan(0.45);
    expect(upperGamma(127.5, 127.5)).toBeLessThan(0.52);
  });
});

describe('communication cost', () => {
  it('bytes per client per round for n = 10 and 10^5 values, against sending the vector in the clear', () => {
    const n = 10;
    const length = 100_000;
    const inputs = randomInputs(n, length, 'cost').map((v) => v.map((w) => w >>> 4));
    // Plain FedAvg, same encoding: one vector of 4-byte values in base64 JSON per client.
    const plainBytes = Buffer.byteLength(JSON.stringify({ type: 'plain/update', from: 1, vector: encodeWords(inputs[0]!) }));
    const rows: string[] = [];
    for (const neighbours of ['all', 4] as const) {
      const started = performance.now();
      const r = run({ n, threshold: neighbours === 'all' ? 6 : 3, neighbours, inputs, label: 'cost' });
      const seconds = (performance.now() - started) / 1000;
      expect(r.result.sum).toEqual(plainSum(inputs, range(1, n)));
      const perRound = ROUNDS.map((round) => {
        const upBytes = Math.max(...r.up.get(round)!.values());
        const downBytes = round === 'advertise-keys' ? 0 : Math.max(...r.down.get(round)!.values());
        return { round, upBytes, downBytes };
      });
      const totalUp = perRound.reduce((a, x) => a + x.upBytes, 0);
      const totalDown = perRound.reduce((a, x) => a + x.downBytes, 0);
      rows.push(
        `secagg n=${n} L=${length} neighbours=${neighbours}: ` +
          perRound.map((x) => `${x.round} up ${x.upBytes} B down ${x.downBytes} B`).join('; ') +
          `; total up ${totalUp} B, down ${totalDown} B; plain update ${plainBytes} B (raw ${4 * length} B); ` +
          `upload expansion ${(totalUp / plainBytes).toFixed(4)}×, up+down ${((totalUp + totalDown) / plainBytes).toFixed(4)}×; ` +
          `whole protocol in one process ${seconds.toFixed(2)} s`,
      );
      // The masked vector is the same size as the plain one; keys and shares add little at this size.
      expect(r.up.get('masked-input')!.get(1)! - plainBytes).toBeLessThan(200);
      expect(totalUp / plainBytes).toBeLessThan(1.01);
      expect(totalUp / plainBytes).toBeGreaterThan(1);
    }
    console.log(rows.join('\n'));
  });
});
