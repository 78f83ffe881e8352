/**
 * Opens the governance store: the embedded SQLite database in the data directory (one command, no
 * setup) or a PostgreSQL server when DATABASE_URL is set (one consortium server, many users), both
 * behind the one `Db` interface of db.ts; and the migration runner that brings either up to the
 * code's schema.
 *
 * Portability rules the two backends share here, so modules can write one SQL text:
 * - `?` placeholders (rewritten to `$1`, `$2` … for PostgreSQL, ignoring `?` inside quoted text
 *   and comments);
 * - booleans are bound as 1/0 (better-sqlite3 cannot bind booleans; store them as INTEGER);
 * - integer columns come back as JavaScript numbers on both backends: PostgreSQL's BIGINT (and
 *   COUNT(*), which is BIGINT) is parsed to a number by this pool's own type parser, not pg's
 *   global one, so other users of pg in the process are unaffected;
 * - every transaction is serializable: SQLite runs one at a time (`BEGIN IMMEDIATE` behind an
 *   in-process mutex, with a busy timeout for other processes), PostgreSQL runs them
 *   concurrently at SERIALIZABLE and retries the ones that lose a conflict.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Db, Row, SchemaModule, SqlValue } from './db.js';

export type StoreOptions =
  | { readonly dataDir: string }
  | {
      readonly url: string;
      /**
       * A PostgreSQL schema to work in (set as the connections' search_path); it must exist.
       * Tests use one schema per file so several suites can share one database.
       */
      readonly schema?: string;
      /** Pool size; default 10. */
      readonly maxConnections?: number;
    };

/** The SQLite file inside a data directory. */
export const SQLITE_FILE = 'radanon.sqlite';

/** How long a SQLite writer waits for another process's write lock before it gives up (ms). */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;
/** Attempts of a transaction that keeps losing conflicts before the error reaches the caller. */
const MAX_ATTEMPTS = 40;

export async function openStore(options: StoreOptions): Promise<Db> {
  if ('dataDir' in options) return openSqlite(options.dataDir);
  return openPostgres(options);
}

/**
 * The store the service and the command line use: PostgreSQL when DATABASE_URL is set (it wins,
 * so every face of one deployment sees the same database), else SQLite in `dataDir`.
 */
