/**
 * RFC 8785 canonical JSON (src/domain/CanonicalJson.ts): the RFC's own examples, and the same
 * text as the `canonicalize` package (the JCS reference implementation's port the service used
 * before) on generated JSON values: every proof's statement and every event hash depends on it.
 */
import { expect } from 'chai';
import canonicalize from 'canonicalize';
import { seededRandom } from '../../dev/ebox-simulator/Prng.js';
import { canonicalJson } from '../../src/domain/CanonicalJson.js';

const SPECIAL_NUMBERS = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 1e-6, 5e-324, -5e-324, Number.MAX_VALUE, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 2 ** 53, 333333333.3333333, 1e30, 4.5, 0.002, 1e-27, 123456789012345680000, 1.7e-308];
/** code units a generated string is made of: controls, quotes, backslash, Latin-1, BMP, both surrogates alone and paired */
const UNITS = [0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x20, 0x22, 0x27, 0x2f, 0x5c, 0x41, 0x61, 0x31, 0x7f, 0x80, 0xe9, 0xf6, 0x2028, 0x2029, 0x20ac, 0xfb33, 0xfeff, 0xffff, 0xd83d, 0xde00, 0xdbff, 0xdc00];

function generate(next: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const str = () => String.fromCharCode(...Array.from({ length: Math.floor(next() * 6) }, () => pick(UNITS)));
  const kind = Math.floor(next() * (depth > 3 ? 5 : 7));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return next() < 0.5 ? pick(SPECIAL_NUMBERS) : (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
    case 3:
      return str();
    case 4:
      return Math.floor(next() * 2 ** 31) - 2 ** 30;
    case 5:
      return Array.from({ length: Math.floor(next() * 5) }, () => generate(next, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      // now and then more keys than safe-stable-stringify sorts by insertion (200)
      const n = next() < 0.03 ? 201 + Math.floor(next() * 100) : Math.floor(next() * 7);
      for (let i = 0; i < n; i++) o[next() < 0.2 ? String(Math.floor(next() * 300)) : str()] = next() < 0.05 ? undefined : generate(next, depth + 1);
      return o;
    }
  }
}

describe('canonical JSON (RFC 8785)', () => {
  it("writes RFC 8785's example of §3.2.2 as the RFC does", () => {
    const input = JSON.parse('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}');
    expect(canonicalJson(input)).to.equal('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it("sorts keys by UTF-16 code units, RFC 8785's example of §3.2.3", () => {
    const input = JSON.parse('{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}');
    expect(canonicalJson(input)).to.equal('{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
  });

  it("writes the numbers of RFC 8785's Appendix B from their IEEE 754 bits", () => {
    const cases: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, text] of cases) {
      const n = Buffer.from(bits, 'hex').readDoubleBE(0);
      expect(canonicalJson([n]), bits).to.equal(`[${text}]`);
    }
  });

  it('gives the same text as the canonicalize package on 5,000 generated JSON values', () => {
    // seeded: a failure names a value that can be made again
    const next = seededRandom(8785);
    for (let i = 0; i < 5000; i++) {
      const value = generate(next, 0);
      expect(canonicalJson(value), `value ${i}`).to.equal(canonicalize(value));
      // and what JSON.parse makes of a value's plain JSON
      const reparsed = JSON.parse(JSON.stringify(value) ?? 'null');
      expect(canonicalJson(reparsed), `value ${i}, parsed`).to.equal(canonicalize(reparsed));
    }
  });

  it('honours toJSON (a Date), leaves out undefined members, writes undefined in arrays as null', () => {
    const at = new Date(Date.UTC(2026, 11, 6, 1, 2, 3, 4));
    expect(canonicalJson({ b: [undefined, 1], a: at, c: undefined })).to.equal('{"a":"2026-12-06T01:02:03.004Z","b":[null,1]}');
    expect(canonicalJson(undefined)).to.equal(undefined);
  });

  it('refuses what JSON cannot carry: NaN, Infinity, a BigInt, a function, a circular value', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    for (const bad of [NaN, { n: Infinity }, [-Infinity], { big: 10n }, { f: () => 1 }, circular]) {
      expect(() => canonicalJson(bad)).to.throw();
    }
  });
});
