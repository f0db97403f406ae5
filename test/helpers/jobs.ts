/**
 * A job map for the tests of the job machinery (table, runner, hand-over): types named
 * for what a test needs, with payloads of no meaning beyond a number to tell jobs apart.
 */
import { integer, optional, shape, type PayloadOf } from '../../src/store/payload.js';

const empty = shape({});

export const TEST_JOBS = { a: shape({ n: optional(integer) }), b: empty, x: empty, slow: empty, held: empty, other: empty };

export type TestJobs = { [T in keyof typeof TEST_JOBS]: PayloadOf<(typeof TEST_JOBS)[T]> };
