/**
 * A sample proof for the receipt benchmark and the README's pictures: a proof of handover of
 * a letter with two documents, sealed by the service's own code.
 */
import { buildStatement, type EvidenceStatement } from '../src/domain/EvidenceStatement.js';
import type { EvidenceRecord } from '../src/domain/records.js';
import type { Sealer } from '../src/registered-mail/sealing.js';

export function sampleHandover(policyOid: string): EvidenceStatement {
  return buildStatement({
    evidenceId: '3f0c2a7e-1b5d-4c8e-9a61-2d7f0e4b9c13',
    type: 'ContentHandover',
    eventTime: new Date('2026-12-02T08:32:20.123Z'),
    policyOid,
    issuerName: 'Registered Mail Trust Service (development)',
    sender: { id: 'rsz-onss', name: 'RSZ — Rijksdienst voor Sociale Zekerheid', reference: 'DOS-2026/004711' },
    recipient: { type: 'citizen', id: '85073003328' },
    submissionTime: new Date('2026-12-01T15:04:05.678Z'),
    messageId: '6a1e9d3c-5b0f-4e2a-8c7d-9f1b2e3a4c5d',
    subject: { nl: 'Beslissing over uw aanvraag', fr: 'Décision concernant votre demande', de: 'Entscheidung über Ihren Antrag', en: 'Decision on your application' },
    documents: [
      { partName: 'main', fileName: 'beslissing-2026-004711.pdf', mediaType: 'application/pdf', size: 102400, isMain: true, sha256: '4f2a6c1e9b8d7a3c5e0f1b2d4c6a8e9f0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e' },
      { partName: 'annex', fileName: 'berekening.pdf', mediaType: 'application/pdf', size: 20480, isMain: false, sha256: '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d' },
    ],
    previousEvidenceSha256: '0b1a2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9',
  });
}

/** The statement sealed now, as the evidence table would hold it. */
export async function sealedRecord(sealer: Sealer, statement: EvidenceStatement): Promise<EvidenceRecord> {
  const sealed = await sealer.seal(statement, new Date());
  return { id: statement.EvidenceIdentifier, messageId: statement.MessageIdentifier, seq: 3, type: 'ContentHandover', statement: sealed.statementText, der: sealed.der, sha256: sealed.sha256, createdAt: new Date().toISOString() };
}
