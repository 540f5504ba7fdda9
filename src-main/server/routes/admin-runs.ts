// Workbench run routes: the runs list and run page, stored files, re-run/cancel/delete, test runs and live events.
import type { Request, Response, Router } from 'express';
import type { Core } from '../../core/api';
import { AppError, notFound } from '../../core/errors';
import { STATUS_LABELS, type StatusCode } from '../../core/model/types';
import * as config from '../../core/store/config-repo';
import { attemptFiles, inputFile, listClients, listRuns, resultFile, runDetail, type RunFilter } from '../../core/store/run-queries';
import { DEFAULT_UPLOAD_LIMITS, parseUpload } from '../upload';
import { clientIp } from '../client-ip';
import { previewKindOf, readTail, resolveInside, sendStored } from './admin-files';
import type { RunAttemptView, RunDetail, RunResultView, RunsResponse, TestRunResponse } from './admin-types';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

function integer(v: unknown, what: string): number | undefined {
  const s = text(v);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) throw new AppError('Invalid', `${what} must be a whole number`);
  return Number(s);
}

function instant(v: unknown, what: string): string | undefined {
  const s = text(v);
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new AppError('Invalid', `${what} must be a date and time`);
  return new Date(t).toISOString();
}

/** `state=Complete,Error` or `state=2,3`; `active` means Submitted or Running. */
function states(v: unknown): StatusCode[] | undefined {
  const s = text(v);
  if (s === undefined) return undefined;
  const codes = s.split(',').flatMap((part): StatusCode[] => {
    const p = part.trim();
    if (p.toLowerCase() === 'active') return [0, 1];
    if (/^\d$/.test(p) && Number(p) < STATUS_LABELS.length) return [Number(p) as StatusCode];
    const i = STATUS_LABELS.findIndex((l) => l.toLowerCase() === p.toLowerCase());
    if (i < 0) throw new AppError('Invalid', `unknown state "${p}"`);
    return [i as StatusCode];
  });
  return codes;
}

export function parseRunFilter(query: Request['query']): RunFilter {
  return {
    job: text(query.job),
    states: states(query.state),
    client: text(query.client),
    since: instant(query.since, 'since'),
    until: instant(query.until, 'until'),
    before: integer(query.before, 'before'),
    limit: integer(query.limit, 'limit'),
  };
}

const elapsed = (from: string | null, to: string | null): number | null =>
  from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : null;

/** An AppError from intake carries A_A's body; the workbench shows it as one readable sentence. */
function readable(error: unknown): unknown {
  if (!(error instanceof AppError)) return error;
  const body = error.body as { error?: unknown } | undefined;
  if (body && typeof body.error === 'object' && body.error !== null) {
    const parts = Object.entries(body.error as Record<string, string[]>).map(([field, msgs]) => `${field}: ${[msgs].flat().join(' ')}`);
    return new AppError(error.kind, parts.join('; '));
  }
  if (body && typeof body.error === 'string') return new AppError(error.kind, body.error);
  return error;
}

