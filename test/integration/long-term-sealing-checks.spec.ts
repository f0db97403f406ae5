/**
 * CAdES-B-LT sealing (src/registered-mail/revocation.ts, LongTermSealing): every proof of one
 * sealing key and one TSA carries the same certification paths and the same CRL, so their
 * signatures are checked for the first proof, not again for each proof; a CRL fetched anew is
 * checked again. The signature checks are counted at the WebCrypto the sealer is given; the CRL
 * is served over HTTP where the certificates' distribution point names it.
 */
import http from 'node:http';
import { webcrypto } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { DEFAULT_TSA_POLICY_OID } from '../../src/config.js';
import { createDevPki, issueDevCrl, LocalTimeStamper, TimeStampAuthority, type DevPki } from '../../src/crypto/index.js';
import { parseSignedData } from '../../src/crypto/SignedData.js';
import { OutboundPolicy } from '../../src/net/OutboundPolicy.js';
import { CrlFetcher, LongTermSealing } from '../../src/registered-mail/revocation.js';
import { Sealer } from '../../src/registered-mail/sealing.js';
import { acceptanceStatement } from '../helpers/records.js';

describe('CAdES-B-LT sealing checks each CRL and path once, not for each proof', function () {
  this.timeout(60_000);
  let server: http.Server;
  let pki: DevPki;
  let crlRequests = 0;
  let verifies = 0;

  /** node's WebCrypto, with its signature checks counted */
  const counting = {
    getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
    randomUUID: webcrypto.randomUUID.bind(webcrypto),
    subtle: new Proxy(webcrypto.subtle, {
      get(target, key) {
        if (key === 'verify') {
          return (...args: Parameters<SubtleCrypto['verify']>) => {
            verifies++;
            return target.verify(...args);
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }),
  } as unknown as Crypto;

  before(async () => {
    server = http.createServer((_req, res) => {
      crlRequests++;
      res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(Buffer.from(pki.crl));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    pki = await createDevPki('ECDSA-P256', { crlUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/root.crl` });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const statement = (n: number) => acceptanceStatement(n, new Date(), 'Registered Mail Trust Service (B-LT test)', 'LT');

  it('verifies signatures for the first proof only; every proof carries the paths and the CRL', async () => {
    const fetcher = new CrlFetcher({ policy: new OutboundPolicy({ allow: ['127.0.0.1/32'] }), timeoutMs: 2000, maxBytes: 1024 * 1024 });
    const longTerm = new LongTermSealing(fetcher, counting);
    const sealer = new Sealer(pki.seal, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: DEFAULT_TSA_POLICY_OID, accuracyMs: 1 })), { longTerm });
    try {
      const first = await sealer.seal(statement(1), new Date());
      const afterFirst = verifies;
      // the paths of both certificates, and the CRL for each
      expect(afterFirst).to.be.greaterThan(0);
      const proofs = [first];
      for (let n = 2; n <= 6; n++) proofs.push(await sealer.seal(statement(n), new Date()));
      expect(verifies, 'signature checks after the first proof').to.equal(afterFirst);
      expect(crlRequests).to.equal(1);
      for (const p of proofs) {
        const sd = parseSignedData(p.der);
        expect(sd.crls.map((c) => Buffer.from(c).equals(Buffer.from(pki.crl)))).to.deep.equal([true]);
        // root, sealing and TSA certificates
        expect(sd.certificates).to.have.length(3);
      }

    } finally {
      await sealer.close();
    }
  });

  it('a CRL fetched anew is checked again', async () => {
    const fetcher = new CrlFetcher({ policy: new OutboundPolicy({ allow: ['127.0.0.1/32'] }), timeoutMs: 2000, maxBytes: 1024 * 1024 });
    const longTerm = new LongTermSealing(fetcher, counting);
    const sealer = new Sealer(pki.seal, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: DEFAULT_TSA_POLICY_OID, accuracyMs: 1 })), { longTerm });
    try {
      await sealer.seal(statement(7), new Date());
      const before = verifies;
      // the next CRL, fetched anew
      await issueDevCrl(pki);
      const kept = await fetcher.get(String(new URL('/root.crl', `http://127.0.0.1:${(server.address() as AddressInfo).port}`)), true);
      expect(Buffer.from(kept.der).equals(Buffer.from(pki.crl))).to.equal(true);
      const proof = await sealer.seal(statement(8), new Date());
      expect(verifies, 'the new CRL\'s signature is checked').to.be.greaterThan(before);
      expect(parseSignedData(proof.der).crls.map((c) => Buffer.from(c).equals(Buffer.from(pki.crl)))).to.deep.equal([true]);
    } finally {
      await sealer.close();
    }
  });
});
