/**
 * Accounts, API tokens, passwords and web sessions.
 *
 * - API tokens are `rad_` followed by 32 random bytes in base64url (the prefix makes a leaked token
 *   recognisable to secret scanners). Only the SHA-256 of a token is stored: a token carries 256
 *   bits of entropy, so no dictionary or brute-force search can reverse the hash, and a fast hash
 *   keeps every request's authentication cheap; a slow password hash would add nothing here.
 *   Tokens expire (default 90 days) and can be revoked.
 * - Passwords (for the web pages only) are hashed with argon2id, a slow salted hash, because
 *   people choose guessable passwords.
 * - Sessions are random 32-byte keys, stored as SHA-256 like tokens, with an absolute expiry and a
 *   per-session CSRF secret.
 *
 * Every failed authentication is audited without the token, key or password; the message tells
 * the caller only what it needs (unknown, revoked, expired), never who owns a credential.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { ROLES, type Actor, type Role } from './actor.js';
import { recordAudit, recordAuditAlone } from './audit.js';
import type { Db, SchemaModule } from './db.js';
import { GovernanceError } from './errors.js';
import { authorize } from './permissions.js';

export const TOKEN_PREFIX = 'rad_';
export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_TOKEN_DAYS = 366;
export const SESSION_HOURS = 12;
export const MIN_PASSWORD_LENGTH = 12;

export const USERS_SCHEMA: SchemaModule = {
  name: 'users',
  steps: [
    [
      `CREATE TABLE users (
        id TEXT NOT NULL PRIMARY KEY,
        name TEXT NOT NULL,
        roles TEXT NOT NULL,
        sites TEXT NOT NULL,
        projects TEXT NOT NULL,
        password_hash TEXT,
        created_at TEXT NOT NULL,
        disabled_at TEXT,
        CONSTRAINT users_name_key UNIQUE (name)
      )`,
      `CREATE TABLE api_tokens (
        id TEXT NOT NULL PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id),
        token_hash TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT,
        CONSTRAINT api_tokens_hash_key UNIQUE (token_hash)
      )`,
      `CREATE INDEX api_tokens_user_idx ON api_tokens (user_id)`,
      `CREATE TABLE sessions (
        id TEXT NOT NULL PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id),
        key_hash TEXT NOT NULL,
        csrf_secret TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        ended_at TEXT,
        CONSTRAINT sessions_key_hash_key UNIQUE (key_hash)
      )`,
      `CREATE INDEX sessions_user_idx ON sessions (user_id)`,
    ],
  ],
};

export interface User {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  readonly sites: readonly string[];
  readonly projects: readonly string[];
  readonly created: string;
  /** When the account was disabled, or null. */
  readonly disabled: string | null;
  readonly hasPassword: boolean;
}

export interface TokenInfo {
  readonly id: string;
  readonly userId: string;
  readonly label: string;
  readonly created: string;
  readonly expires: string;
  readonly revoked: string | null;
}

/** A token as issued: `token` is shown once and never stored. */
export interface IssuedToken {
  readonly token: string;
  readonly info: TokenInfo;
}

export interface Session {
  /** The session key for the cookie; shown once, stored only as a hash. */
  readonly token: string;
  readonly id: string;
  readonly expires: string;
  /** A per-session secret for CSRF tokens (the HTTP layer derives its tokens from it). */
  readonly csrfSecret: string;
  readonly actor: Actor;
}

const ANONYMOUS = { id: 'anonymous', name: 'anonymous' } as const;

// ---------------------------------------------------------------------------------------------
// Validation

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;
const SCOPE = /^(\*|[A-Za-z0-9][A-Za-z0-9._:-]{0,99})$/;

function invalid(field: string, reason: string): GovernanceError {
  return new GovernanceError('invalid', `${field}: ${reason}`, [{ check: field, reason }]);
}

