/** Strategies as pure decisions, the registry, and the attempt / notification state machine. */
import { expect } from 'chai';
import { advanceAttempt, overallStatus, type AttemptStatus } from '../../../src/notifications/NotificationStatus.js';
import { builtinStrategies, StrategyRegistry, type NotificationStrategy, type Reachability, type StrategyContext } from '../../../src/notifications/Strategies.js';

function ctx(govapp: Reachability, sms: Reachability): StrategyContext {
  return { reachability: (c) => (c === 'GOVAPP' ? govapp : sms) };
}
const ok: Reachability = { ok: true };
const noApp: Reachability = { ok: false, reason: 'APP_NOT_INSTALLED' };
const noPhone: Reachability = { ok: false, reason: 'NO_PHONE_NUMBER' };

describe('notification strategies (decisions)', () => {
  const registry = builtinStrategies();
  const s = (name: string) => registry.get(name)!;

  it('GOVAPP_FIRST: app if reachable, else SMS as a fallback; a failed push falls back too', () => {
    expect(s('GOVAPP_FIRST').start(ctx(ok, ok))).to.deep.equal({ send: ['GOVAPP'], fallback: [], failed: [] });
    expect(s('GOVAPP_FIRST').start(ctx(noApp, ok))).to.deep.equal({ send: ['SMS'], fallback: [{ channel: 'GOVAPP', reason: 'APP_NOT_INSTALLED' }], failed: [] });
    expect(s('GOVAPP_FIRST').start(ctx(noApp, noPhone))).to.deep.equal({ send: [], fallback: [], failed: [{ channel: 'GOVAPP', reason: 'APP_NOT_INSTALLED' }, { channel: 'SMS', reason: 'NO_PHONE_NUMBER' }] });
    expect(s('GOVAPP_FIRST').failed(ctx(ok, ok), 'GOVAPP', 'PUSH_REJECTED')).to.deep.equal({ send: ['SMS'], fallback: [{ channel: 'GOVAPP', reason: 'PUSH_REJECTED' }], failed: [] });
    expect(s('GOVAPP_FIRST').failed(ctx(ok, ok), 'SMS', 'SMS_REJECTED')).to.deep.equal({ send: [], fallback: [], failed: [{ channel: 'SMS', reason: 'SMS_REJECTED' }] });
  });

  it('GOVAPP_ONLY and SMS_ONLY never use the other channel', () => {
    expect(s('GOVAPP_ONLY').start(ctx(noApp, ok))).to.deep.equal({ send: [], fallback: [], failed: [{ channel: 'GOVAPP', reason: 'APP_NOT_INSTALLED' }] });
    expect(s('GOVAPP_ONLY').failed(ctx(ok, ok), 'GOVAPP', 'X').send).to.deep.equal([]);
    expect(s('SMS_ONLY').start(ctx(ok, ok)).send).to.deep.equal(['SMS']);
    expect(s('SMS_ONLY').start(ctx(ok, noPhone)).failed).to.deep.equal([{ channel: 'SMS', reason: 'NO_PHONE_NUMBER' }]);
  });

  it('SMS_AND_GOVAPP: every reachable channel at once', () => {
    expect(s('SMS_AND_GOVAPP').start(ctx(ok, ok)).send).to.deep.equal(['SMS', 'GOVAPP']);
    expect(s('SMS_AND_GOVAPP').start(ctx(noApp, ok))).to.deep.equal({ send: ['SMS'], fallback: [], failed: [{ channel: 'GOVAPP', reason: 'APP_NOT_INSTALLED' }] });
  });

  it('a new strategy plugs into a registry without touching the channels', () => {
    const smsFirst: NotificationStrategy = {
      name: 'SMS_FIRST',
      description: 'SMS, else GovApp',
      channels: ['SMS', 'GOVAPP'],
      start: (c) => (c.reachability('SMS').ok ? { send: ['SMS'], fallback: [], failed: [] } : { send: ['GOVAPP'], fallback: [{ channel: 'SMS', reason: 'NO_PHONE_NUMBER' }], failed: [] }),
      failed: (_c, channel, reason) => ({ send: [], fallback: [], failed: [{ channel, reason }] }),
    };
    const r = builtinStrategies().register(smsFirst);
    expect(r.names()).to.include('SMS_FIRST');
    expect(r.get('SMS_FIRST')!.start(ctx(ok, noPhone)).send).to.deep.equal(['GOVAPP']);
    expect(() => r.register(smsFirst)).to.throw(/already registered/);
    expect(() => new StrategyRegistry().register({ ...smsFirst, name: 'lower' })).to.throw(/UPPER_SNAKE_CASE/);
  });
});

describe('notification state machine', () => {
  it('moves attempts forward only, whatever order the reports come in', () => {
    expect(advanceAttempt('QUEUED', 'SENT')).to.equal('SENT');
    expect(advanceAttempt('SENT', 'DELIVERED')).to.equal('DELIVERED');
    expect(advanceAttempt('QUEUED', 'DELIVERED')).to.equal('DELIVERED'); // "delivered" before "accepted"
    expect(advanceAttempt('DELIVERED', 'SENT')).to.equal(undefined); // the late "accepted" changes nothing
    expect(advanceAttempt('DELIVERED', 'READ')).to.equal('READ');
    expect(advanceAttempt('READ', 'DELIVERED')).to.equal(undefined);
  });

  it('FAILED and FALLBACK are final; a failure after delivery is ignored', () => {
    expect(advanceAttempt('SENT', 'FAILED')).to.equal('FAILED');
    expect(advanceAttempt('QUEUED', 'FAILED')).to.equal('FAILED');
    expect(advanceAttempt('DELIVERED', 'FAILED')).to.equal(undefined);
    for (const final of ['FAILED', 'FALLBACK'] as const) for (const e of ['SENT', 'DELIVERED', 'READ', 'FAILED'] as const) expect(advanceAttempt(final, e)).to.equal(undefined);
  });

  it('derives the notification status from its attempts', () => {
    const o = (...s: AttemptStatus[]) => overallStatus(s.map((status) => ({ status })));
    expect(o()).to.equal('QUEUED');
    expect(o('QUEUED')).to.equal('QUEUED');
    expect(o('FALLBACK', 'QUEUED')).to.equal('FALLBACK');
    expect(o('FALLBACK', 'SENT')).to.equal('SENT');
    expect(o('FAILED', 'SENT')).to.equal('SENT');
    expect(o('SENT', 'READ')).to.equal('READ');
    expect(o('FALLBACK', 'FAILED')).to.equal('FAILED');
    expect(o('FAILED')).to.equal('FAILED');
  });

  it('CANCELLED and EXPIRED attempts are final; with none alive, EXPIRED before CANCELLED before FAILED', () => {
    for (const final of ['CANCELLED', 'EXPIRED'] as const) for (const e of ['SENT', 'DELIVERED', 'READ', 'FAILED'] as const) expect(advanceAttempt(final, e)).to.equal(undefined);
    const o = (...s: AttemptStatus[]) => overallStatus(s.map((status) => ({ status })));
    expect(o('CANCELLED')).to.equal('CANCELLED');
    expect(o('EXPIRED')).to.equal('EXPIRED');
    expect(o('FAILED', 'CANCELLED')).to.equal('CANCELLED');
    expect(o('FALLBACK', 'EXPIRED')).to.equal('EXPIRED');
    expect(o('SENT', 'EXPIRED'), 'a push sent, its SMS expired').to.equal('SENT');
    expect(o('QUEUED', 'CANCELLED')).to.equal('QUEUED');
  });
});
