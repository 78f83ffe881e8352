/** Worker thread entry: de-identifies the batches of files the pool sends. */
import { parentPort, workerData } from 'node:worker_threads';
import { FileIO } from './atomic.js';
import { processFile, type FileOutcome } from './process-file.js';
import { materialize, type JobSettings } from './settings.js';

export interface BatchMessage {
  readonly type: 'batch';
  readonly files: readonly string[];
}

export interface ResultMessage {
  readonly type: 'results';
  readonly outcomes: readonly FileOutcome[];
}

const settings = workerData as JobSettings;
const worker = { settings, m: materialize(settings), io: new FileIO() };

parentPort!.on('message', (msg: BatchMessage) => {
  const outcomes: FileOutcome[] = [];
  for (const rel of msg.files) outcomes.push(processFile(rel, worker));
  parentPort!.postMessage({ type: 'results', outcomes } satisfies ResultMessage);
});
