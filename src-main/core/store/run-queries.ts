// Read-only queries over the runtime tables for the workbench UI: the runs list, one run in detail, per-service stats.
import type { Db } from './db';
import type { StatusCode, StatusLabel } from '../model/types';
import { STATUS_LABELS } from '../model/types';

export interface RunFilter {
  job?: string;
  /** One or more status codes (any of them matches). */
  states?: StatusCode[];
  /** Client IP address. */
  client?: string;
  /** ISO timestamps bounding created_at: since inclusive, until exclusive. */
  since?: string;
  until?: string;
  /** Keyset cursor: only runs older than this submission id (the `next` of the previous page). */
  before?: number;
  /** Page size, 1–500 (default 50). */
  limit?: number;
}

export interface RunRow {
  id: number;
  uuid: string;
  batch_uuid: string;
  job: string;
  submission_name: string;
  client: string;
  status: StatusCode;
  state: StatusLabel;
  last_message: string;
  input_name: string;
  input_size: number;
  created_at: string;
  modified_at: string;
  finished_at: string | null;
  /** finished_at − created_at in milliseconds; null while unfinished. */
  duration_ms: number | null;
}

export interface RunPage {
  runs: RunRow[];
  /** Cursor for the next (older) page, or null on the last page. */
  next: number | null;
  /** Runs matching the filter on all pages. */
  total: number;
}

export interface RunAttempt {
  id: number;
  step_key: string;
  task_name: string;
  current_step: number;
  attempt_no: number;
  state: string;
  argv: string[] | null;
  cwd: string | null;
  pid: number | null;
  exit_code: number | null;
  signal: string | null;
  stdout_path: string | null;
  stderr_path: string | null;
  queued_at: string;
  started_at: string | null;
  ended_at: string | null;
  message: string | null;
}

export interface RunResult {
  id: number;
  task_name: string;
  step_key: string | null;
  step: number;
  path: string;
  /** File name on disk (the basename of path). */
  file_name: string;
  size: number;
  created_at: string;
}

export interface RunMessage {
  id: number;
  step_id: number | null;
  message: string;
  created_at: string;
}

/** One planned step as the run saw it (from the immutable plan). */
export interface RunPlanStep {
  key: string;
  task: string;
  current_step: number;
  after: string[];
}

export interface RunDetailRow {
  run: RunRow & { email: string | null; priority: number; input_path: string; step_id: number | null };
  batch_state: StatusLabel;
  params: Record<string, string>;
  plan: RunPlanStep[];
  attempts: RunAttempt[];
  results: RunResult[];
  messages: RunMessage[];
}

export interface ServiceStats {
  runs_today: number;
  /** Share of Complete among the last 100 finished runs, 0–1; null before any run finished. */
  success_rate: number | null;
  /** Median finished_at − created_at of the last 100 Complete runs, ms. */
  p50_ms: number | null;
  /** Submitted and not yet started. */
  queued: number;
  running: number;
}

const label = (status: number): StatusLabel => STATUS_LABELS[status] ?? 'Submitted';

const RUN_COLUMNS = `s.id, s.uuid, b.uuid AS batch_uuid, s.job_name AS job, s.submission_name, s.ip AS client, s.status,
  s.last_message, s.input_name, s.input_size, s.created_at, s.modified_at, s.finished_at,
  CASE WHEN s.finished_at IS NULL THEN NULL
       ELSE CAST(ROUND((julianday(s.finished_at) - julianday(s.created_at)) * 86400000.0) AS INTEGER) END AS duration_ms`;

type RawRun = Omit<RunRow, 'state'>;
const withLabel = <T extends { status: number }>(row: T): T & { state: StatusLabel } => ({ ...row, state: label(row.status) });

