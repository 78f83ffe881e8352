/**
 * Helpers for the DICOM conformance suite (dicom.test.ts): the shared corpus and its MANIFEST,
 * the de-identification round trip as the library performs it, an independent parser
 * (dicom-parser), tree walks over pairs of datasets, and dciodvfy.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import dicomParser from 'dicom-parser';
import dcmjs from 'dcmjs';
import { asciiValue, TRANSFER_SYNTAX, type Dataset, type DicomFile, type Element } from '../../src/dicom/dataset.js';
import { parseSpecificCharacterSet, type CharacterSets } from '../../src/dicom/charset.js';
import { readDicom } from '../../src/dicom/reader.js';
import { encodeDicomToBuffer } from '../../src/dicom/writer.js';
import { formatTag, Tags, type Tag } from '../../src/dicom/tag.js';
import { deidentify, type DeidPlan, type DeidResult } from '../../src/deid/engine.js';
import { resolveOptions } from '../../src/deid/plan.js';
import { Pseudonymizer, ProjectSecret, type PseudonymSettings } from '../../src/deid/pseudonyms.js';
import { EMPTY_RECIPE } from '../../src/deid/recipe.js';
import type { JobSettings } from '../../src/pipeline/settings.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, VERSION } from '../../src/version.js';

// ---------------------------------------------------------------------------------------------
// The corpus

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDataDir = process.env.RADANON_SHARED_DATA ?? path.resolve(repoRoot, '../shared/data');
export const dicomDir = path.join(sharedDataDir, 'dicom');
export const manifestPath = path.join(dicomDir, 'MANIFEST.tsv');

export interface ManifestEntry {
  /** Relative to the data folder, e.g. "pydicom/CT_small.dcm". */
  readonly path: string;
  /** The MANIFEST's transfer syntax column: "Explicit VR Little Endian (1.2.840.10008.1.2.1)", "no meta TS (implicit LE)", "n/a (not DICOM)". */
  readonly transferSyntaxText: string;
  /** The MANIFEST's free-text column. */
  readonly interesting: string;
  readonly malformed: boolean;
  /** Not one of the .json/.png/.txt/.tsv side files. */
  readonly dicom: boolean;
  /** Modality=… from the interesting column, when given. */
  readonly modality: string | undefined;
}

/** The MANIFEST rows; an empty list when the MANIFEST is missing (the suite then fails on purpose). */
export function readManifest(): ManifestEntry[] {
  if (!fs.existsSync(manifestPath)) return [];
  const [header, ...lines] = fs.readFileSync(manifestPath, 'utf8').trim().split('\n');
  const cols = header!.split('\t');
  const col = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`MANIFEST.tsv has no column "${name}"`);
    return i;
  };
  const [pathCol, tsCol, interestingCol] = [col('path'), col('transfer_syntax'), col('interesting')];
  return lines.map((line) => {
    const c = line.split('\t');
    const interesting = c[interestingCol] ?? '';
    const ts = c[tsCol] ?? '';
    return {
      path: c[pathCol]!,
      transferSyntaxText: ts,
      interesting,
      malformed: interesting.startsWith('MALFORMED'),
      dicom: !ts.startsWith('n/a'),
      modality: /(?:^|[|;]\s*)Modality=([A-Z0-9]+)/.exec(interesting)?.[1],
    };
  });
}

/**
 * The transfer syntax the MANIFEST states for a file: the UID in parentheses, or for files
 * without one ("no meta TS (explicit/BE)") the one the description implies.
 */
export function manifestTransferSyntax(entry: ManifestEntry): string | undefined {
  const stated = /\((\d+(?:\.\d+)+)\)\s*$/.exec(entry.transferSyntaxText)?.[1];
  if (stated) return stated;
  if (!entry.transferSyntaxText.startsWith('no meta')) return undefined;
  if (entry.transferSyntaxText.includes('BE')) return TRANSFER_SYNTAX.ExplicitVRBigEndian;
  if (entry.transferSyntaxText.includes('implicit')) return TRANSFER_SYNTAX.ImplicitVRLittleEndian;
  return TRANSFER_SYNTAX.ExplicitVRLittleEndian;
}

/** Every regular file under the data folder, relative to it, sorted. */
export function listDataFolder(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, d.name);
      if (d.isDirectory()) walk(abs);
      else if (d.isFile()) out.push(path.relative(dicomDir, abs).split(path.sep).join('/'));
    }
  };
  if (fs.existsSync(dicomDir)) walk(dicomDir);
  return out.sort();
}

export function readCorpusFile(rel: string): Buffer {
  return fs.readFileSync(path.join(dicomDir, rel));
}

// ---------------------------------------------------------------------------------------------
// The library round trip: readDicom → deidentify (radiomics preset) → encodeDicom → readDicom

export const SECRET = Buffer.from('radanon-conformance-suite-secret-A\n');
export const OTHER_SECRET = Buffer.from('radanon-conformance-suite-secret-B\n');
export const PSEUDONYM_SETTINGS: JobSettings['pseudonyms'] = { researchIdPrefix: 'RAD-', dateShiftDays: [-3650, -30] };

