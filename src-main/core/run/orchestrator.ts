// Orchestrator: owns every run state change. Schedules ready steps by priority, runs attempts through an
// Executor, stores results and A_A's exact messages, and reconciles what a crash left behind.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import type { AttemptSpec, AttemptOutcome } from '../../../src-worker/exec/types';
import type { PlannedStep, Plan, StatusCode } from '../model/types';
import { EXECUTION_BEHAVIOURS, STATUS, COMPLETION } from '../model/types';
import type { RunEvents, AttemptState } from '../events';
import type { AcceptedSubmission, AttemptEnd, AttemptStart, RunRepo, SubmissionRow } from '../store/run-repo';
import type { GroupWriter } from '../store/writer';
import { nowIso } from '../store/db';
import { renderCommand } from '../plan/command';
import { customExitCodes, decideExit, validExitCodes } from '../plan/exits';
import { ancestorsOf } from '../plan/stages';
import { killRecordedGroup } from '../security/process-groups';
import { killGroup } from '../../../src-worker/exec/run';

/** Runs one attempt somewhere (local launcher processes, or a remote worker). */
export interface Executor {
  /**
   * `onStarted` receives the attempt's pid (its process group) once it has run a short while; a quick attempt may
   * report its pid only in the outcome. `ctx` names the step: a queue-based executor needs its queue and a stable id
   * for the attempt.
   */
  run(spec: AttemptSpec, onStarted: (pid: number) => void, ctx?: AttemptContext): Promise<AttemptOutcome>;
  /**
   * Scale-out only: the attempt is still held outside this process (a BullMQ job in Redis, perhaps running on
   * another machine), so recovery must not crash the run over it; the step's next attempt takes the job over.
   */
  stillRunning?(submissionUuid: string, stepKey: string, attemptNo: number): boolean;
  /**
   * An attempt's start need not be stored before it runs: one that ends within a few milliseconds is stored once, with
   * its end. True only where whatever an attempt started is stopped with the server (local launcher processes): a
   * crash in that window leaves no attempt behind, and the step runs again on the next start.
   */
  recordsQuickAttemptsOnce?: boolean;
  close(): Promise<void>;
}

export interface AttemptContext {
  submission_uuid: string;
  /** The submission's A_A priority: 0 low, 1 normal, 2 high. */
  priority: number;
  attempt_no: number;
  step: PlannedStep;
}

export interface OrchestratorDeps {
  runs: RunRepo;
  writer: GroupWriter;
  events: RunEvents;
  executor: Executor;
  dataRoot: string;
  filesRoot: string;
  workRoot: string;
  concurrency: () => number;
  outputCapBytes: () => number;
  /** Seconds a submission of this Job may take from acceptance to its end; null: no deadline. */
  deadlineFor?: (job: string) => number | null;
}

type StepPhase = 'waiting' | 'queued' | 'running' | 'done' | 'failed' | 'skipped';

interface StepState {
  step: PlannedStep;
  phase: StepPhase;
  attempts: number;
  queued_at: string;
  pid: number | null;
  /** Stopped by shutdown: the attempt is recorded as interrupted and runs again on the next start. */
  interrupted?: boolean;
  /** While an attempt runs: stores its start (if not yet), resolving to its row's id. */
  recordStart?: () => Promise<number>;
}

interface StoredResult {
  step_key: string;
  name: string;
  abs: string;
}

interface Active {
  sub: SubmissionRow;
  plan: Plan;
  steps: Map<string, StepState>;
  results: StoredResult[];
  status: StatusCode;
  /** The store holds the run as Running (or further); its first step's news writes that. */
  runningRecorded: boolean;
  cancelled: boolean;
  /** Why the run was stopped (cancel or deadline); recorded on the attempts it killed. */
  stopMessage?: string;
  deadline?: NodeJS.Timeout;
  running: number;
  /** Waiting for `running` to reach 0: every attempt of the run handled, its end and files recorded. */
  drained: Array<() => void>;
  /** Folders already created for this run (saves a metadata call per step). */
  made: Set<string>;
  /** Names already stored in the submission's folder, to rename clashes without asking the disk. */
  storedNames: Set<string>;
  /**
   * Emptied working folders of this run's finished steps, renamed for its next step rather than made anew: making a
   * folder is the costliest metadata call on some file systems. Once the run ends they go to later runs (renamed,
   * and checked empty when taken).
   */
  spareDirs: string[];
}

const HOST = os.hostname();
/** How long an attempt may run before its start is stored, where the executor allows waiting (see Executor). */
const RECORD_START_AFTER_MS = 50;
/** Empty folders kept ready in the work root for runs' first steps: made ahead when fewer are left. */
const FRESH_DIRS = 4;
/** How many finished runs' emptied folders are kept for later runs (beyond that they are removed). */
const RECYCLED_DIRS = 16;
/** Inside a submission's folder: stdout and stderr of its attempts. */
const LOGS_DIR = 'logs';
const SCRIPT_INTERPRETERS: Record<number, AttemptSpec['interpreter']> = {
  [EXECUTION_BEHAVIOURS.R]: 'R',
  [EXECUTION_BEHAVIOURS.Python]: 'python',
  [EXECUTION_BEHAVIOURS.bash]: 'bash',
  [EXECUTION_BEHAVIOURS.node]: 'node',
};

