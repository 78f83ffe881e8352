/** `radanon release <project>`: the release gate from the command line. */
import { Command } from 'commander';
import { createRelease } from '../../governance/release.js';
import { addDataDirOption, addTokenOption, commandActor, governed, withStore } from './governance.js';

interface ReleaseOptions {
  out: string;
  dataset: string[];
  dataDir: string;
  token?: string;
}

export function releaseCommand(): Command {
  const command: Command = addTokenOption(
    addDataDirOption(
      new Command('release')
        .description('Assemble a release for an approved project; refused, naming every failed check, unless consent, approval, agreement, transfer, verification and k all hold')
        .argument('<project>', 'the project id')
        .requiredOption('--out <dir>', 'the release folder to create (must not exist)')
        .option('--dataset <id>', 'a dataset to release (default: every dataset the project requested); repeat for several', (v: string, prev: string[]) => [...prev, v], []),
    ),
  ).action(
    governed(
      () => command,
      async (projectId: string, opts: ReleaseOptions) => {
        const release = await withStore(opts.dataDir, async (db) =>
          createRelease(db, await commandActor(db, opts.token), { projectId, out: opts.out, ...(opts.dataset.length > 0 ? { datasetIds: opts.dataset } : {}) }),
        );
        const m = release.manifest!;
        process.stdout.write(`release ${release.id}: ${m.subjects.length} subjects, ${m.files.length} files in ${release.out}\n`);
        for (const c of release.checks) process.stdout.write(`  ${c.result.padEnd(7)} ${c.check}: ${c.reason}\n`);
      },
    ),
  );
  return command;
}
