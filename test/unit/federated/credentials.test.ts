/**
 * The consortium's TLS material: files, modes, certificate contents (issuer, purposes, names),
 * and the refusals of `loadPartyCredentials`.
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commonNameOf, createCredentials, CredentialsError, loadPartyCredentials, type ConsortiumFiles } from '../../../src/federated/credentials.js';

let work: string;
let made: ConsortiumFiles;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'radanon-fl-cred-'));
  made = await createCredentials(join(work, 'consortium'), { sites: ['hospital-a', 'hospital-b', 'hospital-c'], hosts: ['fl.example.org', '10.1.2.3'] });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('createCredentials', () => {
  it('writes an authority, a coordinator and one folder per site', () => {
    const dir = join(work, 'consortium');
    expect(readdirSync(dir).sort()).toEqual(['ca', 'coordinator', 'hospital-a', 'hospital-b', 'hospital-c']);
    for (const party of ['coordinator', 'hospital-a', 'hospital-b', 'hospital-c']) {
      expect(readdirSync(join(dir, party)).filter((n) => n.endsWith('.pem')).sort()).toEqual(['ca.pem', 'cert.pem', 'key.pem']);
    }
    expect(made.sites.map((s) => s.name)).toEqual(['hospital-a', 'hospital-b', 'hospital-c']);
    // No temporary file is left behind by the atomic writes.
    const all = [dir, ...readdirSync(dir).map((n) => join(dir, n))].flatMap((d) => readdirSync(d).map((n) => join(d, n)));
    expect(all.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes private keys readable by the owner only, certificates readable by all', () => {
    for (const key of [made.authority.key, made.coordinator.key, ...made.sites.map((s) => s.key)]) {
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    }
    expect(statSync(made.coordinator.cert).mode & 0o777).toBe(0o644);
  });

  it('issues certificates signed by the authority, one purpose each, with the coordinator reachable by name and address', () => {
    const ca = new X509Certificate(readFileSync(made.authority.cert));
    expect(ca.ca).toBe(true);
    const coordinator = new X509Certificate(readFileSync(made.coordinator.cert));
    expect(coordinator.verify(ca.publicKey)).toBe(true);
    expect(coordinator.checkIssued(ca)).toBe(true);
    expect(coordinator.ca).toBe(false);
    expect(coordinator.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth only
    expect(coordinator.checkHost('localhost')).toBe('localhost');
    expect(coordinator.checkHost('fl.example.org')).toBe('fl.example.org');
    expect(coordinator.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(coordinator.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(coordinator.checkHost('evil.example.org')).toBeUndefined();
    expect(coordinator.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    for (const site of made.sites) {
      const cert = new X509Certificate(readFileSync(site.cert));
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth only
      expect(commonNameOf(readFileSync(site.cert))).toBe(site.name);
      expect(cert.checkHost('localhost')).toBeUndefined();
      // Each site's folder carries the same authority certificate.
      expect(readFileSync(site.ca, 'utf8')).toBe(readFileSync(made.authority.cert, 'utf8'));
    }
  });

  it('names sites site-1 … site-n when given a number, and refuses bad names and re-issuing', async () => {
    const numbered = await createCredentials(join(work, 'numbered'), { sites: 2 });
    expect(numbered.sites.map((s) => s.name)).toEqual(['site-1', 'site-2']);
    await expect(createCredentials(join(work, 'numbered'), { sites: 2 })).rejects.toThrow(/already holds a consortium authority/);
    await expect(createCredentials(join(work, 'bad1'), { sites: ['../escape'] })).rejects.toThrow(CredentialsError);
    await expect(createCredentials(join(work, 'bad2'), { sites: ['coordinator'] })).rejects.toThrow(/reserved/);
    await expect(createCredentials(join(work, 'bad3'), { sites: ['a', 'A'] })).rejects.toThrow(/twice/);
    await expect(createCredentials(join(work, 'bad4'), { sites: 0 })).rejects.toThrow(/number of sites/);
    expect(existsSync(join(work, 'bad1'))).toBe(false);
  });
});

describe('loadPartyCredentials', () => {
  it("loads a site's folder and names it by its certificate", () => {
    const tls = loadPartyCredentials(made.sites[1]!.dir);
    expect(tls.name).toBe('hospital-b');
    expect(tls.key.toString()).toContain('PRIVATE KEY');
    expect(tls.sites).toBeUndefined();
  });

  it('loads the coordinator from the consortium folder, with the list of sites', () => {
    const tls = loadPartyCredentials(join(work, 'consortium'));
    expect(tls.name).toBe('coordinator');
    expect(tls.sites).toEqual(['hospital-a', 'hospital-b', 'hospital-c']);
  });

  it('refuses a key others can read, and a folder without credentials', () => {
    const key = made.sites[2]!.key;
    chmodSync(key, 0o644);
    try {
      expect(() => loadPartyCredentials(made.sites[2]!.dir)).toThrow(/readable by other users.*chmod 600/);
    } finally {
      chmodSync(key, 0o600);
    }
    expect(() => loadPartyCredentials(join(work, 'nowhere'))).toThrow(/cannot read the consortium authority certificate/);
  });

  it("refuses a folder whose certificate another consortium's authority issued", async () => {
    const other = await createCredentials(join(work, 'other'), { sites: 1 });
    copyFileSync(other.sites[0]!.ca, made.sites[0]!.ca);
    try {
      expect(() => loadPartyCredentials(made.sites[0]!.dir)).toThrow(/was not issued by the authority .* different consortiums/);
    } finally {
      copyFileSync(made.authority.cert, made.sites[0]!.ca);
    }
    expect(loadPartyCredentials(made.sites[0]!.dir).name).toBe('hospital-a');
  });
});
