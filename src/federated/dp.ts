/**
 * Differential privacy for federated averaging: DP-FedAvg (McMahan, Ramage, Talwar & Zhang,
 * "Learning Differentially Private Recurrent Language Models", ICLR 2018, Algorithm 1) with
 * user-level privacy, one site being one user.
 *
 * A round: every site clips its update (new − global parameters) to L2 norm C (`clipToNorm`);
 * the coordinator adds Gaussian noise N(0, (zC)²) to each coordinate of the SUM of the clipped
 * updates and divides by a fixed count (`dpAggregate`). Adding or removing one site changes the
 * sum by at most C, so the noisy sum is the Gaussian mechanism with noise multiplier z, which
 * `rdp.ts` accounts round by round.
 *
 * The divisor must not depend on who took part: McMahan et al.'s fixed-denominator estimator
 * divides by the expected number of participants. Dividing by the number that actually took part
 * is the same thing when participation is public (the consortium knows which hospitals are in),
 * which is how the coordinator uses it.
 *
 * Noise sources: a seeded xoshiro128** stream (`createRng` of `random.ts`, Box–Muller) makes
 * tests and simulations reproducible but is NOT a secure noise source — its 32-bit seed can be
 * searched, and whoever recovers the seed subtracts the noise. Real runs draw from the operating
 * system's CSPRNG (`cryptoRng`, the default of `addGaussianNoise`). Even then the Gaussian is a
 * floating-point approximation; attacks on the low bits of floating-point noise are known
 * (Mironov, "On Significance of the Least Significant Bits for Differential Privacy", CCS 2012).
 */
import { randomFillSync } from 'node:crypto';
import { createRng, type Rng } from './random.js';
import { noiseMultiplierFor } from './rdp.js';

/** An invalid DP configuration: a clip norm, noise multiplier, δ or site count out of range. */
export class DpConfigurationError extends Error {
  override readonly name = 'DpConfigurationError';
}

/** Vectors that cannot be aggregated: lengths that differ from the model's, non-finite values. */
export class DpInputError extends Error {
  override readonly name = 'DpInputError';
}

/** A round with fewer participating sites than the DP plan requires: it must not run. */
export class InsufficientSitesError extends Error {
  override readonly name = 'InsufficientSitesError';
  constructor(
    readonly required: number,
    readonly available: number,
  ) {
    super(
      `differential privacy needs at least ${required} participating site${required === 1 ? '' : 's'} per round, ` +
        `only ${available} remain${available === 1 ? 's' : ''}: the round is refused`,
    );
  }
}

/** The conventional δ for user-level guarantees: far below 1 / the number of users. */
export const DEFAULT_DP_DELTA = 1e-5;

/** The Euclidean norm of `v`. */
export function l2Norm(v: Float64Array): number {
  // Scaled sum of squares: no overflow for huge entries, no underflow to 0 for tiny ones.
  let scale = 0;
  for (let i = 0; i < v.length; i++) scale = Math.max(scale, Math.abs(v[i]!));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const r = v[i]! / scale;
    sum += r * r;
  }
  return scale * Math.sqrt(sum);
}

function checkClipNorm(c: number): void {
  if (!(Number.isFinite(c) && c > 0)) throw new DpConfigurationError(`the clip norm must be a finite number greater than 0, got ${c}`);
}

function checkFinite(v: Float64Array, what: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw new DpInputError(`${what} has a non-finite value (${v[i]}) at index ${i}`);
  }
}

/**
 * `v` scaled by min(1, c / ‖v‖₂): a new array whose norm is at most c, with `v`'s direction
 * (McMahan et al. 2018, "flat clipping"). `v` is not modified.
 */
export function clipToNorm(v: Float64Array, c: number): Float64Array {
  checkClipNorm(c);
  checkFinite(v, 'the vector to clip');
  const norm = l2Norm(v);
  const out = v.slice();
  if (norm > c) {
    const factor = c / norm;
    for (let i = 0; i < out.length; i++) out[i]! *= factor;
  }
  return out;
}

