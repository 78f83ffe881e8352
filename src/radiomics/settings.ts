/**
 * Radiomics settings: the image processing and texture parameters of one feature computation,
 * mirroring the configuration tables of the IBSI reference manual (chapter 5, "Configurations":
 * slice-wise or volume, interpolation, re-segmentation, discretisation, texture parameters),
 * the presets that reproduce IBSI's reference configurations, and a settings file format.
 *
 * A settings file is YAML or JSON with the same field names as `RadiomicsSettings`, optionally
 * starting from a preset:
 *
 * ```yaml
 * extends: ibsi-C                 # optional: a preset to start from
 * approach: 3D                    # 2D | 3D
 * textureDimensions: [3D]         # optional: derived from approach (2D → [2D, 2.5D], 3D → [3D])
 * interpolation:                  # or null: no interpolation
 *   spacing: [2, 2, 2]            # mm, or none; under approach 2D the third value is ignored
 *   method: linear                # nearest | linear | cubic
 *   roundIntensities: 1           # round to a multiple of this after interpolation, or null
 *   maskMethod: linear            # nearest | linear
 *   partialVolumeThreshold: 0.5   # in (0, 1]
 * resegmentation:                 # optional: none
 *   range: [-1000, 400]           # or null; the upper bound may be .inf (YAML) or "inf"
 *   outlierSigma: 3               # or null
 * discretisation: { method: FBS, binWidth: 25 }   # or { method: FBN, bins: 32 } or { method: none }
 * ivhDiscretisation: { method: FBS, binWidth: 2.5 }
 * texture: { distance: 1, linkageDistance: 1, ngldmCoarseness: 0 }   # optional: IBSI defaults
 * ```
 *
 * With `extends`, the sections `interpolation`, `resegmentation` and `texture` are merged key by
 * key over the preset's (so `interpolation: { method: cubic }` changes only the method);
 * `discretisation` and `ivhDiscretisation` are replaced whole, and `interpolation: null` turns
 * interpolation off. Unknown keys, wrong types and impossible values are errors that name the
 * file, the line, the key and the reason.
 */
import fs from 'node:fs/promises';
import { isMap, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Vec3 } from '../volume/volume.js';
import { RadiomicsSettingsError } from './errors.js';
import type { InterpolationMethod } from './interpolate.js';
import type { Discretisation, TextureDimension } from './types.js';

/** IBSI "slice-wise or single volume (3D)". */
export type Approach = '2D' | '3D';

export type MaskInterpolationMethod = 'nearest' | 'linear';

/** IBSI configuration "interpolation" (IBSI 2.4). */
export interface InterpolationSettings {
  /**
   * IBSI "resampled voxel spacing (mm)" along i, j, k. Under the 2D approach only i and j are
   * resampled and the k value is ignored (slices keep their spacing). 'none': the image keeps its
   * grid (intensity rounding still applies).
   */
  readonly spacing: Vec3 | 'none';
  /** IBSI "interpolation method": nearest neighbour, (bi/tri)linear, or (tri)cubic spline. */
  readonly method: InterpolationMethod;
  /** IBSI "intensity rounding": round interpolated intensities to a multiple of this (CT: 1, whole HU); null: no rounding. */
  readonly roundIntensities: number | null;
  /** IBSI "ROI interpolation method". */
  readonly maskMethod: MaskInterpolationMethod;
  /** IBSI "ROI partial mask volume": an interpolated mask value ≥ this is inside the ROI. */
  readonly partialVolumeThreshold: number;
}

/** IBSI configuration "re-segmentation" (IBSI 2.5). Both may be set; see resegment.ts for how they combine. */
export interface ResegmentationSettings {
  /** IBSI "range": keep intensities in [lower, upper]; upper may be Infinity (a half-open range). null: no range. */
  readonly range: readonly [number, number] | null;
  /** IBSI "outlier filtering": keep intensities within μ ± this many σ of the ROI's (IBSI uses 3). null: no filtering. */
  readonly outlierSigma: number | null;
}

/** IBSI configuration "texture parameters". */
export interface TextureSettings {
  /** IBSI "GLCM, NGTDM, NGLDM distance" δ (Chebyshev). */
  readonly distance: number;
  /** IBSI "GLSZM, GLDZM linkage distance" (Chebyshev). */
  readonly linkageDistance: number;
  /** IBSI "NGLDM coarseness" α. */
  readonly ngldmCoarseness: number;
}

