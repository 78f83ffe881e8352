import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgreement } from '../../../src/governance/agreements.js';
import type { Db } from '../../../src/governance/db.js';
import { GovernanceError } from '../../../src/governance/errors.js';
import { ADEQUACY_DECISIONS, checkTransfer, transferBasis } from '../../../src/governance/transfers.js';
import { G2_SCHEMA, T0, actors, auditOf, sqliteFactory } from '../../support/governance/g2.js';

describe('transfer basis', () => {
  let db: Db;
  const a = actors();
  const ids: Record<string, string> = {};

  const provider = { name: 'Hospital A', role: 'provider' as const, country: 'DE' };
  const agreement = (name: string, recipient: Record<string, unknown>, transfer?: Record<string, unknown>) =>
    createAgreement(db, a.admin, { kind: 'data-use', title: name, parties: [provider, { name: `${name} recipient`, role: 'recipient', ...recipient }], permittedUses: ['HMB'], startsAt: '2026-01-01', endsAt: '2028-01-01', ...(transfer ? { transfer } : {}) } as never, { now: T0 });

  beforeAll(async () => {
    db = await sqliteFactory('g2-transfers')(G2_SCHEMA);
    ids.usCertified = (await agreement('us-dpf', { country: 'US', dpfCertified: true })).id;
    ids.usPlain = (await agreement('us-plain', { country: 'US' })).id;
    ids.usScc = (await agreement('us-scc', { country: 'US' }, { scc: { module: 1, tiaReference: 'TIA-2026-04', tiaDate: '2026-02-01' } })).id;
    ids.usSccLateTia = (await agreement('us-scc-late', { country: 'US' }, { scc: { module: 1, tiaReference: 'TIA-2026-09', tiaDate: '2026-09-01' } })).id;
    ids.usBcr = (await agreement('us-bcr', { country: 'US' }, { bcr: { approvalReference: 'BCR-C-2024-17', authority: 'Bavarian DPA (BayLDA)' } })).id;
    ids.usArt49 = (await agreement('us-49', { country: 'US' }, { derogation: { ground: 'explicit-consent', justification: 'each subject consented to this transfer to the US study centre' } })).id;
    ids.ch = (await agreement('ch', { country: 'CH' })).id;
    ids.fr = (await agreement('fr', { country: 'FR' })).id;
    ids.india = (await agreement('in', { country: 'IN' })).id;
    ids.uk = (await agreement('uk', { country: 'GB' })).id;
    ids.br = (await agreement('br', { country: 'BR' })).id;
    ids.caPipeda = (await agreement('ca-pipeda', { country: 'CA', pipedaCovered: true })).id;
    ids.caPublic = (await agreement('ca-public', { country: 'CA' })).id;
  });
  afterAll(async () => {
    await db?.close();
  });

  const at = T0;

  it('within a country and within the EU/EEA', async () => {
    expect(await transferBasis(db, { from: 'DE', to: 'DE', agreementId: ids.fr!, at })).toMatchObject({ lawful: true, basis: { kind: 'domestic' } });
    expect(await transferBasis(db, { from: 'DE', to: 'FR', agreementId: ids.fr!, at })).toMatchObject({ lawful: true, basis: { kind: 'within-eea' } });
    expect(await transferBasis(db, { from: 'DE', to: 'NO', at })).toMatchObject({ lawful: true, basis: { kind: 'within-eea' } });
  });

  it('adequacy: Switzerland, the UK (until its sunset), Brazil (from its decision), the US for DPF-certified recipients', async () => {
    expect(await transferBasis(db, { from: 'DE', to: 'CH', agreementId: ids.ch!, at })).toMatchObject({ lawful: true, basis: { kind: 'adequacy', decision: 'Commission Decision 2000/518/EC' } });
    expect(await transferBasis(db, { from: 'DE', to: 'GB', agreementId: ids.uk!, at })).toMatchObject({ lawful: true, basis: { kind: 'adequacy' } });
    const afterSunset = await transferBasis(db, { from: 'DE', to: 'GB', agreementId: ids.uk!, at: new Date('2032-01-01T00:00:00Z') });
    expect(afterSunset).toEqual({ lawful: false, reason: `EU → GB: no adequacy decision covers GB; no Standard Contractual Clauses, Binding Corporate Rules or Article 49 derogation on agreement ${ids.uk}` });
    expect(await transferBasis(db, { from: 'DE', to: 'BR', agreementId: ids.br!, at })).toMatchObject({ lawful: true, basis: { kind: 'adequacy' } });
    expect((await transferBasis(db, { from: 'DE', to: 'BR', agreementId: ids.br!, at: new Date('2025-06-01T00:00:00Z') })).lawful).toBe(false);
    const dpf = await transferBasis(db, { from: 'DE', to: 'US', agreementId: ids.usCertified!, at });
    expect(dpf).toMatchObject({ lawful: true, basis: { kind: 'adequacy', decision: 'Commission Implementing Decision (EU) 2023/1795 of 10 July 2023' } });
    expect(await transferBasis(db, { from: 'DE', to: 'CA', agreementId: ids.caPipeda!, at })).toMatchObject({ lawful: true, basis: { kind: 'adequacy' } });
    const caPublic = await transferBasis(db, { from: 'DE', to: 'CA', agreementId: ids.caPublic!, at });
    expect(caPublic).toEqual({ lawful: false, reason: `EU → CA to a recipient not subject to PIPEDA: no Standard Contractual Clauses, Binding Corporate Rules or Article 49 derogation on agreement ${ids.caPublic}` });
    // The shipped list names every decision the Commission lists.
    expect(ADEQUACY_DECISIONS.map((d) => d.country).sort()).toEqual(['AD', 'AR', 'BR', 'CA', 'CH', 'FO', 'GB', 'GG', 'IL', 'IM', 'JE', 'JP', 'KR', 'NZ', 'US', 'UY']);
  });

  it('EU → US to an uncertified recipient is refused without safeguards, naming what is missing', async () => {
    const r = await transferBasis(db, { from: 'DE', to: 'US', agreementId: ids.usPlain!, at });
    expect(r).toEqual({ lawful: false, reason: `EU → US to a recipient not certified under the EU–US Data Privacy Framework: no Standard Contractual Clauses, Binding Corporate Rules or Article 49 derogation on agreement ${ids.usPlain}` });
    const india = await transferBasis(db, { from: 'IT', to: 'IN', agreementId: ids.india!, at });
    expect(india).toEqual({ lawful: false, reason: `EU → IN: no adequacy decision covers IN; no Standard Contractual Clauses, Binding Corporate Rules or Article 49 derogation on agreement ${ids.india}` });
    const none = await transferBasis(db, { from: 'DE', to: 'IN', at });
    expect(none.lawful).toBe(false);
    // The recipient named must be in the destination.
    const wrongCountry = await transferBasis(db, { from: 'DE', to: 'JP', agreementId: ids.usScc!, at });
    expect(wrongCountry).toEqual({ lawful: false, reason: `EU → JP: agreement ${ids.usScc} has no recipient in JP` });
  });

  it('safeguards on the agreement: SCCs with a TIA, BCRs, an Article 49 derogation flagged as exceptional', async () => {
    expect(await transferBasis(db, { from: 'DE', to: 'US', agreementId: ids.usScc!, at })).toMatchObject({ lawful: true, basis: { kind: 'scc', module: 1, tiaReference: 'TIA-2026-04' } });
    const late = await transferBasis(db, { from: 'DE', to: 'US', agreementId: ids.usSccLateTia!, at });
    expect(late.lawful).toBe(false);
    expect(late.lawful === false && late.reason).toContain('transfer impact assessment TIA-2026-09');
    expect(await transferBasis(db, { from: 'DE', to: 'US', agreementId: ids.usBcr!, at })).toMatchObject({ lawful: true, basis: { kind: 'bcr', authority: 'Bavarian DPA (BayLDA)' } });
    expect(await transferBasis(db, { from: 'DE', to: 'US', agreementId: ids.usArt49!, at })).toMatchObject({ lawful: true, basis: { kind: 'derogation', ground: 'explicit-consent', exceptional: true } });
  });

  it('a transfer from outside the EU/EEA is not restricted by GDPR Chapter V', async () => {
    expect(await transferBasis(db, { from: 'US', to: 'DE', agreementId: ids.fr!, at })).toMatchObject({ lawful: true, basis: { kind: 'not-an-eu-export' } });
  });

  it('as an operation: role-checked, input-checked and audited', async () => {
    const r = await checkTransfer(db, a.dpo, { from: 'DE', to: 'US', agreementId: ids.usPlain! }, { now: at });
    expect(r.lawful).toBe(false);
    const entries = await auditOf(db, 'transfer.check', 'ok');
    expect(entries.at(-1)!.details).toMatchObject({ lawful: false, from: 'DE', to: 'US' });
    await expect(checkTransfer(db, a.researcher, { from: 'DE', to: 'US', agreementId: ids.usPlain! }, { now: at })).rejects.toMatchObject({ code: 'forbidden' });
    const bad = await checkTransfer(db, a.dpo, { from: 'Deutschland', to: 'US', agreementId: ids.usPlain! }, { now: at }).catch((e: GovernanceError) => e);
    expect(bad).toMatchObject({ code: 'invalid' });
    expect((bad as GovernanceError).message).toMatch(/^from:/);
  });
});
