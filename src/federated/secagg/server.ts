/**
 * The server side of secure aggregation (Bonawitz et al., CCS 2017, §4, Fig. 4; SecAgg+'s
 * neighbourhoods, Bell et al., CCS 2020), as a state machine without I/O. The transport collects
 * each round's messages (keyed by the sender it authenticated), hands them over, and sends back
 * what the method returns:
 *
 *   receiveAdvertisedKeys(keys)      → rosters          U1: clients that advertised keys
 *   receiveSharedKeys(shares)        → forwarded shares U2: clients that shared keys
 *   receiveMaskedInputs(inputs)      → unmask requests  U3: clients whose input is in the sum
 *   receiveUnmaskResponses(answers)  → the sum of the inputs of U3 (mod 2^32)
 *
 * A client that does not answer a round has dropped out; one whose message is malformed is left
 * out the same way, with the reason in `rejected()`. Clients of U2 that send no input are
 * recovered: their mask keys are rebuilt from their neighbours' shares and their pairwise masks
 * taken out of the sum. The protocol aborts (SecAggAbortError) when fewer than `threshold` clients
 * remain, or when some secret it needs cannot be rebuilt.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { SecAggAbortError, SecAggConfigError, SecAggMessageError, SecAggStateError } from './errors.js';
import { checkNeighbourhood, neighbourGraph, type Neighbourhood } from './graph.js';
import { agree, importPrivateKey, importPublicKey, isUsablePublicKey, KEY_BYTES, publicKeyOf } from './keys.js';
import {
  decodeBytes,
  decodeWords,
  encodeBytes,
  MAX_VECTOR_LENGTH,
  readAdvertiseKeys,
  readMaskedInput,
  readShareKeys,
  readUnmaskResponse,
  SEALED_SHARES_BYTES,
  SESSION_BYTES,
  type AdvertiseKeysMessage,
  type ClientId,
  type ForwardedSharesMessage,
  type HeldShare,
  type MaskedInputMessage,
  type RosterMessage,
  type ShareKeysMessage,
  type UnmaskRequestMessage,
  type UnmaskResponseMessage,
} from './messages.js';
import { expandSeed, SEED_BYTES, systemRandom, type RandomBytes } from './prg.js';
import { addInto, subtractInto } from './ring.js';
import { decodeShareValue, reconstructSecret, SHARE_BYTES, ShamirError, type Share } from './shamir.js';

export interface SecAggServerOptions {
  /** Number of clients, numbered 1..n. */
  readonly n: number;
  /**
   * Shares needed to rebuild a secret, 2 ≤ t ≤ (holders of a client's shares: the client and its
   * neighbours, so n with 'all' and k + 1 with k neighbours). Also the fewest clients the protocol
   * continues with. Up to (holders − t) of a client's holders may drop out.
   */
  readonly threshold: number;
  /** Number of ring elements in every input vector. */
  readonly vectorLength: number;
  /** 'all' (Bonawitz et al.) or k neighbours per client (SecAgg+). */
  readonly neighbours: Neighbourhood;
  /** Seed of the SecAgg+ neighbour graph (a number or 32 bytes), so a run can be repeated; random when absent. */
  readonly seed?: number | Uint8Array;
  /** Source of the session id (and the graph seed when none is given); the system CSPRNG by default. */
  readonly random?: RandomBytes;
}

export type ServerStage = 'advertise-keys' | 'share-keys' | 'masked-input' | 'unmask' | 'done' | 'aborted';

/** The outcome: the sum mod 2^32 of the inputs of `summands` (ascending client ids). */
export interface SecAggResult {
  readonly sum: Uint32Array;
  readonly summands: readonly ClientId[];
}

interface ClientKeys {
  readonly encryptionKey: string;
  readonly maskKey: Uint8Array;
  readonly maskKeyObject: KeyObject;
}

function graphSeedOf(seed: number | Uint8Array | undefined, random: RandomBytes): Uint8Array {
  if (seed === undefined) return random(SEED_BYTES);
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed)) throw new SecAggConfigError(`the seed must be a whole number or 32 bytes, got ${seed}`);
    return new Uint8Array(createHash('sha256').update(`radanon/secagg/graph/${seed}`).digest());
  }
  if (seed.length !== SEED_BYTES) throw new SecAggConfigError(`a seed of bytes must have ${SEED_BYTES}, got ${seed.length}`);
  return Uint8Array.from(seed);
}

