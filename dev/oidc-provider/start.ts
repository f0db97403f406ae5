/**
 * The development OpenID provider for `npm start` (DevOidcProvider.ts): in development, when
 * no OIDC_ISSUER is configured, on 127.0.0.1:DEV_OIDC_PORT (default 8078), with a client for
 * this service whose secret is drawn at each start (both live in this process). The service's
 * requests to it are allowed to loopback (OIDC_ALLOW_PRIVATE_TARGETS gains 127.0.0.1/32, as a
 * developer would configure it by hand).
 *
 * `seed` then makes sure a newcomer can try the pages at once: a "Development sender" (its
 * API key kept in $DATA_DIR/dev-sender-api-key, mode 0600, never logged), the test clerk
 * mapped to it, and the test citizen's e-Box registered and activated in the built-in e-Box.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config.js';
import type { Runtime } from '../../src/app/runtime.js';
import type { StartedDevOidc } from '../../src/app/devProviders.js';
import { ServiceError } from '../../src/domain/errors.js';
import { DevOidcProvider, DEV_CITIZEN, DEV_CLERK } from './DevOidcProvider.js';

export const DEV_CLIENT_ID = 'registered-mail-dev';
export const DEV_SENDER_NAME = 'Development sender';
export const DEV_SENDER_KEY_FILE = 'dev-sender-api-key';

export async function startDevOidc(config: Config): Promise<StartedDevOidc | { reason: string }> {
  const port = config.pages.devOidc?.port;
  if (port === undefined) return { reason: 'not in development' };
  const provider = new DevOidcProvider({ port, clientId: DEV_CLIENT_ID, clientSecret: randomBytes(32).toString('base64url') });
  let issuer: string;
  try {
    issuer = await provider.start();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return { reason: `127.0.0.1:${port} (DEV_OIDC_PORT) is taken by another process` };
    throw err;
  }
  if (config.pages.publicUrl) provider.allowRedirectUri(`${config.pages.publicUrl}/signin/callback`);
  const meta = provider.clientMetadata(DEV_CLIENT_ID)!;
  return {
    config: {
      ...config,
      pages: {
        ...config.pages,
        oidc: { issuer, clientId: DEV_CLIENT_ID, clientSecret: String(meta.client_secret), inszClaim: 'insz', allowPrivateTargets: ['127.0.0.1/32'] },
      },
    },
    issuer,
    allowRedirectUri: (uri) => provider.allowRedirectUri(uri),
    seed: (rt) => seed(rt, issuer),
    close: () => provider.stop(),
  };
}

async function seed(rt: Runtime, issuer: string): Promise<{ senderId: string; apiKeyFile: string }> {
  const file = path.join(rt.config.dataDir, DEV_SENDER_KEY_FILE);
  let sender = (await rt.senders.list()).find((s) => s.name === DEV_SENDER_NAME);
  let apiKey: string | undefined;
  if (!sender) {
    const created = await rt.senders.create(DEV_SENDER_NAME, 'development');
    sender = created.sender;
    apiKey = created.apiKey;
  } else if (!fs.existsSync(file)) {
    apiKey = (await rt.senders.issueApiKey(sender.id, 'development')).apiKey;
  }
  if (apiKey !== undefined) fs.writeFileSync(file, `${apiKey}\n`, { mode: 0o600 });
  await rt.pageSessions.mapClerk(sender.id, { issuer, subject: DEV_CLERK.sub, name: DEV_CLERK.name });
  try {
    await rt.recipients.register('citizen', DEV_CITIZEN.insz!, { activated: true, name: DEV_CITIZEN.name });
  } catch (err) {
    if (!(err instanceof ServiceError && err.code === 'RECIPIENT_EXISTS')) throw err;
    await rt.recipients.setActivated('citizen', DEV_CITIZEN.insz!, true);
  }
  return { senderId: sender.id, apiKeyFile: file };
}
