/** The IBSI feature families, in the order radanon reports them. */
import type { FamilyShort } from './types.js';

export const FAMILIES: readonly FamilyShort[] = ['morph', 'loc', 'stat', 'ih', 'ivh', 'cm', 'rlm', 'szm', 'dzm', 'ngt', 'ngl'];

/** The IBSI family names, as the reference value table spells them. */
export const FAMILY_NAMES: Readonly<Record<FamilyShort, string>> = {
  morph: 'Morphological features',
  loc: 'Local intensity features',
  stat: 'Intensity-based statistical features',
  ih: 'Intensity histogram features',
  ivh: 'Intensity-volume histogram features',
  cm: 'Grey level co-occurrence based features',
  rlm: 'Grey level run length based features',
  szm: 'Grey level size zone based features',
  dzm: 'Grey level distance zone based features',
  ngt: 'Neighbourhood grey tone difference based features',
  ngl: 'Neighbouring grey level dependence based features',
};
