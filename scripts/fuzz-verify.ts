/**
 * The verifier fuzz: mutated proofs through the real `verify --dir --json` CLI.
 *
 *   npm run test:fuzz-verify [-- --seed 1 --count 10000 --genuine 6 --jobs N --keep]
 *
 * Genuine proofs are sealed by the service's own code (Sealer over evidence statements, the
 * built-in TSA) with two development PKIs, ECDSA P-256 and RSA-2048, in a temporary folder
 * (`--genuine` per PKI; a third, untrusted PKI gives certificates and a token to swap in).
 * A seeded generator (mulberry32: the same seed makes the same choices of kind, proof, offset
 * and value; the genuine proofs themselves are sealed afresh with new keys on each run, so the
 * octets they land on can differ) then makes `count` mutated copies — bit flips, byte insertions and deletions, truncations, length and tag
 * octets changed, certificates of the proof or of its token swapped, duplicated, removed or
 * put out of order, the time-stamp token swapped for another proof's — and writes them, with
 * the genuine proofs as controls, to one folder. `verify --dir --json` runs over it as a child
 * process (the sources through tsx, or dist/ when this script is compiled), and every report
 * line is classified:
 *
 * - a crash is the CLI exiting 4 (or with any code but 0–2, or killed after a generous time),
 *   a stack trace on stderr, a proof without its report line, or a report whose detail says
 *   validation stopped on an exception;
 * - a TOTAL_PASSED on a mutated proof must be explained (explainPass): the mutation is
 *   confined to the unsigned certificate bags — the proof's SignedData.certificates or its
 *   token's (with the original bags put back, the mutated proof is the original octet for
 *   octet; for byte mutations, every mutated offset is located in the original's DER tree
 *   inside a bag) — and every certificate it removed or altered is one no certification path
 *   uses (the original proof verifies TOTAL_PASSED without it). That is the only place
 *   docs/cades-profile.md lists as read but not checked that these proofs let a mutation
 *   reach. Any other pass is unexplained;
 * - conversely, a mutation that explainPass explains must not change the verdict (other than
 *   into a FORMAT_FAILURE for a bag that is no longer DER): an ignored field that changes
 *   a verdict is counted too.
 *
 * Prints mutations by kind, outcomes by indication / sub-indication (overall and per kind),
 * crashes, every pass of a mutated proof with its explanation, and the time taken; exits 1 on
 * a crash, an unexplained pass, a verdict changed by an ignored field, or a genuine proof that
 * did not pass. test/unit/cli-verify-fuzz.spec.ts runs a seeded slice of 500 through the same
 * code in `npm test`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_EVIDENCE_POLICY_OID, DEFAULT_TSA_POLICY_OID } from '../src/config.js';
import { parseCertificate, subjectString } from '../src/crypto/Certificate.js';
import { concat, implicit, readDer, setOf, tlv, type DerNode } from '../src/crypto/der.js';
import { createDevPki, derToPem, extractTimeStamp, LocalTimeStamper, TimeStampAuthority, verifyCadesT, type DevPki, type KeyAlgorithm } from '../src/crypto/index.js';
import { OID } from '../src/crypto/oids.js';
import { parseSignedData } from '../src/crypto/SignedData.js';
import { buildStatement } from '../src/domain/EvidenceStatement.js';
import { seededRandom, type Random } from '../dev/ebox-simulator/Prng.js';
import { Sealer } from '../src/registered-mail/sealing.js';
import { withSignatureTimeStamp } from './proof-surgery.js';

const HERE = fileURLToPath(import.meta.url);
const COMPILED = HERE.endsWith('.js');
/** The repository: scripts/ under it, or dist/scripts/ once compiled. */
const ROOT = path.resolve(path.dirname(HERE), '..', COMPILED ? '..' : '.');
const VERIFY_CLI = COMPILED ? path.resolve(path.dirname(HERE), '..', 'src', 'cli', 'verify.js') : path.join(ROOT, 'src', 'cli', 'verify.ts');
const STACK = /^\s+at .+[(:]\d+/m;

export const MUTATION_KINDS = [
  'bit-flip',
  'insert',
  'delete',
  'truncate',
  'length',
  'tag',
  'cert-swap',
  'cert-duplicate',
  'cert-remove',
  'cert-reorder',
  'token-cert',
  'token-swap',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

/** Relative weights of the kinds (bit flips reach every field; the structural kinds aim at the bags and the token). */
const WEIGHTS: Record<MutationKind, number> = {
  'bit-flip': 35,
  insert: 7,
  delete: 7,
  truncate: 5,
  length: 12,
  tag: 6,
  'cert-swap': 8,
  'cert-duplicate': 4,
  'cert-remove': 4,
  'cert-reorder': 3,
  'token-cert': 4,
  'token-swap': 5,
};

export interface Genuine {
  name: string;
  algorithm: KeyAlgorithm;
  der: Uint8Array;
}

export interface Mutation {
  file: string;
  kind: MutationKind;
  /** Index of the genuine proof it was made from. */
  base: number;
  detail: string;
  /** Octet ranges [start, end) of the original that the mutation touched (byte-level kinds; empty for structural ones). */
  ranges: Array<[number, number]>;
  der: Uint8Array;
}

/** A mutated proof worth naming in the result: a pass (explained or not) or a verdict changed by an ignored field. */
export interface Finding {
  file: string;
  kind: MutationKind;
  detail: string;
  explanation?: string;
}

export interface FuzzResult {
  seed: number;
  count: number;
  genuine: number;
  byKind: Record<string, number>;
  /** indication[/sub-indication] → proofs (mutated only). */
  outcomes: Record<string, number>;
  /** kind → indication[/sub-indication] → proofs. */
  outcomesByKind: Record<string, Record<string, number>>;
  crashes: string[];
  genuineFailures: string[];
  passes: Finding[];
  unexplained: Finding[];
  /** Mutated proofs not passing although the mutation is one explainPass would explain: an ignored field changed the verdict. */
  ignoredChangedVerdict: Finding[];
  exitCode: number;
  seconds: { seal: number; mutate: number; verify: number; classify: number; total: number };
  dir?: string;
}

export interface FuzzOptions {
  seed: number;
  count: number;
  /** Genuine proofs per key algorithm (default 6). */
  genuine?: number;
  /** Passed to the CLI as --jobs (default: the CLI's own). */
  jobs?: number;
  /** Keep the folder (its path is in the result). */
  keep?: boolean;
  log?: (line: string) => void;
}

// ---------------------------------------------------------------------------------------------
// DER tree helpers
// ---------------------------------------------------------------------------------------------

/** The SignedData node of a ContentInfo tree. */
function signedDataNode(contentInfo: DerNode): DerNode {
  return contentInfo.children[1]!.children[0]!;
}

/** Re-encodes `node` with `children` (encodings) in place of its own. */
function withChildren(node: DerNode, children: readonly Uint8Array[]): Uint8Array {
  return tlv(node.tag, concat(children));
}

/** The proof with its SignedData's components replaced by `components` (encodings). */
function withSignedDataComponents(contentInfo: DerNode, components: readonly Uint8Array[]): Uint8Array {
  const sd = signedDataNode(contentInfo);
  const wrapper = contentInfo.children[1]!;
  return withChildren(contentInfo, [contentInfo.children[0]!.bytes, withChildren(wrapper, [withChildren(sd, components)])]);
}

/** A ContentInfo (a proof or a token) with its SignedData's `certificates` replaced (undefined: the field removed). */
export function withCertificates(contentInfo: Uint8Array, certificatesField: Uint8Array | undefined): Uint8Array {
  const ci = readDer(contentInfo);
  const sd = signedDataNode(ci);
  const parts: Uint8Array[] = [];
  let placed = false;
  for (const c of sd.children) {
    if (c.tag === 0xa0) {
      if (certificatesField) parts.push(certificatesField);
      placed = true;
      continue;
    }
    // certificates comes right after encapContentInfo (the third component)
    if (!placed && certificatesField && parts.length === 3) {
      parts.push(certificatesField);
      placed = true;
    }
    parts.push(c.bytes);
  }
  return withSignedDataComponents(ci, parts);
}

/** The proof with its token's `certificates` replaced. */
function withTokenCertificates(proof: Uint8Array, certificatesField: Uint8Array | undefined): Uint8Array {
  return withSignatureTimeStamp(proof, withCertificates(extractTimeStamp(proof).token, certificatesField));
}

/** `[0] IMPLICIT CertificateSet` of `certs`, DER-sorted; undefined for none (the field is then left out). */
const certificateSet = (certs: readonly Uint8Array[]) => (certs.length ? implicit(0, setOf(certs)) : undefined);

/** The `certificates` field of a ContentInfo's SignedData, if any. */
function certificatesField(contentInfo: DerNode): DerNode | undefined {
  return signedDataNode(contentInfo).children.find((c) => c.tag === 0xa0);
}

/**
 * The two unsigned certificate bags of a proof, as nodes of the proof's own DER tree (offsets
 * in the proof): the proof's SignedData.certificates and its token's.
 */
function bags(proof: Uint8Array): { outer?: DerNode; token?: DerNode } {
  const root = readDer(proof);
  const sd = parseSignedData(root);
  const tokenNode = sd.signerInfos[0]?.unsignedAttrs?.attributes.find((a) => a.type === OID.signatureTimeStampToken)?.values[0];
  const outer = certificatesField(root);
  const token = tokenNode ? certificatesField(tokenNode) : undefined;
  return { ...(outer ? { outer } : {}), ...(token ? { token } : {}) };
}

/** A readable path to `offset` in a proof's DER tree, e.g. `SignedData.certificates[1]/0/4/1`. */
export function locate(proof: Uint8Array, offset: number): string {
  const out: string[] = [];
  const walk = (node: DerNode, kind: string): void => {
    const i = node.children.findIndex((c) => offset >= c.offset && offset < c.offset + c.bytes.length);
    if (i < 0) return;
    const child = node.children[i]!;
    if (kind === 'ContentInfo') {
      if (i === 1) {
        out.push('SignedData');
        const sd = child.children[0];
        if (sd && offset >= sd.offset) walk(sd, 'SignedData');
      } else out.push('ContentInfo.contentType');
      return;
    }
    if (kind === 'SignedData') {
      const names = ['version', 'digestAlgorithms', 'encapContentInfo'];
      let name = names[i];
      if (!name) name = child.tag === 0xa0 ? 'certificates' : child.tag === 0xa1 ? 'crls' : 'signerInfos';
      out.push(`.${name}`);
      if (name === 'certificates') {
        const j = child.children.findIndex((c) => offset >= c.offset && offset < c.offset + c.bytes.length);
        if (j >= 0) {
          out.push(`[${j}]`);
          walkGeneric(child.children[j]!);
        }
      } else if (name === 'signerInfos') {
        const si = child.children[0];
        if (si && offset >= si.offset && offset < si.offset + si.bytes.length) {
          out.push('[0]');
          walk(si, 'SignerInfo');
        }
      } else walkGeneric(child);
      return;
    }
    if (kind === 'SignerInfo') {
      const named = ['version', 'sid', 'digestAlgorithm'][i] ?? (child.tag === 0xa0 ? 'signedAttrs' : child.tag === 0xa1 ? 'unsignedAttrs' : child.tag === 0x04 ? 'signature' : 'signatureAlgorithm');
      out.push(`.${named}`);
      if (named === 'unsignedAttrs') {
        // the signature-time-stamp token: a ContentInfo of its own
        const attr = child.children.find((c) => offset >= c.offset && offset < c.offset + c.bytes.length);
        const value = attr?.children[1]?.children.find((c) => offset >= c.offset && offset < c.offset + c.bytes.length);
        if (value) {
          out.push('[token] ');
          walk(value, 'ContentInfo');
        } else if (attr) walkGeneric(attr);
      } else walkGeneric(child);
      return;
    }
  };
  const walkGeneric = (node: DerNode): void => {
    let n = node;
    for (;;) {
      const i = n.children.findIndex((c) => offset >= c.offset && offset < c.offset + c.bytes.length);
      if (i < 0) return;
      out.push(`/${i}`);
      n = n.children[i]!;
    }
  };
  let root: DerNode;
  try {
    root = readDer(proof);
  } catch {
    return `octet ${offset}`;
  }
  walk(root, 'ContentInfo');
  return out.join('') || `octet ${offset}`;
}

/** Whether octets [start, end) of `proof` lie inside the contents of one of its certificate bags. */
function inCertificateBag(proof: Uint8Array, start: number, end: number): boolean {
  const { outer, token } = bags(proof);
  return [outer, token].some((field) => {
    if (!field) return false;
    const contentStart = field.offset + field.bytes.length - field.content.length;
    return start >= contentStart && end <= field.offset + field.bytes.length && end > start;
  });
}

// ---------------------------------------------------------------------------------------------
// Genuine proofs
// ---------------------------------------------------------------------------------------------

async function sealGenuine(algorithm: KeyAlgorithm, pki: DevPki, count: number, label: string): Promise<Genuine[]> {
  const sealer = new Sealer(pki.seal, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: DEFAULT_TSA_POLICY_OID, accuracyMs: 1 })));
  const out: Genuine[] = [];
  for (let i = 0; i < count; i++) {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const statement = buildStatement({
      evidenceId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      type: i % 2 === 0 ? 'SubmissionAcceptance' : 'ContentConsignment',
      eventTime: now,
      policyOid: DEFAULT_EVIDENCE_POLICY_OID,
      issuerName: 'Registered Mail Trust Service (fuzz)',
      sender: { id: 'fuzz-sender', name: 'Fuzz Institution', reference: `REF-${label}-${i}` },
      recipient: { type: 'citizen', id: '85073003328' },
      submissionTime: now,
      messageId: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      subject: { nl: 'Uw beslissing', fr: 'Votre décision' },
      documents: [{ partName: 'main', fileName: 'letter.pdf', mediaType: 'application/pdf', size: 1000 + i, isMain: true, sha256: 'ab'.repeat(32) }],
      previousEvidenceSha256: null,
    });
    out.push({ name: `genuine-${label}-${i}`, algorithm, der: (await sealer.seal(statement, now)).der });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

interface Pools {
  /** Certificates of other PKIs (trusted and not) to swap in. */
  foreignCertificates: Uint8Array[];
  /** Tokens of other proofs (of both PKIs and of an untrusted one). */
  tokens: Uint8Array[];
}

function pick<T>(rnd: Random, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)]!;
}