export class Orchestrator {
  private readonly active = new Map<number, Active>();
  /** Runs with attempts being handled, by submission id; a run stays here after its end until they are done. */
  private readonly busy = new Map<number, Active>();
  /** Ready steps per priority (2 high, 1 normal, 0 low), FIFO within one. */
  private readonly ready: Array<Array<{ run: Active; key: string }>> = [[], [], []];
  /** Attempts being handled (started and not yet recorded). */
  private running = 0;
  /** Of those, attempts whose process has not ended yet: what the concurrency limit counts. */
  private launched = 0;
  private paused: boolean;
  private closing = false;
  private readonly idle = new Set<() => void>();
  /**
   * Empty folders renamed into place as a run's first working folder: made ahead off the event loop, or a finished
   * run's folder, emptied and renamed. Making one on the spot cost the first step ~0.4 ms here, and on a file system
   * without a journal each folder removed makes the next ones dearer to create (ext4 then skips inodes freed in the
   * last 30 s one by one), so a steady stream of runs reuses folders rather than making and removing them.
   */
  private readonly freshDirs: string[] = [];
  private freshMaking = 0;
  private freshSeq = 0;

  constructor(
    private readonly deps: OrchestratorDeps,
    options: { paused?: boolean } = {},
  ) {
    this.paused = options.paused ?? false;
  }

  /** Reconcile after a stop or crash, then pick up every unfinished submission. */
  async recover(): Promise<void> {
    const { runs, writer } = this.deps;
    for (const sub of runs.unfinished()) {
      const plan = JSON.parse(sub.plan) as Plan;
      const attempts = runs.attempts(sub.id);
      const results = runs.results(sub.id);
      const crashed = attempts.filter((a) => a.state === 'running' || a.state === 'queued');
      // Only local attempts record a pid, so a held remote attempt's process (on another machine) is never targeted.
      for (const a of crashed) killRecordedGroup(a.pid, a.started_at);
      const held = new Set(crashed.filter((a) => this.deps.executor.stillRunning?.(sub.uuid, a.step_key, a.attempt_no)).map((a) => a.id));
      // The next attempts get folders of their own; what the stopped ones worked in goes.
      for (const a of crashed) if (!held.has(a.id) && a.cwd) void fs.promises.rm(a.cwd, { recursive: true, force: true });
      const run = this.track(sub, plan);
      for (const a of attempts) {
        const st = run.steps.get(a.step_key);
        if (!st) continue;
        st.attempts = Math.max(st.attempts, a.attempt_no);
        if (a.state === 'done') st.phase = 'done';
      }
      for (const r of results) {
        run.results.push({ step_key: r.step_key ?? '', name: r.name ? path.basename(r.path) : '', abs: path.join(this.deps.dataRoot, r.path) });
        // A retried step must not overwrite an output stored before the stop.
        run.storedNames.add(path.basename(r.path));
      }
      const lost = crashed.filter((a) => !held.has(a.id) && (run.steps.get(a.step_key)?.attempts ?? 0) > (run.steps.get(a.step_key)?.step.retries ?? 0));
      await writer.write(() => {
        for (const a of crashed) {
          runs.finishAttempt({
            id: a.id,
            state: 'crash',
            pid: a.pid,
            exit_code: null,
            signal: null,
            stdout_path: a.stdout_path,
            stderr_path: a.stderr_path,
            started_at: null,
            ended_at: nowIso(),
            message: held.has(a.id)
              ? 'the server restarted while a worker ran this attempt; the next attempt collects its result'
              : 'the server stopped while this attempt was running',
          });
        }
        if (lost.length > 0) {
          const st = run.steps.get(lost[0].step_key) as StepState;
          runs.setSubmissionState(sub, STATUS.Crash, `Crash: the server stopped while step ${st.step.current_step} was running`, st.step.step_id, HOST);
          runs.setBatchState(sub.batch_id, STATUS.Crash);
        }
      });
      if (lost.length > 0) {
        this.active.delete(sub.id);
        this.emitSubmission(run, STATUS.Crash, 'Crash');
        continue;
      }
      this.advance(run);
    }
    this.pump();
  }

