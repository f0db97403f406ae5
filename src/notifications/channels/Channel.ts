/**
 * A channel delivers a notification one way (GovApp push, SMS). It knows whether the
 * recipient can be reached on it, what content it needs (checked at submission, so a
 * sender hears about a too-long SMS at once), and how to send through its provider. It
 * knows nothing of strategies.
 */
import type { JWK } from 'jose';
import type { Language } from '../content/Language.js';
import type { SmsEncoding } from '../sms/Gsm0338.js';
import type { Reachability } from '../Strategies.js';

export const CHANNEL_NAMES = ['GOVAPP', 'SMS'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

export interface DeviceTarget {
  installationId: string;
  pushToken: string;
  publicKey: JWK;
  notificationsEnabled: boolean;
}

/** Where the recipient can be reached, from the contact directory (or the request). */
export interface RecipientTargets {
  phone: string | null;
  devices: DeviceTarget[];
  /** the number asked for no SMS from this notification's sender (or from all senders) */
  smsOptedOut?: boolean;
}

/** The content of a notification as stored: rendered, sanitised, counted. */
export interface NotificationContent {
  language: Language;
  title: string | null;
  html: string | null;
  sms: string | null;
  smsEncoding: SmsEncoding | null;
  smsParts: number | null;
}

export interface ChannelSendRequest {
  attemptId: string;
  notificationId: string;
  content: NotificationContent;
  targets: RecipientTargets;
  /** the sender's own SMS sender ID, if it has one */
  smsFrom?: string;
}

export interface ChannelSendResult {
  provider: string;
  providerRef?: string;
  /** billable units: SMS parts, or pushes (one per device) */
  units: number;
  /** per-target outcome, stored with the attempt */
  targets: Record<string, unknown>;
  detail?: string;
}

export interface PrepareOptions {
  /** apply the GSM-7 transliteration rule to the SMS text */
  transliterate: boolean;
}

export interface NotificationChannel {
  readonly name: ChannelName;
  reachability(targets: RecipientTargets): Reachability;
  /**
   * Checks and normalises the content this channel would send (throws a ServiceError with a
   * 4xx code when it cannot be sent); returns the fields it sets.
   */
  prepare(content: NotificationContent, options: PrepareOptions): Partial<NotificationContent>;
  send(request: ChannelSendRequest): Promise<ChannelSendResult>;
}
