/** The notify section of the configuration: defaults, providers, and errors naming the variable. */
import { expect } from 'chai';
import { ConfigError, insecureDefaults, loadConfig } from '../../../src/config.js';

describe('notification configuration', () => {
  it('defaults to no provider, GOVAPP_FIRST, nl, 3 SMS parts, no transliteration, callbacks to HOST:PORT', () => {
    const n = loadConfig({}).notify;
    expect(n).to.deep.include({ defaultStrategy: 'GOVAPP_FIRST', defaultLanguage: 'nl', rateLimitPerMinute: 600, rateLimitBurst: 600, callbackBaseUrl: 'http://127.0.0.1:8080', registeredMailNotice: true });
    expect(n.sms).to.deep.equal({ maxParts: 3, transliterate: false, provider: { kind: 'none' } });
    expect(n.govapp).to.deep.equal({ kind: 'none' });
    expect(n.pricing).to.deep.equal({ currency: 'EUR', smsPart: '0', push: '0' });
    expect(loadConfig({ PORT: '0' }).notify.callbackBaseUrl).to.equal(undefined);
    expect(n.defaultValiditySeconds).to.equal(86_400);
    expect(n.batch).to.deep.equal({ maxRows: 100_000, maxBytes: 64 * 1024 * 1024 });
    expect(loadConfig({ NOTIFY_BATCH_MAX_ROWS: '20', NOTIFY_BATCH_MAX_BYTES: '2048' }).notify.batch).to.deep.equal({ maxRows: 20, maxBytes: 2048 });
  });

  it('NOTIFY_DEFAULT_VALIDITY_SECONDS: a minute to 90 days', () => {
    expect(loadConfig({ NOTIFY_DEFAULT_VALIDITY_SECONDS: '3600' }).notify.defaultValiditySeconds).to.equal(3600);
    for (const bad of ['0', '59', 'a day', String(90 * 86_400 + 1)]) {
      expect(() => loadConfig({ NOTIFY_DEFAULT_VALIDITY_SECONDS: bad }), bad).to.throw(ConfigError).with.property('variable', 'NOTIFY_DEFAULT_VALIDITY_SECONDS');
    }
  });

  it('NOTIFY_INBOUND_ATTRIBUTION_DAYS', () => {
    expect(loadConfig({}).notify.inboundAttributionDays).to.equal(30);
    expect(loadConfig({ NOTIFY_INBOUND_ATTRIBUTION_DAYS: '7' }).notify.inboundAttributionDays).to.equal(7);
  });

  it('reads Kannel, the HTTP aggregator, GovApp and prices', () => {
    const k = loadConfig({ NOTIFY_SMS_PROVIDER: 'kannel', KANNEL_SENDSMS_URL: 'http://127.0.0.1:13013/cgi-bin/sendsms', KANNEL_USERNAME: 'u', KANNEL_PASSWORD: 'p', KANNEL_DLR_SECRET: 'x'.repeat(16) }).notify;
    expect(k.sms.provider).to.deep.include({ kind: 'kannel', from: 'eBox', username: 'u', dlrTokenLifetimeSeconds: 7 * 86_400 });
    const kannelEnv = { NOTIFY_SMS_PROVIDER: 'kannel', KANNEL_SENDSMS_URL: 'http://127.0.0.1:13013/cgi-bin/sendsms', KANNEL_USERNAME: 'u', KANNEL_PASSWORD: 'p', KANNEL_DLR_SECRET: 'x'.repeat(16) };
    expect(loadConfig({ ...kannelEnv, KANNEL_DLR_TOKEN_LIFETIME_SECONDS: '86400' }).notify.sms.provider).to.deep.include({ dlrTokenLifetimeSeconds: 86_400 });
    for (const bad of ['0', '59', 'a week', String(91 * 86_400)]) {
      expect(() => loadConfig({ ...kannelEnv, KANNEL_DLR_TOKEN_LIFETIME_SECONDS: bad }), bad).to.throw(ConfigError).with.property('variable', 'KANNEL_DLR_TOKEN_LIFETIME_SECONDS');
    }
    const h = loadConfig({ NOTIFY_SMS_PROVIDER: 'http', SMS_HTTP_URL: 'https://sms.example/send', SMS_HTTP_CALLBACK_SECRET: 'y'.repeat(16) }).notify;
    expect(h.sms.provider).to.deep.include({ kind: 'http', url: 'https://sms.example/send' });
    const g = loadConfig({ GOVAPP_PUSH_URL: 'https://push.example', GOVAPP_CALLBACK_SECRET: 'z'.repeat(16), NOTIFY_PRICE_CURRENCY: 'DKK', NOTIFY_PRICE_SMS_PART: '0.05', NOTIFY_CALLBACK_BASE_URL: 'https://rm.example/' }).notify;
    expect(g.govapp).to.deep.include({ kind: 'http', url: 'https://push.example' });
    expect(g.pricing).to.deep.include({ currency: 'DKK', smsPart: '0.05' });
    expect(g.callbackBaseUrl).to.equal('https://rm.example');
  });

  it('EVIDENCE_ADDRESS_DIGEST_KEY: a development default named among the insecure ones; a short key refused', () => {
    const dflt = loadConfig({});
    expect(dflt.evidence).to.include({ addressDigestKeyIsDefault: true });
    expect(insecureDefaults(dflt).some((w) => w.includes('EVIDENCE_ADDRESS_DIGEST_KEY'))).to.equal(true);
    const own = loadConfig({ EVIDENCE_ADDRESS_DIGEST_KEY: 'k'.repeat(32) });
    expect(own.evidence).to.include({ addressDigestKey: 'k'.repeat(32), addressDigestKeyIsDefault: false });
    expect(insecureDefaults(own).some((w) => w.includes('EVIDENCE_ADDRESS_DIGEST_KEY'))).to.equal(false);
    expect(() => loadConfig({ EVIDENCE_ADDRESS_DIGEST_KEY: 'k'.repeat(31) })).to.throw(ConfigError).with.property('variable', 'EVIDENCE_ADDRESS_DIGEST_KEY');
  });

  it('DEV_SIMULATORS: on by default in development, off when asked, always off outside development', () => {
    expect(loadConfig({}).devSimulators).to.equal(true);
    expect(loadConfig({ DEV_SIMULATORS: 'false' }).devSimulators).to.equal(false);
    expect(loadConfig({ DEV_SIMULATORS: '0' }).devSimulators).to.equal(false);
    expect(loadConfig({ APP_ENV: 'test' }).devSimulators).to.equal(false);
    expect(loadConfig({ APP_ENV: 'production', DEV_SIMULATORS: 'true' }).devSimulators).to.equal(false);
  });

  const bad: Array<[Record<string, string>, string]> = [
    [{ NOTIFY_DEFAULT_STRATEGY: 'FAX' }, 'NOTIFY_DEFAULT_STRATEGY'],
    [{ NOTIFY_DEFAULT_LANGUAGE: 'it' }, 'NOTIFY_DEFAULT_LANGUAGE'],
    [{ NOTIFY_SMS_MAX_PARTS: '0' }, 'NOTIFY_SMS_MAX_PARTS'],
    [{ NOTIFY_INBOUND_ATTRIBUTION_DAYS: '0' }, 'NOTIFY_INBOUND_ATTRIBUTION_DAYS'],
    [{ NOTIFY_INBOUND_ATTRIBUTION_DAYS: '366' }, 'NOTIFY_INBOUND_ATTRIBUTION_DAYS'],
    [{ NOTIFY_INBOUND_ATTRIBUTION_DAYS: 'a month' }, 'NOTIFY_INBOUND_ATTRIBUTION_DAYS'],
    [{ NOTIFY_SMS_TRANSLITERATE: 'maybe' }, 'NOTIFY_SMS_TRANSLITERATE'],
    [{ NOTIFY_SMS_PROVIDER: 'carrier-pigeon' }, 'NOTIFY_SMS_PROVIDER'],
    [{ NOTIFY_SMS_PROVIDER: 'kannel', KANNEL_SENDSMS_URL: 'http://k/cgi-bin/sendsms', KANNEL_PASSWORD: 'p', KANNEL_DLR_SECRET: 'x'.repeat(16) }, 'KANNEL_USERNAME'],
    [{ NOTIFY_SMS_PROVIDER: 'kannel', KANNEL_SENDSMS_URL: 'http://k/cgi-bin/sendsms', KANNEL_USERNAME: 'u', KANNEL_PASSWORD: 'p', KANNEL_DLR_SECRET: 'short' }, 'KANNEL_DLR_SECRET'],
    [{ NOTIFY_SMS_PROVIDER: 'kannel', KANNEL_SENDSMS_URL: 'ftp://k', KANNEL_USERNAME: 'u', KANNEL_PASSWORD: 'p', KANNEL_DLR_SECRET: 'x'.repeat(16) }, 'KANNEL_SENDSMS_URL'],
    [{ NOTIFY_SMS_PROVIDER: 'http', SMS_HTTP_URL: 'https://sms.example' }, 'SMS_HTTP_CALLBACK_SECRET'],
    [{ GOVAPP_PUSH_URL: 'https://push.example' }, 'GOVAPP_CALLBACK_SECRET'],
    [{ GOVAPP_PUSH_URL: 'not a url', GOVAPP_CALLBACK_SECRET: 'z'.repeat(16) }, 'GOVAPP_PUSH_URL'],
    [{ NOTIFY_PRICE_SMS_PART: '5 cents' }, 'NOTIFY_PRICE_SMS_PART'],
    [{ NOTIFY_PRICE_CURRENCY: 'euro' }, 'NOTIFY_PRICE_CURRENCY'],
    [{ NOTIFY_TIME_ZONE: 'Mars/Olympus' }, 'NOTIFY_TIME_ZONE'],
    [{ NOTIFY_CALLBACK_BASE_URL: 'rm.example' }, 'NOTIFY_CALLBACK_BASE_URL'],
    [{ DEV_SIMULATORS: 'perhaps' }, 'DEV_SIMULATORS'],
    [{ NOTIFY_BATCH_MAX_ROWS: '0' }, 'NOTIFY_BATCH_MAX_ROWS'],
    [{ NOTIFY_BATCH_MAX_ROWS: 'many' }, 'NOTIFY_BATCH_MAX_ROWS'],
    [{ NOTIFY_BATCH_MAX_BYTES: '100' }, 'NOTIFY_BATCH_MAX_BYTES'],
  ];
  for (const [env, variable] of bad) {
    it(`names ${variable} when ${JSON.stringify(env)} is wrong`, () => {
      try {
        loadConfig(env);
        expect.fail('should have thrown');
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as ConfigError).variable).to.equal(variable);
      }
    });
  }
});
