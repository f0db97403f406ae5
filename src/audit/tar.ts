/**
 * A streaming writer of POSIX ustar archives (IEEE Std 1003.1, "pax" interchange format,
 * ustar header), for bundles a person downloads and opens with any `tar`: regular files
 * only, each a 512-byte header then its bytes padded to 512, and two zero blocks at the end.
 *
 * Entries come one at a time and leave one at a time: the archive is never whole in
 * memory. A package (tar-stream) would do the same; this needs regular files only, about
 * as many lines as the glue to the package would take, and no dependency to keep.
 *
 * Header (offsets in bytes): name 0–99, mode 100, uid 108, gid 116, size 124 (11 octal
 * digits), mtime 136, chksum 148 (the sum of the header's bytes with this field as spaces),
 * typeflag 156 ('0': regular file), magic 257 "ustar\0", version 263 "00", uname 265,
 * gname 297, prefix 345–499 (the path before the name's last "/", when the name is longer
 * than 100 bytes).
 */

const BLOCK = 512;

export interface TarEntry {
  /** a relative path of ASCII letters, digits and "/._-" */
  name: string;
  data: Uint8Array;
  /** the file's modification time */
  mtime: Date;
}

function octal(value: number, width: number): string {
  // width − 1 digits and a NUL
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** The name and prefix fields of `path`, or an error when it does not fit ustar's. */
function splitName(path: string): { name: string; prefix: string } {
  if (!/^[A-Za-z0-9][A-Za-z0-9/._-]*$/.test(path) || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`tar entry name not allowed: ${path}`);
  }
  if (path.length <= 100) return { name: path, prefix: '' };
  const cut = path.lastIndexOf('/', 155);
  if (cut < 0 || path.length - cut - 1 > 100) throw new Error(`tar entry name too long: ${path}`);
  return { name: path.slice(cut + 1), prefix: path.slice(0, cut) };
}

export function tarHeader(entry: { name: string; size: number; mtime: Date }): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const { name, prefix } = splitName(entry.name);
  h.write(name, 0, 100, 'ascii');
  h.write(octal(0o644, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  if (!Number.isSafeInteger(entry.size) || entry.size < 0 || entry.size >= 8 ** 11) throw new Error('tar entry too large');
  h.write(octal(entry.size, 12), 124, 12, 'ascii');
  h.write(octal(Math.max(0, Math.floor(entry.mtime.getTime() / 1000)), 12), 136, 12, 'ascii');
  h.write(' '.repeat(8), 148, 8, 'ascii');
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  h.write(prefix, 345, 155, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

/** The archive of `entries`, chunk by chunk (header, bytes, padding; the end blocks last). */
export async function* tarStream(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    yield tarHeader({ name: e.name, size: e.data.byteLength, mtime: e.mtime });
    if (e.data.byteLength > 0) yield Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    const pad = (BLOCK - (e.data.byteLength % BLOCK)) % BLOCK;
    if (pad > 0) yield Buffer.alloc(pad, 0);
  }
  yield Buffer.alloc(2 * BLOCK, 0);
}
