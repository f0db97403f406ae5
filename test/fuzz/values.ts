/**
 * Hostile values the generator draws from: strings, identifiers, numbers, file names,
 * media types, dates, URLs. None of them contains what the stack-trace check looks for
 * (`    at `, `node:internal`, the project's paths), so an answer that echoes a value back
 * cannot pass for a leak.
 */
import type { Rng } from './prng.js';

/** INSZ/NISS with its mod-97 check digits: `YYMMDD` + 3-digit serial, the post-2000 rule when asked. */
export function insz(yymmdd: string, serial: number, born2000 = false): string {
  const body = yymmdd + String(serial).padStart(3, '0');
  const cc = 97 - Number(BigInt((born2000 ? '2' : '') + body) % 97n);
  return body + String(cc).padStart(2, '0');
}

/** KBO/BCE with its check digits. */
export function kbo(first8: string): string {
  return first8 + String(97 - Number(BigInt(first8) % 97n)).padStart(2, '0');
}

/** Identifiers on the edges of INSZ/NISS, BIS and KBO/BCE validation. */
export const IDENTIFIERS: readonly string[] = [
  '85073003328',
  '85.07.30-033.28',
  '85 07 30 033 28',
  '85073003329',
  '00000000000',
  '00000000097',
  '99999999999',
  '8507300332',
  '850730033288',
  '0850730033280',
  insz('852730', 33), // BIS, sex unknown
  insz('854730', 33), // BIS, sex known
  insz('856730', 33), // month 67: neither
  insz('170730', 33, true), // born in 2017
  insz('171330', 33, true), // month 13
  insz('170732', 33, true), // day 32
  insz('000000', 1),
  '0403019261',
  '0403.019.261',
  '1403019261',
  '2403019261',
  kbo('00000000'),
  kbo('19999999'),
  '040301926',
  '04030192611',
  '８５０７３００３３２８', // full-width digits
  '٨٥٠٧٣٠٠٣٣٢٨', // Arabic-Indic digits
  '85073003328\u0000',
  '\u202e82330037058',
  '-85073003328',
  '+85073003328',
  '85073003328 ',
  '1e10',
  '0x1fab',
  '',
  ' ',
  '../../85073003328',
];

/** Strings that break careless code: control characters, bidi, lone surrogates, injection, sizes. */
export function hostileString(rng: Rng): string {
  return rng.pick<() => string>([
    () => '',
    () => ' ',
    () => '\u0000',
    () => `a\u0000b`,
    () => '\r\nX-Injected: 1',
    () => '\u202eevil\u202cfdp.exe',
    () => '\ud800',
    () => '\udfff\ud800',
    () => '😀'.repeat(rng.between(1, 300)),
    () => 'é'.normalize('NFD').repeat(rng.between(1, 100)),
    () => "'; DROP TABLE messages; --",
    () => '" OR 1=1 --',
    () => '%s%s%s%n',
    () => '${process.exit()}',
    () => '{{7*7}}',
    () => '{toString}',
    () => '{__proto__}',
    () => '{constructor}',
    () => '<script>alert(1)</script>',
    () => '<img src=x onerror=alert(1)>',
    () => '../../../../etc/passwd',
    () => '..\\..\\..\\windows\\win.ini',
    () => 'x'.repeat(rng.pick([199, 200, 201, 255, 256, 257, 1000, 5000, 70_000])),
    () => rng.chars(rng.between(1, 40), 'abcXYZ019 _-.:/\\\'"<>{}[]()!?*&^%$#@~`|+=;,'),
    () => '\u00a0\u2028\u2029\ufeff',
    () => 'ǅǈǋ\u0130ı',
    () => '\\u0000',
    () => 'null',
    () => 'undefined',
    () => 'NaN',
    () => '__proto__',
    () => 'constructor',
    () => 'hasOwnProperty',
    () => '\x1b[31mred\x1b[0m',
    () => 'a\tb\vc\fd\be',
    () => 'Ä'.repeat(300),
  ])();
}