export interface RadiomicsSettings {
  /** IBSI "slice-wise or single volume (3D)": 2D interpolates in-plane only. */
  readonly approach: Approach;
  /**
   * Which texture aggregations to compute (IBSI 3.1.4). IBSI's 2-D configurations report 2D and
   * 2.5D, the 3-D ones 3D, and the digital phantom all three.
   */
  readonly textureDimensions: readonly TextureDimension[];
  /** IBSI "interpolation"; null: no interpolation (IBSI "interpolation: no"). */
  readonly interpolation: InterpolationSettings | null;
  /** IBSI "re-segmentation". */
  readonly resegmentation: ResegmentationSettings;
  /** IBSI "discretisation: texture and IH" (texture matrices and the intensity histogram). */
  readonly discretisation: Discretisation;
  /**
   * IBSI "discretisation: IVH". 'none' (IBSI "no"): the intensities are used as they are, the
   * case of calibrated discrete intensities such as CT (IBSI 3.5).
   */
  readonly ivhDiscretisation: Discretisation;
  /** IBSI "texture parameters". */
  readonly texture: TextureSettings;
}

// ---------------------------------------------------------------------------------------------
// Presets

export const PRESET_NAMES = ['default', 'ibsi-phantom', 'ibsi-A', 'ibsi-B', 'ibsi-C', 'ibsi-D', 'ibsi-E'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** The texture aggregations an approach reports by default. */
export function defaultTextureDimensions(approach: Approach): readonly TextureDimension[] {
  return approach === '2D' ? ['2D', '2.5D'] : ['3D'];
}

const IBSI_TEXTURE: TextureSettings = { distance: 1, linkageDistance: 1, ngldmCoarseness: 0 };

/** IBSI's CT interpolation of configurations C–E: 2 mm cubes, whole HU, linear mask at 0.5. */
function ctInterpolation(method: InterpolationMethod): InterpolationSettings {
  return { spacing: [2, 2, 2], method, roundIntensities: 1, maskMethod: 'linear', partialVolumeThreshold: 0.5 };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * `default`, for images of any modality when no settings are given: 3-D, the image's own grid,
 * no re-segmentation (no modality's units assumed), fixed bin number (32 grey levels for texture
 * and histogram, 1000 for the intensity-volume histogram), which IBSI recommends for arbitrary
 * intensity units.
 *
 * IBSI's reference configurations (IBSI chapter 5). The digital phantom: no interpolation,
 * no re-segmentation, grey levels used as they are, every texture aggregation. The CT phantom:
 * configurations A–E as in their tables.
 */
export const PRESETS: Readonly<Record<PresetName, RadiomicsSettings>> = deepFreeze({
  default: {
    approach: '3D',
    textureDimensions: ['3D'],
    interpolation: null,
    resegmentation: { range: null, outlierSigma: null },
    discretisation: { method: 'FBN', bins: 32 },
    ivhDiscretisation: { method: 'FBN', bins: 1000 },
    texture: IBSI_TEXTURE,
  },
  'ibsi-phantom': {
    approach: '3D',
    textureDimensions: ['2D', '2.5D', '3D'],
    interpolation: null,
    resegmentation: { range: null, outlierSigma: null },
    discretisation: { method: 'none' },
    ivhDiscretisation: { method: 'none' },
    texture: IBSI_TEXTURE,
  },
  // A: 2D, no interpolation, range [−500, 400], FBS 25 HU, IVH on the HU themselves.
  'ibsi-A': {
    approach: '2D',
    textureDimensions: ['2D', '2.5D'],
    interpolation: null,
    resegmentation: { range: [-500, 400], outlierSigma: null },
    discretisation: { method: 'FBS', binWidth: 25 },
    ivhDiscretisation: { method: 'none' },
    texture: IBSI_TEXTURE,
  },
  // B: 2D, bilinear in-plane to 2 × 2 mm (slices keep their 3 mm), range [−500, 400], FBN 32.
  'ibsi-B': {
    approach: '2D',
    textureDimensions: ['2D', '2.5D'],
    interpolation: ctInterpolation('linear'),
    resegmentation: { range: [-500, 400], outlierSigma: null },
    discretisation: { method: 'FBN', bins: 32 },
    ivhDiscretisation: { method: 'none' },
    texture: IBSI_TEXTURE,
  },
  // C: 3D, trilinear to 2 mm, range [−1000, 400], FBS 25 HU; IVH by FBS 2.5 HU.
  'ibsi-C': {
    approach: '3D',
    textureDimensions: ['3D'],
    interpolation: ctInterpolation('linear'),
    resegmentation: { range: [-1000, 400], outlierSigma: null },
    discretisation: { method: 'FBS', binWidth: 25 },
    ivhDiscretisation: { method: 'FBS', binWidth: 2.5 },
    texture: IBSI_TEXTURE,
  },
  // D: 3D, trilinear to 2 mm, 3σ outlier filtering, FBN 32.
  'ibsi-D': {
    approach: '3D',
    textureDimensions: ['3D'],
    interpolation: ctInterpolation('linear'),
    resegmentation: { range: null, outlierSigma: 3 },
    discretisation: { method: 'FBN', bins: 32 },
    ivhDiscretisation: { method: 'none' },
    texture: IBSI_TEXTURE,
  },
  // E: 3D, tricubic spline to 2 mm, range [−1000, 400] and 3σ, FBN 32; IVH by FBN 1000.
  'ibsi-E': {
    approach: '3D',
    textureDimensions: ['3D'],
    interpolation: ctInterpolation('cubic'),
    resegmentation: { range: [-1000, 400], outlierSigma: 3 },
    discretisation: { method: 'FBN', bins: 32 },
    ivhDiscretisation: { method: 'FBN', bins: 1000 },
    texture: IBSI_TEXTURE,
  },
} satisfies Record<PresetName, RadiomicsSettings>);

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

// ---------------------------------------------------------------------------------------------
// Validation

const TOP_KEYS = ['extends', 'approach', 'textureDimensions', 'interpolation', 'resegmentation', 'discretisation', 'ivhDiscretisation', 'texture'] as const;
const INTERPOLATION_KEYS = ['spacing', 'method', 'roundIntensities', 'maskMethod', 'partialVolumeThreshold'] as const;
const RESEGMENTATION_KEYS = ['range', 'outlierSigma'] as const;
const TEXTURE_KEYS = ['distance', 'linkageDistance', 'ngldmCoarseness'] as const;
const TEXTURE_DIMENSIONS: readonly TextureDimension[] = ['2D', '2.5D', '3D'];
const METHODS: readonly InterpolationMethod[] = ['nearest', 'linear', 'cubic'];
const MASK_METHODS: readonly MaskInterpolationMethod[] = ['nearest', 'linear'];

/** Where a key stands in the source text, for messages; undefined when not known. */
type LineOf = (path: readonly string[]) => number | undefined;

class Checker {
  constructor(
    private readonly source: string,
    private readonly lineOf: LineOf,
  ) {}

  fail(path: readonly string[], reason: string): never {
    const line = this.lineOf(path);
    throw new RadiomicsSettingsError(line === undefined ? this.source : `${this.source}:${line}`, path.join('.'), reason);
  }

  record(value: unknown, path: readonly string[], allowed: readonly string[]): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, `must be a mapping with keys ${allowed.join(', ')}, got ${describe(value)}`);
    const rec = value as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (!allowed.includes(k)) this.fail([...path, k], `unknown key (expected one of ${allowed.join(', ')})`);
    }
    return rec;
  }

  required(rec: Record<string, unknown>, key: string, path: readonly string[]): unknown {
    if (!(key in rec) || rec[key] === undefined) this.fail([...path, key], 'is required');
    return rec[key];
  }

  oneOf<T extends string>(value: unknown, path: readonly string[], options: readonly T[]): T {
    if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) this.fail(path, `must be one of ${options.join(', ')}, got ${describe(value)}`);
    return value as T;
  }

  number(value: unknown, path: readonly string[], test: (x: number) => boolean, what: string): number {
    if (typeof value !== 'number' || Number.isNaN(value) || !test(value)) this.fail(path, `must be ${what}, got ${describe(value)}`);
    return value;
  }

  /** A number, where the strings "inf", "+inf", "-inf", "Infinity", "-Infinity" also stand for ±∞ (JSON has no infinity). */
  bound(value: unknown, path: readonly string[]): number {
    if (typeof value === 'string') {
      const v = value.trim().toLowerCase();
      if (v === 'inf' || v === '+inf' || v === 'infinity' || v === '+infinity' || v === '.inf') return Infinity;
      if (v === '-inf' || v === '-infinity' || v === '-.inf') return -Infinity;
    }
    return this.number(value, path, () => true, 'a number (or "inf" / "-inf")');
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function checkDiscretisation(c: Checker, value: unknown, path: readonly string[]): Discretisation {
  const rec = c.record(value, path, ['method', 'bins', 'binWidth']);
  const method = c.oneOf(c.required(rec, 'method', path), [...path, 'method'], ['none', 'FBN', 'FBS'] as const);
  const extra = (key: string) => {
    if (key in rec) c.fail([...path, key], `is not used by method ${method}`);
  };
  if (method === 'none') {
    extra('bins');
    extra('binWidth');
    return { method };
  }
  if (method === 'FBN') {
    extra('binWidth');
    const bins = c.number(c.required(rec, 'bins', path), [...path, 'bins'], (x) => Number.isInteger(x) && x >= 1, 'a whole number of bins ≥ 1');
    return { method, bins };
  }
  extra('bins');
  const binWidth = c.number(c.required(rec, 'binWidth', path), [...path, 'binWidth'], (x) => x > 0 && Number.isFinite(x), 'a bin width > 0');
  return { method, binWidth };
}

function checkInterpolation(c: Checker, value: unknown): InterpolationSettings | null {
  if (value === null) return null;
  const path = ['interpolation'];
  const rec = c.record(value, path, INTERPOLATION_KEYS);
  const spacingValue = c.required(rec, 'spacing', path);
  let spacing: Vec3 | 'none';
  if (spacingValue === 'none') spacing = 'none';
  else {
    if (!Array.isArray(spacingValue) || spacingValue.length !== 3) c.fail([...path, 'spacing'], `must be three spacings in mm [i, j, k] or none, got ${describe(spacingValue)}`);
    spacing = (spacingValue as unknown[]).map((s, a) => c.number(s, [...path, 'spacing', String(a)], (x) => x > 0 && Number.isFinite(x), 'a spacing in mm > 0')) as unknown as Vec3;
  }
  const roundValue = rec.roundIntensities ?? null;
  return {
    spacing,
    method: c.oneOf(c.required(rec, 'method', path), [...path, 'method'], METHODS),
    roundIntensities: roundValue === null ? null : c.number(roundValue, [...path, 'roundIntensities'], (x) => x > 0 && Number.isFinite(x), 'a step > 0 (1 rounds to whole numbers) or null'),
    maskMethod: c.oneOf(c.required(rec, 'maskMethod', path), [...path, 'maskMethod'], MASK_METHODS),
    partialVolumeThreshold: c.number(c.required(rec, 'partialVolumeThreshold', path), [...path, 'partialVolumeThreshold'], (x) => x > 0 && x <= 1, 'a threshold in (0, 1]'),
  };
}

function checkResegmentation(c: Checker, value: unknown): ResegmentationSettings {
  const path = ['resegmentation'];
  const rec = c.record(value ?? {}, path, RESEGMENTATION_KEYS);
  const rangeValue = rec.range ?? null;
  let range: readonly [number, number] | null = null;
  if (rangeValue !== null) {
    if (!Array.isArray(rangeValue) || rangeValue.length !== 2) c.fail([...path, 'range'], `must be [lower, upper] or null, got ${describe(rangeValue)}`);
    const [lo, hi] = (rangeValue as unknown[]).map((b, i) => c.bound(b, [...path, 'range', String(i)])) as [number, number];
    if (!(lo < hi)) c.fail([...path, 'range'], `the lower bound must be below the upper bound, got [${lo}, ${hi}]`);
    if (lo === Infinity || hi === -Infinity) c.fail([...path, 'range'], `is empty: [${lo}, ${hi}]`);
    range = [lo, hi];
  }
  const sigmaValue = rec.outlierSigma ?? null;
  const outlierSigma = sigmaValue === null ? null : c.number(sigmaValue, [...path, 'outlierSigma'], (x) => x > 0 && Number.isFinite(x), 'a number of standard deviations > 0 (IBSI: 3) or null');
  return { range, outlierSigma };
}

function checkTexture(c: Checker, value: unknown): TextureSettings {
  const path = ['texture'];
  const rec = c.record(value ?? {}, path, TEXTURE_KEYS);
  const whole = (key: keyof TextureSettings, min: number) =>
    key in rec ? c.number(rec[key], [...path, key], (x) => Number.isInteger(x) && x >= min, `a whole number ≥ ${min}`) : IBSI_TEXTURE[key];
  return { distance: whole('distance', 1), linkageDistance: whole('linkageDistance', 1), ngldmCoarseness: whole('ngldmCoarseness', 0) };
}

function checkSettings(c: Checker, value: unknown): RadiomicsSettings {
  const rec = c.record(value, [], TOP_KEYS.filter((k) => k !== 'extends'));
  const approach = c.oneOf(c.required(rec, 'approach', []), ['approach'], ['2D', '3D'] as const);
  let textureDimensions = defaultTextureDimensions(approach);
  if (rec.textureDimensions !== undefined) {
    const dims = rec.textureDimensions;
    if (!Array.isArray(dims) || dims.length === 0) c.fail(['textureDimensions'], `must be a non-empty list of ${TEXTURE_DIMENSIONS.join(', ')}, got ${describe(dims)}`);
    textureDimensions = (dims as unknown[]).map((d, i) => c.oneOf(d, ['textureDimensions', String(i)], TEXTURE_DIMENSIONS));
    if (new Set(textureDimensions).size !== textureDimensions.length) c.fail(['textureDimensions'], 'lists a dimension twice');
  }
  if (!('interpolation' in rec)) c.fail(['interpolation'], 'is required (null for no interpolation)');
  return {
    approach,
    textureDimensions,
    interpolation: checkInterpolation(c, rec.interpolation),
    resegmentation: checkResegmentation(c, rec.resegmentation),
    discretisation: checkDiscretisation(c, c.required(rec, 'discretisation', []), ['discretisation']),
    ivhDiscretisation: checkDiscretisation(c, c.required(rec, 'ivhDiscretisation', []), ['ivhDiscretisation']),
    texture: checkTexture(c, rec.texture),
  };
}

/**
 * Checks a settings object built in code (or read from elsewhere) and returns it as
 * `RadiomicsSettings`; throws `RadiomicsSettingsError` naming `source`, the key and the reason.
 */
export function validateSettings(value: unknown, source = '<settings>'): RadiomicsSettings {
  return deepFreeze(checkSettings(new Checker(source, () => undefined), value));
}

// ---------------------------------------------------------------------------------------------
// Settings files

function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v)));
}

