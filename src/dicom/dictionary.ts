import { DICTIONARY_ENTRIES } from './dictionary.generated.js';
import { elementOf, groupOf, isPrivateCreator, tag, type Tag } from './tag.js';
import { isVR, type VR } from './vr.js';

/** What the data dictionary (PS3.6) says about one public attribute. */
export interface DictionaryEntry {
  /** "GGGGEEEE" in hex, with X for each digit a repeating group or element leaves open. */
  readonly pattern: string;
  /** The first VR PS3.6 lists; undefined for Item and delimitation tags, which have none. */
  readonly vr: VR | undefined;
  /** Every VR PS3.6 allows, e.g. ['OB', 'OW'] for Pixel Data. */
  readonly vrs: readonly VR[];
  /** Value multiplicity as written in PS3.6: "1", "1-n", "2-2n", ... */
  readonly vm: string;
  /** The PS3.6 keyword; undefined for the few retired attributes that have none. */
  readonly keyword: string | undefined;
  readonly retired: boolean;
}

/** Parsed entries by tag, filled as lookups happen; null records a tag the dictionary lacks. */
const cache = new Map<number, DictionaryEntry | null>();
let byKeyword: Map<string, Tag> | undefined;

function parseEntry(row: string): DictionaryEntry {
  const [pattern = '', vrField = '', vm = '', keyword = '', retired = ''] = row.split(';');
  const vrs = vrField === '' ? [] : vrField.split('|').filter(isVR);
  return { pattern, vr: vrs[0], vrs, vm, keyword: keyword === '' ? undefined : keyword, retired: retired === 'R' };
}

/**
 * Binary search of the generated rows, which the generator sorts by pattern. Nothing is parsed
 * up front: worker threads import this module whether or not they ever read implicit-VR data,
 * and splitting every row on the first lookup costs tens of milliseconds on a slow machine.
 */
function findRow(pattern: string): string | undefined {
  let lo = 0;
  let hi = DICTIONARY_ENTRIES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const row = DICTIONARY_ENTRIES[mid]!;
    // Patterns all have 8 characters, so a row that does not start with the pattern compares
    // with it as its first 8 characters do.
    if (row.startsWith(pattern)) return row;
    if (row < pattern) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

function search(t: Tag): DictionaryEntry | null {
  const g = hex4(groupOf(t));
  const e = hex4(elementOf(t));
  const row = findRow(g + e)
    // Repeating groups (50XX, 60XX, 7FXX) and repeating elements (0020,31XX), the exact entry
    // winning over both, e.g. (7FE0,0010) Pixel Data over (7FXX,0010) Variable Pixel Data.
    ?? findRow(`${g.slice(0, 2)}XX${e}`)
    ?? findRow(`${g}${e.slice(0, 2)}XX`);
  return row === undefined ? null : parseEntry(row);
}

/** (gggg,0000) outside groups 0000 and 0002: PS3.5 7.2 retired these, but old files still carry them. */
const GROUP_LENGTH: DictionaryEntry = {
  pattern: 'XXXX0000', vr: 'UL', vrs: ['UL'], vm: '1', keyword: undefined, retired: true,
};

/** (gggg,0010-00FF) in a private group reserves a block for a private creator (PS3.5 7.8.1). */
const PRIVATE_CREATOR: DictionaryEntry = {
  pattern: 'XXXX00XX', vr: 'LO', vrs: ['LO'], vm: '1', keyword: undefined, retired: false,
};

/**
 * The dictionary entry of a tag, or undefined for private data elements and unknown tags.
 * Repeating groups resolve through their mask: (6002,3000) gives the (60XX,3000) Overlay Data
 * entry. Masks only apply to even groups, since an odd group such as 6001 is private.
 */
export function lookupEntry(t: Tag): DictionaryEntry | undefined {
  // The dictionary holds no odd groups: skip the search (and the cache) for private tags.
  if ((groupOf(t) & 1) === 0) {
    let entry = cache.get(t);
    if (entry === undefined) cache.set(t, (entry = search(t)));
    if (entry) return entry;
  }
  if (elementOf(t) === 0x0000) return GROUP_LENGTH;
  if (isPrivateCreator(t)) return PRIVATE_CREATOR;
  return undefined;
}

/**
 * The VR to assume when reading an implicit-VR data set. Where PS3.6 allows several, the choice
 * follows PS3.5 Annex A.1: attributes that may be OB or OW are OW in implicit VR (Pixel Data,
 * Overlay Data, ...), and so are LUT data; "US or SS" gives US, the caller refining it with Pixel
 * Representation when the sign matters (both are 16-bit words, so the bytes read the same).
 */
export function vrOf(t: Tag): VR | undefined {
  const entry = lookupEntry(t);
  if (!entry) return undefined;
  return entry.vrs.includes('OW') ? 'OW' : entry.vr;
}

export function keywordOf(t: Tag): string | undefined {
  return lookupEntry(t)?.keyword;
}

/**
 * The tag of a PS3.6 keyword; repeating-group keywords give the first group, e.g. (6000,3000).
 * The keyword index is built on the first call, as only configuration parsing needs it.
 */
export function tagOfKeyword(keyword: string): Tag | undefined {
  if (!byKeyword) {
    const index = new Map<string, Tag>();
    for (const row of DICTIONARY_ENTRIES) {
      // "GGGGEEEE;VRs;VM;Keyword[;R]": the keyword is the fourth field.
      const start = row.indexOf(';', row.indexOf(';', 9) + 1) + 1;
      const end = row.indexOf(';', start);
      const keyword = end < 0 ? row.slice(start) : row.slice(start, end);
      if (keyword === '') continue;
      const value = parseInt(row.slice(0, 8).replace(/X/g, '0'), 16);
      index.set(keyword, tag(value >>> 16, value & 0xffff));
    }
    byKeyword = index;
  }
  return byKeyword.get(keyword);
}
