/**
 * Errors of the radiomics engine's boundaries: bad settings (a settings file, a preset name)
 * and bad input (an image and a mask that cannot be analysed together). Both name what is wrong
 * and where, so a user can fix the file or the data without reading code.
 */

/** A settings file or object that does not describe valid IBSI image processing. */
export class RadiomicsSettingsError extends Error {
  override readonly name = 'RadiomicsSettingsError';
  constructor(
    /** The file (or "<preset>", "<object>") the settings came from. */
    readonly source: string,
    /** The offending key as a dotted path, e.g. "interpolation.spacing"; '' for the whole document. */
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${source}: ${key === '' ? '' : `${key}: `}${reason}`);
  }
}

/** An image and mask that cannot be processed: grids that differ, an empty ROI, non-finite intensities. */
export class RadiomicsInputError extends Error {
  override readonly name = 'RadiomicsInputError';
}
