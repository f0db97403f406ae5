/**
 * The lint rule that keeps the layers (eslint.layers.js, docs/architecture.md) refuses what
 * it should and lets through what it should: each case is a file of src/ linted with the
 * project's own ESLint configuration.
 */
import path from 'node:path';
import { expect } from 'chai';
import { ESLint } from 'eslint';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

const CASES: Array<{ file: string; imports: string; refused: boolean; why: string }> = [
  { file: 'src/http/probe.ts', imports: '../store/Repositories.js', refused: true, why: 'a route reaches the store' },
  { file: 'src/http/registered-mail/probe.ts', imports: '../../store/JobRepository.js', refused: true, why: 'a route reaches the store' },
  { file: 'src/http/probe.ts', imports: '../registered-mail/intake.js', refused: false, why: 'a route calls its use case' },
  { file: 'src/domain/probe.ts', imports: '../config.js', refused: true, why: 'the domain imports the configuration' },
  { file: 'src/domain/probe.ts', imports: '../crypto/index.js', refused: true, why: 'the domain imports crypto' },
  { file: 'src/domain/probe.ts', imports: './errors.js', refused: false, why: 'the domain imports itself' },
  { file: 'src/crypto/probe.ts', imports: '../domain/errors.js', refused: true, why: 'crypto imports a layer above it' },
  { file: 'src/crypto/probe.ts', imports: '../store/Repositories.js', refused: true, why: 'crypto imports a layer above it' },
  { file: 'src/store/probe.ts', imports: '../registered-mail/intake.js', refused: true, why: 'the store imports a capability' },
  { file: 'src/store/probe.ts', imports: '../config.js', refused: false, why: 'the store reads the configuration types' },
  { file: 'src/registered-mail/probe.ts', imports: '../notifications/engine.js', refused: true, why: "a capability reaches into another's internals" },
  { file: 'src/registered-mail/probe.ts', imports: '../notifications/index.js', refused: false, why: "a capability uses another's public face" },
  { file: 'src/audit/probe.ts', imports: '../http/problem.js', refused: true, why: 'a capability imports the HTTP layer' },
  { file: 'src/app/probe.ts', imports: '../../dev/ebox-simulator/Prng.js', refused: true, why: 'the product imports a simulator' },
  { file: 'src/cli/probe.ts', imports: '../store/Repositories.js', refused: true, why: 'a CLI opens the store itself, not through src/app' },
  { file: 'src/config.ts', imports: './store/Repositories.js', refused: true, why: 'the configuration imports the store' },
  { file: 'src/config.ts', imports: './net/OutboundPolicy.js', refused: false, why: 'the configuration parses network ranges' },
  { file: 'src/browser/verify/probe.ts', imports: '../../audit/index.js', refused: false, why: "the browser's verifier uses audit's public face" },
  { file: 'src/browser/verify/probe.ts', imports: '../../audit/verify.js', refused: true, why: "the browser reaches into audit's internals (its file-reading verifier)" },
  { file: 'src/browser/verify/probe.ts', imports: '../../http/problem.js', refused: true, why: 'the browser imports the HTTP layer' },
  { file: 'src/http/probe.ts', imports: '../browser/verify/i18n.js', refused: true, why: 'the service imports browser code' },
  { file: 'src/newfolder/probe.ts', imports: '../domain/errors.js', refused: true, why: 'a folder no layer names' },
];

describe('lint: the layers of src/', function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: ROOT });

  for (const c of CASES) {
    it(`${c.refused ? 'refuses' : 'allows'}: ${c.why} (${c.file} → ${c.imports})`, async () => {
      const [result] = await eslint.lintText(`import * as probe from '${c.imports}';\nexport const used = probe;\n`, { filePath: path.join(ROOT, c.file) });
      const layering = result!.messages.filter((m) => m.ruleId?.startsWith('boundaries/'));
      const others = result!.messages.filter((m) => !m.ruleId?.startsWith('boundaries/'));
      expect(others, JSON.stringify(others)).to.deep.equal([]);
      if (c.refused) expect(layering.length, 'a boundaries/* error').to.be.greaterThan(0);
      else expect(layering, JSON.stringify(layering)).to.deep.equal([]);
    });
  }
});
