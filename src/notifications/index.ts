/** What other capabilities use of notifications: the notice a registered letter's deposit sends. */
export { enqueueRegisteredMailNotice } from './engine.js';
