/** The store's behaviour on either backend: queries, transactions, concurrency, migrations. */
import { afterAll, describe, expect, it } from 'vitest';
import type { Db, SchemaModule } from '../../../src/governance/db.js';
import { migrate, SchemaMismatchError } from '../../../src/governance/store.js';
import type { Backend } from './backends.js';

const COUNTERS: SchemaModule = {
  name: 'test-counters',
  steps: [
    ['CREATE TABLE counters (name TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL)'],
    ['CREATE TABLE events (id INTEGER NOT NULL PRIMARY KEY, note TEXT NOT NULL, big BIGINT NOT NULL, flag INTEGER NOT NULL)'],
  ],
};

export function storeSuite(backend: Backend): void {
  afterAll(() => backend.cleanup());

  describe(`store on ${backend.name}`, () => {
    async function fresh(): Promise<Db> {
      const db = await backend.open();
      await migrate(db, [COUNTERS]);
      return db;
    }

    it('returns integers, BIGINT and COUNT(*) as numbers and binds booleans', async () => {
      const db = await fresh();
      await db.run('INSERT INTO events (id, note, big, flag) VALUES (?, ?, ?, ?)', [1, 'a ? in text', 9_007_199_254_740_991, true]);
      const row = await db.get<{ id: unknown; big: unknown; flag: unknown; note: unknown }>('SELECT id, big, flag, note FROM events WHERE id = ?', [1]);
      expect(row).toEqual({ id: 1, big: 9_007_199_254_740_991, flag: 1, note: 'a ? in text' });
      const count = await db.get<{ n: unknown }>('SELECT COUNT(*) AS n FROM events');
      expect(count?.n).toBe(1);
      // A ? inside a quoted string is text, not a placeholder.
      const q = await db.get<{ t: unknown; v: unknown }>("SELECT 'what?' AS t, ? AS v", ['x']);
      expect(q).toEqual({ t: 'what?', v: 'x' });
    });

    it('reports changed rows and commits or rolls back whole transactions', async () => {
      const db = await fresh();
      await db.run('INSERT INTO counters (name, value) VALUES (?, ?)', ['c', 0]);
      expect((await db.run('UPDATE counters SET value = value + 1 WHERE name = ?', ['c'])).changes).toBe(1);
      await expect(
        db.transaction(async (tx) => {
          await tx.run('UPDATE counters SET value = 100 WHERE name = ?', ['c']);
          await tx.run('INSERT INTO counters (name, value) VALUES (?, ?)', ['d', 1]);
          throw new Error('stop');
        }),
      ).rejects.toThrow('stop');
      expect(await db.all('SELECT name, value FROM counters ORDER BY name')).toEqual([{ name: 'c', value: 1 }]);
      const result = await db.transaction(async (tx) => {
        await tx.run('UPDATE counters SET value = 5 WHERE name = ?', ['c']);
        return tx.get<{ value: number }>('SELECT value FROM counters WHERE name = ?', ['c']);
      });
      expect(result?.value).toBe(5);
    });

    it('refuses a transaction handle used after its transaction ended', async () => {
      const db = await fresh();
      let leaked: Db | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked!.all('SELECT 1 AS one')).rejects.toThrow(/after its transaction ended/);
    });

    it('refuses the store itself inside one of its transactions instead of waiting forever', async () => {
      const db = await fresh();
      await expect(db.transaction(async () => db.get('SELECT 1 AS one'))).rejects.toThrow(/use the tx handed to the transaction callback/);
      await expect(db.transaction(async () => db.transaction(async () => 1))).rejects.toThrow(/use the tx handed/);
      // A nested transaction on the tx is a savepoint: its failure undoes only its own writes.
      await db.transaction(async (tx) => {
        await tx.run('INSERT INTO counters (name, value) VALUES (?, ?)', ['outer', 1]);
        await tx.transaction(async (inner) => {
          await inner.run('INSERT INTO counters (name, value) VALUES (?, ?)', ['inner', 1]);
          throw new Error('inner fails');
        }).catch(() => undefined);
      });
      expect(await db.all('SELECT name FROM counters ORDER BY name')).toEqual([{ name: 'outer' }]);
    });

    it('loses no update under 50 concurrent read-modify-write transactions', async () => {
      const db = await fresh();
      await db.run('INSERT INTO counters (name, value) VALUES (?, ?)', ['hits', 0]);
      await Promise.all(
        Array.from({ length: 50 }, () =>
          db.transaction(async (tx) => {
            const row = await tx.get<{ value: number }>('SELECT value FROM counters WHERE name = ?', ['hits']);
            await tx.run('UPDATE counters SET value = ? WHERE name = ?', [row!.value + 1, 'hits']);
          }),
        ),
      );
      expect((await db.get<{ value: number }>('SELECT value FROM counters WHERE name = ?', ['hits']))?.value).toBe(50);
    });

    it('loses no update when transactions conflict and are retried (no migrations table to queue on)', async () => {
      const db = await backend.open();
      await db.run('CREATE TABLE counters (name TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL)');
      await db.run('INSERT INTO counters (name, value) VALUES (?, ?)', ['hits', 0]);
      await Promise.all(
        Array.from({ length: 30 }, () =>
          db.transaction(async (tx) => {
            const row = await tx.get<{ value: number }>('SELECT value FROM counters WHERE name = ?', ['hits']);
            await tx.run('UPDATE counters SET value = ? WHERE name = ?', [row!.value + 1, 'hits']);
          }),
        ),
      );
      expect((await db.get<{ value: number }>('SELECT value FROM counters WHERE name = ?', ['hits']))?.value).toBe(30);
    });

    it('applies each migration step once and records it', async () => {
      const db = await backend.open();
      const first = await migrate(db, [{ name: COUNTERS.name, steps: COUNTERS.steps.slice(0, 1) }]);
      expect(first.applied).toEqual(['test-counters#1']);
      const second = await migrate(db, [COUNTERS]);
      expect(second.applied).toEqual(['test-counters#2']);
      expect((await migrate(db, [COUNTERS])).applied).toEqual([]);
      const rows = await db.all<{ module: string; step: number }>('SELECT module, step FROM schema_migrations ORDER BY step');
      expect(rows.map((r) => [r.module, r.step])).toEqual([
        ['test-counters', 1],
        ['test-counters', 2],
      ]);
    });

    it('refuses a store whose recorded steps are not a prefix of the code, naming the module', async () => {
      const db = await fresh();
      const edited: SchemaModule = { name: COUNTERS.name, steps: [['CREATE TABLE counters (name TEXT NOT NULL PRIMARY KEY)'], COUNTERS.steps[1]!] };
      const error = await migrate(db, [edited]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaMismatchError);
      expect((error as SchemaMismatchError).module).toBe('test-counters');
      expect((error as Error).message).toMatch(/test-counters: step 1 as applied differs/);
      const older: SchemaModule = { name: COUNTERS.name, steps: COUNTERS.steps.slice(0, 1) };
      await expect(migrate(db, [older])).rejects.toThrow(/test-counters: the store has 2 steps applied, this radanon knows 1/);
    });

    it('rolls back a migration step that fails and records nothing of it', async () => {
      const db = await backend.open();
      const broken: SchemaModule = { name: 'test-broken', steps: [['CREATE TABLE half (id INTEGER NOT NULL PRIMARY KEY)', 'CREATE TABLE oops (']] };
      await expect(migrate(db, [broken])).rejects.toThrow();
      expect(await db.all("SELECT step FROM schema_migrations WHERE module = 'test-broken'")).toEqual([]);
      // The failed step left no table behind, so the fixed step applies cleanly.
      const fixed: SchemaModule = { name: 'test-broken', steps: [['CREATE TABLE half (id INTEGER NOT NULL PRIMARY KEY)']] };
      expect((await migrate(db, [fixed])).applied).toEqual(['test-broken#1']);
    });
  });
}
