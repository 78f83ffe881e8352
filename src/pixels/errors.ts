/** Errors of pixel cleaning that a batch reports by their message (light: no codec or OCR loaded). */

/** Raised when a file's pixels cannot be made clean: the file fails, nothing is written. */
export class PixelCleaningError extends Error {
  override readonly name = 'PixelCleaningError';
}
