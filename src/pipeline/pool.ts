/**
 * Spreads files over worker threads in small batches (one message per batch keeps the
 * messaging cost well below the per-file work) with two batches in flight per worker, so a
 * worker never waits for the main thread. With `workers: 0` the same work runs in-process,
 * which is what tests of the library use when running from TypeScript sources.
 */
import { Worker } from 'node:worker_threads';
import { FileIO } from './atomic.js';
import { processFile, threadContext, type FileOutcome } from './process-file.js';
import { withOcrEngines } from '../pixels/settings.js';
import type { JobSettings } from './settings.js';
import type { BatchMessage, ResultMessage } from './worker.js';

export interface PoolOptions {
  readonly workers: number;
  readonly batchSize: number;
}

export async function runPool(
  files: AsyncIterable<string>,
  jobSettings: JobSettings,
  options: PoolOptions,
  onOutcome: (o: FileOutcome) => void | Promise<void>,
): Promise<void> {
  // Each thread's cleaner starts as many OCR engines as the cores left to it (unless set).
  const threads = Math.max(1, options.workers);
  const settings = jobSettings.pixels ? { ...jobSettings, pixels: withOcrEngines(jobSettings.pixels, threads) } : jobSettings;
  if (options.workers <= 0) {
    const worker = await threadContext(settings, new FileIO());
    try {
      for await (const rel of files) await onOutcome(await processFile(rel, worker));
    } finally {
      await worker.pixels?.close();
    }
    return;
  }

  const iterator = files[Symbol.asyncIterator]();
  let exhausted = false;
  const nextBatch = async (): Promise<string[]> => {
    const batch: string[] = [];
    while (!exhausted && batch.length < options.batchSize) {
      const r = await iterator.next();
      if (r.done) exhausted = true;
      else batch.push(r.value);
    }
    return batch;
  };

  const workerUrl = new URL('./worker.js', import.meta.url);
  // Batches are pulled by one worker at a time so the shared iterator is never read concurrently.
  let pulling: Promise<unknown> = Promise.resolve();
  const pull = (): Promise<string[]> => {
    const p = pulling.then(nextBatch);
    pulling = p.catch(() => undefined);
    return p;
  };

  const runWorker = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(workerUrl, { workerData: settings });
      let inFlight = 0;
      let failed = false;
      let pending: Promise<void> = Promise.resolve();
      const send = async (): Promise<void> => {
        const batch = await pull();
        if (batch.length === 0) {
          if (inFlight === 0) void worker.terminate().then(() => resolve());
          return;
        }
        inFlight++;
        worker.postMessage({ type: 'batch', files: batch } satisfies BatchMessage);
      };
      worker.on('message', (msg: ResultMessage) => {
        inFlight--;
        pending = pending
          .then(async () => {
            for (const o of msg.outcomes) await onOutcome(o);
          })
          .then(send)
          .catch((e) => {
            failed = true;
            void worker.terminate();
            reject(e);
          });
      });
      worker.on('error', (e) => {
        if (!failed) reject(e);
      });
      worker.on('online', () => {
        void send().then(send).catch(reject);
      });
    });

  await Promise.all(Array.from({ length: options.workers }, runWorker));
}
