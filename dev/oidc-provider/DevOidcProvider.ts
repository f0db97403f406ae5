/**
 * A development OpenID provider: a real `oidc-provider` (panva, the certified OpenID
 * Provider for Node) on a loopback port, for `npm start` and the tests. Not part of the
 * product: the production build leaves dev/ out.
 *
 * - One confidential client (client_secret_basic), authorization code only, PKCE required.
 *   Its redirect URIs can be added after start (`allowRedirectUri`): a test's service learns
 *   its port only once it listens.
 * - Test accounts, chosen on a plain interaction page (no password: this is not a real
 *   identity provider). By default "Test citizen" (INSZ 85073003328 in the `insz` claim) and
 *   "Test clerk" (no INSZ).
 * - The profile scope carries `name` and `insz`, in the ID token too (conformIdTokenClaims off).
 * - Consent is not asked: the service is its only client.
 * - RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the service sends the person
 *   here at sign-out; a plain page asks to confirm, then the provider's session ends and the
 *   browser goes back to the service's address (the redirect URI's site root, registered with
 *   it).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import { html } from '../../src/http/pages/html.js';

export interface DevAccount {
  /** the `sub` claim */
  sub: string;
  /** what the interaction page's button says */
  label: string;
  name: string;
  insz?: string;
}

export const DEV_CITIZEN: DevAccount = { sub: 'test-citizen', label: 'Test citizen', name: 'Test Citizen', insz: '85073003328' };
export const DEV_CLERK: DevAccount = { sub: 'test-clerk', label: 'Test clerk', name: 'Test Clerk' };

export interface DevOidcOptions {
  port: number;
  host?: string;
  clientId: string;
  clientSecret: string;
  redirectUris?: string[];
  accounts?: DevAccount[];
}

/** oidc-provider's storage, in memory; the client is answered from the live redirect URI list. */
class MemoryAdapter implements Adapter {
  private static readonly stores = new WeakMap<DevOidcProvider, Map<string, Map<string, { payload: AdapterPayload; expiresAt?: number }>>>();
  private readonly store: Map<string, { payload: AdapterPayload; expiresAt?: number }>;

  constructor(
    private readonly name: string,
    private readonly owner: DevOidcProvider,
  ) {
    let all = MemoryAdapter.stores.get(owner);
    if (!all) MemoryAdapter.stores.set(owner, (all = new Map()));
    let store = all.get(name);
    if (!store) all.set(name, (store = new Map()));
    this.store = store;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    this.store.set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.name === 'Client') return this.owner.clientMetadata(id);
    const e = this.store.get(id);
    if (!e) return undefined;
    if (e.expiresAt !== undefined && e.expiresAt <= Date.now()) {
      this.store.delete(id);
      return undefined;
    }
    return e.payload;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    for (const [id, e] of this.store) if (e.payload.userCode === userCode) return this.find(id);
    return undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    for (const [id, e] of this.store) if (e.payload.uid === uid) return this.find(id);
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const e = this.store.get(id);
    if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.delete(id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [id, e] of this.store) if (e.payload.grantId === grantId) this.store.delete(id);
  }
}

export class DevOidcProvider {
  private server: http.Server | undefined;
  private provider: Provider | undefined;
  private readonly redirectUris: Set<string>;
  private readonly accounts: Map<string, DevAccount>;
  issuer = '';

  constructor(private readonly options: DevOidcOptions) {
    this.redirectUris = new Set(options.redirectUris ?? []);
    this.accounts = new Map((options.accounts ?? [DEV_CITIZEN, DEV_CLERK]).map((a) => [a.sub, a]));
  }

  /** Registers the service's callback, and the address sign-out comes back to (the root of the same site: `<PUBLIC_URL>/`). */
  allowRedirectUri(uri: string): void {
    this.redirectUris.add(uri);
  }

  private postLogoutRedirectUris(): string[] {
    return [...this.redirectUris].map((u) => u.replace(/\/signin\/callback$/, '/'));
  }

