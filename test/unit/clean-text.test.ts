import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanText, IdentifierSet } from '../../src/deid/clean-text.js';

function ids(...values: string[]): IdentifierSet {
  const s = new IdentifierSet();
  for (const v of values) s.add(v);
  return s;
}

const none = new IdentifierSet();
const clean = (text: string, set = none) => cleanText(text, set);

describe('identifiers of the dataset', () => {
  const set = ids('Zyxwvut^Qwerty', 'MRN77331199', '42 Fakestreet, Nowhereville', 'Quuxington General Infirmary');

  it('removes whole values and their parts, case-insensitively', () => {
    expect(clean('Brain MRI of Zyxwvut Qwerty', set)).toEqual({ text: 'Brain MRI of', removed: 2 });
    expect(clean('ZYXWVUT^QWERTY follow-up', set).text).toBe('follow-up');
    expect(clean('qwerty zyxwvut', set).text).toBe('');
    expect(clean('seen at quuxington general infirmary', set).text).toBe('seen at');
    expect(clean('lives at 42 fakestreet, nowhereville', set).text).toBe('lives at');
    expect(clean('id mrn77331199 ok', set).text).toBe('id ok');
  });

  it('matches whole words only: longer words that contain a name survive', () => {
    expect(clean('Qwertyish keyboard', set).text).toBe('Qwertyish keyboard');
    expect(clean('PreZyxwvut', set).text).toBe('PreZyxwvut');
    expect(clean('Zyxwvut2', set).text).toBe('Zyxwvut2');
    expect(clean('(Zyxwvut)', set).text).toBe('()');
    expect(clean('Zyxwvut, Qwerty.', set).text).toBe(', .');
  });

  it('ordinary words and common address words are never identifiers', () => {
    const s = ids('Saint Mary Hospital^Radiology Department', 'Van der Berg^Jan');
    expect(clean('hospital radiology department of the university', s).text).toBe('hospital radiology department of the university');
    expect(clean('Berg van Jan', s).text).toBe('van');
    // single letters (initials) are not removed on their own
    expect(clean('T1 A P', ids('Doe^A^P')).text).toBe('T1 A P');
  });

  it('regular-expression characters in identifiers are taken literally', () => {
    const s = ids('O.K.(x)+', 'a|b');
    expect(clean('value O.K.(x)+ here', s).text).toBe('value here');
    expect(clean('a or b', s).text).toBe('a or b');
  });

  it('non-Latin names are matched too', () => {
    expect(clean('Müller', ids('Müller^Jörg')).text).toBe('');
    expect(clean('Patient Ærøskøbing', ids('Ærøskøbing^Zoë')).text).toBe('Patient');
    expect(clean('Patient 小東 seen', ids('Wang^XiaoDong=王^小東')).text).toBe('Patient seen');
  });

  it('a one-character CJK family name is a name, not an initial', () => {
    // 王 (Wang) is a complete family name; dropping parts shorter than 2 characters is meant for
    // Latin initials and leaves Chinese, Japanese and Korean surnames in cleaned text.
    expect(clean('Patient 王 小東 seen', ids('Wang^XiaoDong=王^小東')).text).toBe('Patient seen');
  });

  it('property: a planted identifier never survives, whatever surrounds it', () => {
    const word = fc.stringMatching(/^[A-Za-z]{3,12}$/);
    fc.assert(
      fc.property(word, fc.array(fc.constantFrom('brain', 'axial', 'T2', 'with', 'contrast', '3mm', 'FLAIR', '-', ',', '(', ')'), { maxLength: 6 }), fc.nat(6), (name, filler, at) => {
        fc.pre(!['the', 'of', 'and', 'de', 'la', 'le', 'du', 'van', 'von', 'der', 'mr', 'mrs', 'ms', 'dr', 'md', 'phd', 'st', 'rd', 'ave', 'street', 'road', 'hospital', 'clinic', 'center', 'centre', 'university', 'medical', 'department', 'dept', 'radiology', 'imaging', 'institute', 'for', 'in', 'on', 'at', 'ct', 'mri', 'pet', 'us'].includes(name.toLowerCase()));
        const words: string[] = [...filler];
        words.splice(Math.min(at, words.length), 0, name);
        const out = clean(words.join(' '), ids(`${name}^Given`)).text;
        expect(out.toLowerCase().split(/[^a-z]+/)).not.toContain(name.toLowerCase());
      }),
      { numRuns: 1000 },
    );
  });
});

