import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RadiomicsSettingsError } from '../../../src/radiomics/errors.js';
import { loadSettings, parseSettings, PRESET_NAMES, PRESETS, validateSettings } from '../../../src/radiomics/settings.js';

function settingsError(text: string, source = 'site.yaml'): RadiomicsSettingsError {
  try {
    parseSettings(text, source);
  } catch (e) {
    expect(e).toBeInstanceOf(RadiomicsSettingsError);
    return e as RadiomicsSettingsError;
  }
  throw new Error('settings accepted');
}

const FULL_YAML = `approach: 3D
interpolation:
  spacing: [2, 2, 2]
  method: linear
  roundIntensities: 1
  maskMethod: linear
  partialVolumeThreshold: 0.5
resegmentation:
  range: [-1000, 400]
  outlierSigma: null
discretisation: { method: FBS, binWidth: 25 }
ivhDiscretisation: { method: FBS, binWidth: 2.5 }
texture: { distance: 1, linkageDistance: 1, ngldmCoarseness: 0 }
`;

describe('presets reproduce the IBSI configuration tables (IBSI chapter 5)', () => {
  test('every preset exists', () => {
    expect(Object.keys(PRESETS).sort()).toEqual([...PRESET_NAMES].sort());
  });

  test('digital phantom: no processing, grey levels as they are, every texture dimension', () => {
    const p = PRESETS['ibsi-phantom'];
    expect(p.interpolation).toBeNull();
    expect(p.resegmentation).toEqual({ range: null, outlierSigma: null });
    expect(p.discretisation).toEqual({ method: 'none' });
    expect(p.ivhDiscretisation).toEqual({ method: 'none' });
    expect(p.textureDimensions).toEqual(['2D', '2.5D', '3D']);
    expect(p.texture).toEqual({ distance: 1, linkageDistance: 1, ngldmCoarseness: 0 });
  });

  test('configuration A: 2D, no interpolation, range [−500, 400], FBS 25 HU, IVH without discretisation', () => {
    const p = PRESETS['ibsi-A'];
    expect(p.approach).toBe('2D');
    expect(p.textureDimensions).toEqual(['2D', '2.5D']);
    expect(p.interpolation).toBeNull();
    expect(p.resegmentation).toEqual({ range: [-500, 400], outlierSigma: null });
    expect(p.discretisation).toEqual({ method: 'FBS', binWidth: 25 });
    expect(p.ivhDiscretisation).toEqual({ method: 'none' });
  });

  test('configuration B: 2D, bilinear to 2 × 2 mm in-plane, rounding, range [−500, 400], FBN 32', () => {
    const p = PRESETS['ibsi-B'];
    expect(p.approach).toBe('2D');
    expect(p.interpolation).toMatchObject({ method: 'linear', roundIntensities: 1, maskMethod: 'linear', partialVolumeThreshold: 0.5 });
    expect((p.interpolation!.spacing as readonly number[]).slice(0, 2)).toEqual([2, 2]);
    expect(p.resegmentation).toEqual({ range: [-500, 400], outlierSigma: null });
    expect(p.discretisation).toEqual({ method: 'FBN', bins: 32 });
    expect(p.ivhDiscretisation).toEqual({ method: 'none' });
  });

  test('configurations C, D, E: 3D at 2 mm with their interpolation, re-segmentation and discretisation', () => {
    const interpolation = { spacing: [2, 2, 2], roundIntensities: 1, maskMethod: 'linear', partialVolumeThreshold: 0.5 };
    expect(PRESETS['ibsi-C']).toMatchObject({
      approach: '3D',
      textureDimensions: ['3D'],
      interpolation: { ...interpolation, method: 'linear' },
      resegmentation: { range: [-1000, 400], outlierSigma: null },
      discretisation: { method: 'FBS', binWidth: 25 },
      ivhDiscretisation: { method: 'FBS', binWidth: 2.5 },
    });
    expect(PRESETS['ibsi-D']).toMatchObject({
      approach: '3D',
      interpolation: { ...interpolation, method: 'linear' },
      resegmentation: { range: null, outlierSigma: 3 },
      discretisation: { method: 'FBN', bins: 32 },
      ivhDiscretisation: { method: 'none' },
    });
    expect(PRESETS['ibsi-E']).toMatchObject({
      approach: '3D',
      interpolation: { ...interpolation, method: 'cubic' },
      resegmentation: { range: [-1000, 400], outlierSigma: 3 },
      discretisation: { method: 'FBN', bins: 32 },
      ivhDiscretisation: { method: 'FBN', bins: 1000 },
    });
    for (const name of ['ibsi-A', 'ibsi-B', 'ibsi-C', 'ibsi-D', 'ibsi-E'] as const) {
      expect(PRESETS[name].texture).toEqual({ distance: 1, linkageDistance: 1, ngldmCoarseness: 0 });
    }
  });

  test('presets cannot be changed by a caller', () => {
    expect(() => {
      (PRESETS['ibsi-C'].resegmentation as { range: unknown }).range = null;
    }).toThrow(TypeError);
    expect(PRESETS['ibsi-C'].resegmentation.range).toEqual([-1000, 400]);
  });

  test('every preset passes validation as it stands', () => {
    for (const name of PRESET_NAMES) expect(validateSettings(PRESETS[name], name)).toEqual(PRESETS[name]);
  });
});