export class SecAggServer {
  readonly n: number;
  readonly threshold: number;
  readonly vectorLength: number;
  readonly neighbours: Neighbourhood;
  /** The session id (base64) every message after round 0 carries. */
  readonly session: string;
  private readonly sessionBytes: Uint8Array;
  private readonly graphSeed: Uint8Array;
  private stageNow: ServerStage = 'advertise-keys';
  private abortReason: string | undefined;
  private readonly rejections = new Map<ClientId, string>();
  /** U1 and their keys. */
  private readonly keys = new Map<ClientId, ClientKeys>();
  private graph = new Map<ClientId, number[]>();
  /** U2 and the ciphertexts each sent. */
  private readonly shared = new Map<ClientId, ShareKeysMessage>();
  /** For u in U2: its neighbours in U2, with which it masks its input. */
  private readonly partners = new Map<ClientId, ClientId[]>();
  /** U3: the clients whose masked input is in the sum. */
  private readonly survivors = new Set<ClientId>();
  /**
   * Σ_{u∈U3} y_u, added up as the inputs arrive: the server never needs one y_u again, so it keeps
   * one vector instead of n.
   */
  private maskedSum: Uint32Array | undefined;
  /** U2 \ U3, ascending. */
  private dropped: ClientId[] = [];
  private outcome: SecAggResult | undefined;

  constructor(options: SecAggServerOptions) {
    const { n, threshold, vectorLength, neighbours } = options;
    if (!Number.isSafeInteger(n) || n < 2) throw new SecAggConfigError(`n must be a whole number ≥ 2, got ${n}`);
    checkNeighbourhood(neighbours);
    const holders = Math.min(neighbours === 'all' ? n - 1 : neighbours, n - 1) + 1;
    if (!Number.isSafeInteger(threshold) || threshold < 2 || threshold > holders) {
      throw new SecAggConfigError(
        `the threshold must be a whole number 2..${holders} (each client's shares are held by itself and its ${holders - 1} neighbours), got ${threshold}`,
      );
    }
    if (!Number.isSafeInteger(vectorLength) || vectorLength < 1 || vectorLength > MAX_VECTOR_LENGTH) {
      throw new SecAggConfigError(`the vector length must be a whole number 1..${MAX_VECTOR_LENGTH}, got ${vectorLength}`);
    }
    this.n = n;
    this.threshold = threshold;
    this.vectorLength = vectorLength;
    this.neighbours = neighbours;
    const random = options.random ?? systemRandom;
    this.sessionBytes = random(SESSION_BYTES);
    this.session = encodeBytes(this.sessionBytes);
    this.graphSeed = graphSeedOf(options.seed, random);
  }

  /** The step the server expects next, 'done' or 'aborted'. */
  get stage(): ServerStage {
    return this.stageNow;
  }

  /** Why the protocol aborted, if it did. */
  get abortedBecause(): string | undefined {
    return this.abortReason;
  }

  /** Clients still taking part (ascending): U1, U2, U3 as the rounds go; empty after an abort. */
  participants(): ClientId[] {
    const ids =
      this.stageNow === 'aborted'
        ? []
        : this.stageNow === 'advertise-keys'
          ? Array.from({ length: this.n }, (_, i) => i + 1)
          : this.stageNow === 'share-keys'
            ? [...this.keys.keys()]
            : this.stageNow === 'masked-input'
              ? [...this.shared.keys()]
              : [...this.survivors];
    return ids.sort((a, b) => a - b);
  }

  /** Clients whose message was refused, with the reason (they were then treated as dropped out). */
  rejected(): ReadonlyMap<ClientId, string> {
    return this.rejections;
  }

  /** The neighbours of each client of U1 (known after round 0). */
  neighbourGraph(): ReadonlyMap<ClientId, readonly ClientId[]> {
    return this.graph;
  }

