/** Worker thread of runMeshNet (meshnet.ts): compiles the layers once, then runs the planes it is given. */
import { parentPort, workerData } from 'node:worker_threads';
import { compileJob, runLayerPlanes, type MeshNetJob, type MeshNetWorkerReply, type MeshNetWorkerRequest } from './meshnet.js';

const job = workerData as MeshNetJob;
const port = parentPort!;
try {
  const kernels = compileJob(job);
  port.on('message', (msg: MeshNetWorkerRequest) => {
    try {
      runLayerPlanes(job, kernels, msg.layer, msg.k0, msg.k1);
      port.postMessage({ type: 'done', layer: msg.layer } satisfies MeshNetWorkerReply);
    } catch (e) {
      port.postMessage({ type: 'error', message: (e as Error).message } satisfies MeshNetWorkerReply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies MeshNetWorkerReply);
} catch (e) {
  port.postMessage({ type: 'error', message: (e as Error).message } satisfies MeshNetWorkerReply);
}
