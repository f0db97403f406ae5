import { expect } from 'chai';
import { isValidInsz, isValidKbo, normaliseIdentifier } from '../../src/domain/identifiers.js';

describe('Belgian identifiers (mod-97)', () => {
  it('accepts INSZ/NISS numbers born before and after 2000', () => {
    expect(isValidInsz('85073003328')).to.equal(true);
    expect(isValidInsz('17073003384')).to.equal(true); // check computed over 2 + first 9 digits
    expect(isValidInsz('85.07.30-033.28')).to.equal(true);
  });

  it('refuses a wrong check digit, a wrong length, letters, an impossible month', () => {
    expect(isValidInsz('85073003329')).to.equal(false);
    expect(isValidInsz('17073003383')).to.equal(false);
    expect(isValidInsz('8507300332')).to.equal(false);
    expect(isValidInsz('850730033281')).to.equal(false);
    expect(isValidInsz('8507300332a')).to.equal(false);
    // month 13 with a matching check digit is still refused
    const body = '851330033';
    const cc = String(97 - Number(BigInt(body) % 97n)).padStart(2, '0');
    expect(isValidInsz(body + cc)).to.equal(false);
  });

  it('accepts BIS numbers (month + 20 or + 40)', () => {
    for (const month of ['27', '47']) {
      const body = `85${month}30033`;
      const cc = String(97 - Number(BigInt(body) % 97n)).padStart(2, '0');
      expect(isValidInsz(body + cc), body + cc).to.equal(true);
    }
  });

  it('accepts KBO/BCE numbers and refuses bad ones', () => {
    expect(isValidKbo('0403019261')).to.equal(true);
    expect(isValidKbo('0428759497')).to.equal(true);
    expect(isValidKbo('0428.759.497')).to.equal(true);
    expect(isValidKbo('0403019262')).to.equal(false);
    expect(isValidKbo('2403019261')).to.equal(false); // must start with 0 or 1
    expect(isValidKbo('403019261')).to.equal(false);
  });

  it('refuses numbers whose check digits are right but that are no one\'s: INSZ serial 000 or 999, KBO 00000000xx', () => {
    const insz = (body: string) => body + String(97 - Number(BigInt(body) % 97n)).padStart(2, '0');
    expect(isValidInsz('00000000097')).to.equal(false);
    expect(isValidInsz(insz('850730000'))).to.equal(false);
    expect(isValidInsz(insz('850730999'))).to.equal(false);
    expect(isValidInsz(insz('850730001'))).to.equal(true);
    expect(isValidInsz(insz('850730998'))).to.equal(true);
    expect(isValidInsz(insz('000000001')), 'an unknown birth date is allowed').to.equal(true);
    expect(isValidKbo('0000000097')).to.equal(false);
  });

  it('normalises separators', () => {
    expect(normaliseIdentifier(' 0428.759.497 ')).to.equal('0428759497');
  });
});
