/**
 * Rényi differential privacy (RDP) accounting of the sampled Gaussian mechanism, and its
 * conversion to (ε, δ)-DP.
 *
 * - A mechanism is (α, ρ)-RDP when the Rényi divergence of order α between its output
 *   distributions on neighbouring inputs is at most ρ (Mironov, "Rényi Differential Privacy",
 *   CSF 2017, Definition 4). RDP composes by addition at each order (Proposition 1), so an
 *   accountant keeps one running sum per order.
 * - The Gaussian mechanism with L2 sensitivity 1 and noise N(0, σ²) is (α, α/(2σ²))-RDP
 *   (Mironov 2017, Table II). In DP-FedAvg the sensitivity is the clip norm C and the noise on the
 *   sum has standard deviation zC, so σ = z, the noise multiplier.
 * - With each user included independently with probability q (Poisson sampling), the sampled
 *   Gaussian mechanism's RDP is log(A_α)/(α − 1) (Mironov, Talwar & Zhang, "Rényi Differential
 *   Privacy of the Sampled Gaussian Mechanism", 2019, Section 3). For integer α,
 *   A_α = Σ_{i=0..α} C(α, i) (1 − q)^{α−i} q^i exp((i² − i)/(2σ²)) (their Section 3.3);
 *   for fractional α, the two-sided series with erfc terms of their Section 3.3. Both are summed
 *   in log space, as TensorFlow Privacy's `compute_rdp` does (`rdp_accountant.py`), so that
 *   orders up to 256 do not overflow.
 * - Conversion to (ε, δ): by default the bound of Balle, Barthe, Gaboardi, Hsu & Sato
 *   ("Hypothesis Testing Interpretations and Rényi Differential Privacy", AISTATS 2020,
 *   Theorem 21; also Canonne, Kamath & Steinke 2020, Proposition 12), which TensorFlow Privacy
 *   and dp_accounting use today:
 *     ε = min_α ρ(α) + log((α − 1)/α) − (log δ + log α)/(α − 1);
 *   or, on request, Mironov 2017's Proposition 3, ε = min_α ρ(α) + log(1/δ)/(α − 1), which is
 *   never smaller.
 *
 * The adjacency is add-or-remove-one user. In DP-FedAvg one user is one site (user-level DP,
 * McMahan, Ramage, Talwar & Zhang, "Learning Differentially Private Recurrent Language Models",
 * ICLR 2018), and the sampling rate is the share of sites that take part in a round.
 */

/** Bad parameters given to the accountant: a noise multiplier, sampling rate, order or δ out of range. */
export class PrivacyAccountingError extends Error {
  override readonly name = 'PrivacyAccountingError';
}

/**
 * The orders TensorFlow Privacy's DP-SGD tools evaluate (`compute_dp_sgd_privacy`), up to 256:
 * fine steps where small budgets are decided, integers up to 63, then 128 and 256 for very
 * small ε.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5,
  ...Array.from({ length: 59 }, (_, k) => 5 + k),
  128, 256,
]);

/** How RDP is turned into (ε, δ); see the module comment. */
export type RdpConversion = 'balle2020' | 'mironov2017';

export interface PrivacySpent {
  readonly epsilon: number;
  /** The RDP order at which the minimum was reached. */
  readonly order: number;
}

// ---------------------------------------------------------------------------------------------
// Log-space arithmetic

/** log(e^a + e^b) without overflow. */
function logAdd(a: number, b: number): number {
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  if (lo === -Infinity) return hi;
  return hi + Math.log1p(Math.exp(lo - hi));
}

/** log(e^a − e^b) for a ≥ b. */
function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (a < b) throw new PrivacyAccountingError('internal: a negative sum appeared in the RDP series (log-space subtraction)');
  if (a === b) return -Infinity;
  const d = a - b;
  // e^a − e^b = e^b (e^{a−b} − 1); for a large gap the −1 is negligible.
  return d > 700 ? a : b + Math.log(Math.expm1(d));
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);

