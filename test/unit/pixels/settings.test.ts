import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PIXEL_SETTINGS, ocrEnginesPerThread, withOcrEngines } from '../../../src/pixels/settings.js';

describe('OCR engines per thread', () => {
  const cores = availableParallelism();

  it('gives one thread every core (at most four engines) and each of a thread per core one engine', () => {
    expect(ocrEnginesPerThread(1)).toBe(Math.min(4, cores));
    expect(ocrEnginesPerThread(cores)).toBe(1);
    expect(ocrEnginesPerThread(cores * 3)).toBe(1);
    expect(ocrEnginesPerThread(0)).toBe(Math.min(4, cores));
  });

  it('keeps a number the user chose', () => {
    expect(withOcrEngines({ ...DEFAULT_PIXEL_SETTINGS, ocrWorkers: 3 }, 1).ocrWorkers).toBe(3);
    expect(withOcrEngines(DEFAULT_PIXEL_SETTINGS, 1).ocrWorkers).toBe(Math.min(4, cores));
    expect(DEFAULT_PIXEL_SETTINGS.ocrWorkers).toBeUndefined();
  });
});
