/**
 * A DICOM attribute tag: one validated 32-bit number (group << 16 | element).
 * The brand makes a plain number unusable where a tag is expected; `parseTag` and
 * `tag` are the only ways to make one.
 */
export type Tag = number & { readonly __brand: 'Tag' };

/** Builds a tag from its group and element numbers. */
export function tag(group: number, element: number): Tag {
  if (!Number.isInteger(group) || group < 0 || group > 0xffff) throw new RangeError(`invalid tag group ${group}`);
  if (!Number.isInteger(element) || element < 0 || element > 0xffff) throw new RangeError(`invalid tag element ${element}`);
  return ((group << 16) >>> 0 | element) >>> 0 as Tag;
}

const TAG_PATTERN = /^\(?\s*([0-9A-Fa-f]{4})\s*,?\s*([0-9A-Fa-f]{4})\s*\)?$/;

/** Parses "(0010,0010)", "0010,0010" or "00100010". Throws on anything else. */
export function parseTag(text: string): Tag {
  const m = TAG_PATTERN.exec(text.trim());
  if (!m) throw new SyntaxError(`not a DICOM tag: "${text}"`);
  return tag(parseInt(m[1]!, 16), parseInt(m[2]!, 16));
}

export function groupOf(t: Tag): number {
  return t >>> 16;
}

export function elementOf(t: Tag): number {
  return t & 0xffff;
}

/**
 * Odd groups hold private elements. 0001, 0003, 0005 and 0007 may not be used at all, so
 * they count as private too: with no creator, whatever stands there is removed.
 */
export function isPrivate(t: Tag): boolean {
  const g = groupOf(t);
  return (g & 1) === 1 && g !== 0xffff;
}

/** (gggg,0010)-(gggg,00FF) reserve a block of private elements for a creator. */
export function isPrivateCreator(t: Tag): boolean {
  const e = elementOf(t);
  return isPrivate(t) && groupOf(t) > 0x0008 && e >= 0x0010 && e <= 0x00ff;
}

/** The private creator slot (gggg,00xx) that owns a private data element (gggg,xxyy). */
export function privateCreatorSlotOf(t: Tag): Tag | undefined {
  const e = elementOf(t);
  if (!isPrivate(t) || e < 0x1000) return undefined;
  return tag(groupOf(t), e >>> 8);
}

/** Formatted tags recur in every file's action list; the set of distinct tags is small. */
const formatted = new Map<Tag, string>();

export function formatTag(t: Tag): string {
  let s = formatted.get(t);
  if (s === undefined) {
    const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
    s = `(${hex(groupOf(t))},${hex(elementOf(t))})`;
    if (formatted.size < 50_000) formatted.set(t, s);
  }
  return s;
}

/** Compact hex form "GGGGEEEE", used as a key in generated tables. */
export function tagKey(t: Tag): string {
  return t.toString(16).toUpperCase().padStart(8, '0');
}

export const Tags = {
  FileMetaInformationGroupLength: tag(0x0002, 0x0000),
  MediaStorageSOPClassUID: tag(0x0002, 0x0002),
  MediaStorageSOPInstanceUID: tag(0x0002, 0x0003),
  TransferSyntaxUID: tag(0x0002, 0x0010),
  ImplementationClassUID: tag(0x0002, 0x0012),
  ImplementationVersionName: tag(0x0002, 0x0013),
  SpecificCharacterSet: tag(0x0008, 0x0005),
  SOPClassUID: tag(0x0008, 0x0016),
  SOPInstanceUID: tag(0x0008, 0x0018),
  StudyDate: tag(0x0008, 0x0020),
  StudyTime: tag(0x0008, 0x0030),
  AccessionNumber: tag(0x0008, 0x0050),
  StudyDescription: tag(0x0008, 0x1030),
  StudyID: tag(0x0020, 0x0010),
  SeriesNumber: tag(0x0020, 0x0011),
  InstanceNumber: tag(0x0020, 0x0013),
  Modality: tag(0x0008, 0x0060),
  PatientName: tag(0x0010, 0x0010),
  PatientID: tag(0x0010, 0x0020),
  PatientBirthDate: tag(0x0010, 0x0030),
  PatientIdentityRemoved: tag(0x0012, 0x0062),
  DeidentificationMethod: tag(0x0012, 0x0063),
  DeidentificationMethodCodeSequence: tag(0x0012, 0x0064),
  LongitudinalTemporalInformationModified: tag(0x0028, 0x0303),
  StudyInstanceUID: tag(0x0020, 0x000d),
  SeriesInstanceUID: tag(0x0020, 0x000e),
  PixelData: tag(0x7fe0, 0x0010),
  FloatPixelData: tag(0x7fe0, 0x0008),
  DoubleFloatPixelData: tag(0x7fe0, 0x0009),
  Item: tag(0xfffe, 0xe000),
  ItemDelimitationItem: tag(0xfffe, 0xe00d),
  SequenceDelimitationItem: tag(0xfffe, 0xe0dd),
} as const;
