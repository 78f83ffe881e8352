/**
 * Free-text cleaning for the Clean Descriptors and Clean Structured Content options
 * (PS3.15 E.3.5, E.3.6): instead of deleting a description, remove from it every identifying
 * value known from the same dataset, and everything that looks like a date, a phone number,
 * an e-mail address or a long run of digits.
 */

export const REMOVED_MARK = '';

/** Identifying strings collected from one dataset. Built once per file, used for every text element. */
export class IdentifierSet {
  private readonly tokens = new Set<string>();
  private readonly phrases = new Set<string>();
  private pattern: RegExp | undefined;

  /** Adds a whole value (e.g. an address) and its parts (names split at ^, spaces, commas). */
  add(value: string): void {
    const v = value.trim();
    if (v.length < 2) return;
    this.pattern = undefined;
    this.phrases.add(v.toLowerCase());
    for (const part of v.split(/[\^=\\,;:\s/()]+/)) {
      const p = part.trim().replace(/^[.\-']+|[.\-']+$/g, '');
      // Single Latin letters (initials, sex codes) would erase too much ordinary text, but one
      // ideographic or Hangul character is a whole family name.
      const long = p.length >= 2 || /[\p{Script=Han}\p{Script=Hangul}\p{Script=Hiragana}\p{Script=Katakana}]/u.test(p);
      if (p !== '' && long && !STOPWORDS.has(p.toLowerCase())) this.tokens.add(p.toLowerCase());
    }
  }

  get size(): number {
    return this.tokens.size + this.phrases.size;
  }

  /** One alternation, longest first, matched case-insensitively on word boundaries. */
  matcher(): RegExp | undefined {
    if (this.pattern) return this.pattern;
    const all = [...new Set([...this.phrases, ...this.tokens])].sort((a, b) => b.length - a.length);
    if (all.length === 0) return undefined;
    const escaped = all.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${escaped.join('|')})(?![\\p{L}\\p{N}])`, 'giu');
    return this.pattern;
  }
}

/** Words too common to be identifying on their own even when part of a name or address. */
const STOPWORDS = new Set([
  'the', 'of', 'and', 'de', 'la', 'le', 'du', 'van', 'von', 'der', 'mr', 'mrs', 'ms', 'dr', 'md', 'phd',
  'st', 'rd', 'ave', 'street', 'road', 'hospital', 'clinic', 'center', 'centre', 'university', 'medical',
  'department', 'dept', 'radiology', 'imaging', 'institute', 'and', 'for', 'in', 'on', 'at', 'ct', 'mr', 'mri', 'pet', 'us',
]);

const PATTERNS: readonly RegExp[] = [
  // e-mail
  /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu,
  // dates: 2024-03-01, 01/03/2024, 1.3.24, 20240301, 1 March 2024, March 1, 2024
  /\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b/g,
  /\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b/g,
  /\b(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\b/g,
  /\b\d{1,2}(?:st|nd|rd|th)?\.?[\s-]+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?[\s-]+\d{2,4}\b/gi,
  /\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b/gi,
  // phone numbers: +1 (555) 123-4567, (555) 123-4567, +49 30 1234567, 555-123-4567, 555-0100.
  // Space-separated digit groups count only after a + or an area code in parentheses: matrix
  // sizes and b-values ("256 256 120") are written the same way.
  /(?:\+\d{1,3}[\s.-]?)?\(\d{2,4}\)[\s.-]?\d{3,4}[\s.-]?\d{3,4}\b/g,
  /\+\d{1,3}[\s.-]?\d{2,4}[\s.-]?\d{3,4}(?:[\s.-]?\d{2,4})?\b/g,
  /\b\d{2,4}[.-]\d{3,4}[.-]\d{3,4}\b/g,
  /\b\d{3}-\d{4}\b/g,
  // a trunk prefix 0 then the subscriber number: 030 1234567, 0171/1234567
  /\b0\d{1,4}[\s/-]\d{5,8}\b/g,
  // long digit runs: record numbers, accession numbers, social security numbers
  /\d{5,}/g,
];

/** Returns the cleaned text and how many pieces were removed. Pure. */
export function cleanText(text: string, identifiers: IdentifierSet): { text: string; removed: number } {
  let removed = 0;
  let out = text;
  const m = identifiers.matcher();
  if (m) {
    out = out.replace(m, () => {
      removed++;
      return REMOVED_MARK;
    });
  }
  for (const p of PATTERNS) {
    out = out.replace(p, () => {
      removed++;
      return REMOVED_MARK;
    });
  }
  if (removed > 0) out = out.replace(/[ \t]{2,}/g, ' ').replace(/^\s+|\s+$/g, '');
  return { text: out, removed };
}