export async function storeFromEnvironment(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Db> {
  const url = env.DATABASE_URL?.trim();
  if (url) return openStore({ url });
  return openStore({ dataDir });
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function bindable(params: readonly SqlValue[] | undefined): unknown[] {
  if (!params) return [];
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential backoff with full jitter, so retried transactions spread out instead of colliding again. */
function backoffMs(attempt: number): number {
  const cap = Math.min(250, 2 * 2 ** attempt);
  return 1 + Math.random() * cap;
}

/**
 * A minimal FIFO mutex. Written here rather than taken from a package because it is a dozen lines
 * and the store needs nothing else of such a package.
 */
class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#tail;
    this.#tail = previous.then(() => next);
    await previous;
    return release;
  }
}

/**
 * The store whose transaction the current async call chain runs in. Using the store itself (not
 * the `tx` handed to the work) inside a transaction would wait for that same transaction's lock
 * and never return (SQLite's mutex, PostgreSQL's queue lock) or escape it; it is refused instead.
 */
const activeTransaction = new AsyncLocalStorage<object>();

function refuseInsideTransaction(owner: object): void {
  if (activeTransaction.getStore() === owner) {
    throw new Error('the store was used inside one of its own transactions: use the tx handed to the transaction callback');
  }
}

/** Transaction handles, so that recordAudit and others can insist on running inside one. */
const transactionHandles = new WeakSet<Db>();

/** Whether `db` is a handle of an open transaction (the `tx` a transaction callback receives). */
export function isTransaction(db: Db): boolean {
  return transactionHandles.has(db);
}

// ---------------------------------------------------------------------------------------------
// SQLite

function openSqlite(dataDir: string): Db {
  const dir = path.resolve(dataDir);
  // The store holds consent, approvals and token hashes: only the service's own user reads it.
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, SQLITE_FILE);
  // Created empty with mode 0600 before SQLite opens it; SQLite gives its -wal and -shm files the
  // same permissions as the database file.
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  const sqlite = new Database(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  return new SqliteDb(sqlite, new Mutex());
}

function isSqliteBusy(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  #closed = false;

  constructor(
    readonly sqlite: Database.Database,
    readonly mutex: Mutex,
  ) {}

  // better-sqlite3 is synchronous; the statements below run whole between two awaits, but a
  // transaction spans awaits, so statements outside one wait for the mutex: otherwise they would
  // run inside another caller's open transaction.
  async all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    refuseInsideTransaction(this);
    const release = await this.mutex.lock();
    try {
      return this.#all<T>(sql, params);
    } finally {
      release();
    }
  }

  async get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<{ readonly changes: number }> {
    refuseInsideTransaction(this);
    const release = await this.mutex.lock();
    try {
      return this.#run(sql, params);
    } finally {
      release();
    }
  }

  #all<T extends Row>(sql: string, params?: readonly SqlValue[]): T[] {
    this.#open();
    const statement = this.sqlite.prepare(sql);
    if (!statement.reader) {
      statement.run(...bindable(params));
      return [];
    }
    return statement.all(...bindable(params)) as T[];
  }

  #run(sql: string, params?: readonly SqlValue[]): { changes: number } {
    this.#open();
    const statement = this.sqlite.prepare(sql);
    if (statement.reader) {
      statement.all(...bindable(params));
      return { changes: 0 };
    }
    return { changes: statement.run(...bindable(params)).changes };
  }

  #open(): void {
    if (this.#closed) throw new Error('the governance store is closed');
  }

  async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    refuseInsideTransaction(this);
    const release = await this.mutex.lock();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          this.#open();
          // IMMEDIATE takes the write lock now, so another process cannot make this transaction's
          // reads stale before it writes (SQLite's form of serializable).
          this.sqlite.exec('BEGIN IMMEDIATE');
        } catch (e) {
          if (isSqliteBusy(e) && attempt < MAX_ATTEMPTS) {
            await sleep(backoffMs(attempt));
            continue;
          }
          throw e;
        }
        const tx = new SqliteTx(this);
        transactionHandles.add(tx);
        try {
          const result = await activeTransaction.run(this, () => work(tx));
          this.sqlite.exec('COMMIT');
          return result;
        } catch (e) {
          if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK');
          throw e;
        } finally {
          tx.end();
        }
      }
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    const release = await this.mutex.lock();
    try {
      if (!this.#closed) {
        this.#closed = true;
        this.sqlite.close();
      }
    } finally {
      release();
    }
  }

  /** Statement execution for a transaction that already holds the mutex. */
  unlockedAll<T extends Row>(sql: string, params?: readonly SqlValue[]): T[] {
    return this.#all<T>(sql, params);
  }

  unlockedRun(sql: string, params?: readonly SqlValue[]): { changes: number } {
    return this.#run(sql, params);
  }
}

let savepointCounter = 0;

class SqliteTx implements Db {
  readonly dialect = 'sqlite' as const;
  #ended = false;

  constructor(readonly owner: SqliteDb) {}

  end(): void {
    this.#ended = true;
  }

  #check(): void {
    if (this.#ended) throw new Error('a transaction handle was used after its transaction ended');
  }

