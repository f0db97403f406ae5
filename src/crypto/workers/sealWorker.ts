/**
 * A sealing worker thread (see SealingPool.ts): builds the proof writer and the built-in
 * TSA's token writer once from `workerData`, then seals each content it is sent,
 * synchronously, and posts the proof back (its ArrayBuffer transferred, not copied).
 *
 * Runs as compiled JavaScript only (dist/): on Node 20, tsx does not load TypeScript inside
 * worker threads (docs/cades-profile.md, "Pitfalls a strict verifier catches").
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CadesTWriter } from '../CadesT.js';
import { KeyObjectSigner } from '../Signer.js';
import { TimeStampTokenTemplate } from '../TimeStampTokenTemplate.js';
import type { SealRequest, SealResponse, SealWorkerData } from './SealingPool.js';

const data = workerData as SealWorkerData;
const tokens = new TimeStampTokenTemplate(new KeyObjectSigner(data.tsa.identity), { policyOid: data.tsa.policyOid, ...(data.tsa.accuracyMs !== undefined ? { accuracyMs: data.tsa.accuracyMs } : {}) });
const sealer = new CadesTWriter(new KeyObjectSigner(data.seal), tokens);
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
