/**
 * The messages of secure aggregation, one kind per protocol step (Bonawitz et al. 2017, §4,
 * Fig. 4), as plain JSON values: byte strings are base64 (RFC 4648 §4, padded), client ids are
 * whole numbers 1..n. Every message after the first names the session (one protocol run), so a
 * message from another run is refused.
 *
 * The readers below take what came off the wire (`unknown`) and either return a well-formed
 * message or throw a `SecAggMessageError` naming the field; they check structure and lengths,
 * the protocol objects check meaning.
 */
import { SecAggMessageError } from './errors.js';
import { NONCE_BYTES, TAG_BYTES } from './keys.js';
import { bytesToWords, wordsToBytes } from './ring.js';
import { SHARE_BYTES } from './shamir.js';

/** Bytes of a session id. */
export const SESSION_BYTES = 16;
/** Bytes of one sealed pair of shares: nonce, share of s^SK, share of b, tag. */
export const SEALED_SHARES_BYTES = NONCE_BYTES + 2 * SHARE_BYTES + TAG_BYTES;
/** Longest vector the protocol accepts (its base64 must fit in one JavaScript string). */
export const MAX_VECTOR_LENGTH = 2 ** 26;

/** A client's number in the protocol, 1..n (also its Shamir x coordinate). */
export type ClientId = number;

/** A client's two public keys: c (share encryption) and s (pairwise masks), base64 of 32 bytes each. */
export interface PublicKeys {
  readonly id: ClientId;
  readonly encryptionKey: string;
  readonly maskKey: string;
}

/** Round 0, client → server: the client's public keys. */
export interface AdvertiseKeysMessage {
  readonly type: 'secagg/advertise-keys';
  readonly from: ClientId;
  readonly encryptionKey: string;
  readonly maskKey: string;
}

/** Round 0, server → client: the session and its parameters, and the keys of the client's neighbours. */
export interface RosterMessage {
  readonly type: 'secagg/roster';
  readonly session: string;
  readonly to: ClientId;
  readonly threshold: number;
  readonly vectorLength: number;
  readonly neighbours: readonly PublicKeys[];
}

/** Round 1, client → server: one ciphertext of the client's shares per neighbour. */
export interface ShareKeysMessage {
  readonly type: 'secagg/share-keys';
  readonly session: string;
  readonly from: ClientId;
  readonly shares: readonly { readonly to: ClientId; readonly ciphertext: string }[];
}

/** Round 1, server → client: the ciphertexts addressed to the client by neighbours that shared keys. */
export interface ForwardedSharesMessage {
  readonly type: 'secagg/forwarded-shares';
  readonly session: string;
  readonly to: ClientId;
  readonly shares: readonly { readonly from: ClientId; readonly ciphertext: string }[];
}

/** Round 2, client → server: y_u, `vectorLength` little-endian 32-bit words in base64. */
export interface MaskedInputMessage {
  readonly type: 'secagg/masked-input';
  readonly session: string;
  readonly from: ClientId;
  readonly masked: string;
}

/**
 * Round 2, server → client: which clients' inputs are in the sum (their self-mask seeds are asked
 * for) and which shared keys but sent no input (their mask keys are asked for). Disjoint.
 */
export interface UnmaskRequestMessage {
  readonly type: 'secagg/unmask-request';
  readonly session: string;
  readonly to: ClientId;
  readonly survivors: readonly ClientId[];
  readonly dropped: readonly ClientId[];
}

/** A Shamir share the responding client holds of the secret of client `of`; `share` is base64 of 33 bytes. */
export interface HeldShare {
  readonly of: ClientId;
  readonly share: string;
}

/** Round 3, client → server: shares of survivors' self-mask seeds and of dropped clients' mask keys. */
export interface UnmaskResponseMessage {
  readonly type: 'secagg/unmask-response';
  readonly session: string;
  readonly from: ClientId;
  readonly selfMaskShares: readonly HeldShare[];
  readonly maskKeyShares: readonly HeldShare[];
}

// ---------------------------------------------------------------------------------------------
// base64

// A linear check: a repeated group in a regular expression overflows the stack on vectors of
// about a million words.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function encodeBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Strict base64 (Buffer's own decoder skips characters it does not know, which would let a
 * malformed message through). `length`, when given, is the exact number of bytes expected.
 */
export function decodeBytes(text: unknown, what: string, length?: number): Uint8Array {
  if (typeof text !== 'string') throw new SecAggMessageError(`${what} must be a base64 string`);
  if (length !== undefined && text.length !== 4 * Math.ceil(length / 3)) {
    throw new SecAggMessageError(`${what} must hold ${length} bytes (${4 * Math.ceil(length / 3)} base64 characters), got ${text.length} characters`);
  }
  if (text.length % 4 !== 0 || !BASE64.test(text)) throw new SecAggMessageError(`${what} is not valid base64`);
  const decoded = Buffer.from(text, 'base64');
  const bytes = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  if (length !== undefined && bytes.length !== length) throw new SecAggMessageError(`${what} must hold ${length} bytes, got ${bytes.length}`);
  return bytes;
}

/** A ring vector as base64 of its little-endian words. */
export function encodeWords(words: Uint32Array): string {
  return encodeBytes(wordsToBytes(words));
}

