/**
 * The consortium's TLS material: one certificate authority, a certificate for the coordinator
 * and one for each site, for mutual TLS (RFC 8446 §4.4.2: the server asks for and checks the
 * client's certificate). A site is known by its certificate's Common Name; nobody holds a
 * password or token that could be replayed.
 *
 * Layout written by `createCredentials(dir, …)`:
 *
 *   <dir>/ca/ca.pem, key.pem            the authority (keep its key offline once issued)
 *   <dir>/coordinator/ca.pem, cert.pem, key.pem, consortium.json
 *   <dir>/<site>/ca.pem, cert.pem, key.pem
 *
 * Keys are ECDSA P-256 (FIPS 186-4), made with Node's WebCrypto; certificates are made with
 * @peculiar/x509, which needs the reflect-metadata polyfill loaded before it.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { writeReplacing } from '../pipeline/atomic.js';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** Missing, unreadable or unsafe credentials, or a bad request to create them. */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

export interface CredentialsOptions {
  /** A number of sites (named site-1 … site-n) or their names. */
  readonly sites: number | readonly string[];
  /** Host names or IP addresses the coordinator is reached at, besides localhost and 127.0.0.1. */
  readonly hosts?: readonly string[];
  /** Validity of the certificates in days (default 825, the CA/Browser Forum's former limit). */
  readonly validDays?: number;
}

