/**
 * What text the service takes from a client.
 *
 * No field of the API can meaningfully hold U+0000 (NUL), and PostgreSQL cannot store it in
 * a text column (SQLite can): a JSON document holding one is refused where it is parsed
 * (`refuseNul`), so that both databases answer alike.
 *
 * What text a proof may carry (`unsafeTextReason`). Subjects, references and file names end up in signed
 * statements that people read years later, so text that displays as something other than
 * what it is is refused rather than sealed:
 * - lone surrogates (U+D800–U+DFFF outside a pair): not Unicode text at all; JSON can carry
 *   them as `\ud800` escapes, UTF-8 and RFC 8785 canonical JSON cannot;
 * - directional formatting characters (U+202A–U+202E embeddings and overrides, U+2066–U+2069
 *   isolates): they reorder what is displayed, so `invoice\u202Efdp.exe` shows as
 *   `invoiceexe.pdf` (the "Trojan Source" trick, CVE-2021-42574);
 * - control characters (C0, DEL, C1): they have no place in a subject or a file name.
 * Letters and marks of every script stay allowed, and so do the implicit direction marks
 * U+200E and U+200F, which reorder nothing around them.
 */

/** a high surrogate not followed by a low one, or a low one not preceded by a high one (no `u` flag: code units) */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const DIRECTIONAL_FORMATTING = /[\u202A-\u202E\u2066-\u2069]/u;
const CONTROL = /\p{Cc}/u;

/** Why `s` cannot go into a proof, or undefined when it can. */
export function unsafeTextReason(s: string): string | undefined {
  if (LONE_SURROGATE.test(s)) return 'holds a lone surrogate (not Unicode text)';
  if (DIRECTIONAL_FORMATTING.test(s)) return 'holds a directional formatting character (U+202A–U+202E, U+2066–U+2069) that would change how it reads';
  if (CONTROL.test(s)) return 'holds a control character';
  return undefined;
}

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
