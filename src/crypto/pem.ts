/**
 * Textual encoding of DER structures (RFC 7468): `-----BEGIN LABEL-----`, base64 in lines of
 * 64 characters, `-----END LABEL-----`.
 */
import { DerError } from './der.js';

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM block in `text`, in order. Text between blocks (explanatory text, RFC 7468 §5.2) is ignored. */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2]!.replace(/\s+/g, '');
    // RFC 7468 §3: strict base64 (RFC 4648 §4), padding only at the end.
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(body)) {
      throw new DerError(`PEM block "${m[1]}" is not valid base64`);
    }
    out.push({ label: m[1]!, der: new Uint8Array(Buffer.from(body, 'base64')) });
  }
  return out;
}

/** The DER of each PEM block in `pem`, or of each block with `label` when one is given. */
export function pemToDer(pem: string, label?: string): Uint8Array[] {
  return pemBlocks(pem)
    .filter((b) => label === undefined || b.label === label)
    .map((b) => b.der);
}

export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}${lines.length ? '\n' : ''}-----END ${label}-----\n`;
}
