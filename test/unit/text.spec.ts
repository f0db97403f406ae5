import { expect } from 'chai';
import { unsafeTextReason } from '../../src/domain/text.js';

describe('text a proof may carry', () => {
  it('refuses lone surrogates, directional formatting characters and controls', () => {
    for (const bad of ['a\uD800b', 'a\uDC00', '\uDBFF', 'invoice\u202Efdp.exe', 'x\u2066y\u2069', 'x\u202Ay', 'tab\there', 'nul\u0000', 'del\u007F', 'c1\u0085']) {
      expect(unsafeTextReason(bad), JSON.stringify(bad)).to.be.a('string');
    }
  });

  it('accepts every script, surrogate pairs (emoji) and the implicit direction marks', () => {
    for (const good of ['Uw beslissing', 'Votre décision — été', 'Ihre Entscheidung ß', 'Ваше решение', 'قرارك', 'החלטה שלך', '你的决定', 'Brief 📨', 'a\u200Eb\u200Fc']) {
      expect(unsafeTextReason(good), good).to.equal(undefined);
    }
  });
});
