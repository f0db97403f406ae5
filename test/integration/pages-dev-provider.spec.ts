/**
 * The development sign-in of `npm start`: the configuration that asks for the development
 * OpenID provider, its start (a port taken is a reason, not a failure), and what it makes
 * sure of for a newcomer — the Development sender with its API key kept in the data folder,
 * the test clerk mapped to it, the test citizen's activated e-Box — again and again alike.
 * The sign-in variables' validation. SQLite, or PostgreSQL with TEST_DATABASE_URL.
 */
import fs from 'node:fs';
import net from 'node:net';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';
import { wantsDevOidc } from '../../src/app/devProviders.js';
import { DEV_SENDER_KEY_FILE, DEV_SENDER_NAME, startDevOidc } from '../../dev/oidc-provider/start.js';
import { DEV_CITIZEN, DEV_CLERK } from '../../dev/oidc-provider/DevOidcProvider.js';
import { onPostgres } from '../helpers/database.js';
import { PageClient, signIn } from '../helpers/pages.js';
import { startTestService } from '../helpers/service.js';

describe(`pages: the development sign-in (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);

  it('asks for the development provider in development without OIDC_ISSUER only', () => {
    expect(wantsDevOidc(loadConfig({}))).to.equal(true);
    expect(loadConfig({}).pages.devOidc).to.deep.equal({ port: 8078 });
    expect(wantsDevOidc(loadConfig({ APP_ENV: 'test' }))).to.equal(false);
    expect(wantsDevOidc(loadConfig({ APP_ENV: 'production' }))).to.equal(false);
    expect(wantsDevOidc(loadConfig({ OIDC_ISSUER: 'https://idp.example', OIDC_CLIENT_ID: 'rm', OIDC_CLIENT_SECRET: 's' }))).to.equal(false);
  });

  it('validates the sign-in variables at start, naming the bad one', () => {
    const bad = (env: Record<string, string>, variable: string) => {
      expect(() => loadConfig(env), JSON.stringify(env)).to.throw(ConfigError).with.property('variable', variable);
    };
    bad({ OIDC_ISSUER: 'https://idp.example' }, 'OIDC_CLIENT_ID');
    bad({ OIDC_ISSUER: 'https://idp.example', OIDC_CLIENT_ID: 'rm' }, 'OIDC_CLIENT_SECRET');
    bad({ OIDC_ISSUER: 'not a url', OIDC_CLIENT_ID: 'rm', OIDC_CLIENT_SECRET: 's' }, 'OIDC_ISSUER');
    bad({ OIDC_CLIENT_ID: 'rm' }, 'OIDC_ISSUER');
    bad({ APP_ENV: 'production', OIDC_ISSUER: 'http://idp.example', OIDC_CLIENT_ID: 'rm', OIDC_CLIENT_SECRET: 's', PUBLIC_URL: 'https://rm.example' }, 'OIDC_ISSUER');
    bad({ APP_ENV: 'production', OIDC_ISSUER: 'https://idp.example', OIDC_CLIENT_ID: 'rm', OIDC_CLIENT_SECRET: 's' }, 'PUBLIC_URL');
    bad({ OIDC_ISSUER: 'https://idp.example', OIDC_CLIENT_ID: 'rm', OIDC_CLIENT_SECRET_FILE: '/nonexistent/secret' }, 'OIDC_CLIENT_SECRET_FILE');
    bad({ OIDC_ISSUER: 'https://idp.example', OIDC_CLIENT_ID: 'rm', OIDC_CLIENT_SECRET: 's', OIDC_INSZ_CLAIM: 'a b' }, 'OIDC_INSZ_CLAIM');
    bad({ SESSION_IDLE_SECONDS: '3600', SESSION_MAX_SECONDS: '600' }, 'SESSION_MAX_SECONDS');
    const ok = loadConfig({ APP_ENV: 'production', OIDC_ISSUER: 'https://idp.example/realms/x', OIDC_CLIENT_ID: 'rm', OIDC_CLIENT_SECRET: 's', PUBLIC_URL: 'https://rm.example/' });
    expect(ok.pages).to.deep.include({ publicUrl: 'https://rm.example', sessionIdleSeconds: 1800, sessionMaxSeconds: 28800 });
    expect(ok.pages.oidc).to.deep.include({ issuer: 'https://idp.example/realms/x', clientId: 'rm', clientSecret: 's', inszClaim: 'insz' });
    expect(ok.pages.devOidc).to.equal(undefined);
  });

  it('starts the provider; a port another process holds is a reason, not a failure', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const refused = await startDevOidc(loadConfig({ DEV_OIDC_PORT: String(port) }));
      expect(refused).to.have.property('reason').that.includes(`127.0.0.1:${port}`);
    } finally {
      blocker.close();
    }
  });

  it('signs the test people in, and makes sure of the Development sender, the clerk\'s mapping and the citizen\'s e-Box, again alike', async () => {
    const started = await startDevOidc(loadConfig({ DEV_OIDC_PORT: '0' }));
    if ('reason' in started) throw new Error(started.reason);
    const oidc = started.config.pages.oidc!;
    expect(oidc).to.deep.include({ issuer: started.issuer, clientId: 'registered-mail-dev', inszClaim: 'insz', allowPrivateTargets: ['127.0.0.1/32'] });
    const svc = await startTestService({ OIDC_ISSUER: oidc.issuer, OIDC_CLIENT_ID: oidc.clientId, OIDC_CLIENT_SECRET: oidc.clientSecret, OIDC_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' });
    try {
      started.allowRedirectUri(`${svc.url}/signin/callback`);
      const first = await started.seed(svc.rt);
      const key = fs.readFileSync(first.apiKeyFile, 'utf8').trim();
      expect(first.apiKeyFile.endsWith(DEV_SENDER_KEY_FILE)).to.equal(true);
      expect(fs.statSync(first.apiKeyFile).mode & 0o777).to.equal(0o600);
      const second = await started.seed(svc.rt);
      expect(second.senderId).to.equal(first.senderId);
      expect(fs.readFileSync(second.apiKeyFile, 'utf8').trim(), 'the kept key stays').to.equal(key);
      expect((await svc.rt.senders.list()).filter((s) => s.name === DEV_SENDER_NAME)).to.have.length(1);
      const me = await fetch(`${svc.url}/v1/notifications/settings`, { headers: { authorization: `Bearer ${key}` } });
      expect(me.status, 'the kept key is the Development sender\'s').to.equal(200);
      expect((await svc.rt.pageSessions.clerks(first.senderId)).map((c) => [c.issuer, c.subject])).to.deep.equal([[started.issuer, DEV_CLERK.sub]]);
      expect((await svc.rt.recipients.citizen(DEV_CITIZEN.insz!))?.eboxActivated).to.equal(true);

      const world = { svc, idp: { issuer: started.issuer } } as Parameters<typeof signIn>[1];
      const citizen = await signIn(new PageClient(), world, DEV_CITIZEN, '/ebox');
      expect(citizen.status).to.equal(200);
      expect(citizen.body).to.include('Test Citizen');
      expect(citizen.body).not.to.include('no activated e-Box');
      const clerk = await signIn(new PageClient(), world, DEV_CLERK, '/');
      expect(clerk.body).to.include('href="/console"');
    } finally {
      await svc.close();
      await started.close();
    }
  });
});
