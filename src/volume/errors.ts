/**
 * Errors of the volume readers and writers. Each names the file it is about (when there is one)
 * at the start of its message, so that a command can print it as it is.
 */

/** The base class: something about a volume, a mask or their files is wrong. */
export class VolumeError extends Error {
  override readonly name: string = 'VolumeError';
  constructor(
    /** What is wrong, without the file name. */
    readonly reason: string,
    /** The file (or folder) concerned, when there is one. */
    readonly file?: string,
  ) {
    super(file === undefined ? reason : `${file}: ${reason}`);
  }
}

/** A file that is not what it claims to be, is cut short, or uses a feature not supported. */
export class VolumeFormatError extends VolumeError {
  override readonly name = 'VolumeFormatError';
}

/** Geometry that does not fit: slices not evenly spaced, frames off the grid, grids that differ. */
export class VolumeGeometryError extends VolumeError {
  override readonly name = 'VolumeGeometryError';
}

/** A series, segment or ROI that was asked for and is absent, or a choice that was needed and not made. */
export class VolumeSelectionError extends VolumeError {
  override readonly name = 'VolumeSelectionError';
  constructor(
    reason: string,
    file: string | undefined,
    /** What could have been chosen, one line each (e.g. "2: GTV"). */
    readonly choices: readonly string[],
  ) {
    super(choices.length > 0 ? `${reason}; available: ${choices.join(', ')}` : reason, file);
  }
}