function int(rnd: Random, min: number, max: number): number {
  return min + Math.floor(rnd() * (max - min + 1));
}

function allNodes(root: DerNode): DerNode[] {
  const out: DerNode[] = [];
  const stack = [root];
  while (stack.length) {
    const n = stack.pop()!;
    out.push(n);
    stack.push(...n.children);
  }
  return out;
}

function splice(der: Uint8Array, start: number, deleteCount: number, insert: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concat([der.subarray(0, start), insert, der.subarray(start + deleteCount)]);
}

function encodeLength(n: number): number[] {
  if (n < 0x80) return [n];
  const octets: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) octets.unshift(v % 256);
  return [0x80 | octets.length, ...octets];
}

type Made = { der: Uint8Array; detail: string; ranges: Array<[number, number]> };

function mutate(kind: MutationKind, g: Genuine, pools: Pools, rnd: Random): Made | undefined {
  const der = g.der;
  const root = readDer(der);
  switch (kind) {
    case 'bit-flip': {
      const flips = rnd() < 0.7 ? 1 : int(rnd, 2, 4);
      const out = new Uint8Array(der);
      const seen = new Set<number>();
      const ranges: Array<[number, number]> = [];
      while (seen.size < flips) {
        const at = int(rnd, 0, der.length * 8 - 1);
        if (seen.has(at)) continue;
        seen.add(at);
        out[at >> 3]! ^= 0x80 >> (at & 7);
        ranges.push([at >> 3, (at >> 3) + 1]);
      }
      return { der: out, detail: [...seen].map((b) => `octet ${b >> 3} bit ${7 - (b & 7)} at ${locate(der, b >> 3)}`).join('; '), ranges };
    }
    case 'insert': {
      const at = int(rnd, 0, der.length);
      const bytes = Uint8Array.from({ length: int(rnd, 1, 4) }, () => int(rnd, 0, 255));
      return { der: splice(der, at, 0, bytes), detail: `${bytes.length} octets inserted at ${at} (${at < der.length ? locate(der, at) : 'the end'})`, ranges: [[at, at]] };
    }
    case 'delete': {
      const n = int(rnd, 1, 4);
      const at = int(rnd, 0, der.length - n);
      return { der: splice(der, at, n), detail: `${n} octets deleted at ${at} (${locate(der, at)})`, ranges: [[at, at + n]] };
    }
    case 'truncate': {
      const at = int(rnd, 0, der.length - 1);
      return { der: der.slice(0, at), detail: `truncated to ${at} of ${der.length} octets`, ranges: [[at, der.length]] };
    }
    case 'length': {
      const node = pick(rnd, allNodes(root));
      const lengthStart = node.offset + 1;
      const lengthEnd = node.offset + node.bytes.length - node.content.length;
      const len = node.content.length;
      const minimal = encodeLength(len);
      const choices: Array<[string, number[]]> = [
        ['+1', encodeLength(len + 1)],
        ['-1', encodeLength(Math.max(0, len - 1))],
        ['+n', encodeLength(len + int(rnd, 2, 200))],
        ['-n', encodeLength(Math.max(0, len - int(rnd, 2, 200)))],
        ['non-minimal', len < 0x80 ? [0x81, len] : [0x80 | minimal.length, 0, ...minimal.slice(1)]],
        ['indefinite', [0x80]],
        ['huge', [0x84, 0xff, 0xff, 0xff, 0xff]],
        ['random first octet', [int(rnd, 0, 255), ...der.subarray(lengthStart + 1, lengthEnd)]],
      ];
      const [name, enc] = pick(rnd, choices);
      return {
        der: splice(der, lengthStart, lengthEnd - lengthStart, Uint8Array.from(enc)),
        detail: `length of the tag-0x${node.tag.toString(16)} value at ${node.offset} (${locate(der, node.offset)}) ${name}: ${len} → octets ${Buffer.from(enc).toString('hex')}`,
        ranges: [[lengthStart, lengthEnd]],
      };
    }
    case 'tag': {
      const node = pick(rnd, allNodes(root));
      const how = pick(rnd, ['constructed bit', 'class', 'random'] as const);
      const tag = how === 'constructed bit' ? node.tag ^ 0x20 : how === 'class' ? node.tag ^ (rnd() < 0.5 ? 0x80 : 0x40) : int(rnd, 0, 255);
      if (tag === node.tag) return undefined;
      const out = new Uint8Array(der);
      out[node.offset] = tag;
      return { der: out, detail: `tag at ${node.offset} (${locate(der, node.offset)}) 0x${node.tag.toString(16)} → 0x${tag.toString(16)} (${how})`, ranges: [[node.offset, node.offset + 1]] };
    }
    case 'cert-swap':
    case 'cert-duplicate':
    case 'cert-remove':
    case 'cert-reorder':
    case 'token-cert': {
      // the proof's certificate bag, or (token-cert) the token's, edited and re-encoded as DER (except cert-reorder)
      const inToken = kind === 'token-cert';
      const field = inToken ? bags(der).token : bags(der).outer;
      if (!field) return undefined;
      const certs = field.children.map((c) => c.bytes);
      const op = inToken ? pick(rnd, ['cert-swap', 'cert-duplicate', 'cert-remove'] as const) : kind;
      const where = inToken ? "the token's certificates" : 'certificates';
      const i = int(rnd, 0, certs.length - 1);
      const name = describeCertificate(certs[i]!);
      let next: Uint8Array[];
      let detail: string;
      if (op === 'cert-swap') {
        const other = pick(rnd, pools.foreignCertificates);
        next = certs.map((c, j) => (j === i ? other : c));
        detail = `${where}[${i}] (${name}) replaced by ${describeCertificate(other)}`;
      } else if (op === 'cert-duplicate') {
        next = [...certs, certs[i]!];
        detail = `${where}[${i}] (${name}) twice`;
      } else if (op === 'cert-remove') {
        next = certs.filter((_, j) => j !== i);
        detail = `${where}[${i}] (${name}) removed`;
      } else {
        if (certs.length < 2) return undefined;
        // out of DER order on purpose: the SET OF is not re-sorted
        return { der: withCertificates(der, tlv(0xa0, concat([...certs].reverse()))), detail: 'certificates written in reverse (unsorted) order', ranges: [] };
      }
      const set = certificateSet(next);
      return { der: inToken ? withTokenCertificates(der, set) : withCertificates(der, set), detail, ranges: [] };
    }
    case 'token-swap': {
      const own = extractTimeStamp(der).token;
      const candidates = pools.tokens.filter((t) => Buffer.compare(Buffer.from(t), Buffer.from(own)) !== 0);
      const other = pick(rnd, candidates);
      return { der: withSignatureTimeStamp(der, other), detail: `time-stamp token of another proof (${describeCertificate(parseSignedData(other).certificates[0] ?? new Uint8Array(0))})`, ranges: [] };
    }
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function describeCertificate(der: Uint8Array): string {
  try {
    return subjectString(parseCertificate(der));
  } catch {
    return 'not a certificate';
  }
}

function weightedKind(rnd: Random): MutationKind {
  const total = MUTATION_KINDS.reduce((s, k) => s + WEIGHTS[k], 0);
  let r = rnd() * total;
  for (const k of MUTATION_KINDS) {
    r -= WEIGHTS[k];
    if (r < 0) return k;
  }
  return 'bit-flip';
}

// ---------------------------------------------------------------------------------------------
// Explaining a pass
// ---------------------------------------------------------------------------------------------

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** Multiset difference a − b of encodings. */
function minus(a: readonly Uint8Array[], b: readonly Uint8Array[]): Uint8Array[] {
  const left = [...b];
  const out: Uint8Array[] = [];
  for (const x of a) {
    const i = left.findIndex((y) => same(x, y));
    if (i >= 0) left.splice(i, 1);
    else out.push(x);
  }
  return out;
}

const bagCertificates = (field: DerNode | undefined) => (field?.children ?? []).map((c) => c.bytes);

/** Remembers whether a genuine proof still passes with some certificates taken out of its bags. */
export class UnusedCertificates {
  private readonly cache = new Map<string, boolean>();
  constructor(private readonly trustAnchors: Uint8Array[]) {}

  /** True when `proof` verifies TOTAL_PASSED without `outer` in its certificates and `token` in its token's: no path needs them. */
  async unused(proof: Uint8Array, outer: readonly Uint8Array[], token: readonly Uint8Array[]): Promise<boolean> {
    const id = (list: readonly Uint8Array[]) => list.map((c) => sha256(c)).sort().join(',');
    const key = `${sha256(proof)}|${id(outer)}|${id(token)}`;
    const known = this.cache.get(key);
    if (known !== undefined) return known;
    const b = bags(proof);
    let without = withCertificates(proof, certificateSet(minus(bagCertificates(b.outer), outer)));
    if (token.length) without = withTokenCertificates(without, certificateSet(minus(bagCertificates(b.token), token)));
    const ok = (await verifyCadesT(without, { trustAnchors: this.trustAnchors })).indication === 'TOTAL_PASSED';
    this.cache.set(key, ok);
    return ok;
  }
}

/**
 * Why a mutated proof that verified TOTAL_PASSED may pass, or undefined when nothing explains
 * it: the mutation must lie in the proof's or its token's certificate bag (for byte-level
 * mutations, every touched octet is located inside one in the original's DER tree), putting
 * the original bags back must give the original octet for octet, and every certificate the
 * mutation removed or altered must be one the original passes without.
 */
export async function explainPass(original: Uint8Array, mutation: Pick<Mutation, 'der' | 'ranges'>, unused: UnusedCertificates): Promise<string | undefined> {
  const mutated = mutation.der;
  if (same(original, mutated)) return 'no octet changed';
  for (const [start, end] of mutation.ranges) {
    if (!inCertificateBag(original, start, Math.max(end, start + 1))) return undefined;
  }
  const was = bags(original);
  let now: ReturnType<typeof bags>;
  let restored: Uint8Array;
  try {
    now = bags(mutated);
    restored = withCertificates(mutated, was.outer?.bytes);
    if (was.token || now.token) restored = withTokenCertificates(restored, was.token?.bytes);
  } catch {
    return undefined;
  }
  if (!same(restored, original)) return undefined;
  const removedOuter = minus(bagCertificates(was.outer), bagCertificates(now.outer));
  const removedToken = minus(bagCertificates(was.token), bagCertificates(now.token));
  const added = [...minus(bagCertificates(now.outer), bagCertificates(was.outer)), ...minus(bagCertificates(now.token), bagCertificates(was.token))];
  if ((removedOuter.length || removedToken.length) && !(await unused.unused(original, removedOuter, removedToken))) return undefined;
  const bytes = mutation.ranges.length > 0;
  const where = bytes ? ` (at ${[...new Set(mutation.ranges.map(([s]) => locate(original, s)))].join(', ')})` : '';
  const parts = [
    removedOuter.length ? `${removedOuter.map(describeCertificate).join(', ')} ${bytes ? 'altered' : 'removed'} in the proof's certificates: no path uses it (the original passes without it)` : '',
    removedToken.length ? `${removedToken.map(describeCertificate).join(', ')} ${bytes ? 'altered' : 'removed'} in the token's certificates: no path uses it (the original passes without it)` : '',
    added.length && !bytes ? `extra: ${added.map(describeCertificate).join(', ')}` : '',
  ].filter(Boolean);
  return `only an unsigned certificate bag changed${where}; ${parts.join('; ')}`;
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

function runVerify(dir: string, trust: string[], jobs: number | undefined, timeoutMs: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; timedOut: boolean }> {
  const args = [...(COMPILED ? [] : ['--import', 'tsx']), VERIFY_CLI, '--dir', dir, ...trust.flatMap((t) => ['--trust', t]), '--json', '--no-progress', ...(jobs !== undefined ? ['--jobs', String(jobs)] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr, timedOut });
    });
  });
}

