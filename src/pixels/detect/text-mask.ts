/**
 * What a report may show of recognised text: its shape with every letter and digit masked, and a
 * keyed digest so repeats can be counted across frames and files without the text itself.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Hex characters of the HMAC-SHA256 kept: 64 bits tell repeats apart without being a dictionary key. */
const DIGEST_HEX_CHARS = 16;

/** Upper-case letters become X, every other letter x, every digit 9; the rest is kept. */
export function maskText(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFC')) {
    if (/\p{Nd}/u.test(ch)) out += '9';
    else if (/\p{Lu}|\p{Lt}/u.test(ch)) out += 'X';
    else if (/\p{L}/u.test(ch)) out += 'x';
    else if (/\p{N}/u.test(ch)) out += '9';
    else out += ch;
  }
  return out;
}

/**
 * Digests of recognised text under one key. The key lives only in this object; without one
 * given, a random key is drawn so digests compare within one run only.
 */
export class TextDigester {
  readonly #key: Uint8Array;

  constructor(key?: Uint8Array) {
    if (key !== undefined && key.length < 16) throw new Error('digestKey: must be at least 16 bytes');
    this.#key = key ? Uint8Array.from(key) : randomBytes(32);
  }

  digest(text: string): string {
    return createHmac('sha256', this.#key).update(text.normalize('NFC'), 'utf8').digest('hex').slice(0, DIGEST_HEX_CHARS);
  }

  /** The masked text and its digest, the only form in which recognised text leaves the detector. */
  describe(text: string): { readonly masked: string; readonly digest: string } {
    return { masked: maskText(text), digest: this.digest(text) };
  }

  toJSON(): string {
    return '[TextDigester]';
  }
}
