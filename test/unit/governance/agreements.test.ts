import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agreementStatus, createAgreement, getAgreement, linkProject, listAgreements, signAgreement, terminateAgreement } from '../../../src/governance/agreements.js';
import type { Db } from '../../../src/governance/db.js';
import { G2_SCHEMA, T0, actors, auditOf, days, emptyFolder, projectInState, someDataset, sqliteFactory } from '../../support/governance/g2.js';
import { refusal } from '../../support/governance/refusals.js';

export const LDS = {
  permittedUsesAndDisclosures: 'Radiomics research on the limited data set, as described in the protocol',
  whoMayUseOrReceive: 'The named investigators of the recipient institution',
  noUseBeyondAgreement: true,
  safeguards: 'Encrypted enclave, named access, audit logging',
  reportViolations: true,
  agentsBound: true,
  noReidentificationOrContact: true,
} as const;

describe('agreements', () => {
  let db: Db;
  const a = actors();
  let projectId: string;

  beforeAll(async () => {
    db = await sqliteFactory('g2-agreements')(G2_SCHEMA);
    const dataset = await someDataset(db, a, emptyFolder('g2-agreements-data'));
    projectId = (await projectInState(db, a, [dataset], 'draft')).id;
  });
  afterAll(async () => {
    await db?.close();
  });

  const base = {
    kind: 'data-use' as const,
    title: 'DUA Example University – Hospital A',
    parties: [
      { name: 'Hospital A', role: 'provider' as const, country: 'DE' },
      { name: 'Example University', role: 'recipient' as const, country: 'US', dpfCertified: false },
    ],
    permittedUses: ['HMB'],
    startsAt: '2026-01-01',
    endsAt: '2027-01-01',
  };

  it('is active only when every party has signed and the time is inside its term', async () => {
    const ag = await createAgreement(db, a.admin, { ...base, projects: [projectId] }, { now: T0 });
    expect(ag.projects).toEqual([projectId]);
    expect(agreementStatus(ag, T0)).toEqual({ active: false, reasons: [`agreement ${ag.id} is not signed by Hospital A (provider)`, `agreement ${ag.id} is not signed by Example University (recipient)`] });
    const half = await signAgreement(db, a.dpo, { agreementId: ag.id, partyId: ag.parties[0]!.id, signedBy: 'Dr. Provider', signerRole: 'Medical Director' }, { now: T0 });
    expect(agreementStatus(half, T0).reasons).toEqual([`agreement ${ag.id} is not signed by Example University (recipient)`]);
    const signed = await signAgreement(db, a.admin, { agreementId: ag.id, partyId: ag.parties[1]!.id, signedBy: 'Prof. Recipient', signerRole: 'Dean of Research' }, { now: T0 });
    expect(agreementStatus(signed, T0)).toEqual({ active: true, reasons: [] });
    expect(agreementStatus(signed, new Date('2025-12-31T23:59:59Z')).reasons).toEqual([`agreement ${ag.id} starts on 2026-01-01T00:00:00.000Z`, `agreement ${ag.id} is signed by Hospital A only from ${T0.toISOString()}`, `agreement ${ag.id} is signed by Example University only from ${T0.toISOString()}`]);
    expect(agreementStatus(signed, new Date('2027-01-01T00:00:00Z')).reasons).toEqual([`agreement ${ag.id} ended on 2027-01-01T00:00:00.000Z`]);
    // A party signs once.
    expect((await refusal(signAgreement(db, a.dpo, { agreementId: ag.id, partyId: ag.parties[0]!.id, signedBy: 'again', signerRole: 'x' }, { now: T0 }))).code).toBe('conflict');
    // Termination ends it from then on.
    const ended = await terminateAgreement(db, a.dpo, { agreementId: ag.id, reason: 'breach reported' }, { now: days(10) });
    expect(agreementStatus(ended, days(9)).active).toBe(true);
    expect(agreementStatus(ended, days(10)).reasons).toEqual([`agreement ${ag.id} was terminated on ${days(10).toISOString()}`]);
    const read = await getAgreement(db, a.researcher, { agreementId: ag.id }, { now: days(11) });
    expect(read.status.active).toBe(false);
    expect((await auditOf(db, 'agreement.sign', 'ok')).length).toBe(2);
  });

  it('validates parties, uses, term, signatures and safeguards, naming the field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ parties: [base.parties[0]] }, /^parties: an agreement needs at least two parties/],
      [{ parties: [base.parties[0], { ...base.parties[1], role: 'provider' }] }, /^parties: a data-use agreement needs a recipient/],
      [{ parties: [base.parties[0], { ...base.parties[1], country: 'FR', dpfCertified: true }] }, /^parties\[1\]\.dpfCertified:/],
      [{ parties: [base.parties[0], { ...base.parties[1], country: 'Germany' }] }, /^parties\[1\]\.country:/],
      [{ permittedUses: ['ANY'] }, /^permittedUses\[0\]:/],
      [{ endsAt: '2025-01-01' }, /^endsAt: must be after startsAt/],
      [{ startsAt: '01/01/2026' }, /^startsAt:/],
      [{ kind: 'handshake' }, /^kind:/],
      [{ transfer: { scc: { module: 5, tiaReference: 'TIA-1', tiaDate: '2026-01-01' } } }, /^transfer\.scc\.module:/],
      [{ transfer: { scc: { module: 1, tiaDate: '2026-01-01' } } }, /^transfer\.scc\.tiaReference:/],
      [{ transfer: { derogation: { ground: 'convenience', justification: 'x' } } }, /^transfer\.derogation\.ground:/],
    ];
    for (const [change, pattern] of cases) {
      const e = await refusal(createAgreement(db, a.admin, { ...base, ...change } as never, { now: T0 }));
      expect(e.code).toBe('invalid');
      expect(e.message).toMatch(pattern);
    }
    const ag = await createAgreement(db, a.admin, base, { now: T0 });
    expect((await refusal(signAgreement(db, a.dpo, { agreementId: ag.id, partyId: ag.parties[0]!.id, signedBy: 'x', signerRole: 'y', signedAt: days(1).toISOString() }, { now: T0 }))).message).toMatch(/^signedAt: is in the future/);
    expect((await refusal(signAgreement(db, a.dpo, { agreementId: ag.id, partyId: '00000000-0000-4000-8000-000000000000', signedBy: 'x', signerRole: 'y' }, { now: T0 }))).message).toMatch(/^partyId:/);
    expect((await refusal(createAgreement(db, a.curatorEu, base, { now: T0 }))).code).toBe('forbidden');
    expect((await refusal(createAgreement(db, a.researcher, base, { now: T0 }))).code).toBe('forbidden');
  });

  it('a HIPAA limited data set needs every 164.514(e)(4)(ii) element', async () => {
    const ok = await createAgreement(db, a.admin, { ...base, limitedDataSet: LDS }, { now: T0 });
    expect(ok.limitedDataSet).toEqual(LDS);
    for (const [key, citation] of [
      ['permittedUsesAndDisclosures', '(A)'],
      ['whoMayUseOrReceive', '(B)'],
      ['noUseBeyondAgreement', '(C)(1)'],
      ['safeguards', '(C)(2)'],
      ['reportViolations', '(C)(3)'],
      ['agentsBound', '(C)(4)'],
      ['noReidentificationOrContact', '(C)(5)'],
    ] as const) {
      const { [key]: _dropped, ...rest } = LDS;
      const e = await refusal(createAgreement(db, a.admin, { ...base, limitedDataSet: rest } as never, { now: T0 }));
      expect(e.message.startsWith(`limitedDataSet.${key}:`), e.message).toBe(true);
      expect(e.message).toContain(`164.514(e)(4)(ii)${citation}`);
    }
    const promisedNot = await refusal(createAgreement(db, a.admin, { ...base, limitedDataSet: { ...LDS, noReidentificationOrContact: false } } as never, { now: T0 }));
    expect(promisedNot.message).toMatch(/^limitedDataSet\.noReidentificationOrContact: must be true/);
    const sharing = await refusal(createAgreement(db, a.admin, { ...base, kind: 'data-sharing', parties: [{ name: 'A', role: 'member', country: 'DE' }, { name: 'B', role: 'member', country: 'FR' }], limitedDataSet: LDS }, { now: T0 }));
    expect(sharing.message).toMatch(/^limitedDataSet:/);
  });

  it('links projects; researchers see only agreements of their projects', async () => {
    const ag = await createAgreement(db, a.admin, base, { now: T0 });
    expect((await refusal(getAgreement(db, a.researcher, { agreementId: ag.id }, { now: T0 }))).code).toBe('not-found');
    await linkProject(db, a.dpo, { agreementId: ag.id, projectId }, { now: T0 });
    expect((await getAgreement(db, a.researcher, { agreementId: ag.id }, { now: T0 })).projects).toEqual([projectId]);
    expect((await refusal(linkProject(db, a.dpo, { agreementId: ag.id, projectId }, { now: T0 }))).code).toBe('conflict');
    expect((await listAgreements(db, a.otherResearcher, {}, { now: T0 })).map((x) => x.id)).not.toContain(ag.id);
    expect((await listAgreements(db, a.researcher, { projectId }, { now: T0 })).map((x) => x.id)).toContain(ag.id);
  });
});
