/**
 * Which addresses the service may connect to on a sender's behalf (webhooks). A sender
 * chooses the URL, so without this policy the service is a proxy into the operator's own
 * network: loopback, RFC 1918, link-local (cloud metadata at 169.254.169.254), CGNAT…
 *
 * An address is allowed when it is ordinary global unicast:
 *  - IPv4: `ipaddr.js`'s range is `unicast`, i.e. not unspecified (0/8), broadcast,
 *    multicast (224/4), link-local (169.254/16), loopback (127/8), CGNAT (100.64/10,
 *    RFC 6598), private (RFC 1918), reserved (192.0.0/24, the documentation nets,
 *    198.18/15 benchmarking RFC 2544, 240/4), AS112 or AMT anycast;
 *  - IPv6: inside 2000::/3 (global unicast, RFC 4291 §2.4) and `ipaddr.js`'s range is
 *    `unicast` (so not Teredo 2001::/32, 6to4 2002::/16, benchmarking, ORCHID,
 *    documentation…); everything outside 2000::/3 is refused: ::, ::1, fe80::/10,
 *    fc00::/7, fec0::/10, ff00::/8, IPv4-compatible ::/96 (deprecated, RFC 4291 §2.5.5.1),
 *    IPv4-translated ::ffff:0:0:0/96, the NAT64 local-use prefix 64:ff9b:1::/48;
 *  - an IPv4 address carried inside IPv6 is judged as that IPv4 address: IPv4-mapped
 *    ::ffff:a.b.c.d (RFC 4291 §2.5.5.2: a dual-stack socket connects to a.b.c.d) and the
 *    NAT64 well-known prefix 64:ff9b::a.b.c.d (RFC 6052 §2.1: what DNS64 answers for an
 *    IPv4-only name). 6to4 and Teredo also embed IPv4 but are refused whole: both are
 *    deprecated relays (RFC 7526), no receiver needs them.
 *
 * An explicit allow-list of CIDRs (WEBHOOK_ALLOW_PRIVATE_TARGETS, for development
 * receivers) overrides the ranges; an embedded IPv4 matches it as itself.
 *
 * A host name is allowed when it resolves, and every address it resolves to is allowed
 * (a name that also answers a private address is refused, not filtered). `lookup` is the
 * same check in the shape `net.connect` takes, so the address connected to is the address
 * checked; `assertConnected` checks the socket's peer once more (IP literals never go
 * through `lookup`).
 */
import dns from 'node:dns';
import net, { type LookupFunction, type Socket } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all its addresses; injected in tests (e.g. to rebind a name). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export interface AddressClass {
  address: string;
  /** the special-purpose range it lies in (`unicast` for an ordinary address), e.g. `loopback`, `ipv4Mapped:private` */
  range: string;
  allowed: boolean;
  /** allowed by the allow-list, not by its range */
  allowListed: boolean;
}

/** The target is, or resolves to, an address the policy refuses. */
export class TargetForbiddenError extends Error {
  constructor(
    readonly host: string,
    readonly refused: AddressClass[],
  ) {
    super(`${host} is or resolves to a refused address: ${refused.map((c) => `${c.address} (${c.range})`).join(', ')}`);
    this.name = 'TargetForbiddenError';
  }
}