  async all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    this.#check();
    return this.owner.unlockedAll<T>(sql, params);
  }

  async get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<{ readonly changes: number }> {
    this.#check();
    return this.owner.unlockedRun(sql, params);
  }

  /** A nested transaction is a savepoint: its failure undoes only its own writes. */
  async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    this.#check();
    const name = `sp_${++savepointCounter}`;
    this.owner.unlockedRun(`SAVEPOINT ${name}`);
    try {
      const result = await work(this);
      this.owner.unlockedRun(`RELEASE ${name}`);
      return result;
    } catch (e) {
      this.owner.unlockedRun(`ROLLBACK TO ${name}`);
      this.owner.unlockedRun(`RELEASE ${name}`);
      throw e;
    }
  }

  async close(): Promise<void> {
    throw new Error('close the store, not a transaction');
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

const PG_INT8_OID = 20;

/** BIGINT and COUNT(*) as numbers, like SQLite's integers; beyond 2^53 they stay exact as BigInt. */
function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

const pgTypes = {
  getTypeParser(oid: number, format?: string): unknown {
    if (oid === PG_INT8_OID && format !== 'binary') return parseInt8;
    return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
  },
};

/**
 * Rewrites `?` placeholders to `$1`, `$2` …, leaving alone a `?` inside a quoted string, a quoted
 * identifier, a dollar-quoted body or a comment. Hand-written because pg has no `?` mode and the
 * store's SQL must stay one text for both backends.
 */
export function rewritePlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      // '' (or "") inside a quoted run is an escaped quote: the scan simply continues past it.
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const j = end === -1 ? sql.length : end;
      out += sql.slice(i, j);
      i = j;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const j = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, j);
      i = j;
    } else if (c === '$' && /^\$[A-Za-z_]*\$/.test(sql.slice(i))) {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))![0];
      const end = sql.indexOf(tag, i + tag.length);
      const j = end === -1 ? sql.length : end + tag.length;
      out += sql.slice(i, j);
      i = j;
    } else if (c === '?') {
      out += `$${++n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Whether a PostgreSQL error means "try the whole transaction again". */
function isRetryablePg(e: unknown): boolean {
  const err = e as { code?: string; constraint?: string } | null;
  if (!err) return false;
  if (err.code === '40001' || err.code === '40P01') return true;
  // Two appends to the audit chain that raced: the unique constraints on seq and prev_hash stop
  // the fork; the loser starts again and links after the winner.
  return err.code === '23505' && typeof err.constraint === 'string' && err.constraint.startsWith('audit_log_');
}

function validSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error('schema: lower-case letters, digits and underscores, at most 63, not starting with a digit');
  }
  return schema;
}

function openPostgres(options: { url: string; schema?: string; maxConnections?: number }): Db {
  if (!/^postgres(ql)?:\/\//.test(options.url)) {
    throw new Error('DATABASE_URL: expected a postgres:// or postgresql:// URL');
  }
  const config: pg.PoolConfig = {
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types: pgTypes as pg.CustomTypesConfig,
  };
  if (options.schema !== undefined) config.options = `-c search_path=${validSchemaName(options.schema)}`;
  const pool = new pg.Pool(config);
  // An idle client that loses its server connection must not crash the process; the next query
  // gets a fresh connection.
  pool.on('error', () => undefined);
  return new PgDb(pool);
}

async function pgQuery<T extends Row>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly SqlValue[]): Promise<pg.QueryResult<T>> {
  return client.query<T>(rewritePlaceholders(sql), bindable(params));
}

class PgDb implements Db {
  readonly dialect = 'postgres' as const;
  /** Whether the migrations table exists yet, so transactions can queue on it (see `transaction`). */
  #queueTable = false;

  constructor(readonly pool: pg.Pool) {}

  async #hasQueueTable(): Promise<boolean> {
    if (!this.#queueTable) {
      const row = await pgQuery<{ t: string | null }>(this.pool, "SELECT to_regclass('schema_migrations')::text AS t");
      this.#queueTable = row.rows[0]?.t != null;
    }
    return this.#queueTable;
  }

  async all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    refuseInsideTransaction(this);
    return (await pgQuery<T>(this.pool, sql, params)).rows;
  }

  async get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<{ readonly changes: number }> {
    refuseInsideTransaction(this);
    return { changes: (await pgQuery(this.pool, sql, params)).rowCount ?? 0 };
  }

  async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    refuseInsideTransaction(this);
    const queue = await this.#hasQueueTable();
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      const tx = new PgTx(client);
      transactionHandles.add(tx);
      let broken = false;
      try {
        // Every governance write appends to the one audit chain, so writes cannot run side by
        // side anyway: at SERIALIZABLE, concurrent ones would all read the same chain head and
        // all but one would abort and retry, again and again under load. Queueing on a table
        // lock taken before the transaction's snapshot (LOCK TABLE takes none) makes them wait
        // their turn instead. SHARE ROW EXCLUSIVE conflicts with itself but not with plain
        // reads, which run concurrently. The retry below stays for conflicts with statements
        // run outside a transaction.
        // (Sent with BEGIN as one simple query: one round trip for both.)
        await client.query(queue ? 'BEGIN ISOLATION LEVEL SERIALIZABLE; LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE' : 'BEGIN ISOLATION LEVEL SERIALIZABLE');
        const result = await activeTransaction.run(this, () => work(tx));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        if (isRetryablePg(e) && attempt < MAX_ATTEMPTS) {
          tx.end();
          client.release(broken);
          await sleep(backoffMs(attempt));
          continue;
        }
        throw e;
      } finally {
        if (!tx.ended) {
          tx.end();
          client.release(broken);
        }
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

class PgTx implements Db {
  readonly dialect = 'postgres' as const;
  ended = false;

  constructor(readonly client: pg.PoolClient) {}

  end(): void {
    this.ended = true;
  }

  #check(): void {
    if (this.ended) throw new Error('a transaction handle was used after its transaction ended');
  }

  async all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    this.#check();
    return (await pgQuery<T>(this.client, sql, params)).rows;
  }

  async get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<{ readonly changes: number }> {
    this.#check();
    return { changes: (await pgQuery(this.client, sql, params)).rowCount ?? 0 };
  }

  async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    this.#check();
    const name = `sp_${++savepointCounter}`;
    await this.client.query(`SAVEPOINT ${name}`);
    try {
      const result = await work(this);
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (e) {
      await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw e;
    }
  }

  async close(): Promise<void> {
    throw new Error('close the store, not a transaction');
  }
}

// ---------------------------------------------------------------------------------------------
// Migrations

/** The table that records each applied step, with a digest of its statements. */
const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  module TEXT NOT NULL,
  step INTEGER NOT NULL,
  digest TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  PRIMARY KEY (module, step)
)`;

/** A store whose recorded schema does not match the code (edited, reordered or newer steps). */
export class SchemaMismatchError extends Error {
  constructor(
    readonly module: string,
    message: string,
  ) {
    super(message);
    this.name = 'SchemaMismatchError';
  }
}

function stepDigest(statements: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(statements)).digest('hex');
}

