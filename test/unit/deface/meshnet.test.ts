/**
 * The MeshNet engine (src/volume/deface/meshnet.ts) against a direct, naive implementation of the
 * same layers written here, on small random models built in the test as tfjs layers-model files;
 * and brainchop's preprocessing steps (src/volume/deface/brainchop.ts) on synthetic volumes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformGrid, conformScale, conformVolume, keepLargestComponent, labelsToGrid } from '../../../src/volume/deface/brainchop.js';
import { loadMeshNet, MeshNetError, meshnetMultiplyAdds, parseMeshNet, runMeshNet, type MeshNetModel } from '../../../src/volume/deface/meshnet.js';
import { indexToWorld } from '../../../src/volume/geometry.js';
import type { Grid } from '../../../src/volume/volume.js';
import { seededRandom } from '../../support/random.js';

const random = seededRandom;

interface LayerSpec {
  readonly filters: number;
  readonly kernel: 1 | 3;
  readonly dilation: number;
  readonly activation: 'relu' | 'linear';
  /** Write the activation as a separate Activation layer (as brainchop's models do) rather than in the Conv3D. */
  readonly separateActivation?: boolean;
}

/** A tfjs layers-model (model.json as an object, and the weight bytes) with random weights. */
function buildModel(specs: readonly LayerSpec[], seed: number): { json: Record<string, unknown>; weights: Uint8Array; values: Float32Array[] } {
  const rand = random(seed);
  const layers: unknown[] = [{ class_name: 'InputLayer', config: { name: 'input', batch_input_shape: [null, 8, 8, 8, 1], dtype: 'float32' }, name: 'input', inbound_nodes: [] }];
  const manifest: { name: string; shape: number[]; dtype: string }[] = [];
  const values: Float32Array[] = [];
  let channels = 1;
  let previous = 'input';
  specs.forEach((s, n) => {
    const name = `c${n}`;
    layers.push({
      class_name: 'Conv3D',
      config: {
        name,
        filters: s.filters,
        kernel_size: [s.kernel, s.kernel, s.kernel],
        strides: [1, 1, 1],
        padding: 'same',
        data_format: 'channels_last',
        dilation_rate: [s.dilation, s.dilation, s.dilation],
        activation: s.separateActivation ? 'linear' : s.activation,
        use_bias: true,
      },
      name,
      inbound_nodes: [[[previous, 0, 0, {}]]],
    });
    previous = name;
    if (s.separateActivation) {
      const act = `a${n}`;
      layers.push({ class_name: 'Activation', config: { name: act, activation: s.activation }, name: act, inbound_nodes: [[[previous, 0, 0, {}]]] });
      previous = act;
    }
    const kernel = new Float32Array(s.kernel ** 3 * channels * s.filters).map(() => rand() * 2 - 1);
    const bias = new Float32Array(s.filters).map(() => rand() * 0.4 - 0.2);
    manifest.push({ name: `${name}/kernel`, shape: [s.kernel, s.kernel, s.kernel, channels, s.filters], dtype: 'float32' });
    manifest.push({ name: `${name}/bias`, shape: [s.filters], dtype: 'float32' });
    values.push(kernel, bias);
    channels = s.filters;
  });
  const total = values.reduce((a, v) => a + v.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const v of values) {
    all.set(v, at);
    at += v.length;
  }
  const json = {
    format: 'layers-model',
    modelTopology: { model_config: { class_name: 'Functional', config: { name: 'test', layers } } },
    weightsManifest: [{ paths: ['weights.bin'], weights: manifest }],
  };
  return { json, weights: new Uint8Array(all.buffer), values };
}

/**
 * The reference: each layer computed straight from the definition of a 'same', dilated 3-D
 * convolution over a tensor indexed [i][j][k][channel] (the kernel's first axis along i), in
 * float64, then the argmax of the last layer (first maximum).
 */
