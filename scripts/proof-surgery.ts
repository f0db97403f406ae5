/**
 * Deliberately altered proofs, for the verifier's tests and test tools (fuzz-verify, the
 * verification fixtures): a proof's signature time-stamp replaced by another token, every
 * other octet kept. The service never does this — its one writer (src/crypto/CadesT.ts)
 * writes a proof whole — so it lives here, composed from the DER primitives.
 */
import { concat, contextTag, explicit, implicit, oid, sequence, setOf, tlv, Tag } from '../src/crypto/der.js';
import { OID } from '../src/crypto/oids.js';
import { parseSignedData } from '../src/crypto/SignedData.js';

/**
 * The proof with the unsigned attributes of its one SignerInfo replaced by `attributes`
 * (encoded Attributes; none: the unsigned attributes removed). The signature stays valid.
 */
export function replaceUnsignedAttributes(proof: Uint8Array, attributes: readonly Uint8Array[]): Uint8Array {
  const view = parseSignedData(proof);
  if (view.signerInfos.length !== 1) throw new Error('exactly one SignerInfo expected');
  const kept = view.signerInfos[0]!.node.children.filter((c) => c.tag !== contextTag(1, true)).map((c) => c.bytes);
  if (attributes.length) kept.push(implicit(1, setOf(attributes)));
  const parts = view.node.children.map((c, i) => (i === view.node.children.length - 1 ? setOf([sequence(...kept)]) : c.bytes));
  return sequence(oid(OID.signedData), explicit(0, tlv(Tag.SEQUENCE, concat(parts))));
}

/** The signature-time-stamp attribute (ETSI EN 319 122-1 §5.3) holding `token`. */
export function signatureTimeStampAttribute(token: Uint8Array): Uint8Array {
  return sequence(oid(OID.signatureTimeStampToken), setOf([token]));
}

/** The proof (a CAdES-B or B-T) with `token` as its only signature time-stamp. */
export function withSignatureTimeStamp(proof: Uint8Array, token: Uint8Array): Uint8Array {
  return replaceUnsignedAttributes(proof, [signatureTimeStampAttribute(token)]);
}
