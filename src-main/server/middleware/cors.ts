// CORS for the service routes: only origins on the allowlist (`cors_origins`) may call them from a browser.
import type { NextFunction, Request, Response } from 'express';

/** `origin` is on the list (exact `scheme://host[:port]`, case-insensitive), or the list allows any. */
export function originAllowed(origin: string, allowlist: readonly string[]): boolean {
  const o = origin.toLowerCase().replace(/\/+$/, '');
  return allowlist.some((a) => a === '*' || a.toLowerCase().replace(/\/+$/, '') === o);
}

/** The page calling is served by this server itself (the workbench UI). */
export function sameOrigin(req: Request, origin: string): boolean {
  return origin.toLowerCase() === `${req.protocol}://${req.headers.host ?? ''}`.toLowerCase();
}

const ALLOW_HEADERS = 'Authorization, X-API-Key, Content-Type, Accept';
const EXPOSE_HEADERS = 'Retry-After, Content-Disposition';

/**
 * Allowed origins get the CORS headers (and preflights a 204); any other cross-origin request is refused with 403
 * before it does anything, since a plain form POST from a web page needs no preflight.
 */
export function cors(allowlist: () => readonly string[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (!origin || sameOrigin(req, origin)) return next();
    if (!originAllowed(origin, allowlist())) {
      res.status(403).json({ error: `Cross-origin requests from ${origin} are not allowed` });
      return;
    }
    res.vary('Origin');
    res.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': EXPOSE_HEADERS });
    if (req.method === 'OPTIONS') {
      res.set({
        'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
        'Access-Control-Allow-Headers': ALLOW_HEADERS,
        'Access-Control-Max-Age': '600',
      });
      res.status(204).end();
      return;
    }
    next();
  };
}