/** Runs newest first, keyset-paginated on the submission id (stable while new runs arrive). */
export function listRuns(db: Db, filter: RunFilter = {}): RunPage {
  const where: string[] = [];
  const args: Array<string | number> = [];
  if (filter.job) {
    where.push('s.job_name = ?');
    args.push(filter.job);
  }
  if (filter.states && filter.states.length > 0) {
    where.push(`s.status IN (${filter.states.map(() => '?').join(',')})`);
    args.push(...filter.states);
  }
  if (filter.client) {
    where.push('s.ip = ?');
    args.push(filter.client);
  }
  if (filter.since) {
    where.push('s.created_at >= ?');
    args.push(filter.since);
  }
  if (filter.until) {
    where.push('s.created_at < ?');
    args.push(filter.until);
  }
  const limit = Math.min(500, Math.max(1, Math.floor(filter.limit ?? 50)));
  const base = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM submission s ${base}`).get(...args) as { n: number }).n;
  const pageWhere = filter.before !== undefined ? [...where, 's.id < ?'] : where;
  const pageArgs = filter.before !== undefined ? [...args, filter.before] : args;
  const rows = db
    .prepare(
      `SELECT ${RUN_COLUMNS} FROM submission s JOIN batch b ON b.id = s.batch_id
       ${pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : ''}
       ORDER BY s.id DESC LIMIT ?`,
    )
    .all(...pageArgs, limit + 1) as RawRun[];
  const more = rows.length > limit;
  const runs = rows.slice(0, limit).map(withLabel);
  return { runs, next: more ? runs[runs.length - 1].id : null, total };
}

/** Distinct client addresses, for the runs filter. */
export function listClients(db: Db): string[] {
  return (db.prepare('SELECT DISTINCT ip FROM submission ORDER BY ip').all() as Array<{ ip: string }>).map((r) => r.ip);
}

const parseJson = <T>(text: string | null, fallback: T): T => {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

/** Everything the run page shows about one submission, or null if the UUID is unknown. */
export function runDetail(db: Db, uuid: string): RunDetailRow | null {
  const row = db
    .prepare(
      `SELECT ${RUN_COLUMNS}, s.email, s.priority, s.input_path, s.step_id, s.params, s.plan, b.status AS batch_status
       FROM submission s JOIN batch b ON b.id = s.batch_id WHERE s.uuid = ?`,
    )
    .get(uuid) as (RawRun & { email: string | null; priority: number; input_path: string; step_id: number | null; params: string; plan: string; batch_status: number }) | undefined;
  if (!row) return null;
  const { params, plan, batch_status, ...run } = row;
  const attempts = (db.prepare('SELECT * FROM attempt WHERE submission_id = ? ORDER BY id').all(row.id) as Array<
    Omit<RunAttempt, 'argv'> & { argv: string | null }
  >).map((a) => ({
    id: a.id,
    step_key: a.step_key,
    task_name: a.task_name,
    current_step: a.current_step,
    attempt_no: a.attempt_no,
    state: a.state,
    argv: parseJson<string[] | null>(a.argv, null),
    cwd: a.cwd,
    pid: a.pid,
    exit_code: a.exit_code,
    signal: a.signal,
    stdout_path: a.stdout_path,
    stderr_path: a.stderr_path,
    queued_at: a.queued_at,
    started_at: a.started_at,
    ended_at: a.ended_at,
    message: a.message,
  }));
  const results = (db
    .prepare('SELECT id, task_name, step_key, step, path, size, created_at FROM result WHERE submission_id = ? ORDER BY id')
    .all(row.id) as Array<Omit<RunResult, 'file_name'>>).map((r) => ({ ...r, file_name: r.path.split(/[\\/]/).pop() ?? r.path }));
  const messages = db
    .prepare('SELECT id, step_id, message, created_at FROM message WHERE submission_id = ? ORDER BY id')
    .all(row.id) as RunMessage[];
  const planned = parseJson<{ steps?: Array<Partial<RunPlanStep>> }>(plan, {}).steps ?? [];
  return {
    run: withLabel(run),
    batch_state: label(batch_status),
    params: parseJson<Record<string, string>>(params, {}),
    plan: planned.map((s) => ({ key: String(s.key ?? ''), task: String(s.task ?? ''), current_step: Number(s.current_step ?? 0), after: s.after ?? [] })),
    attempts,
    results,
    messages,
  };
}

/** The stored paths of one attempt of one run (null if either is unknown). */
export function attemptFiles(db: Db, uuid: string, attemptId: number): { stdout_path: string | null; stderr_path: string | null } | null {
  return (
    (db
      .prepare(
        `SELECT a.stdout_path, a.stderr_path FROM attempt a JOIN submission s ON s.id = a.submission_id
         WHERE s.uuid = ? AND a.id = ?`,
      )
      .get(uuid, attemptId) as { stdout_path: string | null; stderr_path: string | null } | undefined) ?? null
  );
}

/** The stored path of one result of one run (null if either is unknown). */
export function resultFile(db: Db, uuid: string, resultId: number): { path: string } | null {
  return (
    (db
      .prepare('SELECT r.path FROM result r JOIN submission s ON s.id = r.submission_id WHERE s.uuid = ? AND r.id = ?')
      .get(uuid, resultId) as { path: string } | undefined) ?? null
  );
}

/** The stored input of one run. */
export function inputFile(db: Db, uuid: string): { path: string; name: string } | null {
  return (
    (db.prepare('SELECT input_path AS path, input_name AS name FROM submission WHERE uuid = ?').get(uuid) as
      | { path: string; name: string }
      | undefined) ?? null
  );
}

const median = (sorted: number[]): number | null => {
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
};

/** Counts and latency of one job's runs; `dayStart` is the ISO instant "today" starts at. */
export function serviceStats(db: Db, job: string, dayStart: string): ServiceStats {
  const today = db.prepare('SELECT COUNT(*) AS n FROM submission WHERE job_name = ? AND created_at >= ?').get(job, dayStart) as { n: number };
  const finished = db
    .prepare(
      `SELECT status, CASE WHEN finished_at IS NULL THEN NULL
         ELSE (julianday(finished_at) - julianday(created_at)) * 86400000.0 END AS ms
       FROM submission WHERE job_name = ? AND status >= 2 ORDER BY id DESC LIMIT 100`,
    )
    .all(job) as Array<{ status: number; ms: number | null }>;
  const waiting = db
    .prepare('SELECT status, COUNT(*) AS n FROM submission WHERE job_name = ? AND status <= 1 GROUP BY status')
    .all(job) as Array<{ status: number; n: number }>;
  const complete = finished.filter((r) => r.status === 2);
  const durations = complete.map((r) => r.ms).filter((ms): ms is number => ms !== null).sort((a, b) => a - b);
  const p50 = median(durations);
  return {
    runs_today: today.n,
    success_rate: finished.length ? complete.length / finished.length : null,
    p50_ms: p50 === null ? null : Math.round(p50),
    queued: waiting.find((w) => w.status === 0)?.n ?? 0,
    running: waiting.find((w) => w.status === 1)?.n ?? 0,
  };
}
