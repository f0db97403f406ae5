/**
 * Readers for job payloads: a job's payload is JSON written by this service, possibly by
 * an earlier version of it, and read back when the job runs. A reader checks the shape
 * once, where the row enters the runner, and returns the payload typed; what does not fit
 * is a PayloadError naming the field (the job is then a dead letter, see JobRunner).
 *
 *   const seal = shape({ messageId: text, type: oneOf(EVIDENCE_TYPES), reasons: optional(listOf(...)) });
 *   type SealPayload = PayloadOf<typeof seal>;
 *
 * A shape keeps only the fields it names. An optional field may be absent or null.
 */

/** Reads a value at `at` (for messages: `payload.reasons[0].Code`); throws PayloadError. */
export type PayloadReader<P> = (raw: unknown, at: string) => P;

/** What a reader returns. */
export type PayloadOf<R> = R extends PayloadReader<infer P> ? P : never;

/** A stored payload that does not fit the shape of its job type. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export const text: PayloadReader<string> = (v, at) => {
  if (typeof v !== 'string') throw new PayloadError(`${at}: expected a string, found ${describe(v)}`);
  return v;
};

export const integer: PayloadReader<number> = (v, at) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new PayloadError(`${at}: expected an integer, found ${describe(v)}`);
  return v;
};

export function oneOf<const V extends readonly string[]>(values: V): PayloadReader<V[number]> {
  return (v, at) => {
    if (typeof v !== 'string' || !values.includes(v)) throw new PayloadError(`${at}: expected one of ${values.join(', ')}, found ${describe(v)}`);
    return v as V[number];
  };
}

export function listOf<P>(item: PayloadReader<P>): PayloadReader<P[]> {
  return (v, at) => {
    if (!Array.isArray(v)) throw new PayloadError(`${at}: expected an array, found ${describe(v)}`);
    return v.map((x, i) => item(x, `${at}[${i}]`));
  };
}

/** A field that may be absent (or null, read as absent). */
export interface OptionalReader<P> extends PayloadReader<P | undefined> {
  readonly optional: true;
}

export function optional<P>(reader: PayloadReader<P>): OptionalReader<P> {
  const read = (v: unknown, at: string) => (v === undefined || v === null ? undefined : reader(v, at));
  return Object.assign(read, { optional: true as const });
}

type Fields = Record<string, PayloadReader<unknown>>;
type Required<S extends Fields> = { [K in keyof S as S[K] extends OptionalReader<unknown> ? never : K]: PayloadOf<S[K]> };
type Optional<S extends Fields> = { [K in keyof S as S[K] extends OptionalReader<unknown> ? K : never]?: Exclude<PayloadOf<S[K]>, undefined> };
/** The object a shape reads: its optional fields may be left out. */
export type ShapeOf<S extends Fields> = { [K in keyof (Required<S> & Optional<S>)]: (Required<S> & Optional<S>)[K] };

export function shape<S extends Fields>(fields: S): PayloadReader<ShapeOf<S>> {
  return (v, at) => {
    if (!isPlainObject(v)) throw new PayloadError(`${at}: expected an object, found ${describe(v)}`);
    const out: Record<string, unknown> = {};
    for (const [name, read] of Object.entries(fields)) {
      const value = read(v[name], `${at}.${name}`);
      if (value !== undefined) out[name] = value;
    }
    return out as ShapeOf<S>;
  };
}
