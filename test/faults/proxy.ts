/**
 * A TCP proxy that can be cut: every connection through it dropped at once and new ones
 * refused, until it is restored. Put in front of PostgreSQL it makes a database outage
 * without stopping the server the other users of this machine share; in front of a
 * simulator (e-Box, SMS, GovApp) it makes a provider that is down — connection refused —
 * while the simulator keeps its records.
 */
import net from 'node:net';

export class CuttableProxy {
  private readonly sockets = new Set<net.Socket>();
  private down = false;
  private server: net.Server | undefined;
  port = 0;
  /** how many times it was cut */
  cuts = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): CuttableProxy {
    const u = new URL(url);
    const port = Number(u.port || (u.protocol.startsWith('postgres') ? 5432 : u.protocol === 'https:' ? 443 : 80));
    return new CuttableProxy(u.hostname === 'localhost' ? '127.0.0.1' : u.hostname, port);
  }

  /** armed by cutAtAnswer: the cut waits for the server's answer to a statement or transaction holding this text */
  private trap: { marker: Buffer; commit: boolean; resolve: () => void } | undefined;

  /**
   * Cuts at the worst moment for the client: when the server answers a statement whose SQL
   * text holds `marker` (PostgreSQL wire protocol: the text travels in clear in Query and
   * Parse messages) — or, with `commit`, the COMMIT of a transaction that held such a
   * statement. The server has done it (an autocommit statement or a COMMIT is durable before
   * it is answered); the client never hears so. Resolves when the cut is made.
   */
  cutAtAnswer(marker: string, opts: { commit: boolean }): Promise<void> {
    return new Promise((resolve) => (this.trap = { marker: Buffer.from(marker), commit: opts.commit, resolve }));
  }

  /** Disarms cutAtAnswer. */
  disarm(): void {
    this.trap = undefined;
  }

  async start(): Promise<this> {
    this.server = net.createServer((client) => {
      if (this.down) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client);
      this.sockets.add(upstream);
      // both ways by hand, to catch a trapped answer
      let wroteMarker = false;
      let answerDue: (() => void) | undefined;
      client.on('data', (chunk: Buffer) => {
        const trap = this.trap;
        if (trap && chunk.includes(trap.marker)) wroteMarker = true;
        const end = transactionEnd(chunk);
        if (trap && wroteMarker && (trap.commit ? end === 'COMMIT' : true)) {
          this.trap = undefined;
          answerDue = trap.resolve;
        }
        if (end) wroteMarker = false;
        if (!upstream.write(chunk)) client.pause();
      });
      upstream.on('data', (chunk: Buffer) => {
        if (answerDue) {
          // the server has done it and says so: the client never hears it
          const resolve = answerDue;
          answerDue = undefined;
          this.cut();
          resolve();
          return;
        }
        if (!client.write(chunk)) upstream.pause();
      });
      upstream.on('drain', () => client.resume());
      client.on('drain', () => upstream.resume());
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
  }

  get isCut(): boolean {
    return this.down;
  }

  /** Drops every connection and refuses new ones. */
  cut(): void {
    this.down = true;
    this.cuts++;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** COMMIT or ROLLBACK when `chunk` holds such a simple-protocol Query message (PostgreSQL frontend message 'Q'). */
function transactionEnd(chunk: Buffer): 'COMMIT' | 'ROLLBACK' | undefined {
  for (let i = chunk.indexOf(0x51); i >= 0 && i + 5 < chunk.length; i = chunk.indexOf(0x51, i + 1)) {
    const length = chunk.readUInt32BE(i + 1);
    const m = /^\s*(COMMIT|ROLLBACK)\s*;?\s*\0?$/i.exec(chunk.subarray(i + 5, i + 1 + length).toString('latin1'));
    if (m) return m[1]!.toUpperCase() as 'COMMIT' | 'ROLLBACK';
  }
  return undefined;
}
