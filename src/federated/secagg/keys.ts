/**
 * Key agreement and share encryption (Bonawitz et al. 2017, §3.3–3.4): X25519 (RFC 7748) key
 * pairs, a shared secret turned into a 32-byte key by HKDF-SHA256 (RFC 5869) bound to the
 * session and to its purpose, and AES-256-GCM authenticated encryption of the shares one client
 * sends another through the server.
 *
 * Each client has two key pairs: c for encrypting shares, s for its pairwise mask seeds. They must
 * differ: when a client drops out its s private key is reconstructed by the server, and that must
 * not open the shares it encrypted under c.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto';
import type { RandomBytes } from './prg.js';

/** Bytes of an X25519 public or private key. */
export const KEY_BYTES = 32;
/** Bytes of the AES-GCM nonce and tag around each ciphertext. */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

// DER prefixes of an X25519 key as PKCS#8 (private) and SubjectPublicKeyInfo (public), RFC 8410:
// the raw 32 bytes follow them.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/** An X25519 key pair: raw bytes to share and send, and the private key ready for agreements. */
export interface KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly privateKeyObject: KeyObject;
}

/** What a derived key is for; part of HKDF's info, so keys for one purpose never serve another. */
export type KeyPurpose = 'share-encryption' | 'pairwise-mask';

/**
 * A raw private key as a KeyObject. Importing costs about a millisecond (OpenSSL's PKCS#8
 * decoder), so callers import each key once and keep the object.
 */
export function importPrivateKey(raw: Uint8Array): KeyObject {
  if (raw.length !== KEY_BYTES) throw new RangeError(`an X25519 private key has ${KEY_BYTES} bytes, got ${raw.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

/** A raw public key as a KeyObject (as a JWK, RFC 8037, which imports ten times faster than DER). */
export function importPublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== KEY_BYTES) throw new RangeError(`an X25519 public key has ${KEY_BYTES} bytes, got ${raw.length}`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** The raw public key of a private key. */
export function publicKeyOf(privateKey: KeyObject): Uint8Array {
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(SPKI_PREFIX.length));
}

/**
 * A fresh key pair. The private key is 32 bytes of `random` (X25519 clamps them when used,
 * RFC 7748 §5), so it can be Shamir-shared as it is and rebuilt by the server byte for byte.
 */
export function generateKeyPair(random: RandomBytes): KeyPair {
  const privateKey = random(KEY_BYTES);
  const privateKeyObject = importPrivateKey(privateKey);
  return { privateKey, publicKey: publicKeyOf(privateKeyObject), privateKeyObject };
}

/**
 * The 32-byte key two clients share: HKDF-SHA256 of their X25519 shared secret, salted with the
 * session id and labelled with its purpose. Symmetric: agree(a, B) = agree(b, A). Throws for a
 * public key of small order (the shared secret would be all zeros).
 */
export function agree(privateKey: KeyObject, peerPublicKey: KeyObject, session: Uint8Array, purpose: KeyPurpose): Uint8Array {
  const shared = diffieHellman({ privateKey, publicKey: peerPublicKey });
  return new Uint8Array(hkdfSync('sha256', shared, session, `radanon/secagg/v1/${purpose}`, 32));
}

/** AES-256-GCM: nonce ‖ ciphertext ‖ tag, with `associatedData` authenticated but not encrypted. */
export function seal(key: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array, random: RandomBytes): Uint8Array {
  const nonce = random(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(associatedData);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  const out = new Uint8Array(NONCE_BYTES + body.length + TAG_BYTES);
  out.set(nonce, 0);
  out.set(body, NONCE_BYTES);
  out.set(tag, NONCE_BYTES + body.length);
  return out;
}

/** Opens what `seal` produced; returns undefined when it does not authenticate (wrong key, sender, receiver, session or altered bytes). */
export function open(key: Uint8Array, sealed: Uint8Array, associatedData: Uint8Array): Uint8Array | undefined {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
  decipher.setAAD(associatedData);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]));
  } catch {
    return undefined;
  }
}

/**
 * The associated data of the shares `from` sends `to` in `session`: binding the ciphertext to its
 * sender, receiver and protocol run, so the server cannot replay it to another client, swap its
 * direction or carry it into another round.
 */
export function shareAssociatedData(session: Uint8Array, from: number, to: number): Uint8Array {
  const label = new TextEncoder().encode(`radanon/secagg/v1/shares/${from}->${to}/`);
  const out = new Uint8Array(label.length + session.length);
  out.set(label, 0);
  out.set(session, label.length);
  return out;
}

// A fixed private key, used only to test whether a public key is usable (never to encrypt).
const PROBE_PRIVATE_KEY = importPrivateKey(new Uint8Array(KEY_BYTES).fill(0x5a));

/**
 * False for a public key no agreement can use: one of small order, whose shared secret with
 * any key is all zeros (RFC 7748 §6.1). The server refuses such keys in round 0, so an honest
 * client never fails on a neighbour's key later.
 */
export function isUsablePublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== KEY_BYTES) return false;
  try {
    diffieHellman({ privateKey: PROBE_PRIVATE_KEY, publicKey: importPublicKey(publicKey) });
    return true;
  } catch {
    return false;
  }
}