export function runRoutes(router: Router, core: Core): void {
  const db = core.db;
  const root = core.paths.root;
  const base = (uuid: string) => `/api/admin/runs/${encodeURIComponent(uuid)}`;

  router.get('/runs', (req, res) => {
    const page = listRuns(db, parseRunFilter(req.query));
    const body: RunsResponse = { ...page, clients: listClients(db), jobs: config.listJobs(db).map((j) => j.name) };
    res.json(body);
  });

  router.get('/runs/:uuid', async (req, res) => {
    const uuid = String(req.params.uuid);
    const detail = runDetail(db, uuid);
    if (!detail) throw notFound(`no run ${uuid}`);
    const tailOf = async (stored: string | null) => (stored ? readTail(resolveInside(root, stored)) : null);
    const attempts: RunAttemptView[] = await Promise.all(
      detail.attempts.map(async (a) => {
        const [out, err] = await Promise.all([tailOf(a.stdout_path), tailOf(a.stderr_path)]);
        return {
          ...a,
          duration_ms: elapsed(a.started_at, a.ended_at),
          stdout_tail: out?.text ?? null,
          stderr_tail: err?.text ?? null,
          stdout_size: out?.size ?? 0,
          stderr_size: err?.size ?? 0,
        };
      }),
    );
    const results: RunResultView[] = await Promise.all(
      detail.results.map(async (r) => ({
        ...r,
        url: `${base(uuid)}/results/${r.id}`,
        preview: await previewKindOf(resolveInside(root, r.path)),
      })),
    );
    const body: RunDetail = {
      ...detail,
      attempts,
      results,
      input: {
        name: detail.run.input_name,
        size: detail.run.input_size,
        url: `${base(uuid)}/input`,
        preview: await previewKindOf(resolveInside(root, detail.run.input_path)),
      },
    };
    res.json(body);
  });

  const download = (req: Request) => req.query.download === '1' || req.query.download === 'true';

  router.get('/runs/:uuid/input', async (req, res) => {
    const file = inputFile(db, String(req.params.uuid));
    if (!file) throw notFound('no such run');
    await sendStored(res, resolveInside(root, file.path), file.name, download(req));
  });

  router.get('/runs/:uuid/attempts/:id/:stream', async (req, res) => {
    const stream = String(req.params.stream);
    if (stream !== 'stdout' && stream !== 'stderr') throw notFound('stream is stdout or stderr');
    const files = attemptFiles(db, String(req.params.uuid), Number(req.params.id));
    const stored = files?.[`${stream}_path`];
    if (!stored) throw notFound(`no ${stream} kept for this attempt`);
    await sendStored(res, resolveInside(root, stored), `attempt-${req.params.id}.${stream}.txt`, download(req));
  });

  router.get('/runs/:uuid/results/:id', async (req, res) => {
    const file = resultFile(db, String(req.params.uuid), Number(req.params.id));
    if (!file) throw notFound('no such result');
    await sendStored(res, resolveInside(root, file.path), file.path.split(/[\\/]/).pop() ?? 'result', download(req));
  });

  router.post('/runs/:uuid/rerun', async (req, res) => {
    const result = await core.rerun(String(req.params.uuid));
    const body: TestRunResponse = { batch_uuid: result.batch_uuid, submission_uuid: result.submissions[0]?.uuid ?? '' };
    res.status(201).json(body);
  });
  router.post('/runs/:uuid/cancel', async (req, res) => {
    res.json({ cancelled: await core.cancel(String(req.params.uuid)) });
  });
  router.delete('/runs/:uuid', async (req, res) => {
    await core.deleteRun(String(req.params.uuid));
    res.status(204).end();
  });

  router.post('/test-run', async (req, res) => {
    const upload = await parseUpload(req, core.paths.tmp, {
      ...DEFAULT_UPLOAD_LIMITS,
      fileBytes: core.settings().upload_limit_bytes,
    });
    try {
      const fields = upload.form.fields;
      const has = (name: string) => fields.some(([k]) => k === name);
      if (!has('job')) throw new AppError('Invalid', 'choose the job to run');
      if (!has('submission_name') || !fields.find(([k]) => k === 'submission_name')?.[1].trim()) {
        fields.push(['submission_name', 'workbench test run']);
      }
      if (!has('email') || !fields.find(([k]) => k === 'email')?.[1].trim()) fields.push(['email', 'workbench@localhost']);
      const result = await core.submitAa(upload.form, { ip: clientIp(req), admin: true }).catch((error: unknown) => {
        throw readable(error);
      });
      const body: TestRunResponse = { batch_uuid: result.batch_uuid, submission_uuid: result.submissions[0]?.uuid ?? '' };
      res.status(201).json(body);
    } finally {
      await upload.cleanup();
    }
  });

  router.get('/events', (req: Request, res: Response) => {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    const off = core.events.onRun((event) => {
      res.write(`data: ${JSON.stringify(event)}\n\n`);
    });
    // Comments keep idle connections (and proxies) from timing the stream out.
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    ping.unref();
    req.on('close', () => {
      off();
      clearInterval(ping);
    });
  });
}
