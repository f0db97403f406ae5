/**
 * Assembling DER in one allocation: a structure is described as a tree of constructed nodes
 * whose leaves are already-encoded octets (prepared once per key) or per-proof values; the
 * tree is measured, then written into a single buffer. Lengths are definite and minimal
 * (X.690 §10.1), exactly as `der.ts` writes them; ordering of SET OF components is the
 * caller's business (the templates sort once, when prepared).
 *
 * `der.ts` builds every level as its own Uint8Array and concatenates; for a 100 KB content
 * that copies the content once per nesting level. Here each octet is copied once.
 */

/** A constructed encoding (or a primitive one around `parts`): identifier octet and contents. */
export interface DerNodeSpec {
  tag: number;
  parts: DerPiece[];
  /** Filled by `measure`: the contents length. */
  contentLength?: number;
}

export type DerPiece = Uint8Array | DerNodeSpec;

export function node(tag: number, ...parts: DerPiece[]): DerNodeSpec {
  return { tag, parts };
}

/** Octets of the definite-form length for `length` (X.690 §10.1). */
export function lengthOctets(length: number): number {
  if (length < 0x80) return 1;
  if (length < 0x100) return 2;
  if (length < 0x10000) return 3;
  if (length < 0x1000000) return 4;
  return 5;
}

function measure(piece: DerPiece): number {
  if (piece instanceof Uint8Array) return piece.length;
  let content = 0;
  for (const p of piece.parts) content += measure(p);
  piece.contentLength = content;
  return 1 + lengthOctets(content) + content;
}

/** Writes identifier and length octets at `pos`; returns the position after them. */
export function writeHeader(out: Uint8Array, pos: number, tag: number, length: number): number {
  out[pos++] = tag;
  if (length < 0x80) {
    out[pos++] = length;
    return pos;
  }
  const n = lengthOctets(length) - 1;
  out[pos++] = 0x80 | n;
  for (let i = n - 1; i >= 0; i--) out[pos++] = Math.floor(length / 2 ** (8 * i)) & 0xff;
  return pos;
}

function write(piece: DerPiece, out: Uint8Array, pos: number): number {
  if (piece instanceof Uint8Array) {
    out.set(piece, pos);
    return pos + piece.length;
  }
  pos = writeHeader(out, pos, piece.tag, piece.contentLength!);
  for (const p of piece.parts) pos = write(p, out, pos);
  return pos;
}

/**
 * Encodes the tree into one new Uint8Array over an ArrayBuffer of its own (not a pooled
 * Buffer: it can be transferred to another thread, and `.slice()` on it copies). The memory
 * is not zero-filled first (`allocUnsafeSlow`: for a 100 KB proof, zero-filling fresh pages
 * cost more than writing the proof); every octet is written, which the end check asserts.
 */
export function encodeTree(root: DerPiece): Uint8Array {
  const total = measure(root);
  const buffer = Buffer.allocUnsafeSlow(total);
  const out = new Uint8Array(buffer.buffer, buffer.byteOffset, total);
  const end = write(root, out, 0);
  if (end !== total) throw new Error(`DER writer: wrote ${end} of ${total} octets`);
  return out;
}

/** One TLV with a primitive value, as bytes (small values only). */
export function primitive(tag: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + lengthOctets(value.length) + value.length);
  const pos = writeHeader(out, 0, tag, value.length);
  out.set(value, pos);
  return out;
}

/**
 * A positive INTEGER from big-endian magnitude octets (X.690 §8.3): leading zero octets
 * dropped, one zero octet put back when the first remaining octet has its top bit set.
 * Zero encodes as 02 01 00.
 */
export function positiveInteger(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const body = magnitude.subarray(i);
  const pad = body.length > 0 && (body[0]! & 0x80) !== 0 ? 1 : 0;
  const len = body.length + pad;
  const out = new Uint8Array(1 + lengthOctets(len) + len);
  const pos = writeHeader(out, 0, 0x02, len);
  if (pad) out[pos] = 0;
  out.set(body, pos + pad);
  return out;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** UTCTime contents (X.690 §11.8), YYMMDDHHMMSSZ, or undefined outside 1950–2049. */
export function utcTimeText(date: Date): string | undefined {
  const y = date.getUTCFullYear();
  if (y < 1950 || y > 2049) return undefined;
  return `${pad2(y % 100)}${pad2(date.getUTCMonth() + 1)}${pad2(date.getUTCDate())}${pad2(date.getUTCHours())}${pad2(date.getUTCMinutes())}${pad2(date.getUTCSeconds())}Z`;
}

/**
 * GeneralizedTime contents (X.690 §11.7): YYYYMMDDHHMMSS[.fff]Z, the fraction only when asked
 * for and non-zero, without trailing zeros. Same text as `der.ts` `generalizedTime`.
 */
export function generalizedTimeText(date: Date, milliseconds: boolean): string {
  const y = date.getUTCFullYear();
  let s = `${String(y).padStart(4, '0')}${pad2(date.getUTCMonth() + 1)}${pad2(date.getUTCDate())}${pad2(date.getUTCHours())}${pad2(date.getUTCMinutes())}${pad2(date.getUTCSeconds())}`;
  const ms = date.getUTCMilliseconds();
  if (milliseconds && ms !== 0) {
    let f = ms < 10 ? `00${ms}` : ms < 100 ? `0${ms}` : `${ms}`;
    while (f.endsWith('0')) f = f.slice(0, -1);
    s += `.${f}`;
  }
  return `${s}Z`;
}

export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
