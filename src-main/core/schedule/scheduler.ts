// Scheduled runs (A_A's periodic jobs, reference §3.12): cron expressions per Job, stored in SQLite, each firing a normal submission.
import fs from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import type { Db } from '../store/db';
import { nowIso } from '../store/db';
import type { DataPaths, SubmissionForm, SubmitOptions, SubmitResult } from '../api';
import { AppError, notFound } from '../errors';
import type { Problem } from '../store/config-repo';
import { getJob, getTask } from '../store/config-repo';
import { jobParameterFields } from '../plan/plan';
import { loadUnixCommands, sanitiseValue } from '../plan/sanitise';
import { safeFileName } from '../intake/aa-intake';
import { getValidator } from '../validators';
import { NO_EMAIL } from '../notify/email';

/** A_A's periodic runs read a file `dummy.txt` holding "empty" when they are given none. */
export const DEFAULT_INPUT = { name: 'dummy.txt', content: 'empty' };
/** Cron syntax accepted: five fields (minute precision) or six (a leading seconds field). */
const CRON_MODE = '5-or-6-parts';
const SUBMISSION_NAME_MAX = 64;

export interface Schedule {
  id: number;
  job: string;
  /** Cron expression: `m h dom mon dow`, or with a leading seconds field. */
  cron: string;
  /** IANA time zone the expression is read in; null: the computer's. */
  timezone: string | null;
  submission_name: string;
  /** Parameter values by REST field (`<task>_<alias>`). */
  params: Record<string, string>;
  input_name: string;
  input_size: number;
  /** Completion mail goes here (when email is set up); null: nobody. */
  email: string | null;
  enabled: boolean;
  created_at: string;
  runs: number;
  last_run_at: string | null;
  last_batch_uuid: string | null;
  /** Why the last firing submitted nothing; null after a good one. */
  last_error: string | null;
  /** Next firing; null when disabled. */
  next_run_at: string | null;
}

export interface ScheduleInput {
  job: string;
  cron: string;
  timezone?: string | null;
  submission_name?: string | null;
  params?: Record<string, string>;
  email?: string | null;
  enabled?: boolean;
  /** The input file each run gets: a file to move into the schedule's folder, or text; absent: A_A's dummy.txt. */
  input?: { name: string; path: string } | { name: string; content: string | Buffer } | null;
}

export type SchedulePatch = Partial<Omit<ScheduleInput, 'job'>>;

export interface SchedulerDeps {
  db: Db;
  paths: DataPaths;
  /** The core's A_A intake; each firing is an admin submission (not held by the runnable switch or quotas). */
  submit: (form: SubmissionForm, options: SubmitOptions) => Promise<SubmitResult>;
}

interface Row {
  id: number;
  job: string;
  cron: string;
  timezone: string | null;
  submission_name: string;
  params: string;
  input_name: string;
  input_path: string;
  email: string | null;
  enabled: number;
  created_at: string;
  runs: number;
  last_run_at: string | null;
  last_batch_uuid: string | null;
  last_error: string | null;
}

const SELECT = `SELECT s.id, j.name AS job, s.cron, s.timezone, s.submission_name, s.params, s.input_name, s.input_path, s.email,
  s.enabled, s.created_at, s.runs, s.last_run_at, s.last_batch_uuid, s.last_error FROM schedule s JOIN job j ON j.id = s.job_id`;

/** The next `count` firing times of an expression, or the reason it is not one. */
export function cronPreview(cron: string, timezone: string | null = null, count = 5): { next: string[] } | { error: string } {
  try {
    const job = new Cron(cron, { paused: true, mode: CRON_MODE, ...(timezone ? { timezone } : {}) });
    const next = job.nextRuns(count).map((d) => d.toISOString());
    job.stop();
    return next.length ? { next } : { error: 'never fires' };
  } catch (e) {
    return { error: (e as Error).message.replace(/^CronPattern: /, '') };
  }
}

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Owns the schedule table and its timers. Each enabled schedule has one croner job; a firing copies the stored
 * input, submits it with the stored parameters through the A_A intake as an admin run, and records the outcome.
 * Firings missed while the app was not running are not made up.
 */
export class Scheduler {
  private readonly timers = new Map<number, Cron>();
  private readonly firing = new Set<Promise<unknown>>();
  private unixCommands: ReadonlySet<string> | null = null;
  private running = false;

  constructor(private readonly deps: SchedulerDeps) {}

