/** Runs the OpenSSL command-line tool, the independent verifier of what the service emits. */
import { execFile } from 'node:child_process';

export interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function openssl(args: string[], input?: Uint8Array): Promise<Run> {
  return run('openssl', args, input);
}

export function run(cmd: string, args: string[], input?: Uint8Array): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err);
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString('utf8') });
    });
    if (input) child.stdin!.end(Buffer.from(input));
    else child.stdin!.end();
  });
}

/** One line of `openssl asn1parse -i`: where the element starts, its depth, header and content lengths. */
export interface Asn1Node {
  offset: number;
  depth: number;
  headerLength: number;
  length: number;
  constructed: boolean;
  /** what OpenSSL prints after the tag: "OBJECT            :id-smime-aa-timeStampToken", "OCTET STRING …" */
  text: string;
}

/** The elements of a DER file as `openssl asn1parse -inform DER -i` lists them (OCTET STRINGs not descended). */
export async function asn1parse(der: Uint8Array): Promise<Asn1Node[]> {
  const r = await openssl(['asn1parse', '-inform', 'DER', '-i'], der);
  if (r.code !== 0) throw new Error(`openssl asn1parse exited ${r.code}: ${r.stderr}`);
  const nodes: Asn1Node[] = [];
  for (const line of r.stdout.toString('utf8').split('\n')) {
    const m = /^\s*(\d+):d=(\d+)\s+hl=(\d+)\s+l=\s*(\d+)\s+(prim|cons):\s*(.*?)\s*$/.exec(line);
    if (m) nodes.push({ offset: Number(m[1]), depth: Number(m[2]), headerLength: Number(m[3]), length: Number(m[4]), constructed: m[5] === 'cons', text: m[6]! });
  }
  return nodes;
}

/**
 * The signature time-stamp token and the signature value it must cover, cut out of a CAdES-T
 * proof by OpenSSL's own parse (not the project's ASN.1 code): in the SignerInfo, the
 * unsignedAttrs [1] holds Attribute { id-aa-signatureTimeStampToken, SET { ContentInfo } }, and
 * the element just before [1] is the signature OCTET STRING (RFC 5652 §5.3).
 */
export async function signatureTimeStampByOpenssl(der: Uint8Array): Promise<{ token: Uint8Array; signatureValue: Uint8Array }> {
  const nodes = await asn1parse(der);
  const oids = nodes.flatMap((n, i) => (!n.constructed && n.text === 'OBJECT            :id-smime-aa-timeStampToken' ? [i] : []));
  if (oids.length !== 1) throw new Error(`expected one id-aa-signatureTimeStampToken attribute, found ${oids.length}`);
  const at = oids[0]!;
  const depth = nodes[at]!.depth;
  const set = nodes.findIndex((n, i) => i > at && n.depth === depth);
  const contentInfo = nodes[set + 1];
  if (set < 0 || !nodes[set]!.text.startsWith('SET') || !contentInfo || contentInfo.depth !== depth + 1 || !contentInfo.text.startsWith('SEQUENCE')) throw new Error('signature time-stamp attribute is not SET { ContentInfo }');
  const before = (i: number, d: number) => nodes.findLastIndex((n, j) => j < i && n.depth === d);
  const unsigned = before(at, depth - 2);
  if (unsigned < 0 || nodes[unsigned]!.text !== 'cont [ 1 ]') throw new Error('the time-stamp attribute is not in the unsignedAttrs [1]');
  const signature = nodes[before(unsigned, depth - 2)];
  if (!signature || signature.constructed || !signature.text.startsWith('OCTET STRING')) throw new Error('no signature OCTET STRING before the unsignedAttrs');
  const bytes = Buffer.from(der);
  return {
    token: new Uint8Array(bytes.subarray(contentInfo.offset, contentInfo.offset + contentInfo.headerLength + contentInfo.length)),
    signatureValue: new Uint8Array(bytes.subarray(signature.offset + signature.headerLength, signature.offset + signature.headerLength + signature.length)),
  };
}
