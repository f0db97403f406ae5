/**
 * The pages for people in tests: the development OpenID provider (dev/oidc-provider) on a
 * port of its own, a service signed in with it, and a plain HTTP client with a cookie jar
 * that follows redirects one by one (each hop kept) and posts forms as a browser does.
 */
import { createHash } from 'node:crypto';
import { DevOidcProvider, DEV_CITIZEN, DEV_CLERK, type DevAccount } from '../../dev/oidc-provider/DevOidcProvider.js';
import { startTestService, type TestService, type TestServiceOptions } from './service.js';

export { DEV_CITIZEN, DEV_CLERK };
export const OTHER_CITIZEN: DevAccount = { sub: 'other-citizen', label: 'Other citizen', name: 'Other Citizen', insz: '17073003384' };
/** a citizen the built-in e-Box does not know */
export const CITIZEN_WITHOUT_EBOX: DevAccount = { sub: 'citizen-without-ebox', label: 'Citizen without e-Box', name: 'Newcomer', insz: '80010100107' };
export const NOBODY_ACCOUNT: DevAccount = { sub: 'no-insz', label: 'Nobody', name: 'Nobody in particular' };

export const OIDC_CLIENT_ID = 'registered-mail-test';
export const OIDC_CLIENT_SECRET = 'test-client-secret-0123456789abcdef';

export interface PagesWorld {
  idp: DevOidcProvider;
  svc: TestService;
  close(): Promise<void>;
}

/** The development provider on a free port and a service that signs in with it. */
export async function startPagesWorld(env: Record<string, string> = {}, options: TestServiceOptions = {}): Promise<PagesWorld> {
  const idp = new DevOidcProvider({ port: 0, clientId: OIDC_CLIENT_ID, clientSecret: OIDC_CLIENT_SECRET, accounts: [DEV_CITIZEN, DEV_CLERK, OTHER_CITIZEN, CITIZEN_WITHOUT_EBOX, NOBODY_ACCOUNT] });
  const issuer = await idp.start();
  let svc: TestService;
  try {
    svc = await startTestService(
      { OIDC_ISSUER: issuer, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32', ...env },
      options,
    );
  } catch (err) {
    await idp.stop();
    throw err;
  }
  idp.allowRedirectUri(`${svc.url}/signin/callback`);
  return {
    idp,
    svc,
    async close() {
      await svc.close();
      await idp.stop();
    },
  };
}

export interface Cookie {
  name: string;
  value: string;
  origin: string;
  path: string;
  /** the Set-Cookie line it came from (attributes as sent) */
  line: string;
}

export interface Hop {
  url: string;
  status: number;
  headers: Headers;
  body: string;
  setCookie: string[];
}

const unescapeHtml = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#96;/g, '`').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** A form of a page: its action (absolute) and its fields (hidden inputs, and the button asked for). */
export function formOf(page: Hop, action: string | RegExp): { action: string; fields: Record<string, string> } {
  for (const m of page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const a = /action="([^"]*)"/.exec(m[1]!)?.[1];
    if (a === undefined) continue;
    const act = unescapeHtml(a);
    if (typeof action === 'string' ? act !== action : !action.test(act)) continue;
    const fields: Record<string, string> = {};
    for (const i of m[2]!.matchAll(/<input\b([^>]*)>/g)) {
      const name = /name="([^"]*)"/.exec(i[1]!)?.[1];
      const value = /value="([^"]*)"/.exec(i[1]!)?.[1];
      if (name !== undefined) fields[unescapeHtml(name)] = unescapeHtml(value ?? '');
    }
    return { action: new URL(act, page.url).href, fields };
  }
  throw new Error(`no form with action ${String(action)} on ${page.url} (status ${page.status}):\n${page.body.slice(0, 2000)}`);
}

/** A browser without script: a cookie jar (Secure cookies kept on http://127.0.0.1, as Chromium does), redirects followed one hop at a time. */
export class PageClient {
  readonly cookies: Cookie[] = [];
  /** the hops of the last `follow` */
  hops: Hop[] = [];

