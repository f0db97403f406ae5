/**
 * The independent PDF tools the receipts are checked with, from Debian: poppler-utils
 * (`pdfsig` — over NSS —, `pdfdetach`, `pdftotext`, `pdftoppm`), `qpdf`, and NSS's `certutil`
 * for a trust store holding the development root. A missing tool makes the test fail
 * (`run` rejects on ENOENT), never skip.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, type Run } from './openssl.js';

async function ok(cmd: string, args: string[]): Promise<Run> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout.toString('utf8')}`);
  return r;
}

/** A fresh NSS database trusting `rootPem` as a CA, for `pdfsig -nssdir`. */
export async function nssTrusting(rootPem: string): Promise<{ dir: string; close(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-nss-'));
  await ok('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
  await ok('certutil', ['-A', '-d', `sql:${dir}`, '-n', 'registered-mail-root', '-t', 'CT,C,C', '-i', rootPem]);
  return { dir: `sql:${dir}`, close: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface PdfsigReport {
  code: number;
  text: string;
  /** "Signature is Valid." etc. */
  signatureValidation?: string;
  certificateValidation?: string;
  totalDocumentSigned: boolean;
  signatureType?: string;
}

export async function pdfsig(file: string, nssdir: string): Promise<PdfsigReport> {
  const r = await run('pdfsig', ['-nssdir', nssdir, file]);
  const text = r.stdout.toString('utf8') + r.stderr;
  const field = (name: string) => new RegExp(`- ${name}: (.*)`).exec(text)?.[1]?.trim();
  return {
    code: r.code,
    text,
    signatureValidation: field('Signature Validation'),
    certificateValidation: field('Certificate Validation'),
    signatureType: field('Signature Type'),
    totalDocumentSigned: /- Total document signed/.test(text),
  };
}

export async function qpdfCheck(file: string): Promise<Run> {
  return run('qpdf', ['--check', file]);
}

/** The files attached to a PDF, extracted by pdfdetach into a new folder. */
export async function pdfdetach(file: string): Promise<Array<{ name: string; bytes: Buffer }>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-detach-'));
  try {
    await ok('pdfdetach', ['-saveall', '-o', dir, file]);
    return fs.readdirSync(dir).map((name) => ({ name, bytes: fs.readFileSync(path.join(dir, name)) }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function pdfText(file: string): Promise<string> {
  return (await ok('pdftotext', ['-enc', 'UTF-8', file, '-'])).stdout.toString('utf8');
}

export interface PdfWord {
  page: number;
  text: string;
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
  pageWidth: number;
  pageHeight: number;
}

/** Each word poppler finds, with its box in points from the page's top left (`pdftotext -bbox`). */
export async function pdfWords(file: string): Promise<PdfWord[]> {
  const html = (await ok('pdftotext', ['-bbox', '-enc', 'UTF-8', file, '-'])).stdout.toString('utf8');
  const words: PdfWord[] = [];
  let page = 0;
  let width = 0;
  let height = 0;
  const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  for (const line of html.split('\n')) {
    const p = /<page width="([\d.]+)" height="([\d.]+)">/.exec(line);
    if (p) {
      page++;
      width = Number(p[1]);
      height = Number(p[2]);
      continue;
    }
    const w = /<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)<\/word>/.exec(line);
    if (w) words.push({ page, text: unescape(w[5]!), xMin: Number(w[1]), yMin: Number(w[2]), xMax: Number(w[3]), yMax: Number(w[4]), pageWidth: width, pageHeight: height });
  }
  return words;
}

/** A page rendered by pdftoppm in grey levels: `at(x, y)` in points from the top left, 0 black … 255 white. */
export async function renderPage(file: string, page: number, dpi = 72): Promise<{ width: number; height: number; at(x: number, y: number): number; darkIn(box: { xMin: number; yMin: number; xMax: number; yMax: number }): number }> {
  const r = await ok('pdftoppm', ['-gray', '-r', String(dpi), '-f', String(page), '-l', String(page), file]);
  const pgm = r.stdout;
  // P5 <width> <height> <maxval> then the bytes
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(pgm.subarray(0, 40).toString('latin1'));
  if (!header) throw new Error('pdftoppm did not write a PGM');
  const width = Number(header[1]);
  const height = Number(header[2]);
  const pixels = pgm.subarray(header[0].length);
  const scale = dpi / 72;
  const at = (x: number, y: number) => pixels[Math.min(height - 1, Math.floor(y * scale)) * width + Math.min(width - 1, Math.floor(x * scale))]!;
  return {
    width,
    height,
    at,
    /** the share of dark pixels (< 128) in a box given in points */
    darkIn(box) {
      let dark = 0;
      let all = 0;
      for (let y = Math.floor(box.yMin * scale); y < Math.ceil(box.yMax * scale); y++) {
        for (let x = Math.floor(box.xMin * scale); x < Math.ceil(box.xMax * scale); x++) {
          all++;
          if (pixels[y * width + x]! < 128) dark++;
        }
      }
      return all === 0 ? 0 : dark / all;
    },
  };
}

/**
 * The signature of a signed PDF as a verifier reads it: the /ByteRange, the bytes it covers,
 * and the CMS in /Contents (hex, trailing zero padding removed by its DER length).
 */
export function pdfSignature(pdf: Buffer): { byteRange: number[]; signedBytes: Buffer; cms: Buffer } {
  const text = pdf.toString('latin1');
  const m = /\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/.exec(text);
  if (!m) throw new Error('no /ByteRange in the PDF');
  const byteRange = m.slice(1, 5).map(Number);
  const [a, b, c, d] = byteRange as [number, number, number, number];
  const signedBytes = Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]);
  const hex = text.slice(a + b + 1, c - 1);
  const raw = Buffer.from(hex, 'hex');
  // the DER length of the outer SEQUENCE says where the CMS ends
  let length: number;
  if (raw[1]! < 0x80) length = 2 + raw[1]!;
  else {
    const n = raw[1]! & 0x7f;
    length = 2 + n + raw.subarray(2, 2 + n).reduce((acc, byte) => acc * 256 + byte, 0);
  }
  return { byteRange, signedBytes, cms: raw.subarray(0, length) };
}
