/**
 * Inference of brainchop's MeshNet models (tfjs layers-model files: model.json and its weight
 * shards): a stack of 3×3×3 dilated convolutions with 'same' zero padding, each followed by an
 * activation, and a 1×1×1 convolution to the classes, whose argmax is the label of each voxel.
 *
 * Written by hand rather than run with tfjs because tfjs is far too slow for a check inside a
 * defacing run: model5_gw_ae took 944 s per head on the tfjs CPU backend, and the tfjs wasm
 * backend took 8–15 s for one 15-channel Conv3D layer on a 64³ volume (hours at 256³). A MeshNet
 * needs nothing but convolutions, so a small engine written for them does the whole model in
 * about a minute on two cores (docs: the deface benchmarks).
 *
 * How it is fast:
 * - Each layer's kernel is a JavaScript function generated for that layer, with the weights as
 *   literal constants and the output channels as local variables. V8 then keeps the accumulators
 *   in registers and needs one memory load per input value per tap; the same loops reading weights
 *   and accumulators from typed arrays were measured at 6.5 ns per multiply-add against 1.2 ns
 *   (64³, 5 channels). The generated source holds only numbers formatted by the engine and
 *   identifiers written here; nothing of the input reaches it.
 * - Activations are channels-last Float32Arrays (voxel-major, channels contiguous), i fastest, in
 *   two ping-pong buffers shared by every worker thread. Each row along i is padded on both sides by
 *   the largest dilation and the buffers start with a row of zeros, so 'same' padding costs no test
 *   per voxel: a tap that leaves the volume along i reads the padding, a tap that leaves it along j
 *   or k reads the zero row. Tap offsets are computed once per row.
 * - The planes along k are split over worker threads (every core), one message per layer per
 *   worker; nothing is allocated per voxel.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** A model file that is not a MeshNet this engine can run, or whose weights do not match it. */
export class MeshNetError extends Error {
  override readonly name = 'MeshNetError';
  constructor(
    /** What is wrong, naming the field or layer. */
    readonly reason: string,
    /** The model file concerned. */
    readonly file?: string,
  ) {
    super(file === undefined ? reason : `${file}: ${reason}`);
  }
}

export type MeshNetActivation = 'linear' | 'relu';

/** One convolution with the activation that follows it. */
export interface MeshNetLayer {
  readonly name: string;
  /** Kernel edge: 3 for the hidden layers, 1 for the classifier. */
  readonly kernel: 1 | 3;
  /** Dilation, the same along each axis. */
  readonly dilation: number;
  readonly inChannels: number;
  readonly outChannels: number;
  /** tfjs layout [kd][kh][kw][in][out], row-major; kd runs along the volume's i axis (see runMeshNet). */
  readonly weights: Float32Array;
  /** outChannels values (zeros when the layer has no bias). */
  readonly bias: Float32Array;
  readonly activation: MeshNetActivation;
}

export interface MeshNetModel {
  readonly layers: readonly MeshNetLayer[];
  /** Classes of the last layer: the labels run from 0 to classes − 1. */
  readonly classes: number;
}

const ACTIVATIONS: ReadonlySet<string> = new Set(['linear', 'relu']);

interface LayerConfig {
  readonly class_name?: unknown;
  readonly config?: Record<string, unknown>;
}

interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

function fail(reason: string, file: string | undefined): never {
  throw new MeshNetError(reason, file);
}

function cubic(value: unknown, field: string, file: string | undefined): number {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => Number.isInteger(v) && v > 0) || value[0] !== value[1] || value[0] !== value[2]) {
    fail(`${field} must be three equal positive integers, got ${JSON.stringify(value)}`, file);
  }
  return value[0] as number;
}

/** The weight entries of a layers-model's manifest, in the order their bytes are stored. */
function manifestEntries(manifest: unknown, file: string | undefined): { paths: string[]; weights: WeightSpec[] } {
  if (!Array.isArray(manifest) || manifest.length === 0) fail('weightsManifest must be a non-empty array', file);
  const paths: string[] = [];
  const weights: WeightSpec[] = [];
  for (const [g, group] of manifest.entries()) {
    const { paths: p, weights: w } = (group ?? {}) as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(p) || !p.every((x) => typeof x === 'string')) fail(`weightsManifest[${g}].paths must be a list of file names`, file);
    if (!Array.isArray(w)) fail(`weightsManifest[${g}].weights must be a list`, file);
    paths.push(...(p as string[]));
    for (const [n, spec] of (w as unknown[]).entries()) {
      const { name, shape, dtype } = (spec ?? {}) as Record<string, unknown>;
      if (typeof name !== 'string' || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d > 0)) {
        fail(`weightsManifest[${g}].weights[${n}] must have a name and a shape of positive integers`, file);
      }
      if (dtype !== 'float32') fail(`weight ${name}: dtype ${String(dtype)} is not supported (float32 only; quantised models are not)`, file);
      weights.push({ name, shape: shape as number[], dtype });
    }
  }
  return { paths, weights };
}

