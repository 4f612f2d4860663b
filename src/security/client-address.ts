import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';

/**
 * The address a request came from: the socket's peer, or, behind `trustedHops` reverse proxies,
 * the X-Forwarded-For entry the outermost of them added. Entries further left were written by
 * the client and prove nothing.
 */
export function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustedHops === 0) return throttlingKey(peer);
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  return throttlingKey(chain[Math.max(0, chain.length - 1 - trustedHops)]);
}

/** Expands an IPv6 address to its eight groups. */
function groupsOf(address: string): string[] {
  const [head, tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = address.includes('::') ? 8 - left.length - right.length : 0;
  return [...left, ...Array<string>(missing).fill('0'), ...right];
}

/**
 * What to count attempts against: an IPv4 address as it is (IPv4-mapped IPv6 included), an
 * IPv6 address by its /64, which one client commonly holds whole.
 */
export function throttlingKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (isIPv4(address)) return address;
  if (!isIPv6(address) || address.includes('.')) return address;
  const prefix = groupsOf(address.split('%')[0].toLowerCase())
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''));
  return `${prefix.join(':')}::/64`;
}
