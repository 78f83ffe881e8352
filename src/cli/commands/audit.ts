/** `radanon audit verify|export`: the hash-chained audit trail, checked or handed to an auditor. */
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { exportAudit, verifyAudit } from '../../governance/audit.js';
import { addDataDirOption, GovernanceUsageError, governed, withStore } from './governance.js';

export function auditCommand(): Command {
  const command = new Command('audit').description('Check or export the audit trail');

  const verify: Command = addDataDirOption(new Command('verify').description('Check every entry of the hash chain; exit 1 naming the first broken entry')).action(
    governed(
      () => verify,
      async (opts: { dataDir: string }) => {
        const result = await withStore(opts.dataDir, (db) => verifyAudit(db));
        if (result.ok) {
          process.stdout.write(`audit trail intact: ${result.entries} entries, head ${result.head}\n`);
          return;
        }
        const first = result.problems[0]!;
        process.stderr.write(`radanon: audit trail broken at entry ${first.seq} (${first.kind}): ${first.message}\n`);
        process.exitCode = 1;
      },
    ),
  );

  const exportCmd: Command = addDataDirOption(new Command('export').description('Write the trail as JSON lines with each entry\'s hashes')).option('--out <file>', 'write to this file instead of standard output').action(
    governed(
      () => exportCmd,
      async (opts: { dataDir: string; out?: string }) => {
        const text = await withStore(opts.dataDir, (db) => exportAudit(db));
        if (opts.out === undefined) process.stdout.write(text);
        else {
          await writeFile(opts.out, text, { flag: 'wx', mode: 0o600 }).catch((e: NodeJS.ErrnoException) => {
            if (e.code === 'EEXIST') throw new GovernanceUsageError(`--out ${opts.out} already exists: an export never replaces a file`);
            throw e;
          });
        }
      },
    ),
  );
  return command.addCommand(verify).addCommand(exportCmd);
}
