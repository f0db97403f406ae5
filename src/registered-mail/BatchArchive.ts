/**
 * A batch as a ZIP archive (APPNOTE.TXT 6.3.10): `manifest.json` (a JSON array) or
 * `manifest.jsonl` (JSON lines) and the documents its rows name, flat, by file name.
 *
 * The upload is staged to a temp file first (a ZIP's central directory is at its end; the
 * bytes are never held in memory), at most BATCH_MAX_BYTES. Then yauzl reads the central
 * directory, and every entry is checked before a single byte is inflated; what a hostile
 * archive tries is refused as a whole with ARCHIVE_UNSAFE and the `reason`:
 * - PATH_TRAVERSAL: a name with a `..` segment, an absolute path, a drive letter or a
 *   backslash — names are only ever compared with the manifest's, never used as paths, but
 *   such an archive is not a sender's batch;
 * - DUPLICATE_ENTRY: two entries with one name (tools disagree on which one they extract);
 * - LINK_OR_DEVICE: a symbolic link or any other entry that is not a regular file or a folder
 *   (Unix mode in the external attributes, APPNOTE 4.4.15);
 * - ENCRYPTED: an encrypted entry;
 * - COMPRESSION_RATIO: an entry of 1 MiB or more that inflates more than BATCH_ZIP_MAX_RATIO
 *   times its compressed size (a zip bomb);
 * - TOO_MANY_ENTRIES: more entries than the rows and their documents can use.
 * The sizes the directory declares are enforced while inflating (yauzl validateEntrySizes: an
 * entry that inflates to more than it declared fails, ARCHIVE_INVALID), so the declared total,
 * checked against BATCH_MAX_BYTES, bounds what is written; each document is staged with the
 * single intake's per-document limit. An entry no row names refuses the batch with
 * DOCUMENT_PART_UNDECLARED, as a multipart part no row names does.
 *
 * yauzl decodes names itself unless told not to (`decodeStrings: false`): the names are
 * decoded here (UTF-8 when the entry says so, general purpose bit 11, else byte for byte) so
 * that the checks above see exactly the bytes of the archive.
 */
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { Config } from '../config.js';
import { ServiceError } from '../domain/errors.js';
import type { StagedBlob } from '../store/FsBlobStore.js';
import type { BatchIntake } from './batches.js';

export type ArchiveUnsafeReason = 'PATH_TRAVERSAL' | 'DUPLICATE_ENTRY' | 'LINK_OR_DEVICE' | 'ENCRYPTED' | 'COMPRESSION_RATIO' | 'TOO_MANY_ENTRIES';

export const MANIFEST_NAMES = ['manifest.json', 'manifest.jsonl'] as const;

/** Entries this large or larger must keep within the compression ratio. */
const RATIO_FLOOR_BYTES = 1024 * 1024;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
/** "version made by" hosts whose external attributes hold a Unix mode (APPNOTE 4.4.2.2) */
const UNIX_HOSTS = new Set([3, 19]);

export interface ArchiveDeps {
  stage(source: Readable, maxBytes: number): Promise<StagedBlob>;
  discard(blob: StagedBlob): Promise<void>;
  limits: Config['batch'];
  maxDocuments: number;
}

function unsafe(reason: ArchiveUnsafeReason, detail: string, entry?: string): ServiceError {
  return new ServiceError('ARCHIVE_UNSAFE', detail, { extensions: { reason, ...(entry !== undefined ? { entry } : {}) } });
}

function invalid(detail: string, cause?: unknown): ServiceError {
  return new ServiceError('ARCHIVE_INVALID', detail, { cause });
}

/** The entry's name as the archive holds it. */
function entryName(e: yauzl.Entry): string {
  const raw = e.fileNameRaw;
  return (e.generalPurposeBitFlag & 0x800) !== 0 ? raw.toString('utf8') : raw.toString('latin1');
}

function traverses(name: string): boolean {
  return name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name) || name.split('/').includes('..') || /\p{Cc}/u.test(name);
}