/**
 * log(erfc(x)) for every finite x, accurate in relative terms also where erfc(x) underflows
 * (x > 26): the series of the fractional-order formula needs erfc of arguments far in the tail.
 *
 * - x < 2: erfc = 1 − erf, with erf(x) = (2/√π) e^{−x²} Σ_n 2^n x^{2n+1} / (2n + 1)!!
 *   (Abramowitz & Stegun 7.1.6; all terms positive, so no cancellation inside the sum);
 *   for x < 0, erfc(x) = 2 − erfc(−x).
 * - x ≥ 2: erfc(x) = (e^{−x²}/√π) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
 *   (A&S 7.1.14), taken in log space.
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) throw new PrivacyAccountingError('logErfc: the argument is NaN');
  if (x === Infinity) return -Infinity;
  if (x === -Infinity) return Math.LN2;
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x < 2) return Math.log(1 - erfSeries(x));
  // Modified Lentz's method (Numerical Recipes 3rd ed., §5.2): stops when a term changes the
  // value by less than a rounding error, a few terms far in the tail, ~100 near x = 2.
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 1000; k++) {
    const a = k / 2;
    d = 1 / (x + a * d);
    c = x + a / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - LOG_SQRT_PI - Math.log(f);
}

/** erf(x) for 0 ≤ x < 2 by A&S 7.1.6. */
function erfSeries(x: number): number {
  const twoXSquared = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 0; n < 200; n++) {
    term *= twoXSquared / (2 * n + 3);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

// ---------------------------------------------------------------------------------------------
// RDP of the sampled Gaussian mechanism

/** log(A_α) for integer α ≥ 2 and 0 < q < 1 (Mironov, Talwar & Zhang 2019, Section 3.3). */
function logAInteger(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const logOneMinusQ = Math.log1p(-q);
  const twoSigmaSquared = 2 * sigma * sigma;
  let logBinomial = 0; // log C(α, 0)
  let logA = -Infinity;
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinomial += Math.log(alpha - i + 1) - Math.log(i);
    const term = logBinomial + i * logQ + (alpha - i) * logOneMinusQ + (i * i - i) / twoSigmaSquared;
    logA = logAdd(logA, term);
  }
  return logA;
}

/**
 * log(A_α) for fractional α > 1 and 0 < q < 1: the integral split at
 * z0 = σ² log(1/q − 1) + 1/2, each side a series in the generalised binomial coefficients
 * C(α, i) (which change sign for i > α), with Gaussian tail masses as erfc terms
 * (Mironov, Talwar & Zhang 2019, Section 3.3). Summed until both new terms fall below e^−30.
 */
function logAFractional(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const logOneMinusQ = Math.log1p(-q);
  const twoSigmaSquared = 2 * sigma * sigma;
  const sqrt2Sigma = Math.SQRT2 * sigma;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  let coefficient = 1; // C(α, 0)
  for (let i = 0; ; i++) {
    if (i > 0) coefficient *= (alpha - i + 1) / i;
    const logCoefficient = Math.log(Math.abs(coefficient));
    const j = alpha - i;
    const logT0 = logCoefficient + i * logQ + j * logOneMinusQ;
    const logT1 = logCoefficient + j * logQ + i * logOneMinusQ;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma);
    const logS0 = logT0 + (i * i - i) / twoSigmaSquared + logE0;
    const logS1 = logT1 + (j * j - j) / twoSigmaSquared + logE1;
    if (coefficient > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
    if (i > 100_000) throw new PrivacyAccountingError(`the RDP series at order ${alpha} did not converge (q = ${q}, σ = ${sigma})`);
  }
  return logAdd(logA0, logA1);
}

function checkOrder(order: number): void {
  if (!(Number.isFinite(order) && order > 1)) {
    throw new PrivacyAccountingError(`an RDP order must be a finite number greater than 1, got ${order}`);
  }
}

