/**
 * STATEMENT_COPY compares an export's decoded statement (a file an auditor receives, so
 * untrusted) with the signed one and names the members that differ: a member of the copy
 * that the signed statement lacks is named even when its name is one every object
 * inherits ("__proto__", "constructor", …): the signed statement's own members only are
 * compared.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadTrustAnchors, verifyProofFile } from '../../src/audit/verify.js';
import { VERIFY_FIXTURES } from '../helpers/cli.js';

describe('audit: STATEMENT_COPY with members named after inherited ones', () => {
  const statement = fs.readFileSync(path.join(VERIFY_FIXTURES, 'service-passed.statement.json'), 'utf8');
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-copy-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function copyCheck(copyText: string) {
    const file = path.join(dir, `copy-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, copyText);
    const anchors = await loadTrustAnchors([path.join(VERIFY_FIXTURES, 'root.pem')]);
    const report = await verifyProofFile({ path: path.join(VERIFY_FIXTURES, 'service-passed.p7s'), statementCopy: file }, { trustAnchors: anchors.der });
    return report.checks.find((c) => c.name === 'STATEMENT_COPY')!;
  }

  it('passes for the statement itself', async () => {
    expect(await copyCheck(statement)).to.include({ passed: true });
  });

  for (const [name, value] of [['__proto__', '{}'], ['constructor', '{}'], ['toString', '{}'], ['valueOf', 'null']] as const) {
    it(`names an added "${name}" member as the difference`, async () => {
      const copy = statement.replace(/^\{/, `{"${name}": ${value}, `);
      expect(JSON.parse(copy)).to.have.own.property(name);
      const line = await copyCheck(copy);
      expect(line).to.include({ passed: false, subIndication: 'HASH_FAILURE' });
      expect(line.detail).to.contain(`in ${name}`);
    });
  }
});
