// The native service API under /api/v1: typed submissions per published Job, runs, events, results, OpenAPI.
// Open on loopback like the A_A routes; access control wraps it from outside: app.use('/api/v1', guard, v1Router(core)).
import { Router, type Request, type Response } from 'express';
import type { CoreInternals } from '../../core';
import { problemHandler, sendProblem } from './v1-problem';
import { runRoutes } from './v1-runs';
import { serviceRoutes } from './v1-services';

export { sendProblem } from './v1-problem';
export type { RunDocument } from './v1-runs';

export function v1Router(core: CoreInternals): Router {
  const router = Router();
  router.use((_req: Request, res: Response, next) => {
    // Run states change by the second; nothing here may be served from a cache.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  serviceRoutes(router, core);
  runRoutes(router, core);
  router.use((req: Request, res: Response) => sendProblem(res, 404, `No native API route ${req.method} ${req.path}.`, { instance: req.originalUrl.split('?')[0] }));
  router.use(problemHandler);
  return router;
}
