/** `radanon consent import|export`: bulk consent as CSV or FHIR R4 Consent resources. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { exportConsentCsv, importConsentCsv } from '../../governance/consent-csv.js';
import { exportConsentFhir, importConsentFhir } from '../../governance/fhir.js';
import { addDataDirOption, addTokenOption, commandActor, GovernanceUsageError, governed, json, withStore } from './governance.js';

export function consentCommand(): Command {
  const command = new Command('consent').description('Import or export consent records (curators: pass --token or set RADANON_TOKEN)');

  const importCmd: Command = addTokenOption(
    addDataDirOption(
      new Command('import')
        .description('Import a consent CSV (.csv) or FHIR R4 Consent / Bundle (.json); every record validated, all or nothing')
        .argument('<file>', 'consent.csv or consent.json')
        .option('--site <id>', 'FHIR: the site of Consents that name none'),
    ),
  ).action(
    governed(
      () => importCmd,
      async (file: string, opts: { site?: string; dataDir: string; token?: string }) => {
        const ext = path.extname(file).toLowerCase();
        if (ext !== '.csv' && ext !== '.json') throw new GovernanceUsageError(`${file}: the file must be .csv (consent CSV) or .json (FHIR R4 Consent or Bundle)`);
        const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
          throw new GovernanceUsageError(`${file}: cannot be read (${e.code ?? e.message})`);
        });
        let resource: unknown;
        if (ext === '.json') {
          try {
            resource = JSON.parse(text);
          } catch (e) {
            throw new GovernanceUsageError(`${file}: not JSON (${(e as Error).message})`);
          }
        }
        const r = await withStore(opts.dataDir, async (db) => {
          const actor = await commandActor(db, opts.token);
          return ext === '.csv'
            ? importConsentCsv(db, actor, { csv: text, name: path.basename(file) })
            : importConsentFhir(db, actor, { resource, ...(opts.site ? { site: opts.site } : {}) });
        });
        process.stdout.write(`${r.events} consent events of ${r.subjects} subjects imported from ${path.basename(file)}\n`);
      },
    ),
  );

  const exportCmd: Command = addTokenOption(
    addDataDirOption(
      new Command('export')
        .description('Export consent events of your sites as FHIR R4 (a Bundle of Consent resources) or CSV')
        .option('--format <format>', 'fhir or csv', 'fhir')
        .option('--research-id <id>', 'FHIR: only this subject')
        .option('--site <id>', 'only this site')
        .option('--out <file>', 'write to this file instead of standard output'),
    ),
  ).action(
    governed(
      () => exportCmd,
      async (opts: { format: string; researchId?: string; site?: string; out?: string; dataDir: string; token?: string }) => {
        if (opts.format !== 'fhir' && opts.format !== 'csv') throw new GovernanceUsageError(`--format must be fhir or csv, got "${opts.format}"`);
        if (opts.format === 'csv' && opts.researchId !== undefined) throw new GovernanceUsageError('--research-id applies to --format fhir only');
        const text = await withStore(opts.dataDir, async (db) => {
          const actor = await commandActor(db, opts.token);
          const sites = opts.site ? { sites: [opts.site] } : {};
          return opts.format === 'csv' ? exportConsentCsv(db, actor, sites) : json(await exportConsentFhir(db, actor, { ...sites, ...(opts.researchId ? { researchId: opts.researchId } : {}) }));
        });
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
  return command.addCommand(importCmd).addCommand(exportCmd);
}
