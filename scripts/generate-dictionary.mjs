// Generates src/dicom/dictionary.generated.ts from the data dictionary shipped with dcmjs.
//
//   node scripts/generate-dictionary.mjs
//
// `renderDictionary` is pure so that a unit test can re-run it in memory and check that the
// committed file is current.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isMain, repoRoot, writeGenerated } from './lib/generated-file.mjs';

export const OUTPUT_PATH = 'src/dicom/dictionary.generated.ts';

/**
 * dcmjs spells the VRs that PS3.6 lists as alternatives with DCMTK's lower-case codes. They are
 * expanded back to the standard's alternatives so that the lookup module can pick a default.
 */
const VR_CODES = {
  ox: 'OB|OW', // "OB or OW": Pixel Data, Overlay Data, Waveform Data, ...
  xs: 'US|SS', // "US or SS": pixel value attributes whose sign follows Pixel Representation
  lt: 'US|SS|OW', // LUT data: 16-bit words interpreted as US, SS or OW
  up: 'UL', // DICOMDIR offsets, "UL" in PS3.6
  na: '', // Item and delimitation tags have no VR
};

const STANDARD_VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

const EXACT = /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/;
// Repeating groups such as "(6000-60FF,3000)", written (60xx,3000) in PS3.6.
const GROUP_RANGE = /^\(([0-9A-F]{2})00-\1FF,([0-9A-F]{4})\)$/;
// Repeating elements such as "(0020,3100-31FF)", written (0020,31xx) in PS3.6.
const ELEMENT_RANGE = /^\(([0-9A-F]{4}),([0-9A-F]{2})00-\2FF\)$/;
// dcmjs's generic rows for group lengths, private creators and the illegal groups 0001-0007
// ("(0009-o-FFFF,0010-u-00FF)", ...): PS3.5 encoding rules rather than dictionary entries, so the
// lookup module implements them in code.
const STRUCTURAL = /^\([0-9A-F]{4}-[ou]-[0-9A-F]{4},[0-9A-F]{4}(-[ou]-[0-9A-F]{4})?\)$/;

/** Turns dcmjs's key into the "GGGGEEEE" pattern used in the generated table (X = any hex digit). */
function patternOf(key) {
  let m = EXACT.exec(key);
  if (m) return `${m[1]}${m[2]}`;
  m = GROUP_RANGE.exec(key);
  if (m) return `${m[1]}XX${m[2]}`;
  m = ELEMENT_RANGE.exec(key);
  if (m) return `${m[1]}${m[2]}XX`;
  if (STRUCTURAL.test(key)) return undefined;
  throw new Error(`unexpected dcmjs dictionary key ${JSON.stringify(key)}`);
}

function vrsOf(key, vr) {
  const expanded = Object.hasOwn(VR_CODES, vr) ? VR_CODES[vr] : vr;
  for (const v of expanded ? expanded.split('|') : []) {
    if (!STANDARD_VRS.has(v)) throw new Error(`unexpected VR ${JSON.stringify(vr)} for ${key}`);
  }
  return expanded;
}

/**
 * Renders the generated module from dcmjs's dictionary object (keys "(GGGG,EEEE)") and the dcmjs
 * version. Private entries (keys naming a private creator) are left out: private attributes are
 * handled through the private tag knowledge base instead.
 */
export function renderDictionary(dictionary, dcmjsVersion) {
  const rows = [];
  const keywords = new Map();
  for (const [key, entry] of Object.entries(dictionary)) {
    // One empty placeholder entry ({ tag: "" }) exists in dcmjs 0.51.
    if (key === '' || key.includes('"')) continue;
    const pattern = patternOf(key);
    if (pattern === undefined) continue;
    if (typeof entry.vr !== 'string' || typeof entry.vm !== 'string' || typeof entry.name !== 'string') {
      throw new Error(`incomplete dcmjs dictionary entry ${key}`);
    }
    const retired = entry.name.startsWith('RETIRED_') || entry.version === 'DICOM/retired';
    let keyword = entry.name.replace(/^RETIRED_/, '');
    // dcmjs names retired attributes that have no keyword in PS3.6 "RETIRED_undefined".
    if (keyword === 'undefined') keyword = '';
    if (keyword && !/^[A-Za-z][A-Za-z0-9]*$/.test(keyword)) throw new Error(`odd keyword ${keyword} for ${key}`);
    if (/[;]/.test(entry.vm)) throw new Error(`odd VM ${entry.vm} for ${key}`);
    if (keyword) {
      if (keywords.has(keyword)) throw new Error(`keyword ${keyword} used by ${keywords.get(keyword)} and ${key}`);
      keywords.set(keyword, key);
    }
    const fields = [pattern, vrsOf(key, entry.vr), entry.vm, keyword];
    if (retired) fields.push('R');
    rows.push([pattern, fields.join(';')]);
  }
  // The lookup module binary-searches the rows by pattern.
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (let i = 1; i < rows.length; i++) {
    if (rows[i][0] === rows[i - 1][0]) throw new Error(`duplicate dictionary entry ${rows[i][0]}`);
  }

  const lines = [
    '// Auto-generated, do not edit: run `node scripts/generate-dictionary.mjs` to update.',
    `// Source: the DICOM data dictionary of dcmjs ${dcmjsVersion} (module "dcmjs/dictionary", MIT licence),`,
    '// public attributes only, retired ones included.',
    '',
    `export const DICTIONARY_SOURCE = 'dcmjs ${dcmjsVersion}';`,
    '',
    '/**',
    ' * One string per attribute: "GGGGEEEE;VRs;VM;Keyword" plus ";R" when retired.',
    ' * GGGGEEEE is the tag in hex; X stands for any hex digit in a repeating group (60XX3000) or',
    ' * repeating element (002031XX). VRs lists the alternatives PS3.6 allows, separated by "|",',
    ' * and is empty for Item and delimitation tags. Keyword is empty where PS3.6 gives none.',
    ' * Sorted by pattern, and kept as plain strings so that loading the module costs little.',
    ' */',
    'export const DICTIONARY_ENTRIES: readonly string[] = [',
    ...rows.map(([, row]) => `  '${row}',`),
    '];',
    '',
  ];
  return lines.join('\n');
}

/** Loads dcmjs's dictionary and reads the installed dcmjs version from its package.json. */
export async function loadDcmjsDictionary() {
  const { default: dictionary } = await import('dcmjs/dictionary');
  const require = createRequire(import.meta.url);
  // dcmjs's "exports" map hides package.json, so walk up from its entry point.
  let dir = dirname(require.resolve('dcmjs'));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg.name === 'dcmjs') return { dictionary, version: pkg.version };
    } catch {
      // no package.json at this level
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the package.json of dcmjs');
    dir = parent;
  }
}

export { repoRoot };

if (isMain(import.meta.url)) {
  const { dictionary, version } = await loadDcmjsDictionary();
  writeGenerated(OUTPUT_PATH, renderDictionary(dictionary, version), `dcmjs ${version}`);
}
