/**
 * The address a notice went to, as NotificationForAcceptance names it: never the number
 * or the installation id, but HMAC-SHA256 with a secret of the service
 * (EVIDENCE_ADDRESS_DIGEST_KEY) over "tel:<E.164 number>" or "govapp:<installation id>"
 * (the prefix keeps a number and an installation id with the same characters apart).
 *
 * Why keyed: a Belgian mobile number is +324 and eight digits, about 10^8 candidates; a
 * plain SHA-256 of one is found by hashing them all, minutes on a laptop. An HMAC without
 * its key gives nothing to try against. With the key, the service (or an auditor given
 * it) recomputes the digest of a number to confirm it was the one told. KeyIdentifier is
 * a fingerprint of the key (HMAC of a fixed label, 8 bytes), so a statement says which key
 * to use should it ever change, without revealing it.
 */
import { createHmac } from 'node:crypto';
import { ADDRESS_DIGEST_METHOD, type AddressDigest, type NotificationChannelName } from '../domain/EvidenceStatement.js';

/** The text digested for an address on a channel. */
export function addressText(channel: NotificationChannelName, address: string): string {
  return channel === 'SMS' ? `tel:${address}` : `govapp:${address}`;
}

export function addressKeyIdentifier(key: string): string {
  return createHmac('sha256', key).update('registered-mail address-digest key identifier').digest().subarray(0, 8).toString('hex');
}

export function addressDigest(key: string, channel: NotificationChannelName, address: string): AddressDigest {
  return {
    DigestMethod: ADDRESS_DIGEST_METHOD,
    KeyIdentifier: addressKeyIdentifier(key),
    DigestValue: createHmac('sha256', key).update(addressText(channel, address), 'utf8').digest('hex'),
  };
}
