import { expect } from 'chai';
import { ADDRESS_DIGEST_METHOD, buildStatement, canonicalStatementBytes, statementProblems, type NotificationDetails } from '../../src/domain/EvidenceStatement.js';

const input = {
  evidenceId: '5b1f0e2c-3f7a-4b6e-9d58-1c2b3a4d5e6f',
  type: 'SubmissionAcceptance' as const,
  eventTime: new Date('2026-11-22T10:00:00.123Z'),
  policyOid: '2.25.1',
  issuerName: 'Issuer',
  sender: { id: 's1', name: 'Sender', reference: null },
  recipient: { type: 'citizen' as const, id: '85073003328' },
  submissionTime: new Date('2026-11-22T10:00:00.123Z'),
  messageId: 'm1',
  subject: { fr: 'Décision', nl: 'Beslissing' },
  documents: [{ partName: 'main', fileName: 'a.pdf', mediaType: 'application/pdf', size: 3, isMain: true, sha256: 'a'.repeat(64) }],
  previousEvidenceSha256: null,
};

describe('evidence statement', () => {
  it('uses ETSI EN 319 522 names and event URIs', () => {
    const s = buildStatement(input);
    expect(s.ERDSEventId).to.equal('http://uri.etsi.org/19522/Event/SubmissionAcceptance');
    expect(s.EvidenceIssuerPolicyID).to.deep.equal(['urn:oid:2.25.1']);
    expect(s.RecipientDetails.Scheme).to.equal('INSZ');
    expect(statementProblems(s)).to.deep.equal([]);
  });

  it('canonicalises with RFC 8785: sorted keys, no spaces, UTF-8', () => {
    const text = new TextDecoder().decode(canonicalStatementBytes(buildStatement(input)));
    expect(text.startsWith('{"Documents":[{"DigestMethod":')).to.equal(true);
    expect(text).to.contain('"MessageSubject":{"fr":"Décision","nl":"Beslissing"}');
    expect(text).not.to.match(/\s"|":\s/);
  });

  it('reports schema problems by field', () => {
    expect(statementProblems(null)).to.have.length(1);
    const s = JSON.parse(JSON.stringify(buildStatement(input)));
    s.Documents[0].DigestValue = 'xyz';
    s.ERDSEventId = 'http://example.org/Other';
    const problems = statementProblems(s);
    expect(problems.some((p) => p.includes('Documents[0]'))).to.equal(true);
    expect(problems.some((p) => p.includes('ERDSEventId'))).to.equal(true);
  });
});

describe('evidence statement: NotificationDetails (NotificationForAcceptance)', () => {
  const details: NotificationDetails = {
    NotificationIdentifier: '0b7d1c9e-2f44-4d0a-9a51-6f3e8c2d1b70',
    Deliveries: [
      {
        Channel: 'SMS',
        SentTime: '2026-11-22T10:01:00.000Z',
        AddressDigest: { DigestMethod: ADDRESS_DIGEST_METHOD, KeyIdentifier: '0123456789abcdef', DigestValue: 'b'.repeat(64) },
      },
    ],
  };
  const notice = { ...input, type: 'NotificationForAcceptance' as const, notification: details };

  it('carries the notification id, the channel and the keyed digest of the address', () => {
    const s = buildStatement(notice);
    expect(s.NotificationDetails).to.deep.equal(details);
    expect(statementProblems(s)).to.deep.equal([]);
    expect(buildStatement(input)).not.to.have.property('NotificationDetails');
  });

  it('belongs to NotificationForAcceptance only, and is checked field by field', () => {
    expect(() => buildStatement({ ...input, notification: details })).to.throw(TypeError);
    const bad = JSON.parse(JSON.stringify(buildStatement(notice)));
    bad.NotificationDetails.Deliveries[0].Channel = 'FAX';
    bad.NotificationDetails.Deliveries[0].AddressDigest.DigestMethod = 'http://www.w3.org/2001/04/xmlenc#sha256';
    bad.NotificationDetails.Deliveries[0].SentTime = 'yesterday';
    const problems = statementProblems(bad);
    expect(problems.filter((p) => p.startsWith('NotificationDetails.Deliveries[0]'))).to.have.length(3);
    const moved = JSON.parse(JSON.stringify(buildStatement(notice)));
    moved.ERDSEventId = 'http://uri.etsi.org/19522/Event/ContentConsignment';
    expect(statementProblems(moved)).to.deep.equal(['NotificationDetails belong to NotificationForAcceptance only']);
    const empty = JSON.parse(JSON.stringify(buildStatement(notice)));
    empty.NotificationDetails.Deliveries = [];
    expect(statementProblems(empty)).to.have.length(1);
  });
});