  /** New submissions, already committed. */
  accept(accepted: AcceptedSubmission[]): void {
    for (const { row: sub, plan } of accepted) {
      const run = this.track(sub, plan);
      this.emitSubmission(run, STATUS.Submitted, 'Submitted');
      this.advance(run);
    }
    this.pump();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Start whatever the current limits allow (after a settings change). */
  kick(): void {
    this.pump();
  }

  isPaused(): boolean {
    return this.paused;
  }

  stats(): { queued: number; running: number } {
    return { queued: this.ready.reduce((n, q) => n + q.length, 0), running: this.launched };
  }

  /** Cancel: queued steps never start, running process groups are killed. */
  async cancel(submissionId: number): Promise<boolean> {
    const run = this.active.get(submissionId);
    if (!run) return false;
    await this.stop(run, STATUS.Cancelled, 'Cancelled');
    return true;
  }

  /**
   * Resolves once no attempt of the submission is being handled any more: a killed one, or one still running beside a
   * sibling that ended the run, has recorded its end and moved its files. For a caller that removes the run next;
   * bounded by `ms`, as a remote attempt may never answer.
   */
  async settled(submissionId: number, ms = 10_000): Promise<void> {
    const run = this.busy.get(submissionId);
    if (!run) return;
    await waitAtMost((done) => run.drained.push(done), ms);
  }

  /** Whether an attempt of the submission is being handled (running, or recording its end). */
  handling(submissionId: number): boolean {
    return this.busy.has(submissionId);
  }

  /** Ends a run from outside its steps (cancel, deadline): queued steps never start, running groups are killed. */
  private async stop(run: Active, status: StatusCode, message: string): Promise<void> {
    run.cancelled = true;
    run.stopMessage = message;
    for (const st of run.steps.values()) {
      if (st.phase === 'running' && st.pid) killGroup(st.pid);
      if (st.phase === 'queued' || st.phase === 'waiting') st.phase = 'skipped';
    }
    for (const q of this.ready) {
      for (let i = q.length - 1; i >= 0; i--) if (q[i].run === run) q.splice(i, 1);
    }
    await this.finish(run, status, message, null);
  }

  /** The run's deadline, counted from acceptance (so a restart does not extend it). */
  private armDeadline(run: Active): void {
    const seconds = this.deps.deadlineFor?.(run.sub.job_name) ?? null;
    if (seconds === null || run.status >= STATUS.Complete) return;
    const ms = Date.parse(run.sub.created_at) + seconds * 1000 - Date.now();
    // Timers cannot wait longer than about 24.8 days; such a deadline is no practical limit.
    if (ms > 2 ** 31 - 1) return;
    run.deadline = setTimeout(() => {
      if (!this.active.has(run.sub.id) || run.status >= STATUS.Complete) return;
      const at = [...run.steps.values()].find((s) => s.phase === 'running') ?? [...run.steps.values()].find((s) => s.phase === 'queued' || s.phase === 'waiting');
      const where = at ? ` during step ${at.step.current_step}` : '';
      void this.stop(run, STATUS.Error, `Deadline exceeded: ${run.sub.job_name} may take ${seconds} s; stopped${where}`).catch((error: unknown) =>
        console.error('could not stop a run at its deadline:', error),
      );
    }, Math.max(0, ms));
    run.deadline.unref();
  }

  /** Stop scheduling; wait up to `graceMs` for running attempts, then kill them. */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    if (this.running > 0) await waitAtMost((done) => this.idle.add(done), graceMs);
    for (const run of this.active.values()) {
      clearTimeout(run.deadline);
      for (const st of run.steps.values()) {
        if (st.phase !== 'running') continue;
        st.interrupted = true;
        if (st.pid) killGroup(st.pid);
      }
    }
    // Let the stopped attempts record themselves before the store closes (bounded: a remote one may never answer).
    if (this.running > 0) await waitAtMost((done) => this.idle.add(done), 5_000);
    // Any still being made are cleared by the next start's reconciliation, with whatever else is no run's.
    for (const dir of this.freshDirs.splice(0)) removeDir(dir);
  }

  private track(sub: SubmissionRow, plan: Plan): Active {
    const steps = new Map<string, StepState>();
    for (const step of plan.steps) steps.set(step.key, { step, phase: 'waiting', attempts: 0, queued_at: '', pid: null });
    // Results share the submission's folder with its inputs and logs: their names are taken.
    const storedNames = new Set([path.basename(sub.input_path), LOGS_DIR, 'in', 'out']);
    const run: Active = { sub, plan, steps, results: [], status: sub.status, runningRecorded: sub.status >= STATUS.Running, cancelled: false, running: 0, drained: [], made: new Set(), storedNames, spareDirs: [] };
    this.active.set(sub.id, run);
    this.armDeadline(run);
    return run;
  }

  /** Queue every waiting step whose upstream steps are all done. */
  private advance(run: Active): void {
    if (run.cancelled || run.status >= STATUS.Complete) return;
    for (const st of run.steps.values()) {
      if (st.phase !== 'waiting') continue;
      if (!st.step.after.every((k) => run.steps.get(k)?.phase === 'done')) continue;
      st.phase = 'queued';
      st.queued_at = nowIso();
      this.ready[Math.max(0, Math.min(2, run.sub.priority))].push({ run, key: st.step.key });
      this.emitAttempt(run, st.step.key, 0, 'queued', null);
    }
  }

