// BullQueue executor (scale-out): each attempt becomes a BullMQ job on its queue type's queue in Redis; workers on
// any machine (and, unless disabled, one inside the server) run it, and its result files come back into the
// attempt's folder so the orchestrator collects them exactly as in local mode. SQLite stays the system of record.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Job, Queue, QueueEvents, Worker, type ConnectionOptions } from 'bullmq';
import IORedis from 'ioredis';
import type { AttemptOutcome, AttemptSpec } from '../../../src-worker/exec/types';
import { notStarted } from '../../../src-worker/exec/run';
import type { AttemptContext, Executor } from '../run/orchestrator';
import type { Db } from '../store/db';
import type { RunEvents } from '../events';
import { STATUS } from '../model/types';
import {
  attemptJobId,
  bullQueueFor,
  isPlainFileName,
  redisOptions,
  type InputFile,
  type StepJob,
  type StepResult,
  type WorkerConfig,
  type WorkerHeartbeat,
} from './protocol';
import { DEFAULT_HEARTBEAT_MS, recordHeartbeat, scaleOutId } from './worker-registry';

export interface ScaleOutOptions {
  /** redis://[user:password@]host:port[/db] of the Redis that carries the queues. */
  url: string;
  /** Also run steps on this machine, through a BullMQ worker inside the server (default true). */
  localWorker?: boolean;
  /** BullMQ lock duration: a job whose worker stops renewing it this long is stalled (default 30 s). */
  lockMs?: number;
  /** How often workers look for stalled jobs (default 15 s). */
  stalledIntervalMs?: number;
  /** Stalls a job survives before it fails (default 1: a second worker gets one more go). */
  maxStalled?: number;
  /** Worker heartbeat period (default 5 s). */
  heartbeatMs?: number;
  /** Jobs left in Redis by an earlier run that no unfinished attempt claims are removed after this long (60 s). */
  orphanGraceMs?: number;
  /** How often unsettled jobs are read back from Redis, in case an event was missed or Redis lost the job (2 s). */
  sweepMs?: number;
}

