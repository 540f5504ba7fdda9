// A_A-compatible routes under /analytics_automated/ (reference §2): same paths, fields, codes and bodies.
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { sendJson } from '../respond';

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

/** `/submissions/<path under the submissions folder>`, the URL A_A's FileField gives. */
export const fileUrl = (relPath: string): string => '/' + relPath.split(/[\\/]/).map(encodeURIComponent).join('/');

const submissionOutput = (core: CoreInternals, s: SubmissionBrief) => ({
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

/** `POST submission/`: the upload streams straight into the folder of the submission it will become; a refusal removes it. */
export async function acceptSubmission(core: CoreInternals, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const settings = core.settings();
  const uuid = uuid1();
  const folder = path.join(core.paths.uploads, uuid);
  let accepted = false;
  try {
    const upload = await parseUpload(req, folder, { ...DEFAULT_UPLOAD_LIMITS, fileBytes: settings.upload_limit_bytes }, 'input_data', true);
    const result = await core.submitAa(upload.form, { ip: clientIp(req), submissionUuid: uuid, caller: callerOf(req) });
    accepted = true;
    sendJson(res, 201, { UUID: result.batch_uuid, submission_name: result.submission_name });
  } finally {
    if (!accepted) await fs.promises.rm(folder, { recursive: true, force: true });
  }
}

/** `GET submission/<batch UUID>`: the batch's state and each submission's results. */
export function answerBatch(core: CoreInternals, res: ServerResponse, uuid: string): void {
  // The batch's state and its submissions' as of one moment: a run's end commits both.
  const doc = core.runs.snapshot(() => {
    const batch = core.runs.batch(uuid);
    if (!batch) return null;
    return {
      UUID: batch.uuid,
      state: STATUS_LABELS[batch.status],
      submissions: core.runs.briefsOfBatch(batch.id).map((s) => submissionOutput(core, s)),
    };
  });
  if (!doc) return sendJson(res, 404, NOT_FOUND);
  sendJson(res, 200, doc);
}

/** The batch routes' paths (after the mount), with the UUID as group 1. */
export const BATCH_PATH = new RegExp(`^/submission/${UUID}(?:\\.json)?/?$`);
export const SUBMIT_PATHS = ['/submission/', '/submission', '/submission.json'];

export function aaCompatRouter(core: CoreInternals): Router {
  const router = Router();

  router.post(SUBMIT_PATHS, wrap((req, res) => acceptSubmission(core, req, res)));

  router.get(new RegExp(`^/submission/single/${UUID}(?:\\.json)?/?$`), (req, res) => {
    const doc = core.runs.snapshot(() => {
      const sub = core.runs.brief(String(req.params[0]));
      return sub ? submissionOutput(core, sub) : null;
    });
    if (!doc) return sendJson(res, 404, NOT_FOUND);
    sendJson(res, 200, doc);
  });

  router.get(BATCH_PATH, (req, res) => answerBatch(core, res, String(req.params[0])));

  router.get(['/job/', '/job', '/job.json'], (req, res) => {
    const jobs = listJobs(core.db).sort((a, b) => a.id - b.id);
    const page = req.query.page === undefined ? 1 : Number(req.query.page);
    const pages = Math.max(1, Math.ceil(jobs.length / PAGE_SIZE));
    if (!Number.isInteger(page) || page < 1 || page > pages) return sendJson(res, 404, { detail: 'Invalid page.' });
    const base = `${req.protocol}://${req.get('host')}${req.baseUrl}${req.path}`;
    const link = (p: number) => {
      const q = new URLSearchParams(req.query as Record<string, string>);
      if (p === 1) q.delete('page');
      else q.set('page', String(p));
      const qs = q.toString();
      return qs ? `${base}?${qs}` : base;
    };
    sendJson(res, 200, {
      count: jobs.length,
      next: page < pages ? link(page + 1) : null,
      previous: page > 1 ? link(page - 1) : null,
      results: jobs.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map((j) => ({ pk: j.id, name: j.name })),
    });
  });

  // A_A's job name pattern is `.+` with no end anchor: `job/job1.json` looks up "job1.json".
  router.get(/^\/job\/(.+)$/, (req, res) => {
    const job = core.lookup.job(decodeURIComponent(String(req.params[0])));
    if (!job) return sendJson(res, 404, NOT_FOUND);
    const steps = [...job.steps].sort((a, b) => a.ordering - b.ordering);
    sendJson(res, 200, {
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
    sendJson(res, 200, {
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
    sendJson(res, 200, body);
  });

  router.use((_req, res) => sendJson(res, 404, NOT_FOUND));
  router.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => next(error));
  return router;
}

export { AppError };