describe('patterns', () => {
  it.each([
    ['ISO date', 'seen 2021-03-04 ok'],
    ['slashed date', 'seen 04/03/2021 ok'],
    ['dotted date', 'seen 04.03.2021 ok'],
    ['short date', 'seen 3/4/21 ok'],
    ['year-first slashed', 'seen 2021/03/04 ok'],
    ['DICOM date', 'seen 20210304 ok'],
    ['day month year', 'seen 4 March 2021 ok'],
    ['abbreviated month', 'seen 04 Mar 2021 ok'],
    ['month day, year', 'seen March 4, 2021 ok'],
    ['ordinal month day', 'seen March 4th, 2021 ok'],
    ['DD-MMM-YYYY', 'seen 04-Mar-2021 ok'],
    ['ordinal day month year', 'seen 4th March 2021 ok'],
  ])('removes a date: %s', (_, input) => {
    expect(clean(input).text).toBe('seen ok');
  });

  it.each([
    ['North American with area code in parentheses', 'call +1 (555) 123-4567 now'],
    ['area code in parentheses', 'call (555) 123-4567 now'],
    ['dashed', 'call 555-123-4567 now'],
    ['dotted', 'call 555.123.4567 now'],
    ['international with spaces', 'call +44 20 7946 0958 now'],
    ['international dashed', 'call +1-555-123-4567 now'],
    ['European', 'call 030 1234567 now'],
  ])('removes a phone number: %s', (_, input) => {
    expect(clean(input).text).toBe('call now');
  });

  it('removes e-mail addresses', () => {
    expect(clean('mail jane.doe@example.org please').text).toBe('mail please');
    expect(clean('mail J_Doe+rad@mail.hospital-x.co.uk').text).toBe('mail');
  });

  it('removes long digit runs (record, accession, social security numbers)', () => {
    expect(clean('MRN 77331199').text).toBe('MRN');
    expect(clean('acc 12345 done').text).toBe('acc done');
    expect(clean('ssn 078051120').text).toBe('ssn');
  });

  it('counts what it removed and tidies the spacing', () => {
    const r = clean('  a  2021-03-04   b   jane@x.org  c ');
    expect(r.removed).toBe(2);
    expect(r.text).toBe('a b c');
    expect(clean('nothing to do  here')).toEqual({ text: 'nothing to do  here', removed: 0 });
  });
});

describe('ordinary clinical text survives', () => {
  it.each([
    'Chest CT with contrast',
    'T2 FLAIR axial 3mm',
    'Dose 120 kVp 250 mAs',
    'Series 12 of 240',
    'MR BRAIN W/WO',
    'Slice thickness 2.5 mm, pitch 0.984',
    'DWI b=1000',
    'Liver segment 4 lesion 12 x 15 mm',
    'PET/CT whole body',
    'Left knee, 3 views',
  ])('%s', (input) => {
    expect(clean(input, ids('Zyxwvut^Qwerty', 'MRN77331199'))).toEqual({ text: input, removed: 0 });
  });

  it('property: text of letters and short numbers with no identifiers is unchanged', () => {
    // Numbers of at most two digits: three groups of 2-4 digits read as a phone number by design.
    const token = fc.oneof(fc.stringMatching(/^[A-Za-z]{1,10}$/), fc.integer({ min: 0, max: 99 }).map(String), fc.constantFrom('mm', 'x', '/', '-', ','));
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 10 }), (tokens) => {
        const t = tokens.join(' ');
        const monthNear = /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b/i.test(t);
        fc.pre(!monthNear); // "4 March 21" really is a date
        expect(clean(t, ids('Zyxwvut^Qwerty'))).toEqual({ text: t, removed: 0 });
      }),
      { numRuns: 1000 },
    );
  });
});
