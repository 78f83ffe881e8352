/** Worker thread entry: de-identifies the batches of files the pool sends. */
import { parentPort, workerData } from 'node:worker_threads';
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
const m = materialize(settings);

parentPort!.on('message', async (msg: BatchMessage) => {
  const outcomes: FileOutcome[] = [];
  for (const rel of msg.files) outcomes.push(await processFile(rel, settings, m));
  parentPort!.postMessage({ type: 'results', outcomes } satisfies ResultMessage);
});
