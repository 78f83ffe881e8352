#!/usr/bin/env node
/** The `radanon` command: a thin face over the library. */
import { Command, CommanderError } from 'commander';
import { RecipeError } from '../deid/recipe.js';
import { LookupTableError, SettingsError } from '../deid/plan.js';
import { UsageError } from '../pipeline/run.js';
import { RadiomicsInputError, RadiomicsSettingsError } from '../radiomics/errors.js';
import { FeatureTableError } from '../radiomics/feature-table.js';
import { RiskInputError } from '../privacy/table.js';
import { CredentialsError } from '../federated/credentials.js';
import { FederatedDataError } from '../federated/data.js';
import { ModelFileError } from '../federated/model.js';
import { VolumeError } from '../volume/errors.js';
import { VERSION } from '../version.js';
import { deidCommand } from './commands/deid.js';
import { featuresCommand } from './commands/features.js';
import { riskCommand } from './commands/risk.js';
import { flCommand } from './commands/fl.js';
import { defaceCommand } from './commands/deface.js';
import { verifyCommand } from './commands/verify.js';
import { pixelsCommand } from './commands/pixels.js';
import { serveCommand } from './commands/serve.js';
import { usersCommand } from './commands/users.js';
import { auditCommand } from './commands/audit.js';
import { releaseCommand } from './commands/release.js';
import { consentCommand } from './commands/consent.js';

/** Exit status 2: the command, its settings or its input were wrong, nothing was processed. */
const USAGE = 2;

/** Errors found before any work is done: the message says what to change. */
const USAGE_ERRORS = [
  UsageError,
  RecipeError,
  LookupTableError,
  SettingsError,
  RadiomicsSettingsError,
  RadiomicsInputError,
  FeatureTableError,
  VolumeError,
  RiskInputError,
  CredentialsError,
  FederatedDataError,
  ModelFileError,
];

const program = new Command('radanon')
  .description('De-identification of medical images for research sharing')
  .version(VERSION)
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });
program.addCommand(deidCommand().exitOverride());
program.addCommand(verifyCommand().exitOverride());
program.addCommand(featuresCommand().exitOverride());
program.addCommand(riskCommand().exitOverride());
program.addCommand(flCommand().exitOverride());
program.addCommand(defaceCommand().exitOverride());
program.addCommand(pixelsCommand().exitOverride());
program.addCommand(serveCommand().exitOverride());
program.addCommand(usersCommand().exitOverride());
program.addCommand(auditCommand().exitOverride());
program.addCommand(releaseCommand().exitOverride());
program.addCommand(consentCommand().exitOverride());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : USAGE;
  } else if (USAGE_ERRORS.some((kind) => e instanceof kind)) {
    process.stderr.write(`radanon: ${(e as Error).message}\n`);
    process.exitCode = USAGE;
  } else {
    // The run started and could not finish (a full disk, a vanished folder): not every file
    // was de-identified, which is what status 1 says; the journal lets a re-run finish.
    process.stderr.write(`radanon: the run stopped: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