/**
 * Reads a tfjs layers-model (the parsed model.json and the bytes of its weight shards, concatenated
 * in the manifest's order) as a MeshNet: Conv3D layers (channels last, strides 1, 'same' padding,
 * cubic kernels of 3 or 1, cubic dilation), each optionally followed by an Activation layer,
 * chained one after the other from a single-channel input, the last one giving the classes.
 * Throws MeshNetError naming the layer or field for anything else.
 */
export function parseMeshNet(modelJson: unknown, weightData: Uint8Array, file?: string): MeshNetModel {
  const json = (modelJson ?? {}) as Record<string, unknown>;
  if (json.format !== undefined && json.format !== 'layers-model') fail(`format is ${JSON.stringify(json.format)}, not "layers-model"`, file);
  const topology = json.modelTopology as Record<string, unknown> | undefined;
  const config = ((topology?.model_config ?? topology) as LayerConfig | undefined)?.config;
  const layerList = (config as { layers?: unknown } | undefined)?.layers;
  if (!Array.isArray(layerList)) fail('modelTopology.model_config.config.layers is missing: not a tfjs layers-model', file);
  const { weights: specs } = manifestEntries(json.weightsManifest, file);

  // Slice the weight bytes in manifest order.
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = count * 4;
    if (offset + bytes > weightData.length) fail(`the weight files hold ${weightData.length} bytes, too few for weight ${spec.name} (needs ${offset + bytes})`, file);
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(weightData.subarray(offset, offset + bytes));
    if (!data.every(Number.isFinite)) fail(`weight ${spec.name} holds values that are not finite`, file);
    tensors.set(spec.name, { shape: spec.shape, data });
    offset += bytes;
  }
  if (offset !== weightData.length) fail(`the weight files hold ${weightData.length} bytes, the manifest describes ${offset}`, file);

  const layers: MeshNetLayer[] = [];
  let channels = 0;
  let previous: string | undefined;
  const inbound = (layer: LayerConfig & { inbound_nodes?: unknown }): string | undefined => {
    const nodes = layer.inbound_nodes;
    const first = Array.isArray(nodes) && Array.isArray(nodes[0]) && Array.isArray(nodes[0][0]) ? (nodes[0][0][0] as unknown) : undefined;
    return typeof first === 'string' ? first : undefined;
  };
  for (const [n, raw] of (layerList as unknown[]).entries()) {
    const layer = (raw ?? {}) as LayerConfig & { inbound_nodes?: unknown; name?: unknown };
    const c = layer.config ?? {};
    const name = typeof c.name === 'string' ? c.name : `#${n}`;
    const from = inbound(layer);
    if (n > 0 && from !== undefined && from !== previous) fail(`layer ${name} takes its input from ${from}, not from the layer before it: not a chain of layers`, file);
    switch (layer.class_name) {
      case 'InputLayer': {
        const shape = c.batch_input_shape;
        if (n !== 0 || !Array.isArray(shape) || shape.length !== 5 || shape[4] !== 1) fail(`input layer ${name} must come first and have one channel (shape [batch, d, h, w, 1])`, file);
        channels = 1;
        break;
      }
      case 'Conv3D': {
        if (channels === 0) fail(`layer ${name} comes before the input layer`, file);
        if (c.data_format !== undefined && c.data_format !== 'channels_last') fail(`layer ${name}: data_format ${String(c.data_format)} is not supported (channels_last only)`, file);
        if (c.padding !== 'same') fail(`layer ${name}: padding ${String(c.padding)} is not supported ('same' only)`, file);
        if (cubic(c.strides ?? [1, 1, 1], `layer ${name} strides`, file) !== 1) fail(`layer ${name}: strides other than 1 are not supported`, file);
        if (c.groups !== undefined && c.groups !== 1) fail(`layer ${name}: grouped convolutions are not supported`, file);
        const kernel = cubic(c.kernel_size, `layer ${name} kernel_size`, file);
        if (kernel !== 1 && kernel !== 3) fail(`layer ${name}: kernel size ${kernel} is not supported (3 or 1)`, file);
        const dilation = cubic(c.dilation_rate ?? [1, 1, 1], `layer ${name} dilation_rate`, file);
        const filters = c.filters;
        if (!Number.isInteger(filters) || (filters as number) < 1) fail(`layer ${name}: filters must be a positive integer`, file);
        const activation = c.activation ?? 'linear';
        if (typeof activation !== 'string' || !ACTIVATIONS.has(activation)) fail(`layer ${name}: activation ${JSON.stringify(activation)} is not supported (linear or relu)`, file);
        const k = tensors.get(`${name}/kernel`);
        const expected = [kernel, kernel, kernel, channels, filters as number];
        if (!k || k.shape.join() !== expected.join()) fail(`layer ${name}: weight ${name}/kernel must have shape [${expected.join(', ')}], got ${k ? `[${k.shape.join(', ')}]` : 'none'}`, file);
        let bias: Float32Array = new Float32Array(filters as number);
        if (c.use_bias !== false) {
          const b = tensors.get(`${name}/bias`);
          if (!b || b.shape.join() !== String(filters)) fail(`layer ${name}: weight ${name}/bias must have shape [${String(filters)}]`, file);
          bias = b.data;
        }
        layers.push({ name, kernel: kernel as 1 | 3, dilation, inChannels: channels, outChannels: filters as number, weights: k.data, bias, activation: activation as MeshNetActivation });
        channels = filters as number;
        break;
      }
      case 'Activation': {
        const last = layers.at(-1);
        const activation = c.activation;
        if (!last) fail(`activation layer ${name} follows no convolution`, file);
        if (typeof activation !== 'string' || !ACTIVATIONS.has(activation)) fail(`layer ${name}: activation ${JSON.stringify(activation)} is not supported (linear or relu)`, file);
        if (activation !== 'linear') {
          if (last.activation !== 'linear') fail(`layer ${name}: a second activation after layer ${last.name} is not supported`, file);
          layers[layers.length - 1] = { ...last, activation: activation as MeshNetActivation };
        }
        break;
      }
      default:
        fail(`layer ${name}: ${String(layer.class_name)} layers are not supported (InputLayer, Conv3D and Activation only)`, file);
    }
    previous = name;
  }
  const last = layers.at(-1);
  if (!last) fail('the model has no Conv3D layer', file);
  if (last.kernel !== 1) fail(`the last layer (${last.name}) must be a 1×1×1 convolution to the classes`, file);
  if (last.outChannels > 255) fail(`the last layer has ${last.outChannels} classes; at most 255 are supported`, file);
  if (layers.slice(0, -1).some((l) => l.kernel !== 3)) fail('only the last layer may be a 1×1×1 convolution', file);
  return { layers, classes: last.outChannels };
}

