/**
 * Distinguished Encoding Rules (ITU-T X.690 §8, §10, §11): a writer that can only produce DER
 * and a reader that accepts only DER.
 *
 * Why not asn1js for writing: asn1js encodes a SET OF in insertion order and splits long
 * OCTET STRINGs into constructed (BER) chunks when used through pkijs (see
 * docs/cades-profile.md, "Pitfalls a strict verifier catches"). Here `setOf` always sorts, strings are
 * always primitive and lengths always minimal, so every structure this layer builds is DER by
 * construction. The reader is the mirror: it rejects anything a re-encoder would change
 * (indefinite or non-minimal lengths, constructed strings, unsorted SET OF, non-minimal
 * INTEGERs, BOOLEANs other than 00/FF, non-canonical times), so a proof that passes it
 * re-encodes byte for byte.
 *
 * Only single-octet tags (tag numbers 0..30) are supported; no structure of CMS, X.509 or
 * RFC 3161 needs more.
 */

/** Thrown for any input that is not DER or not of the expected ASN.1 shape. */
export class DerError extends Error {
  override readonly name = 'DerError';
}

/** Identifier octets of the universal types used here (X.680 §8.4), constructed bit included. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OBJECT_IDENTIFIER: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Identifier octet of a context-specific tag `[n]`. */
export function contextTag(n: number, constructed: boolean): number {
  if (n < 0 || n > 30) throw new RangeError(`context tag [${n}] out of range`);
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** X.690 §10.1: the definite form, with the minimum number of octets. */
function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) octets.unshift(n % 256);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

/** One tag-length-value. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(tag), encodeLength(content.length), content]);
}

export function sequence(...items: Uint8Array[]): Uint8Array {
  return tlv(Tag.SEQUENCE, concat(items));
}

/**
 * X.690 §11.6: the components of a SET OF are ordered by their encodings, compared as octet
 * strings, the shorter padded at its end with zero octets.
 */
export function compareDer(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = i < a.length ? a[i]! : 0;
    const y = i < b.length ? b[i]! : 0;
    if (x !== y) return x - y;
  }
  return 0;
}

export function sortDer(items: readonly Uint8Array[]): Uint8Array[] {
  return [...items].sort(compareDer);
}

/** SET OF, DER-sorted (X.690 §11.6). */
export function setOf(items: readonly Uint8Array[]): Uint8Array {
  return tlv(Tag.SET, concat(sortDer(items)));
}

/** `[n] EXPLICIT inner`. */
export function explicit(n: number, inner: Uint8Array): Uint8Array {
  return tlv(contextTag(n, true), inner);
}

/**
 * A copy of `bytes` in a Uint8Array of its own. (`Buffer.prototype.slice` is a view, not a
 * copy: writing into a "slice" of a Buffer would change the bytes it came from.)
 */
function copyOf(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}

/** `[n] IMPLICIT` applied to an encoded value: the identifier octet is replaced, constructed bit kept. */
export function implicit(n: number, encoded: Uint8Array): Uint8Array {
  const out = copyOf(encoded);
  out[0] = contextTag(n, (encoded[0]! & 0x20) !== 0);
  return out;
}

/** Re-tags an encoded value with `tag` (e.g. the `[0] IMPLICIT` signed attributes back to SET, RFC 5652 §5.4). */
export function retag(tag: number, encoded: Uint8Array): Uint8Array {
  const out = copyOf(encoded);
  out[0] = tag;
  return out;
}

/** INTEGER (X.690 §8.3): two's complement, minimal number of octets. */
export function integer(value: bigint | number): Uint8Array {
  let v = BigInt(value);
  const octets: number[] = [];
  if (v >= 0n) {
    do {
      octets.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v > 0n);
    if (octets[0]! & 0x80) octets.unshift(0);
  } else {
    do {
      octets.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v < -1n);
    if (!(octets[0]! & 0x80)) octets.unshift(0xff);
  }
  return tlv(Tag.INTEGER, Uint8Array.from(octets));
}

