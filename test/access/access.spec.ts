/**
 * `npm run test:access`: every operation of the OpenAPI document × every kind of caller.
 *
 * The operations are read from /openapi.json of the running service, each with its security
 * requirement; the callers are listed in callers.ts, the fixtures in world.ts, the per-operation
 * path parameters, requests and probes in operations.ts. For each (operation, caller) the
 * answer must have the status the security requirement implies, carry WWW-Authenticate and the
 * right problem code when it refuses, be one the document describes (status, media type,
 * schema), and — unless the caller is the owner — contain none of the owner's identifiers or
 * secrets; after a write refused to a caller, the owner's state is as it was. Every caller but
 * the owners runs first, on every operation; the owners' calls come last and must change the
 * state their probe watches. All mismatches are listed, not only the first; a summary is printed.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import type { Answer } from './client.js';
import { CALLERS, expected, type Caller, type Expected } from './callers.js';
import { AnswerValidator, operations, type Operation } from './document.js';
import { SPECS, type OpSpec } from './operations.js';
import { buildWorld, type World } from './world.js';

interface Case {
  op: Operation;
  spec: OpSpec;
  caller: Caller;
  exp: Expected;
}

interface Mismatch {
  operation: string;
  caller: string;
  expected: string;
  got: string;
}

class Tally {
  readonly byCaller = new Map<string, Map<string, number>>();
  readonly operations = new Set<string>();
  cases = 0;

  add(op: string, caller: string, status: number): void {
    this.operations.add(op);
    this.cases++;
    const row = this.byCaller.get(caller) ?? new Map<string, number>();
    const k = status >= 200 && status < 300 ? '2xx' : String(status);
    row.set(k, (row.get(k) ?? 0) + 1);
    this.byCaller.set(caller, row);
  }

  totals(): Map<string, number> {
    const t = new Map<string, number>();
    for (const row of this.byCaller.values()) for (const [k, v] of row) t.set(k, (t.get(k) ?? 0) + v);
    return t;
  }

  render(title: string): string {
    const totals = this.totals();
    const columns = [...totals.keys()].sort();
    const width = Math.max(...[...this.byCaller.keys()].map((k) => k.length), 6);
    const lines = [
      `${title}: operations: ${this.operations.size}, cases: ${this.cases}, ${columns.map((c) => `${c}: ${totals.get(c)}`).join(', ')}`,
      `  ${'caller'.padEnd(width)}  ${columns.map((c) => c.padStart(5)).join(' ')}`,
      ...[...this.byCaller].map(([caller, row]) => `  ${caller.padEnd(width)}  ${columns.map((c) => String(row.get(c) ?? '').padStart(5)).join(' ')}`),
    ];
    return lines.join('\n');
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function problemCode(answer: Answer): string | undefined {
  try {
    return JSON.parse(answer.body.toString('utf8')).code;
  } catch {
    return undefined;
  }
}

function leaks(answer: Answer, secrets: Map<string, string>): string[] {
  const headers = JSON.stringify(answer.headers);
  return [...secrets].filter(([, value]) => answer.text.includes(value) || headers.includes(value)).map(([name]) => name);
}

/** Runs every case of the profile; returns the mismatches. */
async function runMatrix(w: World, tally: Tally): Promise<Mismatch[]> {
  const mismatches: Mismatch[] = [];
  const validator = new AnswerValidator(w.doc);
  const ops = operations(w.doc).filter((op) => (SPECS[op.key]?.profiles ?? ['main']).includes(w.profile));
  const plan: Case[] = [];
  for (const op of ops) {
    const spec = SPECS[op.key];
    if (!spec) {
      mismatches.push({ operation: op.key, caller: '-', expected: 'fixtures in test/access/operations.ts', got: 'none' });
      continue;
    }
    for (const caller of CALLERS) plan.push({ op, spec, caller, exp: expected(op, spec.success, spec.scope, spec.absent?.(w) ?? false, caller) });
  }
  let n = 0;

  const run = async (c: Case): Promise<Answer | undefined> => {
    const params = c.spec.params?.(w) ?? {};
    const urlPath = c.op.path.replace(/\{(\w+)\}/g, (_, k: string) => {
      if (params[k] === undefined) throw new Error(`${c.op.key}: no value for {${k}}`);
      return encodeURIComponent(params[k]);
    });
    const request = c.spec.request?.(w, ++n) ?? {};
    const presented = c.caller.present({ op: c.op, body: request.body }, w);
    if (!presented) return undefined;
    const query = new URLSearchParams({ ...request.query, ...presented.query });
    const headers: Array<[string, string]> = [['x-forwarded-for', presented.address ?? w.addresses.next()], ...presented.headers];
    if (request.contentType) headers.push(['content-type', request.contentType]);
    const answer = await w.client.send({ method: c.op.method, path: query.size > 0 ? `${urlPath}?${query}` : urlPath, headers, body: request.body, tls: presented.tls });
    tally.add(c.op.key, c.caller.id, answer.status);

    const miss = (what: string, got: string) => mismatches.push({ operation: c.op.key, caller: c.caller.id, expected: what, got });
    const code = problemCode(answer);
    if (!c.exp.statuses.includes(answer.status)) {
      miss(`${c.exp.statuses.join('/')}${c.exp.code ? ` ${c.exp.code}` : ''}`, `${answer.status}${code ? ` ${code}` : ''}`);
    } else if (c.exp.code && code !== c.exp.code) {
      miss(`code ${c.exp.code}`, `code ${code}`);
    }
    if (answer.status === 401 && !answer.headers['www-authenticate']) miss('WWW-Authenticate on a 401', 'none');
    if (answer.status === 429 && !answer.headers['retry-after']) miss('Retry-After on a 429', 'none');
    for (const problem of validator.check(c.op, answer)) miss('an answer the OpenAPI document describes', problem);
    if (!c.exp.entitled) for (const name of leaks(answer, w.secrets)) miss("none of the owner's data", `the answer contains ${name}`);
    return answer;
  };

  // every caller but the owners, on every operation; then the owners
  for (const ownerPhase of [false, true]) {
    for (const op of ops) {
      const cases = plan.filter((c) => c.op === op && c.exp.owner === ownerPhase);
      if (cases.length === 0) continue;
      const probe = cases[0]!.spec.probe;
      let before = probe ? await probe(w) : undefined;
      let succeeded = false;
      for (const c of cases) {
        let answer: Answer | undefined;
        try {
          answer = await run(c);
        } catch (err) {
          mismatches.push({ operation: op.key, caller: c.caller.id, expected: 'an answer', got: String((err as Error).message ?? err) });
          continue;
        }
        if (answer && answer.status >= 200 && answer.status < 300) succeeded = true;
        if (probe && !ownerPhase && answer) {
          const now = await probe(w);
          if (!same(before, now)) {
            mismatches.push({ operation: op.key, caller: c.caller.id, expected: "the owner's state unchanged", got: `${JSON.stringify(before)} → ${JSON.stringify(now)}` });
            before = now;
          }
        }
      }
      // some effects land just after the answer (a handover is recorded once the download's last byte is out)
      if (probe && ownerPhase && succeeded && !(await changes(() => probe(w), before))) {
        mismatches.push({ operation: op.key, caller: 'owner', expected: 'the owner’s call to change what the probe watches', got: `unchanged: ${JSON.stringify(before)}` });
      }
    }
  }
  return mismatches;
}

