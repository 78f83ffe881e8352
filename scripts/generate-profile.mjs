// Generates src/deid/profile.generated.ts from PS3.15 Table E.1-1 (Application Level
// Confidentiality Profile Attributes), kept as a TSV under scripts/sources/.
//
//   node scripts/generate-profile.mjs
//
// `renderProfile` is pure so that a unit test can re-run it in memory and check that the
// committed file is current.

import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isMain, repoRoot, writeGenerated } from './lib/generated-file.mjs';

export const SOURCE_PATH = 'scripts/sources/ps315_table_E1-1_2024b.tsv';
export const OUTPUT_PATH = 'src/deid/profile.generated.ts';

/** TSV column → option name used in the code (the order of the columns in Table E.1-1). */
const OPTION_COLUMNS = [
  ['retain_safe_private', 'retainSafePrivate'],
  ['retain_uids', 'retainUIDs'],
  ['retain_device_identity', 'retainDeviceIdentity'],
  ['retain_institution_identity', 'retainInstitutionIdentity'],
  ['retain_patient_characteristics', 'retainPatientCharacteristics'],
  ['retain_long_full_dates', 'retainLongitudinalFullDates'],
  ['retain_long_modified_dates', 'retainLongitudinalModifiedDates'],
  ['clean_descriptors', 'cleanDescriptors'],
  ['clean_structured_content', 'cleanStructuredContent'],
  ['clean_graphics', 'cleanGraphics'],
];

const COLUMNS = ['tag', 'name', 'in_std_comp_iod', 'basic_profile', ...OPTION_COLUMNS.map(([c]) => c)];

const ACTIONS = new Set(['D', 'Z', 'X', 'K', 'C', 'U', 'Z/D', 'X/Z', 'X/D', 'X/Z/D', 'X/Z/U*']);

const TAG = /^\(([0-9A-FX]{4}),([0-9A-FX]{4})\)$/;
// The table's last row covers every private attribute.
const ODD_GROUPS = /^\(GGGG,EEEE\) WHERE GGGG IS ODD$/;

function quote(s) {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Splits the TSV into rows of COLUMNS.length cells. A name cell that held a line break in the
 * standard (Icon Image Sequence, "(see Note 11)") arrives as a short line, blank lines and a
 * continuation line; such pieces are joined back into one row.
 */
function parseRows(text) {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = lines.shift()?.split('\t');
  if (header?.join('\t') !== COLUMNS.join('\t')) throw new Error(`unexpected TSV header: ${header?.join(', ')}`);
  const rows = [];
  let pending;
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const cells = line.split('\t');
    if (pending) {
      if (TAG.test(cells[0]) || ODD_GROUPS.test(cells[0])) {
        throw new Error(`row ${pending.line} is short and line ${index + 2} starts a new attribute`);
      }
      const last = pending.cells.pop();
      pending.cells.push(`${last} ${cells[0]}`.trim(), ...cells.slice(1));
    } else {
      pending = { line: index + 2, cells };
    }
    if (pending.cells.length > COLUMNS.length) throw new Error(`row ${pending.line} has too many cells`);
    if (pending.cells.length === COLUMNS.length) {
      rows.push(pending);
      pending = undefined;
    }
  }
  if (pending) throw new Error(`row ${pending.line} is incomplete`);
  return rows;
}

function action(cell, where) {
  if (!ACTIONS.has(cell)) throw new Error(`unknown action ${JSON.stringify(cell)} ${where}`);
  return cell;
}

/**
 * Renders the generated module from the TSV text. `sourceName` is the TSV's file name, which
 * carries the edition of the standard (e.g. "..._2024b.tsv").
 */
export function renderProfile(tsvText, sourceName) {
  const edition = /_(\d{4}[a-z])\.tsv$/.exec(sourceName)?.[1];
  if (!edition) throw new Error(`no edition in source name ${sourceName}`);
  const seen = new Set();
  const out = [];
  for (const { line, cells } of parseRows(tsvText)) {
    const [tagCell, name, inStd, basic, ...optionCells] = cells.map((c) => c.trim());
    let pattern;
    let oddGroup = false;
    const m = TAG.exec(tagCell);
    if (m) {
      pattern = `${m[1]}${m[2]}`;
    } else if (ODD_GROUPS.test(tagCell)) {
      pattern = 'XXXXXXXX';
      oddGroup = true;
    } else {
      throw new Error(`unexpected tag ${JSON.stringify(tagCell)} in row ${line}`);
    }
    if (seen.has(pattern)) throw new Error(`duplicate tag ${pattern} in row ${line}`);
    seen.add(pattern);
    if (inStd !== 'Y' && inStd !== 'N') throw new Error(`unexpected in_std_comp_iod ${inStd} in row ${line}`);
    const options = [];
    optionCells.forEach((cell, i) => {
      if (cell !== '') options.push(`${OPTION_COLUMNS[i][1]}: ${quote(action(cell, `in row ${line}`))}`);
    });
    const fields = [
      `tag: ${quote(pattern)}`,
      ...(oddGroup ? ['oddGroup: true'] : []),
      `name: ${quote(name)}`,
      `inStdCompIod: ${inStd === 'Y'}`,
      `basic: ${quote(action(basic, `in row ${line}`))}`,
      `options: {${options.length ? ` ${options.join(', ')} ` : ''}}`,
    ];
    out.push(`  { ${fields.join(', ')} },`);
  }

  return [
    '// Auto-generated, do not edit: run `node scripts/generate-profile.mjs` to update.',
    `// Source: ${basename(sourceName)}, DICOM PS3.15 ${edition} Table E.1-1`,
    '// "Application Level Confidentiality Profile Attributes" (MIT data derived from the DICOM standard).',
    '',
    "import type { ProfileRow } from './profile.js';",
    '',
    `export const PROFILE_EDITION = '${edition}';`,
    '',
    '/**',
    ' * The rows of Table E.1-1 in the order of the standard. `tag` is "GGGGEEEE" with X for any hex',
    ' * digit: 50XXXXXX (curves) and 60XX3000 (overlays) cover repeating groups, and the row marked',
    ' * `oddGroup` ("(gggg,eeee) where gggg is odd") covers every private attribute.',
    ' */',
    'export const PROFILE_ROWS: readonly ProfileRow[] = [',
    ...out,
    '];',
    '',
  ].join('\n');
}

export { repoRoot };

if (isMain(import.meta.url)) {
  writeGenerated(OUTPUT_PATH, renderProfile(readFileSync(join(repoRoot, SOURCE_PATH), 'utf8'), basename(SOURCE_PATH)), SOURCE_PATH);
}
