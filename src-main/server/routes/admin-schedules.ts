// Workbench routes for scheduled runs: list, create (JSON or multipart with the input file), change, delete, fire now, preview a cron.
import type { Request, Router } from 'express';
import type { CoreInternals } from '../../core';
import { AppError } from '../../core/errors';
import { cronPreview, type ScheduleInput, type SchedulePatch } from '../../core/schedule/scheduler';
import { DEFAULT_UPLOAD_LIMITS, parseUpload } from '../upload';

const idOf = (req: Request): number => {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id < 1) throw new AppError('NotFound', `No schedule ${String(req.params.id)}.`);
  return id;
};

const objectBody = (req: Request): Record<string, unknown> => {
  if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) throw new AppError('Invalid', 'expected a JSON object body');
  return req.body as Record<string, unknown>;
};

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const nullableText = (v: unknown): string | null | undefined => (v === null ? null : text(v));

/** Parameter values: an object of field → value (numbers and booleans taken as their text). */
function paramsOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    try {
      return paramsOf(JSON.parse(v) as unknown);
    } catch {
      throw new AppError('Invalid', 'params must be a JSON object', undefined, [{ path: 'params', message: 'must be an object of field values' }]);
    }
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new AppError('Invalid', 'params must be an object', undefined, [{ path: 'params', message: 'must be an object of field values' }]);
  }
  return Object.fromEntries(Object.entries(v).map(([k, value]) => [k, String(value)]));
}

function patchOf(body: Record<string, unknown>): SchedulePatch {
  const patch: SchedulePatch = {};
  if (body.cron !== undefined) patch.cron = String(body.cron);
  if (body.timezone !== undefined) patch.timezone = nullableText(body.timezone) ?? null;
  if (body.submission_name !== undefined) patch.submission_name = nullableText(body.submission_name) ?? null;
  if (body.email !== undefined) patch.email = nullableText(body.email) ?? null;
  if (body.enabled !== undefined) {
    if (typeof body.enabled !== 'boolean') throw new AppError('Invalid', 'enabled must be true or false', undefined, [{ path: 'enabled', message: 'must be true or false' }]);
    patch.enabled = body.enabled;
  }
  const params = paramsOf(body.params);
  if (params) patch.params = params;
  return patch;
}

/**
 * GET /schedules, POST /schedules, GET|PATCH|DELETE /schedules/:id, POST /schedules/:id/run,
 * GET /schedules/:id/input, POST /schedules/preview.
 */
export function scheduleRoutes(router: Router, core: CoreInternals): void {
  router.get('/schedules', (_req, res) => {
    res.json(core.schedules.list());
  });

  router.post('/schedules/preview', (req, res) => {
    const body = objectBody(req);
    const result = cronPreview(String(body.cron ?? ''), nullableText(body.timezone) ?? null, 5);
    if ('error' in result) throw new AppError('Invalid', `not a cron expression: ${result.error}`, undefined, [{ path: 'cron', message: result.error }]);
    res.json(result);
  });

  router.post('/schedules', async (req, res) => {
    if (req.is('application/json')) {
      const body = objectBody(req);
      const input = body.input as { name?: unknown; content?: unknown; content_base64?: unknown } | null | undefined;
      let file: ScheduleInput['input'] = null;
      if (input && typeof input === 'object') {
        const name = text(input.name) ?? 'input.txt';
        if (typeof input.content_base64 === 'string') file = { name, content: Buffer.from(input.content_base64, 'base64') };
        else if (typeof input.content === 'string') file = { name, content: input.content };
        else throw new AppError('Invalid', 'input needs content or content_base64', undefined, [{ path: 'input', message: 'needs content or content_base64' }]);
      }
      const created = await core.schedules.create({ job: String(body.job ?? ''), cron: String(body.cron ?? ''), ...patchOf(body), input: file });
      res.status(201).json(created);
      return;
    }
    // Multipart: fields job, cron, timezone, submission_name, email, enabled, params (JSON), file input_data.
    const upload = await parseUpload(req, core.paths.tmp, { ...DEFAULT_UPLOAD_LIMITS, fileBytes: core.settings().upload_limit_bytes });
    try {
      const fields = Object.fromEntries(upload.form.fields) as Record<string, string>;
      const body: Record<string, unknown> = { ...fields };
      if (fields.enabled !== undefined) body.enabled = !/^(false|0|no)$/i.test(fields.enabled);
      const file = upload.form.file;
      const created = await core.schedules.create({
        job: fields.job ?? '',
        cron: fields.cron ?? '',
        ...patchOf(body),
        input: file ? { name: file.originalName, path: file.path } : null,
      });
      res.status(201).json(created);
    } finally {
      await upload.cleanup();
    }
  });

  router.get('/schedules/:id', (req, res) => {
    res.json(core.schedules.get(idOf(req)));
  });

  router.patch('/schedules/:id', (req, res) => {
    res.json(core.schedules.update(idOf(req), patchOf(objectBody(req))));
  });

  router.delete('/schedules/:id', async (req, res) => {
    const id = idOf(req);
    if (!(await core.schedules.remove(id))) throw new AppError('NotFound', `No schedule ${id}.`);
    res.json({ deleted: true });
  });

  router.post('/schedules/:id/run', async (req, res) => {
    res.status(202).json(await core.schedules.runNow(idOf(req)));
  });

  router.get('/schedules/:id/input', (req, res) => {
    const file = core.schedules.inputFile(idOf(req));
    res.download(file.path, file.name, { dotfiles: 'allow' });
  });
}