/** The plan the CLI builds by default (src/cli/options.ts planFromOptions with no flags). */
export const JOB_PLAN: JobSettings['plan'] = {
  options: resolveOptions('radiomics', {}),
  allowList: true,
  birthDate: 'remove',
  recipe: EMPTY_RECIPE,
  methodName: `radanon ${VERSION}`,
  implementation: { classUid: IMPLEMENTATION_CLASS_UID, versionName: IMPLEMENTATION_VERSION_NAME },
};

export const PLAN: DeidPlan = { ...JOB_PLAN, options: new Set(JOB_PLAN.options) };

export function pseudonymizer(secret: Uint8Array = SECRET): Pseudonymizer {
  const settings: PseudonymSettings = { researchIdPrefix: PSEUDONYM_SETTINGS.researchIdPrefix, dateShiftDays: PSEUDONYM_SETTINGS.dateShiftDays };
  return new Pseudonymizer(ProjectSecret.fromBytes(secret), settings);
}

export interface RoundTrip {
  readonly input: DicomFile;
  readonly result: DeidResult;
  /** The encoded output file. */
  readonly bytes: Buffer;
  /** The output read back with our reader. */
  readonly output: DicomFile;
}

/** Throws whatever the library throws; `stage` tells which step did. */
export function roundTrip(bytes: Uint8Array, pseudo: Pseudonymizer = pseudonymizer(), plan: DeidPlan = PLAN): RoundTrip {
  const input = readDicom(bytes);
  const result = deidentify(input, plan, pseudo);
  const out = encodeDicomToBuffer({ meta: result.meta, dataset: result.dataset, transferSyntax: input.transferSyntax });
  const output = readDicom(out);
  return { input, result, bytes: out, output };
}

// ---------------------------------------------------------------------------------------------
// Datasets

/** The pixel data elements a file may hold. */
export const PIXEL_TAGS: readonly { readonly tag: Tag; readonly key: string; readonly name: string }[] = [
  { tag: Tags.PixelData, key: 'x7fe00010', name: 'Pixel Data' },
  { tag: Tags.FloatPixelData, key: 'x7fe00008', name: 'Float Pixel Data' },
  { tag: Tags.DoubleFloatPixelData, key: 'x7fe00009', name: 'Double Float Pixel Data' },
];

export function charsetOf(ds: Dataset, inherited: CharacterSets): CharacterSets {
  const el = ds.get(Tags.SpecificCharacterSet);
  return el ? parseSpecificCharacterSet(asciiValue(el)) : inherited;
}

export interface PairVisit {
  /** "(0008,1140)[0](0008,1155)", as the engine names paths in its actions. */
  readonly path: string;
  readonly a: Element;
  readonly b: Element | undefined;
  readonly setsA: CharacterSets;
  readonly setsB: CharacterSets;
}

/**
 * Walks `a` and visits each element with the element at the same path in `b` (undefined when
 * `b` has none there). Sequence items are paired by index and descended into only where both
 * sides have the item: what a removed or emptied sequence held is not visited.
 */
export function walkPaired(a: Dataset, b: Dataset, visit: (v: PairVisit) => void, prefix = '', inheritedA = parseSpecificCharacterSet(undefined), inheritedB = inheritedA): void {
  const setsA = charsetOf(a, inheritedA);
  const setsB = charsetOf(b, inheritedB);
  for (const el of a.values()) {
    const p = prefix + formatTag(el.tag);
    const other = b.get(el.tag);
    visit({ path: p, a: el, b: other, setsA, setsB });
    if (el.kind === 'sequence' && other?.kind === 'sequence') {
      el.items.forEach((item, i) => {
        const otherItem = other.items[i];
        if (otherItem) walkPaired(item, otherItem, visit, `${p}[${i}]`, setsA, setsB);
      });
    }
  }
}

/** Every value element at every depth, with its path. */
export function walkValues(ds: Dataset, visit: (path: string, el: Element) => void, prefix = ''): void {
  for (const el of ds.values()) {
    const p = prefix + formatTag(el.tag);
    visit(p, el);
    if (el.kind === 'sequence') el.items.forEach((item, i) => walkValues(item, visit, `${p}[${i}]`));
  }
}

export function uidComponents(el: Element): string[] {
  if (el.kind !== 'value') return [];
  const text = asciiValue(el) ?? '';
  return text === '' ? [] : text.split('\\').map((u) => u.trim());
}

// ---------------------------------------------------------------------------------------------
// The independent parser

dcmjs.log.setLevel('error');
const dcmjsDictionary = dcmjs.data.DicomMetaDictionary.dictionary as Record<string, { vr?: string } | undefined>;

/** Implicit VR data carries no VR: dicom-parser is given one from dcmjs's dictionary (not ours). */
function dictionaryVr(t: string): string | undefined {
  return dcmjsDictionary[`(${t.slice(1, 5)},${t.slice(5, 9)})`.toUpperCase()]?.vr;
}

function inflateRaw(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = zlib.inflateRawSync(bytes.subarray(position));
  const out = new Uint8Array(position + inflated.length);
  out.set(bytes.subarray(0, position));
  out.set(inflated, position);
  return out;
}

