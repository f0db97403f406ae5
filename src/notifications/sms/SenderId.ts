/**
 * The sender shown on a recipient's phone (the TP-Originating-Address of 3GPP TS 23.040
 * §9.1.2.5): either
 *   - alphanumeric: 1 to 11 characters (11 GSM-7 septets fit the 10 octets the address
 *     field has for them) of the GSM 03.38 basic set's letters A–Z a–z, digits and space,
 *     with at least one letter (all digits would be taken for a number) and no space at
 *     either end — characters outside that set are replaced or dropped by many operators;
 *   - a number: E.164 ("+" and up to 15 digits, country code first) or a short code of 3 to
 *     15 digits, which phones can answer.
 */
export type SenderIdCheck =
  | { ok: true; value: string; kind: 'alphanumeric' | 'number' }
  | { ok: false; code: 'SMS_SENDER_ID_TOO_LONG' | 'SMS_SENDER_ID_INVALID'; reason: string };

export const SENDER_ID_MAX_ALPHANUMERIC = 11;
export const SENDER_ID_MAX_DIGITS = 15;

export function checkSenderId(raw: unknown): SenderIdCheck {
  if (typeof raw !== 'string' || raw === '') return { ok: false, code: 'SMS_SENDER_ID_INVALID', reason: 'smsSenderId must be a non-empty string (or null for the default)' };
  if (/^\+?[0-9]+$/.test(raw)) {
    const digits = raw.replace('+', '');
    if (digits.length > SENDER_ID_MAX_DIGITS) return { ok: false, code: 'SMS_SENDER_ID_TOO_LONG', reason: `a numeric sender ID has at most ${SENDER_ID_MAX_DIGITS} digits (E.164)` };
    if (raw.startsWith('+') && (digits.startsWith('0') || digits.length < 7)) return { ok: false, code: 'SMS_SENDER_ID_INVALID', reason: 'an E.164 sender ID is "+", the country code (not 0) and the subscriber number: 7 to 15 digits' };
    if (!raw.startsWith('+') && digits.length < 3) return { ok: false, code: 'SMS_SENDER_ID_INVALID', reason: 'a short code has 3 to 15 digits' };
    return { ok: true, value: raw, kind: 'number' };
  }
  if ([...raw].length > SENDER_ID_MAX_ALPHANUMERIC) return { ok: false, code: 'SMS_SENDER_ID_TOO_LONG', reason: `an alphanumeric sender ID has at most ${SENDER_ID_MAX_ALPHANUMERIC} characters` };
  if (!/^[A-Za-z0-9 ]+$/.test(raw)) return { ok: false, code: 'SMS_SENDER_ID_INVALID', reason: 'an alphanumeric sender ID may only use the GSM 03.38 basic letters A-Z a-z, digits and space' };
  if (!/[A-Za-z]/.test(raw)) return { ok: false, code: 'SMS_SENDER_ID_INVALID', reason: 'an alphanumeric sender ID needs at least one letter' };
  if (raw !== raw.trim()) return { ok: false, code: 'SMS_SENDER_ID_INVALID', reason: 'an alphanumeric sender ID may not start or end with a space' };
  return { ok: true, value: raw, kind: 'alphanumeric' };
}
