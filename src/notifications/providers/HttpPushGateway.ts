/**
 * GovApp push over HTTP: the contract between this service and the app's backend (which
 * holds the installations' push tokens and talks to the platform push services).
 *
 *   POST {GOVAPP_PUSH_URL}/v1/pushes
 *   Authorization: Bearer {GOVAPP_PUSH_TOKEN}           (when configured)
 *   {"pushId": "<attempt id>", "messageId": "<notification id>", "title": "…", "language": "nl",
 *    "devices": [{"installationId": "…", "pushToken": "…"}],
 *    "content": <JWE General JSON: the HTML body, one recipient per device, kid = installationId>,
 *    "callbackUrl": "https://…/v1/callbacks/govapp"}
 *   → 202 {"pushId": "…", "accepted": ["<installationId>", …],
 *          "rejected": [{"installationId": "…", "reason": "TOKEN_UNREGISTERED"}]}
 *     The backend deduplicates on pushId: sending the same push again answers the same.
 *   → 400/404/409/422: refused for good; 401/403: credentials refused; 408/429/5xx: retried
 *
 *   receipts: POST callbackUrl, header `GovApp-Signature: t=…,v1=…` (see CallbackSignature.ts)
 *   {"pushId": "…", "installationId": "…", "event": "DELIVERED" | "READ", "at": "<RFC 3339>"}
 *   DELIVERED when the device received the push, READ when the user opened the message
 *   ("the status of the message received on GovApp").
 */
import { isTransientStatus, ProviderError, providerFetch, providerText, type CallbackBase, type OutboundPush, type PushAccepted, type PushGateway } from './Provider.js';

export const GOVAPP_CALLBACK_PATH = '/v1/callbacks/govapp';
export const GOVAPP_SIGNATURE_HEADER = 'GovApp-Signature';

export interface HttpPushOptions {
  url: string;
  token?: string;
  timeoutMs: number;
  callbackBase: CallbackBase;
}

export class HttpPushGateway implements PushGateway {
  readonly name = 'govapp-http';

  constructor(private readonly options: HttpPushOptions) {}

  async send(push: OutboundPush): Promise<PushAccepted> {
    const base = this.options.callbackBase();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const body = JSON.stringify({ ...push, callbackUrl: base ? `${base.replace(/\/+$/, '')}${GOVAPP_CALLBACK_PATH}` : undefined });
    const res = await providerFetch('govapp', `${this.options.url.replace(/\/+$/, '')}/v1/pushes`, { method: 'POST', headers, body }, this.options.timeoutMs);
    const text = await res.text().catch(() => '');
    if (res.ok) {
      let json: { pushId?: unknown; accepted?: unknown; rejected?: unknown };
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new ProviderError('PROVIDER_UNAVAILABLE', `govapp answered ${res.status} without JSON`, false, { cause: err });
      }
      const accepted = Array.isArray(json.accepted) ? json.accepted.filter((x): x is string => typeof x === 'string') : push.devices.map((d) => d.installationId);
      const rejected = Array.isArray(json.rejected)
        ? json.rejected.filter((r): r is { installationId: string; reason: string } => typeof r?.installationId === 'string').map((r) => ({ installationId: r.installationId, reason: String(r.reason ?? 'REJECTED') }))
        : [];
      return { providerRef: typeof json.pushId === 'string' ? json.pushId : push.pushId, accepted, rejected };
    }
    const detail = providerText(text);
    if (isTransientStatus(res.status)) throw new ProviderError('PROVIDER_UNAVAILABLE', `govapp answered ${res.status}: ${detail}`, false);
    if (res.status === 401 || res.status === 403) throw new ProviderError('PROVIDER_REJECTED', `govapp refused the credentials (${res.status})`, true);
    throw new ProviderError('PUSH_REJECTED', `govapp refused the push (${res.status}): ${detail}`, true);
  }
}
