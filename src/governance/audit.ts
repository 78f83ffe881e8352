/**
 * The audit trail: every decision, change, login, release and failed access attempt, appended to
 * a hash chain. Each entry's hash covers its own fields, its sequence number and the previous
 * entry's hash, so altering, deleting, inserting or moving any entry breaks the chain at a place
 * `verifyAudit` names. A separate head row (the last seq and hash, written in the same
 * transaction) also catches entries cut off the end of the log, which a chain alone cannot.
 *
 * Entries are appended inside the caller's transaction (`recordAudit(tx, …)`), so an operation
 * and its audit entry are written together or not at all. Details may hold research IDs
 * (pseudonyms) and record ids, never secrets: a details key that names a password, token, secret
 * or cookie is refused outright.
 */
import { createHash } from 'node:crypto';
import type { Actor } from './actor.js';
import type { Db, SchemaModule } from './db.js';
import { isTransaction } from './store.js';

export const AUDIT_OUTCOMES = ['ok', 'refused', 'failed'] as const;
/** ok: the operation took effect; refused: a check (role, scope, validation, a gate) stopped it; failed: it broke. */
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** A JSON value, as audit details hold them. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface AuditInput {
  /** Who acted; for a failed login or an unknown token, an anonymous actor such as `{ id: 'anonymous', name: 'anonymous' }`. */
  readonly actor: Pick<Actor, 'id' | 'name'>;
  /** What was attempted, as `area.verb` (e.g. `consent.record`, `user.add`, `auth.token`). */
  readonly action: string;
  /** What it was attempted on: an id, a research ID, a project id; '' when nothing in particular. */
  readonly target: string;
  readonly outcome: AuditOutcome;
  readonly details?: { readonly [key: string]: JsonValue | undefined };
  /** The time to record; default now. */
  readonly at?: Date;
}

/** An entry as stored and as exported, the unit `verifyAuditEntries` checks. */
export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  readonly actorId: string;
  readonly actorName: string;
  readonly action: string;
  readonly target: string;
  readonly outcome: string;
  readonly details: { readonly [key: string]: JsonValue };
  readonly prevHash: string;
  readonly hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

export const AUDIT_SCHEMA: SchemaModule = {
  name: 'audit',
  steps: [
    [
      // Named constraints: the store retries a transaction that lost a race on them (a would-be fork).
      `CREATE TABLE audit_log (
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        CONSTRAINT audit_log_pkey PRIMARY KEY (seq),
        CONSTRAINT audit_log_prev_hash_key UNIQUE (prev_hash),
        CONSTRAINT audit_log_hash_key UNIQUE (hash)
      )`,
      `CREATE TABLE audit_head (
        id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL,
        CONSTRAINT audit_head_pkey PRIMARY KEY (id)
      )`,
      `CREATE INDEX audit_log_action_idx ON audit_log (action)`,
      `CREATE INDEX audit_log_target_idx ON audit_log (target)`,
    ],
  ],
};

/** Keys that name a secret value (a token, not a token's id or expiry). */
const SECRET_KEY = /(password|passphrase|secret|token|cookie|credentials?|sessionkey|csrf)$/i;

