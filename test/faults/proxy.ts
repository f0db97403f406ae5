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

  async start(): Promise<this> {
    this.server = net.createServer((client) => {
      if (this.down) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client);
      this.sockets.add(upstream);
      client.pipe(upstream).pipe(client);
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
