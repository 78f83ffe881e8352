/**
 * The backends a governance behaviour suite runs on: each `open()` gives a fresh, empty store.
 * The unit tests use SQLite in a temporary directory; test/postgres uses a schema per store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Db } from '../../../src/governance/db.js';
import { openStore } from '../../../src/governance/store.js';

export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  /** A new empty store. */
  open(options?: { maxConnections?: number }): Promise<Db>;
  /** Closes every store opened and removes what it left behind. */
  cleanup(): Promise<void>;
  /** Every stored byte that could hold a secret: for SQLite the database files, for PostgreSQL every row. */
  storedText(db: Db): Promise<string>;
}

export function sqliteBackend(label: string): Backend {
  const dirs: { dir: string; db: Db }[] = [];
  const dirOf = new Map<Db, string>();
  return {
    name: 'sqlite',
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `radanon-${label}-`));
      const db = await openStore({ dataDir: path.join(dir, 'data') });
      dirs.push({ dir, db });
      dirOf.set(db, path.join(dir, 'data'));
      return db;
    },
    async cleanup() {
      for (const { dir, db } of dirs.splice(0)) {
        await db.close().catch(() => undefined);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    async storedText(db) {
      const dir = dirOf.get(db);
      if (!dir) throw new Error('not a store of this backend');
      return fs
        .readdirSync(dir)
        .map((f) => fs.readFileSync(path.join(dir, f)).toString('latin1'))
        .join('\n');
    },
  };
}

/** Every row of every table of the store's schema, as text (what a database dump would show). */
export async function allRowsText(db: Db): Promise<string> {
  const tables =
    db.dialect === 'sqlite'
      ? await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      : await db.all<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()');
  const parts: string[] = [];
  for (const { name } of tables) parts.push(JSON.stringify(await db.all(`SELECT * FROM ${name}`)));
  return parts.join('\n');
}