export function decodeWords(text: unknown, what: string, length: number): Uint32Array {
  return bytesToWords(decodeBytes(text, what, length * 4));
}

// ---------------------------------------------------------------------------------------------
// readers

type Fields = Record<string, unknown>;

function object(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SecAggMessageError(`${what} must be a JSON object`);
  return value as Fields;
}

function messageOf(value: unknown, type: string): Fields {
  const m = object(value, `a ${type} message`);
  if (m.type !== type) throw new SecAggMessageError(`expected a ${type} message, got type ${JSON.stringify(m.type)}`);
  return m;
}

/** A client id: a whole number ≥ 1 (≤ `n` when known). */
export function clientId(value: unknown, what: string, n?: number): ClientId {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || (n !== undefined && value > n)) {
    throw new SecAggMessageError(`${what} must be a client id (a whole number 1..${n ?? 'n'}), got ${JSON.stringify(value)}`);
  }
  return value;
}

function array(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new SecAggMessageError(`${what} must be an array`);
  return value;
}

function idList(value: unknown, what: string): ClientId[] {
  const ids = array(value, what).map((v, i) => clientId(v, `${what}[${i}]`));
  if (new Set(ids).size !== ids.length) throw new SecAggMessageError(`${what} lists a client twice`);
  return ids;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new SecAggMessageError(`${what} must be a string`);
  return value;
}

function wholeNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new SecAggMessageError(`${what} must be a whole number, got ${JSON.stringify(value)}`);
  return value;
}

export function readAdvertiseKeys(value: unknown): AdvertiseKeysMessage {
  const m = messageOf(value, 'secagg/advertise-keys');
  return { type: 'secagg/advertise-keys', from: clientId(m.from, 'from'), encryptionKey: text(m.encryptionKey, 'encryptionKey'), maskKey: text(m.maskKey, 'maskKey') };
}

export function readRoster(value: unknown): RosterMessage {
  const m = messageOf(value, 'secagg/roster');
  const neighbours = array(m.neighbours, 'neighbours').map((entry, i) => {
    const k = object(entry, `neighbours[${i}]`);
    return { id: clientId(k.id, `neighbours[${i}].id`), encryptionKey: text(k.encryptionKey, `neighbours[${i}].encryptionKey`), maskKey: text(k.maskKey, `neighbours[${i}].maskKey`) };
  });
  return {
    type: 'secagg/roster',
    session: text(m.session, 'session'),
    to: clientId(m.to, 'to'),
    threshold: wholeNumber(m.threshold, 'threshold'),
    vectorLength: wholeNumber(m.vectorLength, 'vectorLength'),
    neighbours,
  };
}

export function readShareKeys(value: unknown): ShareKeysMessage {
  const m = messageOf(value, 'secagg/share-keys');
  const shares = array(m.shares, 'shares').map((entry, i) => {
    const s = object(entry, `shares[${i}]`);
    return { to: clientId(s.to, `shares[${i}].to`), ciphertext: text(s.ciphertext, `shares[${i}].ciphertext`) };
  });
  return { type: 'secagg/share-keys', session: text(m.session, 'session'), from: clientId(m.from, 'from'), shares };
}

export function readForwardedShares(value: unknown): ForwardedSharesMessage {
  const m = messageOf(value, 'secagg/forwarded-shares');
  const shares = array(m.shares, 'shares').map((entry, i) => {
    const s = object(entry, `shares[${i}]`);
    return { from: clientId(s.from, `shares[${i}].from`), ciphertext: text(s.ciphertext, `shares[${i}].ciphertext`) };
  });
  return { type: 'secagg/forwarded-shares', session: text(m.session, 'session'), to: clientId(m.to, 'to'), shares };
}

export function readMaskedInput(value: unknown): MaskedInputMessage {
  const m = messageOf(value, 'secagg/masked-input');
  return { type: 'secagg/masked-input', session: text(m.session, 'session'), from: clientId(m.from, 'from'), masked: text(m.masked, 'masked') };
}

export function readUnmaskRequest(value: unknown): UnmaskRequestMessage {
  const m = messageOf(value, 'secagg/unmask-request');
  return {
    type: 'secagg/unmask-request',
    session: text(m.session, 'session'),
    to: clientId(m.to, 'to'),
    survivors: idList(m.survivors, 'survivors'),
    dropped: idList(m.dropped, 'dropped'),
  };
}

function heldShares(value: unknown, what: string): HeldShare[] {
  return array(value, what).map((entry, i) => {
    const s = object(entry, `${what}[${i}]`);
    return { of: clientId(s.of, `${what}[${i}].of`), share: text(s.share, `${what}[${i}].share`) };
  });
}

export function readUnmaskResponse(value: unknown): UnmaskResponseMessage {
  const m = messageOf(value, 'secagg/unmask-response');
  return {
    type: 'secagg/unmask-response',
    session: text(m.session, 'session'),
    from: clientId(m.from, 'from'),
    selfMaskShares: heldShares(m.selfMaskShares, 'selfMaskShares'),
    maskKeyShares: heldShares(m.maskKeyShares, 'maskKeyShares'),
  };
}
