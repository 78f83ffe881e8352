/**
 * The governance store's one door to a database: the embedded SQLite (better-sqlite3, a file in
 * the data directory) by default, PostgreSQL (pg) when DATABASE_URL is set. Modules write portable
 * SQL with `?` placeholders (rewritten to $1, $2 … for PostgreSQL), ids and timestamps as TEXT
 * (ISO 8601, UTC), JSON as TEXT, counters as INTEGER/BIGINT. Every change happens inside
 * `transaction`, so nothing partial is ever written.
 */

export type SqlValue = string | number | bigint | boolean | null | Uint8Array;

/** A row as the driver returns it: column name to value. */
export type Row = Record<string, unknown>;

export interface Db {
  readonly dialect: 'sqlite' | 'postgres';
  /** Every row of a query. */
  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row of a query, or undefined. */
  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement that returns no rows; `changes` is the number of rows it touched. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ readonly changes: number }>;
  /**
   * Runs `work` in one serializable transaction and commits, or rolls back when it throws.
   * Conflicting transactions are retried (PostgreSQL serialization failures; SQLite runs them one
   * at a time), so concurrent votes or consent events never lose an update. Inside `work`, use
   * only the `tx` handed to it.
   */
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A module's tables: statements run once, in order, by the migration runner. */
export interface SchemaModule {
  /** Stable name, recorded with each applied step. */
  readonly name: string;
  /** Each step is a list of statements; steps are never edited once released, only appended. */
  readonly steps: readonly (readonly string[])[];
}