/** A generator of the `Rng` interface reading the operating system's CSPRNG (`crypto.randomFillSync`), buffered. */
export function cryptoRng(): Rng {
  const words = new Uint32Array(1024);
  let position = words.length;
  let spare: number | undefined;
  const nextUint32 = (): number => {
    if (position === words.length) {
      randomFillSync(words);
      position = 0;
    }
    return words[position++]!;
  };
  // 53 random bits: 27 + 26, as `random.ts` builds its doubles.
  const next = (): number => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992;
  return {
    next,
    nextUint32,
    nextInt(bound: number): number {
      if (!Number.isInteger(bound) || bound < 1 || bound > 4294967296) throw new RangeError(`nextInt needs an integer bound in [1, 2^32], got ${bound}`);
      const limit = 4294967296 - (4294967296 % bound);
      for (;;) {
        const r = nextUint32();
        if (r < limit) return r % bound;
      }
    },
    gaussian(): number {
      if (spare !== undefined) {
        const z = spare;
        spare = undefined;
        return z;
      }
      const radius = Math.sqrt(-2 * Math.log(1 - next()));
      const angle = 2 * Math.PI * next();
      spare = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
  };
}

function rngFrom(seedOrRng: number | Rng | undefined): Rng {
  if (seedOrRng === undefined) return cryptoRng();
  return typeof seedOrRng === 'number' ? createRng(seedOrRng) : seedOrRng;
}

/**
 * `v` plus independent N(0, sigma²) noise in every coordinate, as a new array. A number seeds a
 * reproducible stream (tests, simulations); an `Rng` is drawn from; nothing means the
 * operating system's CSPRNG, which real runs must use (see the module comment).
 */
export function addGaussianNoise(v: Float64Array, sigma: number, seedOrRng?: number | Rng): Float64Array {
  if (!(Number.isFinite(sigma) && sigma >= 0)) throw new DpConfigurationError(`the noise standard deviation must be a finite number ≥ 0, got ${sigma}`);
  const rng = rngFrom(seedOrRng);
  const out = v.slice();
  if (sigma === 0) return out;
  for (let i = 0; i < out.length; i++) out[i]! += sigma * rng.gaussian();
  return out;
}

/**
 * One DP-FedAvg aggregation (McMahan et al. 2018, Algorithm 1, fixed denominator):
 *   new = current + (Σ clip(Δ_k, C) + N(0, (zC)² I)) / count.
 *
 * `updates` is either every site's update (new − global; re-clipped here, so a site that did not
 * clip cannot break the sensitivity bound) or their sum as secure aggregation delivers it (which
 * cannot be re-clipped: the sites' own clipping is trusted). `count` is the divisor (see the
 * module comment). `current` and `updates` are not modified.
 */
export function dpAggregate(
  current: Float64Array,
  updates: readonly Float64Array[] | Float64Array,
  count: number,
  clipNorm: number,
  noiseMultiplier: number,
  rng: Rng,
): Float64Array {
  checkClipNorm(clipNorm);
  if (!(Number.isFinite(noiseMultiplier) && noiseMultiplier >= 0)) {
    throw new DpConfigurationError(`the noise multiplier must be a finite number ≥ 0, got ${noiseMultiplier}`);
  }
  if (!(Number.isInteger(count) && count >= 1)) throw new DpConfigurationError(`the divisor of the noisy sum must be a whole number ≥ 1, got ${count}`);
  const d = current.length;
  let sum: Float64Array;
  if (updates instanceof Float64Array) {
    if (updates.length !== d) throw new DpInputError(`the summed update has ${updates.length} values, the model ${d}`);
    checkFinite(updates, 'the summed update');
    sum = updates;
  } else {
    if (updates.length === 0) throw new DpInputError('no updates to aggregate');
    sum = new Float64Array(d);
    updates.forEach((update, k) => {
      if (update.length !== d) throw new DpInputError(`update ${k} has ${update.length} values, the model ${d}`);
      const clipped = clipToNorm(update, clipNorm);
      for (let i = 0; i < d; i++) sum[i]! += clipped[i]!;
    });
  }
  const sigma = noiseMultiplier * clipNorm;
  const next = current.slice();
  for (let i = 0; i < d; i++) next[i]! += (sum[i]! + sigma * rng.gaussian()) / count;
  return next;
}

/** The DP settings of a federated run, fixed before the first round. */
export interface DpPlan {
  /** C: the L2 norm every site clips its update to. */
  readonly clipNorm: number;
  /** z: the noise on the sum has standard deviation zC per coordinate. */
  readonly noiseMultiplier: number;
  /** Rounds with fewer participating sites are refused. */
  readonly minSites: number;
  /** Sites in the consortium: the population the sampling rate refers to. */
  readonly totalSites: number;
  /** δ of the reported (ε, δ) guarantee. */
  readonly delta: number;
}

/** `plan` if every field is in range; otherwise a `DpConfigurationError` naming the field. */
export function validateDpPlan(plan: DpPlan): DpPlan {
  checkClipNorm(plan.clipNorm);
  if (!(Number.isFinite(plan.noiseMultiplier) && plan.noiseMultiplier > 0)) {
    throw new DpConfigurationError(`noiseMultiplier must be a finite number greater than 0, got ${plan.noiseMultiplier}`);
  }
  if (!(Number.isInteger(plan.totalSites) && plan.totalSites >= 1)) {
    throw new DpConfigurationError(`totalSites must be a whole number ≥ 1, got ${plan.totalSites}`);
  }
  if (!(Number.isInteger(plan.minSites) && plan.minSites >= 1 && plan.minSites <= plan.totalSites)) {
    throw new DpConfigurationError(`minSites must be a whole number from 1 to totalSites (${plan.totalSites}), got ${plan.minSites}`);
  }
  if (!(plan.delta > 0 && plan.delta < 1)) throw new DpConfigurationError(`delta must be in (0, 1), got ${plan.delta}`);
  return plan;
}

/**
 * Throws `InsufficientSitesError` when fewer than `plan.minSites` sites take part. The noise was
 * calibrated, and the guarantee promised, for at least that many contributions to the sum; with
 * fewer, one site's clipped update dominates the average the consortium receives.
 */
export function assertEnoughSites(plan: DpPlan, participating: number): void {
  if (!(Number.isInteger(participating) && participating >= 0)) {
    throw new DpConfigurationError(`the number of participating sites must be a whole number ≥ 0, got ${participating}`);
  }
  if (participating < plan.minSites) throw new InsufficientSitesError(plan.minSites, participating);
}

/**
 * The sampling rate of a round for the accountant: participating sites / all sites. Privacy
 * amplification by sampling assumes the participants were drawn at random and the draw stays
 * secret; when every available site takes part this is 1 and no amplification is claimed.
 */
export function roundSamplingRate(plan: DpPlan, participating: number): number {
  if (!(Number.isInteger(participating) && participating >= 1 && participating <= plan.totalSites)) {
    throw new DpConfigurationError(`the number of participating sites must be from 1 to ${plan.totalSites}, got ${participating}`);
  }
  return participating / plan.totalSites;
}

/** What a DP run promises: a target ε at δ over a number of rounds, the rest as in `DpPlan`. */
export interface DpTarget {
  readonly epsilon: number;
  readonly delta: number;
  readonly rounds: number;
  readonly clipNorm: number;
  readonly minSites: number;
  readonly totalSites: number;
  /** Sites expected in each round (default: all); the sampling rate is this / totalSites. */
  readonly sitesPerRound?: number;
}

/**
 * A validated `DpPlan` whose noise multiplier is the smallest that keeps ε at or below the target
 * after `rounds` rounds (`noiseMultiplierFor`).
 */
export function planDp(target: DpTarget): DpPlan {
  const sitesPerRound = target.sitesPerRound ?? target.totalSites;
  if (!(Number.isInteger(sitesPerRound) && sitesPerRound >= 1 && sitesPerRound <= target.totalSites)) {
    throw new DpConfigurationError(`sitesPerRound must be a whole number from 1 to totalSites (${target.totalSites}), got ${sitesPerRound}`);
  }
  if (!(Number.isFinite(target.epsilon) && target.epsilon > 0)) throw new DpConfigurationError(`the target ε must be a finite number greater than 0, got ${target.epsilon}`);
  if (!(Number.isInteger(target.rounds) && target.rounds >= 1)) throw new DpConfigurationError(`rounds must be a whole number ≥ 1, got ${target.rounds}`);
  if (!(target.delta > 0 && target.delta < 1)) throw new DpConfigurationError(`delta must be in (0, 1), got ${target.delta}`);
  const noiseMultiplier = noiseMultiplierFor(target.epsilon, target.delta, target.rounds, sitesPerRound / target.totalSites);
  return validateDpPlan({
    clipNorm: target.clipNorm,
    noiseMultiplier,
    minSites: target.minSites,
    totalSites: target.totalSites,
    delta: target.delta,
  });
}
