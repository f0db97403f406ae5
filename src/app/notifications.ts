/**
 * Builds the notification capability from the configuration: the SMS and push providers
 * named by it, the channels over them, the strategies, the engine and the service.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ChannelName, NotificationChannel } from '../notifications/channels/Channel.js';
import { GovAppChannel } from '../notifications/channels/GovAppChannel.js';
import { SmsChannel } from '../notifications/channels/SmsChannel.js';
import { NotificationEngine } from '../notifications/engine.js';
import { HttpPushGateway } from '../notifications/providers/HttpPushGateway.js';
import { HttpSmsGateway } from '../notifications/providers/HttpSmsGateway.js';
import { KannelSmsGateway } from '../notifications/providers/KannelSmsGateway.js';
import type { PushGateway, SmsGateway } from '../notifications/providers/Provider.js';
import { NotificationService } from '../notifications/service.js';
import { builtinStrategies } from '../notifications/Strategies.js';
import type { EvidenceService } from '../registered-mail/evidence.js';
import type { Repositories } from '../store/Repositories.js';

export function buildNotifications(config: Config, store: Repositories, evidence: EvidenceService, log: Logger): NotificationService {
  const late: { service?: NotificationService } = {};
  const callbackBase = () => late.service?.callbackBase;
  const smsProvider = config.notify.sms.provider;
  let sms: SmsGateway | undefined;
  if (smsProvider.kind === 'kannel') {
    sms = new KannelSmsGateway({ ...smsProvider, callbackBase });
  } else if (smsProvider.kind === 'http') {
    sms = new HttpSmsGateway({ url: smsProvider.url, token: smsProvider.token, from: smsProvider.from, timeoutMs: smsProvider.timeoutMs, callbackBase });
  }
  const push: PushGateway | undefined = config.notify.govapp.kind === 'http' ? new HttpPushGateway({ url: config.notify.govapp.url, token: config.notify.govapp.token, timeoutMs: config.notify.govapp.timeoutMs, callbackBase }) : undefined;
  const channels = new Map<ChannelName, NotificationChannel>([
    ['GOVAPP', new GovAppChannel(push)],
    ['SMS', new SmsChannel(sms, { maxParts: config.notify.sms.maxParts })],
  ]);
  const strategies = builtinStrategies();
  const engine = new NotificationEngine({ store, config, channels, strategies, evidence, log });
  const service = new NotificationService(store, config, engine, strategies, channels, log);
  late.service = service;
  if ((sms || push) && !config.notify.callbackBaseUrl) log.warn('NOTIFY_CALLBACK_BASE_URL is not set: providers cannot send delivery reports until the service knows its public URL');
  return service;
}