  private get root(): string {
    return path.join(this.deps.paths.root, 'schedules');
  }

  start(): void {
    this.running = true;
    for (const row of this.rows()) this.arm(row);
    // Folders of schedules whose Job was deleted (the rows went with it).
    const ids = new Set(this.rows().map((r) => String(r.id)));
    if (fs.existsSync(this.root)) {
      for (const entry of fs.readdirSync(this.root)) if (!ids.has(entry)) fs.rmSync(path.join(this.root, entry), { recursive: true, force: true });
    }
  }

  /** Stops every timer and waits for firings under way. */
  async stop(): Promise<void> {
    this.running = false;
    for (const timer of this.timers.values()) timer.stop();
    this.timers.clear();
    await Promise.allSettled([...this.firing]);
  }

  list(): Schedule[] {
    return this.rows().map((r) => this.view(r));
  }

  get(id: number): Schedule {
    const row = this.row(id);
    if (!row) throw notFound(`No schedule ${id}.`);
    return this.view(row);
  }

  /** Absolute path of a schedule's stored input file. */
  inputFile(id: number): { path: string; name: string } {
    const row = this.row(id);
    if (!row) throw notFound(`No schedule ${id}.`);
    return { path: path.join(this.deps.paths.root, row.input_path), name: row.input_name };
  }

  async create(input: ScheduleInput): Promise<Schedule> {
    const job = typeof input.job === 'string' ? getJob(this.deps.db, input.job) : null;
    const problems: Problem[] = [];
    if (!job) problems.push({ path: 'job', message: typeof input.job === 'string' && input.job ? `unknown job "${input.job}"` : 'required' });
    const fields = this.checkFields(input, problems, job ? job.name : null);
    if (problems.length || !job) throw invalid(problems);

    const file = input.input ?? { name: DEFAULT_INPUT.name, content: DEFAULT_INPUT.content };
    const name = safeFileName(file.name);
    const id = Number(
      this.deps.db
        .prepare(
          `INSERT INTO schedule (job_id, cron, timezone, submission_name, params, input_name, input_path, email, enabled, created_at)
           VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?)`,
        )
        .run(job.id, fields.cron, fields.timezone, fields.submission_name, JSON.stringify(fields.params), name, fields.email, fields.enabled ? 1 : 0, nowIso())
          .lastInsertRowid,
    );
    try {
      const dir = path.join(this.root, String(id));
      await fs.promises.mkdir(dir, { recursive: true });
      const target = path.join(dir, name);
      if ('path' in file) await fs.promises.rename(file.path, target).catch(() => fs.promises.copyFile(file.path, target));
      else await fs.promises.writeFile(target, file.content);
      const problem = await this.checkInput(job.validators, target);
      if (problem) throw invalid([{ path: 'input', message: problem }]);
      this.deps.db.prepare('UPDATE schedule SET input_path = ? WHERE id = ?').run(path.relative(this.deps.paths.root, target), id);
    } catch (error) {
      this.deps.db.prepare('DELETE FROM schedule WHERE id = ?').run(id);
      await fs.promises.rm(path.join(this.root, String(id)), { recursive: true, force: true });
      throw error;
    }
    const row = this.row(id) as Row;
    this.arm(row);
    return this.view(row);
  }

  /** Changes the timing, parameters, name, email or the enabled switch; the input file stays. */
  update(id: number, patch: SchedulePatch): Schedule {
    const row = this.row(id);
    if (!row) throw notFound(`No schedule ${id}.`);
    const merged: ScheduleInput = {
      job: row.job,
      cron: patch.cron ?? row.cron,
      timezone: patch.timezone === undefined ? row.timezone : patch.timezone,
      submission_name: patch.submission_name === undefined ? row.submission_name : patch.submission_name,
      params: patch.params ?? (JSON.parse(row.params) as Record<string, string>),
      email: patch.email === undefined ? row.email : patch.email,
      enabled: patch.enabled ?? row.enabled === 1,
    };
    const problems: Problem[] = [];
    const fields = this.checkFields(merged, problems, row.job);
    if (problems.length) throw invalid(problems);
    this.deps.db
      .prepare('UPDATE schedule SET cron = ?, timezone = ?, submission_name = ?, params = ?, email = ?, enabled = ? WHERE id = ?')
      .run(fields.cron, fields.timezone, fields.submission_name, JSON.stringify(fields.params), fields.email, fields.enabled ? 1 : 0, id);
    const updated = this.row(id) as Row;
    this.arm(updated);
    return this.view(updated);
  }

