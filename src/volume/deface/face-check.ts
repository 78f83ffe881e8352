/**
 * The re-identification check of defacing, as the literature runs it (Schwarz et al., NEJM 2019):
 * render the skin of the head before and after defacing (render.ts), look for a face with a face
 * detector, and compare the faces found with a face-recognition model. A run passes when a face
 * is found on the frontal render before defacing, and after defacing no face is found in any view,
 * or every face found is far from every face found before.
 *
 * Models: @vladmandic/face-api's SSD MobileNet v1 detector (more sensitive than its tiny detector
 * on renders), its 68-point landmark net (to align the face) and its ResNet-34 recognition net
 * (128-number descriptors; two faces whose descriptors are less than 0.6 apart in Euclidean
 * distance are taken to be the same person, face-api's and dlib's threshold). The weights ship
 * inside the npm package (`model/`) and are read from disk: no network.
 *
 * Runtime: @tensorflow/tfjs, on its WebAssembly backend when @tensorflow/tfjs-backend-wasm is
 * installed (about twenty times faster) and otherwise on its plain JavaScript CPU backend
 * (@tensorflow/tfjs-node, the native backend face-api's default Node build wants, is not used).
 * face-api's Node builds hard-require either tfjs-node or tfjs-backend-wasm; the wasm build only
 * merges the backend's exports into its `tf` namespace, so it is evaluated here as a CommonJS
 * module whose `require` hands it this process's @tensorflow/tfjs and, when the wasm backend is
 * absent, an empty module in its place. The models are loaded once per process, on first use.
 *
 * Measured on the two real heads and the MNI152 1 mm and avg152 2 mm templates (2 shared cores):
 * loading tfjs and the models takes 0.6–2 s; one render with its mirror image, landmarks and
 * descriptors 0.6–1.1 s on the WebAssembly backend and 16–40 s on the CPU backend (an SSD pass
 * alone: 0.3–0.5 s against 7–8 s). Frontal scores before defacing were 0.80–0.98; on renders of
 * the heads cut 4 cm in front of their centre, no score reached 0.11. On renders the recognition
 * net separates people poorly: descriptors of a real head and of the templates lie 0.46–0.64
 * apart (same-person threshold 0.6, set on photographs), so a face found after defacing will
 * nearly always count as matched — in practice the check passes when no face is detected after.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import type * as Tfjs from '@tensorflow/tfjs';
import type * as FaceApiModule from '@vladmandic/face-api';
import { VolumeError } from '../errors.js';
import type { Volume } from '../volume.js';
import { writePng } from './png.js';
import { DEFAULT_RENDER_SIZE, headFrame, renderSkin, skinThreshold, type GreyImage } from './render.js';

type FaceApi = typeof FaceApiModule;

/** The face engine could not start, or the check was asked for something it cannot do. */
export class FaceCheckError extends VolumeError {
  override readonly name = 'FaceCheckError';
}

/** Default detection threshold: low, since renders are harder for a detector than photographs. */
export const DEFAULT_MIN_CONFIDENCE = 0.3;
/** face-api's (and dlib's) same-person threshold on the Euclidean distance between descriptors. */
export const SAME_PERSON_DISTANCE = 0.6;
export const DEFAULT_VIEWS: readonly number[] = [0, -30, 30];
/** Detections below this score are not reported at all (they are noise on any image). */
const REPORT_FLOOR = 0.05;
/** At most this many faces per image get landmarks and a descriptor (the cost is per face). */
const MAX_FACES = 3;

/** One face found on a render. */
export interface FoundFace {
  /** Detector confidence, 0–1. */
  readonly score: number;
  /** Where, in pixels of the render (x, y of the top-left corner). */
  readonly box: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  /** Found on the render's mirror image (the box is given in the unmirrored image). */
  readonly mirrored: boolean;
  /** The 128-number face descriptor of the recognition net. */
  readonly descriptor: Float32Array;
}

export interface FaceFinding {
  /** The best detector score on the image or its mirror image (0 when nothing reached 0.05). */
  readonly bestScore: number;
  /** The faces at or above the detection threshold, best first. */
  readonly faces: readonly FoundFace[];
}

