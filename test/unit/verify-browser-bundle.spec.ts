/**
 * The verification page's verifier is the CLI's: src/browser/verify/verifier.ts, bundled for
 * the browser exactly as the page bundles it (scripts/build-pages.ts: Buffer from the npm
 * `buffer` package, node:crypto's hashes from @noble/hashes, signatures through WebCrypto), is
 * imported here and run on every vector of test/fixtures/verify/expected.json; its report must
 * equal the CLI's `--json` report, line for line. And neither the verifier's bundle nor the
 * page's script may reach the network.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { bundleForBrowser } from '../../scripts/build-pages.js';
import { inBatches, runCli, VERIFY_FIXTURES } from '../helpers/cli.js';

interface Vector {
  file: string;
  args: string[];
  indication: string;
  subIndication?: string;
}

type Verifier = typeof import('../../src/browser/verify/verifier.js');

/** The CLI arguments of a vector as the page's inputs: trust anchors, documents, --at. */
function inputsOf(args: string[]): { trust: string[]; documents: string[]; at?: Date } {
  const out: { trust: string[]; documents: string[]; at?: Date } = { trust: [], documents: [] };
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1]!;
    if (args[i] === '--trust') out.trust.push(value);
    else if (args[i] === '--document') out.documents.push(value);
    else if (args[i] === '--at') out.at = new Date(value);
    else throw new Error(`the vectors' argument ${args[i]} has no equivalent in the page`);
  }
  return out;
}

async function webSha256(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(bytes))).toString('hex');
}

describe('the verification page runs the CLI verifier (browser bundle)', function () {
  this.timeout(180_000);
  const vectors = JSON.parse(fs.readFileSync(path.join(VERIFY_FIXTURES, 'expected.json'), 'utf8')) as Vector[];
  let work: string;
  let verifierBundle: string;
  let verifier: Verifier;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-bundle-'));
    verifierBundle = await bundleForBrowser('verifier.ts', 'esm');
    const file = path.join(work, 'verifier.mjs');
    fs.writeFileSync(file, verifierBundle);
    verifier = (await import(pathToFileURL(file).href)) as Verifier;
  });
  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('the bundle takes nothing of Node: no node: module, no require of one', () => {
    expect(verifierBundle).not.to.match(/from\s*["']node:|require\(["'](node:|fs|crypto|path)/);
  });

  it('neither the verifier nor the page script makes a request (no fetch, XMLHttpRequest, beacon, socket)', async () => {
    const page = await bundleForBrowser('main.ts');
    for (const [name, code] of [['verifier', verifierBundle], ['page', page]] as const) {
      expect(code, name).not.to.match(/\bfetch\(|XMLHttpRequest|sendBeacon|WebSocket|EventSource|importScripts/);
    }
  });

  it(`gives the CLI's report on each of the ${vectors.length} fixtures (genuine, tampered, wrong document, other anchors, --at)`, async () => {
    expect(vectors.length).to.be.greaterThan(20);
    const results = await inBatches(vectors, 2, async (v) => {
      const cli = await runCli('verify', [v.file, ...v.args, '--json'], { cwd: VERIFY_FIXTURES });
      const { trust, documents, at } = inputsOf(v.args);
      const anchors = trust.flatMap((t) => verifier.trustAnchorsFromBytes(t, new Uint8Array(fs.readFileSync(path.join(VERIFY_FIXTURES, t)))));
      const report = await verifier.verifyProof(
        new Uint8Array(fs.readFileSync(path.join(VERIFY_FIXTURES, v.file))),
        {
          display: v.file,
          // as the page hashes a chosen file: WebCrypto's SHA-256
          documents: async () => Promise.all(documents.map(async (d) => ({ fileName: path.basename(d), sha256: await webSha256(fs.readFileSync(path.join(VERIFY_FIXTURES, d))) }))),
        },
        { trustAnchors: anchors.map((a) => a.der), crypto: globalThis.crypto, ...(at ? { at } : {}) },
      );
      return { v, cli, report, anchors };
    });
    for (const { v, cli, report, anchors } of results) {
      const name = `${v.file} ${v.args.join(' ')}`;
      expect(cli.stderr, name).to.equal('');
      const { trustAnchors, ...cliReport } = JSON.parse(cli.stdout);
      // without a time-stamp (and --at) the paths are validated at "now", which differs by the run's milliseconds
      const now = (r: object) => (cliReport.genTime || v.args.includes('--at') ? JSON.stringify(r) : JSON.stringify(r).replace(/valid at \d{4}-\d\d-\d\dT[\d:.]+Z/g, 'valid at (now)'));
      expect(JSON.parse(now(report)), name).to.deep.equal(JSON.parse(now(cliReport)));
      expect(report.indication, name).to.equal(v.indication);
      if (v.subIndication) expect(report.subIndication, name).to.equal(v.subIndication);
      // the anchors the page shows: the CLI's subjects and fingerprints
      expect(anchors.map((a) => [a.info.subject, a.info.sha256]), name).to.deep.equal(trustAnchors.map((t: any) => [t.subject, t.sha256]));
    }
  });
});