function checkNoise(noiseMultiplier: number): void {
  if (!(Number.isFinite(noiseMultiplier) && noiseMultiplier > 0)) {
    throw new PrivacyAccountingError(`the noise multiplier must be a finite number greater than 0, got ${noiseMultiplier}`);
  }
}

function checkSamplingRate(samplingRate: number): void {
  if (!(samplingRate >= 0 && samplingRate <= 1)) {
    throw new PrivacyAccountingError(`the sampling rate must be in [0, 1], got ${samplingRate}`);
  }
}

function checkDelta(delta: number): void {
  if (!(delta > 0 && delta < 1)) throw new PrivacyAccountingError(`δ must be in (0, 1), got ${delta}`);
}

/**
 * RDP at `order` of one application of the Gaussian mechanism with noise multiplier σ to a
 * Poisson sample of rate q. q = 1 is the plain Gaussian mechanism, α/(2σ²); q = 0 releases
 * nothing about anyone, 0.
 */
export function sampledGaussianRdp(samplingRate: number, noiseMultiplier: number, order: number): number {
  checkSamplingRate(samplingRate);
  checkNoise(noiseMultiplier);
  checkOrder(order);
  if (samplingRate === 0) return 0;
  if (samplingRate === 1) return order / (2 * noiseMultiplier * noiseMultiplier);
  const logA = Number.isInteger(order)
    ? logAInteger(samplingRate, noiseMultiplier, order)
    : logAFractional(samplingRate, noiseMultiplier, order);
  // A_α ≥ 1 mathematically; rounding can leave a hair below.
  return Math.max(0, logA) / (order - 1);
}

/**
 * The smallest ε, over the orders, for which RDP values `rdp` (one per order) imply (ε, δ)-DP.
 */
export function epsilonFromRdp(
  orders: readonly number[],
  rdp: ArrayLike<number>,
  delta: number,
  conversion: RdpConversion = 'balle2020',
): PrivacySpent {
  checkDelta(delta);
  if (orders.length === 0 || orders.length !== rdp.length) {
    throw new PrivacyAccountingError(`epsilonFromRdp needs one RDP value per order (${orders.length} orders, ${rdp.length} values)`);
  }
  const logDelta = Math.log(delta);
  let best: PrivacySpent = { epsilon: Infinity, order: orders[0]! };
  for (let k = 0; k < orders.length; k++) {
    const alpha = orders[k]!;
    const r = rdp[k]!;
    checkOrder(alpha);
    if (!(r >= 0)) throw new PrivacyAccountingError(`RDP values must be ≥ 0, got ${r} at order ${alpha}`);
    let epsilon: number;
    if (conversion === 'mironov2017') {
      epsilon = r - logDelta / (alpha - 1);
    } else if (delta * delta + Math.expm1(-r) >= 0) {
      // δ ≥ √(1 − e^{−ρ}) already bounds the total variation distance: (0, δ)-DP.
      epsilon = 0;
    } else if (alpha > 1.01) {
      epsilon = r + Math.log1p(-1 / alpha) - (logDelta + Math.log(alpha)) / (alpha - 1);
    } else {
      // The bound is numerically unstable as α → 1 and never the minimum there.
      epsilon = Infinity;
    }
    if (epsilon < best.epsilon) best = { epsilon, order: alpha };
  }
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}

/**
 * Running RDP of a sequence of (sampled) Gaussian mechanisms: one `step` per round of
 * DP-FedAvg (or per batch of DP-SGD), ε for a δ at any time.
 */
export class RdpAccountant {
  readonly orders: readonly number[];
  private readonly totals: Float64Array;
  private stepCount = 0;

  constructor(orders: readonly number[] = DEFAULT_RDP_ORDERS) {
    if (orders.length === 0) throw new PrivacyAccountingError('the accountant needs at least one RDP order');
    for (const order of orders) checkOrder(order);
    this.orders = Object.freeze([...orders]);
    this.totals = new Float64Array(orders.length);
  }

