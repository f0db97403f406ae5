/**
 * The revocation status of a certificate from CRLs (RFC 5280 §6.3), as the verifier's
 * REVOCATION and TSA_REVOCATION lines use it (docs/revocation.md).
 *
 * A CRL is used for a certificate when: its issuer Name is the certificate's issuer; a
 * certificate with that subject (a trust anchor or one of the proof's certificates) whose key
 * signed the certificate, whose subjectKeyIdentifier matches the certificate's
 * authorityKeyIdentifier (when both are present) and the CRL's authorityKeyIdentifier
 * (likewise), and whose keyUsage (when present) allows cRLSign, verifies the CRL's signature; and it has no critical extension this reader does not
 * process (delta and partitioned CRLs are not used). Other CRLs are ignored, never trusted.
 *
 * The status:
 * - revoked: a CRL used lists the serial number (the earliest revocationDate when several do;
 *   certificateHold counts as revoked; removeFromCRL entries are ignored);
 * - not revoked: no CRL used lists it and one of them is fresh at the validation time: its
 *   nextUpdate is not before it (ETSI EN 319 102-1 §5.2.5 with the default maximum age
 *   nextUpdate − thisUpdate);
 * - unknown: otherwise (no CRL of the issuer, or none fresh) — TRY_LATER.
 */
import { findExtension, subjectString, type CertificateView } from './Certificate.js';
import { readAuthorityKeyIdentifier, readKeyUsage, readSubjectKeyIdentifier } from './CertificateExtensions.js';
import { CRL_REASONS, crlReasonName, type CrlEntry, type CrlView } from './Crl.js';
import { equalBytes } from './der.js';
import { ocspStatusOf, type OcspResponseView } from './Ocsp.js';
import { OID } from './oids.js';
import { verifyBytes } from './Signature.js';

export type RevocationStatus =
  | { status: 'good'; crl?: CrlView; ocsp?: OcspResponseView; detail: string }
  | { status: 'revoked'; entry: CrlEntry; crl?: CrlView; ocsp?: OcspResponseView; detail: string }
  | { status: 'unknown'; detail: string };

function keyId(cert: CertificateView, which: 'subject' | 'authority'): Uint8Array | undefined {
  try {
    if (which === 'subject') {
      const ext = findExtension(cert, OID.subjectKeyIdentifier);
      return ext ? readSubjectKeyIdentifier(ext) : undefined;
    }
    const ext = findExtension(cert, OID.authorityKeyIdentifier);
    return ext ? readAuthorityKeyIdentifier(ext) : undefined;
  } catch {
    return undefined;
  }
}

const differ = (a: Uint8Array | undefined, b: Uint8Array | undefined) => a !== undefined && b !== undefined && !equalBytes(a, b);

function mayIssueCrls(issuer: CertificateView): boolean {
  const ext = findExtension(issuer, OID.keyUsage);
  if (!ext) return true;
  try {
    return readKeyUsage(ext).has('cRLSign');
  } catch {
    return false;
  }
}

/**
 * The certificates among `issuers` that issued `cert`: its issuer's Name, a subjectKeyIdentifier
 * agreeing with its authorityKeyIdentifier, and — only the key that signed the certificate: a
 * look-alike in the proof (same Name and key identifier, another key) cannot vouch for
 * revocation data — a key that verifies its signature.
 */
async function issuersOf(cert: CertificateView, issuers: readonly CertificateView[], crypto?: Crypto): Promise<CertificateView[]> {
  const certAki = keyId(cert, 'authority');
  const named = issuers.filter((i) => equalBytes(i.subject, cert.issuer) && !differ(keyId(i, 'subject'), certAki));
  const out: CertificateView[] = [];
  for (const issuer of named) {
    if ((await verifyBytes(issuer.publicKey, cert.signatureAlgorithm, undefined, cert.tbs, cert.signatureValue, crypto)).valid) out.push(issuer);
  }
  return out;
}

/** The CRLs of `cert`'s issuer among `crls` whose signature verifies with that issuer's key (see above). */
export async function crlsFor(cert: CertificateView, issuers: readonly CertificateView[], crls: readonly CrlView[], crypto?: Crypto): Promise<CrlView[]> {
  const candidates = (await issuersOf(cert, issuers, crypto)).filter(mayIssueCrls);
  const out: CrlView[] = [];
  for (const crl of crls) {
    if (!equalBytes(crl.issuer, cert.issuer) || crl.unhandledCritical.length > 0) continue;
    for (const issuer of candidates) {
      if (differ(keyId(issuer, 'subject'), crl.authorityKeyIdentifier)) continue;
      const check = await verifyBytes(issuer.publicKey, crl.signatureAlgorithm, undefined, crl.tbs, crl.signatureValue, crypto);
      if (check.valid) {
        out.push(crl);
        break;
      }
    }
  }
  return out;
}

export function reasonText(entry: CrlEntry): string {
  return entry.reasonCode === undefined ? 'no reason given' : `reason ${crlReasonName(entry.reasonCode) ?? entry.reasonCode}`;
}

