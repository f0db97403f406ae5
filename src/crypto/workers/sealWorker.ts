/**
 * A sealing worker thread (see SealingPool.ts): builds the fast sealer and the built-in TSA's
 * token writer once from `workerData`, then seals each content it is sent, synchronously,
 * and posts the proof back (its ArrayBuffer transferred, not copied).
 *
 * Runs as compiled JavaScript only (dist/): tsx cannot load TypeScript inside worker threads
 * on Node 20 (shared/notes/cades-with-pkijs.md).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FastSealer } from '../FastSealer.js';
import { TimeStampTokenTemplate } from '../TimeStampTokenTemplate.js';
import type { SealRequest, SealResponse, SealWorkerData } from './SealingPool.js';

const data = workerData as SealWorkerData;
const tokens = new TimeStampTokenTemplate(data.tsa.identity, { policyOid: data.tsa.policyOid, ...(data.tsa.accuracyMs !== undefined ? { accuracyMs: data.tsa.accuracyMs } : {}) });
const sealer = new FastSealer(data.seal, tokens);
const port = parentPort!;

port.on('message', (request: SealRequest) => {
  let response: SealResponse;
  try {
    const der = sealer.sealSync(request.content, new Date(request.signingTime));
    response = { id: request.id, der };
    port.postMessage(response, [der.buffer as ArrayBuffer]);
  } catch (err) {
    response = { id: request.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    port.postMessage(response);
  }
});