function reference(model: MeshNetModel, input: Float32Array, dims: readonly [number, number, number]): Uint8Array {
  const [nx, ny, nz] = dims;
  let x = Float64Array.from(input);
  let channels = 1;
  for (const layer of model.layers) {
    const cout = layer.outChannels;
    const y = new Float64Array(nx * ny * nz * cout);
    const half = (layer.kernel - 1) / 2;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          for (let co = 0; co < cout; co++) {
            let sum = layer.bias[co]!;
            for (let a = 0; a < layer.kernel; a++) {
              for (let b = 0; b < layer.kernel; b++) {
                for (let c = 0; c < layer.kernel; c++) {
                  const ii = i + (a - half) * layer.dilation;
                  const jj = j + (b - half) * layer.dilation;
                  const kk = k + (c - half) * layer.dilation;
                  if (ii < 0 || jj < 0 || kk < 0 || ii >= nx || jj >= ny || kk >= nz) continue;
                  for (let ci = 0; ci < channels; ci++) {
                    const w = layer.weights[((((a * layer.kernel + b) * layer.kernel + c) * channels + ci) * cout) + co]!;
                    sum += w * x[(ii + nx * (jj + ny * kk)) * channels + ci]!;
                  }
                }
              }
            }
            y[(i + nx * (j + ny * k)) * cout + co] = layer.activation === 'relu' ? Math.max(0, sum) : sum;
          }
        }
      }
    }
    x = y;
    channels = cout;
  }
  const labels = new Uint8Array(nx * ny * nz);
  for (let v = 0; v < labels.length; v++) {
    let best = 0;
    for (let c = 1; c < channels; c++) if (x[v * channels + c]! > x[v * channels + best]!) best = c;
    labels[v] = best;
  }
  return labels;
}

const SPECS: readonly LayerSpec[] = [
  { filters: 4, kernel: 3, dilation: 1, activation: 'relu', separateActivation: true },
  { filters: 13, kernel: 3, dilation: 2, activation: 'relu', separateActivation: true },
  // A dilation past the volume's edge along two axes: every off-centre tap along them reads padding.
  // 13 inputs: the kernel is generated in blocks of output channels (4 and 2).
  { filters: 6, kernel: 3, dilation: 8, activation: 'relu' },
  { filters: 5, kernel: 3, dilation: 4, activation: 'linear' },
  { filters: 3, kernel: 1, dilation: 1, activation: 'linear' },
];

