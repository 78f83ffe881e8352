import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RDP_ORDERS,
  PrivacyAccountingError,
  RdpAccountant,
  epsilonFor,
  epsilonFromRdp,
  logErfc,
  noiseMultiplierFor,
  sampledGaussianRdp,
} from '../../../src/federated/rdp.js';

/**
 * A_α = E_{z ~ N(0, σ²)} [((1 − q) + q·exp((2z − 1)/(2σ²)))^α] by the trapezoidal rule on a wide
 * grid (Mironov, Talwar & Zhang 2019, eq. 3): an independent check of the series, as TensorFlow
 * Privacy's tests check theirs against numerical integration.
 */
function rdpByIntegration(q: number, sigma: number, alpha: number): number {
  const lo = -40 * sigma - 10;
  const hi = 40 * sigma + alpha + 10;
  const steps = 400_000;
  const h = (hi - lo) / steps;
  // Integrate in log space relative to the largest integrand value, to keep large orders finite.
  const logIntegrand = (z: number): number =>
    -(z * z) / (2 * sigma * sigma) - Math.log(sigma * Math.sqrt(2 * Math.PI)) + alpha * Math.log(1 - q + q * Math.exp((2 * z - 1) / (2 * sigma * sigma)));
  let peak = -Infinity;
  for (let k = 0; k <= steps; k++) peak = Math.max(peak, logIntegrand(lo + k * h));
  let sum = 0;
  for (let k = 0; k <= steps; k++) {
    const w = k === 0 || k === steps ? 0.5 : 1;
    sum += w * Math.exp(logIntegrand(lo + k * h) - peak);
  }
  return (peak + Math.log(sum * h)) / (alpha - 1);
}

describe('logErfc', () => {
  it('matches erfc to near machine precision across its range', () => {
    // Reference values of erfc (Abramowitz & Stegun Table 7.1; tails from mpmath).
    const cases: [number, number][] = [
      [0, 1],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047266],
      [3, 2.209049699858544e-5],
      [10, 2.088487583762545e-45],
      [-1, 1.8427007929497148],
      [-6, 2],
    ];
    for (const [x, erfc] of cases) expect(Math.exp(logErfc(x)) / erfc - 1).toBeLessThan(1e-13);
  });

  it('stays finite and accurate where erfc underflows', () => {
    // erfc(x) ~ e^{−x²}/(x√π) (1 − 1/(2x²) + 3/(4x⁴) − …) for large x (A&S 7.1.23).
    const x = 40;
    const asymptotic = -x * x - Math.log(x * Math.sqrt(Math.PI)) + Math.log(1 - 1 / (2 * x * x) + 3 / (4 * x ** 4) - 15 / (8 * x ** 6));
    expect(logErfc(x)).toBeCloseTo(asymptotic, 10);
    expect(Math.exp(logErfc(x))).toBe(0);
  });
});

