/**
 * Outages answer clearly: a full disk 507 STORAGE_FULL, a database that does not answer
 * 503 DATABASE_UNAVAILABLE, both with Retry-After and nothing left behind; /healthz says the
 * process lives, /readyz whether it can take work.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { blobFiles, metadata, pdfBytes, startTestService, submit, VALID_INSZ, type TestService } from '../helpers/service.js';

async function expectProblem(res: Response, status: number, code: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).to.equal(status);
  expect(JSON.parse(text).code).to.equal(code);
  expect(Number(res.headers.get('retry-after')), 'Retry-After').to.be.greaterThan(0);
}

async function rowCount(svc: TestService, table: string): Promise<number> {
  return Number((await svc.rt.store.db(table).count({ n: '*' }).first())?.n);
}

/** Mounts a tmpfs of `bytes` at a new folder; undefined when this machine does not let us (not root). */
function smallDisk(bytes: number): { dir: string; unmount: () => void } | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-smalldisk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir], { stdio: 'ignore' });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe(`outages answer 500 INTERNAL (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);

  describe('disk full', () => {
    it('a submission whose bytes cannot be written answers 507 STORAGE_FULL with Retry-After and leaves nothing', async () => {
      const svc = await startTestService();
      try {
        const key = (await svc.newSender()).apiKey;
        await svc.newRecipient('citizen', VALID_INSZ);
        const stage = svc.rt.blobs.stage.bind(svc.rt.blobs);
        svc.rt.blobs.stage = async () => {
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
        };
        await expectProblem(await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(5000) }]), 507, 'STORAGE_FULL');
        expect(await rowCount(svc, 'messages')).to.equal(0);
        svc.rt.blobs.stage = stage;
        expect((await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(5000) }])).status).to.be.oneOf([201, 202]);
      } finally {
        await svc.close();
      }
    });

    it('on a real file system that fills up (a small tmpfs): 507 while full, /readyz 507, accepted again once room is made', async () => {
      const disk = smallDisk(4 * 1024 * 1024);
      if (!disk) {
        // not root: the injected ENOSPC above is what this machine can check
        console.log('      (this machine cannot mount a tmpfs: the real disk-full case is not exercised here)');
        return;
      }
      // readiness asks for room for one more document of the largest size
      const svc = await startTestService({ BLOB_DIR: path.join(disk.dir, 'blobs'), MAX_DOCUMENT_BYTES: String(1536 * 1024) });
      try {
        const key = (await svc.newSender()).apiKey;
        await svc.newRecipient('citizen', VALID_INSZ);
        // fill the disk but for a little
        const filler = path.join(disk.dir, 'filler');
        fs.writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024 - 300 * 1024));
        await expectProblem(await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(1024 * 1024) }]), 507, 'STORAGE_FULL');
        expect(blobFiles(svc.dataDir).temp).to.deep.equal([]);
        expect(fs.readdirSync(path.join(disk.dir, 'blobs', 'tmp'))).to.deep.equal([]);
        expect(await rowCount(svc, 'messages')).to.equal(0);
        await expectProblem(await fetch(`${svc.url}/readyz`), 507, 'STORAGE_FULL');
        expect((await fetch(`${svc.url}/healthz`)).status, 'alive all the same').to.equal(200);
        fs.rmSync(filler);
        expect((await fetch(`${svc.url}/readyz`)).status).to.equal(200);
        expect((await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(1024 * 1024) }])).status).to.be.oneOf([201, 202]);
      } finally {
        await svc.close();
        disk.unmount();
      }
    });
  });

  describe('database unavailable', () => {
    if (onPostgres) {
      it('PostgreSQL cut off: 503 DATABASE_UNAVAILABLE with Retry-After within seconds, /readyz 503, /healthz 200; back to normal when it returns', async () => {
        const proxy = await tcpProxy(new URL(process.env.TEST_DATABASE_URL!));
        const svc = await startTestService({}, { databaseVia: (url) => proxy.rewrite(url) });
        try {
          const key = (await svc.newSender()).apiKey;
          await svc.newRecipient('citizen', VALID_INSZ);
          expect((await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(2000) }])).status).to.be.oneOf([201, 202]);
          proxy.cut();
          await expectProblem(await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(2000) }]), 503, 'DATABASE_UNAVAILABLE');
          await expectProblem(await fetch(`${svc.url}/v1/messages`, { headers: { authorization: `Bearer ${key}` } }), 503, 'DATABASE_UNAVAILABLE');
          await expectProblem(await fetch(`${svc.url}/readyz`), 503, 'DATABASE_UNAVAILABLE');
          expect((await fetch(`${svc.url}/healthz`)).status).to.equal(200);
          expect(blobFiles(svc.dataDir).temp, 'no temp file left by the refused upload').to.deep.equal([]);
          proxy.restore();
          const deadline = Date.now() + 30_000;
          while ((await fetch(`${svc.url}/readyz`)).status !== 200) {
            expect(Date.now()).to.be.below(deadline);
            await new Promise((r) => setTimeout(r, 200));
          }
          expect((await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(2000) }])).status).to.be.oneOf([201, 202]);
        } finally {
          proxy.restore();
          await svc.close();
          proxy.close();
        }
      });
    }

    it('a database error that says it is unavailable answers 503 DATABASE_UNAVAILABLE, not 500', async () => {
      const svc = await startTestService();
      try {
        const key = (await svc.newSender()).apiKey;
        const transaction = svc.rt.store.transaction.bind(svc.rt.store);
        const code = onPostgres ? '57P03' : 'SQLITE_IOERR_WRITE';
        svc.rt.store.transaction = async () => {
          throw Object.assign(new Error('the database system is not accepting connections'), { code });
        };
        await expectProblem(await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(2000) }]), 503, 'DATABASE_UNAVAILABLE');
        svc.rt.store.transaction = transaction;
        expect(blobFiles(svc.dataDir).temp).to.deep.equal([]);
        expect(blobFiles(svc.dataDir).objects, 'no document bytes kept for a refused submission').to.deep.equal([]);
      } finally {
        await svc.close();
      }
    });
  });
});

/** A TCP proxy in front of PostgreSQL that can be cut (every connection dropped, new ones refused) and restored. */
async function tcpProxy(target: URL): Promise<{ rewrite: (url: string) => string; cut: () => void; restore: () => void; close: () => void }> {
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    rewrite: (url) => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut: () => {
      down = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore: () => {
      down = false;
    },
    close: () => server.close(),
  };
}
