/** Turns command-line options into the library's settings; every rule lives in the library. */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { OPTION_NAMES, type OptionName } from '../deid/profile.js';
import { isPresetName, loadLookupTable, loadRecipe, optionFlag, parseDayRange, resolveOptions, PRESETS } from '../deid/plan.js';
import type { JobSettings } from '../pipeline/settings.js';
import { UsageError, type DefaceSettings } from '../pipeline/run.js';
import { TEMPLATE_NAMES, type TemplateName } from '../volume/deface/templates.js';
import { DEFAULT_PIXEL_SETTINGS, type PixelSettings } from '../pixels/settings.js';
import type { Redaction } from '../pixels/types.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, VERSION } from '../version.js';

const OPTION_TITLES: Record<OptionName, string> = {
  retainSafePrivate: 'Retain Safe Private',
  retainUIDs: 'Retain UIDs',
  retainDeviceIdentity: 'Retain Device Identity',
  retainInstitutionIdentity: 'Retain Institution Identity',
  retainPatientCharacteristics: 'Retain Patient Characteristics',
  retainLongitudinalFullDates: 'Retain Longitudinal Temporal Information Full Dates',
  retainLongitudinalModifiedDates: 'Retain Longitudinal Temporal Information Modified Dates',
  cleanDescriptors: 'Clean Descriptors',
  cleanStructuredContent: 'Clean Structured Content',
  cleanGraphics: 'Clean Graphics',
};

/** The project secret and how pseudonyms are made: the same for every command that writes DICOM. */
export function addPseudonymOptions(cmd: Command): Command {
  return cmd
    .option('--secret-file <file>', 'the project secret (at least 16 characters); same secret, same pseudonyms')
    .option('--ephemeral-secret', 'use a random secret for this run only: pseudonyms link to nothing else')
    .option('--research-id-prefix <prefix>', 'prefix of research patient IDs', 'RAD-')
    .option('--lookup <csv>', 'site-supplied research IDs: CSV with columns patient_id,research_id')
    .option('--date-shift <min:max>', 'range of the per-patient date shift in days', '-3650:-30')
    .option('--birth-date <mode>', 'remove or shift the birth date', 'remove');
}

