// JSON answers written straight onto Node's response, and the one mapping of errors to status codes and bodies.
// Shared by the Express routes and the routes answered below Express (hot-routes.ts), so both read alike.
import type http from 'node:http';
import { AppError, HTTP_STATUS } from '../core/errors';
import { RetryLater } from '../core/security/access';

/**
 * Compact JSON (as DRF renders it) with its length; HEAD gets the headers only; headers set on `res` before are kept.
 * Written directly rather than through Express's send, which re-parses the content type and checks freshness on every
 * call: the A_A routes are what polling clients hit most.
 */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json) });
  res.end(res.req.method === 'HEAD' ? undefined : json);
}

/** Status, extra headers and body for an error; bodies never carry stack traces. */
export function errorReply(error: unknown): { status: number; headers: Record<string, string>; body: unknown } {
  if (error instanceof AppError) {
    // A refusal for too many requests says when to come back; A_A's queue limit clears as jobs finish.
    const headers: Record<string, string> =
      error.kind === 'TooMany' ? { 'Retry-After': String(error instanceof RetryLater ? error.retryAfterS : 30) } : {};
    const body = error.body ?? { error: error.message, ...(error.problems ? { problems: error.problems } : {}) };
    return { status: HTTP_STATUS[error.kind], headers, body };
  }
  const e = error as { status?: number; type?: string; code?: string; message?: string };
  if (e.code === 'ENOSPC' || e.code === 'SQLITE_FULL' || e.code === 'EDQUOT') {
    return { status: 507, headers: {}, body: { error: 'Insufficient storage: the server disk is full' } };
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return { status: e.status, headers: {}, body: { error: e.type === 'entity.parse.failed' ? 'Malformed JSON body' : (e.message ?? 'Bad request') } };
  }
  console.error('request failed:', error);
  return { status: 500, headers: {}, body: { error: 'Internal server error' } };
}

export function sendError(res: http.ServerResponse, error: unknown): void {
  // Already answered (a stalled body got its 408): nothing more can be said on this response.
  if (res.headersSent) return;
  const { status, headers, body } = errorReply(error);
  sendJson(res, status, body, headers);
}