/** Defaults in one place; AA_SCALEOUT_* variables tune the failure timings (tests, slow networks). */
export function scaleOutDefaults(env: NodeJS.ProcessEnv = process.env): Required<Omit<ScaleOutOptions, 'url'>> {
  const num = (name: string, fallback: number) => {
    const v = Number(env[name]);
    return env[name] !== undefined && Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  return {
    localWorker: true,
    lockMs: num('AA_SCALEOUT_LOCK_MS', 30_000),
    stalledIntervalMs: num('AA_SCALEOUT_STALLED_MS', 15_000),
    maxStalled: num('AA_SCALEOUT_MAX_STALLED', 1),
    heartbeatMs: num('AA_SCALEOUT_HEARTBEAT_MS', DEFAULT_HEARTBEAT_MS),
    orphanGraceMs: num('AA_SCALEOUT_ORPHAN_GRACE_MS', 60_000),
    sweepMs: num('AA_SCALEOUT_SWEEP_MS', 2_000),
  };
}

export interface ScaleOutDeps {
  db: Db;
  /** The data dir; uploads from remote workers are staged under `<dataRoot>/remote/<job id>/`. */
  dataRoot: string;
  events: RunEvents;
  /** Runs an attempt on this machine (the in-process worker). */
  local: Executor;
  /** Steps the in-process worker runs at once from each queue. */
  localConcurrency: number;
}

interface Lane {
  queue: Queue;
  events: QueueEvents;
  worker: Worker | null;
}

interface Pending {
  jobId: string;
  lane: string;
  priority: number;
  data: StepJob;
  /** The attempt's folder on this server (the adopting attempt's, after a restart). */
  spec: AttemptSpec;
  inputs: Set<string>;
  onStarted: (pid: number) => void;
  resolve: (outcome: AttemptOutcome) => void;
  queuedAt: number;
  cancelled: boolean;
  settling: boolean;
}

interface Orphan {
  jobId: string;
  lane: string;
  attemptNo: number;
  /** Recovery found its attempt unfinished, so the step's next attempt takes the job over. */
  claimed: boolean;
}

/** So many attempts may wait in Redis at once; BullMQ, not the orchestrator, orders them by priority. */
const DISPATCH_LIMIT = 100_000;
const JOB_NAME = 'step';
const HOST = os.hostname();

export class BullExecutor implements Executor {
  readonly prefix: string;
  /** The orchestrator's concurrency in scale-out mode: every ready step goes to Redis at once. */
  readonly dispatchLimit = DISPATCH_LIMIT;
  private readonly opts: Required<ScaleOutOptions>;
  private readonly connection: ConnectionOptions;
  private readonly control: IORedis;
  private readonly lanes = new Map<string, Promise<Lane>>();
  private readonly pending = new Map<string, Pending>();
  /** Jobs found in Redis at start, by `<submission uuid>/<step key>`. */
  private readonly orphans = new Map<string, Orphan>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly localId = `${HOST}-server-${process.pid}`;
  private readonly localLoad = { running: 0, completed: 0, failed: 0 };
  private readonly offCancel: () => void;
  private detached = false;
  private sweeping = false;

  private constructor(
    options: ScaleOutOptions,
    private readonly deps: ScaleOutDeps,
  ) {
    this.opts = { ...scaleOutDefaults(), ...stripUndefined(options) } as Required<ScaleOutOptions>;
    this.prefix = `aa:${scaleOutId(deps.db)}`;
    this.connection = { ...redisOptions(options.url), maxRetriesPerRequest: null };
    this.control = new IORedis({ ...redisOptions(options.url), maxRetriesPerRequest: null, lazyConnect: false });
    // Redis being away is survivable (commands wait for it); without a listener ioredis would print every retry.
    this.control.on('error', () => undefined);
    this.offCancel = deps.events.onRun((e) => {
      if (e.type === 'submission' && e.status === STATUS.Cancelled) this.cancelSubmission(e.uuid);
    });
  }

  /** Connect, and find the jobs an earlier run of this server left in Redis (their workers may still be busy). */
  static async open(options: ScaleOutOptions, deps: ScaleOutDeps): Promise<BullExecutor> {
    const exec = new BullExecutor(options, deps);
    try {
      // A server that cannot reach Redis at start says so instead of waiting for it silently.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        exec.control.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000))),
      ]).finally(() => clearTimeout(timer));
      await exec.adoptLeftovers();
    } catch (error) {
      await exec.close();
      throw new Error(`cannot use Redis at ${redactUrl(options.url)}: ${(error as Error).message}`);
    }
    exec.timers.push(setInterval(() => void exec.sweep(), exec.opts.sweepMs));
    exec.timers.push(setTimeout(() => void exec.dropUnclaimedOrphans(), exec.opts.orphanGraceMs));
    if (exec.opts.localWorker) {
      exec.beat();
      exec.timers.push(setInterval(() => exec.beat(), exec.opts.heartbeatMs));
    }
    for (const t of exec.timers) t.unref();
    return exec;
  }

  /** What an authenticated worker is told (GET /api/worker/config). */
  config(): WorkerConfig {
    return {
      redis: this.opts.url,
      prefix: this.prefix,
      lock_ms: this.opts.lockMs,
      stalled_interval_ms: this.opts.stalledIntervalMs,
      max_stalled: this.opts.maxStalled,
      heartbeat_ms: this.opts.heartbeatMs,
      cancel_channel: `${this.prefix}:cancel`,
    };
  }

  run(spec: AttemptSpec, onStarted: (pid: number) => void, ctx?: AttemptContext): Promise<AttemptOutcome> {
    if (!ctx) return Promise.resolve(notStarted('scale-out needs the step of each attempt'));
    if (this.detached) return new Promise(() => undefined); // stopping: the job is left for the next start
    const { queue, priority } = bullQueueFor(ctx.step.queue, ctx.priority);
    const orphan = this.takeOrphan(ctx.submission_uuid, ctx.step.key);
    const inputs = listFiles(spec.cwd);
    const { port: _port, ...plain } = spec;
    const data: StepJob = {
      v: 1,
      submission_uuid: ctx.submission_uuid,
      step_key: ctx.step.key,
      attempt_no: ctx.attempt_no,
      queue,
      spec: plain,
      inputs,
      out_globs: ctx.step.out_globs,
    };
    return new Promise<AttemptOutcome>((resolve) => {
      const entry: Pending = {
        jobId: orphan?.jobId ?? attemptJobId(ctx.submission_uuid, ctx.step.key, ctx.attempt_no),
        lane: orphan?.lane ?? queue,
        priority,
        data,
        spec,
        inputs: new Set(inputs.map((f) => f.name)),
        onStarted,
        resolve,
        queuedAt: Date.now(),
        cancelled: false,
        settling: false,
      };
      this.pending.set(entry.jobId, entry);
      // An adopted job may have finished while the server was down; the sweep would find it too, but later.
      const started = orphan ? this.check(entry) : this.enqueue(entry);
      started.catch((error: unknown) => this.settleWith(entry, notStarted(`could not queue the step in Redis: ${(error as Error).message}`)));
    });
  }

  /**
   * Recovery asks this for each attempt it found unfinished: true when a BullMQ job of that very attempt is still in
   * Redis (queued, running on a worker, or finished while the server was down), so the attempt must not be crashed.
   */
  stillRunning(submissionUuid: string, stepKey: string, attemptNo: number): boolean {
    const orphan = this.orphans.get(`${submissionUuid}/${stepKey}`);
    if (!orphan || orphan.attemptNo !== attemptNo) return false;
    orphan.claimed = true;
    return true;
  }

  /** The server-side path of an input a worker may download for a job, or null. */
  inputFile(jobId: string, name: string): string | null {
    const entry = this.pending.get(jobId);
    if (!entry || !isPlainFileName(name) || !entry.inputs.has(name)) return null;
    return path.join(entry.spec.cwd, name);
  }

  /** Where an uploaded result file of a job is staged, or null for a job this server is not waiting for. */
  uploadTarget(jobId: string, name: string): string | null {
    if (!isPlainFileName(name) || !isPlainFileName(jobId)) return null;
    const known = this.pending.has(jobId) || [...this.orphans.values()].some((o) => o.jobId === jobId);
    if (!known) return null;
    const dir = this.stagingDir(jobId);
    fs.mkdirSync(dir, { recursive: true });
    return path.join(dir, name);
  }

  /** Stop taking and settling jobs (server shutdown): whatever is in flight stays in Redis for the next start. */
  async detach(): Promise<void> {
    if (this.detached) return;
    this.detached = true;
    for (const t of this.timers) clearInterval(t);
    const lanes = await Promise.allSettled(this.lanes.values());
    // Forced: a local step cut short by the shutdown must not be recorded as finished; it is stalled and re-run.
    await Promise.all(lanes.map((l) => (l.status === 'fulfilled' ? l.value.worker?.close(true) : undefined)));
    if (this.opts.localWorker && this.timers.length > 0) this.beat(true);
  }

  async close(): Promise<void> {
    await this.detach();
    this.offCancel();
    const lanes = await Promise.allSettled(this.lanes.values());
    await Promise.all(
      lanes.map(async (l) => {
        if (l.status !== 'fulfilled') return;
        await Promise.allSettled([l.value.events.close(), l.value.queue.close()]);
      }),
    );
    this.control.disconnect();
    await this.deps.local.close();
  }

  private lane(name: string): Promise<Lane> {
    let lane = this.lanes.get(name);
    if (!lane) {
      lane = this.openLane(name);
      this.lanes.set(name, lane);
    }
    return lane;
  }

  private async openLane(name: string): Promise<Lane> {
    const opts = { connection: this.connection, prefix: this.prefix };
    const queue = new Queue(name, opts);
    const events = new QueueEvents(name, opts);
    queue.on('error', () => undefined);
    events.on('error', () => undefined);
    events.on('completed', ({ jobId, returnvalue }) => {
      const entry = this.pending.get(jobId);
      if (entry) void this.settle(entry, { returnvalue: returnvalue as unknown as StepResult });
    });
    events.on('failed', ({ jobId, failedReason }) => {
      const entry = this.pending.get(jobId);
      if (entry) void this.settle(entry, { failedReason });
    });
    // The job list survives a restart of this server, so it knows which queues to look at.
    await this.control.sadd(`${this.prefix}:queues`, name);
    await events.waitUntilReady();
    let worker: Worker | null = null;
    if (this.opts.localWorker && !this.detached) {
      worker = new Worker(name, (job) => this.runHere(job), {
        ...opts,
        concurrency: Math.max(1, this.deps.localConcurrency),
        lockDuration: this.opts.lockMs,
        stalledInterval: this.opts.stalledIntervalMs,
        maxStalledCount: this.opts.maxStalled,
      });
      worker.on('error', () => undefined);
    }
    return { queue, events, worker };
  }

  /** The in-process worker: the server has the files, so the attempt runs in its own folder with no transfer. */
  private async runHere(job: Job): Promise<StepResult> {
    const data = job.data as StepJob;
    this.localLoad.running += 1;
    try {
      fs.mkdirSync(data.spec.cwd, { recursive: true });
      const outcome = await this.deps.local.run(data.spec, (pid) => this.pending.get(job.id ?? '')?.onStarted(pid));
      this.localLoad[outcome.exit_code === 0 ? 'completed' : 'failed'] += 1;
      return {
        outcome,
        files_at: 'server',
        cwd: data.spec.cwd,
        files: [],
        stdout: data.spec.stdout_file,
        stderr: data.spec.stderr_file,
        worker: this.localId,
        host: HOST,
      };
    } finally {
      this.localLoad.running -= 1;
    }
  }

  private beat(stopped = false): void {
    const beat: WorkerHeartbeat = {
      id: this.localId,
      host: HOST,
      queues: [...this.lanes.keys()],
      concurrency: Math.max(1, this.deps.localConcurrency),
      ...this.localLoad,
      version: 'server',
      stopped,
    };
    try {
      recordHeartbeat(this.deps.db, null, beat);
    } catch {
      // The store may already be closing; the registry is informational.
    }
  }

  private async enqueue(entry: Pending): Promise<void> {
    const lane = await this.lane(entry.lane);
    await lane.queue.add(JOB_NAME, entry.data, {
      jobId: entry.jobId,
      priority: entry.priority,
      // Retries are the orchestrator's (a new attempt, a new job); BullMQ only hands a stalled job on.
      attempts: 1,
      removeOnComplete: false,
      removeOnFail: false,
    });
  }

  /** Read one job back from Redis: settle it if finished; queue it again if Redis lost it (restart without AOF). */
  private async check(entry: Pending): Promise<void> {
    const lane = await this.lane(entry.lane);
    const job = await Job.fromId(lane.queue, entry.jobId);
    if (this.pending.get(entry.jobId) !== entry || entry.settling) return;
    if (!job) {
      if (entry.cancelled) {
        this.pending.delete(entry.jobId);
        return;
      }
      await this.enqueue(entry);
      return;
    }
    if (job.finishedOn) {
      if (job.failedReason && job.returnvalue == null) await this.settle(entry, { failedReason: job.failedReason });
      else await this.settle(entry, { returnvalue: job.returnvalue as StepResult });
    }
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const due = Date.now() - this.opts.sweepMs;
      for (const entry of [...this.pending.values()]) {
        if (this.detached) return;
        if (entry.settling || entry.queuedAt > due) continue;
        try {
          await this.check(entry);
        } catch {
          // Redis is away: the next sweep tries again, and queued commands go out when it is back.
        }
      }
    } finally {
      this.sweeping = false;
    }
  }

  private async settle(entry: Pending, end: { returnvalue?: StepResult; failedReason?: string }): Promise<void> {
    if (entry.settling || this.detached) return;
    entry.settling = true;
    this.pending.delete(entry.jobId);
    try {
      if (entry.cancelled) return;
      const outcome = end.returnvalue ? await this.collect(entry, end.returnvalue) : notStarted(describeFailure(end.failedReason), stalledOut(end.failedReason));
      entry.resolve(outcome);
    } catch (error) {
      entry.resolve(notStarted(`the results of the step could not be collected: ${(error as Error).message}`));
    } finally {
      await fs.promises.rm(this.stagingDir(entry.jobId), { recursive: true, force: true });
      // Only now: a job gone from Redis while still pending would be queued again by the sweep.
      const lane = await this.lane(entry.lane);
      await lane.queue.remove(entry.jobId).catch(() => undefined);
    }
  }

  private settleWith(entry: Pending, outcome: AttemptOutcome): void {
    if (entry.settling) return;
    entry.settling = true;
    this.pending.delete(entry.jobId);
    entry.resolve(outcome);
  }

  /** Put the step's files where the orchestrator looks: the adopting attempt's folder and its stdout/stderr paths. */
  private async collect(entry: Pending, result: StepResult): Promise<AttemptOutcome> {
    const target = entry.spec;
    const place = (name: string) =>
      name === result.stdout ? target.stdout_file : name === result.stderr ? target.stderr_file : path.join(target.cwd, name);
    await fs.promises.mkdir(target.cwd, { recursive: true });
    if (result.files_at === 'uploaded') {
      const staging = this.stagingDir(entry.jobId);
      for (const f of result.files) {
        const from = path.join(staging, f.name);
        const size = await fs.promises.stat(from).then(
          (s) => s.size,
          () => -1,
        );
        if (size !== f.size) throw new Error(`${f.name} arrived incomplete from worker ${result.host} (${Math.max(0, size)} of ${f.size} bytes)`);
        await move(from, place(f.name));
      }
    } else if (result.cwd && path.resolve(result.cwd) !== path.resolve(target.cwd)) {
      // Ran here for an attempt of an earlier server run: its files are where that attempt put them.
      for (const [from, to] of [
        [result.stdout, target.stdout_file],
        [result.stderr, target.stderr_file],
      ] as const) {
        if (from && fs.existsSync(from)) await move(from, to);
      }
      for (const f of listFiles(result.cwd)) {
        if (entry.data.out_globs.some((g) => f.name.endsWith(g))) await move(path.join(result.cwd, f.name), path.join(target.cwd, f.name));
      }
    }
    return result.outcome;
  }

  private cancelSubmission(uuid: string): void {
    for (const entry of this.pending.values()) {
      if (entry.data.submission_uuid !== uuid || entry.cancelled || entry.settling) continue;
      entry.cancelled = true;
      entry.resolve(notStarted('cancelled'));
      void (async () => {
        const lane = await this.lane(entry.lane);
        // A waiting job just goes; a running one is locked by its worker, which is told to kill it.
        const removed = await lane.queue.remove(entry.jobId).catch(() => 0);
        if (removed) this.pending.delete(entry.jobId);
        else await this.control.publish(this.config().cancel_channel, entry.jobId);
      })().catch(() => undefined);
    }
  }

  private takeOrphan(uuid: string, stepKey: string): Orphan | null {
    const key = `${uuid}/${stepKey}`;
    const orphan = this.orphans.get(key);
    if (!orphan?.claimed) return null;
    this.orphans.delete(key);
    return orphan;
  }

  private async adoptLeftovers(): Promise<void> {
    const names = await this.control.smembers(`${this.prefix}:queues`);
    const keep = new Set<string>();
    for (const name of names) {
      const lane = await this.lane(name);
      const jobs = await lane.queue.getJobs(['active', 'wait', 'prioritized', 'delayed', 'paused', 'completed', 'failed'], 0, -1);
      for (const job of jobs) {
        const data = job?.data as StepJob | undefined;
        if (!job?.id || data?.v !== 1) continue;
        const key = `${data.submission_uuid}/${data.step_key}`;
        const known = this.orphans.get(key);
        if (known && known.attemptNo >= data.attempt_no) continue;
        this.orphans.set(key, { jobId: job.id, lane: name, attemptNo: data.attempt_no, claimed: false });
        keep.add(job.id);
      }
    }
    const staging = path.join(this.deps.dataRoot, 'remote');
    for (const dir of fs.existsSync(staging) ? fs.readdirSync(staging) : []) {
      if (!keep.has(dir)) fs.rmSync(path.join(staging, dir), { recursive: true, force: true });
    }
  }

  /** Jobs of attempts that are no longer unfinished (the run ended, was deleted, or was recorded meanwhile). */
  private async dropUnclaimedOrphans(): Promise<void> {
    for (const [key, orphan] of [...this.orphans]) {
      if (orphan.claimed && this.detached) continue;
      this.orphans.delete(key);
      try {
        const lane = await this.lane(orphan.lane);
        const removed = await lane.queue.remove(orphan.jobId);
        if (!removed) await this.control.publish(this.config().cancel_channel, orphan.jobId);
        await fs.promises.rm(this.stagingDir(orphan.jobId), { recursive: true, force: true });
      } catch {
        // Redis away; a later start looks again.
      }
    }
  }

  private stagingDir(jobId: string): string {
    return path.join(this.deps.dataRoot, 'remote', jobId);
  }
}

/** Files (not folders) directly in `dir`, with sizes. */
function listFiles(dir: string): InputFile[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: InputFile[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    try {
      files.push({ name: e.name, size: fs.statSync(path.join(dir, e.name)).size });
    } catch {
      // Gone meanwhile.
    }
  }
  return files;
}

async function move(from: string, to: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(to), { recursive: true });
  try {
    await fs.promises.rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await fs.promises.copyFile(from, to);
    await fs.promises.rm(from, { force: true });
  }
}


/** BullMQ gave up on a job whose workers kept disappearing. */
function stalledOut(reason: string | undefined): boolean {
  return !!reason && /stalled more than allowable limit/i.test(reason);
}

function describeFailure(reason: string | undefined): string {
  if (stalledOut(reason)) {
    return 'the workers running this step stopped before it finished (it was handed on and stalled again)';
  }
  return reason ? `the worker failed the step: ${reason}` : 'the worker failed the step';
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