/** Big-endian unsigned magnitude → bigint. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

export function octetString(bytes: Uint8Array): Uint8Array {
  return tlv(Tag.OCTET_STRING, bytes);
}

export function bitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  return tlv(Tag.BIT_STRING, concat([Uint8Array.of(unusedBits), bytes]));
}

/**
 * A BIT STRING with a named bit list (KeyUsage, PKIFailureInfo). X.690 §11.2.2: trailing zero
 * bits are removed, so the encoding ends at the highest set bit.
 */
export function namedBitString(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return bitString(new Uint8Array(0));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)]! |= 0x80 >> bit % 8;
  return bitString(bytes, 7 - (highest % 8));
}

/** BOOLEAN: X.690 §11.1, TRUE is 0xFF. */
export function boolean(value: boolean): Uint8Array {
  return tlv(Tag.BOOLEAN, Uint8Array.of(value ? 0xff : 0x00));
}

export function derNull(): Uint8Array {
  return Uint8Array.of(Tag.NULL, 0);
}

export function oid(dotted: string): Uint8Array {
  return tlv(Tag.OBJECT_IDENTIFIER, encodeOidContent(dotted));
}

function encodeOidContent(dotted: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(dotted)) throw new RangeError(`not an OBJECT IDENTIFIER: ${dotted}`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  if (arcs[0]! < 2n && arcs[1]! > 39n) throw new RangeError(`not an OBJECT IDENTIFIER: ${dotted}`);
  const subidentifiers = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const s of subidentifiers) {
    const group: number[] = [Number(s & 0x7fn)];
    for (let v = s >> 7n; v > 0n; v >>= 7n) group.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...group);
  }
  return Uint8Array.from(out);
}

export function isOid(dotted: string): boolean {
  try {
    encodeOidContent(dotted);
    return true;
  } catch {
    return false;
  }
}

export function utf8String(value: string): Uint8Array {
  return tlv(Tag.UTF8_STRING, new TextEncoder().encode(value));
}

/** PrintableString (X.680 §41.4): A–Z a–z 0–9 space ' ( ) + , - . / : = ? */
export function printableString(value: string): Uint8Array {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value)) throw new RangeError(`not a PrintableString: ${value}`);
  return tlv(Tag.PRINTABLE_STRING, new TextEncoder().encode(value));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** UTCTime, X.690 §11.8: YYMMDDHHMMSSZ (seconds always present, no fraction). */
export function utcTime(date: Date): Uint8Array {
  const y = date.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new RangeError(`UTCTime cannot carry year ${y}`);
  const s = `${pad(y % 100)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
  return tlv(Tag.UTC_TIME, new TextEncoder().encode(s));
}

/**
 * GeneralizedTime, X.690 §11.7 (and RFC 3161 §2.4.2 for genTime): YYYYMMDDHHMMSS[.fff]Z, the
 * fraction only when `milliseconds` is asked for and non-zero, without trailing zeros.
 */
export function generalizedTime(date: Date, milliseconds = false): Uint8Array {
  let s = `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
  const ms = date.getUTCMilliseconds();
  if (milliseconds && ms !== 0) s += `.${pad(ms, 3).replace(/0+$/, '')}`;
  return tlv(Tag.GENERALIZED_TIME, new TextEncoder().encode(`${s}Z`));
}

/** Time ::= CHOICE { utcTime, generalTime } — UTCTime through 2049 (RFC 5280 §4.1.2.5, RFC 5652 §11.3). */
export function time(date: Date): Uint8Array {
  const y = date.getUTCFullYear();
  return y >= 1950 && y <= 2049 ? utcTime(date) : generalizedTime(date);
}

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

export interface DerNode {
  /** The identifier octet. */
  readonly tag: number;
  readonly constructed: boolean;
  /** The whole encoding (identifier, length and contents octets). */
  readonly bytes: Uint8Array;
  /** The contents octets. */
  readonly content: Uint8Array;
  /** The components of a constructed encoding; empty for a primitive one. */
  readonly children: readonly DerNode[];
  /** Offset of `bytes` within the buffer given to `readDer`. */
  readonly offset: number;
}

