// What the HTTP server does below express: structured answers to requests it cannot parse, idle sockets reaped,
// and a drain on close (no new connections, in-flight requests get a grace period).
import type http from 'node:http';
import type net from 'node:net';
import type { NextFunction, Request, Response } from 'express';

/** Socket idle limit: a stalled client cannot hold a connection (streams send pings well within it). */
export const SOCKET_IDLE_MS = 120_000;

const STATUS_BY_CODE: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request header fields too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request timed out'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Chunk extensions too large'],
};

/** Malformed requests never reach express; they still get a JSON body rather than Node's bare 400. */
export function answerClientErrors(server: http.Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, message] = STATUS_BY_CODE[error.code ?? ''] ?? [400, 'Malformed HTTP request'];
    const body = JSON.stringify({ error: message });
    socket.end(
      `HTTP/1.1 ${status} ${message}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  server.timeout = SOCKET_IDLE_MS;
}

/**
 * Stops accepting connections, closes idle keep-alive ones, lets requests in flight finish (intake answers them
 * 503 meanwhile) for up to `graceMs`, then closes whatever is left.
 */
export function drain(server: http.Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * HTTP/1.1 requests must name their Host. Node would refuse one without it with an empty 400; the server is
 * created with that check off so the refusal carries a body like every other.
 */
export function requireHost(req: Request, res: Response, next: NextFunction): void {
  if (!req.headers.host && req.httpVersion !== '1.0') {
    res.status(400).json({ error: 'Missing Host header' });
    return;
  }
  next();
}