export interface FaceScore {
  /** A face at or above the detection threshold was found. */
  readonly detected: boolean;
  /** The best detector score, detected or not. */
  readonly score: number;
}

export interface FaceCheckView {
  /** Camera azimuth in degrees (0 = frontal; positive toward the patient's left). */
  readonly azimuth: number;
  readonly before: FaceScore;
  readonly after: FaceScore;
  /**
   * When a face is detected after defacing: the smallest descriptor distance between it and the
   * faces detected before defacing (in any view, which is stricter than comparing the same view
   * only); null when no face is detected after, or none before.
   */
  readonly distance: number | null;
  /** The PNG files written, when a preview folder was given. */
  readonly previews?: { readonly before: string; readonly after: string };
}

export interface FaceCheckReport {
  readonly views: readonly FaceCheckView[];
  /** A face was detected on the frontal render before, and after defacing none is detected or matched in any view. */
  readonly passed: boolean;
  /** Why the check passed or failed, in one sentence. */
  readonly reason: string;
  /** The skin threshold both volumes were rendered at. */
  readonly skinThreshold: number;
  readonly minConfidence: number;
  /** The tfjs backend that ran the models: "wasm" or "cpu". */
  readonly backend: string;
  readonly timings: {
    /** Loading tfjs and the models (0 when already loaded by an earlier call in this process). */
    readonly modelLoadMs: number;
    readonly renderMs: number;
    readonly detectMs: number;
  };
}

export interface FaceCheckOptions {
  /** Camera azimuths in degrees; must include 0, the frontal view (default [0, −30, 30]). */
  readonly views?: readonly number[];
  /** Folder for PNG previews `<name>-<azimuth>-before.png` and `-after.png`, detected faces outlined (made if missing). */
  readonly previewDir?: string;
  /** File name prefix of the previews (default "face"). */
  readonly name?: string;
  /** Detection threshold (default 0.3). */
  readonly minConfidence?: number;
  /** Skin threshold for both renders (default: `skinThreshold(before)`). */
  readonly skinThreshold?: number;
  /** Render size in pixels (default 256). */
  readonly size?: number;
  /** Look for faces on the mirror images of the renders too (default true; see detectFaces). */
  readonly mirror?: boolean;
}

// ---------------------------------------------------------------------------------------------
// The engine: tfjs and face-api with its three models, loaded once per process.

interface FaceEngine {
  readonly faceapi: FaceApi;
  /** The @tensorflow/tfjs that face-api runs on (face-api's own typing of it lists only part of its API). */
  readonly tf: typeof Tfjs;
  readonly backend: string;
  readonly loadMs: number;
}

let engine: Promise<FaceEngine> | undefined;

/** tfjs and the models, loaded on first use; `loadMs` is the time the first load took. */
function faceEngine(): Promise<FaceEngine> {
  engine ??= loadEngine().catch((e: unknown) => {
    engine = undefined; // a later call may try again (e.g. after the package is installed)
    throw e;
  });
  return engine;
}