  async remove(id: number): Promise<boolean> {
    this.timers.get(id)?.stop();
    this.timers.delete(id);
    const removed = this.deps.db.prepare('DELETE FROM schedule WHERE id = ?').run(id).changes > 0;
    await fs.promises.rm(path.join(this.root, String(id)), { recursive: true, force: true });
    return removed;
  }

  /** Fires a schedule now, as its timer would; the submission's outcome is also recorded on the schedule. */
  async runNow(id: number): Promise<SubmitResult> {
    if (!this.row(id)) throw notFound(`No schedule ${id}.`);
    return this.fire(id, null) as Promise<SubmitResult>;
  }

  // -------------------------------------------------------------------------------------------

  private rows(): Row[] {
    return this.deps.db.prepare(`${SELECT} ORDER BY s.id`).all() as Row[];
  }

  private row(id: number): Row | undefined {
    return this.deps.db.prepare(`${SELECT} WHERE s.id = ?`).get(id) as Row | undefined;
  }

  private view(r: Row): Schedule {
    const next = r.enabled ? this.timers.get(r.id)?.nextRun() : null;
    let size = 0;
    try {
      size = fs.statSync(path.join(this.deps.paths.root, r.input_path)).size;
    } catch {
      size = 0;
    }
    return {
      id: r.id,
      job: r.job,
      cron: r.cron,
      timezone: r.timezone,
      submission_name: r.submission_name,
      params: JSON.parse(r.params) as Record<string, string>,
      input_name: r.input_name,
      input_size: size,
      email: r.email,
      enabled: r.enabled === 1,
      created_at: r.created_at,
      runs: r.runs,
      last_run_at: r.last_run_at,
      last_batch_uuid: r.last_batch_uuid,
      last_error: r.last_error,
      next_run_at: next ? next.toISOString() : null,
    };
  }

  private arm(row: Row): void {
    this.timers.get(row.id)?.stop();
    this.timers.delete(row.id);
    if (!this.running || row.enabled !== 1) return;
    const timer = new Cron(
      row.cron,
      { mode: CRON_MODE, protect: true, unref: true, ...(row.timezone ? { timezone: row.timezone } : {}) },
      async (self: Cron) => {
        // The firing's own second: the same in every process that has this data dir open.
        const at = self.currentRun() ?? new Date();
        await this.fire(row.id, new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString());
      },
    );
    this.timers.set(row.id, timer);
  }

  /** `slot`: the second a timer fired for; null for a firing asked for by hand. */
  private fire(id: number, slot: string | null): Promise<SubmitResult | null> {
    const firing = this.submitOnce(id, slot);
    this.firing.add(firing);
    void firing.finally(() => this.firing.delete(firing)).catch(() => {});
    return firing;
  }

  private async submitOnce(id: number, slot: string | null): Promise<SubmitResult | null> {
    const row = this.row(id);
    if (!row) {
      // Its Job was deleted, and the schedule with it.
      this.timers.get(id)?.stop();
      this.timers.delete(id);
      return null;
    }
    // Another process on this data dir (`aa run` beside the app) has the same timers: the first to claim the slot fires it.
    const claimed =
      slot === null ||
      this.deps.db.prepare('UPDATE schedule SET last_run_at = ? WHERE id = ? AND (last_run_at IS NULL OR last_run_at < ?)').run(slot, id, slot).changes > 0;
    if (!claimed) return null;
    const ranAt = slot ?? nowIso();
    const tmp = await fs.promises.mkdtemp(path.join(this.deps.paths.tmp, 'schedule-'));
    try {
      const copy = path.join(tmp, row.input_name);
      await fs.promises.copyFile(path.join(this.deps.paths.root, row.input_path), copy);
      const size = (await fs.promises.stat(copy)).size;
      const params = JSON.parse(row.params) as Record<string, string>;
      const form: SubmissionForm = {
        fields: [['job', row.job], ['submission_name', row.submission_name], ['email', row.email ?? NO_EMAIL], ...Object.entries(params)],
        file: { field: 'input_data', path: copy, originalName: row.input_name, size },
      };
      const result = await this.deps.submit(form, { ip: '127.0.0.1', admin: true });
      this.deps.db
        .prepare('UPDATE schedule SET runs = runs + 1, last_run_at = ?, last_batch_uuid = ?, last_error = NULL WHERE id = ?')
        .run(ranAt, result.batch_uuid, id);
      return result;
    } catch (error) {
      const message = errorText(error);
      this.deps.db.prepare('UPDATE schedule SET last_run_at = ?, last_error = ? WHERE id = ?').run(ranAt, message, id);
      if (slot === null) throw error;
      console.warn(`schedule ${id} (${row.job}) did not submit: ${message}`);
      return null;
    } finally {
      await fs.promises.rm(tmp, { recursive: true, force: true });
    }
  }