export interface ReadDerOptions {
  /** Deepest nesting accepted; hostile input cannot exhaust the stack. Default 64. */
  maxDepth?: number;
  /**
   * SEQUENCE encodings already read as DER on their own (the certificates every proof
   * repeats, CertificateCache.ts): one met again, octet for octet, is not walked again — its
   * node has no `children` (read its `bytes`). Only values of 256 to 16384 octets are looked up.
   */
  known?: KnownDer;
}

export interface KnownDer {
  has(encoding: Uint8Array): boolean;
}

/** Universal types whose DER encoding is always primitive (X.690 §10.2, §8). */
const CONSTRUCTED_UNIVERSAL = new Set([16, 17]);

/**
 * Reads exactly one DER encoding filling `input`, throwing DerError at the first octet that a
 * DER encoder would not have produced.
 */
export function readDer(input: Uint8Array, options: ReadDerOptions = {}): DerNode {
  const maxDepth = options.maxDepth ?? 64;
  const { node, end } = readNode(input, 0, input.length, 0, maxDepth, options.known);
  if (end !== input.length) throw new DerError(`${input.length - end} trailing octets after the DER value`);
  return node;
}

function readNode(buf: Uint8Array, start: number, limit: number, depth: number, maxDepth: number, known?: KnownDer): { node: DerNode; end: number } {
  if (depth > maxDepth) throw new DerError(`nesting deeper than ${maxDepth}`);
  if (start >= limit) throw new DerError(`missing value at offset ${start}`);
  const tag = buf[start]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag number form at offset ${start}`);
  if (tag === 0) throw new DerError(`end-of-contents octets at offset ${start} (indefinite length is BER, not DER)`);
  const constructed = (tag & 0x20) !== 0;
  let pos = start + 1;
  if (pos >= limit) throw new DerError(`missing length at offset ${pos}`);
  const first = buf[pos++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else if (first === 0x80) {
    throw new DerError(`indefinite length at offset ${pos - 1} (BER, not DER)`);
  } else {
    const count = first & 0x7f;
    if (count > 4) throw new DerError(`length of ${count} octets at offset ${pos - 1}`);
    if (pos + count > limit) throw new DerError(`truncated length at offset ${pos}`);
    if (buf[pos] === 0) throw new DerError(`length with a leading zero octet at offset ${pos} (X.690 §10.1)`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos++]!;
    if (length < 0x80) throw new DerError(`long-form length ${length} at offset ${start + 1} (X.690 §10.1)`);
  }
  const contentStart = pos;
  const end = contentStart + length;
  if (end > limit) throw new DerError(`value at offset ${start} runs ${end - limit} octets past its container`);
  const bytes = buf.subarray(start, end);
  const content = buf.subarray(contentStart, end);
  const universal = (tag & 0xc0) === 0;
  const number = tag & 0x1f;
  if (universal && constructed !== CONSTRUCTED_UNIVERSAL.has(number)) {
    throw new DerError(`universal tag ${number} at offset ${start} must be ${constructed ? 'primitive' : 'constructed'} in DER (X.690 §10.2)`);
  }
  const children: DerNode[] = [];
  if (constructed && known && tag === Tag.SEQUENCE && length >= 256 && length <= 16384 && known.has(bytes)) {
    // read before, octet for octet: DER already
  } else if (constructed) {
    let p = contentStart;
    while (p < end) {
      const r = readNode(buf, p, end, depth + 1, maxDepth, known);
      children.push(r.node);
      p = r.end;
    }
    if (tag === Tag.SET) assertSorted(children, start);
  } else if (universal) {
    checkPrimitive(number, content, start);
  }
  return { node: { tag, constructed, bytes, content, children, offset: start }, end };
}

/** X.690 §11.6. */
export function assertSorted(components: readonly DerNode[], offset: number): void {
  for (let i = 1; i < components.length; i++) {
    if (compareDer(components[i - 1]!.bytes, components[i]!.bytes) > 0) {
      throw new DerError(`SET OF at offset ${offset} is not sorted (X.690 §11.6)`);
    }
  }
}

function failAt(why: string, offset: number): never {
  throw new DerError(`${why} at offset ${offset}`);
}

function checkPrimitive(number: number, content: Uint8Array, offset: number): void {
  switch (number) {
    case 1: // BOOLEAN, §11.1
      if (content.length !== 1 || (content[0] !== 0 && content[0] !== 0xff)) failAt('BOOLEAN not encoded as 00 or FF (X.690 §11.1)', offset);
      break;
    case 2: // INTEGER, §8.3.2
    case 10: // ENUMERATED
      if (content.length === 0) failAt('empty INTEGER', offset);
      if (content.length > 1 && ((content[0] === 0 && !(content[1]! & 0x80)) || (content[0] === 0xff && content[1]! & 0x80))) {
        failAt('INTEGER not in its shortest form (X.690 §8.3.2)', offset);
      }
      break;
    case 3: {
      // BIT STRING, §8.6.2, §11.2.1
      if (content.length === 0) failAt('BIT STRING without its initial octet', offset);
      const unused = content[0]!;
      if (unused > 7 || (content.length === 1 && unused !== 0)) failAt('BIT STRING with a bad unused-bits count', offset);
      if (unused > 0 && (content[content.length - 1]! & ((1 << unused) - 1)) !== 0) failAt('BIT STRING with non-zero unused bits (X.690 §11.2.1)', offset);
      break;
    }
    case 5: // NULL
      if (content.length !== 0) failAt('NULL with contents', offset);
      break;
    case 6: // OBJECT IDENTIFIER, §8.19.2
      if (content.length === 0 || content[content.length - 1]! & 0x80) failAt('truncated OBJECT IDENTIFIER', offset);
      for (let i = 0; i < content.length; i++) {
        if (content[i] === 0x80 && (i === 0 || !(content[i - 1]! & 0x80))) failAt('OBJECT IDENTIFIER subidentifier with a leading 0x80 (X.690 §8.19.2)', offset);
      }
      break;
    case 23: // UTCTime, §11.8
      if (!/^\d{12}Z$/.test(ascii(content))) failAt('UTCTime not of the form YYMMDDHHMMSSZ (X.690 §11.8)', offset);
      break;
    case 24: // GeneralizedTime, §11.7
      if (!/^\d{14}(\.\d*[1-9])?Z$/.test(ascii(content))) failAt('GeneralizedTime not of the form YYYYMMDDHHMMSS[.f]Z without trailing zeros (X.690 §11.7)', offset);
      break;
    default:
      break;
  }
}

function ascii(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Navigation and value decoding
// ---------------------------------------------------------------------------------------------

/** Walks the components of a SEQUENCE in order, with named errors for the reader of a report. */
export class DerSequence {
  private index = 0;
  constructor(
    private readonly node: DerNode,
    private readonly what: string,
    tag: number = Tag.SEQUENCE,
  ) {
    if (node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
  }

  /** The next component, which must carry `tag`. */
  next(tag: number, field: string): DerNode {
    const n = this.node.children[this.index];
    if (!n) throw new DerError(`${this.what}: missing ${field}`);
    if (n.tag !== tag) throw new DerError(`${this.what}: ${field} has tag 0x${n.tag.toString(16)}, expected 0x${tag.toString(16)}`);
    this.index++;
    return n;
  }

  /** The next component if it carries `tag`. */
  optional(tag: number): DerNode | undefined {
    const n = this.node.children[this.index];
    if (n && n.tag === tag) {
      this.index++;
      return n;
    }
    return undefined;
  }

  /** The next component whatever its tag (an ANY or a CHOICE). */
  any(field: string): DerNode {
    const n = this.node.children[this.index];
    if (!n) throw new DerError(`${this.what}: missing ${field}`);
    this.index++;
    return n;
  }

  /** No components may remain. */
  end(): void {
    if (this.index !== this.node.children.length) throw new DerError(`${this.what}: unexpected component ${this.index + 1}`);
  }
}

function expectTag(node: DerNode, tag: number, what: string): void {
  if (node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
}

export function readInteger(node: DerNode, what = 'INTEGER'): bigint {
  expectTag(node, Tag.INTEGER, what);
  let v = bytesToBigInt(node.content);
  if (node.content[0]! & 0x80) v -= 1n << BigInt(node.content.length * 8);
  return v;
}

export function readSmallInteger(node: DerNode, what = 'INTEGER'): number {
  const v = readInteger(node, what);
  if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DerError(`${what}: out of range`);
  return Number(v);
}

export function readOid(node: DerNode, what = 'OBJECT IDENTIFIER'): string {
  expectTag(node, Tag.OBJECT_IDENTIFIER, what);
  const content = node.content;
  // Arcs below 2^46 are summed as numbers (exact); a longer one (e.g. a 2.25 UUID arc) as a bigint.
  const subidentifiers: Array<number | bigint> = [];
  let v = 0;
  let big: bigint | undefined;
  for (let i = 0; i < content.length; i++) {
    const b = content[i]!;
    if (big !== undefined) big = (big << 7n) | BigInt(b & 0x7f);
    else if (v >= 2 ** 45) big = (BigInt(v) << 7n) | BigInt(b & 0x7f);
    else v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      subidentifiers.push(big ?? v);
      v = 0;
      big = undefined;
    }
  }
  const first = subidentifiers[0]!;
  const head = typeof first === 'number' && first < 80 ? `${Math.floor(first / 40)}.${first % 40}` : `2.${BigInt(first) - 80n}`;
  return subidentifiers.length > 1 ? `${head}.${subidentifiers.slice(1).join('.')}` : head;
}

export function readOctetString(node: DerNode, what = 'OCTET STRING'): Uint8Array {
  expectTag(node, Tag.OCTET_STRING, what);
  return node.content;
}

export function readBoolean(node: DerNode, what = 'BOOLEAN'): boolean {
  expectTag(node, Tag.BOOLEAN, what);
  return node.content[0] === 0xff;
}

/** BIT STRING contents without the unused-bits octet. */
export function readBitString(node: DerNode, what = 'BIT STRING'): { bytes: Uint8Array; unusedBits: number } {
  expectTag(node, Tag.BIT_STRING, what);
  return { bytes: node.content.subarray(1), unusedBits: node.content[0]! };
}

/** Whether bit `n` (0 = most significant bit of the first octet) of a named-bit BIT STRING is set. */
export function bitIsSet(bits: Uint8Array, n: number): boolean {
  const byte = bits[Math.floor(n / 8)];
  return byte !== undefined && (byte & (0x80 >> n % 8)) !== 0;
}

/** UTCTime or GeneralizedTime (already shape-checked by readDer) → Date. */
export function readTime(node: DerNode, what = 'Time'): Date {
  const s = ascii(node.content);
  let m: RegExpExecArray | null;
  if (node.tag === Tag.UTC_TIME && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s))) {
    const yy = Number(m[1]);
    // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, otherwise 20YY.
    return utcDate(yy >= 50 ? 1900 + yy : 2000 + yy, m, 0);
  }
  if (node.tag === Tag.GENERALIZED_TIME && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d+))?Z$/.exec(s))) {
    const ms = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
    return utcDate(Number(m[1]), m, Math.floor(ms + 1e-9));
  }
  throw new DerError(`${what}: not a UTCTime or GeneralizedTime`);
}

function utcDate(year: number, m: RegExpExecArray, ms: number): Date {
  const [month, day, hour, minute, second] = [2, 3, 4, 5, 6].map((i) => Number(m[i])) as [number, number, number, number, number];
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  d.setUTCFullYear(year, month - 1, day);
  const valid = d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day && d.getUTCHours() === hour && d.getUTCMinutes() === minute && d.getUTCSeconds() === second;
  if (!valid) throw new DerError(`not a calendar time: ${m.input}`);
  return d;
}

/** A string type's value as text (UTF8String, PrintableString, IA5String, ...). */
export function readString(node: DerNode): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(node.content);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
