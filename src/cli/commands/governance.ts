/**
 * What the governance commands (`serve`, `users`, `audit`, `release`, `consent`) share: the data
 * directory option, opening and migrating the store, acting as the console operator or as the
 * holder of a token, and reporting refusals. Each command stays a thin face: parse, call one
 * library operation, print.
 */
import { Command, CommanderError } from 'commander';
import type { Actor } from '../../governance/actor.js';
import { CONSOLE } from '../../governance/actor.js';
import type { Db } from '../../governance/db.js';
import { GovernanceError } from '../../governance/errors.js';
import { GOVERNANCE_SCHEMA } from '../../governance/schema.js';
import { migrate, storeFromEnvironment } from '../../governance/store.js';
import { authenticateToken } from '../../governance/users.js';

export const DEFAULT_DATA_DIR = './radanon-data';

/** A bad option value: reported as commander reports its own (stderr, exit status 2). */
export class GovernanceUsageError extends CommanderError {
  constructor(message: string) {
    super(2, 'radanon.usage', message);
  }
}

/**
 * Runs a command's action: a usage error exits 2 as commander's do; a governance refusal prints
 * its message and each failed check and exits 1 (2 when the input itself was invalid); the
 * store is closed in every case.
 */
export function governed<A extends unknown[]>(command: () => Command, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (e) {
      if (e instanceof GovernanceUsageError) command().error(e.message, { exitCode: 2, code: 'radanon.usage' });
      if (e instanceof GovernanceError) {
        process.stderr.write(`radanon: ${e.message}\n`);
        for (const d of e.details ?? []) process.stderr.write(`  ${d.check}: ${d.reason}\n`);
        process.exitCode = e.code === 'invalid' ? 2 : 1;
        return;
      }
      throw e;
    }
  };
}

/** Opens the store of `dataDir` (or DATABASE_URL), brought up to the code's schema, for `work`. */
export async function withStore<T>(dataDir: string | undefined, work: (db: Db) => Promise<T>): Promise<T> {
  const db = await storeFromEnvironment(dataDir ?? DEFAULT_DATA_DIR);
  try {
    await migrate(db, GOVERNANCE_SCHEMA);
    return await work(db);
  } finally {
    await db.close();
  }
}

/**
 * The actor of a command: the console operator (who holds the data directory, hence every
 * right), or the holder of `--token` / RADANON_TOKEN, so a researcher's or a curator's command
 * line is held to the same rules as their API calls.
 */
export async function commandActor(db: Db, token: string | undefined): Promise<Actor> {
  const t = token ?? process.env.RADANON_TOKEN;
  if (t === undefined || t === '') return CONSOLE;
  return authenticateToken(db, t, new Date());
}

export function addDataDirOption(command: Command): Command {
  return command.option('--data-dir <dir>', 'the governance data directory (ignored when DATABASE_URL is set)', DEFAULT_DATA_DIR);
}

export function addTokenOption(command: Command): Command {
  return command.option('--token <token>', 'act as the holder of this API token (default: RADANON_TOKEN, else the console operator)');
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
