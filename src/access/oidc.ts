/**
 * Sign-in with OpenID Connect (OpenID Connect Core 1.0 §3.1, the authorization code flow),
 * with openid-client as the relying party:
 *
 *  1. `begin`: a random state, nonce and PKCE code verifier (RFC 7636, S256) are kept in the
 *     database under the SHA-256 of an attempt id the browser holds in a cookie; the browser
 *     goes to the provider's authorization endpoint.
 *  2. `complete`: the provider sends the browser back to <PUBLIC_URL>/signin/callback. The
 *     attempt of the browser's cookie is taken (deleted: a replayed callback finds none), the
 *     `state` must match (§3.1.2.7), the code is exchanged with the verifier at the token
 *     endpoint (client secret, `client_secret_basic`), and the ID token is validated by
 *     openid-client (signature against the provider's JWKS, iss, aud, exp, iat, nonce).
 *  3. A citizen is a person whose ID token carries a valid INSZ/NISS in the configured claim;
 *     a clerk is an (issuer, sub) the operator mapped to a sender (PageSessionService). No
 *     password passes through the service.
 *
 * Every request to the provider (discovery, JWKS, token) goes through the outbound policy
 * (src/net): a private address only when OIDC_ALLOW_PRIVATE_TARGETS (or, in development, the
 * development provider on loopback) allows it.
 */
import * as client from 'openid-client';
import type { Logger } from 'pino';
import type { OidcConfig } from '../config.js';
import { ServiceError } from '../domain/errors.js';
import { isValidInsz, normaliseIdentifier } from '../domain/identifiers.js';
import { fetchWithinPolicy, OutboundRequestError } from '../net/OutboundRequest.js';
import { OutboundPolicy } from '../net/OutboundPolicy.js';
import type { PageSessionService, SignedInPerson } from './pageSessions.js';

const TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 1024 * 1024;

export interface BegunSignin {
  /** the provider's authorization URL, where the browser goes */
  authorizationUrl: string;
  /** the attempt's id, for the browser's cookie */
  attemptId: string;
}

export interface CompletedSignin {
  sessionId: string;
  nextPath: string;
  lang: string;
  person: SignedInPerson;
}

/** A fetch (as openid-client calls it) that goes through the outbound policy. */
export function policyFetch(policy: OutboundPolicy, timeoutMs = TIMEOUT_MS): client.CustomFetch {
  return async (url, options) => {
    const body = options.body === undefined || options.body === null ? undefined : await new Response(options.body as BodyInit).arrayBuffer();
    try {
      const r = await fetchWithinPolicy(new URL(url), {
        policy,
        method: options.method === 'POST' ? 'POST' : 'GET',
        headers: options.headers,
        body: body ? new Uint8Array(body) : undefined,
        timeoutMs,
        maxBodyBytes: MAX_BODY_BYTES,
      });
      const headers = new Headers();
      for (const [k, v] of Object.entries(r.headers)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
      }
      return new Response(r.status === 204 || r.status === 304 ? null : new Uint8Array(r.body), { status: r.status, headers });
    } catch (err) {
      throw new ServiceError('SIGNIN_UNAVAILABLE', 'the identity provider could not be reached', { cause: err, logFields: { outbound: err instanceof OutboundRequestError ? err.kind : 'other' } });
    }
  };
}

export class OidcSignin {
  private configuration: Promise<client.Configuration> | undefined;
  /** the provider's metadata, once discovered */
  private metadata: client.ServerMetadata | undefined;
  private readonly policy: OutboundPolicy;

  constructor(
    private readonly oidc: OidcConfig,
    /** PUBLIC_URL; when unset, the address the service listens on (`setPublicUrl`) */
    private publicUrl: string | undefined,
    private readonly sessions: PageSessionService,
    private readonly log: Logger,
  ) {
    this.policy = new OutboundPolicy({ allow: oidc.allowPrivateTargets });
  }

  get issuer(): string {
    return this.oidc.issuer;
  }

  /**
   * The provider's origins a page's form may lead to (CSP form-action: Chromium applies it to
   * the redirect after a POST): the issuer's, and those of the authorization endpoint (sign-in)
   * and the end-session endpoint (sign-out), which need not be on the issuer's origin, once the
   * provider's metadata is known (`prepare`).
   */
  formOrigins(): string[] {
    const origins = new Set([new URL(this.oidc.issuer).origin]);
    for (const endpoint of [this.metadata?.authorization_endpoint, this.metadata?.end_session_endpoint]) if (endpoint) origins.add(new URL(endpoint).origin);
    return [...origins];
  }

  /** Discovers the provider's metadata if it is not known yet; a failure is left to the sign-in to tell. */
  async prepare(): Promise<void> {
    if (this.metadata) return;
    await this.discover().catch(() => undefined);
  }

