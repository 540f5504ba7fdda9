// Owns versioned publishing: a published Job is an immutable snapshot (the Job and its Tasks) that native submissions run against.
import type { Statement } from 'better-sqlite3';
import type { Db } from './store/db';
import { nowIso } from './store/db';
import { getJob, getTask } from './store/config-repo';
import { AppError, notFound } from './errors';
import type { Job, Task } from './model/types';
import { checkParameterDefinition, effectiveType, type ContractProblem } from './openapi/contract';
import { splitGlobs } from './plan/plan';

/** What a version holds: the Job's steps and validators and every Task they use, as they were when published. */
export interface JobSnapshot {
  job: Omit<Job, 'runnable'>;
  tasks: Task[];
}

/** One published version of a Job, as the native API serves it. */
export interface JobVersion {
  job_id: number;
  /** The Job's current name (the service path); the snapshot keeps the name it had. */
  name: string;
  version: number;
  published_at: string;
  runnable: boolean;
  snapshot: JobSnapshot;
}

interface VersionRow {
  job_id: number;
  name: string;
  runnable: number;
  version: number;
  snapshot: string;
  published_at: string;
}

// Prepared once per connection: the native API looks a version up on every request.
const statements = new WeakMap<Db, Map<string, Statement>>();
function sql(db: Db, text: string): Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let statement = cache.get(text);
  if (!statement) cache.set(text, (statement = db.prepare(text)));
  return statement;
}

const VERSION_SELECT = `SELECT v.job_id, j.name, j.runnable, v.version, v.snapshot, v.published_at
  FROM job_version v JOIN job j ON j.id = v.job_id`;

const toVersion = (r: VersionRow): JobVersion => ({
  job_id: r.job_id,
  name: r.name,
  version: r.version,
  published_at: r.published_at,
  runnable: r.runnable === 1,
  snapshot: JSON.parse(r.snapshot) as JobSnapshot,
});

/** Task lookup over a snapshot, for buildPlan and the contract. */
export function snapshotTask(snapshot: JobSnapshot): (name: string) => Task | null {
  const byName = new Map(snapshot.tasks.map((t) => [t.name, t]));
  return (name) => byName.get(name) ?? null;
}

/** Why a Job cannot be served by the native API as it stands; empty when it can. */
export function publishProblems(snapshot: JobSnapshot, hasValidator: (name: string) => boolean = () => true): ContractProblem[] {
  const out: ContractProblem[] = [];
  if (snapshot.job.steps.length === 0) out.push({ path: 'job.steps', message: `${snapshot.job.name} has no steps` });
  for (const task of snapshot.tasks) {
    task.parameters.forEach((p, i) => {
      const at = `tasks.${task.name}.parameters[${i}]`;
      out.push(...checkParameterDefinition({ ...p }, at, hasValidator));
    });
    // The i-th file parameter lands as `<id><in_glob i>`, so each needs its own in_glob.
    const files = task.parameters.filter((p) => effectiveType(p) === 'file');
    const globs = splitGlobs(task.in_glob);
    if (files.length > globs.length) {
      out.push({
        path: `tasks.${task.name}.in_glob`,
        message: `has ${globs.length} glob${globs.length === 1 ? '' : 's'} for ${files.length} file parameters: file parameter i is stored as <id><in_glob i>`,
      });
    }
  }
  return out;
}

function snapshotOf(db: Db, job: Job): JobSnapshot {
  const names = [...new Set(job.steps.map((s) => s.task))];
  const tasks = names.map((n) => getTask(db, n)).filter((t): t is Task => t !== null);
  const { runnable: _runnable, ...rest } = job;
  return { job: rest, tasks };
}

/** Layout (designer positions) and row ids (a save re-creates steps) do not change the contract, so they make no new version. */
function contractKey(snapshot: JobSnapshot): string {
  return JSON.stringify({ ...snapshot, job: { ...snapshot.job, steps: snapshot.job.steps.map((s) => ({ ...s, id: 0, x: null, y: null })) } });
}

