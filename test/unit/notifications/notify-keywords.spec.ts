/** The opt-out keywords (src/notifications/inbound/Keywords.ts): whole-reply matches, case, accents and spaces ignored. */
import { expect } from 'chai';
import { canonicalKeyword, KEYWORDS, matchKeyword } from '../../../src/notifications/inbound/Keywords.js';

describe('opt-out keywords', () => {
  const cases: Array<[string, string | undefined]> = [
    ['STOP', 'OPT_OUT'],
    ['stop', 'OPT_OUT'],
    [' Stop! ', 'OPT_OUT'],
    ['S T O P', 'OPT_OUT'],
    ['Stop.', 'OPT_OUT'],
    ['ARRET', 'OPT_OUT'],
    ['Arrêt', 'OPT_OUT'],
    ['arre\u0302t', 'OPT_OUT'], // decomposed ê
    ['STOPP', 'OPT_OUT'],
    ['afmeld', 'OPT_OUT'],
    ['Uitschrijven', 'OPT_OUT'],
    ['ＳＴＯＰ', 'OPT_OUT'], // full-width letters (NFKD)
    ['STOP ALL', 'OPT_OUT_ALL'],
    ['stop alle', 'OPT_OUT_ALL'],
    ['Stop  allé', 'OPT_OUT_ALL'],
    ['STOP-ALLE', 'OPT_OUT_ALL'],
    ['stopalles', 'OPT_OUT_ALL'],
    ['Stop tout', 'OPT_OUT_ALL'],
    ['ARRÊT TOUT', 'OPT_OUT_ALL'],
    ['STOPP ALLE', 'OPT_OUT_ALL'],
    ['AFMELD ALLE', 'OPT_OUT_ALL'],
    ['start', 'OPT_IN'],
    ['Tilmeld', 'OPT_IN'],
    ['START ALLE', 'OPT_IN_ALL'],
    ['start tout', 'OPT_IN_ALL'],
    // ordinary replies
    ['please stop sending', undefined],
    ['stop it', undefined],
    ['stopper', undefined],
    ['Merci', undefined],
    ['', undefined],
    ['!!!', undefined],
    ['STOP '.repeat(20), undefined],
  ];
  for (const [text, action] of cases) {
    it(`${JSON.stringify(text)} → ${action ?? 'an ordinary reply'}`, () => {
      expect(matchKeyword(text)).to.equal(action);
    });
  }

  it('every keyword of the list matches itself, and no word is listed under two actions', () => {
    const seen = new Map<string, string>();
    for (const [action, words] of Object.entries(KEYWORDS)) {
      for (const { word } of words) {
        expect(matchKeyword(word), word).to.equal(action);
        expect(matchKeyword(word.toLowerCase()), word).to.equal(action);
        const c = canonicalKeyword(word);
        expect(seen.get(c), `${word} also under ${seen.get(c)}`).to.equal(undefined);
        seen.set(c, action);
      }
    }
    expect(canonicalKeyword('Arrêt tout !')).to.equal('ARRETTOUT');
  });
});