/** Reads the archive in `source` into the intake: its manifest, then each document. */
export async function readBatchArchive(source: Readable, intake: BatchIntake, deps: ArchiveDeps): Promise<void> {
  const { limits } = deps;
  const archive = await deps.stage(source, limits.maxBytes);
  let zip: yauzl.ZipFile | undefined;
  try {
    if (archive.tooLarge) throw new ServiceError('BATCH_TOO_LARGE', `the archive is larger than ${limits.maxBytes} bytes`, { extensions: { limit: limits.maxBytes } });
    zip = await open(archive.tempPath);
    const entries = await readDirectory(zip, limits.maxRows * deps.maxDocuments + 1);

    const files = new Map<string, yauzl.Entry>();
    let total = 0;
    for (const e of entries) {
      const name = entryName(e);
      if (traverses(name)) throw unsafe('PATH_TRAVERSAL', `entry "${name}" leaves the archive's folder or is no plain relative name`, name);
      if (files.has(name)) throw unsafe('DUPLICATE_ENTRY', `entry "${name}" appears more than once`, name);
      const host = e.versionMadeBy >> 8;
      const type = (e.externalFileAttributes >>> 16) & S_IFMT;
      if (UNIX_HOSTS.has(host) && type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw unsafe('LINK_OR_DEVICE', `entry "${name}" is a link or a device, not a file`, name);
      if (e.isEncrypted()) throw unsafe('ENCRYPTED', `entry "${name}" is encrypted`, name);
      if (e.compressionMethod !== 0 && e.compressionMethod !== 8) throw invalid(`entry "${name}" uses compression method ${e.compressionMethod}; only stored (0) and deflated (8) are read`);
      if (e.uncompressedSize >= RATIO_FLOOR_BYTES && e.uncompressedSize > limits.zipMaxRatio * Math.max(1, e.compressedSize)) {
        throw unsafe('COMPRESSION_RATIO', `entry "${name}" inflates more than ${limits.zipMaxRatio} times its compressed size`, name);
      }
      files.set(name, e);
      if (name.endsWith('/')) continue; // a folder: nothing to read
      total += e.uncompressedSize;
      if (total > limits.maxBytes) throw new ServiceError('BATCH_TOO_LARGE', `the archive's documents come to more than ${limits.maxBytes} bytes`, { extensions: { limit: limits.maxBytes } });
    }

    const manifests = MANIFEST_NAMES.filter((n) => files.has(n));
    if (manifests.length === 0) throw new ServiceError('BATCH_MANIFEST_MISSING', 'the archive needs a manifest.json (JSON array) or manifest.jsonl (JSON lines) at its top');
    if (manifests.length > 1) throw new ServiceError('BATCH_MANIFEST_INVALID', 'the archive holds both manifest.json and manifest.jsonl: send one');
    const manifest = files.get(manifests[0]!)!;
    if (manifest.uncompressedSize > limits.maxManifestBytes) {
      throw new ServiceError('BATCH_TOO_LARGE', `the manifest is larger than ${limits.maxManifestBytes} bytes`, { extensions: { limit: limits.maxManifestBytes } });
    }
    intake.setManifest((await readAll(zip, manifest)).toString('utf8'), false);
    if (intake.failed) return;

    const documents = [...files].filter(([name]) => !name.endsWith('/') && name !== manifests[0]);
    // every entry must belong to a row before anything is inflated
    for (const [name] of documents) {
      if (!intake.declares(name)) throw new ServiceError('DOCUMENT_PART_UNDECLARED', `entry "${name}" is not named by any row of the manifest`, { extensions: { part: name } });
    }
    for (const [name, entry] of documents) {
      const stream = await openEntry(zip, entry);
      // listened to before the intake reads it: a broken entry is the archive's fault
      stream.on('error', (err) => intake.fail(invalid(`entry "${name}" cannot be inflated (corrupt, or larger than its directory record says)`, err)));
      await intake.addDocument(name, name, undefined, stream);
      if (intake.failed) return;
    }
  } finally {
    zip?.close();
    await deps.discard(archive).catch(() => undefined);
  }
}

function open(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) reject(invalid('the body is not a readable ZIP archive', err));
      else resolve(zip);
    });
  });
}

/** The central directory's entries; more than `max` is TOO_MANY_ENTRIES, before reading on. */
function readDirectory(zip: yauzl.ZipFile, max: number): Promise<yauzl.Entry[]> {
  if (zip.entryCount > max) return Promise.reject(unsafe('TOO_MANY_ENTRIES', `the archive has ${zip.entryCount} entries; at most ${max} can be used`));
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', (err) => reject(invalid('the archive directory cannot be read', err)));
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) reject(invalid('an entry of the archive cannot be read', err));
      else resolve(stream);
    });
  });
}

async function readAll(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  const stream = await openEntry(zip, entry);
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  } catch (err) {
    throw invalid('the manifest cannot be inflated', err);
  }
  return Buffer.concat(chunks);
}
