import { expect } from 'chai';
import { EboxError } from '../../../src/registered-mail/ebox/EboxAdapter.js';
import { readEventsPage } from '../../../src/registered-mail/ebox/HttpEboxAdapter.js';

const read = (publicationId: string, idempotencyKey: string | undefined, occurredAt = '2026-03-01T10:00:00.000Z') => ({
  eventId: `e-${publicationId}`,
  type: 'readDocument',
  publicationId,
  ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
  occurredAt,
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(EboxError);
    expect((err as EboxError).permanent).to.equal(false);
    return (err as EboxError).code;
  }
  return undefined;
}

describe('e-Box event feed page', () => {
  it('maps readDocument events to handovers, in order, keyed by the idempotency key', () => {
    const page = readEventsPage({
      items: [read('p1', 'm1'), read('p2', 'm2', '2026-03-02T08:30:00Z')],
      next: 'c2',
    });
    expect(page).to.deep.equal({
      events: [
        { depositId: 'm1', eboxMessageId: 'p1', readAt: new Date('2026-03-01T10:00:00.000Z') },
        { depositId: 'm2', eboxMessageId: 'p2', readAt: new Date('2026-03-02T08:30:00Z') },
      ],
      next: 'c2',
      itemCount: 2,
      skipped: 0,
    });
  });

  it('skips other event types and publications made without a key', () => {
    const page = readEventsPage({
      items: [
        { eventId: 'e0', type: 'newDocument', publicationId: 'p1', idempotencyKey: 'm1', occurredAt: '2026-03-01T09:00:00Z' },
        { eventId: 'e1', type: 'documentExpirationAlert', publicationId: 'p1', occurredAt: '2026-03-01T09:00:00Z' },
        read('p9', undefined),
        read('p1', 'm1'),
      ],
      next: 'c4',
    });
    expect(page.events.map((e) => e.depositId)).to.deep.equal(['m1']);
    expect(page).to.include({ next: 'c4', itemCount: 4, skipped: 3 });
  });

  it('an empty feed has no next cursor, or keeps the one given', () => {
    expect(readEventsPage({ items: [], next: null })).to.deep.equal({ events: [], next: undefined, itemCount: 0, skipped: 0 });
    expect(readEventsPage({ items: [], next: 'c7' }).next).to.equal('c7');
  });

  it('refuses a page it cannot read rather than skip past events', () => {
    expect(codeOf(() => readEventsPage({ events: [] }))).to.equal('EBOX_UNAVAILABLE');
    expect(codeOf(() => readEventsPage({ items: [read('p1', 'm1')] }))).to.equal('EBOX_UNAVAILABLE');
    expect(codeOf(() => readEventsPage({ items: [read('p1', 'm1')], next: 3 }))).to.equal('EBOX_UNAVAILABLE');
    expect(codeOf(() => readEventsPage({ items: [read('p1', 'm1', 'yesterday')], next: 'c1' }))).to.equal('EBOX_UNAVAILABLE');
    expect(codeOf(() => readEventsPage({ items: [{ eventId: 'x' }], next: 'c1' }))).to.equal('EBOX_UNAVAILABLE');
  });
});
