// The client address used for quotas: the socket peer (forwarded headers are not trusted).
import type { IncomingMessage } from 'node:http';

export function clientIp(req: IncomingMessage): string {
  const raw = req.socket.remoteAddress ?? '127.0.0.1';
  return raw.startsWith('::ffff:') ? raw.slice(7) : raw;
}

export function isLoopback(req: IncomingMessage): boolean {
  const ip = clientIp(req);
  return ip === '::1' || /^127\./.test(ip);
}