  private pump(): void {
    while (!this.paused && !this.closing && this.launched < this.deps.concurrency()) {
      const item = this.ready[2].shift() ?? this.ready[1].shift() ?? this.ready[0].shift();
      if (!item) break;
      this.running += 1;
      this.launched += 1;
      item.run.running += 1;
      this.busy.set(item.run.sub.id, item.run);
      // The slot goes to the next attempt as soon as this one's process has ended, while its outcome is recorded.
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        this.launched -= 1;
        this.pump();
      };
      void this.execute(item.run, item.key, release)
        .catch((error: unknown) => this.failed(item.run, item.key, error))
        .finally(() => {
          release();
          this.running -= 1;
          item.run.running -= 1;
          if (item.run.running === 0) {
            this.busy.delete(item.run.sub.id);
            for (const resolve of item.run.drained.splice(0)) resolve();
          }
          if (this.running === 0) for (const resolve of this.idle) resolve();
          this.pump();
        });
    }
  }

  /** `release`: called once the attempt's process has ended (or never started), freeing its concurrency slot. */
  private async execute(run: Active, key: string, release: () => void): Promise<void> {
    const st = run.steps.get(key) as StepState;
    const step = st.step;
    const sub = run.sub;
    st.phase = 'running';
    st.attempts += 1;
    const attemptNo = st.attempts;
    const cwd = this.workDir(run, step, attemptNo);
    const stdoutName = sub.uuid + step.stdout_glob;
    const logBase = this.logBase(run, step.key, attemptNo);
    let argv: string[] | null = null;
    let commandLine = 'WITH SCRIPT';
    let setupError: string | null = null;
    const spec: AttemptSpec = {
      kind: 'command',
      cwd,
      env: step.environment,
      stdout_file: path.join(cwd, stdoutName),
      // stderr goes straight to the kept logs; stdout lands in cwd, where it may be an output.
      stderr_file: `${logBase}.stderr`,
      output_cap_bytes: this.deps.outputCapBytes(),
      timeout_ms: step.timeout ? step.timeout * 1000 : null,
    };
    const interpreter = SCRIPT_INTERPRETERS[step.execution_behaviour];
    try {
      if (interpreter) {
        Object.assign(spec, {
          kind: 'script',
          interpreter,
          script: step.executable,
          in_globs: step.in_globs,
          out_globs: step.out_globs,
          id: sub.uuid,
          script_params: scriptParams(step),
        });
      } else if (step.execution_behaviour === EXECUTION_BEHAVIOURS.GridEngine) {
        throw new Error('Grid Engine Libraries not available');
      } else {
        argv = renderCommand(step, { id: sub.uuid, tmp: (step.root_path || this.deps.workRoot).replace(/\/+$/, '') });
        if (argv.length === 0) throw new Error('Command string is empty');
        spec.argv = argv;
        commandLine = `${argv.join(' ')} > ${stdoutName}`;
      }
    } catch (error) {
      setupError = `Unable to initialise commandRunner: ${(error as Error).message} : ${step.current_step}`;
    }

    const start: AttemptStart = {
      submission_id: sub.id,
      step_key: step.key,
      task_name: step.task,
      current_step: step.current_step,
      attempt_no: attemptNo,
      argv,
      cwd,
      queued_at: st.queued_at,
      started_at: nowIso(),
    };
    const running = `Running step: ${step.current_step}`;
    /** The attempt's row and the run's progress, written once: at once, after a short while, or with the attempt's end. */
    let recorded: Promise<number> | null = null;
    const recordStart = (pid: number | null = null): Promise<number> => {
      if (recorded === null) {
        recorded = this.deps.writer.write(() => {
          this.recordProgress(run, running, step.step_id);
          const id = this.deps.runs.startAttempt(start);
          if (pid !== null) this.deps.runs.setAttemptPid(id, pid);
          return id;
        });
        recorded.then(
          (id) => this.emitAttempt(run, key, id, 'running', null),
          () => undefined,
        );
      }
      return recorded;
    };
    st.recordStart = recordStart;
    // The run's history shows the step starting when it did, even where the row is written only at its end.
    const startNews = !run.cancelled && run.status < STATUS.Complete;
    if (run.status < STATUS.Running) run.status = STATUS.Running;
    this.emitSubmission(run, STATUS.Running, running);

    let outcome: AttemptOutcome | null = null;
    let failure: string | null = setupError;
    const valid = validExitCodes(step.custom_exit_status, step.custom_exit_behaviour);
    if (!failure && !Array.isArray(valid)) {
      failure = `Exit statuses contains non-numerical and other punctuation ${valid.error} : ${step.current_step} : ${commandLine}`;
    }
    if (!failure) {
      try {
        this.prepareInputs(run, step, cwd);
      } catch (error) {
        failure = `Unable to prepare files and tmp directory: ${(error as Error).message} : ${step.current_step}`;
      }
    }
    const launch = !failure && !run.cancelled;
    // A quick attempt is stored once, at its end; one still running after a short while is stored then.
    const late = launch && this.deps.executor.recordsQuickAttemptsOnce === true;
    const recordLater = late ? setTimeout(() => void recordStart().catch(() => undefined), RECORD_START_AFTER_MS) : undefined;
    // Observers hear of the attempt at once; its id follows with its row.
    if (late) this.emitAttempt(run, key, 0, 'running', null);
    else recordStart().catch(() => undefined);
    const attempt = launch
      ? this.deps.executor.run(
          spec,
          (pid) => {
            st.pid = pid;
            // The pid may arrive after a cancel or a shutdown asked for this attempt to stop.
            if (run.cancelled || st.interrupted) killGroup(pid);
            // For recovery only (the attempt's end records it too): a store that refuses it now (a full disk) is no reason to stop.
            const startWrite = recorded as Promise<number> | null;
            const written = startWrite === null ? recordStart(pid) : startWrite.then((id) => this.deps.writer.write(() => this.deps.runs.setAttemptPid(id, pid)));
            written.catch((error: unknown) => console.error('could not record the start of an attempt:', error));
          },
          { submission_uuid: sub.uuid, priority: sub.priority, attempt_no: attemptNo, step },
        )
      : null;
    if (attempt) outcome = await attempt;
    release();
    clearTimeout(recordLater);
    // Written already (or being written): its id; else the attempt's end writes the row.
    // (Assigned inside closures, which the compiler cannot follow: read through the declared type.)
    const startWrite = recorded as Promise<number> | null;
    const id = startWrite === null ? null : await startWrite;
    st.pid = null;
    if (st.interrupted) return this.interrupted(run, st, id ?? (await recordStart()), outcome, spec);

    // Work out what the attempt means (reference §3.7).
    let decision: ReturnType<typeof decideExit> | null = null;
    let produced: string[] = [];
    if (!failure && outcome && !run.cancelled) {
      if (outcome.spawn_error) {
        failure = `Unable to call commandRunner.run_cmd(): ${outcome.spawn_error} : ${step.current_step} : ${commandLine}`;
      } else if (outcome.timed_out) {
        failure = `Timed out after ${step.timeout} s at step: ${step.current_step} : ${commandLine}`;
      } else if (lostOutput(outcome, spec.output_cap_bytes)) {
        failure = `Insufficient storage: the output of step ${step.current_step} could not be written in full (is the disk full?) : ${commandLine}`;
      } else if (outcome.exit_code === null) {
        failure = `Unable to call commandRunner.run_cmd(): Killed by signal ${outcome.signal} : ${step.current_step} : ${commandLine}`;
      } else if (!(valid as number[]).includes(outcome.exit_code) && !(step.custom_exit_status && step.custom_exit_behaviour === COMPLETION.FAIL && customCodes(step).includes(outcome.exit_code))) {
        failure = `Unable to call commandRunner.run_cmd(): Exit status ${outcome.exit_code} : ${step.current_step} : ${commandLine}`;
      } else {
        produced = listOutputs(cwd, step.out_globs);
        decision = decideExit({
          exit_code: outcome.exit_code,
          custom_exit_status: step.custom_exit_status,
          custom_exit_behaviour: step.custom_exit_behaviour,
          incomplete_outputs_behaviour: step.incomplete_outputs_behaviour,
          out_globs: step.out_globs,
          produced,
        });
      }
    }
    const retry = !!failure && !setupError && !run.cancelled && !decision && st.attempts <= step.retries && !this.closing;
    const stored = decision?.store_results ? this.storeOutputs(run, step, cwd, produced) : [];
    // Output the disk refused is cut short and is what filled it: dropping it gives the space back.
    if (outcome && lostOutput(outcome, spec.output_cap_bytes)) {
      if (outcome.stdout_truncated) fs.rmSync(spec.stdout_file, { force: true });
      if (outcome.stderr_truncated) fs.rmSync(spec.stderr_file, { force: true });
    }
    const logs = outcome ? this.keepLogs(run, spec, outcome, stored, `${logBase}.stdout`) : { stdout: null, stderr: null };
    const attemptState: AttemptState = run.cancelled ? 'cancelled' : outcome?.lost ? 'crash' : failure || decision?.outcome === 'fail' ? 'failed' : 'done';
    const endedAt = outcome?.ended_at ?? nowIso();

    let final: { status: StatusCode; message: string } | null = null;
    if (!run.cancelled) {
      if (retry) {
        st.phase = 'waiting';
      } else if (failure) {
        st.phase = 'failed';
        // A worker that vanished mid-step is a crash (A_A's code 4), not a failure of the task.
        final = { status: outcome?.lost ? STATUS.Crash : STATUS.Error, message: failure };
      } else if (decision) {
        st.phase = decision.outcome === 'fail' ? 'failed' : 'done';
        if (decision.outcome === 'fail') {
          final = {
            status: STATUS.Error,
            message:
              decision.reason === 'custom_fail'
                ? `Failed step, non 0 exit at step:${step.step_id}`
                : decision.reason === 'bad_exit'
                  ? `Failed step, non 0 exit at step: ${step.step_id}. Exit status:${outcome?.exit_code}`
                  : `Failed with missing outputs: ${commandLine}`,
          };
        } else if (decision.outcome === 'terminate') {
          for (const other of run.steps.values()) if (other.phase === 'waiting' || other.phase === 'queued') other.phase = 'skipped';
          final = { status: STATUS.Complete, message: `Completed job at step #${step.current_step}` };
        } else if ([...run.steps.values()].every((s) => s.phase === 'done' || s.phase === 'skipped')) {
          final = { status: STATUS.Complete, message: `Completed job at step #${completionStep(run.plan, step)}` };
        }
      }
    }

    // Apply the final state in the same transaction as the attempt; a sibling may already have ended the run.
    if (final && run.status >= STATUS.Complete) final = null;
    if (final) run.status = final.status;
    const end: AttemptEnd = {
      state: retry ? 'failed' : attemptState,
      pid: outcome?.pid ?? null,
      exit_code: outcome?.exit_code ?? null,
      signal: outcome?.signal ?? null,
      stdout_path: logs.stdout,
      stderr_path: logs.stderr,
      started_at: outcome?.started_at ?? null,
      ended_at: endedAt,
      message: failure ?? (run.cancelled ? (run.stopMessage ?? 'Cancelled') : null),
    };
    st.recordStart = undefined;
    const written = this.deps.writer.write(() => {
      let attemptId = id;
      if (attemptId === null) {
        // Its start was never stored: the history still shows it (unless the run was ended meanwhile by a cancel or a
        // sibling, whose end stays the last line), and the state moves on from there just below.
        if (startNews && (final !== null || (!run.cancelled && run.status < STATUS.Complete))) this.deps.runs.addMessage(sub, running, step.step_id);
        attemptId = this.deps.runs.recordEndedAttempt(start, end);
      } else this.deps.runs.finishAttempt({ id: attemptId, ...end });
      for (const r of stored) {
        this.deps.runs.addResult({
          submission_id: sub.id,
          task_id: step.task_id,
          task_name: step.task,
          step_key: step.key,
          step: step.current_step,
          previous_step: step.current_step > 1 ? step.current_step - 1 : null,
          path: path.relative(this.deps.dataRoot, r.abs),
          name: step.task,
          size: r.size,
        });
      }
      if (final) this.writeFinal(run, final.status, final.message, step.step_id);
      else {
        const progress = retry ? `Retrying step: ${step.current_step} (attempt ${st.attempts + 1} of ${step.retries + 1})` : `Completed step: ${step.current_step}`;
        this.recordProgress(run, progress, step.step_id);
      }
      return attemptId;
    });
    const ended = (attemptId: number) => this.emitAttempt(run, key, attemptId, retry ? 'failed' : attemptState, outcome?.exit_code ?? null);
    if (final) {
      ended(await written);
      this.afterFinal(run, final.status, final.message);
      // Only now: emptying a folder costs a few calls, which a client waiting for the run's end need not wait for.
      this.recycle(cwd);
      return;
    }
    // Intermediate states need not be on disk before the next step starts; the writer keeps their order. An attempt
    // stored only now is announced once its row exists.
    if (id !== null) ended(id);
    written.then(
      (attemptId) => id === null && ended(attemptId),
      (error: unknown) => console.error('could not record an attempt:', error),
    );
    // The run's next step can have this folder once it is empty; the last one removes it.
    if (!run.cancelled && run.status < STATUS.Complete && emptyDir(cwd)) run.spareDirs.push(cwd);
    else this.recycle(cwd);
    if (retry) {
      const delay = Math.min(30_000, 250 * 2 ** (st.attempts - 1));
      setTimeout(() => {
        this.advance(run);
        this.pump();
      }, delay).unref();
    } else if (!run.cancelled && run.status < STATUS.Complete) {
      this.emitSubmission(run, STATUS.Running, `Completed step: ${step.current_step}`);
      this.advance(run);
    }
  }

  /** Inside a transaction: a step's news on a run still going; the first makes the run (and its batch) Running. */
  private recordProgress(run: Active, message: string, stepId: number): void {
    if (run.cancelled || run.status >= STATUS.Complete) return;
    if (run.runningRecorded) {
      this.deps.runs.setSubmissionProgress(run.sub, message, stepId, HOST);
      return;
    }
    this.deps.runs.setSubmissionState(run.sub, STATUS.Running, message, stepId, HOST);
    this.deps.runs.setBatchState(run.sub.batch_id, STATUS.Running);
    run.runningRecorded = true;
  }

  private async finish(run: Active, status: StatusCode, message: string, stepId: number | null): Promise<void> {
    if (run.status >= STATUS.Complete && !(run.cancelled && status === STATUS.Cancelled && run.status < STATUS.Complete)) return;
    run.status = status;
    await this.deps.writer.write(() => this.writeFinal(run, status, message, stepId));
    this.afterFinal(run, status, message);
  }

  /** Inside a transaction: the submission's final state, and its batch's (A_A clients poll the batch). */
  private writeFinal(run: Active, status: StatusCode, message: string, stepId: number | null): void {
    this.deps.runs.setSubmissionState(run.sub, status, message, stepId, HOST);
    if (status === STATUS.Complete) this.deps.runs.settleBatch(run.sub.batch_id);
    // A_A clients only know Complete and Error as ends: a cancelled submission ends its batch as Error.
    else this.deps.runs.setBatchState(run.sub.batch_id, status === STATUS.Cancelled ? STATUS.Error : status);
  }

  private afterFinal(run: Active, status: StatusCode, message: string): void {
    clearTimeout(run.deadline);
    this.emitSubmission(run, status, message);
    for (const dir of run.spareDirs.splice(0)) this.recycle(dir);
    if (run.running === 0 || status !== STATUS.Cancelled) this.active.delete(run.sub.id);
    else setImmediate(() => this.active.delete(run.sub.id));
  }

  /** Shutdown stopped this attempt: record it, keep the submission unfinished; the next start runs the step again. */
  private async interrupted(run: Active, st: StepState, id: number, outcome: AttemptOutcome | null, spec: AttemptSpec): Promise<void> {
    st.phase = 'waiting';
    const message = 'the server shut down while this attempt was running; it runs again on the next start';
    await this.deps.writer.write(() => {
      this.deps.runs.finishAttempt({
        id,
        state: 'crash',
        pid: outcome?.pid ?? null,
        exit_code: outcome?.exit_code ?? null,
        signal: outcome?.signal ?? null,
        stdout_path: null,
        stderr_path: outcome && outcome.stderr_bytes > 0 ? path.relative(this.deps.dataRoot, spec.stderr_file) : null,
        started_at: outcome?.started_at ?? null,
        ended_at: nowIso(),
        message,
      });
      if (!run.cancelled && run.status < STATUS.Complete) {
        this.deps.runs.setSubmissionState(run.sub, STATUS.Running, `Interrupted by shutdown at step ${st.step.current_step}; resumes on the next start`, st.step.step_id, HOST);
      }
    });
    this.emitAttempt(run, st.step.key, id, 'crash', outcome?.exit_code ?? null);
    await fs.promises.rm(spec.cwd, { recursive: true, force: true });
  }

  /**
   * Last resort when handling an attempt threw (a full disk refusing results or the store's commit): the run
   * ends in Error with the reason instead of staying Running; results it could not record are removed.
   */
  private async failed(run: Active, key: string, error: unknown): Promise<void> {
    const st = run.steps.get(key) as StepState;
    console.error(`step ${key} of ${run.sub.uuid} failed inside the engine:`, error);
    // An attempt whose start was not stored yet gets its row, which the failure then ends.
    await st.recordStart?.().catch(() => undefined);
    st.recordStart = undefined;
    if (st.pid) killGroup(st.pid);
    st.pid = null;
    st.phase = 'failed';
    const code = (error as { code?: string }).code ?? '';
    const message =
      code === 'ENOSPC' || code === 'SQLITE_FULL' || code === 'EDQUOT'
        ? `Insufficient storage: the disk filled up during step ${st.step.current_step}; the run was stopped`
        : `Internal error during step ${st.step.current_step}: ${(error as Error).message ?? String(error)}`;
    // Free what this run holds in its working folders first: it is often what filled the disk. On a full disk the
    // attempt's own logs go too (no row points at them yet).
    await fs.promises.rm(this.workDir(run, st.step, st.attempts), { recursive: true, force: true });
    if (message.startsWith('Insufficient storage')) {
      const logBase = this.logBase(run, key, st.attempts);
      for (const ext of ['stdout', 'stderr']) fs.rmSync(`${logBase}.${ext}`, { force: true });
    }
    const recorded = new Set(this.deps.runs.results(run.sub.id).map((r) => path.join(this.deps.dataRoot, r.path)));
    for (const r of run.results.filter((x) => !recorded.has(x.abs))) fs.rmSync(r.abs, { force: true });
    run.results = run.results.filter((x) => recorded.has(x.abs));
    if (run.status < STATUS.Complete) run.status = STATUS.Error;
    try {
      await this.recordFailure(run, key, message, st.step.step_id);
    } catch (again) {
      console.error(`could not record the failure of ${run.sub.uuid} yet:`, again);
      this.recordLater(run, key, message, st.step.step_id, 1000);
    }
    this.afterFinal(run, STATUS.Error, message);
  }

  /** Ends the step's open attempts and the run as Error, unless the store already holds an end for it. */
  private recordFailure(run: Active, key: string, message: string, stepId: number): Promise<void> {
    return this.deps.writer.write(() => {
      const stored = this.deps.runs.submissionById(run.sub.id);
      if (!stored || stored.status >= STATUS.Complete) return;
      for (const a of this.deps.runs.attempts(run.sub.id)) {
        if (a.step_key !== key || a.state !== 'running') continue;
        const { id, pid, exit_code, signal, stdout_path, stderr_path } = a;
        this.deps.runs.finishAttempt({ id, pid, exit_code, signal, stdout_path, stderr_path, state: 'failed', started_at: null, ended_at: nowIso(), message });
      }
      this.writeFinal(run, STATUS.Error, message, stepId);
    });
  }

  /** The store refused the failure (a full disk): try again, backing off, until it takes it or the server stops. */
  private recordLater(run: Active, key: string, message: string, stepId: number, delayMs: number): void {
    setTimeout(() => {
      if (this.closing) return;
      this.recordFailure(run, key, message, stepId).catch(() => this.recordLater(run, key, message, stepId, Math.min(delayMs * 2, 30_000)));
    }, delayMs).unref();
  }

  // File staging is synchronous on purpose: a handful of metadata calls (mkdir, link, rename) on small
  // files cost tens of microseconds each, far less than a thread-pool round trip per call, which
  // dominated per-step overhead.

  /**
   * Inputs: the upload for entry steps; otherwise ancestors' results matching the in_globs (A_A get_data).
   * A native submission's plan names each step's own uploads (`inputs`: file parameter i → `<id><in_glob i>`),
   * placed first so they win over a same-named ancestor result; its entry steps then take nothing else.
   */
  private prepareInputs(run: Active, step: PlannedStep, cwd: string): void {
    const spare = run.spareDirs.pop() ?? this.freshDir(cwd);
    try {
      if (spare && path.dirname(spare) === path.dirname(cwd)) fs.renameSync(spare, cwd);
      else {
        if (spare) removeDir(spare);
        fs.mkdirSync(cwd);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        // Left by this very attempt before a crash, when its start was not stored yet (see Executor): its process
        // group went with its launcher, so what it wrote goes too.
        fs.rmSync(cwd, { recursive: true, force: true });
        fs.mkdirSync(cwd);
      } else if (code === 'ENOENT') {
        // A task's own root folder may not exist yet.
        fs.mkdirSync(cwd, { recursive: true });
      } else throw error;
    }
    for (const input of step.inputs ?? []) linkOrCopy(path.join(this.deps.dataRoot, input.path), path.join(cwd, input.name));
    if (step.after.length === 0) {
      if (step.inputs) return;
      const first = (step.in_globs[0] ?? '.input').replace(/^\.+/, '');
      linkOrCopy(path.join(this.deps.dataRoot, run.sub.input_path), path.join(cwd, `${run.sub.uuid}.${first}`));
      return;
    }
    const ancestors = ancestorsOf(run.plan.steps, step.key);
    for (const r of run.results) {
      if (ancestors.has(r.step_key) && step.in_globs.some((g) => r.name.includes(g))) linkOrCopy(r.abs, path.join(cwd, r.name));
    }
  }

  private storeOutputs(run: Active, step: PlannedStep, cwd: string, produced: string[]): Array<{ name: string; abs: string; size: number }> {
    // Results sit beside the input in the submission's folder (made at intake): no folder to make per run.
    const dir = path.join(this.deps.filesRoot, run.sub.uuid);
    const stored: Array<{ name: string; abs: string; size: number }> = [];
    for (const name of produced) {
      let storedName = name;
      for (let n = 2; run.storedNames.has(storedName); n++) storedName = `${n}_${name}`;
      run.storedNames.add(storedName);
      const target = path.join(dir, storedName);
      fs.renameSync(path.join(cwd, name), target);
      stored.push({ name, abs: target, size: fs.statSync(target).size });
      run.results.push({ step_key: step.key, name, abs: target });
    }
    return stored;
  }

  /**
   * stdout/stderr of every attempt are kept: stderr was written to the logs folder directly (when there was any);
   * stdout is the stored result when it was one, otherwise it moves to the logs folder.
   */
  private keepLogs(
    run: Active,
    spec: AttemptSpec,
    outcome: AttemptOutcome,
    stored: Array<{ name: string; abs: string }>,
    stdoutLog: string,
  ): { stdout: string | null; stderr: string | null } {
    const rel = (abs: string) => path.relative(this.deps.dataRoot, abs);
    const asResult = stored.find((r) => r.name === path.basename(spec.stdout_file));
    let stdout: string | null = asResult ? rel(asResult.abs) : null;
    if (!stdout) {
      try {
        this.ensureDir(run, path.dirname(stdoutLog));
        fs.renameSync(spec.stdout_file, stdoutLog);
        stdout = rel(stdoutLog);
      } catch {
        stdout = null;
      }
    }
    // The stderr file exists only if the process wrote to it.
    return { stdout, stderr: outcome.stderr_bytes > 0 ? rel(spec.stderr_file) : null };
  }

  /** An empty folder beside `cwd` when that lies in the work root (tasks' own roots make theirs on the spot). */
  private freshDir(cwd: string): string | undefined {
    const root = path.resolve(this.deps.workRoot);
    if (path.dirname(path.resolve(cwd)) !== root) return undefined;
    let dir = this.freshDirs.pop();
    // A process a task started outside its process group (setsid) may still write into the folder it ran in: a
    // folder that is not empty when taken is removed, never handed to another run.
    while (dir !== undefined && !isEmptyDir(dir)) {
      removeDir(dir);
      dir = this.freshDirs.pop();
    }
    while (!this.closing && this.freshDirs.length + this.freshMaking < FRESH_DIRS) {
      const next = path.join(root, `.fresh-${process.pid}-${this.freshSeq++}`);
      this.freshMaking += 1;
      fs.mkdir(next, (error) => {
        this.freshMaking -= 1;
        if (!error) this.freshDirs.push(next);
      });
    }
    return dir;
  }

  /** A finished run's folder (or one it had spare) kept for a later run, emptied and under a name no run has. */
  private recycle(dir: string): void {
    const root = path.resolve(this.deps.workRoot);
    if (this.closing || this.freshDirs.length >= RECYCLED_DIRS || path.dirname(path.resolve(dir)) !== root || !emptyDir(dir)) {
      removeDir(dir);
      return;
    }
    const next = path.join(root, `.fresh-${process.pid}-${this.freshSeq++}`);
    try {
      fs.renameSync(dir, next);
      this.freshDirs.push(next);
    } catch {
      removeDir(dir);
    }
  }

  /**
   * An attempt's working folder: one level under the work root, named after the run, so that making and removing
   * it is one directory operation (folder creation is the costliest metadata call on some file systems).
   */
  private workDir(run: Active, step: PlannedStep, attemptNo: number): string {
    return path.join(step.root_path || this.deps.workRoot, `${run.sub.uuid}-${step.key}-${attemptNo}`);
  }

  /** `<submission folder>/logs/<step>-<attempt>`; the folder is made when a log first needs it. */
  private logBase(run: Active, key: string, attemptNo: number): string {
    return path.join(this.deps.filesRoot, run.sub.uuid, LOGS_DIR, `${key}-${attemptNo}`);
  }

  private ensureDir(run: Active, dir: string): void {
    if (run.made.has(dir)) return;
    fs.mkdirSync(dir, { recursive: true });
    run.made.add(dir);
  }

  private emitSubmission(run: Active, status: StatusCode, message: string): void {
    this.deps.events.emitRun({
      type: 'submission',
      uuid: run.sub.uuid,
      batch_uuid: run.sub.batch_uuid,
      job: run.sub.job_name,
      status,
      last_message: message,
      at: nowIso(),
    });
  }

  private emitAttempt(run: Active, key: string, attemptId: number, state: AttemptState, exitCode: number | null): void {
    this.deps.events.emitRun({
      type: 'attempt',
      submission_uuid: run.sub.uuid,
      step_key: key,
      attempt_id: attemptId,
      state,
      exit_code: exitCode,
      at: nowIso(),
    });
  }
}

