/**
 * The SMS channel: plain text, counted per GSM 03.38 (see sms/Gsm0338.ts) and refused —
 * never cut — when it needs more than `maxParts` parts. The text is put in Unicode NFC
 * first (a decomposed "e + ¨" counts as the one character "ë").
 */
import { ServiceError } from '../../domain/errors.js';
import { checkMobileNumber } from '../PhoneNumber.js';
import { ProviderError, type SmsGateway } from '../providers/Provider.js';
import { analyseSms, transliterateToGsm7, type SmsAnalysis } from '../sms/Gsm0338.js';
import type { Reachability } from '../Strategies.js';
import type { ChannelSendRequest, ChannelSendResult, NotificationChannel, NotificationContent, PrepareOptions, RecipientTargets } from './Channel.js';

export interface SmsChannelOptions {
  maxParts: number;
}

export class SmsChannel implements NotificationChannel {
  readonly name = 'SMS' as const;

  constructor(
    private readonly gateway: SmsGateway | undefined,
    private readonly options: SmsChannelOptions,
  ) {}

  get provider(): string | undefined {
    return this.gateway?.name;
  }

  reachability(targets: RecipientTargets): Reachability {
    if (!this.gateway) return { ok: false, reason: 'PROVIDER_NOT_CONFIGURED' };
    if (!targets.phone) return { ok: false, reason: 'NO_PHONE_NUMBER' };
    if (!checkMobileNumber(targets.phone).ok) return { ok: false, reason: 'PHONE_NUMBER_INVALID' };
    if (targets.smsOptedOut) return { ok: false, reason: 'RECIPIENT_OPTED_OUT' };
    return { ok: true };
  }

  /** The text as it will be sent, and its count; throws SMS_TOO_LONG. */
  count(raw: string, transliterate: boolean): { text: string; analysis: SmsAnalysis } {
    const nfc = raw.normalize('NFC');
    const text = (transliterate && transliterateToGsm7(nfc)) || nfc;
    const analysis = analyseSms(text, this.gateway?.ucs2Split);
    if (analysis.parts > this.options.maxParts) {
      const why =
        analysis.encoding === 'UCS-2'
          ? `it is UCS-2 because of ${analysis.nonGsmCharacters.slice(0, 5).map((c) => JSON.stringify(c)).join(', ')}, so ${analysis.parts} parts of 67`
          : `${analysis.units} GSM-7 septets need ${analysis.parts} parts of 153`;
      throw new ServiceError('SMS_TOO_LONG', `the SMS text needs ${analysis.parts} parts and at most ${this.options.maxParts} are allowed (${why}); shorten it`, {
        extensions: { encoding: analysis.encoding, parts: analysis.parts, maxParts: this.options.maxParts, units: analysis.units, nonGsmCharacters: analysis.nonGsmCharacters.slice(0, 20) },
      });
    }
    return { text, analysis };
  }

  prepare(content: NotificationContent, options: PrepareOptions): Partial<NotificationContent> {
    if (!content.sms || content.sms.trim() === '') throw new ServiceError('NOTIFICATION_INVALID', `an SMS text is needed (language ${content.language}) for this strategy`);
    const { text, analysis } = this.count(content.sms, options.transliterate);
    return { sms: text, smsEncoding: analysis.encoding, smsParts: analysis.parts };
  }

  async send(req: ChannelSendRequest): Promise<ChannelSendResult> {
    if (!this.gateway) throw new ProviderError('PROVIDER_NOT_CONFIGURED', 'no SMS provider is configured', true);
    const phone = checkMobileNumber(req.targets.phone);
    if (!phone.ok) throw new ProviderError('PHONE_NUMBER_INVALID', phone.reason, true);
    // the number answered STOP after the dispatch: nothing more goes out to it
    if (req.targets.smsOptedOut) throw new ProviderError('RECIPIENT_OPTED_OUT', 'the recipient asked for no more SMS from this sender', true);
    if (!req.content.sms) throw new ProviderError('CONTENT_MISSING', 'the notification has no SMS text', true);
    let counted;
    try {
      counted = this.count(req.content.sms, false);
    } catch (err) {
      // the limit was lowered since submission: still never cut
      throw new ProviderError('SMS_TOO_LONG', (err as Error).message, true, { cause: err });
    }
    const accepted = await this.gateway.send({ reference: req.attemptId, to: phone.e164, text: counted.text, encoding: counted.analysis.encoding, parts: counted.analysis.parts, ...(req.smsFrom ? { from: req.smsFrom } : {}) });
    return {
      provider: this.gateway.name,
      providerRef: accepted.providerRef,
      units: counted.analysis.parts,
      targets: { phone: phone.e164, encoding: counted.analysis.encoding, parts: counted.analysis.parts },
      detail: accepted.detail,
    };
  }
}