function checkDetails(value: unknown, where: string): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkDetails(v, `${where}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_KEY.test(k)) throw new Error(`audit details must not carry secrets: field ${where}.${k}`);
      checkDetails(v, `${where}.${k}`);
    }
  } else if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`audit details: ${where} is not a finite number`);
  }
}

/**
 * JSON with object keys sorted at every level and undefined members dropped: one text for one
 * value, on every machine, so an auditor's re-computation matches the service's.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new Error('canonicalJson: a value that JSON cannot represent');
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const keys = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** The hash of one entry: SHA-256 over a versioned, fixed-order canonical encoding. */
export function auditEntryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const encoding = canonicalJson([
    'radanon-audit/1',
    entry.seq,
    entry.at,
    entry.actorId,
    entry.actorName,
    entry.action,
    entry.target,
    entry.outcome,
    entry.details,
    entry.prevHash,
  ]);
  return createHash('sha256').update(encoding, 'utf8').digest('hex');
}

/**
 * Appends one entry inside the caller's transaction and returns it. The last entry is read inside
 * that (serializable) transaction; two racing appends cannot both link to it, because seq and
 * prev_hash are unique: the loser's transaction is retried by the store and links after the winner.
 */
export async function recordAudit(tx: Db, input: AuditInput): Promise<AuditEntry> {
  // Outside a transaction the read of the chain head and the append could interleave with another.
  if (!isTransaction(tx)) throw new Error('recordAudit needs the tx of a transaction (db.transaction(tx => recordAudit(tx, …)))');
  if (!(AUDIT_OUTCOMES as readonly string[]).includes(input.outcome)) throw new Error(`audit outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`);
  if (!/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/.test(input.action)) throw new Error(`audit action "${input.action}" is not of the form area.verb`);
  const details = JSON.parse(canonicalJson(input.details ?? {})) as { [key: string]: JsonValue };
  checkDetails(details, 'details');
  const last = await tx.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const seq = last ? Number(last.seq) + 1 : 1;
  const prevHash = last ? last.hash : GENESIS_HASH;
  const body = {
    seq,
    at: (input.at ?? new Date()).toISOString(),
    actorId: input.actor.id,
    actorName: input.actor.name,
    action: input.action,
    target: input.target,
    outcome: input.outcome,
    details,
    prevHash,
  };
  const hash = await insertAuditRow(tx, body);
  const moved = await tx.run('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1', [seq, hash]);
  if (moved.changes === 0) await tx.run('INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)', [seq, hash]);
  return { ...body, hash };
}

/** Writes one entry's row, hashed, and returns its hash; the chain head is the caller's business. */
export async function insertAuditRow(db: Pick<Db, 'run'>, entry: Omit<AuditEntry, 'hash'>): Promise<string> {
  const hash = auditEntryHash(entry);
  await db.run(
    'INSERT INTO audit_log (seq, at, actor_id, actor_name, action, target, outcome, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [entry.seq, entry.at, entry.actorId, entry.actorName, entry.action, entry.target, entry.outcome, canonicalJson(entry.details), entry.prevHash, hash],
  );
  return hash;
}

/**
 * Records an entry in a transaction of its own: for refusals, whose operation's transaction was
 * rolled back (or never began) but whose attempt belongs in the trail.
 */
export async function recordAuditAlone(db: Db, input: AuditInput): Promise<AuditEntry> {
  return db.transaction((tx) => recordAudit(tx, input));
}

export interface AuditProblem {
  /** The entry where the chain breaks (for a deletion, the first missing seq). */
  readonly seq: number;
  readonly kind: 'altered' | 'deleted' | 'reordered' | 'inserted';
  readonly message: string;
}

export type AuditVerification =
  | { readonly ok: true; readonly entries: number; readonly head: string }
  | { readonly ok: false; readonly entries: number; readonly problems: readonly AuditProblem[] };

/**
 * Checks a sequence of entries, in the order given, as an auditor would offline. The first break
 * is named with its kind:
 * - altered: the entry's content no longer gives its hash;
 * - reordered: the entry is intact but sits at another seq than the one it was recorded at, or
 *   links to an entry other than the one before it;
 * - deleted: seq jumps (entries are missing), or the log ends before the recorded head;
 * - inserted: the entry links to no entry of the log (it was not appended through the chain).
 * Only the first problem is reported: after a break, every later entry would be reported too.
 */
export function verifyAuditEntries(entries: readonly AuditEntry[], head?: { readonly seq: number; readonly hash: string }): AuditVerification {
  const problems: AuditProblem[] = [];
  const byHash = new Map<string, AuditEntry>();
  for (const e of entries) byHash.set(e.hash, e);
  const linkedTo = new Set(entries.map((e) => e.prevHash));
  let maxSeq = 0;
  for (const e of entries) maxSeq = Math.max(maxSeq, e.seq);
  let previous: AuditEntry | undefined;
  for (const e of entries) {
    const problem = checkOne(e, previous, byHash, maxSeq, head, linkedTo);
    if (problem) {
      problems.push(problem);
      break;
    }
    previous = e;
  }
  if (problems.length === 0 && head) {
    const lastSeq = previous?.seq ?? 0;
    if (head.seq > lastSeq) {
      problems.push({ seq: lastSeq + 1, kind: 'deleted', message: `entries ${lastSeq + 1}–${head.seq} are missing from the end of the log (the recorded head is entry ${head.seq})` });
    } else if (head.seq < lastSeq || (previous && head.hash !== previous.hash)) {
      problems.push({ seq: lastSeq, kind: 'inserted', message: `the log ends at entry ${lastSeq}, but the recorded head is entry ${head.seq} with another hash` });
    }
  }
  if (problems.length > 0) return { ok: false, entries: entries.length, problems };
  return { ok: true, entries: entries.length, head: previous?.hash ?? GENESIS_HASH };
}

function recordedSeq(body: Omit<AuditEntry, 'hash'>, hash: string, maxSeq: number): number | undefined {
  for (let s = 1; s <= maxSeq + 1; s++) {
    if (s !== body.seq && auditEntryHash({ ...body, seq: s }) === hash) return s;
  }
  return undefined;
}

function checkOne(
  e: AuditEntry,
  previous: AuditEntry | undefined,
  byHash: ReadonlyMap<string, AuditEntry>,
  maxSeq: number,
  head: { readonly seq: number } | undefined,
  linkedTo: ReadonlySet<string>,
): AuditProblem | undefined {
  const expectedSeq = previous ? previous.seq + 1 : 1;
  const expectedPrev = previous ? previous.hash : GENESIS_HASH;
  if (e.seq > expectedSeq) {
    const range = e.seq - 1 === expectedSeq ? `entry ${expectedSeq} is` : `entries ${expectedSeq}–${e.seq - 1} are`;
    return { seq: expectedSeq, kind: 'deleted', message: `${range} missing (deleted); the log jumps to entry ${e.seq}` };
  }
  if (e.seq < expectedSeq) {
    return { seq: e.seq, kind: 'reordered', message: `entry ${e.seq} appears after entry ${expectedSeq - 1}` };
  }
  const { hash, ...body } = e;
  if (auditEntryHash(body) !== hash) {
    // An entry moved to another seq still gives its hash at the seq it was recorded at. That seq
    // is searched for only here, at the one break reported, so the cost is one pass at most.
    const originalSeq = recordedSeq(body, hash, maxSeq);
    if (originalSeq !== undefined) {
      // Everything after an inserted entry moves up by one: the inserted entry is the one before,
      // linked where this one was.
      if (previous && originalSeq === e.seq - 1 && previous.prevHash === e.prevHash) {
        return { seq: previous.seq, kind: 'inserted', message: `entry ${previous.seq} (${previous.action}) was inserted: the entries after it were renumbered` };
      }
      return { seq: e.seq, kind: 'reordered', message: `entry ${e.seq} was recorded as entry ${originalSeq} (moved)` };
    }
    return { seq: e.seq, kind: 'altered', message: `entry ${e.seq} (${e.action}) was altered: its content no longer matches its hash` };
  }
  if (e.prevHash !== expectedPrev) {
    if (byHash.has(e.prevHash) || e.prevHash === GENESIS_HASH) {
      return { seq: e.seq, kind: 'reordered', message: `entry ${e.seq} (${e.action}) links to another entry than entry ${expectedSeq - 1}: entries were reordered` };
    }
    // If a later entry links to the entry before, that entry is intact and this one is the intruder.
    if ((head && e.seq > head.seq) || (previous && linkedTo.has(previous.hash))) {
      return { seq: e.seq, kind: 'inserted', message: `entry ${e.seq} (${e.action}) links to no entry of the log while entry ${expectedSeq - 1} is intact: it was inserted` };
    }
    if (previous) {
      return {
        seq: previous.seq,
        kind: 'altered',
        message: `entry ${previous.seq} (${previous.action}) was rewritten with a new hash: entry ${e.seq} was chained to a different entry ${previous.seq}`,
      };
    }
    return { seq: e.seq, kind: 'inserted', message: `entry ${e.seq} (${e.action}) links to no entry of the log: it was inserted` };
  }
  return undefined;
}

type AuditRow = {
  seq: number;
  at: string;
  actor_id: string;
  actor_name: string;
  action: string;
  target: string;
  outcome: string;
  details: string;
  prev_hash: string;
  hash: string;
};

function fromRow(r: AuditRow): AuditEntry {
  let details: { [key: string]: JsonValue };
  try {
    details = JSON.parse(r.details) as { [key: string]: JsonValue };
  } catch {
    // Unparseable details can only come from tampering; keep the raw text so the hash check names it.
    details = { unparseable: r.details };
  }
  return {
    seq: Number(r.seq),
    at: r.at,
    actorId: r.actor_id,
    actorName: r.actor_name,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

const PAGE = 5000;

/** Every entry in seq order, read page by page so a long log is not one giant query. */
export async function readAudit(db: Db, range: { fromSeq?: number; limit?: number } = {}): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  let after = (range.fromSeq ?? 1) - 1;
  const limit = range.limit ?? Number.POSITIVE_INFINITY;
  while (out.length < limit) {
    const take = Math.min(PAGE, limit - out.length);
    const rows = await db.all<AuditRow>('SELECT seq, at, actor_id, actor_name, action, target, outcome, details, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?', [after, take]);
    for (const r of rows) out.push(fromRow(r));
    if (rows.length < take) break;
    after = Number(rows[rows.length - 1]!.seq);
  }
  return out;
}

/** Verifies the stored log and its head; reads in one transaction so concurrent appends do not show as breaks. */
export async function verifyAudit(db: Db): Promise<AuditVerification> {
  return db.transaction(async (tx) => {
    const entries = await readAudit(tx);
    const head = await tx.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1');
    const result = verifyAuditEntries(entries, head ? { seq: Number(head.seq), hash: head.hash } : undefined);
    // The head is written with the first entry: a log without one lost it to tampering.
    if (result.ok && !head && entries.length > 0) {
      return { ok: false, entries: entries.length, problems: [{ seq: entries[entries.length - 1]!.seq, kind: 'deleted', message: 'the record of the log head was deleted, so entries cut off the end cannot be ruled out' }] };
    }
    return result;
  });
}

/** The log as JSON lines, one entry a line with its hashes, for an auditor to re-verify offline. */
export async function exportAudit(db: Db): Promise<string> {
  const entries = await db.transaction((tx) => readAudit(tx));
  return entries.map((e) => canonicalJson(e)).join('\n') + (entries.length > 0 ? '\n' : '');
}

/** Reads an export back (for `verifyAuditEntries`); a malformed line is named by its number. */
export function parseAuditExport(text: string): AuditEntry[] {
  const entries: AuditEntry[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`audit export line ${i + 1}: not JSON`);
    }
    const o = v as Record<string, unknown>;
    for (const k of ['at', 'actorId', 'actorName', 'action', 'target', 'outcome', 'prevHash', 'hash'] as const) {
      if (typeof o[k] !== 'string') throw new Error(`audit export line ${i + 1}: field ${k} must be a string`);
    }
    if (!Number.isInteger(o.seq)) throw new Error(`audit export line ${i + 1}: field seq must be an integer`);
    if (o.details === null || typeof o.details !== 'object' || Array.isArray(o.details)) throw new Error(`audit export line ${i + 1}: field details must be an object`);
    entries.push(o as unknown as AuditEntry);
  });
  return entries;
}
