// Guards the service surfaces (A_A-compatible, native, result files): this computer only unless published on the LAN;
// then API keys scoped to services (public services excepted) and quotas. Also stops intake while shutting down,
// refuses uploads when the disk is nearly full and sets each request's upload limits.
import type net from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import type { Core } from '../../core/api';
import { ApiKeys, type ApiKeyInfo } from '../../core/security/api-keys';
import { ServicePolicies } from '../../core/security/service-policy';
import { RateLimiter } from '../../core/security/rate-limit';
import { accessProblem, freeBytes, insufficientStorage, type ServiceCaller } from '../../core/security/access';
import { HTTP_STATUS, type AppError } from '../../core/errors';
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

/** The key a request presents: `X-API-Key`, `Authorization: Bearer`, or `?api_key=` on downloads (GET). */
function presentedKey(req: Request): string | null {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header.trim()) return header.trim();
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  if (req.method === 'GET' && typeof req.query.api_key === 'string') return req.query.api_key;
  return null;
}

/** The server has stopped listening: it is shutting down and only finishes what it has. */
function draining(req: Request): boolean {
  const server = (req.socket as net.Socket & { server?: net.Server }).server;
  return server !== undefined && !server.listening;
}

function hostName(req: Request): string {
  const host = req.headers.host ?? '';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
}

/**
 * A body that stops arriving is answered 408 and its connection closed, whichever parser reads it: a stalled
 * client must not hold a connection and a half-written upload. Once the body is in, the usual idle limit is back.
 */
function refuseStalledBody(req: Request, res: Response, idleMs: number): void {
  req.setTimeout(idleMs, () => {
    if (req.complete) {
      req.socket.setTimeout(SOCKET_IDLE_MS);
      return;
    }
    if (!res.headersSent) res.status(408).set('Connection', 'close').json({ error: `Request body stalled: nothing arrived for ${idleMs} ms` });
    // The parser would wait for bytes that never come; closing the connection ends it (and cleans its upload up).
    if (res.writableFinished) req.socket.destroy();
    else res.once('finish', () => req.socket.destroy());
  });
}

export function serviceGuard(core: Core) {
  const keys = new ApiKeys(core.db);
  const policies = new ServicePolicies(core.db);
  const limiter = new RateLimiter();

  // A_A clients know DRF's `{"detail": …}` for refusals; the other surfaces answer `{"error": …}`.
  const refuse = (req: Request, res: Response, status: number, message: string, headers: Record<string, string> = {}) => {
    res.set(headers);
    res.status(status).json(req.baseUrl === '/analytics_automated' ? { detail: message } : { error: message });
  };
  const refuseWith = (req: Request, res: Response, error: AppError) => refuse(req, res, HTTP_STATUS[error.kind], error.message);

  return (req: Request, res: Response, next: NextFunction): void => {
    const s = core.settings();
    const inPath = servicesInPath(req.baseUrl === '/submissions' ? `/${req.path}` : req.path);
    // A POST naming a run (cancel) is not intake: it stays possible while draining or with a full disk.
    const intake = req.method === 'POST' && inPath.uuids.length === 0;
    if (intake && draining(req)) {
      return refuse(req, res, 503, 'The server is shutting down; submit again shortly.', { 'Retry-After': '5', Connection: 'close' });
    }

    let caller: ServiceCaller = { key: null, keysRequired: false };
    if (!s.lan_publish) {
      if (!isLoopback(req)) {
        return refuse(req, res, 403, 'Services are published on this computer only; the analyst can publish them on the LAN in the workbench.');
      }
      // A web page that rebinds its own name to 127.0.0.1 still sends that name: only loopback names reach the services.
      if (!LOOPBACK_HOST.test(hostName(req))) return refuse(req, res, 403, `Host ${hostName(req)} is not served here.`);
    } else {
      const presented = presentedKey(req);
      let key: ApiKeyInfo | null = null;
      if (presented !== null) {
        key = keys.verify(presented);
        if (!key) return refuse(req, res, 401, 'Invalid or revoked API key.', { 'WWW-Authenticate': 'Bearer' });
      }
      const perClient = s.client_requests_per_minute;
      if (perClient !== null) {
        const t = limiter.take(`client:${clientIp(req)}`, perClient);
        if (!t.ok) return refuse(req, res, 429, `Too many requests from ${clientIp(req)}: at most ${perClient} a minute.`, { 'Retry-After': String(t.retryAfterS) });
      }
      const perKey = key ? (key.requests_per_minute ?? s.key_requests_per_minute) : null;
      if (key && perKey !== null) {
        const t = limiter.take(`key:${key.id}`, perKey);
        if (!t.ok) return refuse(req, res, 429, `Too many requests with API key ${key.prefix}: at most ${perKey} a minute.`, { 'Retry-After': String(t.retryAfterS) });
      }
      caller = { key, keysRequired: true };

      const services = [...inPath.names, ...inPath.uuids.flatMap((u) => policies.servicesOf(u))];
      const named = inPath.names.length > 0 || inPath.uuids.length > 0;
      if (services.length > 0) {
        const problem = accessProblem(caller, services, policies);
        if (problem) return refuseWith(req, res, problem);
      } else if (!key && !(intake && !named && policies.anyPublic())) {
        // Listings, unknown UUIDs and intake with no public service to aim at: a key first.
        return refuse(req, res, 401, 'An API key is required: send it as X-API-Key or Authorization: Bearer.', { 'WWW-Authenticate': 'Bearer' });
      }
    }

    if (intake) {
      const free = freeBytes(core.paths.root);
      // Answered like intake's own refusals (`{"error": …}`), which this one only makes earlier.
      if (free !== null && free < s.min_free_bytes) return next(insufficientStorage(free, s.min_free_bytes));
      const capOf = (job: string) => policies.get(job).upload_limit_bytes ?? s.upload_limit_bytes;
      // Before the form names its Job, a caller without a key can only be aiming at a public service.
      const ceiling = inPath.names.length > 0
        ? Math.max(...inPath.names.map(capOf))
        : caller.keysRequired && !caller.key
          ? Math.max(0, ...policies.list().filter((p) => p.public).map((p) => capOf(p.job_name)))
          : Math.max(s.upload_limit_bytes, ...policies.list().map((p) => capOf(p.job_name)));
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
    next();
  };
}

// Who the guard let in, for the intake routes to hand to the core with the form (which names the services).
const callers = new WeakMap<Request, ServiceCaller>();

export function callerOf(req: Request): ServiceCaller | undefined {
  return callers.get(req);
}
