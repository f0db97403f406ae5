/**
 * Mobile numbers in E.164 (ITU-T E.164: "+", country code, subscriber number, at most 15
 * digits), parsed and validated with libphonenumber-js (full metadata, so the number type
 * is known): the number must be valid for its country and able to receive SMS — MOBILE,
 * or FIXED_LINE_OR_MOBILE where a country's plan does not tell them apart. Spaces, dots
 * and dashes are accepted on input; the canonical "+32470123456" form is stored.
 */
import { parsePhoneNumberWithError, type NumberType } from 'libphonenumber-js/max';

const SMS_CAPABLE: ReadonlyArray<NumberType> = ['MOBILE', 'FIXED_LINE_OR_MOBILE', 'PERSONAL_NUMBER'];

export type PhoneCheck = { ok: true; e164: string } | { ok: false; reason: string };

export function checkMobileNumber(raw: unknown): PhoneCheck {
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, reason: 'a mobile number is required' };
  const input = raw.trim();
  if (!input.startsWith('+')) return { ok: false, reason: 'give the number in international E.164 form, starting with + and the country code' };
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(input);
  } catch (err) {
    return { ok: false, reason: `not a phone number (${(err as Error).message})` };
  }
  if (!parsed.isValid()) return { ok: false, reason: `${parsed.number} is not a valid number in its country's numbering plan` };
  const type = parsed.getType();
  if (type !== undefined && !SMS_CAPABLE.includes(type)) return { ok: false, reason: `${parsed.number} is not a mobile number (${type.toLowerCase().replace(/_/g, ' ')})` };
  return { ok: true, e164: parsed.number };
}