/** Numbers on the edges: signs, magnitudes, precision, non-finite spellings. */
export const EDGE_NUMBERS: readonly string[] = [
  '0', '-0', '1', '-1', '0.5', '1.0', '1e3', '1e309', '-1e309', '1e-400', '9007199254740991', '9007199254740993',
  '18446744073709551616', '2147483648', '-2147483649', '500', '501', '50', '0x10', '010', ' 5', '5 ', '+5', '', 'NaN', 'Infinity', '-Infinity', 'null', 'true', '1,2',
];

/** File names for document parts. */
export function hostileFileName(rng: Rng): string | Buffer {
  return rng.pick<() => string | Buffer>([
    () => 'letter.pdf',
    () => '../../../etc/passwd',
    () => '..\\..\\boot.ini',
    () => '/absolute/path.pdf',
    () => 'C:\\Windows\\system32\\x.pdf',
    () => 'a\u0000.pdf',
    () => 'a\r\nb.pdf',
    () => 'a\nContent-Type: text/html\n.pdf',
    () => 'invoice\u202efdp.exe',
    () => 'report\ud800.pdf',
    () => Buffer.from([0x66, 0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0x2e, 0x70, 0x64, 0x66]),
    () => Buffer.from([0xe9, 0x74, 0xe9, 0x2e, 0x70, 0x64, 0x66]), // latin-1 "été.pdf"
    () => '',
    () => '.',
    () => '..',
    () => ' ',
    () => 'x'.repeat(rng.pick([255, 256, 4096, 20_000])),
    () => 'CON',
    () => 'a"b.pdf',
    () => 'a\\"b.pdf',
    () => '%2e%2e%2fpasswd',
    () => '😀.pdf',
    () => 'name with spaces and ünïcödé.pdf',
  ])();
}

/** Media types for parts and bodies. */
export function oddMediaType(rng: Rng): string {
  return rng.pick([
    'application/pdf',
    'APPLICATION/PDF',
    'application/pdf; charset=binary',
    'application/pdf;;;',
    'application/pdf; name="x.pdf"; name="y.pdf"',
    'text/plain',
    'text/html',
    'application/x-msdownload',
    'application/octet-stream',
    '*/*',
    'application/*',
    'application',
    '/',
    '',
    ' ',
    'application/pdf\u0000',
    `application/${'x'.repeat(rng.pick([100, 300, 5000]))}`,
    'multipart/mixed; boundary=zzz',
    'image/png',
    'image/svg+xml',
    'application/json',
    'täxt/plain',
  ]);
}

export const ODD_DATES: readonly string[] = [
  '2026-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-13-01', '0000-00-00', '-000001-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '+275760-09-13T00:00:00.001Z',
  '9999-12-31T23:59:59.999Z', '1970-01-01', '2026-01-01T25:61:61Z', '0', '1e20', 'yesterday', 'Tue, 01 Jan 2026 00:00:00 GMT', '2026-01-01T00:00:00+99:99', '',
];

export const ODD_MONTHS: readonly string[] = ['2026-01', '2026-12', '2026-13', '2026-00', '0000-01', '9999-12', '2026-1', '202601', '2026-01-01', '-2026-01', '+2026-01', '2026-01\u0000', '', ' '];

/** Webhook URLs that never reach out of the machine: forbidden targets, invalid forms, loopback on a closed port. */
export const WEBHOOK_URLS: readonly string[] = [
  'http://127.0.0.1:9/hook',
  'https://127.0.0.1:9/hook',
  'http://10.0.0.1/hook',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::1]/hook',
  'http://[::ffff:127.0.0.1]/hook',
  'http://0x7f000001/hook',
  'http://2130706433/hook',
  'http://0177.0.0.1/hook',
  'http://localhost/hook',
  'http://x.invalid/hook',
  'http://user:pass@127.0.0.1:9/hook',
  'ftp://127.0.0.1/hook',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'gopher://127.0.0.1:25/_HELO',
  'http://',
  'http://[::1',
  'http://127.0.0.1:99999/',
  'http://127.0.0.1:9/' + 'x'.repeat(5000),
  '//127.0.0.1/hook',
  'not a url',
  '',
];

/** Phone numbers for notifications and contacts. */
export const PHONES: readonly string[] = ['+32470123456', '+32 470 12 34 56', '0470123456', '+999999999999999', '+1', '+32470123456\u0000', '+٣٢٤٧٠١٢٣٤٥٦', '+32470123456'.repeat(20), 'tel:+32470123456', ''];