  cookie(name: string, origin?: string): Cookie | undefined {
    return this.cookies.find((c) => c.name === name && (origin === undefined || c.origin === origin));
  }

  setCookie(c: Omit<Cookie, 'line'>): void {
    this.drop(c.name, c.origin, c.path);
    this.cookies.push({ ...c, line: '' });
  }

  private drop(name: string, origin: string, path: string): void {
    const i = this.cookies.findIndex((c) => c.name === name && c.origin === origin && c.path === path);
    if (i >= 0) this.cookies.splice(i, 1);
  }

  private cookieHeader(url: URL): string | undefined {
    const sent = this.cookies.filter((c) => c.origin === url.origin && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)));
    return sent.length ? sent.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  private keep(url: URL, lines: string[]): void {
    for (const line of lines) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const attr = (n: string) => attrs.find((a) => a.toLowerCase().startsWith(`${n.toLowerCase()}=`))?.split('=')[1];
      const path = attr('path') ?? '/';
      const maxAge = attr('max-age');
      const expires = attr('expires');
      const gone = (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= Date.now());
      this.drop(name, url.origin, path);
      if (!gone) this.cookies.push({ name, value, origin: url.origin, path, line });
    }
  }

  /** One request, no redirect followed. */
  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Hop> {
    const u = new URL(url);
    const headers: Record<string, string> = { ...init.headers };
    const cookie = this.cookieHeader(u);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(u, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    const setCookie = res.headers.getSetCookie();
    this.keep(u, setCookie);
    return { url: u.href, status: res.status, headers: res.headers, body: await res.text(), setCookie };
  }

  /** A request and the redirects after it (303/302/301 as GET), up to `max` hops; `stopAt` ends before requesting a matching URL. */
  async follow(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}, stopAt?: (url: URL) => boolean, max = 15): Promise<Hop> {
    this.hops = [];
    let hop = await this.request(url, init);
    this.hops.push(hop);
    for (let i = 0; i < max && hop.status >= 300 && hop.status < 400; i++) {
      const next = new URL(hop.headers.get('location')!, hop.url);
      if (stopAt?.(next)) return hop;
      hop = await this.request(next.href, { headers: init.headers });
      this.hops.push(hop);
    }
    return hop;
  }
}

/**
 * Signs in on the service through the development provider as `account`: the sign-in page's
 * form, the provider's interaction page, its button. Returns the last page (after `next`).
 * `tamper` may change the authorization URL before the browser goes there.
 */
export async function signIn(client: PageClient, world: PagesWorld, account: DevAccount, next = '/', tamper?: (authorizationUrl: URL) => void): Promise<Hop> {
  const choice = await providerChoice(client, world, next, tamper);
  return client.follow(choice.action, { form: { ...choice.fields, account: account.sub } });
}

/** The service's sign-in form, then the provider's authorization page: its form of accounts to choose from. */
async function providerChoice(client: PageClient, world: PagesWorld, next: string, tamper?: (authorizationUrl: URL) => void): Promise<ReturnType<typeof formOf>> {
  const page = await client.follow(`${world.svc.url}/signin?next=${encodeURIComponent(next)}`);
  const form = formOf(page, '/signin');
  const hop = await client.follow(form.action, { form: form.fields }, (u) => u.origin === new URL(world.idp.issuer).origin);
  const auth = new URL(hop.headers.get('location')!, hop.url);
  tamper?.(auth);
  return formOf(await client.follow(auth.href), /\/login$/);
}

/** The provider's redirect back to the service (the callback URL with code and state), stopping before it is requested. */
export async function callbackUrl(client: PageClient, world: PagesWorld, account: DevAccount, next = '/', tamper?: (authorizationUrl: URL) => void): Promise<URL> {
  const choice = await providerChoice(client, world, next, tamper);
  let callback: URL | undefined;
  await client.follow(choice.action, { form: { ...choice.fields, account: account.sub } }, (u) => {
    if (u.pathname === '/signin/callback') callback = u;
    return callback !== undefined;
  });
  if (!callback) throw new Error('the provider did not redirect to the callback');
  return callback;
}

export const sha256hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
