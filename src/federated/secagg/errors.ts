/**
 * Errors of secure aggregation. Each names the client and the protocol round it concerns, so a
 * coordinator can log why a site was left out of a round, or why the round was abandoned.
 */

/** The base of every secure aggregation error. */
export class SecAggError extends Error {
  override readonly name: string = 'SecAggError';
}

/** Settings that cannot run the protocol (threshold out of range, bad vector length, ...). */
export class SecAggConfigError extends SecAggError {
  override readonly name: string = 'SecAggConfigError';
}

/**
 * A message that does not follow the protocol: wrong type or session, bad base64, wrong length,
 * shares for the wrong clients, a ciphertext that does not authenticate. The server leaves the
 * sender out of the round (as if it had dropped out); a client aborts.
 */
export class SecAggMessageError extends SecAggError {
  override readonly name: string = 'SecAggMessageError';
}

/**
 * The protocol cannot finish: fewer than `threshold` clients remain, or a secret cannot be
 * reconstructed from the shares that came back. The round yields no sum.
 */
export class SecAggAbortError extends SecAggError {
  override readonly name: string = 'SecAggAbortError';
}

/**
 * A client refuses a request that would let the server unmask an individual input, e.g. asking
 * for both the self-mask share and the mask-key share of the same peer (Bonawitz et al. 2017,
 * §4, Round 3). The client discards its secrets and takes no further part.
 */
export class SecAggRefusalError extends SecAggError {
  override readonly name: string = 'SecAggRefusalError';
}

/** A protocol object called out of order (e.g. unmasking before sending a masked input, or twice). */
export class SecAggStateError extends SecAggError {
  override readonly name: string = 'SecAggStateError';
}
