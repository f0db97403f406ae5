/**
 * Strategies decide which channel(s) to use for a notification, the way SMIS offers them
 * ("GovApp first", "GovApp only", …). A strategy sees channels only through a context
 * (is the recipient reachable on channel X, and if not why) and answers with a decision;
 * it never talks to a channel. New strategies are registered in a StrategyRegistry and
 * plug in without any change to the channels or to the service.
 *
 * The service applies a decision: an attempt per channel in `send` (each channel at most
 * once per notification), attempts recorded FALLBACK for `fallback`, FAILED for `failed`.
 * `start` is asked once; `failed` each time an attempt fails for good (provider refusal,
 * retries spent, or a failure report); `undelivered`, where a strategy has it, when a
 * channel's provider accepted the message but no delivery was reported within the wait
 * the configuration sets (NOTIFY_PUSH_DELIVERY_TIMEOUT_MS for GovApp).
 */
import type { ChannelName } from './channels/Channel.js';

export type Reachability = { ok: true } | { ok: false; reason: string };

export interface StrategyContext {
  reachability(channel: ChannelName): Reachability;
}

export interface StrategyDecision {
  send: ChannelName[];
  /** channels given up in favour of those in `send`, with the reason */
  fallback: Array<{ channel: ChannelName; reason: string }>;
  /** channels that cannot or did not work, with the reason */
  failed: Array<{ channel: ChannelName; reason: string }>;
}

export interface NotificationStrategy {
  readonly name: string;
  readonly description: string;
  /** every channel this strategy may use: their content is checked at submission */
  readonly channels: readonly ChannelName[];
  start(ctx: StrategyContext): StrategyDecision;
  failed(ctx: StrategyContext, channel: ChannelName, reason: string): StrategyDecision;
  /**
   * The message went out on `channel` but was not reported delivered in time. A decision
   * sends on another channel (the undelivered attempt is then FALLBACK with `reason`);
   * undefined keeps waiting on this channel. Without this method nothing is waited for.
   */
  undelivered?(ctx: StrategyContext, channel: ChannelName, reason: string): StrategyDecision | undefined;
}

const nothing = (): StrategyDecision => ({ send: [], fallback: [], failed: [] });

/** One channel only: send if reachable, else fail with the reason. */
function only(name: string, channel: ChannelName, description: string): NotificationStrategy {
  return {
    name,
    description,
    channels: [channel],
    start(ctx) {
      const r = ctx.reachability(channel);
      return r.ok ? { ...nothing(), send: [channel] } : { ...nothing(), failed: [{ channel, reason: r.reason }] };
    },
    failed(_ctx, failedChannel, reason) {
      return { ...nothing(), failed: [{ channel: failedChannel, reason }] };
    },
  };
}

/** `first` if reachable, else (or when it fails) `second`. */
function firstThen(name: string, first: ChannelName, second: ChannelName, description: string): NotificationStrategy {
  const fallBack = (ctx: StrategyContext, reason: string): StrategyDecision => {
    const r = ctx.reachability(second);
    if (r.ok) return { send: [second], fallback: [{ channel: first, reason }], failed: [] };
    return { send: [], fallback: [], failed: [{ channel: first, reason }, { channel: second, reason: r.reason }] };
  };
  return {
    name,
    description,
    channels: [first, second],
    start(ctx) {
      const r = ctx.reachability(first);
      return r.ok ? { ...nothing(), send: [first] } : fallBack(ctx, r.reason);
    },
    failed(ctx, channel, reason) {
      return channel === first ? fallBack(ctx, reason) : { ...nothing(), failed: [{ channel, reason }] };
    },
    // sent on `first` but not delivered in time: `second` if it can be used; otherwise the
    // first channel's message may still arrive, so it is not given up
    undelivered(ctx, channel, reason) {
      if (channel !== first || !ctx.reachability(second).ok) return undefined;
      return { send: [second], fallback: [{ channel: first, reason }], failed: [] };
    },
  };
}

/** Every reachable channel at once. */
function all(name: string, channels: ChannelName[], description: string): NotificationStrategy {
  return {
    name,
    description,
    channels,
    start(ctx) {
      const d = nothing();
      for (const c of channels) {
        const r = ctx.reachability(c);
        if (r.ok) d.send.push(c);
        else d.failed.push({ channel: c, reason: r.reason });
      }
      return d;
    },
    failed(_ctx, channel, reason) {
      return { ...nothing(), failed: [{ channel, reason }] };
    },
  };
}

export class StrategyRegistry {
  private readonly strategies = new Map<string, NotificationStrategy>();

  register(s: NotificationStrategy): this {
    if (!/^[A-Z][A-Z0-9_]{1,39}$/.test(s.name)) throw new Error(`strategy name must be UPPER_SNAKE_CASE: ${s.name}`);
    if (this.strategies.has(s.name)) throw new Error(`strategy ${s.name} is already registered`);
    this.strategies.set(s.name, s);
    return this;
  }

  get(name: string): NotificationStrategy | undefined {
    return this.strategies.get(name);
  }

  names(): string[] {
    return [...this.strategies.keys()];
  }
}

export const BUILTIN_STRATEGY_NAMES = ['GOVAPP_FIRST', 'GOVAPP_ONLY', 'SMS_ONLY', 'SMS_AND_GOVAPP'] as const;
export type BuiltinStrategyName = (typeof BUILTIN_STRATEGY_NAMES)[number];

export function builtinStrategies(): StrategyRegistry {
  return new StrategyRegistry()
    .register(firstThen('GOVAPP_FIRST', 'GOVAPP', 'SMS', 'GovApp when the recipient has an installation with notifications on; otherwise, when the push fails, or when no device reports it delivered in time, SMS (recorded as FALLBACK)'))
    .register(only('GOVAPP_ONLY', 'GOVAPP', 'GovApp only; FAILED when the recipient has no installation with notifications on'))
    .register(only('SMS_ONLY', 'SMS', 'SMS only'))
    .register(all('SMS_AND_GOVAPP', ['SMS', 'GOVAPP'], 'SMS and GovApp at once, each where the recipient is reachable'));
}
