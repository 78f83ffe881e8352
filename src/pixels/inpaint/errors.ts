/** The one error of pixel removal: a frame, mask or option that cannot be used, and why. */
export class InpaintError extends Error {
  override readonly name = 'InpaintError';
}