  /** Records `steps` applications of the Gaussian mechanism with this noise multiplier and sampling rate. */
  step(noiseMultiplier: number, samplingRate: number, steps = 1): this {
    checkNoise(noiseMultiplier);
    checkSamplingRate(samplingRate);
    if (!(Number.isInteger(steps) && steps >= 0)) {
      throw new PrivacyAccountingError(`the number of steps must be a whole number ≥ 0, got ${steps}`);
    }
    for (let k = 0; k < this.orders.length; k++) {
      this.totals[k]! += steps * sampledGaussianRdp(samplingRate, noiseMultiplier, this.orders[k]!);
    }
    this.stepCount += steps;
    return this;
  }

  /** How many mechanism applications have been recorded. */
  get steps(): number {
    return this.stepCount;
  }

  /** The accumulated RDP, one value per order (a copy). */
  rdp(): Float64Array {
    return this.totals.slice();
  }

  /** The (ε, δ) guarantee of everything recorded so far. */
  epsilon(delta: number, conversion: RdpConversion = 'balle2020'): PrivacySpent {
    return epsilonFromRdp(this.orders, this.totals, delta, conversion);
  }
}

/** ε after `rounds` rounds with this noise multiplier and sampling rate. */
export function epsilonFor(
  noiseMultiplier: number,
  delta: number,
  rounds: number,
  samplingRate: number,
  orders: readonly number[] = DEFAULT_RDP_ORDERS,
  conversion: RdpConversion = 'balle2020',
): PrivacySpent {
  return new RdpAccountant(orders).step(noiseMultiplier, samplingRate, rounds).epsilon(delta, conversion);
}

/** Largest noise multiplier the bisection will try; a target needing more is refused. */
const MAX_NOISE_MULTIPLIER = 1e4;

/**
 * The smallest noise multiplier (to a relative precision of 1e-6, rounded up) whose ε after
 * `rounds` rounds at `samplingRate` is at most `epsilon`, found by bisection (ε falls as the
 * noise multiplier grows).
 */
export function noiseMultiplierFor(
  epsilon: number,
  delta: number,
  rounds: number,
  samplingRate: number,
  orders: readonly number[] = DEFAULT_RDP_ORDERS,
  conversion: RdpConversion = 'balle2020',
): number {
  if (!(Number.isFinite(epsilon) && epsilon > 0)) throw new PrivacyAccountingError(`the target ε must be a finite number greater than 0, got ${epsilon}`);
  checkDelta(delta);
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new PrivacyAccountingError(`the number of rounds must be a whole number ≥ 1, got ${rounds}`);
  if (!(samplingRate > 0 && samplingRate <= 1)) throw new PrivacyAccountingError(`the sampling rate must be in (0, 1], got ${samplingRate}`);
  const spent = (z: number): number => epsilonFor(z, delta, rounds, samplingRate, orders, conversion).epsilon;

  let high = 1;
  while (spent(high) > epsilon) {
    high *= 2;
    if (high > MAX_NOISE_MULTIPLIER) {
      throw new PrivacyAccountingError(
        `no noise multiplier up to ${MAX_NOISE_MULTIPLIER} reaches ε = ${epsilon} at δ = ${delta} over ${rounds} rounds ` +
          `(the largest RDP order, ${Math.max(...orders)}, limits how small ε can be)`,
      );
    }
  }
  let low = high / 2;
  if (spent(low) <= epsilon) {
    // The target is met below 1: keep halving to bracket it.
    while (spent(low) <= epsilon && low > 1e-6) low /= 2;
    if (spent(low) <= epsilon) return low;
    high = low * 2;
  }
  while (high - low > 1e-6 * high) {
    const middle = (low + high) / 2;
    if (spent(middle) <= epsilon) high = middle;
    else low = middle;
  }
  return high;
}
