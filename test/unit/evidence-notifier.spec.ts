/**
 * EvidenceNotifier: tells the listeners of a message of its new proof, with the message as the
 * proof's transaction committed it, and remembers for 30 seconds which messages it told of
 * (a submission that starts waiting after its proof was announced reads nothing it need not).
 */
import { expect } from 'chai';
import type { MessageRecord } from '../../src/domain/records.js';
import { EvidenceNotifier } from '../../src/registered-mail/evidence.js';

const message = { id: 'm-1', status: 'ACCEPTED' } as MessageRecord;

describe('EvidenceNotifier', () => {
  const realNow = Date.now;
  let now = 1_000_000;
  beforeEach(() => {
    now = 1_000_000;
    Date.now = () => now;
  });
  afterEach(() => {
    Date.now = realNow;
  });

  it('hands the committed message to the listeners of its id, and to no others', () => {
    const n = new EvidenceNotifier();
    const heard: Array<MessageRecord | undefined> = [];
    const other: unknown[] = [];
    n.on('m-1', (m?: MessageRecord) => heard.push(m));
    n.on('m-2', (m?: MessageRecord) => other.push(m));
    n.notify('m-1', message);
    n.notify('m-1');
    expect(heard).to.deep.equal([message, undefined]);
    expect(other).to.deep.equal([]);
  });

  it('remembers a notification for 30 seconds, with its message when it had one', () => {
    const n = new EvidenceNotifier();
    expect(n.notifiedRecently('m-1')).to.equal(undefined);
    n.notify('m-1', message);
    n.notify('m-2');
    expect(n.notifiedRecently('m-1')).to.deep.equal({ message });
    expect(n.notifiedRecently('m-2')).to.deep.equal({ message: undefined });
    now += 30_000;
    expect(n.notifiedRecently('m-1')).to.deep.equal({ message });
    now += 1;
    expect(n.notifiedRecently('m-1')).to.equal(undefined);
  });

  it('forgets what is older than 30 seconds when it is told of another message', () => {
    const n = new EvidenceNotifier();
    n.notify('m-1', message);
    now += 20_000;
    n.notify('m-2');
    now += 20_000;
    n.notify('m-3');
    // m-1 is gone from memory (not only too old), m-2 is kept
    const recent = (n as unknown as { recent: Map<string, unknown> }).recent;
    expect([...recent.keys()]).to.deep.equal(['m-2', 'm-3']);
  });
});
