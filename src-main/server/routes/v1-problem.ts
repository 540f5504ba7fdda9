// RFC 9457 problem details for the native API: one shape for every error, a located entry per invalid input.
import http from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { AppError, HTTP_STATUS } from '../../core/errors';

/** Where an invalid input sits: a JSON pointer into the body, a form field, or a query parameter. */
export type ProblemLocation = { pointer: string } | { field: string } | { parameter: string };
export type ProblemError = ProblemLocation & { detail: string };

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: ProblemError[];
}

/** How the request body was read; decides whether problem paths are pointers or field names. */
export type BodySource = 'json' | 'multipart';

const SOURCE = Symbol('v1 body source');
type WithSource = Request & { [SOURCE]?: BodySource };

export function rememberSource(req: Request, source: BodySource): void {
  (req as WithSource)[SOURCE] = source;
}

export function sendProblem(res: Response, status: number, detail?: string, extra: Partial<Problem> = {}): void {
  const body: Problem = { type: 'about:blank', title: http.STATUS_CODES[status] ?? 'Error', status, ...(detail ? { detail } : {}), ...extra };
  res.status(status).type(PROBLEM_TYPE).send(JSON.stringify(body));
}

export const PROBLEM_TYPE = 'application/problem+json';

/** An AppError's per-field problems as located entries, following how the body was read. */
function located(error: AppError, req: Request): ProblemError[] | undefined {
  if (!error.problems?.length) return undefined;
  const source = (req as WithSource)[SOURCE];
  return error.problems.map((p) => {
    if (p.path.startsWith('?')) return { parameter: p.path.slice(1), detail: p.message };
    return source === 'json' ? { pointer: p.path, detail: p.message } : { field: p.path, detail: p.message };
  });
}

/** The router's error handler: AppError kinds, body-parser and upload errors, all as problem+json. */
export function problemHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const instance = req.originalUrl.split('?')[0];
  if (res.headersSent) {
    res.end();
    return;
  }
  if (error instanceof AppError) {
    const body = error.body as { error?: unknown; detail?: unknown } | undefined;
    // Upload errors carry A_A-style bodies; their text is the better detail.
    const detail = typeof body?.error === 'string' ? body.error : typeof body?.detail === 'string' ? body.detail : error.message;
    const errors = located(error, req);
    sendProblem(res, HTTP_STATUS[error.kind], detail, { instance, ...(errors ? { errors } : {}) });
    return;
  }
  const e = error as { status?: number; type?: string; code?: string; message?: string };
  if (e.code === 'ENOSPC') return sendProblem(res, 507, 'The server disk is full.', { instance });
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    const detail = e.type === 'entity.parse.failed' ? 'The body is not valid JSON.' : e.type === 'entity.too.large' ? 'The body is too large; send large files as multipart/form-data.' : (e.message ?? undefined);
    return sendProblem(res, e.status, detail, { instance });
  }
  console.error('native API request failed:', error);
  sendProblem(res, 500, 'Internal server error.', { instance });
}
