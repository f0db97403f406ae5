/**
 * The URL tokens of Kannel's delivery reports (src/notifications/CallbackSignature.ts):
 * "<exp>.<HMAC of purpose, id and exp>", accepted until the unix second <exp>, refused
 * after it, and refused when anything in it was not computed by us. The clock is a
 * parameter: no waiting.
 */
import { expect } from 'chai';
import { urlToken, UrlTokenCheck, verifyUrlToken } from '../../../src/notifications/CallbackSignature.js';
import { kannelDlrToken, KannelSmsGateway, verifyKannelDlrToken } from '../../../src/notifications/providers/KannelSmsGateway.js';

describe('expiring URL tokens (Kannel delivery reports)', () => {
  const SECRET = 'kannel-dlr-secret-for-unit-tests';
  const ID = '2f1c7a52-8a9b-4c51-9d7e-0b6f3f1e2a44';
  const EXP = 1_900_000_000;

  it('is accepted up to and including its expiry second, refused as EXPIRED after', () => {
    const token = urlToken(SECRET, 'p', ID, EXP);
    expect(token).to.match(/^1900000000\.[A-Za-z0-9_-]{22}$/);
    expect(verifyUrlToken(SECRET, 'p', ID, token, (EXP - 3600) * 1000)).to.equal(UrlTokenCheck.VALID);
    expect(verifyUrlToken(SECRET, 'p', ID, token, EXP * 1000 + 999)).to.equal(UrlTokenCheck.VALID);
    expect(verifyUrlToken(SECRET, 'p', ID, token, (EXP + 1) * 1000)).to.equal(UrlTokenCheck.EXPIRED);
  });

  it('is INVALID when the expiry was moved, or for another id, purpose or secret, or malformed', () => {
    const token = urlToken(SECRET, 'p', ID, EXP);
    const mac = token.split('.')[1]!;
    const now = (EXP - 10) * 1000;
    expect(verifyUrlToken(SECRET, 'p', ID, `${EXP + 86_400}.${mac}`, now)).to.equal(UrlTokenCheck.INVALID);
    expect(verifyUrlToken(SECRET, 'p', ID, `${EXP - 1}.${mac}`, now)).to.equal(UrlTokenCheck.INVALID);
    expect(verifyUrlToken(SECRET, 'p', ID.replace('2f', '3f'), token, now)).to.equal(UrlTokenCheck.INVALID);
    expect(verifyUrlToken(SECRET, 'q', ID, token, now)).to.equal(UrlTokenCheck.INVALID);
    expect(verifyUrlToken(SECRET + 'x', 'p', ID, token, now)).to.equal(UrlTokenCheck.INVALID);
    for (const bad of [undefined, null, 42, ['a'], '', mac, `.${mac}`, `${EXP}.`, `${EXP}.${mac}x`, `-1.${mac}`, `${'9'.repeat(13)}.${mac}`, `${EXP}.${mac.slice(1)}=`]) {
      expect(verifyUrlToken(SECRET, 'p', ID, bad, now), String(bad)).to.equal(UrlTokenCheck.INVALID);
    }
  });

  it('the dlr-url Kannel is given carries a token that expires the configured lifetime after the send', () => {
    const lifetime = 3 * 86_400;
    const gateway = new KannelSmsGateway({
      sendsmsUrl: 'http://127.0.0.1:9/cgi-bin/sendsms',
      username: 'u',
      password: 'p',
      from: 'eBox',
      dlrSecret: SECRET,
      dlrTokenLifetimeSeconds: lifetime,
      timeoutMs: 1000,
      callbackBase: () => 'https://rm.example/',
    });
    const sentAt = (EXP - lifetime) * 1000 + 250;
    const url = new URL(gateway.dlrUrl(ID, sentAt)!);
    expect(url.origin + url.pathname).to.equal('https://rm.example/v1/callbacks/kannel');
    expect(url.searchParams.get('attempt')).to.equal(ID);
    const token = url.searchParams.get('token')!;
    expect(token).to.equal(kannelDlrToken(SECRET, ID, EXP));
    expect(verifyKannelDlrToken(SECRET, ID, token, sentAt + (lifetime - 1) * 1000)).to.equal(UrlTokenCheck.VALID);
    expect(verifyKannelDlrToken(SECRET, ID, token, sentAt + (lifetime + 1) * 1000)).to.equal(UrlTokenCheck.EXPIRED);
  });
});
