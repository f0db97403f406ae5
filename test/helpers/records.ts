/**
 * Time-travel fixtures for the auditor's side of evidence records: in-memory development PKIs
 * made at chosen dates (their leaf certificates last ten years from then), proofs sealed by
 * the service's own Sealer with a TSA on a fixed clock, and RFC 4998 records over the proofs'
 * bytes, time-stamped and renewed by TSAs at chosen dates.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_EVIDENCE_POLICY_OID, DEFAULT_TSA_POLICY_OID } from '../../src/config.js';
import { createDevPki, createEvidenceRecords, encodeEvidenceRecord, LocalTimeStamper, parseEvidenceRecord, renewTimeStamp, TimeStampAuthority, type DevPki, type SigningIdentity } from '../../src/crypto/index.js';
import { buildStatement, canonicalStatementBytes, type EvidenceStatement } from '../../src/domain/EvidenceStatement.js';
import { Sealer } from '../../src/registered-mail/sealing.js';

export const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest());

/** A development PKI whose certificates are valid from about `from` for ten years (the root twenty). */
export function pkiAt(from: string): Promise<DevPki> {
  return createDevPki('ECDSA-P256', { now: new Date(from) });
}

/** A time-stamper of `pki`'s TSA whose clock always says `at`. */
export function stamperAt(tsa: SigningIdentity, at: string): LocalTimeStamper {
  return new LocalTimeStamper(new TimeStampAuthority(tsa, { policyOid: DEFAULT_TSA_POLICY_OID, accuracyMs: 1, clock: () => new Date(at) }));
}

export interface SealedProof {
  der: Uint8Array;
  /** The decoded statement as `export` writes it (canonical JSON). */
  statementJson: string;
  messageId: string;
  evidenceId: string;
}

/** The statement of test SubmissionAcceptance number `n`, its events at `at`. */
export function acceptanceStatement(n: number, at: Date, issuerName = 'Registered Mail Trust Service (evidence record test)', label = 'ERS'): EvidenceStatement {
  const id = String(n).padStart(12, '0');
  return buildStatement({
    evidenceId: `00000000-0000-4000-8000-${id}`,
    type: 'SubmissionAcceptance',
    eventTime: at,
    policyOid: DEFAULT_EVIDENCE_POLICY_OID,
    issuerName,
    sender: { id: `${label.toLowerCase()}-sender`, name: 'Archive Institution', reference: `REF-${label}-${n}` },
    recipient: { type: 'citizen', id: '85073003328' },
    submissionTime: at,
    messageId: `10000000-0000-4000-8000-${id}`,
    subject: { nl: 'Uw beslissing', fr: 'Votre décision' },
    documents: [{ partName: 'main', fileName: 'letter.pdf', mediaType: 'application/pdf', size: 1000, isMain: true, sha256: 'ab'.repeat(32) }],
    previousEvidenceSha256: null,
  });
}

/** A SubmissionAcceptance proof sealed by `seal`, time-stamped by `tsa` at `genTime` (signed a second before). */
export async function sealProof(seal: SigningIdentity, tsa: SigningIdentity, genTime: string, n: number): Promise<SealedProof> {
  const signingTime = new Date(new Date(genTime).getTime() - 1000);
  const id = String(n).padStart(12, '0');
  const statement = acceptanceStatement(n, signingTime);
  const sealer = new Sealer(seal, stamperAt(tsa, genTime));
  const der = (await sealer.seal(statement, signingTime)).der;
  return { der, statementJson: new TextDecoder().decode(canonicalStatementBytes(statement)), messageId: `10000000-0000-4000-8000-${id}`, evidenceId: `00000000-0000-4000-8000-${id}` };
}

/**
 * One tree over the proofs (leaf = SHA-256 of each proof file), time-stamped by `first` at its
 * date, then renewed by each of `renewals` in turn (RFC 4998 §5.2) once for the tree: a
 * renewal covers only the earlier time-stamps, which every record of the tree shares, so the
 * one new ArchiveTimeStamp is appended to each record. The records, in the proofs' order,
 * after every step (`steps[0]` unrenewed, `steps[k]` after k renewals).
 */
export async function recordsFor(proofs: readonly Uint8Array[], first: { tsa: SigningIdentity; at: string }, renewals: ReadonlyArray<{ tsa: SigningIdentity; at: string }> = []): Promise<Uint8Array[][]> {
  const steps: Uint8Array[][] = [(await createEvidenceRecords(proofs.map(sha256), stamperAt(first.tsa, first.at))).records];
  for (const r of renewals) {
    const previous = steps[steps.length - 1]!;
    const renewed = await renewTimeStamp(previous[0]!, stamperAt(r.tsa, r.at));
    const ats = parseEvidenceRecord(renewed).chains[0]!.at(-1)!.der;
    steps.push(previous.map((record) => encodeEvidenceRecord([[...parseEvidenceRecord(record).chains[0]!.map((a) => a.der), ats]])));
  }
  return steps;
}

/** A copy of `bytes` with the first occurrence of `value` changed in its last octet. */
export function flipIn(bytes: Uint8Array, value: Uint8Array): Uint8Array {
  const at = Buffer.from(bytes).indexOf(Buffer.from(value));
  if (at < 0) throw new Error('value not found');
  const out = Uint8Array.from(bytes);
  out[at + value.length - 1]! ^= 0x01;
  return out;
}