describe('sampledGaussianRdp', () => {
  it('is exactly α/(2σ²) without sampling (q = 1, the Gaussian mechanism, Mironov 2017 Table II)', () => {
    for (const sigma of [0.5, 1.1, 4]) {
      for (const alpha of [1.5, 2, 32, 256]) expect(sampledGaussianRdp(1, sigma, alpha)).toBe(alpha / (2 * sigma * sigma));
    }
    expect(sampledGaussianRdp(1, 10, 20)).toBe(0.1);
  });

  it('is 0 when nobody is sampled', () => {
    expect(sampledGaussianRdp(0, 1, 20)).toBe(0);
  });

  it("reproduces TensorFlow Privacy's reference values (rdp_accountant_test.py)", () => {
    // compute_rdp(q=0.1, noise_multiplier=2, steps=10, orders=5) = 0.07737
    expect(10 * sampledGaussianRdp(0.1, 2, 5)).toBeCloseTo(0.07737, 5);
    // compute_rdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100]): fractional and integer orders
    const expected = [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307];
    [1.5, 2.5, 5, 50, 100].forEach((alpha, k) => expect(Math.abs(50 * sampledGaussianRdp(0.01, 2.5, alpha) - expected[k]!)).toBeLessThan(1e-5));
  });

  it('agrees with numerical integration of A_α at integer and fractional orders', () => {
    for (const [q, sigma, alpha] of [
      [0.01, 1.1, 2],
      [0.01, 1.1, 2.5],
      [0.1, 2, 7],
      [0.2, 1, 1.25],
      [0.05, 0.8, 4.5],
      [0.3, 3, 32],
    ] as const) {
      const series = sampledGaussianRdp(q, sigma, alpha);
      expect(Math.abs(series / rdpByIntegration(q, sigma, alpha) - 1)).toBeLessThan(1e-6);
    }
  });

  it('never exceeds the unsampled mechanism and grows with the order', () => {
    let previous = 0;
    for (const alpha of DEFAULT_RDP_ORDERS) {
      const r = sampledGaussianRdp(0.05, 1.1, alpha);
      expect(r).toBeLessThanOrEqual(alpha / (2 * 1.1 * 1.1));
      expect(r).toBeGreaterThanOrEqual(previous);
      previous = r;
    }
  });

  it('refuses parameters out of range', () => {
    expect(() => sampledGaussianRdp(1.5, 1, 2)).toThrow(PrivacyAccountingError);
    expect(() => sampledGaussianRdp(0.1, 0, 2)).toThrow(/noise multiplier/);
    expect(() => sampledGaussianRdp(0.1, 1, 1)).toThrow(/order/);
    expect(() => sampledGaussianRdp(0.1, 1, Infinity)).toThrow(/order/);
  });
});

describe('conversion to (ε, δ)', () => {
  it("gives TensorFlow Privacy's ε = 1.258575 for q = 0.01, σ = 4, 10,000 steps, δ = 1e-5 (Abadi et al. 2016's example) with Mironov's conversion", () => {
    const orders = Array.from({ length: 31 }, (_, k) => k + 2);
    const spent = epsilonFor(4, 1e-5, 10_000, 0.01, orders, 'mironov2017');
    expect(spent.epsilon).toBeCloseTo(1.258575, 5);
    expect(spent.order).toBe(20);
  });

  it('the Balle et al. 2020 conversion is never looser than Mironov 2017', () => {
    for (const [sigma, q, steps] of [
      [4, 0.01, 10_000],
      [1.1, 0.01, 10_000],
      [1, 1, 10],
      [0.7, 0.2, 100],
    ] as const) {
      const tight = epsilonFor(sigma, 1e-5, steps, q);
      const classic = epsilonFor(sigma, 1e-5, steps, q, DEFAULT_RDP_ORDERS, 'mironov2017');
      expect(tight.epsilon).toBeLessThan(classic.epsilon);
      expect(tight.epsilon).toBeGreaterThan(0);
    }
    // Abadi et al.'s setting on the default orders: between 1 and the classic 1.26.
    const tight = epsilonFor(4, 1e-5, 10_000, 0.01).epsilon;
    expect(tight).toBeGreaterThan(0.9);
    expect(tight).toBeLessThan(1.258575);
  });

  it("composes heterogeneous mechanisms by adding RDP (TensorFlow Privacy's composition test: ε = 8.509656 at order 2.5)", () => {
    const orders = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 256];
    const accountant = new RdpAccountant(orders).step(0.4, 1e-4, 40_000).step(2, 0.1, 100);
    const spent = accountant.epsilon(1e-5, 'mironov2017');
    expect(spent.epsilon).toBeCloseTo(8.509656, 5);
    expect(spent.order).toBe(2.5);
    expect(accountant.steps).toBe(40_100);
  });

  it('matches the closed form of the unsampled Gaussian mechanism on a single order', () => {
    // q = 1, T rounds, one order α: ε = Tα/(2σ²) + log(1/δ)/(α − 1).
    const spent = epsilonFromRdp([8], [(10 * 8) / (2 * 3 * 3)], 1e-6, 'mironov2017');
    expect(spent.epsilon).toBeCloseTo((10 * 8) / 18 + Math.log(1e6) / 7, 12);
  });

  it('is 0 before any step and refuses δ out of (0, 1)', () => {
    const accountant = new RdpAccountant();
    expect(accountant.epsilon(1e-5).epsilon).toBe(0);
    expect(() => accountant.epsilon(0)).toThrow(/δ/);
    expect(() => accountant.epsilon(1)).toThrow(PrivacyAccountingError);
    expect(() => epsilonFromRdp([2, 3], [1], 1e-5)).toThrow(/one RDP value per order/);
  });
});

