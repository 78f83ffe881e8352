/** Worker thread entry: de-identifies the batches of files the pool sends. */
import { parentPort, workerData } from 'node:worker_threads';
import { FileIO } from './atomic.js';
import { processFile, threadContext, type FileOutcome } from './process-file.js';
import type { JobSettings } from './settings.js';

export interface BatchMessage {
  readonly type: 'batch';
  readonly files: readonly string[];
}

export interface ResultMessage {
  readonly type: 'results';
  readonly outcomes: readonly FileOutcome[];
}

const settings = workerData as JobSettings;
const worker = await threadContext(settings, new FileIO());

// Batches are handled one after another: a file's OCR is awaited before the next file starts.
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (msg: BatchMessage) => {
  queue = queue.then(async () => {
    const outcomes: FileOutcome[] = [];
    for (const rel of msg.files) outcomes.push(await processFile(rel, worker));
    parentPort!.postMessage({ type: 'results', outcomes } satisfies ResultMessage);
  });
});
