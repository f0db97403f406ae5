/**
 * The kinds of caller the matrix sends to every operation, and what each must be answered.
 *
 * A caller presents one credential (or a broken one, or none). What it must get follows from
 * the operation's security requirement in the OpenAPI document:
 *  - public operation: its success status, whoever asks;
 *  - the address is blocked by the AuthGuard: 429 RATE_LIMITED, whatever it presents;
 *  - a valid credential of the operation's realm: the success status when the resource is
 *    the caller's (the owner, or another sender/recipient on its own collection), 404
 *    NOT_FOUND when the path names another party's resource;
 *  - anything else (no credential, a malformed, unknown, revoked or expired one, one of
 *    another realm): 401 with WWW-Authenticate, code UNAUTHENTICATED — or, on a provider
 *    callback, CALLBACK_SIGNATURE_INVALID.
 */
import { randomBytes } from 'node:crypto';
import { signBody } from '../../src/notifications/CallbackSignature.js';
import type { TlsIdentity } from './client.js';
import type { Operation, Realm } from './document.js';
import { ADMIN_TOKEN, METRICS_TOKEN, type World } from './world.js';

/** Whom a valid credential belongs to: the owner of the fixtures' data in its realm, or another party. */
export type Party = 'owner' | 'other';

export interface Presented {
  headers: Array<[string, string]>;
  /** query parameters it adds (a callback's URL token) */
  query?: Record<string, string>;
  tls?: TlsIdentity;
  /** a fixed client address (the blocked one) */
  address?: string;
}

export interface CaseContext {
  op: Operation;
  body: Buffer | undefined;
}

export interface Caller {
  id: string;
  /** the valid credential it holds, if any: its realm and whose it is */
  holds?: { realm: Realm; party: Party };
  throttled?: boolean;
  /** what it sends; undefined where this kind of caller cannot be made (no TLS in the profile, no such provider) */
  present(c: CaseContext, w: World): Presented | undefined;
}

const bearer = (token: string): [string, string] => ['authorization', `Bearer ${token}`];
const randomToken = () => randomBytes(32).toString('base64url');

/** The right credential for an operation's realm (the sender realm and public operations: A's key). */
function ownerBearer(realm: Realm, w: World): string {
  if (realm === 'recipient') return w.R1.token;
  if (realm === 'admin') return ADMIN_TOKEN;
  if (realm === 'metrics') return METRICS_TOKEN;
  return w.keys.A;
}

/** The provider secrets of a signed callback: the right one and another provider's. */
function providerSecrets(op: Operation, w: World): { header: string; right: string; other: string } | undefined {
  const { sms, govapp } = w.callbackSecrets;
  if (!sms || !govapp) return undefined;
  if (op.callback?.kind === 'header') {
    const right = op.callback.header.toLowerCase() === 'govapp-signature' ? govapp : sms;
    return { header: op.callback.header, right, other: right === sms ? govapp : sms };
  }
  // not a signed callback: the SMS aggregator's signature over the body, a credential of another realm
  return { header: 'Signature', right: sms, other: govapp };
}

function providerCredential(kind: 'valid' | 'other' | 'stale', c: CaseContext, w: World): Presented | undefined {
  if (c.op.callback?.kind === 'query') {
    if (kind === 'stale') return undefined; // a URL token does not age
    // the sms-service's token for inbound SMS, a delivery report's token for the dlr-url
    const valid = c.op.path.endsWith('/inbound') ? w.kannel?.inboundToken : w.kannel?.tokenA;
    const token = w.kannel ? (kind === 'valid' ? valid! : w.kannel.tokenB) : randomBytes(16).toString('base64url');
    return { headers: [], query: { [c.op.callback.param]: token } };
  }
  const s = providerSecrets(c.op, w);
  if (!s) return undefined;
  const t = Math.floor(Date.now() / 1000) - (kind === 'stale' ? 600 : 0);
  return { headers: [[s.header, signBody(kind === 'other' ? s.other : s.right, c.body ?? Buffer.alloc(0), t)]] };
}

const tls = (pick: (t: NonNullable<World['tls']>) => TlsIdentity) => (_c: CaseContext, w: World): Presented | undefined => (w.tls ? { headers: [], tls: pick(w.tls) } : undefined);

