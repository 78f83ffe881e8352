// Generates src/governance/duo.generated.ts from the GA4GH Data Use Ontology term list (duo.csv:
// id, shorthand, label, description), as kept in the shared reference data (governance/duo.csv,
// CC BY 4.0).
//
//   node scripts/generate-duo.mjs [path/to/duo.csv]
//
// Without an argument the CSV is read from $RADANON_SHARED_DATA/governance/duo.csv, or
// ../shared/data/governance/duo.csv next to the repository. `renderDuo` is pure so that a test can
// re-run it in memory and check that the committed file is current.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMain, repoRoot, writeGenerated } from './lib/generated-file.mjs';
import { parseCsv } from './lib/csv.mjs';

export const OUTPUT_PATH = 'src/governance/duo.generated.ts';
const COLUMNS = ['id', 'shorthand', 'label', 'description'];

/** Where the shared copy of duo.csv is expected. */
export function defaultSourcePath() {
  const shared = process.env.RADANON_SHARED_DATA ?? resolve(repoRoot, '../shared/data');
  return join(shared, 'governance', 'duo.csv');
}

/** Renders the generated module from the CSV text. */
export function renderDuo(csvText) {
  const digest = createHash('sha256').update(csvText).digest('hex');
  const [header, ...rows] = parseCsv(csvText);
  if (header?.join(',') !== COLUMNS.join(',')) throw new Error(`duo.csv: unexpected header ${header?.join(', ')}`);
  const terms = [];
  const seenIds = new Set();
  const seenShorthands = new Set();
  rows.forEach((cells, index) => {
    if (cells.length === 1 && cells[0] === '') return;
    const line = index + 2;
    if (cells.length !== COLUMNS.length) throw new Error(`duo.csv line ${line}: ${cells.length} fields, expected ${COLUMNS.length}`);
    const [id, shorthand, label, description] = cells.map((c) => c.trim());
    if (!/^DUO:\d{7}$/.test(id)) throw new Error(`duo.csv line ${line}: id "${id}" is not of the form DUO:0000042`);
    if (shorthand !== '' && !/^[A-Z]+$/.test(shorthand)) throw new Error(`duo.csv line ${line}: shorthand "${shorthand}" is not upper-case letters`);
    if (label === '') throw new Error(`duo.csv line ${line}: empty label`);
    if (seenIds.has(id)) throw new Error(`duo.csv line ${line}: id ${id} appears twice`);
    if (shorthand !== '' && seenShorthands.has(shorthand)) throw new Error(`duo.csv line ${line}: shorthand ${shorthand} appears twice`);
    seenIds.add(id);
    if (shorthand !== '') seenShorthands.add(shorthand);
    terms.push({ id, shorthand, label, description });
  });
  terms.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const q = (s) => JSON.stringify(s);
  return [
    '// Auto-generated, do not edit: run `node scripts/generate-duo.mjs` to update.',
    '// Source: the GA4GH Data Use Ontology (DUO), http://purl.obolibrary.org/obo/duo.owl, CC BY 4.0,',
    "// as the term list duo.csv of radanon's shared reference data (governance/duo.csv). The file",
    '// states no DUO release; this edition is identified by the SHA-256 of the CSV below.',
    `// ${terms.length} terms.`,
    '',
    `export const DUO_SOURCE = { ontology: 'GA4GH Data Use Ontology', iri: 'http://purl.obolibrary.org/obo/duo.owl', licence: 'CC BY 4.0', csvSha256: ${q(digest)} } as const;`,
    '',
    'export interface DuoTerm {',
    '  /** DUO:0000042 */',
    '  readonly id: string;',
    "  /** GRU, HMB, … ('' for the two grouping terms, data use permission and data use modifier) */",
    '  readonly shorthand: string;',
    '  readonly label: string;',
    '  /** DUO\'s definition of the term. */',
    '  readonly description: string;',
    '}',
    '',
    '/** Sorted by id. */',
    'export const DUO_TERMS: readonly DuoTerm[] = [',
    ...terms.map((t) => `  { id: ${q(t.id)}, shorthand: ${q(t.shorthand)}, label: ${q(t.label)}, description: ${q(t.description)} },`),
    '];',
    '',
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const source = process.argv[2] ? resolve(process.argv[2]) : defaultSourcePath();
  writeGenerated(OUTPUT_PATH, renderDuo(readFileSync(source, 'utf8')), 'duo.csv');
}
