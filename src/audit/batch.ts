/**
 * Plans `verify --dir DIR`: every `.p7s` under DIR, each with what to check it against.
 * When DIR holds an export's manifest.json, a proof it lists is checked against its decoded
 * statement copy and the documents the manifest names; any other proof against the
 * documents lying beside it under the names its statement gives (matching "by name").
 * Proofs the manifest lists but that are missing from DIR are reported too.
 *
 * Each proof's RFC 4998 evidence record: the one its manifest entry names (`record`), else a
 * `.ers` of the same stem beside it (`proofs/<messageId>/<seq>-<type>.ers` next to the
 * `.p7s`, the bundle's layout). A record the manifest names but that is missing is reported
 * on that proof's EVIDENCE_RECORD line.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AuditError } from './errors.js';
import { BUNDLE_FORMAT, MANIFEST_FILE, type AuditManifest, type ManifestProof } from './bundle.js';
import { recordBeside, type ProofInput } from './verify.js';

export interface DirectoryPlan {
  inputs: ProofInput[];
  /** Paths (relative to DIR) the manifest lists that are not there. */
  missing: string[];
  manifest?: AuditManifest;
  /** The manifest's trust anchor files (absolute), when it names any. */
  bundleTrustFiles: string[];
}

/** Reads and shape-checks an export's manifest.json; undefined when DIR has none. */
export async function readManifest(dir: string): Promise<AuditManifest | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AuditError('BUNDLE_INVALID', `${MANIFEST_FILE}: cannot be read (${(err as Error).message})`, { cause: err });
  }
  let m: AuditManifest;
  try {
    m = JSON.parse(text) as AuditManifest;
  } catch (err) {
    throw new AuditError('BUNDLE_INVALID', `${MANIFEST_FILE} is not JSON`, { cause: err });
  }
  if (typeof m !== 'object' || m === null || m.format !== BUNDLE_FORMAT) throw new AuditError('BUNDLE_INVALID', `${MANIFEST_FILE} is not a "${BUNDLE_FORMAT}" manifest`);
  if (!Array.isArray(m.proofs) || !Array.isArray(m.trustAnchors) || typeof m.log !== 'object' || m.log === null) {
    throw new AuditError('BUNDLE_INVALID', `${MANIFEST_FILE} lacks proofs, trustAnchors or log`);
  }
  for (const p of m.proofs) {
    if (typeof p?.file !== 'string' || typeof p.statement !== 'string' || !Array.isArray(p.documents)) throw new AuditError('BUNDLE_INVALID', `${MANIFEST_FILE}: a proof entry lacks file, statement or documents`);
    if (p.record !== undefined && typeof p.record !== 'string') throw new AuditError('BUNDLE_INVALID', `${MANIFEST_FILE}: the record of ${p.file} is not a path`);
  }
  return m;
}

/** `rel` resolved inside `dir`; a manifest path that climbs out of the bundle is refused. */
export function insideBundle(dir: string, rel: string): string {
  const abs = path.resolve(dir, rel);
  const root = path.resolve(dir);
  if (abs !== root && !abs.startsWith(root + path.sep)) throw new AuditError('BUNDLE_INVALID', `${MANIFEST_FILE} names a path outside the bundle: ${rel}`);
  return abs;
}

/** Every *.p7s under `dir` (symbolic links are not followed), sorted. */
export async function findProofFiles(dir: string): Promise<string[]> {
  return (await findFiles(dir)).proofs;
}

/** Every *.p7s (sorted) and *.ers under `dir`; symbolic links are not followed. */
async function findFiles(dir: string): Promise<{ proofs: string[]; records: Set<string> }> {
  const out: string[] = [];
  const records = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch (err) {
      throw new AuditError((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `${d}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message}`, { cause: err });
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.toLowerCase().endsWith('.p7s')) out.push(p);
      else if (e.isFile() && e.name.endsWith('.ers')) records.add(p);
    }
  };
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat) throw new AuditError('FILE_NOT_FOUND', `${dir}: no such directory`);
  if (!stat.isDirectory()) throw new AuditError('FILE_UNREADABLE', `${dir}: not a directory`);
  await walk(dir);
  return { proofs: out.sort(), records };
}

const toPosix = (p: string) => p.split(path.sep).join('/');

export async function planDirectory(dir: string): Promise<DirectoryPlan> {
  const manifest = await readManifest(dir);
  const { proofs: files, records } = await findFiles(dir);
  const byFile = new Map<string, ManifestProof>();
  for (const p of manifest?.proofs ?? []) byFile.set(toPosix(path.relative(dir, insideBundle(dir, p.file))), p);
  const recordOf = (file: string, entry: ManifestProof | undefined): Pick<ProofInput, 'record' | 'recordDisplay' | 'recordSource'> => {
    if (typeof entry?.record === 'string') {
      const abs = insideBundle(dir, entry.record);
      return { record: abs, recordDisplay: toPosix(path.relative(dir, abs)), recordSource: 'manifest' };
    }
    const beside = recordBeside(file);
    return records.has(beside) ? { record: beside, recordDisplay: toPosix(path.relative(dir, beside)), recordSource: 'beside' } : {};
  };
  const inputs: ProofInput[] = files.map((file) => {
    const rel = toPosix(path.relative(dir, file));
    const entry = byFile.get(rel);
    byFile.delete(rel);
    if (!entry) return { path: file, display: rel, documentsByName: path.dirname(file), ...recordOf(file, undefined) };
    return {
      path: file,
      display: rel,
      statementCopy: insideBundle(dir, entry.statement),
      documents: entry.documents.filter((d) => typeof d.file === 'string').map((d) => ({ path: insideBundle(dir, d.file!), fileName: d.fileName })),
      ...recordOf(file, entry),
    };
  });
  return {
    inputs,
    missing: [...byFile.keys()],
    ...(manifest ? { manifest } : {}),
    bundleTrustFiles: (manifest?.trustAnchors ?? []).map((t) => insideBundle(dir, t)),
  };
}