/**
 * Publishes the Job: snapshots it as version n+1 (unless it equals the latest version) and makes it
 * runnable, in one transaction. Throws NotFound for an unknown Job, Invalid (with problems) when it
 * cannot be served.
 */
export function publishJob(db: Db, name: string): JobVersion {
  return db.transaction((): JobVersion => {
    const job = getJob(db, name);
    if (!job) throw notFound(`no job named "${name}"`);
    const snapshot = snapshotOf(db, job);
    const problems = publishProblems(snapshot, (v) => sql(db, 'SELECT 1 FROM validator_type WHERE name = ?').get(v) !== undefined);
    if (problems.length > 0) {
      const message = `${name} cannot be published: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
      throw new AppError('Invalid', message, undefined, problems);
    }
    sql(db, 'UPDATE job SET runnable = 1 WHERE id = ?').run(job.id);
    const latest = sql(db, `${VERSION_SELECT} WHERE v.job_id = ? ORDER BY v.version DESC LIMIT 1`).get(job.id) as VersionRow | undefined;
    if (latest && contractKey(JSON.parse(latest.snapshot) as JobSnapshot) === contractKey(snapshot)) return toVersion({ ...latest, runnable: 1 });
    const version = (latest?.version ?? 0) + 1;
    sql(db, 'INSERT INTO job_version (job_id, version, snapshot, published_at) VALUES (?, ?, ?, ?)').run(job.id, version, JSON.stringify(snapshot), nowIso());
    return toVersion(sql(db, `${VERSION_SELECT} WHERE v.job_id = ? AND v.version = ?`).get(job.id, version) as VersionRow);
  })();
}

/** Published versions of a Job, oldest first, without their snapshots. */
export function listVersions(db: Db, name: string): Array<{ version: number; published_at: string }> {
  return db
    .prepare('SELECT v.version, v.published_at FROM job_version v JOIN job j ON j.id = v.job_id WHERE j.name = ? ORDER BY v.version')
    .all(name) as Array<{ version: number; published_at: string }>;
}

/**
 * A published version of the Job named `name`: `version`, or the latest. A runnable Job that has no
 * version yet (made runnable by an import, or published before versions existed) is published on first use.
 * Null when there is no such Job or version; runnable is reported, not enforced.
 */
export function publishedVersion(db: Db, name: string, version?: number): JobVersion | null {
  const row =
    version === undefined
      ? (sql(db, `${VERSION_SELECT} WHERE j.name = ? ORDER BY v.version DESC LIMIT 1`).get(name) as VersionRow | undefined)
      : (sql(db, `${VERSION_SELECT} WHERE j.name = ? AND v.version = ?`).get(name, version) as VersionRow | undefined);
  if (row) return toVersion(row);
  const job = sql(db, 'SELECT runnable FROM job WHERE name = ?').get(name) as { runnable: number } | undefined;
  const hasAny = sql(db, 'SELECT 1 FROM job_version v JOIN job j ON j.id = v.job_id WHERE j.name = ?').get(name) !== undefined;
  if (!job || job.runnable !== 1 || hasAny) return null;
  try {
    const adopted = publishJob(db, name);
    return version === undefined || version === adopted.version ? adopted : null;
  } catch (error) {
    // A runnable Job the native API cannot serve stays on the A_A routes only.
    if (error instanceof AppError && error.kind === 'Invalid') return null;
    throw error;
  }
}

/** The latest version of every runnable Job, in Job creation order (runnable Jobs without a version are published first). */
export function publishedServices(db: Db): JobVersion[] {
  const names = (sql(db, 'SELECT name FROM job WHERE runnable = 1 ORDER BY id').all() as Array<{ name: string }>).map((r) => r.name);
  return names.map((n) => publishedVersion(db, n)).filter((v): v is JobVersion => v !== null);
}