/** Resolves once `register`'s callback is called, or after `ms` (a timer that does not keep the process alive). */
function waitAtMost(register: (done: () => void) => void, ms: number): Promise<void> {
  return new Promise((resolve) => {
    register(resolve);
    setTimeout(resolve, ms).unref();
  });
}

/** A_A chord_end quirk: a job whose last layer runs in parallel completes "at step #total_steps". */
function completionStep(plan: Plan, last: PlannedStep): number {
  const maxOrdering = Math.max(...plan.steps.map((s) => s.step_id));
  const lastLayer = plan.steps.filter((s) => s.step_id === maxOrdering);
  return lastLayer.length > 1 ? plan.total_steps : last.current_step;
}

function customCodes(step: PlannedStep): number[] {
  const codes = customExitCodes(step.custom_exit_status);
  return Array.isArray(codes) ? codes : [];
}

function scriptParams(step: PlannedStep): NonNullable<AttemptSpec['script_params']> {
  return step.params
    .filter((flag) => flag !== '')
    .map((flag) => {
      const pv = step.param_values[flag];
      return pv ? { flag, value: pv.value, bool: false } : { flag, value: null, bool: true };
    });
}

/** Output the process wrote but the disk refused: the file was cut short below the cap. */
function lostOutput(outcome: AttemptOutcome, cap: number): boolean {
  return (outcome.stdout_truncated && outcome.stdout_bytes <= cap) || (outcome.stderr_truncated && outcome.stderr_bytes <= cap);
}

