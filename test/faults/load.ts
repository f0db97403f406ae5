/**
 * The load: clients that submit registered letters the way a careful sender application
 * does. Each letter has its own Idempotency-Key and is sent again with the same key and the
 * same bytes until the service acknowledges it (201 or 202): after a connection error (the
 * process was killed, the answer was cut), after 503 or 507 (waiting for Retry-After, at most
 * `maxRetryWaitMs` so that a run stays short). Anything else is recorded: another 5xx, or a
 * 503 or 507 that does not say when to come back (Retry-After), is a failure of the bar; a
 * 4xx a refusal the letter does not survive.
 *
 * Documents have realistic sizes (a log-normal around 80 KB, from 2 KB to a few MB; one
 * letter in five carries one or two annexes); a quarter of the uploads are sent slowly, in
 * chunks with pauses, so that a fault lands in the middle of an upload. The bytes of each
 * document derive from a seed: nothing is kept in memory but a letter's digests.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { metadata, pdfBytes } from '../helpers/service.js';
import { between, sleep, type Random } from './rng.js';

export interface DocSpec {
  part: string;
  size: number;
  seed: number;
  main: boolean;
  /** known once the bytes were made for the first time */
  sha256?: string;
}

export interface Letter {
  n: number;
  key: string;
  recipient: { type: 'citizen' | 'enterprise'; id: string };
  docs: DocSpec[];
  slow: boolean;
  /** a submission the harness makes to see whether the service accepts again */
  probe: boolean;
  tries: number;
  /** the message id the service answered */
  id?: string;
  firstTryAt?: number;
  ackAt?: number;
  /** a refusal the letter did not survive (status and code) */
  refused?: string;
}

export interface LoadOptions {
  /** the API base URLs; a request goes to one of them at random */
  urls: () => string[];
  apiKey: string;
  recipients: Array<{ type: 'citizen' | 'enterprise'; id: string }>;
  letters: number;
  clients: number;
  /** the letters' shapes */
  shapes: Random;
  /** client timing (jitter) */
  jitter: Random;
  /** largest document, bytes */
  maxDocumentBytes: number;
  /** longest wait a client makes before retrying (Retry-After above this is cut to it) */
  maxRetryWaitMs?: number;
  /** a letter not acknowledged after this long is given up (and counted against the bar) */
  letterDeadlineMs?: number;
}

export interface Answer {
  /** -1 when the connection failed or the answer could not be read */
  status: number;
  id?: string;
  code?: string;
  retryAfter?: number;
}

export class Load {
  readonly letters: Letter[] = [];
  /** answers by status (and problem code) */
  readonly answers = new Map<string, number>();
  /** 5xx other than 503 and 507, and 503 or 507 without a Retry-After */
  other5xx = 0;
  readonly other5xxSamples: string[] = [];
  /** letters started so far (their first try) */
  started = 0;
  private next = 0;
  private allowed: number;
  private readonly waiters: Array<() => void> = [];
  private stopped = false;
  private probes = 0;
  private readonly maxRetryWaitMs: number;
  private readonly letterDeadlineMs: number;

  constructor(private readonly o: LoadOptions) {
    this.maxRetryWaitMs = o.maxRetryWaitMs ?? 2000;
    this.letterDeadlineMs = o.letterDeadlineMs ?? 300_000;
    this.allowed = o.letters;
    for (let n = 0; n < o.letters; n++) this.letters.push(this.shape(n, false));
  }

  get acknowledged(): number {
    return this.letters.filter((l) => l.id !== undefined).length;
  }

  get done(): boolean {
    return this.letters.every((l) => l.id !== undefined || l.refused !== undefined);
  }