  /** Round 0: records the public keys, draws the neighbour graph and returns each client's roster. */
  receiveAdvertisedKeys(messages: ReadonlyMap<ClientId, AdvertiseKeysMessage>): Map<ClientId, RosterMessage> {
    this.enter('advertise-keys');
    const seenKeys = new Set<string>();
    const accepted = this.accept(messages, new Set(Array.from({ length: this.n }, (_, i) => i + 1)), 'advertise-keys', (from, value) => {
      const m = readAdvertiseKeys(value);
      if (m.from !== from) throw new SecAggMessageError(`the message says it is from client ${m.from}`);
      const encryptionKey = decodeBytes(m.encryptionKey, 'the encryption key', KEY_BYTES);
      const maskKey = decodeBytes(m.maskKey, 'the mask key', KEY_BYTES);
      if (!isUsablePublicKey(encryptionKey) || !isUsablePublicKey(maskKey)) throw new SecAggMessageError('a public key is of small order');
      if (m.encryptionKey === m.maskKey || seenKeys.has(m.encryptionKey) || seenKeys.has(m.maskKey)) {
        throw new SecAggMessageError('a public key is the same as another one advertised');
      }
      seenKeys.add(m.encryptionKey);
      seenKeys.add(m.maskKey);
      return { encryptionKey: m.encryptionKey, maskKey, maskKeyObject: importPublicKey(maskKey) };
    });
    for (const [id, keys] of accepted) this.keys.set(id, keys);
    this.requireQuorum(this.keys.size, 'advertised keys');
    this.graph = neighbourGraph([...this.keys.keys()], this.neighbours, this.graphSeed);
    const rosters = new Map<ClientId, RosterMessage>();
    for (const [u, neighbours] of this.graph) {
      rosters.set(u, {
        type: 'secagg/roster',
        session: this.session,
        to: u,
        threshold: this.threshold,
        vectorLength: this.vectorLength,
        neighbours: neighbours.map((v) => {
          const k = this.keys.get(v)!;
          return { id: v, encryptionKey: k.encryptionKey, maskKey: encodeBytes(k.maskKey) };
        }),
      });
    }
    this.stageNow = 'share-keys';
    return rosters;
  }

  /** Round 1: checks each client sent one ciphertext per neighbour, and forwards them. */
  receiveSharedKeys(messages: ReadonlyMap<ClientId, ShareKeysMessage>): Map<ClientId, ForwardedSharesMessage> {
    this.enter('share-keys');
    const accepted = this.accept(messages, new Set(this.keys.keys()), 'share-keys', (from, value) => {
      const m = readShareKeys(value);
      this.checkFrom(m.from, m.session, from);
      const expected = this.graph.get(from)!;
      const targets = new Set(m.shares.map((s) => s.to));
      if (targets.size !== m.shares.length) throw new SecAggMessageError('two ciphertexts are addressed to the same client');
      if (targets.size !== expected.length || expected.some((v) => !targets.has(v))) {
        throw new SecAggMessageError(`ciphertexts must go to exactly the neighbours ${expected.join(', ')}; got ${[...targets].join(', ')}`);
      }
      for (const s of m.shares) decodeBytes(s.ciphertext, `the ciphertext for client ${s.to}`, SEALED_SHARES_BYTES);
      return m;
    });
    for (const [id, m] of accepted) this.shared.set(id, m);
    // A client left with fewer than t − 1 neighbours in U2 could not have its secrets rebuilt:
    // leave it out before anyone masks with it, and again for those that leaves short.
    for (let changed = true; changed; ) {
      changed = false;
      for (const u of [...this.shared.keys()]) {
        const partners = this.graph.get(u)!.filter((v) => this.shared.has(v));
        if (partners.length + 1 < this.threshold) {
          this.shared.delete(u);
          this.rejections.set(u, `share-keys: only ${partners.length} of its neighbours shared keys; the threshold ${this.threshold} needs ${this.threshold - 1}`);
          changed = true;
        }
      }
    }
    this.requireQuorum(this.shared.size, 'shared keys');
    const forwarded = new Map<ClientId, ForwardedSharesMessage>();
    for (const u of [...this.shared.keys()].sort((a, b) => a - b)) {
      const partners = this.graph.get(u)!.filter((v) => this.shared.has(v));
      this.partners.set(u, partners);
      const shares = partners.map((v) => ({ from: v, ciphertext: this.shared.get(v)!.shares.find((s) => s.to === u)!.ciphertext }));
      forwarded.set(u, { type: 'secagg/forwarded-shares', session: this.session, to: u, shares });
    }
    this.stageNow = 'masked-input';
    return forwarded;
  }

