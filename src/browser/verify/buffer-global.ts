/** Node's global `Buffer`, which parts of the crypto layer use, from the npm `buffer` package (esbuild injects it). */
export { Buffer } from 'buffer';
