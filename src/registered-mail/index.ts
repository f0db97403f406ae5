/** What other capabilities use of registered mail: the evidence service that seals their proofs. */
export type { EvidenceService } from './evidence.js';
/** What the sender's console pages read: a sender's messages, timelines, usage, settings and bundles. */
export { ConsoleService, CONSOLE_QUERY_FIELDS, MAX_BUNDLE_MESSAGES, type ConsoleFilter, type ConsoleQuery, type Timeline, type Usage, type Bundle } from './console.js';
