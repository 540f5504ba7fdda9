// Guards the service surfaces (A_A-compatible, native, result files): this computer only unless published on the LAN;
// then API keys scoped to services (public services excepted) and quotas. Also stops intake while shutting down,
// refuses uploads when the disk is nearly full and sets each request's upload limits.
import type net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Core } from '../../core/api';
import { ApiKeys, type ApiKeyInfo } from '../../core/security/api-keys';
import { ServicePolicies, uploadCapOf, type ServicePolicy } from '../../core/security/service-policy';
import { RateLimiter } from '../../core/security/rate-limit';
import { accessProblem, freeBytes, insufficientStorage, type ServiceCaller } from '../../core/security/access';
import { HTTP_STATUS, type AppError } from '../../core/errors';
import { sendJson } from '../respond';
import { clientIp, isLoopback } from '../client-ip';
import { setUploadPolicy } from './upload-policy';
import { SOCKET_IDLE_MS } from './client-errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Path words after which the next segment names a service (A_A `job/<name>`, native `services/<name>`). */
const SERVICE_WORDS = new Set(['job', 'jobs', 'service', 'services']);
const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** The services a URL names, by Job name or by a submission/batch UUID in it. */
export function servicesInPath(pathname: string): { names: string[]; uuids: string[] } {
  const names: string[] = [];
  const uuids: string[] = [];
  const segments = pathname.split('/').filter(Boolean);
  segments.forEach((raw, i) => {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return;
    }
    const bare = seg.replace(/\.json$/, '');
    if (UUID.test(bare)) uuids.push(bare.toLowerCase());
    else if (SERVICE_WORDS.has(seg) && i + 1 < segments.length) {
      try {
        names.push(decodeURIComponent(segments[i + 1]));
      } catch {
        // A malformed name matches no service; the route answers it.
      }
    }
  });
  return { names, uuids };
}

/** Which service surface a request addresses: the A_A-compatible routes, the native API or result files. */
export type Surface = 'aa' | 'native' | 'files';

const SURFACE_OF_MOUNT: Record<string, Surface> = { '/analytics_automated': 'aa', '/api/v1': 'native', '/submissions': 'files' };

/** What the guard reads of a request beyond its headers and socket. */
export interface GuardTarget {
  surface: Surface;
  /** The path under the surface's mount (`/submission/<uuid>` for `/analytics_automated/submission/<uuid>`). */
  path: string;
  /** `?api_key=` of the URL (taken on GET downloads only). */
  apiKeyParam: string | null;
}

/** A request the guard turned away: either a status and message, or an error that intake itself would raise. */
export type Refusal = { status: number; message: string; headers?: Record<string, string> } | { error: AppError };

/** A_A clients know DRF's `{"detail": …}` for refusals; the other surfaces answer `{"error": …}`. */
export const refusalBody = (surface: Surface, message: string): Record<string, string> =>
  surface === 'aa' ? { detail: message } : { error: message };

/** The key a request presents: `X-API-Key`, `Authorization: Bearer`, or `?api_key=` on downloads (GET). */
function presentedKey(req: IncomingMessage, apiKeyParam: string | null): string | null {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header.trim()) return header.trim();
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  if (req.method === 'GET' && apiKeyParam !== null) return apiKeyParam;
  return null;
}

/** The server has stopped listening: it is shutting down and only finishes what it has. */
function draining(req: IncomingMessage): boolean {
  const server = (req.socket as net.Socket & { server?: net.Server }).server;
  return server !== undefined && !server.listening;
}

function hostName(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
}

/**
 * A body that stops arriving is answered 408 and its connection closed, whichever parser reads it: a stalled
 * client must not hold a connection and a half-written upload. Once the body is in, the usual idle limit is back.
 */
function refuseStalledBody(req: IncomingMessage, res: ServerResponse, idleMs: number): void {
  req.setTimeout(idleMs, () => {
    if (req.complete) {
      req.socket.setTimeout(SOCKET_IDLE_MS);
      return;
    }
    if (!res.headersSent) sendJson(res, 408, { error: `Request body stalled: nothing arrived for ${idleMs} ms` }, { Connection: 'close' });
    // The parser would wait for bytes that never come; closing the connection ends it (and cleans its upload up).
    if (res.writableFinished) req.socket.destroy();
    else res.once('finish', () => req.socket.destroy());
  });
}

/**
 * Who may call which service, decided once per request for every surface. On admission it records the caller and,
 * for intake, the request's upload limits, and arms the stalled-body timer.
 */
export class ServiceGuard {
  private readonly keys: ApiKeys;
  private readonly policies: ServicePolicies;
  private readonly limiter = new RateLimiter();

  constructor(private readonly core: Core) {
    this.keys = new ApiKeys(core.db);
    this.policies = new ServicePolicies(core.db);
  }