function validName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) throw invalid('name', 'a user name of 1–100 letters, digits, ".", "_", "@" or "-", starting with a letter or digit');
  return name;
}

function validRoles(roles: unknown): Role[] {
  if (!Array.isArray(roles) || roles.length === 0) throw invalid('roles', `at least one of ${ROLES.join(', ')}`);
  const out: Role[] = [];
  for (const r of roles) {
    if (!(ROLES as readonly unknown[]).includes(r)) throw invalid('roles', `"${String(r)}" is not a role (${ROLES.join(', ')})`);
    if (!out.includes(r as Role)) out.push(r as Role);
  }
  return out;
}

function validScopes(field: 'sites' | 'projects', values: unknown): string[] {
  if (values === undefined) return [];
  if (!Array.isArray(values)) throw invalid(field, 'a list of ids, or ["*"] for all');
  const out: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string' || !SCOPE.test(v)) throw invalid(field, 'ids of letters, digits, ".", "_", ":" or "-", or "*" for all');
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

function validPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH || password.length > 1024) {
    throw invalid('password', `at least ${MIN_PASSWORD_LENGTH} and at most 1024 characters`);
  }
  return password;
}

function validDays(days: unknown): number {
  if (days === undefined) return DEFAULT_TOKEN_DAYS;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) throw invalid('expiresInDays', `a whole number of days from 1 to ${MAX_TOKEN_DAYS}`);
  return days;
}

// ---------------------------------------------------------------------------------------------
// Hashing

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane). */
const ARGON2_OPTIONS = { algorithm: 2 /* Algorithm.Argon2id: a const enum, not importable under isolated modules */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  return argon2Hash(validPassword(password), ARGON2_OPTIONS);
}

/** Whether `password` matches an argon2 hash; a malformed hash is a mismatch, not an exception. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2Verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a random password, computed once: login verifies against it when the user does not
 * exist or has no password, so an unknown name costs as much time as a wrong password.
 */
let dummyHash: Promise<string> | undefined;
function dummyPasswordHash(): Promise<string> {
  dummyHash ??= argon2Hash(randomBytes(24).toString('base64url'), ARGON2_OPTIONS);
  return dummyHash;
}

// ---------------------------------------------------------------------------------------------
// Rows

type UserRow = {
  id: string;
  name: string;
  roles: string;
  sites: string;
  projects: string;
  password_hash: string | null;
  created_at: string;
  disabled_at: string | null;
};

type TokenRow = { id: string; user_id: string; label: string; created_at: string; expires_at: string; revoked_at: string | null };

function userOf(r: UserRow): User {
  return {
    id: r.id,
    name: r.name,
    roles: JSON.parse(r.roles) as Role[],
    sites: JSON.parse(r.sites) as string[],
    projects: JSON.parse(r.projects) as string[],
    created: r.created_at,
    disabled: r.disabled_at,
    hasPassword: r.password_hash !== null,
  };
}

function actorOf(u: User): Actor {
  return { id: u.id, name: u.name, roles: u.roles, sites: u.sites, projects: u.projects };
}

function tokenOf(r: TokenRow): TokenInfo {
  return { id: r.id, userId: r.user_id, label: r.label, created: r.created_at, expires: r.expires_at, revoked: r.revoked_at };
}

const USER_COLUMNS = 'id, name, roles, sites, projects, password_hash, created_at, disabled_at';

