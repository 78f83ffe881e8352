import { formatTag, type Tag } from './tag.js';

/**
 * A file that is not valid DICOM, or not DICOM at all. The message names the reason and,
 * where known, the byte offset and element; the pipeline adds the file name.
 */
export class DicomParseError extends Error {
  override readonly name = 'DicomParseError';
  constructor(
    readonly reason: string,
    readonly offset?: number,
    readonly tag?: Tag,
  ) {
    super(
      reason +
        (tag !== undefined ? ` in element ${formatTag(tag)}` : '') +
        (offset !== undefined ? ` at byte ${offset}` : ''),
    );
  }
}

/** The input is not a DICOM file at all (no preamble, no recognisable first element). */
export class NotDicomError extends DicomParseError {
  constructor(reason = 'not a DICOM file: no DICM preamble and no recognisable first element') {
    super(reason);
  }
}
