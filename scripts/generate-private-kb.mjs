// Generates src/deid/private-kb.generated.ts from TCIA's private tag knowledge base, kept as a CSV
// under scripts/sources/.
//
//   node scripts/generate-private-kb.mjs
//
// `renderPrivateKb` is pure so that a unit test can re-run it in memory and check that the
// committed file is current.

import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isMain, repoRoot, writeGenerated } from './lib/generated-file.mjs';
import { parseCsv } from './lib/csv.mjs';

export const SOURCE_PATH = 'scripts/sources/TCIAPrivateTagKB-02-01-2024-formatted.csv';
export const OUTPUT_PATH = 'src/deid/private-kb.generated.ts';

const COLUMNS = ['element_sig_pattern', 'tag_name', 'vr', 'private_disposition'];
const DISPOSITIONS = new Set(['k', 'd', 'h', 'o', 'oi', 'na', '']);
const STANDARD_VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

const PUBLIC_STEP = /^\(([0-9a-fA-F]{4}),([0-9a-fA-F]{4})\)$/;
// (gggg,"creator",ee): the creator may contain commas, so it runs to the last comma. The source
// often lost the opening quote of the creator (`(0019,GEMS_ACQU_01",1e)`), so both quotes are
// optional.
const PRIVATE_STEP = /^\(([0-9a-fA-F]{4}),"?(.*?)"?,([0-9a-fA-F]{2})\)$/;

/**
 * Parses an element signature such as `(0008,1084)[<0>](312f,"Ramsoft ...",10)` into steps:
 * { group, element } for public tags and { group, creator, elementByte } for private ones, with
 * group and bytes as lower-case hex. `[<n>]` marks the nesting depth of the next step.
 */
function parseSignature(sig) {
  const parts = sig.split(/\[<(\d+)>\]/);
  const steps = [];
  for (let i = 0; i < parts.length; i += 2) {
    if (i > 0 && Number(parts[i - 1]) !== i / 2 - 1) throw new Error(`unexpected nesting in ${sig}`);
    const text = parts[i];
    let m = PUBLIC_STEP.exec(text);
    if (m) {
      steps.push({ group: m[1].toLowerCase(), element: m[2].toLowerCase() });
      continue;
    }
    m = PRIVATE_STEP.exec(text);
    if (!m) throw new Error(`unexpected element signature ${sig}`);
    const group = m[1].toLowerCase();
    const creator = m[2].trim();
    if (/["|>\n]/.test(creator)) throw new Error(`unexpected private creator in ${sig}`);
    if ((parseInt(group, 16) & 1) === 0) throw new Error(`private step in an even group in ${sig}`);
    steps.push({ group, creator, elementByte: m[3].toLowerCase() });
  }
  return steps;
}

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** A step of the path in the generated table: "gggg,eeee" (public) or "gggg,creator,ee" (private). */
function formatStep(step) {
  return 'creator' in step ? `${step.group},${step.creator},${step.elementByte}` : `${step.group},${step.element}`;
}

/**
 * Renders the generated module from the CSV text. `sourceName` is the CSV's file name, which
 * carries the date of the knowledge base.
 */
export function renderPrivateKb(csvText, sourceName) {
  const date = /(\d{2}-\d{2}-\d{4})/.exec(sourceName)?.[1];
  if (!date) throw new Error(`no date in source name ${sourceName}`);
  const [header, ...rows] = parseCsv(csvText);
  if (header?.join(',') !== COLUMNS.join(',')) throw new Error(`unexpected CSV header: ${header?.join(', ')}`);
  const entries = [];
  let publicTargets = 0;
  rows.forEach((cells, index) => {
    if (cells.length === 1 && cells[0] === '') return;
    if (cells.length !== COLUMNS.length) throw new Error(`CSV row ${index + 2} has ${cells.length} cells`);
    const [sig, , vrCell, dispCell] = cells;
    const steps = parseSignature(sig.trim());
    const target = steps[steps.length - 1];
    // Standard attributes nested in private sequences: once such a sequence is kept, its items
    // go through Table E.1-1 like any other data set, so they need no entry here.
    if (!('creator' in target)) {
      publicTargets++;
      return;
    }
    const vr = vrCell.trim();
    if (vr !== '' && !STANDARD_VRS.has(vr)) throw new Error(`unexpected VR ${vr} in CSV row ${index + 2}`);
    // Dispositions come as "k", " k", "K", "D", ...
    const disposition = dispCell.trim().toLowerCase();
    if (!DISPOSITIONS.has(disposition)) throw new Error(`unexpected disposition ${dispCell} in CSV row ${index + 2}`);
    const fields = [target.group, target.creator, target.elementByte, vr, disposition];
    const path = steps.slice(0, -1).map(formatStep).join('>');
    if (path) fields.push(path);
    const row = fields.join('|');
    entries.push({ key: `${target.group}|${target.creator.toLowerCase()}|${target.elementByte}`, row });
  });
  // Sorted by signature with the creator lower-cased: the lookup module binary-searches the
  // rows, comparing creators case-insensitively.
  entries.sort((a, b) => compare(a.key, b.key) || compare(a.row, b.row));
  const safe = entries.filter((e) => e.row.split('|')[4] === 'k').length;

  const quote = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return [
    '// Auto-generated, do not edit: run `node scripts/generate-private-kb.mjs` to update.',
    `// Source: ${basename(sourceName)}, TCIA's private tag knowledge base dated ${date},`,
    '// as published with MIC-DKFZ/miccai2024_midi-b-submission (Apache-2.0).',
    `// ${entries.length} private element signatures, ${safe} with disposition k; the ${publicTargets} source rows`,
    '// describing standard attributes nested in private sequences are left out.',
    '',
    `export const PRIVATE_KB_SOURCE = 'TCIA private tag knowledge base ${date}';`,
    '',
    '/**',
    ' * One string per signature: "gggg|creator|ee|vr|disposition" plus "|path" when the element',
    ' * was seen inside a sequence. gggg is the odd group and ee the low byte of the element, in',
    ' * lower-case hex; creator is the private creator as written in the source; vr may be empty;',
    ' * disposition is lower-case (k, d, h, o, oi, na, or empty where the source has none). path',
    ' * lists the enclosing sequences from the top level, separated by ">", each "gggg,eeee" or',
    ' * "gggg,creator,ee". Sorted by "gggg|creator|ee" with the creator lower-cased.',
    ' */',
    'export const PRIVATE_KB_ENTRIES: readonly string[] = [',
    ...entries.map((e) => `  ${quote(e.row)},`),
    '];',
    '',
  ].join('\n');
}

export { repoRoot };

if (isMain(import.meta.url)) {
  writeGenerated(OUTPUT_PATH, renderPrivateKb(readFileSync(join(repoRoot, SOURCE_PATH), 'utf8'), basename(SOURCE_PATH)), SOURCE_PATH);
}