async function userByName(db: Db, name: string): Promise<UserRow | undefined> {
  return db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`, [name]);
}

async function userById(db: Db, id: string): Promise<UserRow | undefined> {
  return db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]);
}

/**
 * Runs an authorised operation: a refusal (forbidden or invalid) is audited in its own
 * transaction and rethrown, so failed attempts are part of the trail.
 */
async function refusalAudited<T>(db: Db, actor: Actor, action: string, target: string, now: Date, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof GovernanceError) {
      await recordAuditAlone(db, { actor, action, target, outcome: 'refused', details: { code: e.code, reason: e.message }, at: now });
    }
    throw e;
  }
}

async function insertToken(tx: Db, userId: string, label: string, days: number, now: Date): Promise<IssuedToken> {
  const token = newToken();
  const info: TokenInfo = {
    id: randomUUID(),
    userId,
    label,
    created: now.toISOString(),
    expires: new Date(now.getTime() + days * 86_400_000).toISOString(),
    revoked: null,
  };
  await tx.run('INSERT INTO api_tokens (id, user_id, token_hash, label, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, NULL)', [
    info.id,
    userId,
    sha256(token),
    label,
    info.created,
    info.expires,
  ]);
  return { token, info };
}

// ---------------------------------------------------------------------------------------------
// Operations

export interface AddUserInput {
  readonly name: string;
  readonly roles: readonly Role[];
  readonly sites?: readonly string[];
  readonly projects?: readonly string[];
  /** For the web pages; API clients need only the token. */
  readonly password?: string;
  /** Lifetime of the first token; default 90 days. */
  readonly expiresInDays?: number;
}

/** Creates an account and its first API token (admins, or the console). The token is returned once. */
export async function addUser(db: Db, actor: Actor, input: AddUserInput, options: { now?: Date } = {}): Promise<{ user: User; token: string; tokenInfo: TokenInfo }> {
  const now = options.now ?? new Date();
  const name = typeof input?.name === 'string' ? input.name : '';
  return refusalAudited(db, actor, 'user.add', name, now, async () => {
    authorize(actor, 'user.add');
    validName(input.name);
    const roles = validRoles(input.roles);
    const sites = validScopes('sites', input.sites);
    const projects = validScopes('projects', input.projects);
    const days = validDays(input.expiresInDays);
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
    return db.transaction(async (tx) => {
      // Names differ by more than case: sign-in rate limits and people read them case-blind.
      if (await tx.get('SELECT id FROM users WHERE lower(name) = lower(?)', [input.name])) throw new GovernanceError('conflict', `name: a user named ${input.name} already exists`);
      const user: User = { id: randomUUID(), name: input.name, roles, sites, projects, created: now.toISOString(), disabled: null, hasPassword: passwordHash !== null };
      await tx.run('INSERT INTO users (id, name, roles, sites, projects, password_hash, created_at, disabled_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)', [
        user.id,
        user.name,
        JSON.stringify(roles),
        JSON.stringify(sites),
        JSON.stringify(projects),
        passwordHash,
        user.created,
      ]);
      const issued = await insertToken(tx, user.id, 'initial', days, now);
      await recordAudit(tx, {
        actor,
        action: 'user.add',
        target: user.id,
        outcome: 'ok',
        details: { name: user.name, roles, sites, projects, tokenId: issued.info.id, tokenExpires: issued.info.expires, webLogin: passwordHash !== null },
        at: now,
      });
      return { user, token: issued.token, tokenInfo: issued.info };
    });
  });
}

export async function listUsers(db: Db, actor: Actor, options: { now?: Date } = {}): Promise<User[]> {
  const now = options.now ?? new Date();
  return refusalAudited(db, actor, 'user.list', '', now, async () => {
    authorize(actor, 'user.list');
    const rows = await db.all<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`);
    return rows.map(userOf);
  });
}

/** A user by id or by name; not-found names the field. */
export async function getUser(db: Db, idOrName: string): Promise<User> {
  const row = (await userById(db, idOrName)) ?? (await userByName(db, idOrName));
  if (!row) throw new GovernanceError('not-found', 'user: no such user');
  return userOf(row);
}

