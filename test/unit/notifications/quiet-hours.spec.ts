/**
 * Quiet hours in the recipient's local time (QuietHours.ts): when the window that holds at a
 * given instant ends, across midnight and across the daylight-saving changes of 2026
 * (Brussels: 29 March 02:00 CET → 03:00 CEST, 25 October 03:00 CEST → 02:00 CET; New York:
 * 8 March). Every case passes its own fixed "now": nothing reads the clock.
 */
import { expect } from 'chai';
import { COUNTRY_TIME_ZONES, instantsOf, isTimeZone, parseQuietHours, quietUntil, recipientTimeZone } from '../../../src/notifications/QuietHours.js';

const at = (iso: string) => Date.parse(iso);
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
const NIGHT = { start: '21:00', end: '08:00' };

describe('quiet hours', () => {
  describe('the end of the window that holds now (Europe/Brussels)', () => {
    const cases: Array<[string, string, { start: string; end: string }, string | undefined]> = [
      ['summer afternoon: not quiet', '2026-06-15T12:00:00Z', NIGHT, undefined],
      ['summer evening 22:30 CEST: until 08:00 CEST next morning', '2026-06-15T20:30:00Z', NIGHT, '2026-06-16T06:00:00.000Z'],
      ['summer night 05:00 CEST: until 08:00 the same morning', '2026-06-16T03:00:00Z', NIGHT, '2026-06-16T06:00:00.000Z'],
      ['start is inside: 21:00 CEST exactly', '2026-06-15T19:00:00Z', NIGHT, '2026-06-16T06:00:00.000Z'],
      ['end is not: 08:00 CEST exactly', '2026-06-16T06:00:00Z', NIGHT, undefined],
      ['winter evening 22:30 CET', '2026-01-10T21:30:00Z', NIGHT, '2026-01-11T07:00:00.000Z'],
      ['a day window 12:00–14:00 at 12:30 CET', '2026-01-10T11:30:00Z', { start: '12:00', end: '14:00' }, '2026-01-10T13:00:00.000Z'],
      ['a day window, outside it', '2026-01-10T13:30:00Z', { start: '12:00', end: '14:00' }, undefined],
      // the night of 28 to 29 March: entered at 22:30 CET (+01:00), left at 08:00 CEST (+02:00)
      ['spring-forward night: 22:30 CET → 08:00 CEST', '2026-03-28T21:30:00Z', NIGHT, '2026-03-29T06:00:00.000Z'],
      ['spring-forward night, after the change (04:00 CEST)', '2026-03-29T02:00:00Z', NIGHT, '2026-03-29T06:00:00.000Z'],
      // the night of 24 to 25 October: entered at 22:30 CEST, left at 08:00 CET
      ['fall-back night: 22:30 CEST → 08:00 CET', '2026-10-24T20:30:00Z', NIGHT, '2026-10-25T07:00:00.000Z'],
      ['fall-back night, in the repeated hour (02:30 CET)', '2026-10-25T01:30:00Z', NIGHT, '2026-10-25T07:00:00.000Z'],
      // an end that the spring-forward gap swallows (02:30 does not exist): the first instant after it
      ['end 02:30 in the gap: 03:00 CEST', '2026-03-28T22:00:00Z', { start: '22:00', end: '02:30' }, '2026-03-29T01:00:00.000Z'],
      // an end that happens twice on the fall-back night: the first one ahead
      ['end 02:30 twice: the first (CEST)', '2026-10-24T21:00:00Z', { start: '22:00', end: '02:30' }, '2026-10-25T00:30:00.000Z'],
      ['end 02:30 twice, now 02:10 CET (second pass): the second', '2026-10-25T01:10:00Z', { start: '22:00', end: '02:30' }, '2026-10-25T01:30:00.000Z'],
    ];
    for (const [name, now, quiet, want] of cases) {
      it(name, () => {
        const got = quietUntil(at(now), 'Europe/Brussels', quiet);
        expect(iso(got)).to.equal(want);
        if (got !== undefined) expect(got).to.be.greaterThan(at(now));
      });
    }
  });

  it('in another zone: New York on the night clocks go forward (8 March 2026)', () => {
    // 21:30 EST (-05:00) on 7 March → 08:00 EDT (-04:00) on 8 March
    expect(iso(quietUntil(at('2026-03-08T02:30:00Z'), 'America/New_York', NIGHT))).to.equal('2026-03-08T12:00:00.000Z');
    // the same instant in Brussels is 03:30 CET: quiet until 08:00 CET
    expect(iso(quietUntil(at('2026-03-08T02:30:00Z'), 'Europe/Brussels', NIGHT))).to.equal('2026-03-08T07:00:00.000Z');
  });

  it('local wall-clock times to instants: none in the gap (the change itself), two in the repeated hour', () => {
    expect(instantsOf('Europe/Brussels', 2026, 3, 29, 2, 30).map((t) => new Date(t).toISOString())).to.deep.equal(['2026-03-29T01:00:00.000Z']);
    expect(instantsOf('Europe/Brussels', 2026, 10, 25, 2, 30).map((t) => new Date(t).toISOString())).to.deep.equal(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
    expect(instantsOf('Europe/Brussels', 2026, 7, 1, 8, 0).map((t) => new Date(t).toISOString())).to.deep.equal(['2026-07-01T06:00:00.000Z']);
  });

  it("the recipient's zone: the contact's own, else the number's country where it has one zone, else the default", () => {
    expect(recipientTimeZone('America/Toronto', '+32470123456', 'Europe/Brussels')).to.equal('America/Toronto');
    expect(recipientTimeZone(null, '+31612345678', 'Europe/Brussels')).to.equal('Europe/Amsterdam');
    expect(recipientTimeZone(null, '+447400123456', 'Europe/Brussels')).to.equal('Europe/London');
    expect(recipientTimeZone(null, '+34612345678', 'Europe/Brussels'), 'Spain has the Canaries').to.equal('Europe/Brussels');
    expect(recipientTimeZone(null, '+12015550123', 'Europe/Paris'), 'the US has several').to.equal('Europe/Paris');
    expect(recipientTimeZone(null, null, 'Europe/Berlin')).to.equal('Europe/Berlin');
    for (const zone of Object.values(COUNTRY_TIME_ZONES)) expect(isTimeZone(zone), zone).to.equal(true);
  });

  it('checks the setting: HH:MM, different start and end, null for none', () => {
    expect(parseQuietHours(null)).to.deep.equal({ ok: true, value: null });
    expect(parseQuietHours({ start: '21:00', end: '08:00' })).to.deep.equal({ ok: true, value: { start: '21:00', end: '08:00' } });
    for (const bad of [{ start: '21:00' }, { start: '24:00', end: '08:00' }, { start: '9:00', end: '08:00' }, { start: '08:00', end: '08:00' }, { start: '21:00', end: '08:00', tz: 'x' }, 'night', [], 1]) {
      expect(parseQuietHours(bad).ok, JSON.stringify(bad)).to.equal(false);
    }
    expect(isTimeZone('Europe/Brussels')).to.equal(true);
    expect(isTimeZone('Mars/Olympus_Mons')).to.equal(false);
    expect(isTimeZone('')).to.equal(false);
  });
});
