/**
 * The client side of secure aggregation (Bonawitz et al., CCS 2017, §4, Fig. 4; with SecAgg+'s
 * neighbourhoods, Bell et al., CCS 2020), as a state machine without I/O: each method takes the
 * server's message of the previous round and returns the client's message for the next.
 *
 *   advertiseKeys()            Round 0  fresh key pairs c (share encryption) and s (masks)
 *   shareKeys(roster)          Round 1  Shamir shares of s^SK and of a fresh self-mask seed b,
 *                                       encrypted to each neighbour
 *   maskedInput(x, forwarded)  Round 2  y = x + PRG(b) + Σ_{v<u} PRG(s_uv) − Σ_{v>u} PRG(s_uv) mod 2^32
 *   unmask(request)            Round 3  shares of b for survivors, of s^SK for dropped clients —
 *                                       never both for the same client
 *
 * Threat model: the server is honest but curious (it follows the protocol and tries to learn
 * from what it sees) and up to t − 1 clients may pool what they know with it; messages are not
 * signed, so a server that lies about who dropped out to different clients is out of scope (the
 * paper's active-adversary version adds signatures and a consistency round for that). The
 * client's own checks go one step further: it refuses any request that would reveal an
 * individual input, whatever the server's reasons (a fault, or a client it took for dropped whose
 * input arrived late).
 *
 * A client that throws is finished: it wipes its secrets and every later call fails.
 */