/** Disables an account: its tokens and sessions stop authenticating at once. */
export async function disableUser(db: Db, actor: Actor, input: { readonly user: string }, options: { now?: Date } = {}): Promise<User> {
  const now = options.now ?? new Date();
  return refusalAudited(db, actor, 'user.disable', String(input?.user ?? ''), now, async () => {
    authorize(actor, 'user.disable');
    if (typeof input?.user !== 'string' || input.user === '') throw invalid('user', 'a user id or name');
    return db.transaction(async (tx) => {
      const row = (await userById(tx, input.user)) ?? (await userByName(tx, input.user));
      if (!row) throw new GovernanceError('not-found', 'user: no such user');
      if (row.disabled_at === null) await tx.run('UPDATE users SET disabled_at = ? WHERE id = ?', [now.toISOString(), row.id]);
      await recordAudit(tx, { actor, action: 'user.disable', target: row.id, outcome: 'ok', details: { name: row.name }, at: now });
      return userOf({ ...row, disabled_at: row.disabled_at ?? now.toISOString() });
    });
  });
}

export async function setPassword(db: Db, actor: Actor, input: { readonly user: string; readonly password: string }, options: { now?: Date } = {}): Promise<void> {
  const now = options.now ?? new Date();
  await refusalAudited(db, actor, 'user.set-password', String(input?.user ?? ''), now, async () => {
    authorize(actor, 'user.set-password');
    if (typeof input?.user !== 'string' || input.user === '') throw invalid('user', 'a user id or name');
    const passwordHash = await hashPassword(input.password);
    await db.transaction(async (tx) => {
      const row = (await userById(tx, input.user)) ?? (await userByName(tx, input.user));
      if (!row) throw new GovernanceError('not-found', 'user: no such user');
      await tx.run('UPDATE users SET password_hash = ? WHERE id = ?', [passwordHash, row.id]);
      // Sessions opened with the old password end with it.
      await tx.run('UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL', [now.toISOString(), row.id]);
      await recordAudit(tx, { actor, action: 'user.set-password', target: row.id, outcome: 'ok', details: { name: row.name }, at: now });
    });
  });
}

/** Issues another token to a user (admins). */
export async function issueToken(db: Db, actor: Actor, input: { readonly user: string; readonly label?: string; readonly expiresInDays?: number }, options: { now?: Date } = {}): Promise<IssuedToken> {
  const now = options.now ?? new Date();
  return refusalAudited(db, actor, 'token.issue', String(input?.user ?? ''), now, async () => {
    authorize(actor, 'token.issue');
    if (typeof input?.user !== 'string' || input.user === '') throw invalid('user', 'a user id or name');
    const label = input.label ?? 'api';
    if (typeof label !== 'string' || label.length > 100) throw invalid('label', 'text of at most 100 characters');
    const days = validDays(input.expiresInDays);
    return db.transaction(async (tx) => {
      const row = (await userById(tx, input.user)) ?? (await userByName(tx, input.user));
      if (!row) throw new GovernanceError('not-found', 'user: no such user');
      if (row.disabled_at !== null) throw new GovernanceError('conflict', 'user: the account is disabled');
      const issued = await insertToken(tx, row.id, label, days, now);
      await recordAudit(tx, { actor, action: 'token.issue', target: issued.info.id, outcome: 'ok', details: { userId: row.id, label, expires: issued.info.expires }, at: now });
      return issued;
    });
  });
}

/** A user's tokens, without their values (admins, or the user themself). */
export async function listTokens(db: Db, actor: Actor, input: { readonly user: string }, options: { now?: Date } = {}): Promise<TokenInfo[]> {
  const now = options.now ?? new Date();
  return refusalAudited(db, actor, 'token.list', String(input?.user ?? ''), now, async () => {
    if (typeof input?.user !== 'string' || input.user === '') throw invalid('user', 'a user id or name');
    const row = (await userById(db, input.user)) ?? (await userByName(db, input.user));
    // Only admins learn whether another account exists.
    if (row?.id !== actor.id) authorize(actor, 'token.issue');
    if (!row) throw new GovernanceError('not-found', 'user: no such user');
    const rows = await db.all<TokenRow>('SELECT id, user_id, label, created_at, expires_at, revoked_at FROM api_tokens WHERE user_id = ? ORDER BY created_at, id', [row.id]);
    return rows.map(tokenOf);
  });
}