  /** Null when the request may go on; else why not. */
  admit(req: IncomingMessage, res: ServerResponse, target: GuardTarget): Refusal | null {
    const { core, keys, policies, limiter } = this;
    const s = core.settings();
    const inPath = servicesInPath(target.path);
    // A POST naming a run (cancel) is not intake: it stays possible while draining or with a full disk.
    const intake = req.method === 'POST' && inPath.uuids.length === 0;
    if (intake && draining(req)) {
      return { status: 503, message: 'The server is shutting down; submit again shortly.', headers: { 'Retry-After': '5', Connection: 'close' } };
    }

    let caller: ServiceCaller = { key: null, keysRequired: false };
    if (!s.lan_publish) {
      if (!isLoopback(req)) {
        return { status: 403, message: 'Services are published on this computer only; the analyst can publish them on the LAN in the workbench.' };
      }
      // A web page that rebinds its own name to 127.0.0.1 still sends that name: only loopback names reach the services.
      if (!LOOPBACK_HOST.test(hostName(req))) return { status: 403, message: `Host ${hostName(req)} is not served here.` };
    } else {
      const presented = presentedKey(req, target.apiKeyParam);
      let key: ApiKeyInfo | null = null;
      if (presented !== null) {
        key = keys.verify(presented);
        if (!key) return { status: 401, message: 'Invalid or revoked API key.', headers: { 'WWW-Authenticate': 'Bearer' } };
      }
      const perClient = s.client_requests_per_minute;
      if (perClient !== null) {
        const t = limiter.take(`client:${clientIp(req)}`, perClient);
        if (!t.ok) return { status: 429, message: `Too many requests from ${clientIp(req)}: at most ${perClient} a minute.`, headers: { 'Retry-After': String(t.retryAfterS) } };
      }
      const perKey = key ? (key.requests_per_minute ?? s.key_requests_per_minute) : null;
      if (key && perKey !== null) {
        const t = limiter.take(`key:${key.id}`, perKey);
        if (!t.ok) return { status: 429, message: `Too many requests with API key ${key.prefix}: at most ${perKey} a minute.`, headers: { 'Retry-After': String(t.retryAfterS) } };
      }
      caller = { key, keysRequired: true };

      const services = [...inPath.names, ...inPath.uuids.flatMap((u) => policies.servicesOf(u))];
      const named = inPath.names.length > 0 || inPath.uuids.length > 0;
      if (services.length > 0) {
        const problem = accessProblem(caller, services, policies);
        if (problem) return { status: HTTP_STATUS[problem.kind], message: problem.message };
      } else if (!key && !(intake && !named && policies.anyPublic())) {
        // Listings, unknown UUIDs and intake with no public service to aim at: a key first.
        return { status: 401, message: 'An API key is required: send it as X-API-Key or Authorization: Bearer.', headers: { 'WWW-Authenticate': 'Bearer' } };
      }
    }

    if (intake) {
      const free = freeBytes(core.paths.root);
      // Answered like intake's own refusals (`{"error": …}`), which this one only makes earlier.
      if (free !== null && free < s.min_free_bytes) return { error: insufficientStorage(free, s.min_free_bytes) };
      const capOfPolicy = (p: ServicePolicy) => uploadCapOf(p, s);
      const capOf = (job: string) => capOfPolicy(policies.get(job));
      // Before the form names its Job, a caller without a key can only be aiming at a public service.
      const ceiling = inPath.names.length > 0
        ? Math.max(...inPath.names.map(capOf))
        : caller.keysRequired && !caller.key
          ? Math.max(0, ...policies.list().filter((p) => p.public).map(capOfPolicy))
          : Math.max(s.upload_limit_bytes, ...policies.list().map(capOfPolicy));
      setUploadPolicy(req, {
        fileBytes: ceiling,
        fields: s.upload_max_fields,
        fieldBytes: s.upload_max_field_bytes,
        files: s.upload_max_files,
        fileBytesFor: capOf,
      });
      refuseStalledBody(req, res, s.upload_idle_timeout_ms);
    }
    callers.set(req, caller);
    return null;
  }
}

/** The guard as Express middleware for the surfaces mounted at `/analytics_automated`, `/api/v1` and `/submissions`. */
export function serviceGuard(guard: ServiceGuard) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const surface = SURFACE_OF_MOUNT[req.baseUrl] ?? 'native';
    const apiKeyParam = typeof req.query.api_key === 'string' ? req.query.api_key : null;
    const refusal = guard.admit(req, res, { surface, path: req.path, apiKeyParam });
    if (!refusal) return next();
    if ('error' in refusal) return next(refusal.error);
    sendJson(res, refusal.status, refusalBody(surface, refusal.message), refusal.headers);
  };
}

// Who the guard let in, for the intake routes to hand to the core with the form (which names the services).
const callers = new WeakMap<IncomingMessage, ServiceCaller>();

export function callerOf(req: IncomingMessage): ServiceCaller | undefined {
  return callers.get(req);
}
