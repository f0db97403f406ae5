/**
 * The GovApp channel: a push to every installation of the recipient with notifications
 * on. The title travels in clear; the HTML body is sanitised at submission and encrypted
 * end-to-end to the devices' keys at sending (content/DeviceEncryption.ts).
 */
import { ServiceError } from '../../domain/errors.js';
import { encryptForDevices } from '../content/DeviceEncryption.js';
import { sanitizeNotificationHtml, visibleText } from '../content/SanitizeHtml.js';
import { ProviderError, type PushGateway } from '../providers/Provider.js';
import type { Reachability } from '../Strategies.js';
import type { ChannelSendRequest, ChannelSendResult, NotificationChannel, NotificationContent, RecipientTargets } from './Channel.js';

export const MAX_TITLE_LENGTH = 100;
export const MAX_HTML_BYTES = 32 * 1024;

export class GovAppChannel implements NotificationChannel {
  readonly name = 'GOVAPP' as const;

  constructor(private readonly gateway: PushGateway | undefined) {}

  reachability(targets: RecipientTargets): Reachability {
    if (!this.gateway) return { ok: false, reason: 'PROVIDER_NOT_CONFIGURED' };
    if (targets.devices.length === 0) return { ok: false, reason: 'APP_NOT_INSTALLED' };
    if (!targets.devices.some((d) => d.notificationsEnabled)) return { ok: false, reason: 'APP_NOTIFICATIONS_OFF' };
    return { ok: true };
  }

  prepare(content: NotificationContent): Partial<NotificationContent> {
    const title = content.title?.replace(/\s+/g, ' ').trim();
    if (!title) throw new ServiceError('NOTIFICATION_INVALID', `a title is needed (language ${content.language}) for GovApp`);
    if ([...title].length > MAX_TITLE_LENGTH) throw new ServiceError('NOTIFICATION_INVALID', `the title is longer than ${MAX_TITLE_LENGTH} characters`);
    if (/[<>]/.test(title)) throw new ServiceError('NOTIFICATION_INVALID', 'the title is plain text and travels in clear: no markup');
    if (!content.html) throw new ServiceError('NOTIFICATION_INVALID', `an HTML body is needed (language ${content.language}) for GovApp`);
    const html = sanitizeNotificationHtml(content.html);
    if (visibleText(html) === '') throw new ServiceError('NOTIFICATION_INVALID', 'the HTML body has no visible text once sanitised');
    if (Buffer.byteLength(html) > MAX_HTML_BYTES) throw new ServiceError('NOTIFICATION_INVALID', `the HTML body is larger than ${MAX_HTML_BYTES} bytes`);
    return { title, html };
  }

  async send(req: ChannelSendRequest): Promise<ChannelSendResult> {
    if (!this.gateway) throw new ProviderError('PROVIDER_NOT_CONFIGURED', 'no GovApp push provider is configured', true);
    const devices = req.targets.devices.filter((d) => d.notificationsEnabled);
    if (devices.length === 0) throw new ProviderError('APP_NOTIFICATIONS_OFF', 'no installation with notifications on is left', true);
    if (!req.content.title || !req.content.html) throw new ProviderError('CONTENT_MISSING', 'the notification has no title or HTML body', true);
    const content = await encryptForDevices(req.content.html, req.notificationId, devices.map((d) => ({ kid: d.installationId, jwk: d.publicKey })));
    const res = await this.gateway.send({
      pushId: req.attemptId,
      messageId: req.notificationId,
      title: req.content.title,
      language: req.content.language,
      devices: devices.map((d) => ({ installationId: d.installationId, pushToken: d.pushToken })),
      content,
    });
    if (res.accepted.length === 0) throw new ProviderError('PUSH_REJECTED', `the push backend refused every device: ${res.rejected.map((r) => r.reason).join(', ') || 'no reason given'}`, true);
    const rejected = new Map(res.rejected.map((r) => [r.installationId, r.reason]));
    return {
      provider: this.gateway.name,
      providerRef: res.providerRef,
      units: res.accepted.length,
      targets: {
        devices: devices.map((d) => ({
          installationId: d.installationId,
          status: res.accepted.includes(d.installationId) ? 'SENT' : 'FAILED',
          ...(rejected.has(d.installationId) ? { reason: rejected.get(d.installationId) } : {}),
        })),
      },
    };
  }
}