/** Revokes a token by its id (admins, or the token's own user). Revoking twice is harmless. */
export async function revokeToken(db: Db, actor: Actor, input: { readonly tokenId: string }, options: { now?: Date } = {}): Promise<TokenInfo> {
  const now = options.now ?? new Date();
  return refusalAudited(db, actor, 'token.revoke', String(input?.tokenId ?? ''), now, async () => {
    if (typeof input?.tokenId !== 'string' || input.tokenId === '') throw invalid('tokenId', 'the id of a token');
    return db.transaction(async (tx) => {
      const row = await tx.get<TokenRow>('SELECT id, user_id, label, created_at, expires_at, revoked_at FROM api_tokens WHERE id = ?', [input.tokenId]);
      if (!row || (row.user_id !== actor.id && !actor.roles.includes('admin'))) {
        // A non-admin learns nothing about other users' tokens: unknown and not-yours look alike.
        if (!actor.roles.includes('admin') && row) throw new GovernanceError('forbidden', 'token.revoke: only your own tokens, or an admin');
        throw new GovernanceError('not-found', 'tokenId: no such token');
      }
      if (row.revoked_at === null) await tx.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ?', [now.toISOString(), row.id]);
      await recordAudit(tx, { actor, action: 'token.revoke', target: row.id, outcome: 'ok', details: { userId: row.user_id }, at: now });
      return tokenOf({ ...row, revoked_at: row.revoked_at ?? now.toISOString() });
    });
  });
}

async function refuseAuthentication(db: Db, action: string, target: string, reason: string, now: Date, message: string): Promise<never> {
  await recordAuditAlone(db, { actor: ANONYMOUS, action, target, outcome: 'refused', details: { reason }, at: now });
  throw new GovernanceError('unauthenticated', message);
}

/**
 * The actor a bearer token stands for. Unknown, revoked and expired tokens, and tokens of disabled
 * accounts, are refused (401) and audited with the token's id when it is known, never its value.
 */
export async function authenticateToken(db: Db, token: string, now: Date = new Date()): Promise<Actor> {
  if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX) || token.length > 200) {
    return refuseAuthentication(db, 'auth.token', '', 'malformed token', now, 'the token is not a radanon API token');
  }
  const row = await db.get<TokenRow & { u_id: string }>(
    'SELECT t.id, t.user_id, t.label, t.created_at, t.expires_at, t.revoked_at, u.id AS u_id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?',
    [sha256(token)],
  );
  if (!row) return refuseAuthentication(db, 'auth.token', '', 'unknown token', now, 'the token is not known');
  if (row.revoked_at !== null) return refuseAuthentication(db, 'auth.token', row.id, 'revoked token', now, 'the token has been revoked');
  if (now.toISOString() >= row.expires_at) return refuseAuthentication(db, 'auth.token', row.id, 'expired token', now, 'the token has expired');
  const user = await userById(db, row.user_id);
  if (!user || user.disabled_at !== null) return refuseAuthentication(db, 'auth.token', row.id, 'disabled account', now, 'the account is disabled');
  return actorOf(userOf(user));
}

// ---------------------------------------------------------------------------------------------
// Sessions (the web pages)

/** Opens a session for a user who has just proven who they are (by `login`). */
export async function createSession(db: Db, user: User, now: Date = new Date()): Promise<Session> {
  const token = randomBytes(32).toString('base64url');
  const session: Session = {
    token,
    id: randomUUID(),
    expires: new Date(now.getTime() + SESSION_HOURS * 3_600_000).toISOString(),
    csrfSecret: randomBytes(32).toString('base64url'),
    actor: actorOf(user),
  };
  await db.transaction(async (tx) => {
    await tx.run('INSERT INTO sessions (id, user_id, key_hash, csrf_secret, created_at, expires_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, NULL)', [
      session.id,
      user.id,
      sha256(token),
      session.csrfSecret,
      now.toISOString(),
      session.expires,
    ]);
    await recordAudit(tx, { actor: session.actor, action: 'auth.login', target: user.id, outcome: 'ok', details: { sessionId: session.id, expires: session.expires }, at: now });
  });
  return session;
}

