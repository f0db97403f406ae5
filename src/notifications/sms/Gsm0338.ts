/**
 * SMS text encoding and segmenting per 3GPP TS 23.038 (formerly GSM 03.38).
 *
 * A text made only of characters of the GSM 7-bit default alphabet (basic set + extension
 * table) is sent as GSM-7: 160 septets in a single SMS, 153 per part when concatenated
 * (the 6-octet concatenation UDH, 3GPP TS 23.040 §9.2.3.24.1, takes 7 septets). An
 * extension character (`^ { } \ [ ~ ] | €` and form feed) is sent as ESC + code and takes
 * two septets; the pair is never split across two parts.
 *
 * Any other character (`ë`, `ê`, `ï`, `ç`, `ó`, emoji, …) makes the whole text UCS-2:
 * 70 UTF-16 code units in a single SMS, 67 per part (134 octets beside the UDH). Where a
 * character outside the Basic Multilingual Plane (an emoji: a surrogate pair, two code
 * units) falls on a part boundary, gateways differ, so the split is a parameter:
 *   - `whole-characters` (the default): the pair starts the next part, as phones and the
 *     usual segment calculators do; the part before it carries 66 units;
 *   - `code-units`: every part but the last carries exactly 67 code units, the pair cut
 *     between two parts (the receiving phone joins the parts before decoding). Kannel
 *     does this: checked with Kannel 1.4.5 and its fake SMSC, "a" × 66 + "😀" + "b" × 133
 *     (201 units) leaves as three parts of 67, the first ending in the high surrogate
 *     D83D and the second starting with the low one DE00 (test/integration/kannel.spec.ts).
 * The count is what the gateway bills and what its part limit applies to, so the SMS
 * channel asks its gateway which split it uses.
 *
 * Kannel splits GSM-7 exactly like this module (an escape pair is never cut).
 *
 * Transliteration (off unless asked for) — the documented rule:
 *   1. Only applied when the text is not GSM-7 already, and only kept when the result is
 *      entirely GSM-7; otherwise the original text is sent unchanged as UCS-2.
 *   2. Each character outside the GSM-7 alphabet is replaced by the entry of TYPOGRAPHIC
 *      (curly quotes → straight quotes, dashes → '-', '…' → '...', no-break spaces →
 *      space, 'œ' → 'oe', 'Œ' → 'OE'), or else by its Unicode canonical decomposition (NFD)
 *      with the combining marks (U+0300–U+036F) removed: 'ë' → 'e', 'ê' → 'e', 'ï' → 'i',
 *      'ç' → 'c', 'ó' → 'o', 'È' → 'E'.
 *   3. Characters of the GSM-7 alphabet are kept as they are ('é', 'è', 'à', 'ü', 'Ç', …).
 */

export type SmsEncoding = 'GSM-7' | 'UCS-2';

/** How a UCS-2 text is cut into parts where a surrogate pair meets a part boundary. */
export type Ucs2Split = 'whole-characters' | 'code-units';

/** GSM 7-bit default alphabet, basic character set, in code order (0x1B, the escape, excluded). */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅå' +
  '\u0394_\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039E' + // Δ _ Φ Γ Λ Ω Π Ψ Σ Θ Ξ
  'ÆæßÉ' +
  ' !"#¤%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNO' +
  'PQRSTUVWXYZÄÖÑÜ§' +
  '¿abcdefghijklmno' +
  'pqrstuvwxyzäöñüà';

/** GSM 7-bit default alphabet extension table: each is ESC + one septet. */
const EXTENSION = '\f^{}\\[~]|€';

const BASIC_SET = new Set(BASIC);
const EXTENSION_SET = new Set(EXTENSION);

export const GSM7_SINGLE = 160;
export const GSM7_PER_PART = 153;
export const UCS2_SINGLE = 70;
export const UCS2_PER_PART = 67;

/** Septets a character takes in GSM-7, or undefined when it is not in the alphabet. */
export function gsm7Septets(ch: string): 1 | 2 | undefined {
  if (BASIC_SET.has(ch)) return 1;
  if (EXTENSION_SET.has(ch)) return 2;
  return undefined;
}

export function isGsm7(text: string): boolean {
  for (const ch of text) if (gsm7Septets(ch) === undefined) return false;
  return true;
}