describe('MeshNet inference', () => {
  const dims: [number, number, number] = [11, 7, 9];
  const { json, weights } = buildModel(SPECS, 7);
  const model = parseMeshNet(json, weights, 'test/model.json');
  const rand = random(11);
  const input = new Float32Array(dims[0] * dims[1] * dims[2]).map(() => rand());

  it('reads the layers, folding Activation layers into the convolution before them', () => {
    expect(model.layers.map((l) => [l.kernel, l.dilation, l.inChannels, l.outChannels, l.activation])).toEqual([
      [3, 1, 1, 4, 'relu'],
      [3, 2, 4, 13, 'relu'],
      [3, 8, 13, 6, 'relu'],
      [3, 4, 6, 5, 'linear'],
      [1, 1, 5, 3, 'linear'],
    ]);
    expect(model.classes).toBe(3);
    expect(meshnetMultiplyAdds(model, 10)).toBe(10 * (27 * 4 + 27 * 52 + 27 * 78 + 27 * 30 + 15));
  });

  it('computes what the direct definition of the layers computes, padding and dilation at the edges included', async () => {
    const expected = reference(model, input, dims);
    const run = await runMeshNet(model, input, dims, { threads: 0 });
    expect(run.threads).toBe(1);
    // Float32 activations against float64 agree on every label here (no near ties in this model and input).
    expect(Array.from(run.labels)).toEqual(Array.from(expected));
    // Every class occurs, so the argmax is exercised and not trivially constant.
    expect(new Set(run.labels).size).toBe(3);
  });

  it('gives the same labels on worker threads (planes split between them) as in one thread', async () => {
    const one = await runMeshNet(model, input, dims, { threads: 0 });
    const two = await runMeshNet(model, input, dims, { threads: 2 });
    expect(two.threads).toBe(2);
    expect(Array.from(two.labels)).toEqual(Array.from(one.labels));
  });

  it('takes the first maximum on ties, as tf.argMax', async () => {
    const tie = parseMeshNet(
      {
        modelTopology: {
          model_config: {
            config: {
              layers: [
                { class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 2, 2, 2, 1] } },
                { class_name: 'Conv3D', config: { name: 'out', filters: 3, kernel_size: [1, 1, 1], padding: 'same', dilation_rate: [1, 1, 1], activation: 'linear' } },
              ],
            },
          },
        },
        weightsManifest: [
          {
            paths: ['w.bin'],
            weights: [
              { name: 'out/kernel', shape: [1, 1, 1, 1, 3], dtype: 'float32' },
              { name: 'out/bias', shape: [3], dtype: 'float32' },
            ],
          },
        ],
      },
      new Uint8Array(new Float32Array([0.5, 0.5, 0.25, 0, 0, 0.25]).buffer),
    );
    // Scores 0.5x, 0.5x and 0.25x + 0.25: classes 0 and 1 always tie (1 is never taken), class 2
    // wins below x = 1, and at x = 1 all three tie at 0.5 (class 0).
    const run = await runMeshNet(tie, new Float32Array([1, 0.9, 0, 0.1, 2, 0.5, 0.2, 3]), [2, 2, 2], { threads: 0 });
    expect(Array.from(run.labels)).toEqual([0, 2, 2, 2, 0, 2, 2, 0]);
  });

  it('loads model.json and its weight files from a folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshnet-'));
    try {
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      await writeFile(path.join(dir, 'weights.bin'), weights);
      const loaded = await loadMeshNet(dir);
      expect(loaded.layers.map((l) => Array.from(l.weights))).toEqual(model.layers.map((l) => Array.from(l.weights)));
      await writeFile(path.join(dir, 'weights.bin'), weights.subarray(0, weights.length - 4));
      await expect(loadMeshNet(dir)).rejects.toThrow(/model\.json: the weight files hold \d+ bytes, too few for weight c4\/bias/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses, naming the layer, what it cannot run', () => {
    const variant = (edit: (layers: Record<string, unknown>[]) => void): unknown => {
      const copy = structuredClone(json) as { modelTopology: { model_config: { config: { layers: Record<string, unknown>[] } } } };
      edit(copy.modelTopology.model_config.config.layers);
      return copy;
    };
    const config = (layer: Record<string, unknown>) => layer.config as Record<string, unknown>;
    expect(() => parseMeshNet(variant((l) => (config(l[2]!).activation = 'gelu')), weights, 'm.json')).toThrow(new MeshNetError('layer a0: activation "gelu" is not supported (linear or relu)', 'm.json'));
    expect(() => parseMeshNet(variant((l) => (config(l[3]!).strides = [2, 2, 2])), weights, 'm.json')).toThrow(/m\.json: layer c1: strides other than 1/);
    expect(() => parseMeshNet(variant((l) => (config(l[3]!).padding = 'valid')), weights, 'm.json')).toThrow(/layer c1: padding valid is not supported/);
    expect(() => parseMeshNet(variant((l) => (config(l[3]!).dilation_rate = [1, 2, 1])), weights, 'm.json')).toThrow(/layer c1 dilation_rate must be three equal positive integers/);
    expect(() => parseMeshNet(variant((l) => (l[3]!.class_name = 'BatchNormalization')), weights, 'm.json')).toThrow(/layer c1: BatchNormalization layers are not supported/);
    expect(() => parseMeshNet(variant((l) => (config(l[3]!).filters = 6)), weights, 'm.json')).toThrow(/layer c1: weight c1\/kernel must have shape \[3, 3, 3, 4, 6\]/);
    expect(() => parseMeshNet(json, new Uint8Array(weights.length + 4), 'm.json')).toThrow(/the manifest describes/);
  });
});

