/**
 * Keyed pseudonyms. Every pseudonym is an HMAC-SHA256 of the original under a key derived
 * from the project secret with a purpose label, so the same input maps to the same output in
 * every run, worker and machine with no shared state, and nobody without the secret can
 * recompute the mapping from a guessed identifier (as they could from a plain hash).
 */
import { createHmac } from 'node:crypto';

/** The project secret, wrapped so it cannot be printed or serialised by accident. */
export class ProjectSecret {
  readonly #bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** At least 16 bytes of secret material are required. */
  static fromBytes(bytes: Uint8Array): ProjectSecret {
    // Key files are usually text: a trailing newline must not change every pseudonym.
    let start = 0;
    let end = bytes.length;
    while (start < end && isSpace(bytes[start]!)) start++;
    while (end > start && isSpace(bytes[end - 1]!)) end--;
    const trimmed = Buffer.from(bytes.subarray(start, end));
    if (trimmed.length < 16) throw new Error('the project secret must hold at least 16 bytes');
    return new ProjectSecret(trimmed);
  }

  /** A random secret for one run: pseudonyms are then unlinkable to any other run. */
  static ephemeral(randomBytes: (n: number) => Uint8Array): ProjectSecret {
    return new ProjectSecret(Buffer.from(Buffer.from(randomBytes(32)).toString('hex')));
  }

  /** Derives a purpose-bound subkey; the secret itself never leaves this class. */
  deriveKey(purpose: string): Buffer {
    return createHmac('sha256', this.#bytes).update(`radanon/v1/${purpose}`).digest();
  }

  toString(): string {
    return '[ProjectSecret]';
  }

  toJSON(): string {
    return '[ProjectSecret]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[ProjectSecret]';
  }
}

export interface PseudonymSettings {
  /** Prefix of research patient IDs, e.g. "RAD-". */
  readonly researchIdPrefix: string;
  /** Inclusive range of the per-patient date shift in days (both ends negative shifts dates into the past). */
  readonly dateShiftDays: readonly [min: number, max: number];
  /** Site-supplied research IDs by original Patient ID; wins over the keyed ID. */
  readonly lookup?: ReadonlyMap<string, string>;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The UID pseudonyms of a secret alone (they depend on nothing else): a UID under the 2.25 root
 * (PS3.5 B.2), the first 128 bits of the HMAC with the UUID version (8, "custom") and variant
 * bits set, so the result is a valid UUID-derived UID of at most 44 characters with no leading
 * zeros. Verification uses it to recompute an output's UID from its original's.
 */
export function uidPseudonyms(secret: ProjectSecret): (original: string) => string {
  const key = secret.deriveKey('uid');
  return (original) => {
    const h = createHmac('sha256', key).update(original).digest();
    h[6] = (h[6]! & 0x0f) | 0x80;
    h[8] = (h[8]! & 0x3f) | 0x80;
    return `2.25.${BigInt('0x' + h.subarray(0, 16).toString('hex')).toString(10)}`;
  };
}

export class Pseudonymizer {
  readonly #uidOf: (original: string) => string;
  readonly #idKey: Buffer;
  readonly #dateKey: Buffer;
  readonly #textKey: Buffer;
  readonly #uidCache = new Map<string, string>();

  constructor(
    secret: ProjectSecret,
    readonly settings: PseudonymSettings,
  ) {
    this.#uidOf = uidPseudonyms(secret);
    this.#idKey = secret.deriveKey('patient-id');
    this.#dateKey = secret.deriveKey('date-shift');
    this.#textKey = secret.deriveKey('text');
    const [min, max] = settings.dateShiftDays;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min > max) {
      throw new Error(`invalid date shift range ${min}..${max}: two integers, min <= max`);
    }
    if (min <= 0 && max >= 0 && min === max) throw new Error('a date shift range of exactly 0 days does not shift dates');
  }

  /** The UID that replaces `original` (see uidPseudonyms). */
  uid(original: string): string {
    const cached = this.#uidCache.get(original);
    if (cached) return cached;
    const result = this.#uidOf(original);
    // Study, series and frame-of-reference UIDs recur file after file; instance UIDs do not:
    // a small cache catches the first without growing with the batch.
    if (this.#uidCache.size > 4096) this.#uidCache.clear();
    this.#uidCache.set(original, result);
    return result;
  }

  /** The research ID that replaces Patient ID and Patient Name. */
  researchId(patientId: string): string {
    const fromTable = this.settings.lookup?.get(patientId);
    if (fromTable !== undefined) return fromTable;
    const h = createHmac('sha256', this.#idKey).update(patientId).digest();
    // 60 bits in Crockford base32: 12 characters, unambiguous to read aloud or type.
    let v = h.readBigUInt64BE(0) >> 4n;
    let s = '';
    for (let i = 0; i < 12; i++) {
      s = CROCKFORD[Number(v & 31n)] + s;
      v >>= 5n;
    }
    return this.settings.researchIdPrefix + s;
  }

  /** Whole days to add to every date of this patient (never 0). */
  dateOffsetDays(patientId: string): number {
    const [min, max] = this.settings.dateShiftDays;
    const h = createHmac('sha256', this.#dateKey).update(patientId).digest();
    const span = max - min + 1;
    let offset = min + (h.readUInt32BE(0) % span);
    if (offset === 0) offset = max !== 0 ? max : min;
    return offset;
  }

  /** A keyed short token for replacing free-text identifiers consistently, e.g. accession numbers. */
  token(kind: string, original: string, length = 16): string {
    const h = createHmac('sha256', this.#textKey).update(kind).update('\0').update(original).digest('hex');
    return h.slice(0, length).toUpperCase();
  }
}
