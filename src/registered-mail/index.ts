/** What other capabilities use of registered mail: the evidence service that seals their proofs. */
export type { EvidenceService } from './evidence.js';