function report(mismatches: Mismatch[]): string {
  return `${mismatches.length} mismatch(es):\n${mismatches.map((m) => `  ${m.operation} | ${m.caller} | expected ${m.expected} | got ${m.got}`).join('\n')}`;
}

describe(`access: every operation × every caller (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(240_000);
  let main: World | undefined;
  let kannel: World | undefined;
  const tallies: Array<[string, Tally]> = [];

  before(async () => {
    // both built at once; one that is built is kept even when the other fails, so that
    // after() closes it (a world left open keeps mocha from exiting)
    const [m, k] = await Promise.allSettled([buildWorld('main'), buildWorld('kannel')]);
    if (m.status === 'fulfilled') main = m.value;
    if (k.status === 'fulfilled') kannel = k.value;
    for (const r of [m, k]) if (r.status === 'rejected') throw r.reason;
  });
  after(async () => {
    for (const [title, t] of tallies) console.log(t.render(title));
    await main?.close();
    await kannel?.close();
  });

  it('has fixtures for exactly the operations of the document', () => {
    const documented = operations(main!.doc).map((op) => op.key).sort();
    expect(Object.keys(SPECS).sort()).to.deep.equal(documented);
  });

  it('answers each caller of each operation as the operation\'s security requirement says, and shows no one another party\'s data (TLS, mutual TLS, SMS and GovApp providers)', async () => {
    const tally = new Tally();
    tallies.push(['main profile', tally]);
    const mismatches = await runMatrix(main!, tally);
    expect(mismatches, report(mismatches)).to.deep.equal([]);
  });

  it('does the same for the Kannel delivery reports (Kannel as SMS provider)', async () => {
    const tally = new Tally();
    tallies.push(['kannel profile', tally]);
    const mismatches = await runMatrix(kannel!, tally);
    expect(mismatches, report(mismatches)).to.deep.equal([]);
  });
});

/** Whether `probe` comes to differ from `before` within a few seconds. */
async function changes(probe: () => Promise<unknown>, before: unknown): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (!same(before, await probe())) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