  /**
   * Round 2: collects the masked inputs and asks the senders for the shares that unmask their
   * sum: of b for each survivor, of s^SK for each client that shared keys but sent no input.
   */
  receiveMaskedInputs(messages: ReadonlyMap<ClientId, MaskedInputMessage>): Map<ClientId, UnmaskRequestMessage> {
    this.enter('masked-input');
    const sum = new Uint32Array(this.vectorLength);
    this.accept(messages, new Set(this.shared.keys()), 'masked-input', (from, value) => {
      const m = readMaskedInput(value);
      this.checkFrom(m.from, m.session, from);
      addInto(sum, decodeWords(m.masked, 'the masked input', this.vectorLength));
      this.survivors.add(from);
    });
    this.maskedSum = sum;
    this.requireQuorum(this.survivors.size, 'sent masked inputs');
    this.dropped = [...this.shared.keys()].filter((v) => !this.survivors.has(v)).sort((a, b) => a - b);
    // Only clients of U3 answer round 3: check now that each secret still has t holders there.
    for (const u of this.survivors) {
      const holders = [u, ...this.partners.get(u)!].filter((v) => this.survivors.has(v)).length;
      if (holders < this.threshold) this.abort(`client ${u}'s self-mask seed has ${holders} holders left among the survivors; ${this.threshold} are needed`);
    }
    for (const v of this.dropped) {
      const holders = this.partners.get(v)!.filter((w) => this.survivors.has(w)).length;
      if (holders > 0 && holders < this.threshold) this.abort(`dropped client ${v}'s mask key has ${holders} holders left among the survivors; ${this.threshold} are needed`);
    }
    const survivors = [...this.survivors].sort((a, b) => a - b);
    const requests = new Map<ClientId, UnmaskRequestMessage>();
    for (const u of survivors) {
      requests.set(u, { type: 'secagg/unmask-request', session: this.session, to: u, survivors, dropped: this.dropped });
    }
    this.stageNow = 'unmask';
    return requests;
  }

  /**
   * Round 3: rebuilds each survivor's self-mask seed and each dropped client's mask key from the
   * shares, removes the masks and returns the sum of the survivors' inputs.
   */
  receiveUnmaskResponses(messages: ReadonlyMap<ClientId, UnmaskResponseMessage>): SecAggResult {
    this.enter('unmask');
    const survivors = this.survivors;
    const dropped = new Set(this.dropped);
    const selfMaskShares = new Map<ClientId, Share[]>();
    const maskKeyShares = new Map<ClientId, Share[]>();
    const accepted = this.accept(messages, survivors, 'unmask', (from, value) => {
      const m = readUnmaskResponse(value);
      this.checkFrom(m.from, m.session, from);
      const holds = [from, ...this.partners.get(from)!];
      const expectSelf = holds.filter((v) => survivors.has(v));
      const expectKeys = holds.filter((v) => dropped.has(v));
      const readShares = (list: readonly HeldShare[], expected: ClientId[], what: string): Share[] => {
        const of = list.map((s) => s.of);
        if (new Set(of).size !== of.length || of.length !== expected.length || expected.some((v) => !of.includes(v))) {
          throw new SecAggMessageError(`${what} must be of clients ${expected.join(', ') || '(none)'}; got ${of.join(', ') || '(none)'}`);
        }
        return list.map((s) => {
          try {
            return { x: from, y: decodeShareValue(decodeBytes(s.share, `the share of client ${s.of}`, SHARE_BYTES)) };
          } catch (error) {
            if (error instanceof ShamirError) throw new SecAggMessageError(`the share of client ${s.of}: ${error.message}`);
            throw error;
          }
        });
      };
      return { self: readShares(m.selfMaskShares, expectSelf, 'self-mask shares'), keys: readShares(m.maskKeyShares, expectKeys, 'mask-key shares'), m };
    });
    for (const [, { self, keys, m }] of accepted) {
      m.selfMaskShares.forEach((s, i) => push(selfMaskShares, s.of, self[i]!));
      m.maskKeyShares.forEach((s, i) => push(maskKeyShares, s.of, keys[i]!));
    }
    const sum = this.maskedSum!;
    for (const u of survivors) {
      const seed = this.rebuild(selfMaskShares.get(u) ?? [], `client ${u}'s self-mask seed`);
      subtractInto(sum, expandSeed(seed, this.vectorLength));
    }
    for (const v of this.dropped) {
      const meet = this.partners.get(v)!.filter((u) => survivors.has(u));
      if (meet.length === 0) continue;
      const maskPrivateBytes = this.rebuild(maskKeyShares.get(v) ?? [], `dropped client ${v}'s mask key`);
      const maskPrivateKey = importPrivateKey(maskPrivateBytes);
      maskPrivateBytes.fill(0);
      if (!equalBytes(publicKeyOf(maskPrivateKey), this.keys.get(v)!.maskKey)) {
        this.abort(`the rebuilt mask key of dropped client ${v} does not match the public key it advertised: a share was altered`);
      }
      for (const u of meet) {
        const mask = expandSeed(agree(maskPrivateKey, this.keys.get(u)!.maskKeyObject, this.sessionBytes, 'pairwise-mask'), this.vectorLength);
        // y_u holds +PRG(s_uv) when v < u and −PRG(s_uv) when v > u; v's input, which would cancel it, never came.
        if (v < u) subtractInto(sum, mask);
        else addInto(sum, mask);
      }
    }
    this.outcome = { sum, summands: [...survivors].sort((a, b) => a - b) };
    this.stageNow = 'done';
    return this.outcome;
  }

