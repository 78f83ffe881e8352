/** Accounts, tokens, passwords and sessions on either backend. */
import { afterAll, describe, expect, it } from 'vitest';
import { CONSOLE, type Actor } from '../../../src/governance/actor.js';
import { AUDIT_SCHEMA, readAudit, verifyAudit } from '../../../src/governance/audit.js';
import type { Db } from '../../../src/governance/db.js';
import { GovernanceError } from '../../../src/governance/errors.js';
import { migrate } from '../../../src/governance/store.js';
import {
  addUser,
  authenticateToken,
  disableUser,
  endSession,
  issueToken,
  listTokens,
  listUsers,
  login,
  revokeToken,
  sessionActor,
  setPassword,
  TOKEN_PREFIX,
  USERS_SCHEMA,
} from '../../../src/governance/users.js';
import type { Backend } from './backends.js';
import { codeOf } from './refusals.js';

const T0 = new Date('2026-03-01T10:00:00Z');
const DAY = 86_400_000;

export function usersSuite(backend: Backend): void {
  afterAll(() => backend.cleanup());

  async function fresh(): Promise<Db> {
    const db = await backend.open();
    await migrate(db, [AUDIT_SCHEMA, USERS_SCHEMA]);
    return db;
  }

  describe(`users on ${backend.name}`, () => {
    it('adds a user with a token that authenticates as that user', async () => {
      const db = await fresh();
      const { user, token, tokenInfo } = await addUser(db, CONSOLE, { name: 'carol', roles: ['curator'], sites: ['site-a'] }, { now: T0 });
      expect(token).toMatch(new RegExp(`^${TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`));
      expect(tokenInfo.expires).toBe(new Date(T0.getTime() + 90 * DAY).toISOString());
      const actor = await authenticateToken(db, token, new Date(T0.getTime() + DAY));
      expect(actor).toEqual({ id: user.id, name: 'carol', roles: ['curator'], sites: ['site-a'], projects: [] });
      const audit = await readAudit(db);
      expect(audit.map((e) => [e.action, e.outcome])).toEqual([['user.add', 'ok']]);
      expect(JSON.stringify(audit)).not.toContain(token);
    });

    it('stores tokens and passwords only hashed', async () => {
      const db = await fresh();
      const password = 'correct horse battery staple';
      const { token } = await addUser(db, CONSOLE, { name: 'dora', roles: ['dpo'], sites: ['*'], projects: ['*'], password }, { now: T0 });
      const issued = await issueToken(db, CONSOLE, { user: 'dora', label: 'laptop' }, { now: T0 });
      const session = await login(db, 'dora', password, T0);
      const stored = await backend.storedText(db);
      for (const secret of [token, token.slice(TOKEN_PREFIX.length), issued.token, password, session.token]) expect(stored).not.toContain(secret);
      expect(stored).toContain('$argon2id$');
    });

    it('refuses an expired token, a revoked token, an unknown token and a disabled account, and audits each', async () => {
      const db = await fresh();
      const { token, tokenInfo } = await addUser(db, CONSOLE, { name: 'erin', roles: ['researcher'], expiresInDays: 1 }, { now: T0 });
      expect(await codeOf(authenticateToken(db, token, new Date(T0.getTime() + DAY - 1)))).toBe('resolved');
      await expect(authenticateToken(db, token, new Date(T0.getTime() + DAY))).rejects.toThrow('the token has expired');
      const second = await issueToken(db, CONSOLE, { user: 'erin' }, { now: T0 });
      await revokeToken(db, CONSOLE, { tokenId: second.info.id }, { now: T0 });
      await expect(authenticateToken(db, second.token, T0)).rejects.toThrow('the token has been revoked');
      await expect(authenticateToken(db, `${TOKEN_PREFIX}${'A'.repeat(43)}`, T0)).rejects.toThrow('the token is not known');
      await expect(authenticateToken(db, 'Basic abc', T0)).rejects.toMatchObject({ code: 'unauthenticated', status: 401 });
      const third = await issueToken(db, CONSOLE, { user: 'erin' }, { now: T0 });
      await disableUser(db, CONSOLE, { user: 'erin' }, { now: T0 });
      await expect(authenticateToken(db, third.token, T0)).rejects.toThrow('the account is disabled');
      const refused = (await readAudit(db)).filter((e) => e.outcome === 'refused');
      expect(refused.map((e) => [e.action, e.target, e.details.reason])).toEqual([
        ['auth.token', tokenInfo.id, 'expired token'],
        ['auth.token', second.info.id, 'revoked token'],
        ['auth.token', '', 'unknown token'],
        ['auth.token', '', 'malformed token'],
        ['auth.token', third.info.id, 'disabled account'],
      ]);
      expect((await verifyAudit(db)).ok).toBe(true);
    });

    it('lets only admins manage users, and audits the refusal', async () => {
      const db = await fresh();
      const { user } = await addUser(db, CONSOLE, { name: 'rita', roles: ['researcher'] }, { now: T0 });
      const rita: Actor = { id: user.id, name: 'rita', roles: ['researcher'], sites: [], projects: [] };
      expect(await codeOf(addUser(db, rita, { name: 'mallory', roles: ['admin'] }, { now: T0 }))).toBe('forbidden');
      expect(await codeOf(listUsers(db, rita))).toBe('forbidden');
      expect(await codeOf(disableUser(db, rita, { user: 'rita' }))).toBe('forbidden');
      expect(await codeOf(issueToken(db, rita, { user: 'rita' }))).toBe('forbidden');
      expect((await listUsers(db, CONSOLE)).map((u) => u.name)).toEqual(['rita']);
      const refusals = (await readAudit(db)).filter((e) => e.outcome === 'refused').map((e) => [e.action, e.actorName]);
      expect(refusals).toEqual([
        ['user.add', 'rita'],
        ['user.list', 'rita'],
        ['user.disable', 'rita'],
        ['token.issue', 'rita'],
      ]);
    });

    it('lets a user revoke their own token but not another user’s', async () => {
      const db = await fresh();
      const a = await addUser(db, CONSOLE, { name: 'ann', roles: ['researcher'] }, { now: T0 });
      const b = await addUser(db, CONSOLE, { name: 'bob', roles: ['researcher'] }, { now: T0 });
      const ann = await authenticateToken(db, a.token, T0);
      expect(await codeOf(revokeToken(db, ann, { tokenId: b.tokenInfo.id }, { now: T0 }))).toBe('forbidden');
      await revokeToken(db, ann, { tokenId: a.tokenInfo.id }, { now: T0 });
      expect(await codeOf(authenticateToken(db, a.token, T0))).toBe('unauthenticated');
      expect(await codeOf(authenticateToken(db, b.token, T0))).toBe('resolved');
      expect((await listTokens(db, ann, { user: 'ann' }))[0]?.revoked).toBe(T0.toISOString());
    });

    it('validates input, naming the field, and writes nothing', async () => {
      const db = await fresh();
      const cases: [unknown, RegExp][] = [
        [{ name: 'John Smith', roles: ['curator'] }, /^name:/],
        [{ name: 'x', roles: [] }, /^roles:/],
        [{ name: 'x', roles: ['root'] }, /^roles: "root" is not a role/],
        [{ name: 'x', roles: ['curator'], sites: ['a b'] }, /^sites:/],
        [{ name: 'x', roles: ['curator'], password: 'short' }, /^password:/],
        [{ name: 'x', roles: ['curator'], expiresInDays: 0 }, /^expiresInDays:/],
      ];
      for (const [input, message] of cases) {
        const error = await addUser(db, CONSOLE, input as never, { now: T0 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(GovernanceError);
        expect((error as GovernanceError).code).toBe('invalid');
        expect((error as Error).message).toMatch(message);
      }
      await addUser(db, CONSOLE, { name: 'x', roles: ['curator'] }, { now: T0 });
      expect(await codeOf(addUser(db, CONSOLE, { name: 'x', roles: ['dpo'] }, { now: T0 }))).toBe('conflict');
      expect(await codeOf(addUser(db, CONSOLE, { name: 'X', roles: ['dpo'] }, { now: T0 }))).toBe('conflict');
      expect((await listUsers(db, CONSOLE)).length).toBe(1);
    });

    it('signs in with a password, keeps the session until it ends or expires', async () => {
      const db = await fresh();
      await addUser(db, CONSOLE, { name: 'dan', roles: ['dac-member'], projects: ['p1'], password: 'a long enough password' }, { now: T0 });
      const session = await login(db, 'dan', 'a long enough password', T0);
      expect(session.actor).toMatchObject({ name: 'dan', roles: ['dac-member'], projects: ['p1'] });
      expect(session.csrfSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(session.expires).toBe(new Date(T0.getTime() + 12 * 3_600_000).toISOString());
      expect((await sessionActor(db, session.token, new Date(T0.getTime() + 3_600_000))).name).toBe('dan');
      await expect(sessionActor(db, session.token, new Date(session.expires))).rejects.toThrow(/expired/);
      await endSession(db, session.token, T0);
      await expect(sessionActor(db, session.token, T0)).rejects.toThrow(/ended/);
      await expect(sessionActor(db, 'no-such-session', T0)).rejects.toMatchObject({ code: 'unauthenticated' });
    });

    it('gives one answer for an unknown name and a wrong password, and audits both', async () => {
      const db = await fresh();
      await addUser(db, CONSOLE, { name: 'eve', roles: ['curator'], password: 'the right password' }, { now: T0 });
      await addUser(db, CONSOLE, { name: 'nopw', roles: ['curator'] }, { now: T0 });
      const messages: string[] = [];
      for (const [name, password] of [
        ['eve', 'the wrong password'],
        ['nobody', 'the right password'],
        ['nopw', 'anything at all here'],
      ] as const) {
        const error = await login(db, name, password, T0).catch((e: unknown) => e);
        expect((error as GovernanceError).code).toBe('unauthenticated');
        messages.push((error as Error).message);
      }
      expect(new Set(messages)).toEqual(new Set(['wrong name or password']));
      const refused = (await readAudit(db)).filter((e) => e.action === 'auth.login' && e.outcome === 'refused');
      expect(refused.map((e) => e.details.reason)).toEqual(['wrong password', 'unknown name', 'no password set']);
      expect(JSON.stringify(refused)).not.toMatch(/the (right|wrong) password/);
    });

    it('ends sessions when the password changes', async () => {
      const db = await fresh();
      await addUser(db, CONSOLE, { name: 'fay', roles: ['curator'], password: 'first password 123' }, { now: T0 });
      const session = await login(db, 'fay', 'first password 123', T0);
      await setPassword(db, CONSOLE, { user: 'fay', password: 'second password 456' }, { now: T0 });
      await expect(sessionActor(db, session.token, T0)).rejects.toThrow(/ended/);
      expect(await codeOf(login(db, 'fay', 'first password 123', T0))).toBe('unauthenticated');
      expect((await login(db, 'fay', 'second password 456', T0)).actor.name).toBe('fay');
    });
  });
}
