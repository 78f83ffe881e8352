/**
 * Bulk consent import from CSV, and the same format as export.
 *
 * The file (UTF-8, comma-separated, RFC 4180 quoting) has a header line naming its columns, in
 * any order:
 *
 *   research_id  required  the research ID deid assigned (never a name)
 *   site         required  the site that answers for the subject
 *   kind         required  broad | grant | withdraw | refuse
 *   at           required  when it took effect: 2026-03-01 or 2026-03-01T09:30:00Z
 *   codes        broad     DUO codes separated by ";", e.g. "GRU;NCU;GS(DE,FR)"
 *   project_id   optional  grant or withdraw for one project …
 *   purpose      optional  … or for one purpose (a DUO permission, e.g. HMB)
 *   source       optional  where it came from (default "csv")
 *   reference    optional  the source document's reference (form number)
 *
 * An empty cell is an absent value. Every row is validated before anything is written, and the
 * whole file is recorded in one transaction: a file with any bad row records nothing, and the
 * error lists each bad row by line and field (the first 50). Other columns are refused, so a
 * file exported with names or birth dates in it cannot slip them into the registry.
 */
import type { Actor } from './actor.js';
import { auditedRefusal, importConsentEvents, consentEventsOf, subjectsOfSites, validateConsentEvent, type ConsentEventInput, type ConsentKind } from './consent.js';
import type { Db } from './db.js';
import { GovernanceError } from './errors.js';
import { authorize } from './permissions.js';
import { readCsvRecords, TableError } from '../privacy/table.js';

export const CONSENT_CSV_COLUMNS = ['research_id', 'site', 'kind', 'at', 'codes', 'project_id', 'purpose', 'source', 'reference'] as const;
const REQUIRED = ['research_id', 'site', 'kind', 'at'] as const;
/** Rows per file; a larger registry is imported in several files. */
export const MAX_CSV_ROWS = 200_000;
const MAX_REPORTED = 50;

export interface CsvImportResult {
  readonly events: number;
  readonly subjects: number;
}

type Column = (typeof CONSENT_CSV_COLUMNS)[number];

const FIELD_OF_INPUT: Record<string, Column> = {
  researchId: 'research_id',
  site: 'site',
  kind: 'kind',
  at: 'at',
  codes: 'codes',
  projectId: 'project_id',
  purpose: 'purpose',
  source: 'source',
  reference: 'reference',
};

/** Rewrites a validation message's field (`codes[1]: …`) into the CSV's column (`codes[1]`). */
function csvField(message: string): string {
  return message.replace(/^([A-Za-z]+)/, (name) => FIELD_OF_INPUT[name] ?? name);
}

