// Security headers on every response: no sniffing, no framing, a content policy for the UI and a stricter one elsewhere.
import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

const BASE = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

// The UI's own <meta> policy, plus what only a header can say (framing, plugins, base URL).
const UI_POLICY =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
const API_POLICY = "default-src 'none'; frame-ancestors 'none'";
// Result files are untrusted: opened in a browser, they run nothing.
const FILE_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox";

const BASE_ENTRIES = Object.entries(BASE);
const API_PREFIXES = ['/api/', '/analytics_automated'];

/** Sets the headers for a response to a request for `pathname`. */
export function applySecurityHeaders(res: ServerResponse, pathname: string): void {
  for (const [name, value] of BASE_ENTRIES) res.setHeader(name, value);
  const policy = pathname.startsWith('/submissions/') ? FILE_POLICY : API_PREFIXES.some((x) => pathname.startsWith(x)) ? API_POLICY : UI_POLICY;
  res.setHeader('Content-Security-Policy', policy);
}

export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  applySecurityHeaders(res, req.path);
  next();
}
