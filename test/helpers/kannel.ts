/**
 * A real Kannel (bearerbox + smsbox) with its fake SMS centre, started for a test on free
 * loopback ports from a generated configuration, and stopped after. Needs the Debian
 * packages `kannel` and `kannel-extras` (.ci/run installs them); when they are missing,
 * startKannel throws — the Kannel tests fail, they are never skipped.
 *
 * Start order (docs/kannel.md): bearerbox; once its smsbox port and fake-SMSC
 * port accept connections, smsbox and fakesmsc (both exit at once if bearerbox is not
 * listening yet); ready when the admin status page shows the SMSC online and the smsbox
 * connected.
 *
 * fakesmsc prints what the SMSC receives: `Got message N: <from to type …>` with type
 * `text` (plain), `ucs-2` (URL-encoded UTF-16BE), or `udh` (a concatenated part: the UDH,
 * then `data` and the part's bytes URL-encoded — UTF-8 for a GSM-7 text, UTF-16BE for a
 * UCS-2 one, which the line does not say). `received()` parses and reassembles them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './process.js';

const SEARCH_PATH = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
const FAKESMSC_CANDIDATES = ['/usr/lib/kannel/test/fakesmsc', '/usr/local/lib/kannel/test/fakesmsc'];

function findBinary(name: string): string | undefined {
  for (const dir of SEARCH_PATH) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export function kannelBinaries(): { bearerbox: string; smsbox: string; fakesmsc: string } {
  const bearerbox = findBinary('bearerbox');
  const smsbox = findBinary('smsbox');
  const fakesmsc = FAKESMSC_CANDIDATES.find((p) => fs.existsSync(p));
  const missing = [!bearerbox && 'bearerbox', !smsbox && 'smsbox', !fakesmsc && 'fakesmsc (kannel-extras)'].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(`Kannel is not installed (missing: ${missing.join(', ')}). These tests run against a real Kannel: install it with "apt-get install -y kannel kannel-extras" (.ci/run does this on a fresh machine).`);
  }
  return { bearerbox: bearerbox!, smsbox: smsbox!, fakesmsc: fakesmsc! };
}

export interface SmscMessage {
  from: string;
  to: string;
  /** `udh`: concatenated parts (their coding is not shown by fakesmsc) */
  type: 'text' | 'ucs-2' | 'udh';
  /** the message's bytes, parts reassembled: UTF-8 for text, UTF-16BE for UCS-2 */
  bytes: Buffer;
  /** each part's bytes, in sequence order (one for a single SMS) */
  partBytes: Buffer[];
  /** parts the SMSC received (1 for a single SMS) */
  parts: number;
  /** the parts announced in the UDH (1 for a single SMS) */
  announcedParts: number;
}

/** The text of a received message, knowing how it was sent (a concatenated part does not say). */
export function smscText(m: SmscMessage, encoding: 'GSM-7' | 'UCS-2'): string {
  return encoding === 'UCS-2' ? utf16be(m.bytes) : m.bytes.toString('utf8');
}

