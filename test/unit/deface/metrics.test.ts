import { describe, expect, it } from 'vitest';
import {
  brainPreservation,
  dice,
  faceRemoval,
  quantileValue,
  storedAs,
} from '../../../src/volume/deface/metrics.js';
import type { Grid, Mask, Volume } from '../../../src/volume/volume.js';

const grid = (n: number): Grid => ({ dims: [n, 1, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] });
const mask = (bits: number[]): Mask => ({ grid: grid(bits.length), data: Uint8Array.from(bits) });
const volume = <T extends Volume['data']>(data: T): Volume<T> => ({ grid: grid(data.length), data });

describe('dice', () => {
  it('is 2|A∩B| / (|A| + |B|) on hand cases', () => {
    expect(dice(mask([1, 1, 0, 0]), mask([1, 1, 0, 0]))).toBe(1);
    expect(dice(mask([1, 1, 0, 0]), mask([0, 0, 1, 1]))).toBe(0);
    // |A| = 3, |B| = 2, |A∩B| = 1 → 2/5
    expect(dice(mask([1, 1, 1, 0]), mask([0, 0, 1, 1]))).toBeCloseTo(0.4, 12);
    expect(dice(mask([0, 0]), mask([0, 0]))).toBe(1);
  });

  it('refuses masks of different sizes', () => {
    expect(() => dice(mask([1]), mask([1, 0]))).toThrow(RangeError);
  });
});

describe('brainPreservation', () => {
  it('counts the brain voxels whose value changed and gives the Dice of before vs unchanged', () => {
    const brain = mask([1, 1, 1, 1, 0, 0]);
    const input = volume(Int16Array.from([5, 6, 7, 8, 9, 10]));
    const untouched = volume(Int16Array.from([5, 6, 7, 8, 0, 0]));
    expect(brainPreservation(input, untouched, brain)).toEqual({ voxels: 4, altered: 0, dice: 1 });
    const oneChanged = volume(Int16Array.from([5, 0, 7, 8, 0, 0]));
    const r = brainPreservation(input, oneChanged, brain);
    expect(r.voxels).toBe(4);
    expect(r.altered).toBe(1);
    // before = 4 voxels, after (unchanged) = 3: 2·3 / 7
    expect(r.dice).toBeCloseTo(6 / 7, 12);
  });

  it('treats NaN as unchanged when it stays NaN', () => {
    const brain = mask([1, 1]);
    const input = volume(Float32Array.from([NaN, 1]));
    expect(brainPreservation(input, volume(Float32Array.from([NaN, 1])), brain).altered).toBe(0);
    expect(brainPreservation(input, volume(Float32Array.from([0, 1])), brain).altered).toBe(1);
  });
});

describe('faceRemoval', () => {
  it('is the fraction of face voxels holding the background, as the typed array stores it', () => {
    const face = mask([1, 1, 1, 1, 0]);
    const output = volume(Float32Array.from([0.1, 0.1, 0.1, 3, 0.1]));
    // 0.1 is stored in float32 as 0.100000001…: the comparison must use the stored value.
    const r = faceRemoval(output, face, 0.1);
    expect(r).toEqual({ voxels: 4, removed: 3, fraction: 0.75 });
  });

  it('is 1 for an empty face region', () => {
    expect(faceRemoval(volume(Uint8Array.from([1, 2])), mask([0, 0]), 0).fraction).toBe(1);
  });
});

describe('storedAs', () => {
  it('rounds and wraps as the typed array does', () => {
    expect(storedAs(new Int16Array(1), 2.7)).toBe(2);
    expect(storedAs(new Uint8Array(1), 300)).toBe(44);
    expect(storedAs(new Float32Array(1), 0.1)).toBe(Math.fround(0.1));
    expect(storedAs(new Float64Array(1), 0.1)).toBe(0.1);
  });
});

describe('quantileValue', () => {
  it('returns the value below which the fraction lies, as a value of the data', () => {
    const data = Float32Array.from({ length: 1000 }, (_, n) => (n * 7919) % 1000); // 0..999 shuffled
    expect(quantileValue(data, 0)).toBe(0);
    expect(quantileValue(data, 1)).toBe(999);
    expect(quantileValue(data, 0.01)).toBe(9); // the 10th smallest of 0..999
    expect(quantileValue(data, 0.5)).toBe(499);
  });

  it('is not set by a few outliers, unlike the minimum', () => {
    const data = new Int16Array(10_000).fill(0);
    data[0] = -3000;
    for (let n = 5000; n < 10_000; n++) data[n] = 400;
    expect(quantileValue(data, 0.01)).toBe(0);
  });

  it('ignores non-finite values and refuses an image without any finite one', () => {
    expect(quantileValue(Float64Array.from([NaN, 5, Infinity, 5]), 0.5)).toBe(5);
    expect(() => quantileValue(Float32Array.from([NaN]), 0.5)).toThrow(RangeError);
    expect(() => quantileValue([1], 2)).toThrow(RangeError);
  });
});