/** The host name did not resolve (no answer, resolver error or no answer in time). */
export class UnresolvedHostError extends Error {
  constructor(
    readonly host: string,
    options?: { cause?: unknown },
  ) {
    super(`${host} did not resolve`, options);
    this.name = 'UnresolvedHostError';
  }
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/** Parses `a.b.c.d/n`, `x:y::/n`, or a bare address (a single-address range); throws on anything else. */
export function parseCidr(entry: string): Cidr {
  const text = entry.trim();
  if (text.includes('/')) return ipaddr.parseCIDR(text);
  const address = ipaddr.parse(text);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/** The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64 well-known prefix), if any. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  if (address.match(NAT64_WELL_KNOWN)) return new ipaddr.IPv4(address.toByteArray().slice(12));
  return undefined;
}

function rangeOf(address: Address): string {
  if (address.kind() === 'ipv4') return address.range();
  const v6 = address as ipaddr.IPv6;
  const inner = embeddedIPv4(v6);
  if (inner) {
    const r = inner.range();
    return r === 'unicast' ? 'unicast' : `${v6.isIPv4MappedAddress() ? 'ipv4Mapped' : 'nat64'}:${r}`;
  }
  const r = v6.range();
  if (r !== 'unicast') return r;
  if (v6.match(IPV4_COMPATIBLE)) return 'ipv4Compatible';
  if (!v6.match(GLOBAL_UNICAST)) return 'notGlobalUnicast';
  return 'unicast';
}

export interface OutboundPolicyOptions {
  /** CIDRs allowed whatever their range (development receivers); default none */
  allow?: readonly string[];
  resolve?: Resolver;
  /** how long a name may take to resolve; default 5 s */
  resolveTimeoutMs?: number;
}

export class OutboundPolicy {
  private readonly allow: Cidr[];
  private readonly resolve: Resolver;
  private readonly resolveTimeoutMs: number;

  constructor(options: OutboundPolicyOptions = {}) {
    this.allow = (options.allow ?? []).map(parseCidr);
    this.resolve = options.resolve ?? systemResolver;
    this.resolveTimeoutMs = options.resolveTimeoutMs ?? 5000;
  }

  classify(address: string): AddressClass {
    if (!ipaddr.isValid(address)) return { address, range: 'invalid', allowed: false, allowListed: false };
    const parsed = ipaddr.parse(address);
    const inner = parsed.kind() === 'ipv6' ? embeddedIPv4(parsed as ipaddr.IPv6) : undefined;
    const range = rangeOf(parsed);
    const allowListed = this.allowListed(parsed) || (inner !== undefined && this.allowListed(inner));
    return { address, range, allowed: allowListed || range === 'unicast', allowListed };
  }

  /**
   * The addresses a host (an IP literal, with or without IPv6 brackets, or a name) may be
   * reached at: all of them, or TargetForbiddenError if any is refused, or
   * UnresolvedHostError if a name has none.
   */
  async resolveAllowed(host: string): Promise<ResolvedAddress[]> {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    const family = net.isIP(bare);
    const addresses = family !== 0 ? [{ address: bare, family }] : await this.resolveName(bare);
    const refused = addresses.map((a) => this.classify(a.address)).filter((c) => !c.allowed);
    if (refused.length > 0) throw new TargetForbiddenError(bare, refused);
    return addresses;
  }

  /** For `net.connect({ lookup })` / `http.request({ lookup })`: resolves and checks before any connection is made. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolveAllowed(hostname).then(
      (all) => {
        const wanted = options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
        if (wanted.length === 0) return callback(new UnresolvedHostError(hostname), '', 0);
        if (options.all) return callback(null, wanted);
        callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };

  /** Throws TargetForbiddenError unless the socket's peer is an allowed address. */
  assertConnected(socket: Socket): void {
    const address = socket.remoteAddress ?? '';
    const c = this.classify(address);
    if (!c.allowed) throw new TargetForbiddenError(address || '(no peer address)', [c]);
  }

  private allowListed(address: Address): boolean {
    return this.allow.some(([net_, bits]) => net_.kind() === address.kind() && address.match(net_, bits));
  }

  private async resolveName(name: string): Promise<ResolvedAddress[]> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answers = await Promise.race([
        this.resolve(name),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.resolveTimeoutMs} ms`)), this.resolveTimeoutMs);
          timer.unref();
        }),
      ]);
      if (answers.length === 0) throw new Error('no address');
      return answers;
    } catch (err) {
      throw new UnresolvedHostError(name, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}