describe('RdpAccountant', () => {
  it('is monotonic: more steps, less noise or more sampling never lower ε', () => {
    const eps = (sigma: number, q: number, steps: number): number => epsilonFor(sigma, 1e-5, steps, q).epsilon;
    expect(eps(1.1, 0.01, 1000)).toBeLessThan(eps(1.1, 0.01, 2000));
    expect(eps(1.1, 0.01, 2000)).toBeLessThan(eps(1.1, 0.01, 10_000));
    expect(eps(2, 0.01, 1000)).toBeLessThan(eps(1.1, 0.01, 1000));
    expect(eps(4, 0.01, 1000)).toBeLessThan(eps(2, 0.01, 1000));
    expect(eps(1.1, 0.01, 1000)).toBeLessThan(eps(1.1, 0.1, 1000));
    expect(eps(1.1, 0.1, 100)).toBeLessThan(eps(1.1, 1, 100));
  });

  it('stepping one round at a time equals stepping all rounds at once', () => {
    const one = new RdpAccountant();
    for (let r = 0; r < 10; r++) one.step(1.3, 0.5);
    const all = new RdpAccountant().step(1.3, 0.5, 10);
    const a = one.rdp();
    const b = all.rdp();
    for (let k = 0; k < a.length; k++) expect(a[k]!).toBeCloseTo(b[k]!, 10);
    expect(one.epsilon(1e-5).epsilon).toBeCloseTo(all.epsilon(1e-5).epsilon, 10);
  });

  it('refuses bad steps and orders', () => {
    expect(() => new RdpAccountant([])).toThrow(PrivacyAccountingError);
    expect(() => new RdpAccountant([0.5, 2])).toThrow(/order/);
    expect(() => new RdpAccountant().step(1, 0.1, 1.5)).toThrow(/steps/);
    expect(() => new RdpAccountant().step(-1, 0.1)).toThrow(/noise multiplier/);
  });
});

describe('noiseMultiplierFor', () => {
  it('finds the smallest noise multiplier that meets the target', () => {
    for (const [epsilon, rounds, q] of [
      [1, 100, 0.2],
      [8, 10, 1],
      [3, 50, 1],
      [2, 10_000, 0.01],
    ] as const) {
      const z = noiseMultiplierFor(epsilon, 1e-5, rounds, q);
      expect(epsilonFor(z, 1e-5, rounds, q).epsilon).toBeLessThanOrEqual(epsilon);
      expect(epsilonFor(z * 0.999, 1e-5, rounds, q).epsilon).toBeGreaterThan(epsilon);
    }
  });

  it('asks for more noise for a smaller ε or more rounds', () => {
    expect(noiseMultiplierFor(1, 1e-5, 20, 1)).toBeGreaterThan(noiseMultiplierFor(4, 1e-5, 20, 1));
    expect(noiseMultiplierFor(2, 1e-5, 200, 1)).toBeGreaterThan(noiseMultiplierFor(2, 1e-5, 20, 1));
  });

  it('refuses targets it cannot reach or that make no sense', () => {
    // Mironov's conversion cannot go below log(1/δ)/(α_max − 1) ≈ 0.045 at δ = 1e-5, α_max = 256.
    expect(() => noiseMultiplierFor(0.01, 1e-5, 10, 1, DEFAULT_RDP_ORDERS, 'mironov2017')).toThrow(/no noise multiplier/);
    expect(() => noiseMultiplierFor(0, 1e-5, 10, 1)).toThrow(/target ε/);
    expect(() => noiseMultiplierFor(1, 1e-5, 0, 1)).toThrow(/rounds/);
    expect(() => noiseMultiplierFor(1, 1e-5, 10, 0)).toThrow(/sampling rate/);
  });
});