import type { KeyObject } from 'node:crypto';
import { SecAggConfigError, SecAggMessageError, SecAggRefusalError, SecAggStateError } from './errors.js';
import { agree, generateKeyPair, importPublicKey, KEY_BYTES, open, seal, shareAssociatedData, type KeyPair } from './keys.js';
import {
  clientId,
  decodeBytes,
  encodeBytes,
  encodeWords,
  MAX_VECTOR_LENGTH,
  readForwardedShares,
  readRoster,
  readUnmaskRequest,
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
import { decodeShareValue, encodeShareValue, SHARE_BYTES, shareSecret } from './shamir.js';

export interface SecAggClientOptions {
  /** The client's id, 1..n, as the server numbers the clients. */
  readonly id: ClientId;
  /** Number of ring elements in the input vector. */
  readonly vectorLength: number;
  /** Source of keys, seeds and nonces; the system CSPRNG unless a test needs reproducibility. */
  readonly random?: RandomBytes;
}

type ClientStage = 'advertise-keys' | 'share-keys' | 'masked-input' | 'unmask' | 'done' | 'aborted';

interface NeighbourKeys {
  readonly encryptionKey: KeyObject;
  readonly maskKey: KeyObject;
}

/** The shares this client holds of one client's two secrets (its own included). */
interface HeldSharePair {
  readonly maskKey: bigint;
  readonly selfMask: bigint;
}

export class SecAggClient {
  readonly id: ClientId;
  readonly vectorLength: number;
  private readonly random: RandomBytes;
  private stageNow: ClientStage = 'advertise-keys';
  private encryptionKeys: KeyPair | undefined;
  private maskKeys: KeyPair | undefined;
  private selfMaskSeed: Uint8Array | undefined;
  private session: Uint8Array = new Uint8Array(0);
  private sessionText = '';
  private threshold = 0;
  private neighbours = new Map<ClientId, NeighbourKeys>();
  /** Clients whose shares this client holds, itself included. */
  private held = new Map<ClientId, HeldSharePair>();
  /** Neighbours that shared keys in round 1: the ones the masked input is masked with. */
  private partners: ClientId[] = [];

  constructor(options: SecAggClientOptions) {
    this.id = clientId(options.id, 'the client id');
    if (!Number.isSafeInteger(options.vectorLength) || options.vectorLength < 1 || options.vectorLength > MAX_VECTOR_LENGTH) {
      throw new SecAggConfigError(`the vector length must be a whole number 1..${MAX_VECTOR_LENGTH}, got ${options.vectorLength}`);
    }
    this.vectorLength = options.vectorLength;
    this.random = options.random ?? systemRandom;
  }

  /** Where the client is in the protocol: the step it expects next, 'done' or 'aborted'. */
  get stage(): ClientStage {
    return this.stageNow;
  }

  /** Round 0: generates the two key pairs and returns their public halves. */
  advertiseKeys(): AdvertiseKeysMessage {
    return this.step('advertise-keys', 'share-keys', () => {
      this.encryptionKeys = generateKeyPair(this.random);
      this.maskKeys = generateKeyPair(this.random);
      return {
        type: 'secagg/advertise-keys',
        from: this.id,
        encryptionKey: encodeBytes(this.encryptionKeys.publicKey),
        maskKey: encodeBytes(this.maskKeys.publicKey),
      };
    });
  }

  /**
   * Round 1: checks the roster, draws the self-mask seed b, Shamir-shares s^SK and b among the
   * client and its neighbours (threshold t) and encrypts each neighbour's pair of shares to it.
   */
  shareKeys(rosterMessage: RosterMessage): ShareKeysMessage {
    return this.step('share-keys', 'masked-input', () => {
      const roster = readRoster(rosterMessage);
      if (roster.to !== this.id) throw new SecAggMessageError(`the roster is addressed to client ${roster.to}, not ${this.id}`);
      this.session = decodeBytes(roster.session, 'the session id', SESSION_BYTES);
      this.sessionText = roster.session;
      if (roster.vectorLength !== this.vectorLength) {
        throw new SecAggMessageError(`the roster announces vectors of ${roster.vectorLength} elements; this client has ${this.vectorLength}`);
      }
      const seenKeys = new Set([encodeBytes(this.encryptionKeys!.publicKey), encodeBytes(this.maskKeys!.publicKey)]);
      for (const [i, entry] of roster.neighbours.entries()) {
        if (entry.id === this.id) throw new SecAggMessageError('the roster lists the client among its own neighbours');
        if (this.neighbours.has(entry.id)) throw new SecAggMessageError(`the roster lists client ${entry.id} twice`);
        // Bonawitz et al., Round 1: all public keys must differ, or one client could pose as another.
        for (const key of [entry.encryptionKey, entry.maskKey]) {
          if (seenKeys.has(key)) throw new SecAggMessageError(`the roster repeats a public key (neighbours[${i}], client ${entry.id})`);
          seenKeys.add(key);
        }
        this.neighbours.set(entry.id, {
          encryptionKey: importPublicKey(decodeBytes(entry.encryptionKey, `the encryption key of client ${entry.id}`, KEY_BYTES)),
          maskKey: importPublicKey(decodeBytes(entry.maskKey, `the mask key of client ${entry.id}`, KEY_BYTES)),
        });
      }
      const holders = [this.id, ...this.neighbours.keys()];
      if (roster.threshold < 2 || roster.threshold > holders.length) {
        throw new SecAggMessageError(`the threshold must be 2..${holders.length} (the client and its ${holders.length - 1} neighbours hold the shares), got ${roster.threshold}`);
      }
      this.threshold = roster.threshold;
      this.selfMaskSeed = this.random(SEED_BYTES);
      const maskKeyShares = shareSecret(this.maskKeys!.privateKey, this.threshold, holders, this.random);
      const selfMaskShares = shareSecret(this.selfMaskSeed, this.threshold, holders, this.random);
      this.held.set(this.id, { maskKey: maskKeyShares.get(this.id)!, selfMask: selfMaskShares.get(this.id)! });
      const shares: { to: ClientId; ciphertext: string }[] = [];
      for (const [v, keys] of this.neighbours) {
        const plaintext = new Uint8Array(2 * SHARE_BYTES);
        plaintext.set(encodeShareValue(maskKeyShares.get(v)!), 0);
        plaintext.set(encodeShareValue(selfMaskShares.get(v)!), SHARE_BYTES);
        const key = agree(this.encryptionKeys!.privateKeyObject, keys.encryptionKey, this.session, 'share-encryption');
        shares.push({ to: v, ciphertext: encodeBytes(seal(key, plaintext, shareAssociatedData(this.session, this.id, v), this.random)) });
      }
      return { type: 'secagg/share-keys', session: this.sessionText, from: this.id, shares };
    });
  }

  /**
   * Round 2: decrypts the shares neighbours sent, and returns the input masked with the
   * self-mask and with one pairwise mask per neighbour that shared keys.
   */
  maskedInput(input: Uint32Array, forwardedMessage: ForwardedSharesMessage): MaskedInputMessage {
    return this.step('masked-input', 'unmask', () => {
      if (!(input instanceof Uint32Array) || input.length !== this.vectorLength) {
        throw new SecAggConfigError(`the input must be a Uint32Array of ${this.vectorLength} elements`);
      }
      const forwarded = readForwardedShares(forwardedMessage);
      this.checkAddressed(forwarded.to, forwarded.session, 'forwarded shares');
      for (const { from, ciphertext } of forwarded.shares) {
        const keys = this.neighbours.get(from);
        if (keys === undefined) throw new SecAggMessageError(`shares forwarded from client ${from}, which is not a neighbour`);
        if (this.held.has(from)) throw new SecAggMessageError(`shares from client ${from} are forwarded twice`);
        const sealed = decodeBytes(ciphertext, `the shares from client ${from}`, SEALED_SHARES_BYTES);
        const key = agree(this.encryptionKeys!.privateKeyObject, keys.encryptionKey, this.session, 'share-encryption');
        const plaintext = open(key, sealed, shareAssociatedData(this.session, from, this.id));
        if (plaintext === undefined) throw new SecAggMessageError(`the shares from client ${from} do not decrypt (altered, or not meant for client ${this.id} in this session)`);
        this.held.set(from, {
          maskKey: decodeShareValue(plaintext.subarray(0, SHARE_BYTES)),
          selfMask: decodeShareValue(plaintext.subarray(SHARE_BYTES)),
        });
        this.partners.push(from);
      }
      this.partners.sort((a, b) => a - b);
      if (this.partners.length + 1 < this.threshold) {
        throw new SecAggMessageError(`only ${this.partners.length} neighbours shared keys: with the client itself that is fewer than the threshold ${this.threshold}`);
      }
      const masked = Uint32Array.from(input);
      addInto(masked, expandSeed(this.selfMaskSeed!, this.vectorLength));
      for (const v of this.partners) {
        const seed = agree(this.maskKeys!.privateKeyObject, this.neighbours.get(v)!.maskKey, this.session, 'pairwise-mask');
        // The sign convention of Bonawitz et al. §3.2: + for v < u, − for v > u, so each pair cancels in the sum.
        if (v < this.id) addInto(masked, expandSeed(seed, this.vectorLength));
        else subtractInto(masked, expandSeed(seed, this.vectorLength));
      }
      return { type: 'secagg/masked-input', session: this.sessionText, from: this.id, masked: encodeWords(masked) };
    });
  }

  /**
   * Round 3: returns this client's shares of the survivors' self-mask seeds and of the dropped
   * clients' mask keys. Refuses (SecAggRefusalError) a request naming a client both as survivor
   * and as dropped, naming this client as not a survivor, or with fewer survivors than the
   * threshold: each would let the server learn one input rather than a sum.
   */
  unmask(requestMessage: UnmaskRequestMessage): UnmaskResponseMessage {
    return this.step('unmask', 'done', () => {
      const request = readUnmaskRequest(requestMessage);
      this.checkAddressed(request.to, request.session, 'the unmask request');
      const survivors = new Set(request.survivors);
      const dropped = new Set(request.dropped);
      const both = request.dropped.filter((v) => survivors.has(v));
      if (both.length > 0) {
        throw new SecAggRefusalError(`the server asks for both the self-mask share and the mask-key share of client ${both.join(', ')}: that would unmask an individual input`);
      }
      if (!survivors.has(this.id)) {
        throw new SecAggRefusalError(`the server does not count client ${this.id} among the survivors although it sent its masked input`);
      }
      if (survivors.size < this.threshold) {
        throw new SecAggRefusalError(`only ${survivors.size} survivors, fewer than the threshold ${this.threshold}: the sum would reveal too little mixing of inputs`);
      }
      for (const v of this.neighbours.keys()) {
        const listed = survivors.has(v) || dropped.has(v);
        const shared = this.held.has(v);
        if (shared && !listed) throw new SecAggMessageError(`the request does not say whether client ${v}, which shared keys, survived or dropped out`);
        if (!shared && listed) throw new SecAggMessageError(`the request lists client ${v}, whose shares were never forwarded to client ${this.id}`);
      }
      const selfMaskShares: HeldShare[] = [];
      const maskKeyShares: HeldShare[] = [];
      for (const [v, pair] of [...this.held].sort((a, b) => a[0] - b[0])) {
        if (survivors.has(v)) selfMaskShares.push({ of: v, share: encodeBytes(encodeShareValue(pair.selfMask)) });
        else if (dropped.has(v)) maskKeyShares.push({ of: v, share: encodeBytes(encodeShareValue(pair.maskKey)) });
      }
      this.wipe();
      return { type: 'secagg/unmask-response', session: this.sessionText, from: this.id, selfMaskShares, maskKeyShares };
    });
  }

  private checkAddressed(to: ClientId, session: string, what: string): void {
    if (to !== this.id) throw new SecAggMessageError(`${what} is addressed to client ${to}, not ${this.id}`);
    if (session !== this.sessionText) throw new SecAggMessageError(`${what} belongs to another session`);
  }

  /** Runs one protocol step: only in stage `from`; moves to `to` on success, aborts on any error. */
  private step<T>(from: ClientStage, to: ClientStage, body: () => T): T {
    if (this.stageNow !== from) {
      throw new SecAggStateError(`client ${this.id} is at step ${this.stageNow}; ${from} is not allowed now`);
    }
    try {
      const out = body();
      this.stageNow = to;
      return out;
    } catch (error) {
      this.stageNow = 'aborted';
      this.wipe();
      throw error;
    }
  }

  /** Forgets every secret: after Round 3, or on abort, nothing can be asked of this client again. */
  private wipe(): void {
    this.encryptionKeys?.privateKey.fill(0);
    this.maskKeys?.privateKey.fill(0);
    this.selfMaskSeed?.fill(0);
    this.encryptionKeys = undefined;
    this.maskKeys = undefined;
    this.selfMaskSeed = undefined;
    this.held.clear();
  }
}
