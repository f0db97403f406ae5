/**
 * The ustar writer (src/audit/tar.ts) against the system's tar (GNU tar on Debian): names up
 * to 100 bytes and longer ones split into prefix and name, sizes across a block boundary, an
 * empty file, the modification time; and the names it refuses.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { tarHeader, tarStream, type TarEntry } from '../../src/audit/tar.js';

describe('ustar writer', () => {
  let work: string;
  before(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-tar-'))));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('writes an archive tar lists and extracts byte for byte', async () => {
    const long = `proofs/${'a'.repeat(90)}/${'b'.repeat(40)}/1-SubmissionAcceptance.p7s`;
    const entries: TarEntry[] = [
      { name: 'manifest.json', data: Buffer.from('{"x":1}\n'), mtime: new Date('2024-05-01T10:00:00Z') },
      { name: long, data: Buffer.alloc(513, 7), mtime: new Date('2024-05-01T10:00:00Z') },
      { name: 'empty.txt', data: new Uint8Array(0), mtime: new Date('2024-05-01T10:00:00Z') },
      { name: 'block.bin', data: Buffer.alloc(1024, 1), mtime: new Date('2024-05-01T10:00:00Z') },
    ];
    const chunks: Buffer[] = [];
    for await (const c of tarStream(entries)) chunks.push(c);
    const file = path.join(work, 'a.tar');
    fs.writeFileSync(file, Buffer.concat(chunks));
    expect(fs.statSync(file).size % 512).to.equal(0);
    const listed = execFileSync('tar', ['-tvf', file, '--utc'], { encoding: 'utf8' }).trim().split('\n');
    expect(listed.map((l) => l.split(/\s+/).pop())).to.deep.equal(entries.map((e) => e.name));
    expect(listed[0]).to.contain('2024-05-01 10:00');
    const dir = path.join(work, 'x');
    fs.mkdirSync(dir);
    execFileSync('tar', ['-xf', file, '-C', dir]);
    for (const e of entries) expect(Buffer.compare(fs.readFileSync(path.join(dir, e.name)), Buffer.from(e.data))).to.equal(0);
  });

  it('refuses names that would escape the folder or do not fit', () => {
    for (const name of ['../x', '/etc/passwd', 'a//b', 'a/./b', 'ünï', 'a b', `${'x'.repeat(101)}`, `${'d'.repeat(160)}/x`]) {
      expect(() => tarHeader({ name, size: 1, mtime: new Date() }), name).to.throw();
    }
  });
});
