/**
 * OutboundPolicy: which addresses a sender's webhook may make the service connect to.
 * Ranges from RFC 6890 (IPv4/IPv6 special-purpose registries), RFC 4291 §2.5.5 (IPv4
 * embedded in IPv6), RFC 6052 (NAT64), RFC 6598 (CGNAT).
 */
import type { LookupAddress } from 'node:dns';
import { expect } from 'chai';
import { OutboundPolicy, TargetForbiddenError, UnresolvedHostError, type Resolver } from '../../../src/net/OutboundPolicy.js';

describe('OutboundPolicy', () => {
  const policy = new OutboundPolicy();

  const refused: Array<[string, string]> = [
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'], // benchmarking, RFC 2544
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'ipv4Mapped:loopback'],
    ['::ffff:7f00:1', 'ipv4Mapped:loopback'],
    ['::ffff:10.1.2.3', 'ipv4Mapped:private'],
    ['::ffff:169.254.169.254', 'ipv4Mapped:linkLocal'],
    ['::7f00:1', 'ipv4Compatible'],
    ['::a00:1', 'ipv4Compatible'],
    ['64:ff9b::7f00:1', 'nat64:loopback'],
    ['64:ff9b::a9fe:a9fe', 'nat64:linkLocal'],
    ['64:ff9b:1::a00:1', 'rfc6052'], // local-use NAT64 prefix: refused whole
    ['::ffff:0:7f00:1', 'rfc6145'],
    ['2002:7f00:1::', '6to4'],
    ['2002:808:808::1', '6to4'], // even a public embedding: 6to4 is refused whole
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    ['2001:2::1', 'benchmarking'],
    ['2001:db8::1', 'reserved'],
    ['100::1', 'discard'],
    ['4000::1', 'notGlobalUnicast'],
    ['not-an-address', 'invalid'],
  ];
  for (const [address, range] of refused) {
    it(`refuses ${address} (${range})`, () => {
      expect(policy.classify(address)).to.deep.equal({ address, range, allowed: false, allowListed: false });
    });
  }

  const allowed = ['8.8.8.8', '93.184.215.14', '1.1.1.1', '100.63.255.255', '100.128.0.1', '172.32.0.1', '2a00:1450:4001:80b::200e', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'];
  for (const address of allowed) {
    it(`allows the public address ${address}`, () => {
      expect(policy.classify(address)).to.include({ allowed: true, allowListed: false, range: 'unicast' });
    });
  }

  it('an allow-list opens exactly the ranges it names, an embedded IPv4 matching as itself', () => {
    const dev = new OutboundPolicy({ allow: ['127.0.0.0/8', '::1/128', '10.1.2.3'] });
    expect(dev.classify('127.0.0.1')).to.include({ allowed: true, allowListed: true, range: 'loopback' });
    expect(dev.classify('127.200.0.1').allowed).to.equal(true);
    expect(dev.classify('::ffff:127.0.0.1').allowed).to.equal(true);
    expect(dev.classify('::1').allowed).to.equal(true);
    expect(dev.classify('10.1.2.3').allowed).to.equal(true);
    expect(dev.classify('10.1.2.4').allowed).to.equal(false);
    expect(dev.classify('169.254.169.254').allowed).to.equal(false);
    expect(dev.classify('::2').allowed).to.equal(false);
    expect(dev.classify('8.8.8.8')).to.include({ allowed: true, allowListed: false });
  });

  describe('names', () => {
    const answers: Record<string, string[]> = {
      'public.test': ['93.184.215.14', '2606:4700::1111'],
      'mixed.test': ['93.184.215.14', '10.0.0.7'],
      'loopback.test': ['::1'],
      'empty.test': [],
    };
    const resolve: Resolver = async (name) => {
      if (name === 'failing.test') throw Object.assign(new Error('getaddrinfo ENOTFOUND failing.test'), { code: 'ENOTFOUND' });
      if (name === 'hanging.test') return new Promise(() => undefined);
      return (answers[name] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
    const named = new OutboundPolicy({ resolve, resolveTimeoutMs: 50 });

    it('a name is allowed when every address it resolves to is', async () => {
      expect(await named.resolveAllowed('public.test')).to.deep.equal([
        { address: '93.184.215.14', family: 4 },
        { address: '2606:4700::1111', family: 6 },
      ]);
    });

    it('a name with one refused address among public ones is refused, naming it', async () => {
      const err = await named.resolveAllowed('mixed.test').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(TargetForbiddenError);
      expect((err as TargetForbiddenError).refused.map((c) => c.address)).to.deep.equal(['10.0.0.7']);
      expect(await named.resolveAllowed('loopback.test').catch((e: unknown) => e)).to.be.instanceOf(TargetForbiddenError);
    });

    it('a name without an answer, with a resolver error or with no answer in time is unresolved', async () => {
      for (const name of ['empty.test', 'failing.test', 'hanging.test']) {
        expect(await named.resolveAllowed(name).catch((e: unknown) => e), name).to.be.instanceOf(UnresolvedHostError);
      }
    });

    it('IP literals, bracketed or not, are judged without resolving', async () => {
      const never = new OutboundPolicy({ resolve: () => Promise.reject(new Error('must not resolve')) });
      expect(await never.resolveAllowed('[2606:4700::1111]')).to.deep.equal([{ address: '2606:4700::1111', family: 6 }]);
      expect(await never.resolveAllowed('[::1]').catch((e: unknown) => e)).to.be.instanceOf(TargetForbiddenError);
      expect(await never.resolveAllowed('127.0.0.1').catch((e: unknown) => e)).to.be.instanceOf(TargetForbiddenError);
    });

    const lookup = (host: string, options: { family?: number; all?: boolean }) =>
      new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>((resolve) =>
        named.lookup(host, options, (err, address, family) => resolve({ err, address, family })),
      );

    it('lookup answers in both shapes net.connect asks for, honouring the family', async () => {
      expect(await lookup('public.test', { all: true })).to.deep.include({ err: null, address: [{ address: '93.184.215.14', family: 4 }, { address: '2606:4700::1111', family: 6 }] });
      expect(await lookup('public.test', { all: false })).to.deep.include({ err: null, address: '93.184.215.14', family: 4 });
      expect(await lookup('public.test', { family: 6 })).to.deep.include({ err: null, address: '2606:4700::1111', family: 6 });
      expect((await lookup('public.test', { family: 6, all: true })).address).to.deep.equal([{ address: '2606:4700::1111', family: 6 }]);
    });

    it('lookup refuses before any connection when an address is refused', async () => {
      expect((await lookup('mixed.test', { all: true })).err).to.be.instanceOf(TargetForbiddenError);
      expect((await lookup('loopback.test', { family: 4 })).err).to.be.instanceOf(TargetForbiddenError);
      expect((await lookup('failing.test', {})).err).to.be.instanceOf(UnresolvedHostError);
      expect((await lookup('loopback.test', {})).err).to.be.instanceOf(TargetForbiddenError);
    });
  });
});
