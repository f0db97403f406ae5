/**
 * The HTTP(S) server in front of the express app, with its limits set rather than left to
 * Node's defaults: time to send the headers (slow-header attacks), time to send a whole
 * request, time a connection may stay silent, keep-alive, number of connections and of
 * header lines. With TLS_CERT_FILE/TLS_KEY_FILE the service terminates TLS itself (the key
 * file's permissions checked as for the sealing key); with TLS_CLIENT_CA_FILE it asks
 * clients for a certificate, which authenticates a sender when it chains to that CA and is
 * registered to the sender (src/http/auth.ts). Clients without one (API keys, recipients,
 * the TSA) are still served.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { RequestListener } from 'node:http';
import type { HttpConfig } from '../config.js';
import { readPrivateFile } from '../crypto/index.js';

export type HttpServer = http.Server | https.Server;

export async function createHttpServer(handler: RequestListener, config: HttpConfig): Promise<HttpServer> {
  let server: HttpServer;
  // how often Node checks the header and request timeouts (its default, 30 s, would let a slow client run over by that much)
  const connectionsCheckingInterval = Math.max(250, Math.min(30_000, Math.floor(config.headersTimeoutMs / 4)));
  if (config.tls) {
    const { certFile, keyFile, clientCaFile } = config.tls;
    server = https.createServer(
      {
        cert: await fs.readFile(certFile),
        key: await readPrivateFile(keyFile),
        minVersion: 'TLSv1.2',
        connectionsCheckingInterval,
        ...(clientCaFile ? { ca: await fs.readFile(clientCaFile), requestCert: true, rejectUnauthorized: false } : {}),
      },
      handler,
    );
  } else {
    server = http.createServer({ connectionsCheckingInterval }, handler);
  }
  server.headersTimeout = config.headersTimeoutMs;
  server.requestTimeout = config.requestTimeoutMs;
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.maxHeadersCount = 100;
  server.maxConnections = config.maxConnections;
  server.setTimeout(config.idleTimeoutMs, (socket) => socket.destroy());
  return server;
}

/** Listens on host:port; resolves with the port (PORT=0 picks one). */
export function listen(server: HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