async function loadEngine(): Promise<FaceEngine> {
  const started = performance.now();
  const require = createRequire(import.meta.url);
  let faceApiFile: string;
  try {
    faceApiFile = require.resolve('@vladmandic/face-api/dist/face-api.node-wasm.js');
  } catch {
    throw new FaceCheckError('the face check needs the npm package @vladmandic/face-api, which is not installed');
  }
  const modelDir = path.join(path.dirname(faceApiFile), '..', 'model');
  for (const manifest of ['ssd_mobilenetv1_model-weights_manifest.json', 'face_landmark_68_model-weights_manifest.json', 'face_recognition_model-weights_manifest.json']) {
    if (!existsSync(path.join(modelDir, manifest))) throw new FaceCheckError(`face-api's model file is missing`, path.join(modelDir, manifest));
  }
  const tf = require('@tensorflow/tfjs') as typeof Tfjs;
  let wasmBackend: unknown;
  try {
    wasmBackend = require('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
  }
  // PROD silences tfjs's console advice to install tfjs-node (the CPU backend prints it on first use).
  tf.env().set('PROD', true);

  const faceapi = evaluateCommonJs(faceApiFile, (id, fallback) => {
    if (id === '@tensorflow/tfjs') return tf;
    if (id === '@tensorflow/tfjs-backend-wasm') return wasmBackend ?? {};
    return fallback(id);
  }) as FaceApi;

  let backend = 'cpu';
  if (wasmBackend !== undefined && (await tf.setBackend('wasm'))) backend = 'wasm';
  else if (!(await tf.setBackend('cpu'))) throw new FaceCheckError("tfjs's CPU backend did not start");
  await tf.ready();

  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  return { faceapi, tf, backend, loadMs: performance.now() - started };
}

/** Runs a CommonJS file with a `require` that may answer some ids itself. */
function evaluateCommonJs(file: string, resolve: (id: string, fallback: (id: string) => unknown) => unknown): unknown {
  const source = readFileSync(file, 'utf8');
  const wrapper = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file }) as (
    exports: object,
    require: (id: string) => unknown,
    module: { exports: object },
    filename: string,
    dirname: string,
  ) => void;
  const fileRequire = createRequire(file);
  const module = { exports: {} };
  wrapper(module.exports, (id) => resolve(id, fileRequire), module, file, path.dirname(file));
  return module.exports;
}

/** The backend and tensor count of the face engine (loading it if needed): for reports and memory checks. */
export async function faceEngineStatus(): Promise<{ backend: string; tensors: number; loadMs: number }> {
  const { tf, backend, loadMs } = await faceEngine();
  return { backend, tensors: tf.memory().numTensors, loadMs };
}

// ---------------------------------------------------------------------------------------------
// Detection

export interface DetectOptions {
  /** Detection threshold (default 0.3). */
  readonly minConfidence?: number;
  /** Look at the mirror image too (default true; it doubles the cost). */
  readonly mirror?: boolean;
}

/**
 * Finds faces on a grey render and on its mirror image (a detector is not symmetric, and a face
 * turned one way is found more readily than the same face turned the other: looking at both makes
 * the check symmetric, and stricter after defacing; measured on the real heads, the mirror image
 * raised the score at azimuth +30° from 0.28 to 0.82). Faces at or above `minConfidence` get
 * landmarks and a descriptor.
 */
export async function detectFaces(image: GreyImage, options: DetectOptions = {}): Promise<FaceFinding> {
  const minConfidence = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  if (!(minConfidence > 0 && minConfidence <= 1)) throw new RangeError(`minConfidence must be in (0, 1], not ${minConfidence}`);
  if (image.pixels.length !== image.width * image.height) {
    throw new RangeError(`a ${image.width}×${image.height} image needs ${image.width * image.height} pixels, not ${image.pixels.length}`);
  }
  const face = await faceEngine();
  return onEngineBackend(face, () => findFaces(face.faceapi, image, minConfidence, options.mirror !== false));
}

/**
 * Runs `work` on the face engine's tfjs backend. The backend is process-wide in tfjs: when another
 * part of the program has chosen another one (brain segmentation models may need kernels the
 * WebAssembly backend lacks), it is put back afterwards.
 */
async function onEngineBackend<T>(face: FaceEngine, work: () => Promise<T>): Promise<T> {
  const previous = face.tf.getBackend();
  if (previous !== face.backend) await face.tf.setBackend(face.backend);
  try {
    return await work();
  } finally {
    if (previous && previous !== face.backend) await face.tf.setBackend(previous);
  }
}

