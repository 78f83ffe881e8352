/**
 * OpenCV.js (`@techstark/opencv-js`, a WebAssembly build of OpenCV 4.12), loaded once per process.
 *
 * Two traps of this build shape the code. The module object has a `then` method (Emscripten's
 * "thenable" module), so awaiting it, or resolving a promise with it, would call that method and
 * hang or recurse: the module is handed out inside a plain holder object instead, after its
 * `onRuntimeInitialized` has fired. And errors thrown from C++ arrive as bare numbers (pointers to
 * a cv::Exception), turned here into an Error with OpenCV's message.
 *
 * Only the few members radanon uses are typed, so that nothing else of the binding leaks as `any`.
 * This build has the photo module's `cv.inpaint` (Telea, Navier–Stokes) but not the contrib
 * `xphoto` module (no `xphoto_inpaint`, no shift-map or FSR inpainting), and no exemplar-based
 * method: exemplar.ts is hand-written for that reason (checked against the installed build in
 * test/unit/pixels/inpaint-opencv.test.ts).
 */
import { createRequire } from 'node:module';

/** The parts of a cv.Mat radanon touches. */
export interface CvMat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Uint8Array;
  readonly data16U: Uint16Array;
  readonly data32F: Float32Array;
  type(): number;
  delete(): void;
}

/** The parts of the OpenCV.js module radanon uses. */
export interface OpenCv {
  readonly Mat: new (rows: number, cols: number, type: number) => CvMat;
  inpaint(src: CvMat, mask: CvMat, dst: CvMat, radius: number, flags: number): void;
  readonly INPAINT_TELEA: number;
  readonly INPAINT_NS: number;
  readonly CV_8UC1: number;
  readonly CV_8UC3: number;
  readonly CV_16UC1: number;
  readonly CV_32FC1: number;
  exceptionFromPtr?(pointer: number): { readonly msg?: string };
}

/** A holder, never the module itself: the module is thenable (see above). */
export interface OpenCvHandle {
  readonly cv: OpenCv;
}

interface RawModule extends Partial<OpenCv> {
  onRuntimeInitialized?: () => void;
}

// The one piece of module-level state: instantiating the WebAssembly module takes about a second
// and its heap is process-wide anyway, so every caller shares the same load.
let loading: Promise<OpenCvHandle> | undefined;

/** The OpenCV.js module, loaded on first use and shared afterwards. */
export function loadOpenCv(): Promise<OpenCvHandle> {
  loading ??= new Promise<OpenCvHandle>((resolve, reject) => {
    let raw: RawModule;
    try {
      raw = createRequire(import.meta.url)('@techstark/opencv-js') as RawModule;
    } catch (e) {
      reject(new Error(`OpenCV.js (@techstark/opencv-js) could not be loaded: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    const ready = (): void => resolve({ cv: raw as OpenCv });
    if (typeof raw.Mat === 'function' && typeof raw.inpaint === 'function') ready();
    else raw.onRuntimeInitialized = ready;
  });
  return loading;
}

/** Runs `body`, turning OpenCV's numeric exceptions into Errors that carry its message. */
export function withOpenCvErrors<T>(cv: OpenCv, what: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (typeof e === 'number') {
      const message = cv.exceptionFromPtr?.(e).msg ?? `exception ${e}`;
      throw new Error(`${what}: OpenCV failed: ${message.trim()}`);
    }
    throw e;
  }
}
