import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, rewritePlaceholders, SQLITE_FILE, storeFromEnvironment } from '../../../src/governance/store.js';
import { sqliteBackend } from '../../support/governance/backends.js';
import { storeSuite } from '../../support/governance/store-suite.js';

storeSuite(sqliteBackend('store'));

describe('rewritePlaceholders', () => {
  it('numbers ? outside quotes, identifiers, comments and dollar quotes', () => {
    expect(rewritePlaceholders("SELECT ?, 'it''s ?', \"col?\", ? -- why?\n, /* ? */ $$?$$, ?")).toBe("SELECT $1, 'it''s ?', \"col?\", $2 -- why?\n, /* ? */ $$?$$, $3");
  });
});

describe('SQLite store files', () => {
  it('creates the data directory 0700 and the database 0600, in WAL mode with foreign keys on', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-store-files-'));
    try {
      const dataDir = path.join(root, 'radanon-data');
      const db = await openStore({ dataDir });
      await db.run('CREATE TABLE parent (id TEXT NOT NULL PRIMARY KEY)');
      await db.run('CREATE TABLE child (id TEXT NOT NULL PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent (id))');
      await expect(db.run('INSERT INTO child (id, parent_id) VALUES (?, ?)', ['c', 'missing'])).rejects.toThrow(/FOREIGN KEY/);
      expect((await db.get<{ journal_mode: string }>('PRAGMA journal_mode'))?.journal_mode).toBe('wal');
      await db.close();
      expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(dataDir, SQLITE_FILE)).mode & 0o777).toBe(0o600);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('uses DATABASE_URL when set and the data directory otherwise', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-store-env-'));
    try {
      const db = await storeFromEnvironment(root, {});
      expect(db.dialect).toBe('sqlite');
      await db.close();
      await expect(storeFromEnvironment(root, { DATABASE_URL: 'mysql://x' })).rejects.toThrow(/postgres:\/\//);
      const pgDb = await storeFromEnvironment(root, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
      expect(pgDb.dialect).toBe('postgres');
      await pgDb.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