export const CALLERS: Caller[] = [
  { id: 'none', present: () => ({ headers: [] }) },
  { id: 'malformed: Basic', present: () => ({ headers: [['authorization', `Basic ${Buffer.from('admin:admin').toString('base64')}`]] }) },
  { id: 'malformed: Bearer without token', present: () => ({ headers: [['authorization', 'Bearer']] }) },
  { id: 'malformed: two tokens, one line', present: (c, w) => ({ headers: [['authorization', `Bearer ${ownerBearer(c.op.realm, w)} ${w.keys.B}`]] }) },
  { id: 'malformed: two Authorization lines', present: (c, w) => ({ headers: [bearer(ownerBearer(c.op.realm, w)), bearer(w.keys.B)] }) },
  { id: 'unknown sender key', present: () => ({ headers: [bearer(`rmk_${randomToken()}`)] }) },
  { id: 'unknown recipient token', present: () => ({ headers: [bearer(`rbx_${randomToken()}`)] }) },
  { id: 'unknown operator token', present: () => ({ headers: [bearer(randomToken())] }) },
  { id: 'revoked sender key', present: (_c, w) => ({ headers: [bearer(w.keys.revoked)] }) },
  { id: 'expired sender key', present: (_c, w) => ({ headers: [bearer(w.keys.expired)] }) },
  { id: 'revoked client certificate', present: tls((t) => t.revoked) },
  { id: 'registered certificate, untrusted issuer', present: tls((t) => t.untrusted) },
  { id: 'trusted certificate, unregistered', present: tls((t) => t.unregistered) },
  { id: 'revoked recipient token', present: (_c, w) => ({ headers: [bearer(w.R1.revokedToken)] }) },
  { id: 'sender A key', holds: { realm: 'sender', party: 'owner' }, present: (_c, w) => ({ headers: [bearer(w.keys.A)] }) },
  { id: 'sender A certificate', holds: { realm: 'sender', party: 'owner' }, present: tls((t) => t.A) },
  { id: 'sender B key', holds: { realm: 'sender', party: 'other' }, present: (_c, w) => ({ headers: [bearer(w.keys.B)] }) },
  { id: 'recipient R1', holds: { realm: 'recipient', party: 'owner' }, present: (_c, w) => ({ headers: [bearer(w.R1.token)] }) },
  { id: 'recipient R2', holds: { realm: 'recipient', party: 'other' }, present: (_c, w) => ({ headers: [bearer(w.R2.token)] }) },
  { id: 'admin token', holds: { realm: 'admin', party: 'owner' }, present: () => ({ headers: [bearer(ADMIN_TOKEN)] }) },
  { id: 'metrics token', holds: { realm: 'metrics', party: 'owner' }, present: () => ({ headers: [bearer(METRICS_TOKEN)] }) },
  { id: 'provider, valid', holds: { realm: 'callback', party: 'owner' }, present: (c, w) => providerCredential('valid', c, w) },
  { id: "provider, another's credential", present: (c, w) => providerCredential('other', c, w) },
  { id: 'provider, signature 10 min old', present: (c, w) => providerCredential('stale', c, w) },
  {
    id: 'blocked address, right credential',
    throttled: true,
    present: (c, w) => {
      const right = c.op.realm === 'callback' ? providerCredential('valid', c, w) : { headers: [bearer(ownerBearer(c.op.realm, w))] };
      return right && { ...right, address: w.blockedAddress };
    },
  },
];

export interface Expected {
  statuses: number[];
  /** the problem code of a refusal */
  code?: string;
  /** runs with the owners' cases, after every other caller of every operation */
  owner: boolean;
  /** may see the fixtures' data (A's, R1's): the owner in its realm, nobody on public routes */
  entitled: boolean;
}

export function expected(op: Operation, success: number[], scope: 'owned' | 'self', absent: boolean, caller: Caller): Expected {
  if (op.realm === 'public') return { statuses: success, owner: false, entitled: false };
  if (caller.throttled) return { statuses: [429], code: 'RATE_LIMITED', owner: false, entitled: false };
  if (absent) return { statuses: [404], code: 'NOT_FOUND', owner: false, entitled: false };
  const holds = caller.holds;
  if (holds && holds.realm === op.realm) {
    if (holds.party === 'owner') return { statuses: success, owner: true, entitled: op.realm === 'sender' || op.realm === 'recipient' || op.realm === 'admin' };
    return scope === 'owned' ? { statuses: [404], code: 'NOT_FOUND', owner: false, entitled: false } : { statuses: success, owner: false, entitled: false };
  }
  return { statuses: [401], code: op.realm === 'callback' ? 'CALLBACK_SIGNATURE_INVALID' : 'UNAUTHENTICATED', owner: false, entitled: false };
}