  /** The registered client's metadata (oidc-provider's Client model, read through the adapter). */
  clientMetadata(id: string): AdapterPayload | undefined {
    if (id !== this.options.clientId) return undefined;
    return {
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
      client_name: 'Registered electronic mail (development)',
      redirect_uris: [...this.redirectUris],
      post_logout_redirect_uris: this.postLogoutRedirectUris(),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    } as AdapterPayload;
  }

  /** Listens (EADDRINUSE rejects: the caller says so); the issuer is http://<host>:<port>. */
  async start(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.issuer = `http://${host}:${port}`;
    const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    this.provider = new Provider(this.issuer, {
      adapter: (name: string) => new MemoryAdapter(name, this),
      jwks: { keys: [{ ...signingKey, kid: 'dev-1', use: 'sig', alg: 'RS256' }] as never },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      claims: { openid: ['sub'], profile: ['name', 'insz'] },
      scopes: ['openid', 'profile'],
      conformIdTokenClaims: false,
      ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600 },
      pkce: { required: () => true },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: { enabled: true, logoutSource: (ctx: KoaContextWithOIDC, form: string) => this.logoutPage(ctx, form) },
      },
      interactions: { url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      findAccount: async (_ctx: KoaContextWithOIDC, sub: string) => {
        const a = this.accounts.get(sub);
        if (!a) return undefined;
        return { accountId: sub, claims: async () => ({ sub, name: a.name, ...(a.insz ? { insz: a.insz } : {}) }) };
      },
      // the service is this provider's only client: its grant is given without a consent page
      loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
        const p = ctx.oidc.provider;
        const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
        if (grantId) return p.Grant.find(grantId);
        const grant = new p.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
        grant.addOIDCScope('openid profile');
        grant.addOIDCClaims(['name', 'insz']);
        await grant.save();
        return grant;
      },
    } as never);
    return this.issuer;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const provider = this.provider;
    if (!provider) {
      res.writeHead(503).end();
      return;
    }
    try {
      const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/abort)?$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
      if (!m) {
        provider.callback()(req, res);
        return;
      }
      const details = await provider.interactionDetails(req, res);
      if (m[2] === undefined && req.method === 'GET') return this.choicePage(res, details.uid);
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const form = new URLSearchParams(await readBody(req));
      if (m[2] === '/abort') {
        await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the person cancelled the sign-in' }, { mergeWithLastSubmission: false });
        return;
      }
      const account = this.accounts.get(form.get('account') ?? '');
      if (!account) return this.choicePage(res, details.uid, 400);
      await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
    } catch (err) {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(`sign-in interaction failed: ${(err as Error).message}\n`);
    }
  }

  /** The provider's sign-out question: `form` is oidc-provider's (id op.logoutForm, its own CSRF token); "yes" ends the provider's session. */
  private logoutPage(ctx: KoaContextWithOIDC, form: string): void {
    ctx.type = 'html';
    // no form-action: the answer's redirect goes back to the service (Chromium applies form-action to it)
    ctx.set('content-security-policy', "default-src 'none'; img-src data:; frame-ancestors 'none'; base-uri 'none'");
    ctx.set('cache-control', 'no-store');
    ctx.body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Development identity provider: sign out</title>
</head>
<body>
<main>
<h1>Sign out of the development identity provider?</h1>
<p>You signed out of the service. Sign out here too, so that the next person at this computer is asked who they are.</p>
${form}
<p><button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button></p>
</main>
</body>
</html>`;
  }

  private choicePage(res: ServerResponse, uid: string, status = 200): void {
    const accounts = [...this.accounts.values()];
    const page = html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Development identity provider</title>
</head>
<body>
<main>
<h1>Development identity provider</h1>
<p>Not a real identity provider: choose a test account to sign in as. No password is asked.</p>
<form method="post" action="/interaction/${uid}/login">
<fieldset><legend>Sign in as</legend>
${accounts.map((a) => html`<p><button type="submit" name="account" value="${a.sub}">${a.label}</button> ${a.insz ? html`<span>(INSZ ${a.insz})</span>` : ''}</p>`)}
</fieldset>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>
</main>
</body>
</html>`;
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // no form-action: the login's redirect goes back to the service (Chromium applies form-action to it)
      'content-security-policy': "default-src 'none'; img-src data:; frame-ancestors 'none'; base-uri 'none'",
    });
    res.end(page.value);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}