  /** Where people reach the service, when PUBLIC_URL does not say (PORT=0: known once the service listens). */
  setPublicUrl(url: string): void {
    if (this.publicUrl === undefined) this.publicUrl = url.replace(/\/+$/, '');
  }

  get redirectUri(): string {
    if (this.publicUrl === undefined) throw new ServiceError('SIGNIN_UNAVAILABLE', 'the service\'s public address is not known yet');
    return `${this.publicUrl}/signin/callback`;
  }

  /** The provider's metadata, discovered once (again after a failure). */
  private discover(): Promise<client.Configuration> {
    this.configuration ??= (async () => {
      const execute = new URL(this.oidc.issuer).protocol === 'http:' ? [client.allowInsecureRequests] : [];
      const fetch = policyFetch(this.policy);
      const config = await client.discovery(new URL(this.oidc.issuer), this.oidc.clientId, { redirect_uris: [this.redirectUri], response_types: ['code'] }, client.ClientSecretBasic(this.oidc.clientSecret), {
        execute,
        [client.customFetch]: fetch,
        timeout: TIMEOUT_MS / 1000,
      });
      config[client.customFetch] = fetch;
      this.metadata = config.serverMetadata();
      return config;
    })().catch((err: unknown) => {
      this.configuration = undefined;
      if (err instanceof ServiceError) throw err;
      throw new ServiceError('SIGNIN_UNAVAILABLE', 'the identity provider\'s discovery failed', { cause: err });
    });
    return this.configuration;
  }

  async begin(nextPath: string, lang: string): Promise<BegunSignin> {
    const config = await this.discover();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const attemptId = await this.sessions.startAttempt({ state, nonce, codeVerifier, nextPath, lang });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: 'openid profile',
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ui_locales: lang,
    });
    return { authorizationUrl: url.href, attemptId };
  }

  /**
   * Where the browser goes at sign-out to end the provider's session too (OpenID Connect
   * RP-Initiated Logout 1.0: `client_id`, `post_logout_redirect_uri` = the service's root,
   * `ui_locales`), so that the next person at a shared computer is asked who they are;
   * undefined when the provider publishes no `end_session_endpoint` or cannot be reached
   * (the service's own session is ended either way).
   */
  async endSessionUrl(lang: string): Promise<string | undefined> {
    let config: client.Configuration;
    try {
      config = await this.discover();
    } catch (err) {
      this.log.warn({ code: (err as ServiceError).code }, 'sign-out: the identity provider could not be reached; only the service\'s session ended');
      return undefined;
    }
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    const root = this.redirectUri.replace(/\/signin\/callback$/, '/');
    return client.buildEndSessionUrl(config, { post_logout_redirect_uri: root, ui_locales: lang }).href;
  }

  /**
   * The provider's answer at the callback URL (`query`: its parameters). Refused (SIGNIN_FAILED)
   * without the browser's attempt, when taken before, with another state, an error from the
   * provider, or a code or ID token that does not validate.
   */
  async complete(attemptId: string | undefined, query: URLSearchParams): Promise<CompletedSignin> {
    const attempt = attemptId ? await this.sessions.takeAttempt(attemptId) : undefined;
    if (!attempt) throw new ServiceError('SIGNIN_FAILED', 'no sign-in under way in this browser (or it was completed already)');
    const config = await this.discover();
    const current = new URL(this.redirectUri);
    for (const [k, v] of query) current.searchParams.append(k, v);
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, { pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true });
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      // the provider's error, a state or nonce that does not match, an invalid ID token: for the log, not the browser
      this.log.warn({ reason: (err as { code?: string }).code ?? (err as Error).name, error: (err as { error?: string }).error }, 'sign-in refused');
      throw new ServiceError('SIGNIN_FAILED', 'the sign-in could not be completed', { cause: err });
    }
    const claims = tokens.claims();
    if (!claims) throw new ServiceError('SIGNIN_FAILED', 'no ID token');
    const person: SignedInPerson = { issuer: String(claims.iss), subject: String(claims.sub), name: displayName(claims), insz: inszOf(claims[this.oidc.inszClaim]) };
    const sessionId = await this.sessions.create(person);
    return { sessionId, nextPath: attempt.nextPath, lang: attempt.lang, person };
  }
}

function displayName(claims: client.IDToken): string {
  for (const c of [claims.name, [claims.given_name, claims.family_name].filter(Boolean).join(' '), claims.preferred_username, claims.email]) {
    if (typeof c === 'string' && c.trim() !== '') return c.trim().slice(0, 200);
  }
  return String(claims.sub).slice(0, 200);
}

/** The claim's INSZ/NISS when it is one (11 digits, check digits right); null otherwise. */
function inszOf(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const n = normaliseIdentifier(v);
  return /^\d{11}$/.test(n) && isValidInsz(n) ? n : null;
}
