/**
 * Belgian identifiers with their mod-97 check digits.
 *
 * INSZ/NISS (national register / BIS number), 11 digits `YYMMDDSSSCC`, serial SSS from 001
 *   to 998: CC = 97 − (YYMMDDSSS mod 97); for people born from 2000 on, the check is
 *   computed over `2YYMMDDSSS`. BIS numbers add 20 (sex unknown) or 40 (sex known)
 *   to the month. Either rule may apply to a given number; the check passes if one does.
 * KBO/BCE (enterprise number), 10 digits starting with 0 or 1:
 *   last two digits = 97 − (first 8 digits mod 97).
 */

export type RecipientType = 'citizen' | 'enterprise';

export interface Recipient {
  type: RecipientType;
  id: string;
}

/** Strip the usual separators (dots, dashes, spaces) users type in these numbers. */
export function normaliseIdentifier(raw: string): string {
  return raw.replace(/[\s.\-/]/g, '');
}

function checkDigits(base: bigint): number {
  return 97 - Number(base % 97n);
}

export function isValidInsz(raw: string): boolean {
  const id = normaliseIdentifier(raw);
  if (!/^\d{11}$/.test(id)) return false;
  const body = id.slice(0, 9);
  const cc = Number(id.slice(9));
  const month = Number(id.slice(2, 4));
  const day = Number(id.slice(4, 6));
  // month 0 / day 0 are legal for unknown birth dates; BIS adds 20 or 40 to the month.
  const baseMonth = month >= 40 ? month - 40 : month >= 20 ? month - 20 : month;
  if (baseMonth > 12 || day > 31) return false;
  // the register numbers people born on one day from 001 to 998: 000 and 999 are never given
  // (so 00000000097, whose check digits are right, is no one's number)
  const serial = Number(id.slice(6, 9));
  if (serial === 0 || serial === 999) return false;
  return checkDigits(BigInt(body)) === cc || checkDigits(BigInt('2' + body)) === cc;
}

export function isValidKbo(raw: string): boolean {
  const id = normaliseIdentifier(raw);
  if (!/^[01]\d{9}$/.test(id)) return false;
  // 0000000097 passes the check but is no enterprise's number
  if (/^0{8}/.test(id)) return false;
  return checkDigits(BigInt(id.slice(0, 8))) === Number(id.slice(8));
}

export function isValidRecipientId(type: RecipientType, raw: string): boolean {
  return type === 'citizen' ? isValidInsz(raw) : isValidKbo(raw);
}

/**
 * A national number as printed on a document people read: `YY.MM.DD-SSS.CC` with all but the
 * last four digits masked (`••.••.••-•SS.CC`), as a bank card shows its last four: enough to
 * tell two recipients apart on paper, not enough to be the number. The full number stays in
 * the signed proof.
 */
export function maskedInsz(id: string): string {
  const digits = normaliseIdentifier(id);
  if (!/^\d{11}$/.test(digits)) return '•'.repeat(Math.max(digits.length - 4, 0)) + digits.slice(-4);
  const shown = '•'.repeat(7) + digits.slice(7);
  return `${shown.slice(0, 2)}.${shown.slice(2, 4)}.${shown.slice(4, 6)}-${shown.slice(6, 9)}.${shown.slice(9)}`;
}

/** An enterprise number in its printed form `0123.456.789` (public: not masked). */
export function formattedKbo(id: string): string {
  const digits = normaliseIdentifier(id);
  if (!/^\d{10}$/.test(digits)) return digits;
  return `${digits.slice(0, 4)}.${digits.slice(4, 7)}.${digits.slice(7)}`;
}