  /** Lets clients start letters up to `n` only (the scenario releases the load in steps). */
  gate(n: number): void {
    this.allowed = Math.min(n, this.o.letters);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Runs the clients until every letter is acknowledged or given up. */
  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.o.clients }, () => this.client()));
  }

  /** Gives up: the clients stop after their current try. */
  stop(): void {
    this.stopped = true;
    this.gate(this.o.letters);
  }

  /**
   * A probe: one small letter, submitted until acknowledged; resolves with the time of the
   * acknowledgement (undefined if it was not acknowledged before `deadline`). It is checked
   * like every other letter.
   */
  async probe(deadline: number): Promise<number | undefined> {
    const letter = this.shape(this.o.letters + this.probes++, true);
    letter.docs = [{ ...letter.docs[0]!, size: 4096 }];
    letter.slow = false;
    this.letters.push(letter);
    return this.deliver(letter, deadline);
  }

  private shape(n: number, probe: boolean): Letter {
    const r = this.o.shapes;
    // log-normal: median 80 KB, one in twenty above ~1 MB
    const size = () => Math.round(Math.min(this.o.maxDocumentBytes, Math.max(2048, Math.exp(Math.log(80_000) + 1.5 * gaussian(r)))));
    const annexes = r() < 0.2 ? (r() < 0.5 ? 1 : 2) : 0;
    const docs: DocSpec[] = [{ part: 'main', size: size(), seed: Math.floor(r() * 2 ** 31), main: true }];
    for (let i = 1; i <= annexes; i++) docs.push({ part: `annex${i}`, size: size(), seed: Math.floor(r() * 2 ** 31), main: false });
    return {
      n,
      key: randomUUID(),
      recipient: this.o.recipients[Math.floor(r() * this.o.recipients.length)]!,
      docs,
      slow: r() < 0.25,
      probe,
      tries: 0,
    };
  }

  private async client(): Promise<void> {
    for (;;) {
      while (!this.stopped && this.next >= this.allowed && this.next < this.o.letters) await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (this.stopped || this.next >= this.o.letters) return;
      const letter = this.letters[this.next++]!;
      this.started++;
      await this.deliver(letter, Date.now() + this.letterDeadlineMs);
    }
  }

  private async deliver(letter: Letter, deadline: number): Promise<number | undefined> {
    const bodies = letter.docs.map((d) => Buffer.from(pdfBytes(d.size, d.seed)));
    letter.docs.forEach((d, i) => (d.sha256 ??= createHash('sha256').update(bodies[i]!).digest('hex')));
    letter.firstTryAt ??= Date.now();
    for (;;) {
      if (this.stopped && !letter.probe) return undefined;
      if (Date.now() > deadline) {
        letter.refused ??= 'not acknowledged before the deadline';
        return undefined;
      }
      letter.tries++;
      const urls = this.o.urls();
      const url = urls[Math.floor(this.o.jitter() * urls.length)]!;
      const a = await upload(url, this.o.apiKey, letter, bodies);
      const label = a.status === -1 ? 'connection' : `${a.status}${a.code ? ` ${a.code}` : ''}`;
      this.answers.set(label, (this.answers.get(label) ?? 0) + 1);
      if ((a.status === 201 || a.status === 202) && a.id) {
        letter.id = a.id;
        letter.ackAt = Date.now();
        letter.refused = undefined;
        return letter.ackAt;
      }
      if (a.status === -1) {
        await sleep(between(this.o.jitter, 50, 250));
      } else if (a.status === 503 || a.status === 507) {
        if (a.retryAfter === undefined || !(a.retryAfter > 0)) {
          // an outage must say when to come back
          this.other5xx++;
          if (this.other5xxSamples.length < 5) this.other5xxSamples.push(`letter ${letter.n}: ${label} without Retry-After`);
        }
        const wait = a.retryAfter !== undefined ? a.retryAfter * 1000 : 1000;
        await sleep(Math.min(this.maxRetryWaitMs, wait) * between(this.o.jitter, 0.5, 1));
      } else if (a.status >= 500) {
        this.other5xx++;
        if (this.other5xxSamples.length < 5) this.other5xxSamples.push(`letter ${letter.n}: ${label}`);
        await sleep(between(this.o.jitter, 100, 500));
      } else {
        // a 4xx: the letter is refused as it is; sending it again would be refused again
        letter.refused = label;
        return undefined;
      }
    }
  }
}

/** One multipart POST /v1/messages, streamed; slow letters in 16 KB chunks with pauses. */
function upload(url: string, apiKey: string, letter: Letter, bodies: Buffer[]): Promise<Answer> {
  const boundary = 'faults' + randomUUID();
  const meta = metadata(
    { recipient: letter.recipient, senderReference: `FAULTS-${letter.n}` },
    letter.docs.map((d) => ({ httpPartName: d.part, isMainContent: d.main })),
  );
  const pieces: Buffer[] = [Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(meta)}\r\n`)];
  letter.docs.forEach((d, i) => {
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${d.part}"; filename="${d.part}.pdf"\r\nContent-Type: application/pdf\r\n\r\n`));
    pieces.push(bodies[i]!);
    pieces.push(Buffer.from('\r\n'));
  });
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  const length = pieces.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (a: Answer) => {
      if (settled) return;
      settled = true;
      resolve(a);
    };
    const req = http.request(`${url}/v1/messages`, {
      method: 'POST',
      agent: false,
      headers: {
        authorization: `Bearer ${apiKey}`,
        'idempotency-key': `"${letter.key}"`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': length,
      },
    });
    // a service that takes the request and never answers is, to a client, a failed connection
    req.setTimeout(120_000, () => req.destroy(new Error('no answer within 120 s')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('error', () => settle({ status: -1 }));
      res.on('end', () => {
        const status = res.statusCode ?? -1;
        const retryAfter = res.headers['retry-after'] !== undefined ? Number(res.headers['retry-after']) : undefined;
        let body: { id?: unknown; code?: unknown } = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          // a 2xx without its JSON was cut short: the client cannot know its id
          if (status < 300) return settle({ status: -1 });
        }
        settle({
          status,
          ...(typeof body.id === 'string' ? { id: body.id } : {}),
          ...(typeof body.code === 'string' ? { code: body.code } : {}),
          ...(retryAfter !== undefined && Number.isFinite(retryAfter) ? { retryAfter } : {}),
        });
      });
    });
    req.on('error', () => settle({ status: -1 }));
    void (async () => {
      const step = letter.slow ? 16 * 1024 : 256 * 1024;
      for (const piece of pieces) {
        for (let i = 0; i < piece.length; i += step) {
          if (req.destroyed) return;
          const more = req.write(piece.subarray(i, i + step));
          if (letter.slow) await sleep(15);
          else if (!more) await drained(req);
        }
      }
      req.end();
    })();
  });
}

/** Resolves when `req` can take more, or is closed. */
function drained(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

/** A standard normal draw (Box–Muller). */
function gaussian(r: Random): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}