/**
 * Regular files only: a symlink among the outputs (say, unpacked from a client's archive) would otherwise be served
 * as a result and hand out whatever it points at. It counts as a missing output instead.
 */
function listOutputs(cwd: string, outGlobs: string[]): string[] {
  return fs
    .readdirSync(cwd, { withFileTypes: true })
    .filter((d) => d.isFile() && outGlobs.some((g) => d.name.endsWith(g)))
    .map((d) => d.name)
    .sort();
}

/** Empties a working folder of the few plain files a step leaves; false (and nothing promised) otherwise. */
function emptyDir(dir: string): boolean {
  try {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    if (entries.length > 64 || entries.some((e) => e.isDirectory())) return false;
    for (const entry of entries) fs.unlinkSync(path.join(dir, entry.name));
    return true;
  } catch {
    return false;
  }
}

/** Only looks: true when the folder exists and holds nothing. */
function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

/**
 * Removes a working folder: usually a few plain files, done at once with a handful of calls rather than the generic
 * recursive remove (a thread-pool round trip per call).
 */
function removeDir(dir: string): void {
  // A task that left a tree or a crowd of files behind must not hold up the event loop: those go the generic way.
  if (!emptyDir(dir)) return void fs.promises.rm(dir, { recursive: true, force: true });
  try {
    fs.rmdirSync(dir);
  } catch {
    void fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** Hard link (cheap, same file system); a copy where links are impossible (another device). */
function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    fs.copyFileSync(from, to);
  }
}