  /** The sum of the survivors' inputs mod 2^32, once round 3 is done. */
  result(): Uint32Array {
    if (this.outcome === undefined) throw new SecAggStateError(`there is no result: the protocol is at step ${this.stageNow}`);
    return this.outcome.sum;
  }

  /** The clients whose inputs are in the sum (U3), once round 2 is done. */
  summands(): ClientId[] {
    if (this.stageNow !== 'unmask' && this.stageNow !== 'done') throw new SecAggStateError(`the summands are known after the masked inputs; the protocol is at step ${this.stageNow}`);
    return [...this.survivors].sort((a, b) => a - b);
  }

  private rebuild(shares: readonly Share[], what: string): Uint8Array {
    if (shares.length < this.threshold) this.abort(`cannot rebuild ${what}: ${shares.length} shares came back, ${this.threshold} are needed`);
    try {
      return reconstructSecret(shares, this.threshold);
    } catch (error) {
      if (error instanceof ShamirError) this.abort(`cannot rebuild ${what}: ${error.message}`);
      throw error;
    }
  }

  private enter(stage: ServerStage): void {
    if (this.stageNow !== stage) throw new SecAggStateError(`the server is at step ${this.stageNow}; ${stage} is not allowed now`);
  }

  private checkFrom(from: ClientId, session: string, sender: ClientId): void {
    if (from !== sender) throw new SecAggMessageError(`the message says it is from client ${from}`);
    if (session !== this.session) throw new SecAggMessageError('the message belongs to another session');
  }

  /** Reads each message; a sender not expected this round or with a malformed message is left out and its reason kept. */
  private accept<T>(messages: ReadonlyMap<ClientId, unknown>, expected: ReadonlySet<ClientId>, round: string, read: (from: ClientId, value: unknown) => T): Map<ClientId, T> {
    const out = new Map<ClientId, T>();
    for (const from of [...messages.keys()].sort((a, b) => a - b)) {
      if (!expected.has(from)) {
        this.rejections.set(from, `${round}: client ${from} is not expected in this round`);
        continue;
      }
      try {
        out.set(from, read(from, messages.get(from)));
      } catch (error) {
        if (!(error instanceof SecAggMessageError)) throw error;
        this.rejections.set(from, `${round}: ${error.message}`);
      }
    }
    return out;
  }

  private requireQuorum(count: number, what: string): void {
    if (count < this.threshold) this.abort(`only ${count} clients ${what}; the threshold is ${this.threshold}`);
  }

  private abort(reason: string): never {
    this.stageNow = 'aborted';
    this.abortReason = reason;
    this.maskedSum = undefined;
    throw new SecAggAbortError(`secure aggregation aborted: ${reason}`);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
