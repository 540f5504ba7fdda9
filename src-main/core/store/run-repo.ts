// Runtime aggregate (Batch, Submission, Attempt, Result, Message): all SQL that writes or reads runs for the engine.
import type { Db } from './db';
import { nowIso } from './db';
import type { Plan, StatusCode } from '../model/types';
import { STATUS } from '../model/types';

export interface NewSubmission {
  uuid: string;
  job_id: number;
  job_name: string;
  submission_name: string;
  email: string | null;
  ip: string;
  priority: number;
  input_path: string;
  input_name: string;
  input_size: number;
  params: Record<string, string>;
  plan: Plan;
}

export interface SubmissionRow {
  id: number;
  uuid: string;
  batch_id: number;
  batch_uuid: string;
  job_id: number | null;
  job_name: string;
  submission_name: string;
  email: string | null;
  ip: string;
  priority: number;
  input_path: string;
  input_name: string;
  input_size: number;
  params: string;
  plan: string;
  status: StatusCode;
  last_message: string;
  step_id: number | null;
  created_at: string;
  modified_at: string;
  finished_at: string | null;
}

/** What A_A's status routes show of a submission: polled often, so the plan and parameters stay in the store. */
export type SubmissionBrief = Pick<SubmissionRow, 'id' | 'uuid' | 'submission_name' | 'job_name' | 'status' | 'last_message' | 'email' | 'input_path'>;
const BRIEF_COLUMNS = 'id, uuid, submission_name, job_name, status, last_message, email, input_path';

/** A submission just committed: its row as stored and its plan as an object. */
export interface AcceptedSubmission {
  row: SubmissionRow;
  plan: Plan;
}

export interface AttemptRow {
  id: number;
  submission_id: number;
  step_key: string;
  task_name: string;
  current_step: number;
  attempt_no: number;
  state: string;
  argv: string | null;
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

/** What is known of an attempt when it starts. */
export interface AttemptStart {
  submission_id: number;
  step_key: string;
  task_name: string;
  current_step: number;
  attempt_no: number;
  argv: string[] | null;
  cwd: string;
  queued_at: string;
  started_at: string;
}

/** What an attempt's end adds. `started_at`: when its process started, if it did. */
export interface AttemptEnd {
  state: string;
  pid: number | null;
  exit_code: number | null;
  signal: string | null;
  stdout_path: string | null;
  stderr_path: string | null;
  started_at: string | null;
  ended_at: string;
  message: string | null;
}

export interface ResultRow {
  id: number;
  submission_id: number;
  task_id: number | null;
  task_name: string;
  step_key: string | null;
  step: number;
  previous_step: number | null;
  path: string;
  name: string;
  message: string;
  size: number;
}

export class RunRepo {
  private readonly s;
  /** Runs a function inside one read transaction (built once; see snapshot). */
  private readonly reading: (fn: () => unknown) => unknown;

