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

/**
 * A number as a provider reports it (Kannel's %p, an aggregator's "from") in E.164, or
 * undefined when it is none: "+32470…", "0032470…" and "32470…" (international digits
 * without the plus, as many SMS centres give them) are the same number. Only the numbering
 * plan is checked, not the number type: a reply may come from any number that can send SMS.
 */
export function toE164(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  let s = raw.trim().replace(/[\s.()-]/g, '');
  if (s.startsWith('00')) s = `+${s.slice(2)}`;
  else if (/^[1-9]\d{6,14}$/.test(s)) s = `+${s}`;
  if (!/^\+[1-9]\d{6,14}$/.test(s)) return undefined;
  try {
    const parsed = parsePhoneNumberWithError(s);
    return parsed.isValid() ? parsed.number : undefined;
  } catch {
    return undefined;
  }
}
