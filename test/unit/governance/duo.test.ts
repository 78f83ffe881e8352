import { describe, expect, it } from 'vitest';
import { checkConsentCode, DUO, DUO_TERMS, duoCodeOf, duoLabel, isDuoId, parseDuoCode, purposePermitted } from '../../../src/governance/duo.js';

const permitted = (consent: string[], codes: string[], extra: { country?: string; institution?: string; projectId?: string } = {}, context = {}) =>
  purposePermitted(consent, { codes, ...extra }, context);

describe('DUO codes', () => {
  it('accepts ids, underscore ids, IRIs and shorthands, with values', () => {
    expect(duoCodeOf('GRU')).toBe('DUO:0000042');
    expect(duoCodeOf('gru')).toBe('DUO:0000042');
    expect(duoCodeOf('DUO:0000042')).toBe('DUO:0000042');
    expect(duoCodeOf('DUO_0000006')).toBe('DUO:0000006');
    expect(duoCodeOf('http://purl.obolibrary.org/obo/DUO_0000007')).toBe('DUO:0000007');
    expect(duoCodeOf('DS(MONDO:0005015)')).toBe('DUO:0000007(MONDO:0005015)');
    expect(duoCodeOf('GS( DE , FR ,DE)')).toBe('DUO:0000022(DE,FR)');
    expect(parseDuoCode('TS(24)')).toEqual({ id: DUO.TS, qualifiers: ['24'] });
  });

  it('refuses what is not a DUO term', () => {
    for (const bad of ['DUO:0000999', 'DUO:42', 'XYZ', 'GRU()', 'DS(a;b)', '', 'GRU HMB']) expect(duoCodeOf(bad)).toBeUndefined();
    expect(isDuoId('DUO:0000042')).toBe(true);
    expect(isDuoId('GRU')).toBe(false);
  });

  it('labels codes from the ontology', () => {
    expect(duoLabel('DUO:0000006')).toBe('HMB (health or medical or biomedical research)');
    expect(DUO_TERMS.find((t) => t.shorthand === 'NPOA')?.label).toBe('population origins or ancestry research prohibited');
  });

  it('requires values where DUO terms need one, and refuses the grouping terms', () => {
    expect(checkConsentCode('DS')).toEqual({ ok: false, reason: expect.stringContaining('DS(MONDO:0005015)') });
    expect(checkConsentCode('TS(two years)')).toMatchObject({ ok: false });
    expect(checkConsentCode('DUO:0000001')).toMatchObject({ ok: false, reason: expect.stringContaining('grouping term') });
    expect(checkConsentCode('HMB')).toEqual({ ok: true, code: DUO.HMB });
  });
});