/** The three files one party needs, and its name (the certificate's Common Name). */
export interface PartyFiles {
  readonly name: string;
  readonly dir: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface ConsortiumFiles {
  readonly dir: string;
  /** The authority's certificate and key. */
  readonly authority: { readonly cert: string; readonly key: string };
  readonly coordinator: PartyFiles;
  readonly sites: readonly PartyFiles[];
}

/** What a party loads to speak TLS: PEM bytes and its own name. */
export interface TlsMaterial {
  readonly name: string;
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Names of the sites the authority issued certificates for (coordinator only, when recorded). */
  readonly sites?: readonly string[];
}

export const COORDINATOR_NAME = 'coordinator';
const RESERVED_NAMES = new Set([COORDINATOR_NAME, 'ca']);
/** Site names become folder names and certificate Common Names: keep them plain. */
const SITE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ORGANISATION = 'radanon federated consortium';
const KEY_ALGORITHM: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

export function validateSiteName(name: string): void {
  if (!SITE_NAME.test(name) || name.includes('..')) {
    throw new CredentialsError(`site name "${name}" must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  if (RESERVED_NAMES.has(name.toLowerCase())) throw new CredentialsError(`site name "${name}" is reserved`);
}

function siteNames(sites: number | readonly string[]): string[] {
  if (typeof sites === 'number') {
    if (!Number.isInteger(sites) || sites < 1 || sites > 10_000) throw new CredentialsError(`the number of sites must be an integer from 1 to 10000, got ${sites}`);
    return Array.from({ length: sites }, (_, i) => `site-${i + 1}`);
  }
  if (sites.length === 0) throw new CredentialsError('at least one site name is needed');
  const seen = new Set<string>();
  for (const name of sites) {
    validateSiteName(name);
    if (seen.has(name.toLowerCase())) throw new CredentialsError(`site name "${name}" is given twice`);
    seen.add(name.toLowerCase());
  }
  return [...sites];
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

function alternativeNames(hosts: readonly string[]): x509.JsonGeneralName[] {
  const all = ['localhost', '127.0.0.1', '::1', ...hosts];
  const unique = [...new Set(all.map((h) => h.trim()).filter((h) => h !== ''))];
  return unique.map((h) => (IPV4.test(h) || h.includes(':') ? { type: 'ip', value: h } : { type: 'dns', value: h }));
}

function serial(): string {
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; the high bit cleared keeps it positive.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}


interface Issued {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

async function issue(authority: Issued, commonName: string, usage: 'server' | 'client', notBefore: Date, notAfter: Date, hosts: readonly string[]): Promise<Issued> {
  const keys = await keyPair();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    // One purpose per certificate: a site's certificate cannot serve as the coordinator's.
    new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(authority.keys.publicKey),
  ];
  if (usage === 'server') extensions.push(new x509.SubjectAlternativeNameExtension(alternativeNames(hosts)));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${commonName}, O=${ORGANISATION}`,
    issuer: authority.cert.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: authority.keys.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return { cert, keys };
}

async function writeParty(dir: string, name: string, caPem: string, party: Issued): Promise<PartyFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files: PartyFiles = { name, dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  await writeReplacing(files.ca, caPem, { mode: 0o644 });
  await writeReplacing(files.cert, party.cert.toString('pem') + '\n', { mode: 0o644 });
  await writeReplacing(files.key, (await privateKeyPem(party.keys.privateKey)) + '\n', { mode: 0o600 });
  return files;
}

/**
 * Makes a consortium's authority, the coordinator's certificate (with subject alternative
 * names for localhost, 127.0.0.1, ::1 and `hosts`) and one certificate and key per site.
 * Refuses to overwrite an existing authority: re-issuing would lock every site out.
 */
export async function createCredentials(dir: string, options: CredentialsOptions): Promise<ConsortiumFiles> {
  const names = siteNames(options.sites);
  const validDays = options.validDays ?? 825;
  if (!Number.isInteger(validDays) || validDays < 1 || validDays > 3650) throw new CredentialsError(`validity must be 1 to 3650 days, got ${validDays}`);
  const caDir = join(dir, 'ca');
  if (existsSync(join(caDir, 'key.pem'))) throw new CredentialsError(`${caDir} already holds a consortium authority; choose an empty folder`);
  for (const name of [COORDINATOR_NAME, ...names]) {
    if (existsSync(join(dir, name, 'key.pem'))) throw new CredentialsError(`${join(dir, name)} already holds a key; choose an empty folder`);
  }

  const notBefore = new Date(Date.now() - 60_000); // tolerate small clock differences between machines
  const notAfter = new Date(notBefore.getTime() + validDays * 86_400_000);
  const caKeys = await keyPair();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=radanon consortium authority, O=${ORGANISATION}`,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const authority: Issued = { cert: caCert, keys: caKeys };
  const caPem = caCert.toString('pem') + '\n';

  await mkdir(caDir, { recursive: true, mode: 0o700 });
  const authorityFiles = { cert: join(caDir, 'ca.pem'), key: join(caDir, 'key.pem') };
  await writeReplacing(authorityFiles.cert, caPem, { mode: 0o644 });
  await writeReplacing(authorityFiles.key, (await privateKeyPem(caKeys.privateKey)) + '\n', { mode: 0o600 });

  const coordinatorIssued = await issue(authority, COORDINATOR_NAME, 'server', notBefore, notAfter, options.hosts ?? []);
  const coordinator = await writeParty(join(dir, COORDINATOR_NAME), COORDINATOR_NAME, caPem, coordinatorIssued);
  await writeReplacing(join(coordinator.dir, 'consortium.json'), JSON.stringify({ sites: names }, null, 2) + '\n', { mode: 0o644 });

  const sites: PartyFiles[] = [];
  for (const name of names) {
    sites.push(await writeParty(join(dir, name), name, caPem, await issue(authority, name, 'client', notBefore, notAfter, [])));
  }
  return { dir, authority: authorityFiles, coordinator, sites };
}

function readOrThrow(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CredentialsError(`cannot read the ${what} ${file}: ${(e as Error).message}`);
  }
}

/** The Common Name of a PEM certificate's subject. */
export function commonNameOf(certPem: Buffer | string, file = 'certificate'): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (e) {
    throw new CredentialsError(`${file} is not a PEM certificate: ${(e as Error).message}`);
  }
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1];
  if (cn === undefined || cn === '') throw new CredentialsError(`${file} has no Common Name in its subject`);
  return cn;
}

/**
 * Loads one party's folder (ca.pem, cert.pem, key.pem). For the coordinator, `dir` may be the
 * consortium folder: its `coordinator/` sub-folder is used. A key readable by group or others
 * is refused, as ssh refuses one.
 */
export function loadPartyCredentials(dir: string): TlsMaterial {
  let folder = dir;
  if (!existsSync(join(folder, 'cert.pem')) && existsSync(join(folder, COORDINATOR_NAME, 'cert.pem'))) folder = join(folder, COORDINATOR_NAME);
  const keyFile = join(folder, 'key.pem');
  const ca = readOrThrow(join(folder, 'ca.pem'), 'consortium authority certificate');
  const cert = readOrThrow(join(folder, 'cert.pem'), 'certificate');
  const key = readOrThrow(keyFile, 'private key');
  if (process.platform !== 'win32' && (statSync(keyFile).mode & 0o077) !== 0) {
    throw new CredentialsError(`${keyFile} is readable by other users (mode ${(statSync(keyFile).mode & 0o777).toString(8)}); run chmod 600 on it`);
  }
  const name = commonNameOf(cert, join(folder, 'cert.pem'));
  // A certificate from another consortium would only be refused by the other side, after
  // retries: say so here, plainly.
  const authority = new X509Certificate(ca);
  if (!new X509Certificate(cert).verify(authority.publicKey)) {
    throw new CredentialsError(`${join(folder, 'cert.pem')} was not issued by the authority in ${join(folder, 'ca.pem')}: the two come from different consortiums`);
  }
  const consortiumFile = join(folder, 'consortium.json');
  let sites: string[] | undefined;
  if (existsSync(consortiumFile)) {
    const parsed = JSON.parse(readOrThrow(consortiumFile, 'consortium list').toString('utf8')) as { sites?: unknown };
    if (!Array.isArray(parsed.sites) || !parsed.sites.every((s): s is string => typeof s === 'string')) {
      throw new CredentialsError(`${consortiumFile} must hold {"sites": [names]}`);
    }
    sites = parsed.sites;
  }
  return sites ? { name, ca, cert, key, sites } : { name, ca, cert, key };
}
