import { expect } from 'chai';
import { parseIdempotencyKey } from '../../../dev/ebox-simulator/EboxSimulator.js';
import { Faults, type PublicationFault } from '../../../dev/ebox-simulator/Faults.js';
import { seededRandom } from '../../../dev/ebox-simulator/Prng.js';
import { readPublicationMetadata } from '../../../dev/ebox-simulator/PublicationMetadata.js';
import { decodeEventCursor, encodeEventCursor } from '../../../dev/ebox-simulator/SimulatorState.js';

const NOW = Date.parse('2026-03-01T00:00:00Z');

describe('e-Box simulator: seeded randomness and faults', () => {
  it('the same seed gives the same sequence, another seed another', () => {
    const take = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(take(42)).to.deep.equal(take(42));
    expect(take(42)).not.to.deep.equal(take(43));
    for (const x of take(7)) expect(x).to.be.within(0, 1 - Number.EPSILON);
  });

  it('failure rate 0 never fails, 1 always fails, and both reproduce with the seed', () => {
    const never = new Faults({ failureRate: 0 }, 1, () => NOW);
    expect(Array.from({ length: 100 }, () => never.nextPublicationFault()).filter(Boolean)).to.have.length(0);
    const draws = (seed: number) => {
      const f = new Faults({ failureRate: 1 }, seed, () => NOW);
      return Array.from({ length: 200 }, () => f.nextPublicationFault());
    };
    const a = draws(5);
    expect(a.every((x) => x !== undefined)).to.equal(true);
    expect(new Set(a)).to.deep.equal(new Set<PublicationFault>(['unavailable', 'internal-error', 'destroy-after-store']));
    expect(draws(5)).to.deep.equal(a);
  });

  it('queued failures come first and are counted', () => {
    const f = new Faults({ failureRate: 0 }, 1, () => NOW);
    f.failNext('destroy-after-store');
    f.failNext('unavailable', 2);
    expect([f.nextPublicationFault(), f.nextPublicationFault(), f.nextPublicationFault(), f.nextPublicationFault()]).to.deep.equal([
      'destroy-after-store',
      'unavailable',
      'unavailable',
      undefined,
    ]);
    expect(f.injected).to.deep.equal({ unavailable: 2, 'internal-error': 0, 'destroy-after-store': 1 });
  });

  it('the rate limit refuses past the rate and refills with the clock', () => {
    let now = NOW;
    const f = new Faults({ maxRequestsPerSecond: 2 }, 1, () => now);
    expect([f.takeRequest(), f.takeRequest()]).to.deep.equal([{ allowed: true }, { allowed: true }]);
    expect(f.takeRequest()).to.deep.equal({ allowed: false, retryAfterSeconds: 1 });
    now += 500;
    expect(f.takeRequest()).to.deep.equal({ allowed: true });
    expect(f.takeRequest().allowed).to.equal(false);
    f.update({ maxRequestsPerSecond: null });
    expect(f.takeRequest()).to.deep.equal({ allowed: true });
  });

  it('jitter stays within [latency, latency + jitter]', () => {
    const f = new Faults({ latencyMs: 50, jitterMs: 20 }, 3, () => NOW);
    for (let i = 0; i < 100; i++) expect(f.delayMs()).to.be.within(50, 70);
  });

  it('refuses settings out of range', () => {
    expect(() => new Faults({ failureRate: 1.5 }, 1, () => NOW)).to.throw(RangeError);
    expect(() => new Faults({ latencyMs: -1 }, 1, () => NOW)).to.throw(RangeError);
    expect(() => new Faults({ maxRequestsPerSecond: 0 }, 1, () => NOW)).to.throw(RangeError);
  });
});

describe('e-Box simulator: publication metadata', () => {
  const digest = { algorithm: 'SHA-256', value: 'AB'.repeat(32) };
  const valid = () => ({
    recipient: { eboxType: 'citizen', ssin: '85073003328' },
    subject: { nl: 'Aangetekende zending', fr: 'Envoi recommandé' },
    messageTypeId: 'REGISTERED_MAIL',
    senderApplicationId: 'app-1',
    registeredMail: true,
    expirationDate: '2026-03-15T00:00:00Z',
    attachments: [
      { httpPartName: 'main', isMainContent: true, mediaType: 'application/pdf', digest },
      { httpPartName: 'annex', isMainContent: false, digest },
    ],
  });

  it('reads a valid publication, digests in lower case', () => {
    const r = readPublicationMetadata(valid(), NOW);
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.metadata.recipient).to.deep.equal({ eboxType: 'citizen', id: '85073003328' });
    expect(r.metadata.attachments.map((a) => a.sha256)).to.deep.equal(['ab'.repeat(32), 'ab'.repeat(32)]);
  });

  const broken: Array<[string, (m: ReturnType<typeof valid>) => unknown]> = [
    ['an SSIN with a wrong check', (m) => ({ ...m, recipient: { eboxType: 'citizen', ssin: '85073003329' } })],
    ['an enterprise without its number', (m) => ({ ...m, recipient: { eboxType: 'enterprise', ssin: '85073003328' } })],
    ['no subject', (m) => ({ ...m, subject: {} })],
    ['an unknown language', (m) => ({ ...m, subject: { es: 'hola' } })],
    ['registeredMail as a string', (m) => ({ ...m, registeredMail: 'true' })],
    ['an expiration in the past', (m) => ({ ...m, expirationDate: '2026-02-01' })],
    ['7 attachments', (m) => ({ ...m, attachments: Array.from({ length: 7 }, (_, i) => ({ httpPartName: `p${i}`, isMainContent: i === 0, digest })) })],
    ['two main contents', (m) => ({ ...m, attachments: m.attachments.map((a) => ({ ...a, isMainContent: true })) })],
    ['a repeated part name', (m) => ({ ...m, attachments: m.attachments.map((a) => ({ ...a, httpPartName: 'x' })) })],
    ['a digest of another algorithm', (m) => ({ ...m, attachments: m.attachments.map((a) => ({ ...a, digest: { algorithm: 'SHA-1', value: 'ab'.repeat(20) } })) })],
    ['an attachment without digest', (m) => ({ ...m, attachments: m.attachments.map((a) => ({ ...a, digest: undefined })) })],
  ];
  for (const [label, change] of broken) {
    it(`refuses ${label}`, () => {
      expect(readPublicationMetadata(change(valid()), NOW).ok).to.equal(false);
    });
  }
});

describe('e-Box simulator: Idempotency-Key header and event cursor', () => {
  it('reads RFC 8941 strings and, leniently, bare values', () => {
    expect(parseIdempotencyKey('"abc-123"')).to.equal('abc-123');
    expect(parseIdempotencyKey('"a\\"b\\\\c"')).to.equal('a"b\\c');
    expect(parseIdempotencyKey('abc-123')).to.equal('abc-123');
  });

  it('refuses a missing, empty, malformed or overlong key', () => {
    for (const h of [undefined, '', '""', '"open', '"bad \\x"', 'two words', `"${'k'.repeat(256)}"`]) {
      expect(parseIdempotencyKey(h), String(h)).to.equal(undefined);
    }
  });

  it('cursors round-trip and garbage is refused', () => {
    expect(decodeEventCursor(encodeEventCursor(42))).to.equal(42);
    expect(decodeEventCursor('not-a-cursor')).to.equal(undefined);
  });
});
