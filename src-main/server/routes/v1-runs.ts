// Native API run routes: the run document, its server-sent events, result downloads (Range) and cancel.
import path from 'node:path';
import type { Request, Response, NextFunction, Router } from 'express';
import type { CoreInternals } from '../../core';
import { notFound, AppError } from '../../core/errors';
import { STATUS_LABELS, isFinalStatus, type Plan, type StatusLabel } from '../../core/model/types';
import type { RunEvent } from '../../core/events';
import type { SubmissionRow } from '../../core/store/run-repo';
import { safeJoin } from '../../core/paths';

export type StepState = 'waiting' | 'queued' | 'running' | 'done' | 'failed' | 'crash' | 'cancelled' | 'skipped';

/** What `GET /runs/{id}` answers (OpenAPI schema `Run`). */
export interface RunDocument {
  id: string;
  job: string;
  version: number | null;
  submission_name: string;
  state: StatusLabel;
  message: string;
  submitted_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  steps: Array<{
    key: string;
    task: string;
    state: StepState;
    attempts: number;
    started_at: string | null;
    ended_at: string | null;
    exit_code: number | null;
    message: string | null;
  }>;
  results: Array<{ name: string; step: string; task: string; size: number; url: string }>;
  links: { self: string; events: string; cancel: string };
}

/** Seconds between SSE comments that keep idle proxies from closing the stream. */
const HEARTBEAT_MS = 15_000;

type Handler = (req: Request, res: Response, next: NextFunction) => unknown;
export const wrap =
  (h: Handler) =>
  (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve()
      .then(() => h(req, res, next))
      .catch(next);
  };

const stepStates: Record<string, StepState> = {
  queued: 'queued',
  running: 'running',
  done: 'done',
  failed: 'failed',
  crash: 'crash',
  cancelled: 'cancelled',
};

const ms = (from: string, to: string | null): number | null => (to ? Math.round(Date.parse(to) - Date.parse(from)) : null);

/** The run document of a submission; `base` is the API root path (e.g. `/api/v1`). */
export function runDocument(core: CoreInternals, sub: SubmissionRow, base: string): RunDocument {
  const self = `${base}/runs/${encodeURIComponent(sub.uuid)}`;
  const attempts = core.runs.attempts(sub.id);
  const final = isFinalStatus(sub.status);
  let plan: Plan | null = null;
  try {
    plan = JSON.parse(sub.plan) as Plan;
  } catch {
    plan = null;
  }
  const steps = (plan?.steps ?? []).map((step) => {
    const mine = attempts.filter((a) => a.step_key === step.key);
    const last = mine[mine.length - 1];
    const state: StepState = last ? (stepStates[last.state] ?? 'failed') : final ? 'skipped' : 'waiting';
    return {
      key: step.key,
      task: step.task,
      state,
      attempts: mine.length,
      started_at: mine.find((a) => a.started_at)?.started_at ?? null,
      ended_at: last?.ended_at ?? null,
      exit_code: last?.exit_code ?? null,
      message: last?.message ?? null,
    };
  });
  const started = attempts.map((a) => a.started_at).filter((t): t is string => !!t).sort()[0] ?? null;
  const version = (sub as SubmissionRow & { job_version?: number | null }).job_version ?? null;
  return {
    id: sub.uuid,
    job: sub.job_name,
    version,
    submission_name: sub.submission_name,
    state: STATUS_LABELS[sub.status],
    message: sub.last_message,
    submitted_at: sub.created_at,
    started_at: started,
    finished_at: sub.finished_at,
    duration_ms: ms(sub.created_at, sub.finished_at),
    steps,
    results: core.runs.results(sub.id).map((r) => {
      const name = path.basename(r.path);
      return { name, step: r.step_key ?? '', task: r.task_name, size: r.size, url: `${self}/results/${encodeURIComponent(name)}` };
    }),
    links: { self, events: `${self}/events`, cancel: `${self}/cancel` },
  };
}

export function runRoutes(router: Router, core: CoreInternals): void {
  const submissionOf = (req: Request): SubmissionRow => {
    const sub = core.runs.submission(String(req.params.id));
    if (!sub) throw notFound(`No run with id "${String(req.params.id)}".`);
    return sub;
  };

  router.get('/runs/:id', (req, res) => {
    res.json(runDocument(core, submissionOf(req), req.baseUrl));
  });

  router.get('/runs/:id/events', (req, res) => {
    const sub = submissionOf(req);
    const uuid = sub.uuid;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // Proxies such as nginx would otherwise hold events back.
      'X-Accel-Buffering': 'no',
    });
    let seq = 0;
    const send = (event: string, data: unknown) => {
      seq += 1;
      res.write(`id: ${seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let off = () => {};
    let heartbeat: NodeJS.Timeout | null = null;
    const end = () => {
      off();
      if (heartbeat) clearInterval(heartbeat);
      const latest = core.runs.submission(uuid);
      if (latest) send('end', runDocument(core, latest, req.baseUrl));
      res.end();
    };
    // The state now first; reading it and subscribing happen in one turn, so no event falls between them.
    send('state', { id: uuid, state: STATUS_LABELS[sub.status], message: sub.last_message, at: sub.modified_at });
    if (isFinalStatus(sub.status)) return end();
    off = core.events.onRun((e: RunEvent) => {
      if (e.type === 'submission' && e.uuid === uuid) {
        send('state', { id: uuid, state: STATUS_LABELS[e.status], message: e.last_message, at: e.at });
        // The final state is committed before it is emitted, so the closing document is complete.
        if (isFinalStatus(e.status)) end();
      } else if (e.type === 'attempt' && e.submission_uuid === uuid) {
        send('step', { id: uuid, step: e.step_key, attempt: e.attempt_id || null, state: e.state, exit_code: e.exit_code, at: e.at });
      }
    });
    heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    res.on('close', () => {
      off();
      if (heartbeat) clearInterval(heartbeat);
    });
  });

  router.get('/runs/:id/results/:name', (req, res, next) => {
    const sub = submissionOf(req);
    const name = String(req.params.name);
    const result = core.runs.results(sub.id).find((r) => path.basename(r.path) === name);
    const file = result ? safeJoin(core.paths.root, result.path) : null;
    if (!result || !file) throw notFound(`Run ${sub.uuid} has no result named "${name}".`);
    res.attachment(name);
    res.sendFile(file, { dotfiles: 'allow', acceptRanges: true, lastModified: true, cacheControl: false }, (error?: Error & { status?: number }) => {
      if (!error || res.headersSent) return;
      if (error.status === 416) res.setHeader('Content-Range', `bytes */${result.size}`);
      next(error.status === 404 ? notFound(`The file of result "${name}" is gone.`) : error);
    });
  });

  router.post(
    '/runs/:id/cancel',
    wrap(async (req, res) => {
      const sub = submissionOf(req);
      if (isFinalStatus(sub.status)) throw new AppError('Conflict', `Run ${sub.uuid} has already finished (${STATUS_LABELS[sub.status]}).`);
      await core.cancel(sub.uuid);
      res.json(runDocument(core, core.runs.submission(sub.uuid) ?? sub, req.baseUrl));
    }),
  );
}
