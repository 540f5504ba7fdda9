// The HTTP server: A_A-compatible routes, the workbench API, result files and the built UI on one port.
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import express, { type Request, type Response, type NextFunction } from 'express';
import type { CoreInternals } from '../core';
import { safeJoin } from '../core/paths';
import { aaCompatRouter } from './routes/aa-compat';
import { adminRouter } from './routes/admin';
import { v1Router } from './routes/v1';
import { workerApiRouter } from './routes/worker-api';
import { aaCwlRouter } from './routes/cwl';
import { runDocument } from './routes/v1-runs';
import { CONFIG_SCHEMA, CONFIG_SCHEMA_PATH } from '../core/config/schema';
import { securityHeaders } from './middleware/headers';
import { cors } from './middleware/cors';
import { ServiceGuard, serviceGuard } from './middleware/service-guard';
import { hotRoutes } from './hot-routes';
import { isStoredFile } from './middleware/files';
import { answerClientErrors, drain, requireHost } from './middleware/client-errors';
import { sendError } from './respond';
import { removeRuntimeFile, writeRuntimeFile } from '../core/security/runtime-file';

export interface ServerOptions {
  host: string;
  port: number;
  /** Built renderer folder (out/renderer); resolved by the host from its own __dirname. */
  uiDir: string;
  /** Per-launch token for the workbench API; generated when absent. */
  token?: string;
}

export interface RunningServer {
  url: string;
  /** URL that opens the workbench with its token. */
  workbenchUrl: string;
  token: string;
  server: http.Server;
  /** Stops intake; requests in flight get up to `graceMs` (default 0: cut at once) before connections close. */
  close(graceMs?: number): Promise<void>;
}

export function createApp(core: CoreInternals, uiDir: string, token: string, guard: ServiceGuard): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders, requireHost);
  // Every service surface: browsers only from allowed origins, then who may call what (keys, quotas, limits).
  const services = ['/analytics_automated', '/api/v1', '/submissions'];
  app.use(services, cors(() => core.settings().cors_origins), serviceGuard(guard));

  // Completion callbacks carry the native API's run document, links rooted where the client submitted.
  core.callbacks.describeWith((sub, apiBase) => runDocument(core, sub, apiBase));
  app.get(CONFIG_SCHEMA_PATH, (_req, res) => {
    res.json(CONFIG_SCHEMA);
  });
  app.use('/analytics_automated', aaCwlRouter(core));
  app.use('/analytics_automated', aaCompatRouter(core));
  app.use('/api/admin', adminRouter(core, { token }));
  app.use('/api/v1', v1Router(core));
  app.use('/api/worker', workerApiRouter(core));

  // Inputs and results at the URLs A_A's data_path/input_file give; never outside the submissions folder.
  app.get('/submissions/{*splat}', (req, res) => {
    const parts = (req.params as { splat?: string[] }).splat ?? [];
    const file = safeJoin(core.paths.uploads, parts.join('/'));
    // Links are followed only within the submission's own folder, so one run's files never serve another's.
    if (!file || !isStoredFile(path.join(core.paths.uploads, parts[0] ?? ''), file)) {
      res.status(404).json({ detail: 'Not found.' });
      return;
    }
    res.sendFile(file, { dotfiles: 'allow', headers: { 'Content-Disposition': 'attachment' } });
  });

  if (fs.existsSync(path.join(uiDir, 'index.html'))) {
    app.use(express.static(uiDir, { index: false }));
    app.get('/{*splat}', (req, res, next) => {
      if (req.path.startsWith('/api/') || req.path.startsWith('/submissions/')) return next();
      res.sendFile(path.join(uiDir, 'index.html'));
    });
  } else {
    app.get('/', (_req, res) => {
      res.type('text/plain').send('The workbench UI is not built: run `npm run build`.');
    });
  }

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'Not found' });
  });
  // One place maps error kinds to status codes (respond.ts, shared with the hot routes).
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, error));
  return app;
}

export async function startServer(core: CoreInternals, options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? crypto.randomBytes(24).toString('base64url');
  const guard = new ServiceGuard(core);
  const app = createApp(core, options.uiDir, token, guard);
  const hot = hotRoutes(core, guard);
  const server = http.createServer({ requireHostHeader: false }, (req, res) => {
    if (!hot(req, res)) void app(req, res);
  });
  server.headersTimeout = 60_000;
  server.requestTimeout = 0; // large uploads may take long; idle sockets are still reaped
  server.keepAliveTimeout = 5_000;
  answerClientErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as { port: number };
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
  writeRuntimeFile(core.paths.root, { pid: process.pid, url, token });
  return {
    url,
    workbenchUrl: `${url}/#token=${token}`,
    token,
    server,
    close: async (graceMs = 0) => {
      removeRuntimeFile(core.paths.root);
      await drain(server, graceMs);
    },
  };
}
