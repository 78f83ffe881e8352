/**
 * The modality-independent parts of defacing on small synthetic volumes: the correlation ratio
 * that judges a registration, how a CT is recognised from its values, and the background a CT's
 * face is set to (air at −1000 HU, not the padding outside the reconstruction circle).
 */
import { describe, expect, it } from 'vitest';
import { backgroundValue } from '../../../src/volume/deface/deface.js';
import { clampInPlace, CT_AIR_HU, intensityKind } from '../../../src/volume/deface/intensity.js';
import { correlationRatio } from '../../../src/volume/deface/metrics.js';
import { skinThreshold } from '../../../src/volume/deface/render.js';
import type { Grid, Volume } from '../../../src/volume/volume.js';

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

/** A 40³ phantom head on a 4 mm grid: a ball of tissue with a shell of "bone", in air, with padding in the corners of each slice. */
function phantomCt(): Volume<Int16Array> {
  const n = 40;
  const grid: Grid = { dims: [n, n, n], spacing: [4, 4, 4], origin: [-78, -78, -78], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  const data = new Int16Array(n ** 3);
  const rand = random(11);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const r = Math.hypot(i - 19.5, j - 19.5, k - 19.5);
        const inPlane = Math.hypot(i - 19.5, j - 19.5);
        let v = r < 12 ? 35 : r < 14 ? 1200 : r < 15 ? 40 : -1000;
        v += Math.round((rand() - 0.5) * 20);
        if (inPlane > 21) v = -3024;
        data[i + n * (j + n * k)] = v;
      }
    }
  }
  return { grid, data };
}

describe('correlationRatio', () => {
  it('is 1 when the predicted image is any function of the other, monotonic or not', () => {
    const rand = random(3);
    const by = Float64Array.from({ length: 5000 }, () => Math.floor(rand() * 8));
    // Non-monotonic: class 0 and 7 bright, the middle classes dark (as bone in a CT against a T1).
    const predicted = by.map((x) => (x - 3.5) ** 2);
    expect(correlationRatio(predicted, by)).toBeCloseTo(1, 12);
    // Any monotonic change of `by` leaves it the same: only ranks make the classes.
    expect(correlationRatio(predicted, by.map((x) => Math.exp(x) - 1000))).toBeCloseTo(1, 12);
    // With fewer classes than values, neighbouring values share a class and the ratio drops.
    expect(correlationRatio(predicted, by, undefined, 2)).toBeLessThan(0.5);
  });

  it('is about 0 for unrelated images, and between for a noisy relation', () => {
    const rand = random(5);
    const a = Float64Array.from({ length: 20_000 }, () => rand());
    const b = Float64Array.from({ length: 20_000 }, () => rand());
    expect(correlationRatio(a, b)).toBeLessThan(0.01);
    const noisy = b.map((x, q) => x + 0.5 * (a[q]! - 0.5));
    const eta = correlationRatio(noisy, b);
    expect(eta).toBeGreaterThan(0.7);
    expect(eta).toBeLessThan(0.9);
  });

  it('counts only the voxels inside the mask and with finite values on both sides', () => {
    const by = Float64Array.from({ length: 400 }, (_, q) => q % 4);
    const predicted = by.map((x) => 10 * x);
    const within = new Uint8Array(400);
    for (let q = 0; q < 200; q++) within[q] = 1;
    // Outside the mask, nonsense that would spoil the relation.
    for (let q = 200; q < 400; q++) predicted[q] = (q * 7919) % 13;
    predicted[5] = NaN;
    expect(correlationRatio(predicted, by, within, 16)).toBeCloseTo(1, 12);
    expect(correlationRatio(predicted, by, undefined, 16)).toBeLessThan(0.9);
  });

  it('is 0 when too few voxels count or the predicted image is flat, and refuses bad arguments', () => {
    expect(correlationRatio([1, 2, 3], [1, 2, 3], undefined, 2)).toBe(0);
    expect(correlationRatio(new Float64Array(100).fill(4), Float64Array.from({ length: 100 }, (_, q) => q))).toBe(0);
    expect(() => correlationRatio([1, 2], [1, 2, 3])).toThrow(RangeError);
    expect(() => correlationRatio([1, 2], [1, 2], undefined, 1)).toThrow(RangeError);
  });
});

describe('CT intensities', () => {
  it('recognises Hounsfield units from the air around the head, and not an MR scale', () => {
    expect(intensityKind(phantomCt().data)).toBe('ct');
    const rand = random(9);
    const mr = Float32Array.from({ length: 64_000 }, () => rand() * 800);
    expect(intensityKind(mr)).toBe('mr');
    // An MR image with negative reconstruction artefacts is still MR.
    const artefacts = mr.map((v, q) => (q % 50 === 0 ? -950 : v));
    expect(intensityKind(artefacts)).toBe('mr');
    // Padding alone, without air, is not enough: the air band must be there too.
    expect(intensityKind(Int16Array.from({ length: 1000 }, (_, q) => (q < 300 ? -3024 : 40)))).toBe('mr');
  });

  it('sets a CT face to air (−1000 HU), never to the padding value, and an MR face to its 1st percentile', () => {
    const ct = phantomCt();
    let padding = 0;
    for (const v of ct.data) if (v === -3024) padding++;
    // Enough padding that the 1st percentile is padding: the rule must not follow it.
    expect(padding / ct.data.length).toBeGreaterThan(0.01);
    expect(backgroundValue(ct)).toBe(CT_AIR_HU);
    const mr: Volume = { grid: ct.grid, data: Float32Array.from(ct.data, (v) => (v + 1000) / 10) };
    expect(intensityKind(mr.data)).toBe('mr');
    expect(backgroundValue(mr)).toBeLessThan(1);
    // A CT stored in an array that cannot hold −1000 is not taken for one.
    expect(backgroundValue({ grid: ct.grid, data: Uint8Array.from(ct.data, (v) => Math.max(0, Math.min(255, v))) })).toBe(0);
  });

  it('puts the skin threshold of a CT between air and soft tissue, whatever the padding and the bone', () => {
    const threshold = skinThreshold(phantomCt());
    expect(threshold).toBeGreaterThan(-900);
    expect(threshold).toBeLessThan(0);
  });

  it('clamps to a window in place', () => {
    const values = Float32Array.of(-3024, -1000, 40, 3000);
    expect(Array.from(clampInPlace(values, -1000, 1500))).toEqual([-1000, -1000, 40, 1500]);
  });
});
