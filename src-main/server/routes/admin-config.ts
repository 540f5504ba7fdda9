// Workbench configuration routes: queue types, backends, tasks, jobs, validator types, the publish check and command preview.
import type { Request, Response, Router } from 'express';
import type { Core } from '../../core/api';
import { AppError, notFound } from '../../core/errors';
import type { Job } from '../../core/model/types';
import * as config from '../../core/store/config-repo';
import { publishJob } from '../../core/publish';
import { listValidators } from '../../core/validators';
import { checkExecutable, renderCommand } from '../../core/plan/command';
import { planParams, restField } from '../../core/plan/params';
import { splitGlobs } from '../../core/plan/plan';
import { checkJob, type CheckLookup } from './admin-check';
import type {
  BackendInput,
  JobCheckRequest,
  JobCheckResponse,
  JobInput,
  PreviewCommandRequest,
  PreviewCommandResponse,
  Problem,
  QueueTypeInput,
  TaskInput,
  ValidatorTypeInfo,
} from './admin-types';

const param = (req: Request, name: string): string => String(req.params[name]);
const bodyOf = <T>(req: Request): T => {
  if (!req.body || typeof req.body !== 'object') throw new AppError('Invalid', 'expected a JSON object body');
  return req.body as T;
};

/** A stored Job as the editor's input shape. */
export const jobInputOf = (job: Job): JobInput => ({
  name: job.name,
  description: job.description,
  runnable: job.runnable,
  validators: job.validators,
  steps: job.steps.map((s) => ({ key: s.key, task: s.task, after: s.after, ordering: s.ordering, x: s.x, y: s.y })),
});

/** Stored configuration, with the designer's unsaved Task drafts taking precedence. */
export function checkLookupFor(core: Core, drafts: TaskInput[] = []): CheckLookup {
  const draftByName = new Map(drafts.map((t) => [t.name, t]));
  const queueTypes = config.listQueueTypes(core.db);
  return {
    task: (name) => draftByName.get(name) ?? config.getTask(core.db, name),
    backend: (name) => config.getBackend(core.db, name),
    queueType: (name) => queueTypes.find((q) => q.name === name) ?? null,
    validatorNames: new Set(listValidators().map((v) => v.name)),
  };
}

export function problemsOfStoredJob(core: Core, name: string): Problem[] {
  const job = config.getJob(core.db, name);
  if (!job) throw notFound(`no job named "${name}"`);
  return checkJob(jobInputOf(job), checkLookupFor(core));
}

// A sample submission id for previews (the one A_A's docs use), so file names read as they will at run time.
const PREVIEW_ID = 'f7a314fe';

export function configRoutes(router: Router, core: Core): void {
  const db = core.db;

  router.get('/queue-types', (_req, res) => {
    res.json(config.listQueueTypes(db));
  });
  router.put('/queue-types/:name', (req, res) => {
    const previous = param(req, 'name');
    const input = bodyOf<QueueTypeInput>(req);
    const exists = config.listQueueTypes(db).some((q) => q.name === previous);
    res.json(config.saveQueueType(db, input, exists && previous !== input.name ? { previousName: previous } : {}));
  });
  router.delete('/queue-types/:name', (req, res) => {
    config.deleteQueueType(db, param(req, 'name'));
    res.status(204).end();
  });

  router.get('/backends', (_req, res) => {
    res.json(config.listBackends(db));
  });
  router.put('/backends/:name', (req, res) => {
    const previous = param(req, 'name');
    const input = bodyOf<BackendInput>(req);
    const exists = config.getBackend(db, previous) !== null;
    res.json(config.saveBackend(db, input, exists && previous !== input.name ? { previousName: previous } : {}));
  });
  router.delete('/backends/:name', (req, res) => {
    config.deleteBackend(db, param(req, 'name'));
    res.status(204).end();
  });

  router.get('/tasks', (_req, res) => {
    res.json(config.listTasks(db));
  });
  router.get('/tasks/:name', (req, res) => {
    const task = config.getTask(db, param(req, 'name'));
    if (!task) throw notFound(`no task named "${param(req, 'name')}"`);
    res.json(task);
  });
  router.put('/tasks/:name', (req, res) => {
    const previous = param(req, 'name');
    const input = bodyOf<TaskInput>(req);
    const exists = config.getTask(db, previous) !== null;
    res.json(config.saveTask(db, input, exists && previous !== input.name ? { previousName: previous } : {}));
  });
  router.delete('/tasks/:name', (req, res) => {
    config.deleteTask(db, param(req, 'name'));
    res.status(204).end();
  });

  router.get('/jobs', (_req, res) => {
    res.json(config.listJobs(db));
  });
  router.get('/jobs/:name', (req, res) => {
    const job = config.getJob(db, param(req, 'name'));
    if (!job) throw notFound(`no job named "${param(req, 'name')}"`);
    res.json(job);
  });
  router.put('/jobs/:name', (req, res) => {
    const previous = param(req, 'name');
    const input = bodyOf<JobInput>(req);
    const stored = config.getJob(db, previous);
    // Saving leaves the runnable switch as it is: only publish (after the check) and unpublish change it.
    const job = { ...input, runnable: stored?.runnable ?? false };
    res.json(config.saveJob(db, job, stored && previous !== input.name ? { previousName: previous } : {}));
  });
  router.delete('/jobs/:name', (req, res) => {
    config.deleteJob(db, param(req, 'name'));
    res.status(204).end();
  });

  router.post('/jobs/:name/check', (req, res) => {
    const body = (req.body ?? {}) as JobCheckRequest;
    const response: JobCheckResponse = body.job
      ? { problems: checkJob(body.job, checkLookupFor(core, body.tasks), { entry: body.entry, exit: body.exit }) }
      : { problems: problemsOfStoredJob(core, param(req, 'name')) };
    res.json(response);
  });
  router.post('/jobs/:name/publish', (req, res) => {
    const name = param(req, 'name');
    const problems = problemsOfStoredJob(core, name);
    if (problems.length > 0) {
      const message = `${name} cannot be published: ${problems[0].message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`;
      throw new AppError('Invalid', message, { error: message, problems });
    }
    publishJob(db, name);
    res.json(config.getJob(db, name));
  });
  router.post('/jobs/:name/unpublish', (req, res) => {
    const name = param(req, 'name');
    if (!config.getJob(db, name)) throw notFound(`no job named "${name}"`);
    config.setRunnable(db, name, false);
    res.json(config.getJob(db, name));
  });

  router.get('/validator-types', (_req, res) => {
    const types: ValidatorTypeInfo[] = listValidators().map((v) => ({ name: v.name, description: v.description }));
    res.json(types);
  });

  router.post('/preview-command', (req, res: Response) => {
    const body = bodyOf<PreviewCommandRequest>(req);
    const task = body.task?.trim() || 'task';
    const executable = String(body.executable ?? '');
    const send = (r: PreviewCommandResponse) => res.json(r);
    const shell = checkExecutable(executable);
    if (shell) return send({ error: shell });
    const request: Record<string, string> = {};
    for (const [alias, value] of Object.entries(body.values ?? {})) request[restField(task, alias)] = String(value);
    try {
      const planned = planParams(body.parameters ?? [], task, request);
      const argv = renderCommand(
        {
          executable,
          ...planned,
          in_globs: splitGlobs(body.in_glob ?? ''),
          out_globs: splitGlobs(body.out_glob ?? ''),
        },
        { id: PREVIEW_ID, tmp: core.paths.work },
      );
      send({ argv });
    } catch (error) {
      send({ error: (error as Error).message });
    }
  });
}