async function findFaces(faceapi: FaceApi, image: GreyImage, minConfidence: number, mirror: boolean): Promise<FaceFinding> {
  const found: FoundFace[] = [];
  let bestScore = 0;
  for (const mirrored of mirror ? [false, true] : [false]) {
    const input = toTensor(faceapi, image, mirrored);
    try {
      const detections = await faceapi.detectAllFaces(input, new faceapi.SsdMobilenetv1Options({ minConfidence: REPORT_FLOOR, maxResults: 10 }));
      for (const d of detections) bestScore = Math.max(bestScore, d.score);
      const strong = detections.filter((d) => d.score >= minConfidence).sort((a, b) => b.score - a.score).slice(0, MAX_FACES);
      if (strong.length === 0) continue;
      // face-api's own landmark → alignment → descriptor chain, started from these detections.
      const parent = Promise.resolve(strong.map((d) => faceapi.extendWithFaceDetection({}, d)));
      const described = await new faceapi.DetectAllFaceLandmarksTask(parent, input, false).withFaceDescriptors();
      for (const r of described) {
        const b = r.detection.box;
        found.push({
          score: r.detection.score,
          box: { x: mirrored ? image.width - b.x - b.width : b.x, y: b.y, width: b.width, height: b.height },
          mirrored,
          descriptor: r.descriptor,
        });
      }
    } finally {
      input.dispose();
    }
  }
  found.sort((a, b) => b.score - a.score);
  return { bestScore, faces: found };
}

function toTensor(faceapi: FaceApi, image: GreyImage, mirrored: boolean) {
  const { width, height, pixels } = image;
  const rgb = new Int32Array(width * height * 3);
  for (let row = 0, n = 0; row < height; row++) {
    for (let col = 0; col < width; col++, n++) {
      const g = pixels[row * width + (mirrored ? width - 1 - col : col)]!;
      rgb[3 * n] = g;
      rgb[3 * n + 1] = g;
      rgb[3 * n + 2] = g;
    }
  }
  return faceapi.tf.tensor3d(rgb, [height, width, 3], 'int32');
}

