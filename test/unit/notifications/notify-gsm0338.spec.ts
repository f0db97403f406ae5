/**
 * SMS counting per 3GPP TS 23.038 (GSM 03.38): GSM-7 160 / 153 per part, extension
 * characters two septets and never split; anything outside the alphabet makes the text
 * UCS-2, 70 / 67 per part. Test strings in the four languages.
 */
import { expect } from 'chai';
import { analyseSms, gsm7Septets, isGsm7, splitSms, transliterateToGsm7 } from '../../../src/notifications/sms/Gsm0338.js';

describe('GSM 03.38 SMS counting', () => {
  const cases: Array<[string, string, 'GSM-7' | 'UCS-2', number, number]> = [
    // [language, text, encoding, units, parts]
    ['nl', 'Uw aangetekende zending staat in uw e-Box.', 'GSM-7', 42, 1],
    ['nl', 'Welkom in België', 'UCS-2', 16, 1], // ë is not in GSM 03.38
    ['nl', 'Open ze vóór 22/12/2026', 'UCS-2', 23, 1], // ó neither
    ['fr', 'Votre décision est prête à être consultée.', 'UCS-2', 42, 1], // ê forces UCS-2; é and à alone would not
    ['fr', 'Votre décision est là : consultez-la.', 'GSM-7', 37, 1],
    ['fr', 'Reçu', 'UCS-2', 4, 1], // ç is not in the alphabet (only Ç is)
    ['de', 'Grüße aus Köln: Öffnen Sie Ihre e-Box.', 'GSM-7', 38, 1], // ü ß ö Ö are
    ['de', 'Einschreiben: Frist läuft ab.', 'GSM-7', 29, 1],
    ['en', 'Price: €5 [draft]', 'GSM-7', 20, 1], // € [ ] take two septets each
    ['en', 'Pipes | and ~tildes~ and {braces} and \\ and ^', 'GSM-7', 45 + 7, 1], // 45 characters, 7 of them two septets
  ];
  for (const [lang, text, encoding, units, parts] of cases) {
    it(`${lang}: ${JSON.stringify(text)} is ${encoding}, ${units} units, ${parts} part(s)`, () => {
      expect(analyseSms(text)).to.deep.include({ encoding, units, parts });
    });
  }

  it('counts € [ ] ^ { } \\ | ~ and form feed as two septets, and every basic character as one', () => {
    for (const ch of '€[]^{}\\|~\f') expect(gsm7Septets(ch), ch).to.equal(2);
    for (const ch of '@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà\n\r aZ09') expect(gsm7Septets(ch), ch).to.equal(1);
    for (const ch of 'ëêïçóÈ`’😀') expect(gsm7Septets(ch), ch).to.equal(undefined);
  });

  it('GSM-7: 160 septets in one SMS; above that 153 per part', () => {
    expect(analyseSms('a'.repeat(160))).to.deep.include({ parts: 1, perPart: 160 });
    expect(analyseSms('a'.repeat(161))).to.deep.include({ parts: 2, perPart: 153 });
    expect(analyseSms('a'.repeat(306))).to.deep.include({ parts: 2 });
    expect(analyseSms('a'.repeat(307))).to.deep.include({ parts: 3 });
    expect(analyseSms('€'.repeat(80))).to.deep.include({ units: 160, parts: 1 });
    expect(analyseSms('€'.repeat(81))).to.deep.include({ units: 162, parts: 2 });
  });

  it('never splits an escape pair across parts', () => {
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(10);
    expect(splitSms(text).map((p) => p.length)).to.deep.equal([152, 11]);
    // 152 + 2 + 151 = 305 septets would fit 2 × 153 if the pair could be cut; it cannot
    expect(analyseSms('a'.repeat(152) + '€' + 'b'.repeat(152)).parts).to.equal(3);
  });

  it('UCS-2: 70 code units in one SMS; above that 67 per part; surrogate pairs count two and are not split', () => {
    expect(analyseSms('ë'.repeat(70))).to.deep.include({ encoding: 'UCS-2', parts: 1, perPart: 70 });
    expect(analyseSms('ë'.repeat(71))).to.deep.include({ parts: 2, perPart: 67 });
    expect(analyseSms('😀'.repeat(35))).to.deep.include({ units: 70, parts: 1 });
    // 72 units: "xx" + 32 emoji fill 66; the 33rd would need units 67 and 68, so it starts part 2
    expect(splitSms('xx' + '😀'.repeat(35)).map((p) => p.length)).to.deep.equal([66, 6]);
  });

  it("UCS-2 split as Kannel does ('code-units'): every part 67 code units, a surrogate pair at the boundary cut", () => {
    const emojiAtBoundary = 'a'.repeat(66) + '😀' + 'b'.repeat(133); // 201 units; the pair on units 67 and 68
    expect(analyseSms(emojiAtBoundary)).to.deep.include({ units: 201, parts: 4 }); // whole characters: 66 + 67 + 67 + 1
    expect(analyseSms(emojiAtBoundary, 'code-units')).to.deep.include({ units: 201, parts: 3, perPart: 67 });
    const parts = splitSms(emojiAtBoundary, 'code-units');
    expect(parts.map((p) => p.length)).to.deep.equal([67, 67, 67]);
    expect(parts[0]!.charCodeAt(66)).to.equal(0xd83d); // ends in the high surrogate
    expect(parts[1]!.charCodeAt(0)).to.equal(0xde00); // the next part starts with the low one
    expect(parts.join('')).to.equal(emojiAtBoundary);
    expect(analyseSms(emojiAtBoundary + 'b', 'code-units')).to.deep.include({ units: 202, parts: 4 });
    // the same below the single-SMS limit, and for GSM-7 (an escape pair is never cut either way)
    expect(analyseSms('a'.repeat(68) + '😀', 'code-units')).to.deep.include({ units: 70, parts: 1 });
    expect(analyseSms('ë'.repeat(71), 'code-units')).to.deep.include({ parts: 2 });
    expect(analyseSms('a'.repeat(152) + '€' + 'b'.repeat(152), 'code-units').parts).to.equal(3);
  });

  it('names the characters that force UCS-2', () => {
    expect(analyseSms('België, Reçu, België').nonGsmCharacters).to.deep.equal(['ë', 'ç']);
  });

  describe('transliteration rule (off unless asked for)', () => {
    it('replaces letters outside the alphabet by their base letter and typographic marks by ASCII', () => {
      expect(transliterateToGsm7('België')).to.equal('Belgie');
      expect(transliterateToGsm7('Reçu – « prête » ’s… œuvre')).to.equal('Recu - " prete " \'s... oeuvre');
      expect(transliterateToGsm7('Noël à Liège, ÈVE')).to.equal('Noel à Liège, EVE'); // à and è are GSM-7 and kept; È is not
    });

    it('keeps GSM-7 characters as they are, and gives up when the text cannot become GSM-7', () => {
      expect(transliterateToGsm7('Grüße, Ærø')).to.equal('Grüße, Ærø');
      expect(transliterateToGsm7('Привет België')).to.equal(undefined);
      expect(transliterateToGsm7('België 😀')).to.equal(undefined);
    });

    it('turns a UCS-2 text into GSM-7 with more room', () => {
      const text = 'Votre décision est prête. '.repeat(3);
      expect(analyseSms(text)).to.deep.include({ encoding: 'UCS-2', parts: 2 });
      expect(isGsm7(transliterateToGsm7(text)!)).to.equal(true);
      expect(analyseSms(transliterateToGsm7(text)!)).to.deep.include({ encoding: 'GSM-7', parts: 1 });
    });
  });
});