/** Adds --<option> and --no-<option> for each of the ten standard options, and the plan flags. */
export function addPlanOptions(cmd: Command): Command {
  cmd.option('--preset <name>', `starting set of options: ${Object.keys(PRESETS).join(', ')}`, 'radiomics');
  for (const name of OPTION_NAMES) {
    const flag = optionFlag(name);
    cmd.option(`--${flag}`, `turn on the ${OPTION_TITLES[name]} Option`);
    cmd.option(`--no-${flag}`, `turn off the ${OPTION_TITLES[name]} Option`);
  }
  cmd.option('--no-allow-list', 'keep standard attributes that the profile does not list (default: remove any not known to be safe)');
  cmd.option('--recipe <file>', 'YAML or JSON file of overrides (see the user guide)');
  return cmd;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function optionSwitches(opts: Record<string, unknown>): Partial<Record<OptionName, boolean>> {
  const out: Partial<Record<OptionName, boolean>> = {};
  for (const name of OPTION_NAMES) {
    const v = opts[camel(optionFlag(name))];
    if (typeof v === 'boolean') out[name] = v;
  }
  return out;
}

export function presetOf(opts: Record<string, unknown>) {
  const preset = String(opts.preset ?? 'radiomics');
  if (!isPresetName(preset)) throw new UsageError(`unknown preset "${preset}" (choose ${Object.keys(PRESETS).join(', ')})`);
  return preset;
}

export async function readSecret(opts: { secretFile?: string; ephemeralSecret?: boolean }): Promise<Uint8Array> {
  if (opts.secretFile && opts.ephemeralSecret) throw new UsageError('give either --secret-file or --ephemeral-secret, not both');
  if (opts.ephemeralSecret) return Buffer.from(randomBytes(32).toString('hex'));
  if (!opts.secretFile) {
    throw new UsageError('a project secret is required: --secret-file <file> (or --ephemeral-secret for pseudonyms that link to nothing)');
  }
  const bytes = await readFile(opts.secretFile).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read the secret file ${opts.secretFile} (${e.code ?? e.message})`);
  });
  if (bytes.toString('utf8').trim().length < 16) throw new UsageError(`the secret file ${opts.secretFile} must hold at least 16 characters`);
  return bytes;
}

export async function planFromOptions(opts: Record<string, unknown>): Promise<JobSettings['plan']> {
  const birthDate = String(opts.birthDate ?? 'remove');
  if (birthDate !== 'remove' && birthDate !== 'shift') throw new UsageError(`--birth-date must be remove or shift, got "${birthDate}"`);
  return {
    options: resolveOptions(presetOf(opts), optionSwitches(opts)),
    allowList: opts.allowList !== false,
    birthDate,
    recipe: await loadRecipe(opts.recipe as string | undefined),
    methodName: `radanon ${VERSION}`,
    implementation: { classUid: IMPLEMENTATION_CLASS_UID, versionName: IMPLEMENTATION_VERSION_NAME },
  };
}

export async function pseudonymsFromOptions(opts: Record<string, unknown>): Promise<JobSettings['pseudonyms']> {
  const lookup = await loadLookupTable(opts.lookup as string | undefined);
  return {
    researchIdPrefix: String(opts.researchIdPrefix ?? 'RAD-'),
    dateShiftDays: parseDayRange(String(opts.dateShift ?? '-3650:-30')),
    ...(lookup ? { lookup } : {}),
  };
}

const REDACTIONS = ['telea', 'navier-stokes', 'exemplar', 'fill'] as const;

function redactionOf(value: unknown, flag: string, fallback: Redaction): Redaction {
  if (value === undefined) return fallback;
  if (!(REDACTIONS as readonly string[]).includes(String(value))) throw new UsageError(`${flag} must be one of ${REDACTIONS.join(', ')}, got "${String(value)}"`);
  return value as Redaction;
}

/** The detection options shared by deid --clean-pixels, pixels scan and verify --pixels. */
export function addPixelDetectionOptions(cmd: Command, prefix = ''): Command {
  return cmd
    .option(`--${prefix}device-rules <file>`, 'device rules (manufacturer/model/size → fixed regions) instead of the shipped assets/pixels/device-rules.yaml')
    .option(`--${prefix}marked-regions <file...>`, 'regions to remove that a person marked: rectangles (JSON), a mask image (PNG) or a DICOM SEG')
    .option(`--no-${prefix}prefilter`, 'read every frame with OCR, even those the pre-filter proves text-free (slower)');
}

/** The pixel settings of a run, from the options (undefined without --clean-pixels). */
export function pixelsFromOptions(opts: Record<string, unknown>): PixelSettings | undefined {
  const given = ['redaction', 'markedRedaction', 'deviceRules', 'markedRegions', 'pixelDilation'].filter((k) => opts[k] !== undefined);
  if (opts.cleanPixels !== true) {
    if (given.length > 0 || opts.prefilter === false) throw new UsageError('--redaction, --marked-redaction, --pixel-dilation, --device-rules, --marked-regions and --no-prefilter need --clean-pixels');
    return undefined;
  }
  const dilation = opts.pixelDilation === undefined ? DEFAULT_PIXEL_SETTINGS.dilation : Number(opts.pixelDilation);
  if (!Number.isInteger(dilation) || dilation < 0 || dilation > 32) throw new UsageError(`--pixel-dilation must be a whole number of pixels from 0 to 32, got "${String(opts.pixelDilation)}"`);
  return {
    redaction: redactionOf(opts.redaction, '--redaction', DEFAULT_PIXEL_SETTINGS.redaction),
    markedRedaction: redactionOf(opts.markedRedaction, '--marked-redaction', DEFAULT_PIXEL_SETTINGS.markedRedaction),
    dilation,
    marked: (opts.markedRegions as string[] | undefined) ?? [],
    prefilter: opts.prefilter !== false,
    ...(opts.deviceRules !== undefined ? { deviceRules: String(opts.deviceRules) } : {}),
  };
}

/** --deface, --deface-ears, --deface-template and --deface-template-dir as the run's defacing settings; undefined without --deface. */
export function defaceFromOptions(opts: Record<string, unknown>): DefaceSettings | undefined {
  const template = opts.defaceTemplate as string | undefined;
  if (template !== undefined && !(TEMPLATE_NAMES as readonly string[]).includes(template)) {
    throw new UsageError(`--deface-template must be ${TEMPLATE_NAMES.join(' or ')}, got "${template}"`);
  }
  const templateDir = opts.defaceTemplateDir as string | undefined;
  if (opts.deface !== true) {
    if (opts.defaceEars === true || template !== undefined || templateDir !== undefined) throw new UsageError('--deface-ears, --deface-template and --deface-template-dir need --deface');
    return undefined;
  }
  return {
    ears: opts.defaceEars === true,
    ...(template !== undefined ? { template: template as TemplateName } : {}),
    ...(templateDir !== undefined ? { templateDir } : {}),
  };
}