const outcomeKey = (r: { indication?: string; subIndication?: string }) => (r.subIndication ? `${r.indication}/${r.subIndication}` : (r.indication ?? 'NO REPORT'));

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const log = options.log ?? (() => undefined);
  const t0 = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-verify-'));
  const perAlgorithm = options.genuine ?? 6;
  try {
    // Two trusted PKIs, one untrusted (its certificates and tokens are swapped in).
    const [p256, rsa, foreign] = await Promise.all([createDevPki('ECDSA-P256'), createDevPki('RSA-2048'), createDevPki('ECDSA-P256')]);
    fs.mkdirSync(path.join(dir, 'trust'));
    const trust = [path.join(dir, 'trust', 'root-p256.pem'), path.join(dir, 'trust', 'root-rsa2048.pem')];
    fs.writeFileSync(trust[0]!, derToPem(p256.root.certificate, 'CERTIFICATE'));
    fs.writeFileSync(trust[1]!, derToPem(rsa.root.certificate, 'CERTIFICATE'));
    const anchors = [p256.root.certificate, rsa.root.certificate];
    const genuine = [...(await sealGenuine('ECDSA-P256', p256, perAlgorithm, 'p256')), ...(await sealGenuine('RSA-2048', rsa, perAlgorithm, 'rsa2048'))];
    const untrusted = await sealGenuine('ECDSA-P256', foreign, 1, 'untrusted');
    const tSeal = performance.now();
    log(`sealed ${genuine.length} genuine proofs (ECDSA P-256, RSA-2048) and one under an untrusted root in ${((tSeal - t0) / 1000).toFixed(1)} s`);

    const pools: Pools = {
      foreignCertificates: [p256, rsa, foreign].flatMap((p) => [p.root.certificate, p.seal.certificate, p.tsa.certificate]),
      tokens: [...genuine, ...untrusted].map((g) => extractTimeStamp(g.der).token),
    };
    const rnd = seededRandom(options.seed);
    const proofs = path.join(dir, 'proofs');
    fs.mkdirSync(proofs);
    for (const g of genuine) fs.writeFileSync(path.join(proofs, `${g.name}.p7s`), g.der);
    const mutations = new Map<string, Mutation>();
    const width = String(options.count).length;
    while (mutations.size < options.count) {
      const kind = weightedKind(rnd);
      const base = Math.floor(rnd() * genuine.length);
      const made = mutate(kind, genuine[base]!, pools, rnd);
      if (!made || Buffer.compare(Buffer.from(made.der), Buffer.from(genuine[base]!.der)) === 0) continue;
      const file = `${String(mutations.size).padStart(width, '0')}-${kind}.p7s`;
      fs.writeFileSync(path.join(proofs, file), made.der);
      mutations.set(file, { file, kind, base, ...made });
    }
    const tMutate = performance.now();
    log(`wrote ${mutations.size} mutated proofs (seed ${options.seed}) in ${((tMutate - tSeal) / 1000).toFixed(1)} s; running verify --dir --json`);

    const run = await runVerify(proofs, trust, options.jobs, 120_000 + options.count * 100);
    const tVerify = performance.now();

    const crashes: string[] = [];
    if (run.timedOut) crashes.push(`verify --dir did not finish in ${Math.round((120_000 + options.count * 100) / 1000)} s (killed)`);
    if (run.code === 4 || run.code === null || run.code > 2) crashes.push(`verify --dir exited ${run.code ?? run.signal}${run.stderr ? `: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
    if (STACK.test(run.stderr)) crashes.push(`stack trace on stderr: ${run.stderr.split('\n').slice(0, 6).join(' | ')}`);
    const reports = new Map<string, { indication?: string; subIndication?: string; checks?: Array<{ name: string; passed: boolean; detail: string; subIndication?: string }> }>();
    for (const line of run.stdout.split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line);
        reports.set(r.file, r);
      } catch {
        crashes.push(`a report line is not JSON: ${line.slice(0, 120)}`);
      }
    }

    const byKind: Record<string, number> = {};
    const outcomes: Record<string, number> = {};
    const outcomesByKind: Record<string, Record<string, number>> = {};
    const genuineFailures: string[] = [];
    const passes: Finding[] = [];
    const unexplained: Finding[] = [];
    const ignoredChangedVerdict: Finding[] = [];
    const unused = new UnusedCertificates(anchors);
    for (const g of genuine) {
      const r = reports.get(`${g.name}.p7s`);
      if (!r) crashes.push(`${g.name}.p7s: no report line`);
      else if (r.indication !== 'TOTAL_PASSED') genuineFailures.push(`${g.name}.p7s: ${outcomeKey(r)}`);
    }
    for (const m of mutations.values()) {
      byKind[m.kind] = (byKind[m.kind] ?? 0) + 1;
      const r = reports.get(m.file);
      if (!r) {
        crashes.push(`${m.file}: no report line (${m.detail})`);
        continue;
      }
      const stopped = r.checks?.find((c) => /validation stopped/.test(c.detail));
      if (stopped) crashes.push(`${m.file}: ${stopped.name}: ${stopped.detail} (${m.detail})`);
      const key = outcomeKey(r);
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      (outcomesByKind[m.kind] ??= {})[key] = (outcomesByKind[m.kind]![key] ?? 0) + 1;
      if (r.indication === 'TOTAL_PASSED') {
        const explanation = await explainPass(genuine[m.base]!.der, m, unused);
        const pass: Finding = { file: m.file, kind: m.kind, detail: m.detail, ...(explanation ? { explanation } : {}) };
        passes.push(pass);
        if (!explanation) unexplained.push(pass);
      } else if (key !== 'TOTAL_FAILED/FORMAT_FAILURE') {
        // the converse: a change the verifier ignores must not change the verdict either (a bag that is no longer DER is a format failure)
        const explanation = await explainPass(genuine[m.base]!.der, m, unused);
        if (explanation) ignoredChangedVerdict.push({ file: m.file, kind: m.kind, detail: `${m.detail} → ${key}`, explanation });
      }
    }
    const tEnd = performance.now();
    return {
      seed: options.seed,
      count: options.count,
      genuine: genuine.length,
      byKind,
      outcomes,
      outcomesByKind,
      crashes,
      genuineFailures,
      passes,
      unexplained,
      ignoredChangedVerdict,
      exitCode: run.code ?? -1,
      seconds: { seal: (tSeal - t0) / 1000, mutate: (tMutate - tSeal) / 1000, verify: (tVerify - tMutate) / 1000, classify: (tEnd - tVerify) / 1000, total: (tEnd - t0) / 1000 },
      ...(options.keep ? { dir } : {}),
    };
  } finally {
    if (!options.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The bar: no crash, no unexplained pass, no verdict changed by an ignored field, every genuine proof passed. */
export function meetsBar(r: FuzzResult): boolean {
  return r.crashes.length === 0 && r.unexplained.length === 0 && r.ignoredChangedVerdict.length === 0 && r.genuineFailures.length === 0;
}

/** The tables the command prints. */
export function renderResult(r: FuzzResult): string {
  const lines: string[] = [];
  const table = (head: [string, string], rows: Array<[string, number]>) => {
    const w = Math.max(head[0].length, ...rows.map(([k]) => k.length));
    lines.push(`  ${head[0].padEnd(w)}  ${head[1]}`);
    for (const [k, v] of rows) lines.push(`  ${k.padEnd(w)}  ${String(v).padStart(head[1].length)}`);
  };
  lines.push(`verify fuzz: seed ${r.seed}, ${r.count} mutated proofs of ${r.genuine} genuine ones (ECDSA P-256 and RSA-2048), verify --dir exit code ${r.exitCode}`);
  lines.push('');
  lines.push('Mutations by kind');
  table(['kind', 'proofs'], MUTATION_KINDS.filter((k) => r.byKind[k]).map((k) => [k, r.byKind[k]!]));
  lines.push('');
  lines.push('Outcomes (mutated proofs)');
  table(['indication / sub-indication', 'proofs'], Object.entries(r.outcomes).sort((a, b) => b[1] - a[1]));
  lines.push('');
  lines.push('Outcomes by kind');
  for (const k of MUTATION_KINDS) {
    const o = r.outcomesByKind[k];
    if (o) lines.push(`  ${k.padEnd(15)} ${Object.entries(o).sort((a, b) => b[1] - a[1]).map(([key, n]) => `${key} ${n}`).join(', ')}`);
  }
  lines.push('');
  lines.push(`Crashes: ${r.crashes.length}`);
  for (const c of r.crashes.slice(0, 50)) lines.push(`  ${c}`);
  if (r.genuineFailures.length) {
    lines.push(`Genuine proofs that did not pass: ${r.genuineFailures.length}`);
    for (const g of r.genuineFailures) lines.push(`  ${g}`);
  }
  lines.push(`TOTAL_PASSED on a mutated proof: ${r.passes.length} (${r.passes.length - r.unexplained.length} explained, ${r.unexplained.length} unexplained)`);
  for (const p of r.passes) lines.push(`  ${p.explanation ? 'explained  ' : 'UNEXPLAINED'} ${p.file}: ${p.detail}${p.explanation ? `\n              → ${p.explanation}` : ''}`);
  lines.push(`Verdict changed by a field the verifier ignores: ${r.ignoredChangedVerdict.length}`);
  for (const p of r.ignoredChangedVerdict) lines.push(`  ${p.file}: ${p.detail}\n              (${p.explanation})`);
  lines.push('');
  const s = r.seconds;
  lines.push(`Time: ${s.total.toFixed(1)} s (sealing ${s.seal.toFixed(1)}, mutating ${s.mutate.toFixed(1)}, verify --dir ${s.verify.toFixed(1)} = ${((r.count + r.genuine) / s.verify).toFixed(0)} proofs/s, classifying ${s.classify.toFixed(1)})`);
  lines.push(meetsBar(r) ? 'Bar met: 0 crashes, 0 unexplained passes, no verdict changed by an ignored field.' : 'BAR NOT MET.');
  if (r.dir) lines.push(`Proofs kept in ${r.dir}`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      count: { type: 'string', default: '10000' },
      genuine: { type: 'string', default: '6' },
      jobs: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const seed = Number(values.seed);
  const count = Number(values.count);
  const genuine = Number(values.genuine);
  if (!Number.isInteger(seed) || !Number.isInteger(count) || count < 1 || !Number.isInteger(genuine) || genuine < 1) {
    console.error('usage: fuzz-verify [--seed N] [--count N] [--genuine N] [--jobs N] [--keep]');
    return 3;
  }
  const result = await runFuzz({ seed, count, genuine, keep: values.keep, ...(values.jobs !== undefined ? { jobs: Number(values.jobs) } : {}), log: (l) => console.log(l) });
  process.stdout.write(renderResult(result));
  return meetsBar(result) ? 0 : 1;
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  main().then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exitCode = 1;
    },
  );
}
