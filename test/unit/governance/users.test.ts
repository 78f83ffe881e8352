import { describe, expect, it } from 'vitest';
import { CONSOLE } from '../../../src/governance/actor.js';
import { AUDIT_SCHEMA } from '../../../src/governance/audit.js';
import { migrate } from '../../../src/governance/store.js';
import { addUser, hashPassword, login, USERS_SCHEMA, verifyPassword } from '../../../src/governance/users.js';
import { sqliteBackend } from '../../support/governance/backends.js';
import { usersSuite } from '../../support/governance/users-suite.js';

const backend = sqliteBackend('users');
usersSuite(backend);

describe('passwords', () => {
  it('hash with argon2id and verify', async () => {
    const hash = await hashPassword('a long enough password');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(hash, 'a long enough password')).toBe(true);
    expect(await verifyPassword(hash, 'a long enough passworD')).toBe(false);
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
  });

  it('cost about the same for an unknown name as for a wrong password', async () => {
    const db = await backend.open();
    await migrate(db, [AUDIT_SCHEMA, USERS_SCHEMA]);
    await addUser(db, CONSOLE, { name: 'tim', roles: ['curator'], password: 'the right password' });
    const time = async (name: string) => {
      const t0 = performance.now();
      await login(db, name, 'a wrong password!').catch(() => undefined);
      return performance.now() - t0;
    };
    await time('nobody'); // the dummy hash is computed once, on first use
    const unknown: number[] = [];
    const known: number[] = [];
    for (let i = 0; i < 5; i++) {
      unknown.push(await time('nobody'));
      known.push(await time('tim'));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[2]!;
    // Both run one argon2id verification (tens of ms); an early return would take well under 1 ms.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.25);
    expect(median(unknown)).toBeLessThan(median(known) * 4);
  });
});
