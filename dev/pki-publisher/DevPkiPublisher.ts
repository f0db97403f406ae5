/**
 * The development PKI's publisher: a node:http server that serves the root's CRL at
 * `/pki/root.crl` (DER, application/pkix-crl), where the development certificates'
 * cRLDistributionPoints point (DEV_CRL_URL, http://127.0.0.1:8079/pki/root.crl), and answers
 * OCSP requests (RFC 6960, POST application/ocsp-request) at `/pki/ocsp`, where their AIA
 * id-ad-ocsp points (DEV_OCSP_URL), signed by the development PKI's delegated OCSP responder.
 * With SEAL_REVOCATION=crl or ocsp the service asks it at sealing (CAdES-B-LT,
 * docs/revocation.md).
 *
 * The on-disk development PKI keeps no root private key (DevPki.ts), so no fresh CRL can be
 * issued for it: the publisher serves the file `root.crl` written with the PKI (read at each
 * request, so a replaced file is served at once; its nextUpdate is ten years on). The OCSP
 * responder's key is on disk (ocsp.key, beside seal.key and tsa.key): its answers are fresh,
 * "revoked" for what that CRL lists, "good" for any other serial of the root. An in-memory PKI,
 * which keeps the root's key, can hand the publisher any CRL it issues (tests).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CRL_REASONS, issueOcspResponse, ocspErrorResponse, parseCrl, readOcspRequest, type CertId, type OcspCertStatus, type OcspResponderIdentity } from '../../src/crypto/index.js';
import { parseCertificate } from '../../src/crypto/Certificate.js';
import { digest } from '../../src/crypto/AlgorithmIdentifier.js';
import { equalBytes } from '../../src/crypto/der.js';
import { readBody } from '../notification-simulators/http.js';

export const CRL_PATH = '/pki/root.crl';
export const OCSP_PATH = '/pki/ocsp';

/** What the OCSP responder needs: its signing identity, the issuer it answers for, and how long an answer holds. */
export interface DevOcspResponder {
  identity: () => OcspResponderIdentity | Promise<OcspResponderIdentity>;
  /** the issuing CA's certificate (DER): requests for another issuer are answered "unknown" */
  issuer: () => Uint8Array;
  /** default one hour */
  validityMs?: number;
}

const MAX_REQUEST_BYTES = 64 * 1024;

export class DevPkiPublisher {
  private server: Server | undefined;
  url = '';
  /** requests answered, for tests and the log */
  served = 0;
  /** while true, every request gets 503 (an outage of the distribution point, for tests) */
  down = false;

  /** OCSP requests answered, for tests */
  ocspServed = 0;

  /**
   * @param crl   the root's current CRL (DER)
   * @param ocsp  the OCSP responder: answers from the CRL's entries ("revoked"), "good" for
   *              any other serial of its issuer, "unknown" for another issuer
   */
  constructor(
    private crl: () => Uint8Array | Promise<Uint8Array>,
    private readonly ocsp?: DevOcspResponder,
  ) {}

  /** Serves another CRL from now on. */
  publish(crl: () => Uint8Array | Promise<Uint8Array>): void {
    this.crl = crl;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === OCSP_PATH && this.ocsp) {
        if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
        if (this.down) return void res.writeHead(503, { 'retry-after': '1' }).end();
        readBody(req, MAX_REQUEST_BYTES)
          .then((body) => this.answerOcsp(body))
          .then(
            (der) => {
              this.ocspServed++;
              res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': der.length }).end(der);
            },
            () => res.writeHead(500).end(),
          );
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
      if (path !== CRL_PATH) return void res.writeHead(404).end();
      if (this.down) return void res.writeHead(503, { 'retry-after': '1' }).end();
      Promise.resolve()
        .then(() => this.crl())
        .then(
          (der) => {
            this.served++;
            res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': der.length, 'cache-control': 'no-cache' }).end(req.method === 'HEAD' ? undefined : der);
          },
          () => res.writeHead(500).end(),
        );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
    return this.url;
  }

  /** RFC 6960: an answer for each CertID of the request, signed by the responder; malformedRequest (1) for anything else. */
  private async answerOcsp(body: Uint8Array): Promise<Uint8Array> {
    const responder = this.ocsp!;
    let request;
    try {
      request = readOcspRequest(body);
    } catch {
      return ocspErrorResponse(1);
    }
    if (request.ids.length === 0) return ocspErrorResponse(1);
    const issuer = parseCertificate(responder.issuer());
    const revoked = parseCrl(await this.crl()).entries.filter((e) => e.reasonCode !== CRL_REASONS.removeFromCRL);
    const now = new Date();
    const status = (id: CertId): OcspCertStatus => {
      const hashes = { name: digest('SHA-1', issuer.subject), key: digest('SHA-1', issuer.publicKey.subjectPublicKey) };
      if (!equalBytes(id.issuerNameHash, hashes.name) || !equalBytes(id.issuerKeyHash, hashes.key)) return { status: 'unknown' };
      const entry = revoked.find((e) => e.serialNumber === id.serialNumber);
      return entry ? { status: 'revoked', revocationTime: entry.revocationDate, ...(entry.reasonCode !== undefined ? { reason: entry.reasonCode } : {}) } : { status: 'good' };
    };
    return issueOcspResponse(
      { ids: request.ids, status, producedAt: now, thisUpdate: now, nextUpdate: new Date(now.getTime() + (responder.validityMs ?? 3_600_000)), ...(request.nonce ? { nonce: request.nonce } : {}) },
      await responder.identity(),
    );
  }

  get ocspUrl(): string {
    return `${this.url}${OCSP_PATH}`;
  }

  get crlUrl(): string {
    return `${this.url}${CRL_PATH}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