  constructor(private readonly db: Db) {
    this.reading = db.transaction((fn: () => unknown) => fn());
    this.s = {
      insertBatch: db.prepare('INSERT INTO batch (uuid, status, ip, created_at) VALUES (?, 0, ?, ?)'),
      insertSubmission: db.prepare(
        `INSERT INTO submission (uuid, batch_id, job_id, job_name, submission_name, email, ip, priority,
           input_path, input_name, input_size, params, plan, status, last_message, created_at, modified_at)
         VALUES (@uuid, @batch_id, @job_id, @job_name, @submission_name, @email, @ip, @priority,
           @input_path, @input_name, @input_size, @params, @plan, 0, 'Submitted', @now, @now)`,
      ),
      insertMessage: db.prepare('INSERT INTO message (submission_id, step_id, message, created_at) VALUES (?, ?, ?, ?)'),
      // Bounded: quota arithmetic never needs to count past its largest limit.
      unfinishedByIp: db.prepare('SELECT COUNT(*) AS n FROM (SELECT 1 FROM submission WHERE ip = ? AND status <= 1 LIMIT ?)'),
      submissionByUuid: db.prepare(
        'SELECT s.*, b.uuid AS batch_uuid FROM submission s JOIN batch b ON b.id = s.batch_id WHERE s.uuid = ?',
      ),
      submissionById: db.prepare(
        'SELECT s.*, b.uuid AS batch_uuid FROM submission s JOIN batch b ON b.id = s.batch_id WHERE s.id = ?',
      ),
      batchByUuid: db.prepare('SELECT id, uuid, status FROM batch WHERE uuid = ?'),
      briefByUuid: db.prepare(`SELECT ${BRIEF_COLUMNS} FROM submission WHERE uuid = ?`),
      briefsOfBatch: db.prepare(`SELECT ${BRIEF_COLUMNS} FROM submission WHERE batch_id = ? ORDER BY id DESC`),
      submissionsOfBatch: db.prepare(
        'SELECT s.*, b.uuid AS batch_uuid FROM submission s JOIN batch b ON b.id = s.batch_id WHERE s.batch_id = ? ORDER BY s.id DESC',
      ),
      unfinished: db.prepare(
        'SELECT s.*, b.uuid AS batch_uuid FROM submission s JOIN batch b ON b.id = s.batch_id WHERE s.status <= 1 ORDER BY s.priority DESC, s.id',
      ),
      setStatus: db.prepare(
        'UPDATE submission SET status = ?, last_message = ?, step_id = ?, claimed = 1, hostname = ?, modified_at = ?, finished_at = ? WHERE id = ?',
      ),
      // Leaves status and finished_at alone, so the indexes on them are not rewritten: once per step it shows.
      setProgress: db.prepare('UPDATE submission SET last_message = ?, step_id = ?, claimed = 1, hostname = ?, modified_at = ? WHERE id = ?'),
      batchStatuses: db.prepare('SELECT status FROM submission WHERE batch_id = ?'),
      batchStatus: db.prepare('SELECT status FROM batch WHERE id = ?'),
      setAttemptPid: db.prepare('UPDATE attempt SET pid = ? WHERE id = ?'),
      setBatchStatus: db.prepare('UPDATE batch SET status = ? WHERE id = ?'),
      insertAttempt: db.prepare(
        `INSERT INTO attempt (submission_id, step_key, task_name, current_step, attempt_no, state, argv, cwd, queued_at, started_at)
         VALUES (@submission_id, @step_key, @task_name, @current_step, @attempt_no, 'running', @argv, @cwd, @queued_at, @started_at)`,
      ),
      insertEndedAttempt: db.prepare(
        `INSERT INTO attempt (submission_id, step_key, task_name, current_step, attempt_no, state, argv, cwd, pid, exit_code, signal,
           stdout_path, stderr_path, queued_at, started_at, ended_at, message)
         VALUES (@submission_id, @step_key, @task_name, @current_step, @attempt_no, @state, @argv, @cwd, @pid, @exit_code, @signal,
           @stdout_path, @stderr_path, @queued_at, @started_at, @ended_at, @message)`,
      ),
      finishAttempt: db.prepare(
        `UPDATE attempt SET state = @state, pid = @pid, exit_code = @exit_code, signal = @signal, stdout_path = @stdout_path,
           stderr_path = @stderr_path, started_at = COALESCE(@started_at, started_at), ended_at = @ended_at, message = @message WHERE id = @id`,
      ),
      attemptsOf: db.prepare('SELECT * FROM attempt WHERE submission_id = ? ORDER BY id'),
      insertResult: db.prepare(
        `INSERT INTO result (submission_id, task_id, task_name, step_key, step, previous_step, path, name, message, size, created_at)
         VALUES (@submission_id, @task_id, @task_name, @step_key, @step, @previous_step, @path, @name, 'Result', @size, @created_at)`,
      ),
      resultsOf: db.prepare('SELECT * FROM result WHERE submission_id = ? ORDER BY id'),
      completedDurations: db.prepare(
        `SELECT job_name, (julianday(modified_at) - julianday(created_at)) * 86400.0 AS seconds
         FROM submission WHERE status = 2 AND job_id IS NOT NULL LIMIT 5000`,
      ),
      deleteSubmission: db.prepare('DELETE FROM submission WHERE id = ?'),
      deleteEmptyBatch: db.prepare('DELETE FROM batch WHERE id = ? AND NOT EXISTS (SELECT 1 FROM submission WHERE batch_id = ?)'),
    };
  }

  /**
   * One Batch and its Submissions. Returns the rows as stored, with each plan as an object, so that intake can hand
   * them to the orchestrator without reading them back.
   */
  createBatch(uuid: string, ip: string, subs: NewSubmission[]): { batch_id: number; submission_ids: number[]; accepted: AcceptedSubmission[] } {
    const now = nowIso();
    const batch_id = Number(this.s.insertBatch.run(uuid, ip, now).lastInsertRowid);
    const accepted = subs.map((sub): AcceptedSubmission => {
      const stored = { ...sub, batch_id, params: JSON.stringify(sub.params), plan: JSON.stringify(sub.plan) };
      const id = Number(this.s.insertSubmission.run({ ...stored, now }).lastInsertRowid);
      this.s.insertMessage.run(id, null, 'Submitted', now);
      const row: SubmissionRow = {
        ...stored,
        id,
        batch_uuid: uuid,
        status: STATUS.Submitted,
        last_message: 'Submitted',
        step_id: null,
        created_at: now,
        modified_at: now,
        finished_at: null,
      };
      return { row, plan: sub.plan };
    });
    return { batch_id, submission_ids: accepted.map((a) => a.row.id), accepted };
  }

  /** Unfinished submissions of one client, counted up to `cap`. */
  unfinishedCount(ip: string, cap: number): number {
    return (this.s.unfinishedByIp.get(ip, cap) as { n: number }).n;
  }

