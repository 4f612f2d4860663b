import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may not point: loopback, private, link-local (the cloud metadata service at
 * 169.254.169.254 and fd00:ec2::254 among them), shared, documentation, multicast and reserved
 * ranges, IPv4 and IPv6. IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) match the IPv4 rules.
 */
const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  // ::, ::1 and the IPv4-compatible ::a.b.c.d; SIIT's ::ffff:0:a.b.c.d; site-local (deprecated).
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['fec0::', 10],
  // NAT64, Teredo and 6to4 carry an IPv4 address that could be any of the above.
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2001::', 32],
  ['2002::', 16],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6');
}

export interface WebhookTargetRules {
  allowHttp: boolean;
  allowPrivateNetworks: boolean;
}

/** A URL checked for delivery: the address it resolved to, the one to connect to. */
export interface CheckedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/** Why a URL is refused; the message names the rule. */
export class WebhookTargetError extends Error {}

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  return family === 0 || BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The URL's own form: https (or http when allowed), no credentials in it. */
export function parseWebhookUrl(raw: string, rules: WebhookTargetRules): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetError('url must be an absolute URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && rules.allowHttp)) {
    throw new WebhookTargetError('url must use https (http only where WEBHOOK_ALLOW_HTTP=true)');
  }
  if (url.username || url.password) throw new WebhookTargetError('url must not carry credentials');
  return url;
}

/**
 * Resolves the URL's host and refuses it when any of its addresses is in a blocked range (unless
 * WEBHOOK_ALLOW_PRIVATE_NETWORKS): checked at creation and again before every delivery, whose
 * connection then goes to the address checked here, so a DNS answer that changes in between
 * cannot redirect it.
 */
export async function checkWebhookTarget(raw: string, rules: WebhookTargetRules): Promise<CheckedTarget> {
  const url = parseWebhookUrl(raw, rules);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    addresses = await lookup(host, { all: true, verbatim: true }).catch(() => []);
  }
  // One answer for a name that does not resolve and one that resolves inside: the refusal must
  // not tell a caller which internal names exist, nor their addresses.
  const blocked = addresses.some(({ address }) => isBlockedAddress(address));
  if (!addresses.length || (blocked && !rules.allowPrivateNetworks)) {
    throw new WebhookTargetError(
      "url's host must resolve to public addresses only (not loopback, private, link-local or reserved)",
    );
  }
  const [first] = addresses;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