type SessionRow = { id: string; user_id: string; csrf_secret: string; expires_at: string; ended_at: string | null };

async function sessionRow(db: Db, key: string): Promise<SessionRow | undefined> {
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) return undefined;
  return db.get<SessionRow>('SELECT id, user_id, csrf_secret, expires_at, ended_at FROM sessions WHERE key_hash = ?', [sha256(key)]);
}

/** The actor of a session cookie; unknown, ended or expired sessions are refused (401) and audited. */
export async function sessionActor(db: Db, key: string, now: Date = new Date()): Promise<Actor> {
  const row = await sessionRow(db, key);
  if (!row) return refuseAuthentication(db, 'auth.session', '', 'unknown session', now, 'the session is not known: sign in again');
  if (row.ended_at !== null) return refuseAuthentication(db, 'auth.session', row.id, 'ended session', now, 'the session has ended: sign in again');
  if (now.toISOString() >= row.expires_at) return refuseAuthentication(db, 'auth.session', row.id, 'expired session', now, 'the session has expired: sign in again');
  const user = await userById(db, row.user_id);
  if (!user || user.disabled_at !== null) return refuseAuthentication(db, 'auth.session', row.id, 'disabled account', now, 'the account is disabled');
  return actorOf(userOf(user));
}

/** The CSRF secret of a live session (for the HTTP layer's CSRF check). */
export async function sessionCsrfSecret(db: Db, key: string, now: Date = new Date()): Promise<string> {
  await sessionActor(db, key, now);
  const row = await sessionRow(db, key);
  return row!.csrf_secret;
}

/** Whether `candidate` equals the session's CSRF secret, compared in constant time. */
export function csrfMatches(secret: string, candidate: string): boolean {
  const a = Buffer.from(secret);
  const b = Buffer.from(candidate);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Ends a session (logout); ending an unknown or ended session does nothing. */
export async function endSession(db: Db, key: string, now: Date = new Date()): Promise<void> {
  const row = await sessionRow(db, key);
  if (!row || row.ended_at !== null) return;
  await db.transaction(async (tx) => {
    await tx.run('UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL', [now.toISOString(), row.id]);
    await recordAudit(tx, { actor: { id: row.user_id, name: (await userById(tx, row.user_id))?.name ?? 'unknown' }, action: 'auth.logout', target: row.user_id, outcome: 'ok', details: { sessionId: row.id }, at: now });
  });
}

/**
 * Signs in with a name and password and opens a session. Unknown names, accounts without a
 * password, disabled accounts and wrong passwords all cost one argon2 verification and give the
 * same message, so neither the answer nor its timing tells whether a name exists. Rate limiting
 * is the HTTP layer's.
 */
export async function login(db: Db, name: string, password: string, now: Date = new Date()): Promise<Session> {
  const row = typeof name === 'string' && NAME.test(name) ? await userByName(db, name) : undefined;
  const hash = row?.password_hash ?? (await dummyPasswordHash());
  const matches = await verifyPassword(hash, typeof password === 'string' ? password : '');
  const ok = row !== undefined && row.password_hash !== null && row.disabled_at === null && matches;
  if (!ok) {
    const reason = !row ? 'unknown name' : row.password_hash === null ? 'no password set' : row.disabled_at !== null ? 'disabled account' : 'wrong password';
    return refuseAuthentication(db, 'auth.login', row?.id ?? '', reason, now, 'wrong name or password');
  }
  return createSession(db, userOf(row), now);
}