/** The smallest Euclidean distance between a descriptor of `a` and one of `b`; null when either is empty. */
function closestDistance(faceapi: FaceApi, a: readonly FoundFace[], b: readonly FoundFace[]): number | null {
  let best: number | null = null;
  for (const x of a) {
    for (const y of b) {
      const d = faceapi.euclideanDistance(x.descriptor, y.descriptor);
      if (best === null || d < best) best = d;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// The check

/**
 * Renders `before` and `after` from each azimuth (one skin threshold and one frame, both taken
 * from `before`, so that the renders differ only by what defacing changed), looks for faces on
 * each render and compares them. See FaceCheckReport.passed for the rule.
 */
export async function checkFaces(before: Volume, after: Volume, options: FaceCheckOptions = {}): Promise<FaceCheckReport> {
  const views = options.views ?? DEFAULT_VIEWS;
  if (views.length === 0 || !views.includes(0)) throw new FaceCheckError(`the face check needs the frontal view (azimuth 0) among its views, got [${views.join(', ')}]`);
  const minConfidence = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const name = options.name ?? 'face';
  if (!/^[\w.-]+$/.test(name)) throw new FaceCheckError(`preview name "${name}" must be letters, digits, '.', '-' or '_'`);

  const loadStarted = performance.now();
  const { faceapi, backend } = await faceEngine();
  const modelLoadMs = performance.now() - loadStarted;

  let renderMs = 0;
  let detectMs = 0;
  let clock = performance.now();
  const threshold = options.skinThreshold ?? skinThreshold(before);
  const frame = headFrame(before, threshold);
  renderMs += performance.now() - clock;

  const size = options.size ?? DEFAULT_RENDER_SIZE;
  const found: { azimuth: number; before: FaceFinding; after: FaceFinding; previews?: { before: string; after: string } }[] = [];
  for (const azimuth of views) {
    clock = performance.now();
    const view = { azimuthDegrees: azimuth, size, frame };
    const beforeImage = renderSkin(before, view, threshold);
    const afterImage = renderSkin(after, view, threshold);
    renderMs += performance.now() - clock;
    clock = performance.now();
    const detect = { minConfidence, mirror: options.mirror ?? true };
    const beforeFaces = await detectFaces(beforeImage, detect);
    const afterFaces = await detectFaces(afterImage, detect);
    detectMs += performance.now() - clock;
    let previews: { before: string; after: string } | undefined;
    if (options.previewDir !== undefined) {
      previews = {
        before: path.join(options.previewDir, `${name}-${azimuth}-before.png`),
        after: path.join(options.previewDir, `${name}-${azimuth}-after.png`),
      };
      await writePng(previews.before, withBoxes(beforeImage, beforeFaces.faces));
      await writePng(previews.after, withBoxes(afterImage, afterFaces.faces));
    }
    found.push({ azimuth, before: beforeFaces, after: afterFaces, ...(previews ? { previews } : {}) });
  }

  const allBefore = found.flatMap((f) => f.before.faces);
  const reportViews: FaceCheckView[] = found.map((f) => ({
    azimuth: f.azimuth,
    before: { detected: f.before.faces.length > 0, score: f.before.bestScore },
    after: { detected: f.after.faces.length > 0, score: f.after.bestScore },
    distance: closestDistance(faceapi, f.after.faces, allBefore),
    ...(f.previews ? { previews: f.previews } : {}),
  }));
  const { passed, reason } = judgeFaceCheck(reportViews, minConfidence);
  return { views: reportViews, passed, reason, skinThreshold: threshold, minConfidence, backend, timings: { modelLoadMs, renderMs, detectMs } };
}

/**
 * The rule of the check: a face is detected on the frontal render before defacing, and in no view
 * after defacing is a face detected whose descriptor lies within SAME_PERSON_DISTANCE of a face
 * found before. `views` must include azimuth 0.
 */
export function judgeFaceCheck(views: readonly FaceCheckView[], minConfidence = DEFAULT_MIN_CONFIDENCE): { passed: boolean; reason: string } {
  const frontal = views.find((v) => v.azimuth === 0);
  if (!frontal) throw new FaceCheckError(`the face check needs the frontal view (azimuth 0), got [${views.map((v) => v.azimuth).join(', ')}]`);
  if (!frontal.before.detected) {
    return {
      passed: false,
      reason: `no face was detected on the frontal render before defacing (best score ${frontal.before.score.toFixed(2)} < ${minConfidence}), so the check cannot show that a face was removed`,
    };
  }
  const matched = views.filter((v) => v.after.detected && (v.distance === null || v.distance < SAME_PERSON_DISTANCE));
  if (matched.length > 0) {
    const v = matched[0]!;
    return {
      passed: false,
      reason: `after defacing a face is still detected at azimuth ${v.azimuth} (score ${v.after.score.toFixed(2)}) and matches the face before (descriptor distance ${v.distance?.toFixed(2)} < ${SAME_PERSON_DISTANCE})`,
    };
  }
  const unmatched = views.filter((v) => v.after.detected);
  return {
    passed: true,
    reason:
      unmatched.length === 0
        ? `a face was detected before defacing (frontal score ${frontal.before.score.toFixed(2)}) and none after, in ${views.length} view${views.length === 1 ? '' : 's'}`
        : `a face was detected before defacing (frontal score ${frontal.before.score.toFixed(2)}); after, what the detector found does not match it (smallest distance ${Math.min(...unmatched.map((v) => v.distance!)).toFixed(2)} ≥ ${SAME_PERSON_DISTANCE})`,
  };
}

/** A copy of the render with the detected faces outlined (white, on a black rim so it shows on white skin). */
function withBoxes(image: GreyImage, faces: readonly FoundFace[]): GreyImage {
  if (faces.length === 0) return image;
  const pixels = image.pixels.slice();
  const { width, height } = image;
  const set = (x: number, y: number, v: number) => {
    if (x >= 0 && y >= 0 && x < width && y < height) pixels[y * width + x] = v;
  };
  for (const f of faces) {
    const x0 = Math.round(f.box.x);
    const y0 = Math.round(f.box.y);
    const x1 = Math.round(f.box.x + f.box.width);
    const y1 = Math.round(f.box.y + f.box.height);
    for (const [inset, v] of [[0, 255], [1, 0]] as const) {
      for (let x = x0 + inset; x <= x1 - inset; x++) {
        set(x, y0 + inset, v);
        set(x, y1 - inset, v);
      }
      for (let y = y0 + inset; y <= y1 - inset; y++) {
        set(x0 + inset, y, v);
        set(x1 - inset, y, v);
      }
    }
  }
  return { width, height, pixels };
}
