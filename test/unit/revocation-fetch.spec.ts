/**
 * The CRL fetcher of the sealer (src/registered-mail/revocation.ts) against the development
 * PKI publisher on loopback: the outbound policy, the size cap, the cache kept until shortly
 * before nextUpdate, a failed refresh falling back to the cached CRL while it is in force.
 */
import { expect } from 'chai';
import { DevPkiPublisher } from '../../dev/pki-publisher/DevPkiPublisher.js';
import { createDevPki, issueDevCrl, type DevPki } from '../../src/crypto/index.js';
import { OutboundPolicy } from '../../src/net/OutboundPolicy.js';
import { CrlFetcher, RevocationError } from '../../src/registered-mail/revocation.js';

const HOUR = 3_600_000;

describe('CRL fetcher (revocation data at sealing)', function () {
  this.timeout(30_000);
  let publisher: DevPkiPublisher;
  let pki: DevPki;
  let now: Date;
  const allowed = new OutboundPolicy({ allow: ['127.0.0.1/32'] });
  const fetcher = (options: Partial<ConstructorParameters<typeof CrlFetcher>[0]> = {}) =>
    new CrlFetcher({ policy: allowed, timeoutMs: 2000, maxBytes: 1024 * 1024, now: () => now, ...options });

  before(async () => {
    publisher = new DevPkiPublisher(() => pki.crl);
    await publisher.start(0, '127.0.0.1');
    pki = await createDevPki('ECDSA-P256', { crlUrl: null });
  });
  after(() => publisher.stop());

  it('refuses loopback unless the allow-list names it', async () => {
    now = new Date();
    const err = await fetcher({ policy: new OutboundPolicy() }).get(publisher.crlUrl).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RevocationError);
    expect((err as RevocationError).code).to.equal('UNAVAILABLE');
    expect((err as Error).message).to.match(/TARGET_FORBIDDEN/);
  });

  it('refuses a CRL larger than the cap', async () => {
    now = new Date();
    const err = await fetcher({ maxBytes: 64 }).get(publisher.crlUrl).catch((e: unknown) => e);
    expect((err as RevocationError).code).to.equal('UNAVAILABLE');
  });

  it('an answer that is not a CRL, or an error status, is UNAVAILABLE', async () => {
    now = new Date();
    publisher.publish(() => Buffer.from('not a crl'));
    try {
      expect(((await fetcher().get(publisher.crlUrl).catch((e: unknown) => e)) as Error).message).to.match(/not a DER CRL/);
    } finally {
      publisher.publish(() => pki.crl);
    }
    publisher.down = true;
    try {
      expect(((await fetcher().get(publisher.crlUrl).catch((e: unknown) => e)) as Error).message).to.match(/HTTP 503/);
    } finally {
      publisher.down = false;
    }
  });

  it('keeps a CRL until shortly before its nextUpdate, then fetches the next; a failed refresh keeps the old one while in force', async () => {
    const start = new Date();
    now = start;
    await issueDevCrl(pki, { thisUpdate: start, nextUpdate: new Date(start.getTime() + 10 * HOUR) });
    const f = fetcher();
    const served = publisher.served;
    const first = await f.get(publisher.crlUrl);
    expect(first.crlNumber).to.equal(pki.crlNumber);
    // concurrent and later calls before the refresh point: no request
    await Promise.all([f.get(publisher.crlUrl), f.get(publisher.crlUrl)]);
    now = new Date(start.getTime() + 8 * HOUR);
    expect((await f.get(publisher.crlUrl)).crlNumber).to.equal(first.crlNumber);
    expect(publisher.served).to.equal(served + 1);
    // within the last tenth of its validity: fetched again
    await issueDevCrl(pki, { thisUpdate: now, nextUpdate: new Date(now.getTime() + 10 * HOUR) });
    now = new Date(start.getTime() + 9.5 * HOUR);
    const second = await f.get(publisher.crlUrl);
    expect(second.crlNumber).to.equal(first.crlNumber! + 1n);
    expect(publisher.served).to.equal(served + 2);
    // the next refresh fails: the cached CRL stays in use until its nextUpdate, not after
    publisher.down = true;
    try {
      now = new Date(start.getTime() + 17.5 * HOUR);
      expect((await f.get(publisher.crlUrl)).crlNumber).to.equal(second.crlNumber);
      now = new Date(start.getTime() + 18.5 * HOUR);
      expect(((await f.get(publisher.crlUrl).catch((e: unknown) => e)) as RevocationError).code).to.equal('UNAVAILABLE');
    } finally {
      publisher.down = false;
    }
  });
});
