/**
 * Secure aggregation (Bonawitz et al., CCS 2017) with SecAgg+ neighbourhoods (Bell et al., CCS
 * 2020): the coordinator learns the sum of the sites' quantised updates and nothing else. The
 * protocol objects do no I/O; the transport carries their JSON messages.
 */
export { SecAggClient, type SecAggClientOptions } from './client.js';
export { SecAggServer, type SecAggResult, type SecAggServerOptions, type ServerStage } from './server.js';
export { SecAggAbortError, SecAggConfigError, SecAggError, SecAggMessageError, SecAggRefusalError, SecAggStateError } from './errors.js';
export { graphDegree, type Neighbourhood } from './graph.js';
export { dequantiseSum, maxQuantisationBits, quantise, QuantisationError, type Rounding } from './quantise.js';
export { RING_BITS } from './ring.js';
export { SeededRandom, systemRandom, type RandomBytes } from './prg.js';
export type {
  AdvertiseKeysMessage,
  ClientId,
  ForwardedSharesMessage,
  HeldShare,
  MaskedInputMessage,
  PublicKeys,
  RosterMessage,
  ShareKeysMessage,
  UnmaskRequestMessage,
  UnmaskResponseMessage,
} from './messages.js';
