/** The SMS sender ID rule (src/notifications/sms/SenderId.ts) and Kannel's inbound encoding. */
import { expect } from 'chai';
import { checkSenderId } from '../../../src/notifications/sms/SenderId.js';
import { kannelInboundText, kannelInboundToken, parseKannelQuery, verifyKannelDlrToken, verifyKannelInboundToken } from '../../../src/notifications/providers/KannelSmsGateway.js';
import { toE164 } from '../../../src/notifications/PhoneNumber.js';

describe('SMS sender IDs', () => {
  const ok: Array<[string, 'alphanumeric' | 'number']> = [
    ['eBox', 'alphanumeric'],
    ['RSZ ONSS', 'alphanumeric'],
    ['ABCDEFGHIJK', 'alphanumeric'], // 11
    ['CPAS 1000', 'alphanumeric'],
    ['8850', 'number'],
    ['123', 'number'],
    ['+32470123456', 'number'],
    ['123456789012345', 'number'], // 15 digits
    ['+123456789012345', 'number'],
  ];
  for (const [id, kind] of ok) {
    it(`accepts ${JSON.stringify(id)} (${kind})`, () => {
      expect(checkSenderId(id)).to.deep.equal({ ok: true, value: id, kind });
    });
  }

  const refused: Array<[unknown, 'SMS_SENDER_ID_TOO_LONG' | 'SMS_SENDER_ID_INVALID']> = [
    ['ABCDEFGHIJKL', 'SMS_SENDER_ID_TOO_LONG'], // 12
    ['1000 Brussel', 'SMS_SENDER_ID_TOO_LONG'],
    ['1234567890123456', 'SMS_SENDER_ID_TOO_LONG'], // 16 digits
    ['+1234567890123456', 'SMS_SENDER_ID_TOO_LONG'],
    ['RSZ-ONSS', 'SMS_SENDER_ID_INVALID'], // not a basic letter, digit or space
    ['Bélgica', 'SMS_SENDER_ID_INVALID'], // é is GSM-7 but not A–Z
    ['ONSS_RSZ', 'SMS_SENDER_ID_INVALID'],
    ['EBOX€', 'SMS_SENDER_ID_INVALID'],
    ['12 34', 'SMS_SENDER_ID_INVALID'], // no letter
    [' RSZ', 'SMS_SENDER_ID_INVALID'],
    ['RSZ ', 'SMS_SENDER_ID_INVALID'],
    ['12', 'SMS_SENDER_ID_INVALID'], // a short code has 3 digits at least
    ['+0321234567', 'SMS_SENDER_ID_INVALID'],
    ['+12345', 'SMS_SENDER_ID_INVALID'],
    ['', 'SMS_SENDER_ID_INVALID'],
    [42, 'SMS_SENDER_ID_INVALID'],
    [null, 'SMS_SENDER_ID_INVALID'],
  ];
  for (const [id, code] of refused) {
    it(`refuses ${JSON.stringify(id)} with ${code}`, () => {
      const r = checkSenderId(id);
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.code).to.equal(code);
    });
  }
});

describe("Kannel's inbound SMS", () => {
  it('reads the get-url query as bytes: %b of a UCS-2 text is UTF-16BE, of a GSM-7 text UTF-8', () => {
    const q = parseKannelQuery('token=abc&from=%2B32470000701&text=%00A%00R%00R%00%CA%00T&coding=2&text=second');
    expect(q.get('from')!.toString('utf8')).to.equal('+32470000701');
    expect(kannelInboundText(q.get('text')!, '2')).to.equal('ARRÊT'); // the first of two
    expect(kannelInboundText(parseKannelQuery('text=Stop+all%C3%A9').get('text')!, '0')).to.equal('Stop allé');
    expect(kannelInboundText(Buffer.from([0x41, 0xe9]), '0')).to.equal('Aé'); // not UTF-8: Latin-1
    expect(kannelInboundText(Buffer.from([0x00, 0x41, 0x00]), '2')).to.equal(undefined);
    expect(kannelInboundText(Buffer.from('x'), '3')).to.equal(undefined);
    expect(kannelInboundText(Buffer.from([0xe9]), '1')).to.equal('é');
  });

  it('the sms-service token: derived from the secret for this purpose only, and no delivery-report token is one', () => {
    const token = kannelInboundToken('s'.repeat(32));
    expect(token).to.match(/^[A-Za-z0-9_-]{22}$/);
    expect(verifyKannelInboundToken('s'.repeat(32), token)).to.equal(true);
    expect(verifyKannelInboundToken('t'.repeat(32), token)).to.equal(false);
    expect(verifyKannelInboundToken('s'.repeat(32), token.slice(0, 21) + (token.endsWith('A') ? 'B' : 'A'))).to.equal(false);
    for (const bad of [undefined, '', 42, `${token}=`, token.slice(1)]) expect(verifyKannelInboundToken('s'.repeat(32), bad)).to.equal(false);
    expect(verifyKannelDlrToken('s'.repeat(32), 'attempt', `${Math.floor(Date.now() / 1000) + 60}.${token}`)).to.not.equal('VALID');
  });

  it('numbers as SMS centres give them become E.164', () => {
    expect(toE164('+32470000701')).to.equal('+32470000701');
    expect(toE164('32470000701')).to.equal('+32470000701');
    expect(toE164('0032470000701')).to.equal('+32470000701');
    expect(toE164('+32 470 00 07 01')).to.equal('+32470000701');
    for (const bad of ['0470000701', 'eBox', '', '+999', '+3247000070199999', undefined, 32470000701]) expect(toE164(bad), String(bad)).to.equal(undefined);
  });
});