describe('brainchop preprocessing', () => {
  /** An oblique 2 mm grid in LPS, as a scanner might write. */
  const oblique: Grid = {
    dims: [60, 70, 50],
    spacing: [2, 2, 2.5],
    origin: [-60, 80, -40],
    direction: [Math.cos(0.2), Math.sin(0.2), 0, -Math.sin(0.2), Math.cos(0.2), 0, 0, 0, 1],
  };

  it('conforms to 256³ of 1 mm in LIA, centred as FreeSurfer centres (voxel 128 on the input voxel dims / 2)', () => {
    const g = conformGrid(oblique);
    expect(g.dims).toEqual([256, 256, 256]);
    expect(g.spacing).toEqual([1, 1, 1]);
    // i towards the patient's left (+x in LPS), j towards inferior (−z), k towards anterior (−y).
    expect(g.direction).toEqual([1, 0, 0, 0, 0, -1, 0, -1, 0]);
    const centre = indexToWorld(oblique, 30, 35, 25);
    indexToWorld(g, 128, 128, 128).forEach((v, a) => expect(v).toBeCloseTo(centre[a]!, 9));
  });

  it('scales intensities as FreeSurfer: the minimum to 0, the 99.9th percentile of the non-zero voxels to 255', () => {
    const data = new Float32Array(100_000);
    for (let n = 0; n < data.length; n++) data[n] = n < 50_000 ? 0 : (n - 50_000) / 50; // 0…1000, half of the voxels zero
    const { min, scale } = conformScale({ grid: { dims: [100, 100, 10], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, data });
    expect(min).toBe(0);
    // 0.1% of the 50,000 non-zero voxels (50) lie above the top: 1000 − 1 = 999, on 1000 bins of 1.
    expect(255 / scale).toBeCloseTo(998, 0);
    const bytes = conformScale({ grid: { dims: [10, 10, 1000], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, data: new Uint8Array(100_000).fill(7, 10) });
    expect(bytes).toEqual({ min: 0, scale: 1 });
  });

  it('resamples a volume already on the conformed grid without change, and 0 outside the image', () => {
    const grid = conformGrid({ dims: [256, 256, 256], spacing: [1, 1, 1], origin: [-128, 128, 128], direction: [1, 0, 0, 0, 0, -1, 0, -1, 0] });
    const rand = random(3);
    const data = new Uint8Array(256 ** 3).map(() => Math.floor(rand() * 200));
    const same = conformVolume({ grid, data });
    expect(same.grid.origin).toEqual(grid.origin);
    expect(Buffer.from(same.data).equals(Buffer.from(data))).toBe(true);
    // A small image, its voxel centres on conformed voxel centres: its 999 voxels of 100 and nothing else.
    const small = conformVolume({ grid: { dims: [10, 10, 10], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, data: new Uint8Array(1000).fill(100, 1) });
    const values = new Map<number, number>();
    for (const v of small.data) values.set(v, (values.get(v) ?? 0) + 1);
    expect(values).toEqual(new Map([[0, 256 ** 3 - 999], [100, 999]]));
  });

  it('keeps the largest 26-connected cluster of non-zero labels, whatever its labels', () => {
    const dims: [number, number, number] = [6, 6, 6];
    const labels = new Uint8Array(216);
    const at = (i: number, j: number, k: number) => i + 6 * (j + 6 * k);
    // A diagonal chain of grey and white (26-connected only through corners): 4 voxels.
    [at(0, 0, 0), at(1, 1, 1), at(2, 2, 2), at(3, 3, 3)].forEach((v, n) => (labels[v] = 1 + (n % 2)));
    // A separate cluster of 3.
    [at(5, 0, 0), at(5, 1, 0), at(5, 2, 0)].forEach((v) => (labels[v] = 2));
    keepLargestComponent(labels, dims);
    expect([labels[at(0, 0, 0)], labels[at(1, 1, 1)], labels[at(2, 2, 2)], labels[at(3, 3, 3)]]).toEqual([1, 2, 1, 2]);
    expect(labels.reduce((a, v) => a + (v ? 1 : 0), 0)).toBe(4);
  });

  it('carries labels back onto the image grid by nearest neighbour', () => {
    const head: Grid = { dims: [40, 40, 40], spacing: [2, 2, 2], origin: [-40, -40, -40], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const conformed = conformGrid(head);
    // Label 2 in a box of the conformed grid; each head voxel must take the label of the conformed voxel nearest to it.
    const labels = new Uint8Array(256 ** 3);
    for (let k = 100; k < 140; k++) for (let j = 110; j < 130; j++) for (let i = 120; i < 150; i++) labels[i + 256 * (j + 256 * k)] = 2;
    const mask = labelsToGrid(labels, conformed, head, (l) => l === 2);
    const toConformed = (p: readonly number[]) => {
      // Conformed index of a world point (LIA, 1 mm): i = x − ox, j = oz − z, k = oy − y.
      return [p[0]! - conformed.origin[0], conformed.origin[2] - p[2]!, conformed.origin[1] - p[1]!].map((v) => Math.floor(v + 0.5));
    };
    let checked = 0;
    for (let k = 0; k < 40; k++) {
      for (let j = 0; j < 40; j++) {
        for (let i = 0; i < 40; i++) {
          const [ci, cj, ck] = toConformed(indexToWorld(head, i, j, k));
          const expected = ci! >= 120 && ci! < 150 && cj! >= 110 && cj! < 130 && ck! >= 100 && ck! < 140 ? 1 : 0;
          expect(mask.data[i + 40 * (j + 40 * k)]).toBe(expected);
          checked += expected;
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  });
});
