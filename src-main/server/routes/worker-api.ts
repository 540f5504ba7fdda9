// The worker API under /api/worker (scale-out): token-authenticated config, heartbeats, the worker list, and the
// input/result file transfer of queued steps. Also the workbench handlers for worker tokens and the worker table.
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Core } from '../../core/api';
import type { BullExecutor } from '../../core/queue/bullmq';
import { AppError } from '../../core/errors';
import { freeBytes, insufficientStorage } from '../../core/security/access';
import type { WorkerHeartbeat } from '../../core/queue/protocol';
import { createWorkerToken, listWorkerTokens, listWorkers, recordHeartbeat, revokeWorkerToken, verifyWorkerToken } from '../../core/queue/worker-registry';

type Authed = Request & { workerToken?: { id: number; name: string } };

/** Any core; in scale-out mode it carries its BullMQ executor (CoreInternals does). */
export type WorkerCore = Core & { readonly scaleOut?: BullExecutor | null };

const notScaleOut = () => new AppError('Conflict', 'this server does not dispatch to workers: start it with `aa serve --redis redis://HOST:6379`');

export function workerApiRouter(core: WorkerCore): Router {
  const router = Router();
  router.use((req: Authed, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const found = token ? verifyWorkerToken(core.db, token) : null;
    // Unknown and revoked tokens get the same answer, and nothing else.
    if (!found) return next(new AppError('Unauthorized', 'missing, wrong or revoked worker token'));
    req.workerToken = found;
    next();
  });
  router.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.get('/config', (_req, res) => {
    if (!core.scaleOut) throw notScaleOut();
    res.json(core.scaleOut.config());
  });

  router.post('/heartbeat', express.json({ limit: '64kb' }), (req: Authed, res) => {
    recordHeartbeat(core.db, req.workerToken?.id ?? null, parseHeartbeat(req.body));
    res.status(204).end();
  });

  router.get('/workers', (_req, res) => {
    res.json({ workers: listWorkers(core.db, { heartbeatMs: core.scaleOut?.config().heartbeat_ms }) });
  });

  router.get('/jobs/:job/inputs/:name', (req, res, next) => {
    if (!core.scaleOut) throw notScaleOut();
    const file = core.scaleOut.inputFile(String(req.params.job), String(req.params.name));
    if (!file || !fs.existsSync(file)) throw new AppError('NotFound', 'no such input for a queued step on this server');
    res.sendFile(file, { dotfiles: 'allow' }, (error) => {
      if (error && !res.headersSent) next(error);
    });
  });

  router.put('/jobs/:job/outputs/:name', async (req, res) => {
    if (!core.scaleOut) throw notScaleOut();
    const target = core.scaleOut.uploadTarget(String(req.params.job), String(req.params.name));
    if (!target) throw new AppError('NotFound', 'this server is not waiting for that step');
    // The disk keeps the reserve intake keeps: a result that would eat into it is refused before a byte is written.
    const declared = Number(req.headers['content-length'] ?? 0);
    const free = freeBytes(core.paths.root);
    const reserve = core.settings().min_free_bytes;
    const size = Number.isSafeInteger(declared) && declared > 0 ? declared : 0;
    if (free !== null && free - size < reserve) throw insufficientStorage(free, reserve + size, 'to take this result');
    // Written beside, then renamed: a retried upload never leaves a half file under the final name.
    const part = `${target}.part-${process.pid}-${Date.now()}`;
    try {
      await pipeline(req, fs.createWriteStream(part));
      await fs.promises.rename(part, target);
    } catch (error) {
      await fs.promises.rm(part, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        const message = "Insufficient storage: the server's disk filled up while taking this result.";
        throw new AppError('InsufficientStorage', message, { error: message });
      }
      throw error;
    }
    res.status(204).end();
  });

  router.use((_req: Request, _res: Response, next: NextFunction) => next(new AppError('NotFound', 'no such worker API route')));
  return router;
}

function parseHeartbeat(body: unknown): WorkerHeartbeat {
  const b = (body ?? {}) as Record<string, unknown>;
  const text = (v: unknown, what: string, max = 200): string => {
    if (typeof v !== 'string' || v === '' || v.length > max) throw new AppError('Invalid', `heartbeat: ${what} must be a non-empty string`);
    return v;
  };
  const count = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new AppError('Invalid', `heartbeat: ${what} must be a whole number`);
    return v;
  };
  if (!Array.isArray(b.queues) || b.queues.length > 100) throw new AppError('Invalid', 'heartbeat: queues must be a list');
  return {
    id: text(b.id, 'id'),
    host: text(b.host, 'host'),
    queues: b.queues.map((q) => text(q, 'each queue', 100)),
    concurrency: count(b.concurrency, 'concurrency'),
    running: count(b.running, 'running'),
    completed: count(b.completed, 'completed'),
    failed: count(b.failed, 'failed'),
    version: typeof b.version === 'string' ? b.version.slice(0, 50) : '',
    stopped: b.stopped === true,
  };
}

/**
 * Workbench routes for the app (to be mounted on the admin router, which already checks the workbench token):
 * GET /workers, GET /worker-tokens, POST /worker-tokens {name} → {id, name, token} (the only time the token is
 * shown), DELETE /worker-tokens/:id.
 */
export function workerAdminRoutes(router: Router, core: WorkerCore): void {
  router.get('/workers', (_req, res) => {
    res.json({
      scale_out: !!core.scaleOut,
      workers: listWorkers(core.db, { heartbeatMs: core.scaleOut?.config().heartbeat_ms }),
    });
  });
  router.get('/worker-tokens', (_req, res) => {
    res.json({ tokens: listWorkerTokens(core.db) });
  });
  router.post('/worker-tokens', (req, res) => {
    const name = (req.body as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string') throw new AppError('Invalid', 'name is required');
    res.status(201).json(createWorkerToken(core.db, name));
  });
  router.delete('/worker-tokens/:id', (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isInteger(id)) throw new AppError('Invalid', 'token id must be a whole number');
    if (revokeWorkerToken(core.db, id) === 0) throw new AppError('NotFound', 'no live worker token with that id');
    res.status(204).end();
  });
}
