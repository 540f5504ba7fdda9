// The workbench API under /api/admin: loopback-only, per-launch token, JSON; the routes live in admin-*.ts by area.
import crypto from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../../core/errors';
import { isLoopback } from '../client-ip';
import { configRoutes } from './admin-config';
import { runRoutes } from './admin-runs';
import { serviceRoutes } from './admin-services';
import { keyRoutes } from './admin-keys';
import type { CoreInternals } from '../../core';
import { scheduleRoutes } from './admin-schedules';
import { notifyRoutes } from './admin-notify';
import { cwlRoutes } from './cwl';
import { workerAdminRoutes } from './worker-api';

export interface AdminOptions {
  /** Per-launch secret; the UI reads it from the URL fragment and sends it on every call. */
  token: string;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>`, or `?token=` where headers cannot be set (EventSource, downloads, <img>). */
function tokenOf(req: Request): string | null {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  return typeof req.query.token === 'string' ? req.query.token : null;
}

export function adminRouter(core: CoreInternals, options: AdminOptions): Router {
  const router = Router();
  router.use((req: Request, _res: Response, next: NextFunction) => {
    if (!isLoopback(req)) return next(new AppError('Forbidden', 'the workbench API is only reachable from this computer'));
    const token = tokenOf(req);
    if (!token || !sameSecret(token, options.token)) return next(new AppError('Unauthorized', 'missing or wrong workbench token'));
    next();
  });
  router.use(express.json({ limit: '5mb' }));
  router.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  configRoutes(router, core);
  runRoutes(router, core);
  serviceRoutes(router, core);
  keyRoutes(router, core);
  scheduleRoutes(router, core);
  notifyRoutes(router, core);
  cwlRoutes(router, core);
  workerAdminRoutes(router, core);

  // Unknown API paths answer JSON here instead of falling through to the UI's index.html.
  router.use((_req: Request, _res: Response, next: NextFunction) => next(new AppError('NotFound', 'no such workbench API route')));
  return router;
}
