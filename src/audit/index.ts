/** What other capabilities use of the audit: the tar writer of downloadable bundles, and where a bundle keeps a proof. */
export { tarStream, type TarEntry } from './tar.js';
export { proofPath } from './bundle.js';
