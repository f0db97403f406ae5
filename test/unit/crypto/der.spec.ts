import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import {
  DerError,
  bitString,
  boolean,
  generalizedTime,
  integer,
  namedBitString,
  octetString,
  oid,
  readDer,
  readInteger,
  readOid,
  readTime,
  sequence,
  setOf,
  utcTime,
} from '../../../src/crypto/der.js';
import { derToPem, pemToDer } from '../../../src/crypto/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('crypto/der: writer', () => {
  it('encodes INTEGERs in two’s complement, shortest form (X.690 §8.3)', () => {
    const cases: [bigint, string][] = [
      [0n, '020100'],
      [127n, '02017f'],
      [128n, '02020080'],
      [256n, '02020100'],
      [-1n, '0201ff'],
      [-128n, '020180'],
      [-129n, '0202ff7f'],
      [2n ** 64n, '0209010000000000000000'],
    ];
    for (const [value, expected] of cases) {
      expect(hex(integer(value)), String(value)).to.equal(expected);
      expect(readInteger(readDer(integer(value)))).to.equal(value);
    }
  });

  it('encodes OBJECT IDENTIFIERs and reads them back', () => {
    expect(hex(oid('1.2.840.113549.1.7.2'))).to.equal('06092a864886f70d010702');
    for (const o of ['2.5.4.3', '1.2.840.10045.4.3.2', '2.16.840.1.101.3.4.2.1', '2.999.3', '1.3.6.1.5.5.7.3.8']) {
      expect(readOid(readDer(oid(o)))).to.equal(o);
    }
  });

  it('drops trailing zero bits of named bit lists (X.690 §11.2.2)', () => {
    expect(hex(namedBitString([0]))).to.equal('03020780'); // digitalSignature
    expect(hex(namedBitString([0, 1]))).to.equal('030206c0'); // + nonRepudiation
    expect(hex(namedBitString([5, 6]))).to.equal('03020106'); // keyCertSign + cRLSign
    expect(hex(namedBitString([15]))).to.equal('0303000001'); // unacceptedPolicy
    expect(hex(namedBitString([16]))).to.equal('030407000080'); // unacceptedExtension
  });

  it('writes GeneralizedTime fractions without trailing zeros and UTCTime without fractions', () => {
    const text = (b: Uint8Array) => Buffer.from(readDer(b).content).toString('latin1');
    expect(text(generalizedTime(new Date('2026-03-04T05:06:07.120Z'), true))).to.equal('20260304050607.12Z');
    expect(text(generalizedTime(new Date('2026-03-04T05:06:07.000Z'), true))).to.equal('20260304050607Z');
    expect(text(generalizedTime(new Date('2026-03-04T05:06:07.999Z'), false))).to.equal('20260304050607Z');
    expect(text(utcTime(new Date('2049-12-31T23:59:59.500Z')))).to.equal('491231235959Z');
    expect(() => utcTime(new Date('2050-01-01T00:00:00Z'))).to.throw(RangeError);
    expect(readTime(readDer(generalizedTime(new Date('2026-03-04T05:06:07.001Z'), true))).toISOString()).to.equal('2026-03-04T05:06:07.001Z');
    expect(readTime(readDer(utcTime(new Date('1999-01-02T03:04:05Z')))).toISOString()).to.equal('1999-01-02T03:04:05.000Z');
  });

  it('sorts SET OF components by their encodings (X.690 §11.6)', () => {
    const set = setOf([octetString(Uint8Array.of(2)), integer(5), octetString(Uint8Array.of(1, 1))]);
    expect(hex(set)).to.equal('310a' + '020105' + '040102' + '04020101');
  });

  it('produces what asn1js re-encodes byte for byte', () => {
    const value = sequence(integer(-300n), boolean(true), bitString(Uint8Array.of(0xa0), 5), oid('1.2.3.4'), setOf([integer(2), integer(1)]), generalizedTime(new Date(), true));
    const parsed = asn1js.fromBER(value);
    expect(parsed.offset).to.equal(value.length);
    expect(hex(new Uint8Array(parsed.result.toBER()))).to.equal(hex(value));
  });
});

describe('crypto/der: strict reader', () => {
  const rejects = (h: string) => expect(() => readDer(fromHex(h)), h).to.throw(DerError);

  it('accepts DER', () => {
    expect(readDer(fromHex('3006020101010100')).children).to.have.length(2);
  });

  it('rejects BER forms a DER re-encoder would change', () => {
    rejects('3080020101 0000'); // indefinite length
    rejects('308103020101'); // long form for a short length
    rejects('30820003020101'); // length with a leading zero octet
    rejects('2408 0402 6162 0402 6364'); // constructed OCTET STRING
    rejects('010101'); // BOOLEAN TRUE not FF
    rejects('02020001'); // INTEGER with a superfluous leading zero
    rejects('0202ff80'); // INTEGER with a superfluous leading FF
    rejects('3106 020102 020101'); // unsorted SET OF
    rejects('030201ff'); // BIT STRING with a non-zero unused bit
    rejects('06022a86'); // OID whose last octet says "more follows"
    rejects('06032a8001'); // OID subidentifier with a leading 0x80 octet
    rejects('170c' + Buffer.from('260101000000').toString('hex')); // UTCTime without its Z
    rejects('050000'); // trailing octets
    rejects('050100'); // NULL with contents
    rejects('1f2000'); // high tag number
    rejects('30'); // truncated
    rejects('3005 0201'); // runs past the end
  });

  it('rejects a GeneralizedTime fraction with a trailing zero (X.690 §11.7)', () => {
    const text = Buffer.from('20260101000000.10Z');
    expect(() => readDer(new Uint8Array([0x18, text.length, ...text]))).to.throw(DerError);
  });

  it('refuses deeply nested input with DerError, not a stack overflow', () => {
    const depth = 100_000;
    const deep = new Uint8Array(depth * 2);
    for (let i = 0; i < depth; i++) {
      deep[i * 2] = 0x30;
      deep[i * 2 + 1] = 0x80;
    }
    expect(() => readDer(deep)).to.throw(DerError);
    let nested: Uint8Array = Uint8Array.of(0x05, 0x00);
    for (let i = 0; i < 100; i++) nested = sequence(nested);
    expect(() => readDer(nested)).to.throw(DerError, /nesting/);
    expect(() => readDer(nested, { maxDepth: 200 })).not.to.throw();
  });

  it('refuses random bytes without throwing anything but DerError', () => {
    for (let i = 0; i < 500; i++) {
      const random = new Uint8Array(randomBytes(1 + (i % 64)));
      try {
        readDer(random);
      } catch (err) {
        expect(err).to.be.instanceOf(DerError);
      }
    }
  });
});

describe('crypto/pem', () => {
  it('round-trips DER through PEM (RFC 7468) and filters by label', () => {
    const der = new Uint8Array(randomBytes(100));
    const pem = derToPem(der, 'CERTIFICATE') + derToPem(Uint8Array.of(1, 2, 3), 'PRIVATE KEY');
    expect(pem.split('\n')[1]).to.have.length(64);
    expect(pemToDer(pem).map(hex)).to.deep.equal([hex(der), '010203']);
    expect(pemToDer(pem, 'CERTIFICATE').map(hex)).to.deep.equal([hex(der)]);
    expect(pemToDer(pem, 'X509 CRL')).to.deep.equal([]);
  });

  it('refuses invalid base64', () => {
    expect(() => pemToDer('-----BEGIN CERTIFICATE-----\nAB*D\n-----END CERTIFICATE-----\n')).to.throw(DerError);
  });
});