export interface KannelHarness {
  sendsmsUrl: string;
  username: string;
  password: string;
  maxMessages: number;
  /** messages the fake SMSC received, reassembled (only complete or announced-incomplete ones) */
  received(): SmscMessage[];
  /**
   * A phone sends an SMS (mobile-originated): a line `<from> <to> <type> <data>` on the fake
   * SMSC's standard input, which it passes to bearerbox; smsbox then calls the sms-service's
   * get-url (`inboundUrl` of startKannel). `type` text: plain; ucs2: URL-encoded UTF-16BE.
   * Resolves once fakesmsc says it sent the message: it reads one line per turn and drops
   * what else was in the same read, so lines are written one at a time.
   */
  inject(from: string, to: string, text: string, type?: 'text' | 'ucs2'): Promise<void>;
  status(): Promise<string>;
  output(): string;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Kannel: timed out waiting for ${what}\n${output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function decodeUrlBytes(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '+') {
      out.push(0x20);
    } else if (s[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(...Buffer.from(s[i]!, 'utf8'));
    }
  }
  return Buffer.from(out);
}

function utf16be(buf: Buffer): string {
  const swapped = Buffer.from(buf);
  swapped.swap16();
  return swapped.toString('utf16le');
}

/** Parses fakesmsc's "Got message" lines into messages, reassembling concatenated parts. */
export function parseFakeSmscOutput(out: string): SmscMessage[] {
  const messages: SmscMessage[] = [];
  const partial = new Map<string, { from: string; to: string; total: number; parts: Map<number, Buffer> }>();
  for (const m of out.matchAll(/Got message \d+: <(\S+) (\S+) (\S+) (.*)>$/gm)) {
    const [, from, to, type, rest] = m as unknown as [string, string, string, string, string];
    if (type === 'text') {
      const bytes = Buffer.from(rest, 'utf8');
      messages.push({ from, to, type, bytes, partBytes: [bytes], parts: 1, announcedParts: 1 });
    } else if (type === 'ucs-2') {
      const bytes = decodeUrlBytes(rest);
      messages.push({ from, to, type, bytes, partBytes: [bytes], parts: 1, announcedParts: 1 });
    } else if (type === 'udh') {
      const u = /^(\S+) \S+ (.*)$/s.exec(rest);
      if (!u) continue;
      const udh = decodeUrlBytes(u[1]!);
      // UDH length, then the 8-bit concatenation IE (3GPP TS 23.040 §9.2.3.24.1): 00 03 ref total seq
      const ref = udh[3]!;
      const total = udh[4]!;
      const seq = udh[5]!;
      const key = `${from}|${to}|${ref}`;
      const p = partial.get(key) ?? { from, to, total, parts: new Map<number, Buffer>() };
      p.parts.set(seq, decodeUrlBytes(u[2]!));
      partial.set(key, p);
    }
  }
  for (const p of partial.values()) {
    const seqs = [...p.parts.keys()].sort((a, b) => a - b);
    const partBytes = seqs.map((s) => p.parts.get(s)!);
    messages.push({ from: p.from, to: p.to, type: 'udh', bytes: Buffer.concat(partBytes), partBytes, parts: p.parts.size, announcedParts: p.total });
  }
  return messages;
}

/**
 * The sms-service through which Kannel passes the SMS phones send to the service: every
 * message (keyword `default`), to `inboundUrl` (which carries the token) plus Kannel's escape
 * codes — %p the phone's number, %P the number it wrote to, %b the text as received
 * (URL-encoded; with %c, its coding: 0 GSM-7, 2 UCS-2 — smsbox gives UCS-2 as UTF-16BE),
 * %I Kannel's id of the message, %T its time (unix), %i the SMSC. No answer is sent back to
 * the phone (max-messages = 0). docs/kannel.md.
 */
export function kannelSmsService(inboundUrl: string): string[] {
  const sep = inboundUrl.includes('?') ? '&' : '?';
  return [
    'group = sms-service',
    'keyword = default',
    'catch-all = true',
    `get-url = "${inboundUrl}${sep}from=%p&to=%P&text=%b&coding=%c&id=%I&at=%T&smsc=%i"`,
    'max-messages = 0',
    'omit-empty = true',
    '',
  ];
}

export async function startKannel(options: { maxMessages: number; inboundUrl?: string }): Promise<KannelHarness> {
  const bin = kannelBinaries();
  const [adminPort, smsboxPort, smscPort, sendsmsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  // the phones: a second fake SMSC that only carries mobile-originated messages (no SMS is
  // routed to it: allowed-smsc-id), driven by an interactive fakesmsc. The receiving fakesmsc
  // stays non-interactive: in interactive mode it handles one message a second.
  const phonesPort = options.inboundUrl ? await freePort() : undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kannel-test-'));
  const adminPassword = 'admin-' + Math.random().toString(36).slice(2);
  const username = 'notify';
  const password = 'pw-' + Math.random().toString(36).slice(2);
  const conf = path.join(dir, 'kannel.conf');
  fs.writeFileSync(
    conf,
    [
      'group = core',
      `admin-port = ${adminPort}`,
      'admin-interface = 127.0.0.1',
      `admin-password = ${adminPassword}`,
      `status-password = ${adminPassword}`,
      'admin-allow-ip = 127.0.0.1',
      `smsbox-port = ${smsboxPort}`,
      'smsbox-interface = 127.0.0.1',
      'box-allow-ip = 127.0.0.1',
      'dlr-storage = internal',
      'log-level = 1',
      '',
      'group = smsc',
      'smsc = fake',
      'smsc-id = fake',
      `port = ${smscPort}`,
      'connect-allow-ip = 127.0.0.1',
      '',
      ...(phonesPort ? ['group = smsc', 'smsc = fake', 'smsc-id = phones', 'allowed-smsc-id = phones', `port = ${phonesPort}`, 'connect-allow-ip = 127.0.0.1', ''] : []),
      'group = smsbox',
      'bearerbox-host = 127.0.0.1',
      `bearerbox-port = ${smsboxPort}`,
      `sendsms-port = ${sendsmsPort}`,
      'sendsms-interface = 127.0.0.1',
      'log-level = 1',
      '',
      'group = sendsms-user',
      `username = ${username}`,
      `password = ${password}`,
      `max-messages = ${options.maxMessages}`,
      'concatenation = true',
      '',
      ...(options.inboundUrl ? kannelSmsService(options.inboundUrl) : []),
    ].join('\n'),
  );
  let out = '';
  let smscOut = '';
  const children: ChildProcess[] = [];
  let phones: ChildProcess | undefined;
  let phonesOut = '';
  const run = (file: string, args: string[], sink: (s: string) => void, stdin: 'ignore' | 'pipe' = 'ignore') => {
    const child = spawn(file, args, { cwd: dir, stdio: [stdin, 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => sink(String(d)));
    child.stderr!.on('data', (d) => sink(String(d)));
    children.push(child);
    return child;
  };
  const output = () => out + smscOut + phonesOut;
  const stop = async () => {
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const adminUrl = `http://127.0.0.1:${adminPort}/status.txt?password=${adminPassword}`;
  const status = async () => {
    try {
      return await (await fetch(adminUrl)).text();
    } catch {
      return '';
    }
  };
  try {
    const bearerbox = run(bin.bearerbox, [conf], (s) => (out += s));
    await until('bearerbox to listen', async () => {
      if (bearerbox.exitCode !== null) throw new Error(`bearerbox exited with ${bearerbox.exitCode}\n${out}`);
      return (await canConnect(smsboxPort)) && (await canConnect(smscPort)) && (phonesPort === undefined || (await canConnect(phonesPort)));
    }, 10_000, output);
    run(bin.smsbox, [conf], (s) => (out += s));
    run(bin.fakesmsc, ['-H', '127.0.0.1', '-r', String(smscPort), '-m', '0', '1 2 text x'], (s) => (smscOut += s));
    // no message on the command line: interactive, it sends what is written on its stdin (inject)
    if (phonesPort) phones = run(bin.fakesmsc, ['-H', '127.0.0.1', '-r', String(phonesPort)], (s) => (phonesOut += s), 'pipe');
    await until('the fake SMSC online and smsbox connected', async () => {
      const s = await status();
      return /fake\[fake\]\s+FAKE:\d+ \(online/.test(s) && (!phonesPort || /phones\[phones\]\s+FAKE:\d+ \(online/.test(s)) && /smsbox:.*\(on-line/.test(s) && (await canConnect(sendsmsPort));
    }, 10_000, output);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    sendsmsUrl: `http://127.0.0.1:${sendsmsPort}/cgi-bin/sendsms`,
    username,
    password,
    maxMessages: options.maxMessages,
    received: () => parseFakeSmscOutput(smscOut),
    async inject(from, to, text, type = 'text') {
      if (/[\r\n]/.test(from + to + text) || /\s/.test(from + to)) throw new Error('inject: one line, numbers without spaces');
      const data = type === 'ucs2' ? [...Buffer.from(text, 'utf16le').swap16()].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('') : text;
      if (!phones) throw new Error('inject: start Kannel with an inboundUrl');
      const sentSoFar = () => [...phonesOut.matchAll(/fakesmsc: sent message \d+/g)].length;
      const before = sentSoFar();
      phones.stdin!.write(`${from} ${to} ${type} ${data}\n`);
      await until('fakesmsc to send the injected message', () => sentSoFar() > before, 10_000, output);
    },
    status,
    output,
    stop,
  };
}
