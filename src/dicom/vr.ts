/** The closed set of DICOM value representations (PS3.5 6.2). */
export const VRS = [
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
] as const;
export type VR = (typeof VRS)[number];

const VR_SET: ReadonlySet<string> = new Set(VRS);

export function isVR(s: string): s is VR {
  return VR_SET.has(s);
}

/** VR by its two ASCII letters ((a - 65) * 26 + (b - 65)), for parsing without building strings. */
const VR_BY_CODE: readonly (VR | undefined)[] = (() => {
  const table: (VR | undefined)[] = new Array(26 * 26).fill(undefined);
  for (const vr of VRS) table[(vr.charCodeAt(0) - 65) * 26 + (vr.charCodeAt(1) - 65)] = vr;
  return table;
})();

/** The VR spelled by two bytes, or undefined if they spell none. */
export function vrFromBytes(a: number, b: number): VR | undefined {
  if (a < 65 || a > 90 || b < 65 || b > 90) return undefined;
  return VR_BY_CODE[(a - 65) * 26 + (b - 65)];
}

interface VRTraits {
  /** Explicit VR encoding uses a 2-byte reserved field and a 4-byte length. */
  readonly longLength: boolean;
  /** The value is text (affected by Specific Character Set only when `charsetAware`). */
  readonly text: boolean;
  /** Text whose bytes are interpreted through Specific Character Set. */
  readonly charsetAware: boolean;
  /** Padding byte for odd lengths. */
  readonly pad: 0x20 | 0x00;
  /** Size of one binary number, for byte swapping between little and big endian. */
  readonly wordSize: 0 | 1 | 2 | 4 | 8;
}

const t = (longLength: boolean, text: boolean, charsetAware: boolean, pad: 0x20 | 0x00, wordSize: VRTraits['wordSize']): VRTraits => ({
  longLength, text, charsetAware, pad, wordSize,
});

/** Every VR's traits; `satisfies` makes a missing VR a compile error. */
export const VR_TRAITS = {
  AE: t(false, true, false, 0x20, 0), AS: t(false, true, false, 0x20, 0), AT: t(false, false, false, 0x00, 2),
  CS: t(false, true, false, 0x20, 0), DA: t(false, true, false, 0x20, 0), DS: t(false, true, false, 0x20, 0),
  DT: t(false, true, false, 0x20, 0), FL: t(false, false, false, 0x00, 4), FD: t(false, false, false, 0x00, 8),
  IS: t(false, true, false, 0x20, 0), LO: t(false, true, true, 0x20, 0), LT: t(false, true, true, 0x20, 0),
  OB: t(true, false, false, 0x00, 1), OD: t(true, false, false, 0x00, 8), OF: t(true, false, false, 0x00, 4),
  OL: t(true, false, false, 0x00, 4), OV: t(true, false, false, 0x00, 8), OW: t(true, false, false, 0x00, 2),
  PN: t(false, true, true, 0x20, 0), SH: t(false, true, true, 0x20, 0), SL: t(false, false, false, 0x00, 4),
  SQ: t(true, false, false, 0x00, 0), SS: t(false, false, false, 0x00, 2), ST: t(false, true, true, 0x20, 0),
  SV: t(true, false, false, 0x00, 8), TM: t(false, true, false, 0x20, 0), UC: t(true, true, true, 0x20, 0),
  UI: t(false, true, false, 0x00, 0), UL: t(false, false, false, 0x00, 4), UN: t(true, false, false, 0x00, 1),
  UR: t(true, true, false, 0x20, 0), US: t(false, false, false, 0x00, 2), UT: t(true, true, true, 0x20, 0),
  UV: t(true, false, false, 0x00, 8),
} as const satisfies Record<VR, VRTraits>;
