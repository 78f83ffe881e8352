/**
 * The radiomics engine: image processing, then every IBSI feature family, on one image and one
 * mask. This is the function the command line, QA and federated learning call.
 */
import { seriesOf } from '../volume/source.js';
import type { Mask, Volume } from '../volume/volume.js';
import { discretise } from './discretise.js';
import { glcmFeatures } from './features/glcm.js';
import { gldzmFeatures } from './features/gldzm.js';
import { glrlmFeatures } from './features/glrlm.js';
import { glszmFeatures } from './features/glszm.js';
import { histogramFeatures } from './features/histogram.js';
import { intensityVolumeFeatures } from './features/ivh.js';
import { localIntensityFeatures } from './features/local-intensity.js';
import { morphologyFeatures } from './features/morphology.js';
import { ngldmFeatures } from './features/ngldm.js';
import { ngtdmFeatures } from './features/ngtdm.js';
import { statisticalFeatures } from './features/statistics.js';
import { prepareRoi } from './prepare.js';
import type { RadiomicsSettings } from './settings.js';
import { FAMILIES } from './families.js';
import type { DiscretisedRoi, FamilyShort, Feature, RoiImage, TextureOptions } from './types.js';

export interface FeatureOptions {
  /** Compute only these families (all by default). */
  readonly families?: readonly FamilyShort[];
}

export interface FeatureResult {
  readonly features: readonly Feature[];
  /** Voxels in the morphological and intensity masks after image processing. */
  readonly voxels: { readonly morphological: number; readonly intensity: number };
  /** Number of grey levels after discretisation. */
  readonly greyLevels: number;
  /** Milliseconds per stage: 'prepare', 'discretise' and each family. */
  readonly timings: Readonly<Record<string, number>>;
  /** What a reader of the values should know about the input (a lossy compressed image). */
  readonly notes: readonly string[];
}

/** Notes on the image itself: features of decoded lossy pixels are not those of the acquisition. */
function imageNotes(image: Volume): string[] {
  const encoding = seriesOf(image.grid)?.encoding;
  if (!encoding?.lossy) return [];
  return [
    `the image was lossy compressed (transfer syntax ${encoding.transferSyntaxUids.join(', ')}): features were computed on the decoded values, and texture features above all may differ from those of the original acquisition`,
  ];
}

/** Computes the IBSI features of `image` within `mask` under `settings`. */
export function computeFeatures(image: Volume, mask: Mask, settings: RadiomicsSettings, options: FeatureOptions = {}): FeatureResult {
  const wanted = new Set(options.families ?? FAMILIES);
  const timings: Record<string, number> = {};
  const timed = <T>(stage: string, run: () => T): T => {
    const start = performance.now();
    const result = run();
    timings[stage] = performance.now() - start;
    return result;
  };

  const roi = timed('prepare', () => prepareRoi(image, mask, settings));
  const range = settings.resegmentation.range;
  const levels = timed('discretise', () => discretise(roi, settings.discretisation, range));
  const values = intensitiesInMask(roi);
  const texture: TextureOptions = {
    dimensions: settings.textureDimensions,
    distance: settings.texture.distance,
    linkageDistance: settings.texture.linkageDistance,
    ngldmCoarseness: settings.texture.ngldmCoarseness,
  };

  const families: Readonly<Record<FamilyShort, () => Feature[]>> = {
    morph: () => morphologyFeatures(roi),
    loc: () => localIntensityFeatures(roi),
    stat: () => statisticalFeatures(values),
    ih: () => histogramFeatures(levelsInMask(levels), levels.ng),
    ivh: () => intensityVolumeFeatures(values, settings.ivhDiscretisation, range),
    cm: () => glcmFeatures(levels, texture),
    rlm: () => glrlmFeatures(levels, texture),
    szm: () => glszmFeatures(levels, texture),
    dzm: () => gldzmFeatures(levels, roi.morphMask, texture),
    ngt: () => ngtdmFeatures(levels, texture),
    ngl: () => ngldmFeatures(levels, texture),
  };
  const features: Feature[] = [];
  for (const family of FAMILIES) {
    if (wanted.has(family)) features.push(...timed(family, families[family]));
  }
  return {
    features,
    voxels: { morphological: count(roi.morphMask), intensity: values.length },
    greyLevels: levels.ng,
    timings,
    notes: imageNotes(image),
  };
}

function count(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]!;
  return n;
}

function intensitiesInMask(roi: RoiImage): Float64Array {
  const out = new Float64Array(count(roi.intensityMask));
  let n = 0;
  for (let i = 0; i < roi.intensityMask.length; i++) if (roi.intensityMask[i]) out[n++] = roi.intensity[i]!;
  return out;
}

function levelsInMask(d: DiscretisedRoi): Int32Array {
  let n = 0;
  for (let i = 0; i < d.levels.length; i++) if (d.levels[i]! > 0) n++;
  const out = new Int32Array(n);
  n = 0;
  for (let i = 0; i < d.levels.length; i++) if (d.levels[i]! > 0) out[n++] = d.levels[i]!;
  return out;
}
