// A_A-compatible routes under /analytics_automated/ (reference §2): same paths, fields, codes and bodies.
import fs from 'node:fs';
import path from 'node:path';
import { Router, type Request, type Response, type NextFunction } from 'express';
import { v1 as uuid1 } from 'uuid';
import type { CoreInternals } from '../../core';
import { AppError } from '../../core/errors';
import { STATUS_LABELS } from '../../core/model/types';
import type { SubmissionBrief } from '../../core/store/run-repo';
import { listJobs } from '../../core/store/config-repo';
import { jobParameterFields } from '../../core/plan/plan';
import { typicalSeconds } from '../../core/plan/jobtimes';
import { CONFIGURATION_TYPES } from '../../core/model/types';
import { parseUpload, DEFAULT_UPLOAD_LIMITS } from '../upload';
import { clientIp } from '../client-ip';
import { callerOf } from '../middleware/service-guard';

const NOT_FOUND = { detail: 'Not found.' };
const UUID = '([^/]{8}-[^/]{4}-[^/]{4}-[^/]{4}-[^/]{12})';
const PAGE_SIZE = 10;

type Handler = (req: Request, res: Response) => unknown;
const wrap =
  (h: Handler) =>
  (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve()
      .then(() => h(req, res))
      .catch(next);
  };

/**
 * Compact JSON exactly as DRF renders it. Written directly rather than through Express's send, which re-parses the
 * content type and checks freshness on every call: these routes are what polling clients hit most.
 */
const send = (res: Response, status: number, body: unknown): void => {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json) });
  res.end(res.req.method === 'HEAD' ? undefined : json);
};

/** `/submissions/<path under the submissions folder>`, the URL A_A's FileField gives. */
export const fileUrl = (relPath: string): string => '/' + relPath.split(/[\\/]/).map(encodeURIComponent).join('/');

export function aaCompatRouter(core: CoreInternals): Router {
  const router = Router();

  const submissionOutput = (s: SubmissionBrief) => ({
    submission_name: s.submission_name,
    job_name: s.job_name,
    UUID: s.uuid,
    state: STATUS_LABELS[s.status],
    last_message: s.last_message,
    email: s.email,
    input_file: fileUrl(s.input_path),
    results: core.runs.results(s.id).map((r) => ({
      task: r.task_id,
      name: r.name,
      message: r.message,
      step: r.step,
      data_path: fileUrl(r.path),
    })),
  });

  const submit = wrap(async (req, res) => {
    const settings = core.settings();
    // The upload streams straight into the folder of the submission it will become; a rejection removes it.
    const uuid = uuid1();
    const folder = path.join(core.paths.uploads, uuid);
    let accepted = false;
    try {
      const upload = await parseUpload(
        req,
        folder,
        { ...DEFAULT_UPLOAD_LIMITS, fileBytes: settings.upload_limit_bytes },
        'input_data',
        true,
      );
      const result = await core.submitAa(upload.form, { ip: clientIp(req), submissionUuid: uuid, caller: callerOf(req) });
      accepted = true;
      send(res, 201, { UUID: result.batch_uuid, submission_name: result.submission_name });
    } finally {
      if (!accepted) await fs.promises.rm(folder, { recursive: true, force: true });
    }
  });
  router.post(['/submission/', '/submission', '/submission.json'], submit);

  router.get(new RegExp(`^/submission/single/${UUID}(?:\\.json)?/?$`), (req, res) => {
    const sub = core.runs.brief(String(req.params[0]));
    if (!sub) return send(res, 404, NOT_FOUND);
    send(res, 200, submissionOutput(sub));
  });

  router.get(new RegExp(`^/submission/${UUID}(?:\\.json)?/?$`), (req, res) => {
    const batch = core.runs.batch(String(req.params[0]));
    if (!batch) return send(res, 404, NOT_FOUND);
    send(res, 200, {
      UUID: batch.uuid,
      state: STATUS_LABELS[batch.status],
      submissions: core.runs.briefsOfBatch(batch.id).map(submissionOutput),
    });
  });

  router.get(['/job/', '/job', '/job.json'], (req, res) => {
    const jobs = listJobs(core.db).sort((a, b) => a.id - b.id);
    const page = req.query.page === undefined ? 1 : Number(req.query.page);
    const pages = Math.max(1, Math.ceil(jobs.length / PAGE_SIZE));
    if (!Number.isInteger(page) || page < 1 || page > pages) return send(res, 404, { detail: 'Invalid page.' });
    const base = `${req.protocol}://${req.get('host')}${req.baseUrl}${req.path}`;
    const link = (p: number) => {
      const q = new URLSearchParams(req.query as Record<string, string>);
      if (p === 1) q.delete('page');
      else q.set('page', String(p));
      const qs = q.toString();
      return qs ? `${base}?${qs}` : base;
    };
    send(res, 200, {
      count: jobs.length,
      next: page < pages ? link(page + 1) : null,
      previous: page > 1 ? link(page - 1) : null,
      results: jobs.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map((j) => ({ pk: j.id, name: j.name })),
    });
  });

  // A_A's job name pattern is `.+` with no end anchor: `job/job1.json` looks up "job1.json".
  router.get(/^\/job\/(.+)$/, (req, res) => {
    const job = core.lookup.job(decodeURIComponent(String(req.params[0])));
    if (!job) return send(res, 404, NOT_FOUND);
    const steps = [...job.steps].sort((a, b) => a.ordering - b.ordering);
    send(res, 200, {
      name: job.name,
      steps: steps.map((s) => ({
        task: {
          configuration: (core.lookup.task(s.task)?.configuration ?? []).map((c) => ({
            type: CONFIGURATION_TYPES[c.type] ?? String(c.type),
            name: c.name,
            parameters: c.parameters,
            version: c.version,
          })),
        },
        ordering: s.ordering,
      })),
    });
  });

  router.get(['/endpoints/', '/endpoints', '/endpoints.json'], (_req, res) => {
    const jobs = listJobs(core.db).sort((a, b) => a.id - b.id);
    send(res, 200, {
      jobs: jobs.map(
        (job) =>
          `/submission/&job=${job.name}&submission_name=[STRING]&email=[EMAIL_STRING]&input_data=[FILE]` +
          jobParameterFields(job, core.lookup)
            .map((f) => `&${f.field}=${f.bool ? '[TRUE/FALSE]' : '[VALUE]'}`)
            .join(''),
      ),
    });
  });

  router.get(['/jobtimes/', '/jobtimes', '/jobtimes.json'], (_req, res) => {
    const byJob = new Map<string, number[]>();
    for (const { job_name, seconds } of core.runs.completedDurations()) {
      const list = byJob.get(job_name) ?? [];
      list.push(seconds);
      byJob.set(job_name, list);
    }
    const body: Record<string, number | null> = {};
    for (const [job, samples] of byJob) body[job] = typicalSeconds(samples);
    send(res, 200, body);
  });

  router.use((_req, res) => send(res, 404, NOT_FOUND));
  router.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => next(error));
  return router;
}

export { AppError };