describe('settings files', () => {
  test('a complete YAML file equals the preset it spells out', () => {
    expect(parseSettings(FULL_YAML, 'c.yaml')).toEqual(PRESETS['ibsi-C']);
  });

  test('JSON is read too, with "inf" for an open upper bound', () => {
    const json = JSON.stringify({
      approach: '2D',
      interpolation: null,
      resegmentation: { range: [-500, 'inf'] },
      discretisation: { method: 'FBN', bins: 16 },
      ivhDiscretisation: { method: 'none' },
    });
    const s = parseSettings(json, 'open.json');
    expect(s.resegmentation.range).toEqual([-500, Infinity]);
    expect(s.resegmentation.outlierSigma).toBeNull();
    expect(s.textureDimensions).toEqual(['2D', '2.5D']);
    expect(s.texture).toEqual({ distance: 1, linkageDistance: 1, ngldmCoarseness: 0 });
  });

  test('YAML .inf is an open upper bound', () => {
    const s = parseSettings('extends: ibsi-A\nresegmentation:\n  range: [-500, .inf]\n', 'a.yaml');
    expect(s.resegmentation.range).toEqual([-500, Infinity]);
  });

  test('extends: sections merge key by key, discretisations are replaced whole', () => {
    const s = parseSettings(
      `extends: ibsi-C
interpolation:
  method: cubic
resegmentation:
  outlierSigma: 3
discretisation: { method: FBN, bins: 64 }
`,
      'e.yaml',
    );
    expect(s.interpolation).toEqual({ ...PRESETS['ibsi-C'].interpolation, method: 'cubic' });
    expect(s.resegmentation).toEqual({ range: [-1000, 400], outlierSigma: 3 });
    expect(s.discretisation).toEqual({ method: 'FBN', bins: 64 });
    expect(s.ivhDiscretisation).toEqual(PRESETS['ibsi-C'].ivhDiscretisation);
  });

  test('extends: interpolation null turns interpolation off; a new approach brings its texture dimensions', () => {
    const s = parseSettings('extends: ibsi-B\napproach: 3D\ninterpolation: null\n', 'x.yaml');
    expect(s.interpolation).toBeNull();
    expect(s.textureDimensions).toEqual(['3D']);
    const t = parseSettings('extends: ibsi-phantom\ntextureDimensions: [2.5D]\n', 'y.yaml');
    expect(t.textureDimensions).toEqual(['2.5D']);
  });

  test('loadSettings takes a preset name or a file', async () => {
    expect(await loadSettings('ibsi-E')).toBe(PRESETS['ibsi-E']);
    const dir = mkdtempSync(join(tmpdir(), 'radanon-settings-'));
    try {
      const file = join(dir, 'site.yaml');
      writeFileSync(file, 'extends: ibsi-D\ntexture: { distance: 2 }\n');
      const s = await loadSettings(file);
      expect(s.texture).toEqual({ distance: 2, linkageDistance: 1, ngldmCoarseness: 0 });
      expect(s.resegmentation.outlierSigma).toBe(3);
      await expect(loadSettings(join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml: not a preset .* no such file/);
      writeFileSync(file, 'extends: ibsi-D\ntexture: { distance: 0 }\n');
      await expect(loadSettings(file)).rejects.toThrow(`${file}:2: texture.distance: must be a whole number ≥ 1, got 0`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('settings errors name the file, the line, the key and the reason', () => {
  test('unknown keys, at the top and in a section', () => {
    let e = settingsError('extends: ibsi-C\ninterpolaton: null\n');
    expect(e.message).toBe('site.yaml:2: interpolaton: unknown key (expected one of extends, approach, textureDimensions, interpolation, resegmentation, discretisation, ivhDiscretisation, texture)');
    expect(e.source).toBe('site.yaml:2');
    expect(e.key).toBe('interpolaton');
    e = settingsError('extends: ibsi-C\ninterpolation:\n  method: linear\n  order: 3\n');
    expect(e.key).toBe('interpolation.order');
    expect(e.message).toMatch(/^site\.yaml:4: interpolation\.order: unknown key/);
  });

  test('wrong types', () => {
    expect(settingsError('extends: ibsi-C\napproach: 4D\n').message).toBe('site.yaml:2: approach: must be one of 2D, 3D, got "4D"');
    expect(settingsError('extends: ibsi-C\ninterpolation: { spacing: 2 }\n').message).toMatch(/^site\.yaml:2: interpolation\.spacing: must be three spacings in mm/);
    expect(settingsError('extends: ibsi-C\ndiscretisation: FBN\n').message).toMatch(/^site\.yaml:2: discretisation: must be a mapping/);
    expect(settingsError('extends: ibsi-C\nresegmentation: { range: [-1000, "high"] }\n').key).toBe('resegmentation.range.1');
  });

  test('impossible values', () => {
    expect(settingsError('extends: ibsi-C\ninterpolation:\n  spacing: [2, -2, 2]\n').message).toBe('site.yaml:3: interpolation.spacing.1: must be a spacing in mm > 0, got -2');
    expect(settingsError('extends: ibsi-C\ndiscretisation: { method: FBN, bins: 0 }\n').message).toBe('site.yaml:2: discretisation.bins: must be a whole number of bins ≥ 1, got 0');
    expect(settingsError('extends: ibsi-C\ndiscretisation: { method: FBN, bins: 2.5 }\n').key).toBe('discretisation.bins');
    expect(settingsError('extends: ibsi-C\ndiscretisation: { method: FBS, binWidth: 0 }\n').key).toBe('discretisation.binWidth');
    expect(settingsError('extends: ibsi-C\ninterpolation: { partialVolumeThreshold: 0 }\n').message).toMatch(/interpolation\.partialVolumeThreshold: must be a threshold in \(0, 1\], got 0$/);
    expect(settingsError('extends: ibsi-C\ninterpolation: { partialVolumeThreshold: 1.5 }\n').key).toBe('interpolation.partialVolumeThreshold');
    expect(settingsError('extends: ibsi-C\nresegmentation: { range: [400, -1000] }\n').message).toMatch(/resegmentation\.range: the lower bound must be below the upper bound/);
    expect(settingsError('extends: ibsi-C\nresegmentation: { outlierSigma: -3 }\n').key).toBe('resegmentation.outlierSigma');
    expect(settingsError('extends: ibsi-C\ntexture: { ngldmCoarseness: -1 }\n').key).toBe('texture.ngldmCoarseness');
    expect(settingsError('extends: ibsi-C\ntextureDimensions: [3D, 3D]\n').message).toMatch(/textureDimensions: lists a dimension twice/);
    expect(settingsError('extends: ibsi-C\ndiscretisation: { method: FBN, bins: 8, binWidth: 2 }\n').message).toMatch(/discretisation\.binWidth: is not used by method FBN/);
  });

  test('missing keys without a preset to extend', () => {
    const e = settingsError('approach: 3D\ninterpolation: null\ndiscretisation: { method: FBN, bins: 8 }\n');
    expect(e.key).toBe('ivhDiscretisation');
    expect(e.reason).toBe('is required');
    expect(settingsError('approach: 3D\ndiscretisation: { method: none }\nivhDiscretisation: { method: none }\n').key).toBe('interpolation');
  });

  test('a preset that does not exist, text that is not YAML, a document that is not a mapping', () => {
    expect(settingsError('extends: ibsi-F\n').message).toBe('site.yaml:1: extends: must name a preset (default, ibsi-phantom, ibsi-A, ibsi-B, ibsi-C, ibsi-D, ibsi-E), got "ibsi-F"');
    expect(settingsError('approach: [3D\n').message).toMatch(/^site\.yaml:\d+: not valid YAML or JSON/);
    expect(settingsError('- 3D\n').message).toMatch(/^site\.yaml:1: a settings file is a mapping/);
  });

  test('objects built in code are checked the same way', () => {
    expect(() => validateSettings({ ...PRESETS['ibsi-C'], interpolation: { ...PRESETS['ibsi-C'].interpolation, spacing: [2, 2, 0] } }, 'code')).toThrow(
      'code: interpolation.spacing.2: must be a spacing in mm > 0, got 0',
    );
  });
});