/** dicom-parser's options: VRs for implicit data from dcmjs's dictionary, inflation of deflated data. */
export function independentOptions(transferSyntax?: string): dicomParser.ParseDicomOptions & { TransferSyntaxUID?: string } {
  const options: dicomParser.ParseDicomOptions & { TransferSyntaxUID?: string } = { vrCallback: dictionaryVr as never, inflater: inflateRaw as never };
  if (transferSyntax) options.TransferSyntaxUID = transferSyntax;
  return options;
}

/** dicom-parser throws strings and `{exception, dataSet}` objects: a readable message. */
export function independentErrorMessage(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  const ex = (e as { exception?: unknown }).exception;
  if (ex !== undefined) return independentErrorMessage(ex);
  return String(e);
}

/**
 * Parses with dicom-parser. `transferSyntax` is only used for files without file meta.
 * Throws an Error with dicom-parser's message.
 */
export function parseIndependent(bytes: Uint8Array, transferSyntax?: string): dicomParser.DataSet {
  const options = independentOptions(transferSyntax);
  try {
    return dicomParser.parseDicom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), options);
  } catch (e) {
    throw new Error(`dicom-parser: ${independentErrorMessage(e)}`);
  }
}

/** The value bytes dicom-parser located; for encapsulated data the whole item list up to and including the Sequence Delimitation Item. */
export function independentBytes(ds: dicomParser.DataSet, key: string): Uint8Array | undefined {
  const el = ds.elements[key];
  if (!el) return undefined;
  return ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
}

/** A string value as dicom-parser reads it (trailing padding removed). */
export function independentString(ds: dicomParser.DataSet, key: string): string | undefined {
  const el = ds.elements[key];
  if (!el) return undefined;
  if (el.length === 0) return '';
  return ds.string(key)?.replace(/\0+$/, '');
}

// ---------------------------------------------------------------------------------------------
// dciodvfy

export interface DciodvfyRun {
  /** Lines starting "Error - ", as printed. */
  readonly errors: readonly string[];
  /** Set when dciodvfy died (it aborts on some pixel data encodings): the signal and its last stderr line. */
  readonly crashed?: string;
  readonly output: string;
}

/** Whether the dciodvfy binary can be started (undefined) or why not. */
export function dciodvfyMissing(): string | undefined {
  const r = spawnSync('dciodvfy', [], { encoding: 'utf8', timeout: 30_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    return 'dciodvfy is not installed: this suite needs it (Debian/Ubuntu: apt-get install dicom3tools; CI installs it)';
  }
  if (r.error) return `dciodvfy cannot be started: ${r.error.message}`;
  return undefined;
}

export function runDciodvfy(file: string): Promise<DciodvfyRun> {
  return new Promise((resolve, reject) => {
    execFile('dciodvfy', [file], { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(dciodvfyMissing() ?? 'dciodvfy is not installed'));
        return;
      }
      const output = `${stdout}\n${stderr}`;
      const errors = output.split(/\r?\n/).filter((l) => l.startsWith('Error - ')).map((l) => l.trimEnd());
      const signal = error?.signal ?? undefined;
      if (signal) {
        const last = stderr.trim().split('\n').pop() ?? '';
        resolve({ errors, crashed: `${signal}: ${last.replace(/^dciodvfy:\s*/, '')}`, output });
      } else {
        resolve({ errors, output });
      }
    });
  });
}

/**
 * An error line without the values it quotes, so that input and output compare: element
 * values (= <...>), listed vector values, UIDs and counts are replaced by placeholders. What
 * is kept: the kind of error, the attribute (tag and keyword), the module, the attribute
 * Type, which value of a multi-valued attribute, and the offending character.
 */
export function normaliseDciodvfyError(line: string): string {
  return line
    .replace(/= <[^>]*>/g, '= <…>')
    .replace(/ values are \S+/g, ' values are …')
    .replace(/<\d+(?:\.\d+)+>/g, '<uid>')
    .replace(/"\d+(?:\.\d+)+"/g, '"uid"')
    .replace(/\b(expected|got|have|but|=|==|<=|>=) \d+\b/g, '$1 #')
    .replace(/\bReferencedSOPInstanceUID \d+(?:\.\d+)*/g, 'ReferencedSOPInstanceUID #');
}

/** Runs `fn` over `items` with at most `limit` running at once. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Re-encodes a deflated file as Explicit VR Little Endian (dciodvfy 2022 cannot read deflated data sets). */
export function inflatedCopy(file: DicomFile): Buffer {
  const meta = new Map(file.meta);
  const ts = TRANSFER_SYNTAX.ExplicitVRLittleEndian;
  const bytes = Buffer.from(ts + (ts.length & 1 ? '\0' : ''), 'latin1');
  meta.set(Tags.TransferSyntaxUID, { kind: 'value', tag: Tags.TransferSyntaxUID, vr: 'UI', bytes });
  return encodeDicomToBuffer({ meta, dataset: file.dataset, transferSyntax: { uid: ts, explicitVR: true, littleEndian: true, deflated: false, encapsulated: false } });
}
