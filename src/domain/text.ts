/**
 * What the service accepts as text from a client. No field of the API can meaningfully hold
 * U+0000 (NUL), and PostgreSQL cannot store it in a text column (SQLite can): a JSON document
 * holding one is refused where it is parsed, so that both databases answer alike.
 */

/** A JSON.parse reviver that throws NulInJsonError at the first key or string holding U+0000. */
export function refuseNul(key: string, value: unknown): unknown {
  if (key.includes('\u0000') || (typeof value === 'string' && value.includes('\u0000'))) throw new NulInJsonError();
  return value;
}

export class NulInJsonError extends SyntaxError {
  constructor() {
    super('a key or string holds the NUL character (\\u0000), which no field accepts');
    this.name = 'NulInJsonError';
  }
}