export interface SmsAnalysis {
  encoding: SmsEncoding;
  /** characters (Unicode code points) */
  characters: number;
  /** septets (GSM-7) or UTF-16 code units (UCS-2) */
  units: number;
  /** SMS parts needed; 0 for an empty text */
  parts: number;
  /** capacity of one part for this text: 160 or 153 (GSM-7), 70 or 67 (UCS-2) */
  perPart: number;
  /** distinct characters that forced UCS-2, in order of appearance */
  nonGsmCharacters: string[];
}

/**
 * The parts the text is sent as: an escape pair is never split; a surrogate pair is not
 * with `whole-characters`, and is with `code-units` (then a part may end in a high
 * surrogate and the next begin with the low one).
 */
export function splitSms(text: string, ucs2Split: Ucs2Split = 'whole-characters'): string[] {
  if (text.length === 0) return [];
  const gsm = isGsm7(text);
  if (!gsm && ucs2Split === 'code-units') {
    if (text.length <= UCS2_SINGLE) return [text];
    const parts: string[] = [];
    for (let i = 0; i < text.length; i += UCS2_PER_PART) parts.push(text.slice(i, i + UCS2_PER_PART));
    return parts;
  }
  const cost = (ch: string) => (gsm ? gsm7Septets(ch)! : ch.length);
  const single = gsm ? GSM7_SINGLE : UCS2_SINGLE;
  const perPart = gsm ? GSM7_PER_PART : UCS2_PER_PART;
  let total = 0;
  for (const ch of text) total += cost(ch);
  if (total <= single) return [text];
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const ch of text) {
    const c = cost(ch);
    if (used + c > perPart) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += ch;
    used += c;
  }
  parts.push(current);
  return parts;
}

export function analyseSms(text: string, ucs2Split: Ucs2Split = 'whole-characters'): SmsAnalysis {
  const nonGsm: string[] = [];
  let septets = 0;
  let characters = 0;
  for (const ch of text) {
    characters++;
    const s = gsm7Septets(ch);
    if (s === undefined) {
      if (!nonGsm.includes(ch)) nonGsm.push(ch);
    } else {
      septets += s;
    }
  }
  const encoding: SmsEncoding = nonGsm.length === 0 ? 'GSM-7' : 'UCS-2';
  const units = encoding === 'GSM-7' ? septets : text.length;
  const parts = splitSms(text, ucs2Split).length;
  const perPart = encoding === 'GSM-7' ? (parts > 1 ? GSM7_PER_PART : GSM7_SINGLE) : parts > 1 ? UCS2_PER_PART : UCS2_SINGLE;
  return { encoding, characters, units, parts, perPart, nonGsmCharacters: nonGsm };
}

const TYPOGRAPHIC: Record<string, string> = {
  '\u2018': "'", // ‘
  '\u2019': "'", // ’
  '\u201A': "'", // ‚
  '\u201B': "'",
  '\u2032': "'", // ′
  '\u201C': '"', // “
  '\u201D': '"', // ”
  '\u201E': '"', // „
  '\u00AB': '"', // «
  '\u00BB': '"', // »
  '\u2013': '-', // –
  '\u2014': '-', // —
  '\u2010': '-',
  '\u2011': '-',
  '\u2212': '-', // minus sign
  '\u2026': '...', // …
  '\u00A0': ' ', // no-break space
  '\u202F': ' ', // narrow no-break space
  '\u2009': ' ', // thin space
  '\u0153': 'oe', // œ
  '\u0152': 'OE', // Œ
};

function transliterateChar(ch: string): string | undefined {
  if (gsm7Septets(ch) !== undefined) return ch;
  const mapped = TYPOGRAPHIC[ch];
  if (mapped !== undefined) return mapped;
  const stripped = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  return stripped.length > 0 && stripped !== ch && isGsm7(stripped) ? stripped : undefined;
}

/**
 * The text under the documented transliteration rule, or undefined when the rule cannot
 * make it GSM-7 (then it is sent unchanged, as UCS-2). A GSM-7 text is returned as is.
 */
export function transliterateToGsm7(text: string): string | undefined {
  if (isGsm7(text)) return text;
  let out = '';
  for (const ch of text) {
    const t = transliterateChar(ch);
    if (t === undefined) return undefined;
    out += t;
  }
  return out;
}