  /** Checks and normalises everything but the job and the input file. */
  private checkFields(input: ScheduleInput, problems: Problem[], jobName: string | null) {
    const cron = typeof input.cron === 'string' ? input.cron.trim().replace(/\s+/g, ' ') : '';
    const timezone = typeof input.timezone === 'string' && input.timezone.trim() ? input.timezone.trim() : null;
    if (timezone && !validTimezone(timezone)) problems.push({ path: 'timezone', message: `unknown time zone "${timezone}"` });
    if (!cron) problems.push({ path: 'cron', message: 'required' });
    else {
      const preview = cronPreview(cron, timezone && validTimezone(timezone) ? timezone : null, 1);
      if ('error' in preview) problems.push({ path: 'cron', message: `not a cron expression: ${preview.error}` });
    }
    const name = typeof input.submission_name === 'string' && input.submission_name.trim() ? input.submission_name.trim() : `${jobName ?? 'job'} (scheduled)`.slice(0, SUBMISSION_NAME_MAX);
    if (name.length > SUBMISSION_NAME_MAX) problems.push({ path: 'submission_name', message: `must be at most ${SUBMISSION_NAME_MAX} characters` });
    const email = typeof input.email === 'string' && input.email.trim() ? input.email.trim() : null;
    if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) problems.push({ path: 'email', message: 'must be an email address' });
    const params: Record<string, string> = {};
    const given = input.params ?? {};
    if (typeof given !== 'object' || given === null || Array.isArray(given)) problems.push({ path: 'params', message: 'must be an object of field values' });
    const job = jobName ? getJob(this.deps.db, jobName) : null;
    if (job && typeof given === 'object' && given !== null) {
      const lookup = { task: (n: string) => getTask(this.deps.db, n) };
      const fieldList = jobParameterFields(job, lookup);
      const defaults = new Map<string, string | null>();
      for (const step of job.steps) for (const p of lookup.task(step.task)?.parameters ?? []) defaults.set(`${step.task}_${p.alias}`, p.default);
      for (const key of Object.keys(given)) if (!fieldList.some((f) => f.field === key)) problems.push({ path: `params.${key}`, message: `job "${job.name}" has no parameter field "${key}"` });
      this.unixCommands ??= loadUnixCommands();
      for (const { field } of fieldList) {
        const value = Object.hasOwn(given, field) ? given[field] : (defaults.get(field) ?? null);
        if (value === null || value === undefined) {
          problems.push({ path: `params.${field}`, message: 'required (the parameter has no default)' });
          continue;
        }
        const text = String(value);
        const problem = sanitiseValue(text, this.unixCommands);
        if (problem) problems.push({ path: `params.${field}`, message: problem });
        params[field] = text;
      }
    }
    return { cron, timezone, submission_name: name, email, params, enabled: input.enabled ?? true };
  }

  private async checkInput(validators: string[], file: string): Promise<string | null> {
    if ((await fs.promises.stat(file)).size === 0) return 'the input file is empty';
    for (const name of validators) {
      const validator = getValidator(name);
      if (!validator || !(await validator.check(file).catch(() => false))) return `the input file does not pass the job's "${name}" validator`;
    }
    return null;
  }
}

function invalid(problems: Problem[]): AppError {
  return new AppError('Invalid', `Schedule not saved: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, undefined, problems);
}

/** A submission refusal as one line: A_A's bodies carry the reason in `error`, a string or per-field lists. */
function errorText(error: unknown): string {
  if (error instanceof AppError) {
    const body = error.body as { error?: unknown } | undefined;
    if (typeof body?.error === 'string') return body.error;
    if (body?.error && typeof body.error === 'object') {
      return Object.entries(body.error as Record<string, unknown>)
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`)
        .join('; ');
    }
    return error.message;
  }
  return (error as Error).message ?? String(error);
}