  submission(uuid: string): SubmissionRow | undefined {
    return this.s.submissionByUuid.get(uuid) as SubmissionRow | undefined;
  }

  submissionById(id: number): SubmissionRow | undefined {
    return this.s.submissionById.get(id) as SubmissionRow | undefined;
  }

  /**
   * Several reads as one: they see the store at one moment (no commit lands between them), and SQLite takes its
   * read locks once rather than per statement.
   */
  snapshot<T>(fn: () => T): T {
    return this.reading(fn) as T;
  }

  batch(uuid: string): { id: number; uuid: string; status: StatusCode } | undefined {
    return this.s.batchByUuid.get(uuid) as { id: number; uuid: string; status: StatusCode } | undefined;
  }

  brief(uuid: string): SubmissionBrief | undefined {
    return this.s.briefByUuid.get(uuid) as SubmissionBrief | undefined;
  }

  briefsOfBatch(batchId: number): SubmissionBrief[] {
    return this.s.briefsOfBatch.all(batchId) as SubmissionBrief[];
  }

  submissionsOfBatch(batchId: number): SubmissionRow[] {
    return this.s.submissionsOfBatch.all(batchId) as SubmissionRow[];
  }

  unfinished(): SubmissionRow[] {
    return this.s.unfinished.all() as SubmissionRow[];
  }

  /** A_A update_submission_state: status + bookkeeping + a Message row, in the caller's transaction. */
  setSubmissionState(sub: { id: number; batch_id: number }, status: StatusCode, message: string, stepId: number | null, host: string): void {
    const now = nowIso();
    this.s.setStatus.run(status, message, stepId, host, now, status >= STATUS.Complete ? now : null, sub.id);
    this.s.insertMessage.run(sub.id, stepId, message, now);
  }

  /** setSubmissionState for a submission that is Running and stays so (a step starts, ends or is retried). */
  setSubmissionProgress(sub: { id: number }, message: string, stepId: number | null, host: string): void {
    const now = nowIso();
    this.s.setProgress.run(message, stepId, host, now, sub.id);
    this.s.insertMessage.run(sub.id, stepId, message, now);
  }

  /** A_A update_batch_state: Error and Crash are final. */
  setBatchState(batchId: number, status: StatusCode): void {
    const current = (this.s.batchStatus.get(batchId) as { status: number } | undefined)?.status;
    if (current === undefined || current === STATUS.Error || current === STATUS.Crash) return;
    if (current !== status) this.s.setBatchStatus.run(status, batchId);
  }

  /** Batch is Complete once every submission in it is Complete. */
  settleBatch(batchId: number): void {
    const statuses = (this.s.batchStatuses.all(batchId) as Array<{ status: number }>).map((r) => r.status);
    if (statuses.length > 0 && statuses.every((s) => s === STATUS.Complete)) this.setBatchState(batchId, STATUS.Complete);
  }

  startAttempt(a: AttemptStart): number {
    return Number(this.s.insertAttempt.run(startColumns(a)).lastInsertRowid);
  }

  finishAttempt(a: AttemptEnd & { id: number }): void {
    this.s.finishAttempt.run(a);
  }

  /** An attempt that ended before its start was recorded: one row with both. */
  recordEndedAttempt(start: AttemptStart, end: AttemptEnd): number {
    const row = { ...startColumns(start), ...end, started_at: end.started_at ?? start.started_at };
    return Number(this.s.insertEndedAttempt.run(row).lastInsertRowid);
  }

  /** A line of the submission's history that leaves its state as it is. */
  addMessage(sub: { id: number }, message: string, stepId: number | null): void {
    this.s.insertMessage.run(sub.id, stepId, message, nowIso());
  }

  setAttemptPid(id: number, pid: number): void {
    this.s.setAttemptPid.run(pid, id);
  }

  attempts(submissionId: number): AttemptRow[] {
    return this.s.attemptsOf.all(submissionId) as AttemptRow[];
  }

  addResult(r: Omit<ResultRow, 'id' | 'message'>): void {
    this.s.insertResult.run({ ...r, created_at: nowIso() });
  }

  results(submissionId: number): ResultRow[] {
    return this.s.resultsOf.all(submissionId) as ResultRow[];
  }

  completedDurations(): Array<{ job_name: string; seconds: number }> {
    return this.s.completedDurations.all() as Array<{ job_name: string; seconds: number }>;
  }

  deleteSubmission(sub: { id: number; batch_id: number }): void {
    this.s.deleteSubmission.run(sub.id);
    this.s.deleteEmptyBatch.run(sub.batch_id, sub.batch_id);
  }
}

/** An attempt's start as its row's columns: the argv is stored as JSON. */
function startColumns(a: AttemptStart): Omit<AttemptStart, 'argv'> & { argv: string | null } {
  return { ...a, argv: a.argv ? JSON.stringify(a.argv) : null };
}