export interface MigrationResult {
  /** Steps applied now, as `module#step` (1-based). */
  readonly applied: readonly string[];
}

/**
 * Applies every module's missing steps, each in its own transaction, and records them. A store
 * whose recorded steps for a module are not a prefix of the code's (a step edited after it was
 * applied, or steps from a newer radanon) is refused, naming the module, before anything is
 * written. Safe to run from several processes at once: PostgreSQL takes an advisory lock per
 * step, SQLite's BEGIN IMMEDIATE already excludes other writers.
 */
export async function migrate(db: Db, modules: readonly SchemaModule[], options: { now?: Date } = {}): Promise<MigrationResult> {
  const names = new Set<string>();
  for (const m of modules) {
    if (names.has(m.name)) throw new Error(`schema module ${m.name} is listed twice`);
    names.add(m.name);
  }
  await db.transaction(async (tx) => {
    await lockMigrations(tx);
    await tx.run(MIGRATIONS_TABLE);
  });
  const recorded = await db.all<{ module: string; step: number; digest: string }>('SELECT module, step, digest FROM schema_migrations ORDER BY module, step');
  for (const m of modules) checkPrefix(m, recorded.filter((r) => r.module === m.name));

  const applied: string[] = [];
  for (const m of modules) {
    for (let index = 0; index < m.steps.length; index++) {
      const statements = m.steps[index]!;
      const step = index + 1;
      const done = await db.transaction(async (tx) => {
        await lockMigrations(tx);
        const rows = await tx.all<{ module: string; step: number; digest: string }>('SELECT module, step, digest FROM schema_migrations WHERE module = ? ORDER BY step', [m.name]);
        checkPrefix(m, rows);
        if (rows.some((r) => Number(r.step) === step)) return false;
        for (const statement of statements) await tx.run(statement);
        await tx.run('INSERT INTO schema_migrations (module, step, digest, applied_at) VALUES (?, ?, ?, ?)', [m.name, step, stepDigest(statements), (options.now ?? new Date()).toISOString()]);
        return true;
      });
      if (done) applied.push(`${m.name}#${step}`);
    }
  }
  return { applied };
}

async function lockMigrations(tx: Db): Promise<void> {
  if (tx.dialect === 'postgres') await tx.get("SELECT pg_advisory_xact_lock(hashtext('radanon.schema_migrations'))");
}

function checkPrefix(m: SchemaModule, rows: readonly { step: number; digest: string }[]): void {
  if (rows.length > m.steps.length) {
    throw new SchemaMismatchError(m.name, `schema module ${m.name}: the store has ${rows.length} steps applied, this radanon knows ${m.steps.length} (a newer version wrote it)`);
  }
  rows.forEach((r, i) => {
    const expected = i + 1;
    if (Number(r.step) !== expected) {
      throw new SchemaMismatchError(m.name, `schema module ${m.name}: step ${expected} is missing from the store's record while step ${r.step} is applied`);
    }
    if (r.digest !== stepDigest(m.steps[i]!)) {
      throw new SchemaMismatchError(m.name, `schema module ${m.name}: step ${expected} as applied differs from this radanon's step ${expected} (a released step was edited)`);
    }
  });
}