/** The status of `cert` at the validation time `at`, from the CRLs given. */
export async function revocationStatus(
  cert: CertificateView,
  issuers: readonly CertificateView[],
  crls: readonly CrlView[],
  at: Date,
  crypto?: Crypto,
): Promise<RevocationStatus> {
  return crlStatus(cert, await crlsFor(cert, issuers, crls, crypto), at);
}

/**
 * The status of `cert` at `at` from CRLs already found to be its issuer's (`crlsFor`): for a
 * caller that keeps that finding for CRLs it uses again.
 */
export function crlStatus(cert: CertificateView, usable: readonly CrlView[], at: Date): RevocationStatus {
  if (usable.length === 0) {
    return { status: 'unknown', detail: `no CRL given is signed by the issuer of ${subjectString(cert)}` };
  }
  let found: { entry: CrlEntry; crl: CrlView } | undefined;
  for (const crl of usable) {
    for (const entry of crl.entries) {
      if (entry.serialNumber !== cert.serialNumber || entry.reasonCode === CRL_REASONS.removeFromCRL) continue;
      if (!found || entry.revocationDate < found.entry.revocationDate) found = { entry, crl };
    }
  }
  if (found) {
    return { status: 'revoked', ...found, detail: `revoked at ${found.entry.revocationDate.toISOString()} (${reasonText(found.entry)}) by the CRL issued ${found.crl.thisUpdate.toISOString()}` };
  }
  const fresh = usable
    .filter((c) => (c.nextUpdate ? c.nextUpdate.getTime() >= at.getTime() : c.thisUpdate.getTime() >= at.getTime()))
    .sort((a, b) => b.thisUpdate.getTime() - a.thisUpdate.getTime());
  if (fresh[0]) {
    const crl = fresh[0];
    return { status: 'good', crl, detail: `not revoked: the CRL${crl.crlNumber !== undefined ? ` number ${crl.crlNumber}` : ''} issued ${crl.thisUpdate.toISOString()}, next update ${crl.nextUpdate?.toISOString() ?? 'not given'}, does not list it` };
  }
  const newest = [...usable].sort((a, b) => b.thisUpdate.getTime() - a.thisUpdate.getTime())[0]!;
  return {
    status: 'unknown',
    detail: `no fresh CRL at ${at.toISOString()}: the newest of the issuer was issued ${newest.thisUpdate.toISOString()} with next update ${newest.nextUpdate?.toISOString() ?? 'not given'}`,
  };
}

/**
 * The status of `cert` at `at` from CRLs and OCSP responses together: revoked when one of them
 * that counts says so (the earliest revocation time); not revoked when none does and one is
 * fresh at `at` (a CRL as above; an OCSP answer "good" whose nextUpdate is not before `at`, or
 * without nextUpdate, whose thisUpdate is not before it); unknown otherwise. An OCSP response
 * counts when it answers for this certificate and is signed by its issuer or a responder the
 * issuer authorised (Ocsp.ts).
 */
export async function revocationStatusFrom(
  cert: CertificateView,
  issuers: readonly CertificateView[],
  data: { crls: readonly CrlView[]; ocsp: readonly OcspResponseView[] },
  at: Date,
  crypto?: Crypto,
): Promise<RevocationStatus> {
  const fromCrls = data.crls.length ? await revocationStatus(cert, issuers, data.crls, at, crypto) : undefined;
  if (data.ocsp.length === 0) return fromCrls ?? { status: 'unknown', detail: 'no revocation data' };
  const answers: Extract<Awaited<ReturnType<typeof ocspStatusOf>>, { single: unknown }>[] = [];
  for (const issuer of await issuersOf(cert, issuers, crypto)) {
    for (const response of data.ocsp) {
      const a = await ocspStatusOf(cert, issuer, response, crypto);
      if (a.status !== 'none') answers.push(a);
    }
  }
  let revoked: RevocationStatus | undefined = fromCrls?.status === 'revoked' ? fromCrls : undefined;
  for (const a of answers) {
    if (a.status !== 'revoked' || a.single.certStatus.status !== 'revoked') continue;
    const info = a.single.certStatus;
    if (revoked?.status === 'revoked' && revoked.entry.revocationDate <= info.revocationTime) continue;
    const entry: CrlEntry = { serialNumber: cert.serialNumber, revocationDate: info.revocationTime, ...(info.reason !== undefined ? { reasonCode: info.reason } : {}) };
    revoked = { status: 'revoked', entry, ocsp: a.response, detail: `revoked at ${info.revocationTime.toISOString()} (${reasonText(entry)}) by ${a.detail}` };
  }
  if (revoked) return revoked;
  if (fromCrls?.status === 'good') return fromCrls;
  const fresh = answers
    .filter((a) => a.status === 'good' && (a.single.nextUpdate ? a.single.nextUpdate.getTime() >= at.getTime() : a.single.thisUpdate.getTime() >= at.getTime()))
    .sort((x, y) => y.single.thisUpdate.getTime() - x.single.thisUpdate.getTime())[0];
  if (fresh) return { status: 'good', ocsp: fresh.response, detail: `not revoked: ${fresh.detail}, answers good` };
  const parts = [fromCrls?.detail, answers.length ? `no OCSP answer fresh at ${at.toISOString()} says good` : 'no OCSP response given answers for it with the issuer\'s authority'].filter(Boolean);
  return { status: 'unknown', detail: parts.join('; ') };
}