describe('purposePermitted', () => {
  it('follows the permission hierarchy NRES ⊇ GRU ⊇ HMB ⊇ DS', () => {
    const table: [string[], string[], boolean][] = [
      [['NRES'], ['CC'], true],
      [['GRU'], ['HMB'], true],
      [['GRU'], ['DS(MONDO:0005015)'], true],
      [['GRU'], ['POA'], true],
      [['GRU'], ['CC'], false],
      [['HMB'], ['HMB'], true],
      [['HMB'], ['DS(MONDO:0005015)'], true],
      [['HMB'], ['GRU'], false],
      [['HMB'], ['POA'], false],
      [['DS(MONDO:0005015)'], ['DS(MONDO:0005015)'], true],
      [['DS(MONDO:0005015)'], ['DS(MONDO:0004992)'], false],
      [['DS(MONDO:0005015)'], ['HMB'], false],
      [['POA'], ['POA'], true],
      [['POA'], ['HMB'], false],
      [['CC'], ['CC'], true],
    ];
    for (const [consent, purpose, expected] of table) {
      expect(permitted(consent, purpose).permitted, `${consent} for ${purpose}`).toBe(expected);
    }
    expect(permitted(['HMB'], ['GRU']).reason).toMatch(/does not cover the purpose GRU/);
  });

  it('needs a permitted use on both sides', () => {
    expect(permitted(['NCU'], ['HMB', 'NCU'])).toMatchObject({ permitted: false, reason: expect.stringMatching(/consent names no permitted use/) });
    expect(permitted(['GRU'], ['NCU'])).toMatchObject({ permitted: false, reason: expect.stringMatching(/project purpose names no permitted use/) });
  });

  it('treats modifiers as conditions the project must declare', () => {
    expect(permitted(['GRU', 'NPOA'], ['POA']).reason).toMatch(/NPOA/);
    expect(permitted(['GRU', 'NPOA'], ['HMB']).permitted).toBe(true);
    expect(permitted(['HMB', 'NCU'], ['HMB']).reason).toMatch(/non-commercial use \(NCU\)/);
    expect(permitted(['HMB', 'NCU'], ['HMB', 'NCU']).permitted).toBe(true);
    expect(permitted(['HMB', 'NPU'], ['HMB', 'NCU']).permitted).toBe(false);
    expect(permitted(['HMB', 'NPUNCU'], ['HMB', 'NPU']).permitted).toBe(false);
    expect(permitted(['HMB', 'NPUNCU'], ['HMB', 'NPU', 'NCU']).permitted).toBe(true);
    expect(permitted(['HMB', 'NCU'], ['HMB', 'NPUNCU']).permitted).toBe(true);
    for (const m of ['IRB', 'PUB', 'COL', 'RTN', 'MOR', 'US', 'NMDS', 'GSO']) {
      expect(permitted(['GRU', m], ['HMB']).permitted, m).toBe(false);
      expect(permitted(['GRU', m], ['HMB', m]).permitted, m).toBe(true);
    }
  });

  it('checks regions, institutions, projects and research types', () => {
    expect(permitted(['GRU', 'GS(EU)'], ['HMB'], { country: 'DE' }).permitted).toBe(true);
    expect(permitted(['GRU', 'GS(EU)'], ['HMB'], { country: 'US' }).reason).toMatch(/restricts use to EU \(GS\); the project is in US/);
    expect(permitted(['GRU', 'GS(EEA)'], ['HMB'], { country: 'NO' }).permitted).toBe(true);
    expect(permitted(['GRU', 'GS(US,CA)'], ['HMB'], { country: 'CA' }).permitted).toBe(true);
    expect(permitted(['GRU', 'GS(US)'], ['HMB']).reason).toMatch(/states no country/);
    expect(permitted(['GRU', 'IS(Charité)'], ['HMB'], { institution: 'charité' }).permitted).toBe(true);
    expect(permitted(['GRU', 'IS(Charité)'], ['HMB'], { institution: 'MGH' }).permitted).toBe(false);
    expect(permitted(['GRU', 'PS(p-1)'], ['HMB'], { projectId: 'p-1' }).permitted).toBe(true);
    expect(permitted(['GRU', 'PS(p-1)'], ['HMB'], { projectId: 'p-2' }).permitted).toBe(false);
    expect(permitted(['GRU', 'RS(imaging)'], ['HMB', 'RS(imaging)']).permitted).toBe(true);
    expect(permitted(['GRU', 'RS(imaging)'], ['HMB']).permitted).toBe(false);
  });

  it('ends a time-limited consent after its months', () => {
    const consentDate = '2026-01-15T00:00:00.000Z';
    expect(permitted(['GRU', 'TS(12)'], ['HMB'], {}, { consentDate, at: new Date('2027-01-14T23:59:59Z') }).permitted).toBe(true);
    expect(permitted(['GRU', 'TS(12)'], ['HMB'], {}, { consentDate, at: new Date('2027-01-15T00:00:00Z') }).reason).toMatch(/ended on 2027-01-15/);
    expect(permitted(['GRU', 'TS(12)'], ['HMB']).reason).toMatch(/date is not known/);
  });
});