/** Parses and validates a consent CSV; throws GovernanceError 'invalid' listing every bad row. */
export function parseConsentCsv(text: string, now: Date, source = 'consent CSV'): ReturnType<typeof validateConsentEvent>[] {
  let records;
  try {
    records = readCsvRecords(text, source, ',');
  } catch (e) {
    if (e instanceof TableError) throw new GovernanceError('invalid', `file: ${e.message}`, [{ check: 'file', reason: e.message }]);
    throw e;
  }
  const header = records[0];
  if (!header) throw new GovernanceError('invalid', `file: ${source} is empty (a header line is needed: ${CONSENT_CSV_COLUMNS.join(',')})`);
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const problems: { check: string; reason: string }[] = [];
  columns.forEach((c, i) => {
    if (!(CONSENT_CSV_COLUMNS as readonly string[]).includes(c)) problems.push({ check: `line ${header.line}, column ${i + 1}`, reason: `"${c.slice(0, 40)}" is not a consent column (${CONSENT_CSV_COLUMNS.join(', ')})` });
    else if (columns.indexOf(c) !== i) problems.push({ check: `line ${header.line}, column ${i + 1}`, reason: `"${c}" appears twice` });
  });
  for (const r of REQUIRED) if (!columns.includes(r)) problems.push({ check: `line ${header.line}`, reason: `the header lacks the column ${r}` });
  if (problems.length > 0) throw new GovernanceError('invalid', `${source}: ${problems[0]!.check}: ${problems[0]!.reason}`, problems);
  if (records.length - 1 > MAX_CSV_ROWS) throw new GovernanceError('invalid', `file: more than ${MAX_CSV_ROWS} rows; split the file`);

  const events: ReturnType<typeof validateConsentEvent>[] = [];
  for (const record of records.slice(1)) {
    if (record.fields.length === 1 && record.fields[0]!.trim() === '') continue;
    if (record.fields.length !== columns.length) {
      problems.push({ check: `line ${record.line}`, reason: `${record.fields.length} fields, the header has ${columns.length}` });
      continue;
    }
    const cell = (c: Column): string | undefined => {
      const i = columns.indexOf(c);
      const v = i < 0 ? '' : record.fields[i]!.trim();
      return v === '' ? undefined : v;
    };
    const codes = cell('codes');
    const input: ConsentEventInput = {
      researchId: cell('research_id') ?? '',
      site: cell('site') ?? '',
      kind: (cell('kind')?.toLowerCase() ?? '') as ConsentKind,
      at: cell('at') ?? '',
      codes: codes === undefined ? undefined : codes.split(';').map((c) => c.trim()).filter((c) => c !== ''),
      projectId: cell('project_id'),
      purpose: cell('purpose'),
      source: cell('source') ?? 'csv',
      reference: cell('reference'),
    };
    try {
      events.push(validateConsentEvent(input, now));
    } catch (e) {
      if (!(e instanceof GovernanceError)) throw e;
      const message = csvField(e.message);
      const [field, ...rest] = message.split(': ');
      problems.push({ check: `line ${record.line}, ${field}`, reason: rest.join(': ') });
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_REPORTED);
    const more = problems.length > shown.length ? ` (and ${problems.length - shown.length} more)` : '';
    throw new GovernanceError('invalid', `${source}: ${problems.length} bad row(s); first: ${shown[0]!.check}: ${shown[0]!.reason}${more}`, shown);
  }
  if (events.length === 0) throw new GovernanceError('invalid', `file: ${source} has a header but no rows`);
  return events;
}

/**
 * Imports a consent CSV (curators, for their sites): every row validated, the whole file one
 * transaction, one audit entry for the file.
 */
export async function importConsentCsv(db: Db, actor: Actor, input: { readonly csv: string; readonly name?: string }, options: { now?: Date } = {}): Promise<CsvImportResult> {
  const now = options.now ?? new Date();
  try {
    authorize(actor, 'consent.import');
    if (typeof input?.csv !== 'string') throw new GovernanceError('invalid', 'csv: the file content as text');
    const events = parseConsentCsv(input.csv, now, input.name ?? 'consent CSV');
    return await importConsentEvents(db, actor, 'csv', events, now, events.map((_, i) => `row ${i + 1}`));
  } catch (e) {
    return auditedRefusal(db, actor, 'consent.import', '', now, e);
  }
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The events of the actor's sites (or of `sites`, within them) in the import format. */
export async function exportConsentCsv(db: Db, actor: Actor, input: { readonly sites?: readonly string[] } = {}, options: { now?: Date } = {}): Promise<string> {
  const now = options.now ?? new Date();
  try {
    authorize(actor, 'consent.export');
    const sites = input.sites ?? actor.sites;
    for (const s of sites) if (s !== '*') authorize(actor, 'consent.export', s);
    if (sites.includes('*')) authorize(actor, 'consent.export', '*');
    const lines = [CONSENT_CSV_COLUMNS.join(',')];
    for (const id of await subjectsOfSites(db, sites)) {
      for (const e of await consentEventsOf(db, id)) {
        const cells: Record<Column, string> = {
          research_id: e.researchId,
          site: e.site,
          kind: e.kind,
          at: e.at,
          codes: e.codes.join(';'),
          project_id: e.projectId ?? '',
          purpose: e.purpose ?? '',
          source: e.source,
          reference: e.reference ?? '',
        };
        lines.push(CONSENT_CSV_COLUMNS.map((c) => csvCell(cells[c])).join(','));
      }
    }
    return lines.join('\n') + '\n';
  } catch (e) {
    return auditedRefusal(db, actor, 'consent.export', '', now, e);
  }
}