/** Reads `model.json` and its weight files from a folder. */
export async function loadMeshNet(dir: string): Promise<MeshNetModel> {
  const file = path.join(dir, 'model.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new MeshNetError(`cannot read the model: ${(e as Error).message}`, file);
  }
  const { paths } = manifestEntries((json as { weightsManifest?: unknown }).weightsManifest, file);
  const parts: Uint8Array[] = [];
  for (const p of paths) {
    if (path.isAbsolute(p) || p.split(/[\\/]/).includes('..')) throw new MeshNetError(`weight file ${p} lies outside the model's folder`, file);
    try {
      parts.push(await readFile(path.join(dir, p)));
    } catch (e) {
      throw new MeshNetError(`cannot read weight file ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
    }
  }
  const total = parts.reduce((a, b) => a + b.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return parseMeshNet(json, bytes, file);
}

/** Multiply-adds of one inference on a volume of `voxels` voxels. */
export function meshnetMultiplyAdds(model: MeshNetModel, voxels: number): number {
  return model.layers.reduce((sum, l) => sum + voxels * l.kernel ** 3 * l.inChannels * l.outChannels, 0);
}

// ---------------------------------------------------------------------------------------------
// The engine

/**
 * Where a volume lives in the shared buffers: row (j, k) of a `channels`-channel activation starts
 * at base + ((k·ny + j)·rowLength + pad)·channels, and the first `base` floats are zeros.
 */
export interface MeshNetGeometry {
  readonly dims: readonly [number, number, number];
  /** Padding on each side of a row along i: the largest dilation. */
  readonly pad: number;
  /** dims[0] + 2·pad. */
  readonly rowLength: number;
  /** Floats of zeros at the start of each buffer: one padded row at the widest channel count. */
  readonly base: number;
}

/** Everything a thread needs to run a model: the geometry and the shared buffers. */
export interface MeshNetJob {
  readonly geometry: MeshNetGeometry;
  readonly layers: readonly MeshNetLayer[];
  /** The input, one channel, in the padded layout. */
  readonly input: SharedArrayBuffer;
  /** The two ping-pong activation buffers. */
  readonly buffers: readonly [SharedArrayBuffer, SharedArrayBuffer];
  /** One label per voxel, i fastest, no padding. */
  readonly labels: SharedArrayBuffer;
}

/** A compiled layer: computes output row (j, k) from the input buffer. */
type RowKernel = (input: Float32Array, output: Float32Array | Uint8Array, j: number, k: number) => void;

/** Formats a weight as a JavaScript literal (exact: a float32 value printed as a double). */
function literal(v: number): string {
  return Object.is(v, -0) || v === 0 ? '0' : `(${String(v)})`;
}

/**
 * Generates the row kernel of one layer. Tap (a, b, c) of the kernel, each in {−1, 0, 1} times the
 * dilation, reads voxel (i + a·d, j + b·d, k + c·d): the kernel's first axis runs along i, as in
 * brainchop, whose input tensor is the conformed volume transposed to [i][j][k].
 * The last layer writes argmax labels (the first maximum, as tf.argMax).
 */
export function compileRowKernel(layer: MeshNetLayer, geometry: MeshNetGeometry, last: boolean): RowKernel {
  const cout = layer.outChannels;
  // The argmax needs every class in one function; the classifier is a single tap, so it stays small.
  const block = last ? cout : Math.max(1, Math.min(cout, Math.floor(MAX_TERMS_PER_TAP / layer.inChannels)));
  const parts: RowKernel[] = [];
  for (let first = 0; first < cout; first += block) parts.push(compileBlock(layer, geometry, last, first, Math.min(cout, first + block)));
  if (parts.length === 1) return parts[0]!;
  return (input, output, j, k) => {
    for (const part of parts) part(input, output, j, k);
  };
}

/**
 * Multiply-adds per tap in one generated function: V8 optimises a kernel of 5 × 5 or 11 × 6 terms
 * per tap (27 taps) to about 1 ns per multiply-add, but one of 11 × 11 or 15 × 15 runs 10–15 times
 * slower (too many live values, too large a function), so wider layers are split into blocks of
 * output channels, each reading the inputs again (measured on 48³, 2 cores).
 */
const MAX_TERMS_PER_TAP = 64;

/** The function computing output channels first ≤ co < end of one row. */
function compileBlock(layer: MeshNetLayer, geometry: MeshNetGeometry, last: boolean, first: number, end: number): RowKernel {
  const [nx, ny, nz] = geometry.dims;
  const { pad, rowLength, base } = geometry;
  const cin = layer.inChannels;
  const cout = layer.outChannels;
  const d = layer.dilation;
  const taps: { a: number; b: number; c: number; t: number }[] = [];
  const r = layer.kernel === 3 ? [-1, 0, 1] : [0];
  for (const a of r) for (const b of r) for (const c of r) taps.push({ a, b, c, t: taps.length });
  const channels = Array.from({ length: end - first }, (_, n) => first + n);
  const lines: string[] = [];
  lines.push('return function row(input, output, j, k) {');
  // Row start of each tap (without i): the zero row when the tap leaves the volume along j or k.
  for (const { a, b, c, t } of taps) {
    const jj = `j + ${b * d}`;
    const kk = `k + ${c * d}`;
    const inside = `${b === 0 ? 'true' : b < 0 ? `${jj} >= 0` : `${jj} < ${ny}`} && ${c === 0 ? 'true' : c < 0 ? `${kk} >= 0` : `${kk} < ${nz}`}`;
    lines.push(`  const r${t} = (${inside}) ? ${base} + (((${kk}) * ${ny} + (${jj})) * ${rowLength} + ${pad + a * d}) * ${cin} : ${(pad + a * d) * cin};`);
  }
  if (last) {
    lines.push(`  let o = (k * ${ny} + j) * ${nx};`);
  } else {
    lines.push(`  const rowOut = ${base} + (k * ${ny} + j) * ${rowLength} * ${cout};`);
    if (first === 0) {
      // The padding of the output row must hold zeros whatever the buffer held before.
      lines.push(`  output.fill(0, rowOut, rowOut + ${pad * cout});`);
      lines.push(`  output.fill(0, rowOut + ${(pad + nx) * cout}, rowOut + ${rowLength * cout});`);
    }
    lines.push(`  let o = rowOut + ${pad * cout};`);
  }
  lines.push(`  for (let q = 0; q < ${nx * cin}; q += ${cin}) {`);
  for (const co of channels) lines.push(`    let a${co} = ${literal(layer.bias[co]!)};`);
  for (const { t } of taps) {
    lines.push(`    { const p = r${t} + q;`);
    for (let ci = 0; ci < cin; ci++) lines.push(`      const x${ci} = input[p + ${ci}];`);
    for (const co of channels) {
      const terms: string[] = [];
      for (let ci = 0; ci < cin; ci++) {
        const w = layer.weights[(t * cin + ci) * cout + co]!;
        if (w !== 0) terms.push(`x${ci} * ${literal(w)}`);
      }
      if (terms.length > 0) lines.push(`      a${co} += ${terms.join(' + ')};`);
    }
    lines.push('    }');
  }
  if (last) {
    lines.push('    let best = a0, label = 0;');
    for (let co = 1; co < cout; co++) lines.push(`    if (a${co} > best) { best = a${co}; label = ${co}; }`);
    lines.push('    output[o++] = label;');
  } else {
    for (const co of channels) {
      lines.push(layer.activation === 'relu' ? `    output[o + ${co}] = a${co} > 0 ? a${co} : 0;` : `    output[o + ${co}] = a${co};`);
    }
    lines.push(`    o += ${cout};`);
  }
  lines.push('  }');
  lines.push('};');
  // Generated from numbers and identifiers written here only (see the module comment).
  return new Function(lines.join('\n'))() as RowKernel;
}

/** The kernels of every layer of a job, compiled once per thread. */
export function compileJob(job: MeshNetJob): RowKernel[] {
  return job.layers.map((layer, n) => compileRowKernel(layer, job.geometry, n === job.layers.length - 1));
}

/** Runs layer `n` of a job on planes k0 ≤ k < k1. */
export function runLayerPlanes(job: MeshNetJob, kernels: readonly RowKernel[], n: number, k0: number, k1: number): void {
  const last = n === job.layers.length - 1;
  const input = new Float32Array(n === 0 ? job.input : job.buffers[(n - 1) % 2]!);
  const output = last ? new Uint8Array(job.labels) : new Float32Array(job.buffers[n % 2]!);
  const kernel = kernels[n]!;
  const ny = job.geometry.dims[1];
  for (let k = k0; k < k1; k++) for (let j = 0; j < ny; j++) kernel(input, output, j, k);
}

export interface MeshNetRunOptions {
  /** Worker threads (default: every core). 0 runs in this thread. */
  readonly threads?: number;
}

export interface MeshNetRun {
  /** One label per voxel, i fastest. */
  readonly labels: Uint8Array;
  /** Threads that computed the layers (1 when run in this thread). */
  readonly threads: number;
  readonly ms: number;
}

/** The compiled worker, beside this module in dist/, or in dist/ when this module runs from src/ (tests). */
function workerFile(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const candidates = [path.join(path.dirname(here), 'meshnet-worker.js')];
  if (here.endsWith('.ts')) candidates.push(path.resolve(path.dirname(here), '../../../dist/volume/deface/meshnet-worker.js'));
  return candidates.find((f) => existsSync(f));
}

/** Messages between runMeshNet and its workers (meshnet-worker.ts). */
export type MeshNetWorkerRequest = { readonly type: 'layer'; readonly layer: number; readonly k0: number; readonly k1: number };
export type MeshNetWorkerReply = { readonly type: 'ready' } | { readonly type: 'done'; readonly layer: number } | { readonly type: 'error'; readonly message: string };

/**
 * Runs a MeshNet on a single-channel volume (`input`, i fastest, dims nx × ny × nz) and returns
 * the label of each voxel. The model's kernels run along the volume's axes in the order i, j, k
 * (the first kernel axis along i): pass the volume in the orientation the model expects.
 */
export async function runMeshNet(model: MeshNetModel, input: Float32Array, dims: readonly [number, number, number], options: MeshNetRunOptions = {}): Promise<MeshNetRun> {
  const started = performance.now();
  const [nx, ny, nz] = dims;
  if (!dims.every((d) => Number.isInteger(d) && d > 0)) throw new RangeError(`dims must be positive integers, got ${dims.join('×')}`);
  if (input.length !== nx * ny * nz) throw new RangeError(`the input has ${input.length} values for ${nx}×${ny}×${nz} voxels`);
  if (model.layers[0]?.inChannels !== 1) throw new RangeError('the model must take one input channel');
  const pad = Math.max(...model.layers.map((l) => (l.kernel === 3 ? l.dilation : 0)));
  const rowLength = nx + 2 * pad;
  const widest = Math.max(...model.layers.slice(0, -1).map((l) => l.outChannels), 1);
  const base = rowLength * widest;
  const geometry: MeshNetGeometry = { dims: [nx, ny, nz], pad, rowLength, base };
  const inputBuffer = new SharedArrayBuffer((base + rowLength * ny * nz) * 4);
  const padded = new Float32Array(inputBuffer);
  for (let k = 0, n = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++, n += nx) padded.set(input.subarray(n, n + nx), base + (k * ny + j) * rowLength + pad);
  }
  const size = (base + rowLength * ny * nz * widest) * 4;
  const job: MeshNetJob = {
    geometry,
    layers: model.layers,
    input: inputBuffer,
    buffers: [new SharedArrayBuffer(size), new SharedArrayBuffer(model.layers.length > 2 ? size : 4)],
    labels: new SharedArrayBuffer(nx * ny * nz),
  };
  const wanted = Math.min(options.threads ?? availableParallelism(), nz);
  const file = wanted > 0 ? workerFile() : undefined;
  if (file === undefined) {
    const kernels = compileJob(job);
    for (let n = 0; n < model.layers.length; n++) runLayerPlanes(job, kernels, n, 0, nz);
    return { labels: new Uint8Array(job.labels), threads: 1, ms: performance.now() - started };
  }
  await runInWorkers(job, file, wanted);
  return { labels: new Uint8Array(job.labels), threads: wanted, ms: performance.now() - started };
}

async function runInWorkers(job: MeshNetJob, file: string, count: number): Promise<void> {
  const nz = job.geometry.dims[2];
  const workers: Worker[] = [];
  try {
    // Each worker gets one contiguous slab of planes: the planes cost the same.
    const slabs = Array.from({ length: count }, (_, w) => [Math.floor((w * nz) / count), Math.floor(((w + 1) * nz) / count)] as const);
    const waiters: ((reply: MeshNetWorkerReply) => void)[] = [];
    const next = (w: number): Promise<MeshNetWorkerReply> => new Promise((resolve) => (waiters[w] = resolve));
    for (let w = 0; w < count; w++) {
      const worker = new Worker(file, { workerData: job });
      worker.on('message', (reply: MeshNetWorkerReply) => waiters[w]?.(reply));
      worker.on('error', (e) => waiters[w]?.({ type: 'error', message: e.message }));
      // A worker that dies (out of memory) must not leave the run waiting; after a reply this is a no-op.
      worker.on('exit', (code) => waiters[w]?.({ type: 'error', message: `exited with code ${code}` }));
      workers.push(worker);
    }
    const check = (reply: MeshNetWorkerReply, expected: MeshNetWorkerReply['type']): void => {
      if (reply.type === 'error') throw new Error(`a MeshNet worker failed: ${reply.message}`);
      if (reply.type !== expected) throw new Error(`a MeshNet worker answered ${reply.type} instead of ${expected}`);
    };
    for (const reply of await Promise.all(workers.map((_, w) => next(w)))) check(reply, 'ready');
    for (let n = 0; n < job.layers.length; n++) {
      const done = workers.map((_, w) => next(w));
      workers.forEach((worker, w) => worker.postMessage({ type: 'layer', layer: n, k0: slabs[w]![0], k1: slabs[w]![1] } satisfies MeshNetWorkerRequest));
      for (const reply of await Promise.all(done)) check(reply, 'done');
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
