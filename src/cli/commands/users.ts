/** `radanon users add|list|revoke-token|disable`: accounts and API tokens from the console. */
import { Command } from 'commander';
import { ROLES, type Role } from '../../governance/actor.js';
import { addUser, disableUser, listUsers, revokeToken } from '../../governance/users.js';
import { addDataDirOption, addTokenOption, commandActor, GovernanceUsageError, governed, json, withStore } from './governance.js';

interface AddOptions {
  name: string;
  role: string[];
  site: string[];
  project: string[];
  passwordStdin?: boolean;
  expiresInDays?: string;
  dataDir: string;
  token?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One line: the password, without its line ending.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function roles(values: readonly string[]): Role[] {
  if (values.length === 0) throw new GovernanceUsageError(`--role is required (one of ${ROLES.join(', ')})`);
  for (const r of values) if (!(ROLES as readonly string[]).includes(r)) throw new GovernanceUsageError(`--role must be one of ${ROLES.join(', ')}, got "${r}"`);
  return values as Role[];
}

export function usersCommand(): Command {
  const command = new Command('users').description('Manage the governance service’s accounts and API tokens');

  const add: Command = addTokenOption(
    addDataDirOption(
      new Command('add')
        .description('Create a user; prints its API token once')
        .requiredOption('--name <name>', 'user name')
        .option('--role <role>', `a role (${ROLES.join(', ')}); repeat for several`, collect, [])
        .option('--site <id>', 'a site the user may act on ("*" for all); repeat for several', collect, [])
        .option('--project <id>', 'a project the user may act on ("*" for all); repeat for several', collect, [])
        .option('--password-stdin', 'read a password for the web pages from standard input')
        .option('--expires-in-days <n>', 'lifetime of the token in days (default 90)'),
    ),
  ).action(
    governed(
      () => add,
      async (opts: AddOptions) => {
        const wanted = roles(opts.role);
        let days: number | undefined;
        if (opts.expiresInDays !== undefined) {
          days = Number(opts.expiresInDays);
          if (!/^\d+$/.test(opts.expiresInDays)) throw new GovernanceUsageError(`--expires-in-days must be a whole number of days, got "${opts.expiresInDays}"`);
        }
        const password = opts.passwordStdin === true ? await readStdin() : undefined;
        const made = await withStore(opts.dataDir, async (db) =>
          addUser(db, await commandActor(db, opts.token), {
            name: opts.name,
            roles: wanted,
            sites: opts.site,
            projects: opts.project,
            ...(password !== undefined ? { password } : {}),
            ...(days !== undefined ? { expiresInDays: days } : {}),
          }),
        );
        process.stderr.write(`user ${made.user.name} (${made.user.roles.join(', ')}) created; its API token, shown only now, expires ${made.tokenInfo.expires}:\n`);
        process.stdout.write(`${made.token}\n`);
      },
    ),
  );

  const list: Command = addTokenOption(addDataDirOption(new Command('list').description('List the accounts (JSON)'))).action(
    governed(
      () => list,
      async (opts: { dataDir: string; token?: string }) => {
        const users = await withStore(opts.dataDir, async (db) => listUsers(db, await commandActor(db, opts.token)));
        process.stdout.write(json(users));
      },
    ),
  );

  const revoke: Command = addTokenOption(addDataDirOption(new Command('revoke-token').description('Revoke an API token by its id').argument('<token-id>', 'the token’s id (not its value)'))).action(
    governed(
      () => revoke,
      async (tokenId: string, opts: { dataDir: string; token?: string }) => {
        const info = await withStore(opts.dataDir, async (db) => revokeToken(db, await commandActor(db, opts.token), { tokenId }));
        process.stdout.write(`token ${info.id} revoked at ${info.revoked}\n`);
      },
    ),
  );

  const disable: Command = addTokenOption(addDataDirOption(new Command('disable').description('Disable an account (its tokens and sessions stop working)').argument('<user>', 'user name or id'))).action(
    governed(
      () => disable,
      async (user: string, opts: { dataDir: string; token?: string }) => {
        const u = await withStore(opts.dataDir, async (db) => disableUser(db, await commandActor(db, opts.token), { user }));
        process.stdout.write(`user ${u.name} disabled at ${u.disabled}\n`);
      },
    ),
  );
  return command.addCommand(add).addCommand(list).addCommand(revoke).addCommand(disable);
}
