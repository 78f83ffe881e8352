/** `radanon serve`: the governance service over HTTP, on the data directory's store. */
import { Command } from 'commander';
import { GOVERNANCE_SCHEMA } from '../../governance/schema.js';
import { migrate, storeFromEnvironment } from '../../governance/store.js';
import { buildServer } from '../../server/app.js';
import { DEFAULT_DATA_DIR, GovernanceUsageError, governed } from './governance.js';

interface ServeOptions {
  port: string;
  host: string;
  dataDir: string;
  secureCookies?: boolean;
}

function port(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) throw new GovernanceUsageError(`--port must be a whole number from 0 to 65535, got "${text}"`);
  return n;
}

export function serveCommand(): Command {
  const command: Command = new Command('serve')
    .description('Run the governance service (HTTP API, OpenAPI document, web pages)')
    .option('--port <n>', 'TCP port (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'the governance data directory; its SQLite database is used unless DATABASE_URL is set', DEFAULT_DATA_DIR)
    .option('--secure-cookies', 'mark session cookies Secure (when a TLS proxy sits in front)')
    .action(
      governed(
        () => command,
        async (opts: ServeOptions) => {
          const listenPort = port(opts.port);
          const db = await storeFromEnvironment(opts.dataDir);
          try {
            await migrate(db, GOVERNANCE_SCHEMA);
          } catch (e) {
            await db.close();
            throw e;
          }
          const app = await buildServer({ db, secureCookies: opts.secureCookies === true });
          await app.listen({ port: listenPort, host: opts.host });
          const address = app.server.address();
          const bound = typeof address === 'object' && address !== null ? address.port : listenPort;
          const where = db.dialect === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `SQLite in ${opts.dataDir}`;
          const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
          process.stdout.write(`radanon serve: listening on http://${host}:${bound} (database: ${where})\n`);
          await new Promise<void>((resolve) => {
            const stop = () => {
              process.off('SIGINT', stop);
              process.off('SIGTERM', stop);
              resolve();
            };
            process.on('SIGINT', stop);
            process.on('SIGTERM', stop);
          });
          // In-flight requests finish before the store closes.
          await app.close();
          await db.close();
          process.stdout.write('radanon serve: stopped\n');
        },
      ),
    );
  return command;
}