/** The file's sections laid over a preset: see the module comment for the rules. */
function overlay(base: Record<string, unknown>, file: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(file)) {
    if (key === 'extends') continue;
    const merge = key === 'interpolation' || key === 'resegmentation' || key === 'texture';
    const under = out[key];
    if (merge && value !== null && typeof value === 'object' && !Array.isArray(value) && under !== null && typeof under === 'object') {
      out[key] = { ...(under as Record<string, unknown>), ...(value as Record<string, unknown>) };
    } else {
      out[key] = value;
    }
  }
  // A file that changes the approach without listing dimensions gets the new approach's defaults.
  if (file.approach !== undefined && file.textureDimensions === undefined) delete out.textureDimensions;
  return out;
}

/**
 * Parses a settings file's text (YAML or JSON). `source` names the file in messages. Throws
 * `RadiomicsSettingsError` for text that is not YAML, unknown keys, wrong types and impossible
 * values, naming the file, the line, the key and the reason.
 */
export function parseSettings(text: string, source: string): RadiomicsSettings {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new RadiomicsSettingsError(`${source}:${lines.linePos(e.pos[0]).line}`, '', `not valid YAML or JSON: ${e.message.split('\n')[0]}`);
  }
  const lineOf: LineOf = (path) => nodeLine(doc, lines, path);
  const c: Checker = new Checker(source, lineOf);
  if (!isMap(doc.contents)) c.fail([], 'a settings file is a mapping of settings (approach, interpolation, resegmentation, discretisation, ...)');
  const file = doc.toJS() as Record<string, unknown>;
  c.record(file, [], TOP_KEYS);
  let merged = file;
  if (file.extends !== undefined) {
    const base = file.extends;
    if (typeof base !== 'string' || !isPresetName(base)) c.fail(['extends'], `must name a preset (${PRESET_NAMES.join(', ')}), got ${describe(base)}`);
    merged = overlay(plain(PRESETS[base]) as Record<string, unknown>, file);
  }
  return deepFreeze(checkSettings(c, merged));
}

function nodeLine(doc: Document, lines: LineCounter, path: readonly string[]): number | undefined {
  // The deepest node of the path that exists in the file.
  for (let depth = path.length; depth >= 0; depth--) {
    const keys = path.slice(0, depth).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const node = (depth === 0 ? doc.contents : doc.getIn(keys, true)) as Node | null | undefined;
    if (node && typeof node === 'object' && 'range' in node && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * A preset by name (`ibsi-C`) or a settings file (YAML or JSON) by path. Throws
 * `RadiomicsSettingsError` when it is neither.
 */
export async function loadSettings(presetNameOrFile: string): Promise<RadiomicsSettings> {
  if (isPresetName(presetNameOrFile)) return PRESETS[presetNameOrFile];
  let text: string;
  try {
    text = await fs.readFile(presetNameOrFile, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (e as Error).message;
    throw new RadiomicsSettingsError(presetNameOrFile, '', `not a preset (${PRESET_NAMES.join(', ')}) and cannot be read as a settings file: ${why}`);
  }
  return parseSettings(text, presetNameOrFile);
}
