import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('config: webhook targets', () => {
  for (const APP_ENV of ['development', 'test', 'production']) {
    it(`opens no private target by default in ${APP_ENV}`, () => {
      expect(loadConfig({ APP_ENV }).webhook).to.deep.equal({ allowPrivateTargets: [], timeoutMs: 10_000 });
    });
  }

  it('reads WEBHOOK_ALLOW_PRIVATE_TARGETS as CIDRs, a bare address as a single-address range', () => {
    const c = loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: ' 127.0.0.0/8, ::1/128,10.1.2.3 ,fd00::/8,', WEBHOOK_TIMEOUT_MS: '2500' });
    expect(c.webhook).to.deep.equal({ allowPrivateTargets: ['127.0.0.0/8', '::1/128', '10.1.2.3/32', 'fd00::/8'], timeoutMs: 2500 });
  });

  const bad: Array<[Record<string, string>, string]> = [
    [{ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'localhost' }, 'WEBHOOK_ALLOW_PRIVATE_TARGETS'],
    [{ WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.0/33' }, 'WEBHOOK_ALLOW_PRIVATE_TARGETS'],
    [{ WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.0/8;10.0.0.0/8' }, 'WEBHOOK_ALLOW_PRIVATE_TARGETS'],
    [{ WEBHOOK_ALLOW_PRIVATE_TARGETS: '::1/129' }, 'WEBHOOK_ALLOW_PRIVATE_TARGETS'],
    [{ WEBHOOK_TIMEOUT_MS: '0' }, 'WEBHOOK_TIMEOUT_MS'],
  ];
  for (const [env, variable] of bad) {
    it(`names ${variable} when ${JSON.stringify(env)} is wrong`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError).with.property('variable', variable);
    });
  }
});
