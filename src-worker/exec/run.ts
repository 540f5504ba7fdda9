// Runs one task attempt as a child process: argv without a shell, capped output files, timeout, group clean-up.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { rm, stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { ScriptError, writeScript } from './scripts';
import type { AttemptOutcome, AttemptSpec } from './types';
import type { SpareFiles } from './spare-files';
import type { NativeSpawner, TaskChild } from './native-spawn';

/** Where stdout files come from in this process: made on demand unless a process keeps spares (the launcher). */
let spares: SpareFiles | null = null;
export function useSpareFiles(pool: SpareFiles | null): void {
  spares = pool;
}

/** What starts task processes in this process: the posix_spawn addon where it is loaded, else child_process. */
let spawner: NativeSpawner | null = null;
export function useNativeSpawner(native: NativeSpawner | null): void {
  spawner = native;
}

/**
 * The environment tasks start from, for a process whose own environment is fixed once it runs (a launcher): Node reads
 * process.env through a getter per variable, ~45 µs per spawn here, while a plain copy costs next to nothing.
 */
let baseEnv: NodeJS.ProcessEnv | null = null;
export function useTaskEnvironment(env: NodeJS.ProcessEnv): void {
  baseEnv = env;
}

/** Between SIGTERM and SIGKILL when a timeout fires: time for the task to clean up after itself. */
const KILL_GRACE_MS = 2000;
/**
 * After the process exits and its group is killed, how long its pipes may stay open. Only a descendant that left
 * the group (setsid) can hold them that long; its output is given up rather than waited for.
 */
const DRAIN_GRACE_MS = 1000;
/** setTimeout fires at once for longer delays (with a warning), so longer timeouts wait this long (24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function runAttempt(spec: AttemptSpec): Promise<AttemptOutcome> {
  if (spec.kind === 'command') return runArgv(spec.argv ?? [], spec);
  let script: { argv: string[]; path: string };
  try {
    script = await writeScript(spec);
  } catch (e) {
    return notStarted(await explainScriptError(e, spec.cwd));
  }
  try {
    return await runArgv(script.argv, spec);
  } finally {
    // Awaited rather than left behind: a pool worker may block between tasks, freezing unfinished work.
    await rm(script.path, { force: true });
  }
}

async function runArgv(argv: string[], spec: AttemptSpec): Promise<AttemptOutcome> {
  if (argv.length === 0 || argv[0] === '') return notStarted('empty command');
  let stdout: CappedFile;
  try {
    // A stdout file in the attempt's own folder may be a spare renamed into place (see SpareFiles).
    const pool = spares && path.dirname(spec.stdout_file) === spec.cwd ? { spares, root: path.dirname(spec.cwd) } : null;
    stdout = new CappedFile(spec.stdout_file, spec.output_cap_bytes, false, pool);
  } catch (e) {
    return notStarted(`cannot open output file: ${(e as Error).message}`);
  }
  // Most commands write nothing to stderr: its file (and folder) are made on the first byte, saving the inodes.
  const stderr = new CappedFile(spec.stderr_file, spec.output_cap_bytes, true);

  const t0 = performance.now();
  let child: TaskChild;
  try {
    child = startProcess(argv, spec.cwd, taskEnv(spec.env));
  } catch (e) {
    stdout.close();
    stderr.close();
    const error = e as NodeJS.ErrnoException;
    // The addon reports a program that cannot start at once; invalid arguments (e.g. a NUL byte) throw either way.
    if (error.syscall === 'spawn') return notStarted(await explainSpawnError(error, argv[0], spec.cwd));
    return notStarted(`cannot start ${argv[0]}: ${error.message}`);
  }
  const startedAt = new Date().toISOString();
  const pid = child.pid ?? null;
  if (pid !== null) spec.port?.postMessage({ type: 'started', pid, started_at: startedAt });

  return new Promise<AttemptOutcome>((resolve) => {
    let exitCode: number | null = null;
    let signal: string | null = null;
    let timedOut = false;
    let spawnError: NodeJS.ErrnoException | null = null;
    let termTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    child.stdout?.on('data', (chunk: Buffer) => stdout.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));

    if (pid !== null && spec.timeout_ms !== null) {
      termTimer = setTimeout(() => {
        timedOut = true;
        killGroup(pid, 'SIGTERM');
        killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
      }, Math.min(spec.timeout_ms, MAX_TIMER_MS));
    }

    child.once('error', (e: NodeJS.ErrnoException) => {
      // Without a pid the process never started; 'close' still follows.
      if (pid === null) spawnError = e;
    });

    child.once('exit', (code: number | null, sig: NodeJS.Signals | null) => {
      exitCode = code;
      signal = sig;
      clearTimeout(termTimer);
      clearTimeout(killTimer);
      // Whatever the task forked and left running goes with it.
      if (pid !== null) killGroup(pid, 'SIGKILL');
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, DRAIN_GRACE_MS);
    });

    child.once('close', () => {
      clearTimeout(drainTimer);
      clearTimeout(termTimer);
      stdout.close();
      stderr.close();
      const duration = performance.now() - t0;
      void (async () => {
        const failed = spawnError === null ? null : await explainSpawnError(spawnError, argv[0], spec.cwd);
        resolve({
          exit_code: failed === null ? exitCode : null,
          signal: failed === null ? signal : null,
          timed_out: timedOut,
          spawn_error: failed,
          pid,
          started_at: startedAt,
          ended_at: new Date().toISOString(),
          duration_ms: duration,
          stdout_bytes: stdout.total,
          stderr_bytes: stderr.total,
          stdout_truncated: stdout.truncated,
          stderr_truncated: stderr.truncated,
        });
      })();
    });
  });
}

function startProcess(argv: string[], cwd: string, env: NodeJS.ProcessEnv): TaskChild {
  if (spawner !== null) return spawner.spawn(argv, cwd, env);
  return spawn(argv[0], argv.slice(1), {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group, so timeout and cancel reach grandchildren through kill(-pid).
    detached: true,
    shell: false,
  });
}

/**
 * One output file that keeps the first `cap` bytes; the pipe is always drained at once, so the child never blocks on
 * a full pipe and memory stays within the cap. Synchronous calls on purpose: a write of one pipe chunk (64 KiB at most)
 * to the page cache takes microseconds, less than the thread-pool round trip an asynchronous call adds per chunk
 * (and per open and close); the processes doing this (launchers, workers) mostly relay pipes.
 */
class CappedFile {
  /** Bytes the process wrote, kept or not. */
  total = 0;
  truncated = false;
  private kept = 0;
  private fd: number | null = null;
  private closed = false;

  /** `lazy`: the file (and its folder) are made on the first write, so a silent stream leaves no file. */
  constructor(
    private readonly path: string,
    private readonly cap: number,
    lazy = false,
    pool: { spares: SpareFiles; root: string } | null = null,
  ) {
    if (!lazy) this.fd = pool ? pool.spares.open(path, pool.root) : fs.openSync(path, 'w');
  }

  write(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.fd === null && !this.closed) this.fd = openMakingFolder(this.path);
    const room = this.cap - this.kept;
    if (room <= 0 || this.fd === null) {
      this.truncated = true;
      return;
    }
    const length = Math.min(room, chunk.length);
    if (length < chunk.length) this.truncated = true;
    try {
      const written = fs.writeSync(this.fd, chunk, 0, length);
      this.kept += written;
      // A short write to a regular file means the disk is full.
      if (written < length) this.truncated = true;
    } catch {
      // A disk that refuses the bytes drops them, which the outcome reports as truncation.
      this.truncated = true;
    }
  }

  close(): void {
    this.closed = true;
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Nothing left to keep: the bytes are written or reported as truncated.
    }
    this.fd = null;
  }
}

/** Opens `file` for writing, making its folder first if need be; null when the disk refuses. */
function openMakingFolder(file: string): number | null {
  try {
    return fs.openSync(file, 'w');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return null;
  }
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return fs.openSync(file, 'w');
  } catch {
    return null;
  }
}

/** Signals a whole process group (an attempt's process and whatever it started). */
export function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (spawner !== null) {
    spawner.killGroup(pid, signal);
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone, which is the goal.
  }
}

function taskEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const base = baseEnv ?? process.env;
  // Spreading costs a property read per variable, so skip it when there is nothing to add.
  return hasKeys(extra) ? { ...base, ...extra } : base;
}

function hasKeys(o: Record<string, string>): boolean {
  for (const _ in o) return true;
  return false;
}

async function explainSpawnError(e: NodeJS.ErrnoException, program: string, cwd: string): Promise<string> {
  // A missing cwd also surfaces as ENOENT on the program, so look before blaming it.
  if (e.code === 'ENOENT') return (await exists(cwd)) ? `command not found: ${program}` : `working directory not found: ${cwd}`;
  if (e.code === 'EACCES') return `permission denied: ${program}`;
  return `cannot start ${program}: ${e.message}`;
}

async function explainScriptError(e: unknown, cwd: string): Promise<string> {
  if (e instanceof ScriptError) return e.message;
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT' && !(await exists(cwd))) return `working directory not found: ${cwd}`;
  return `cannot write script: ${err.message}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** An outcome with no process behind it: `message` says why (spawn failure, lost worker). */
export function notStarted(message: string, lost = false): AttemptOutcome {
  const now = new Date().toISOString();
  return {
    ...(lost ? { lost } : {}),
    exit_code: null,
    signal: null,
    timed_out: false,
    spawn_error: message,
    pid: null,
    started_at: now,
    ended_at: now,
    duration_ms: 0,
    stdout_bytes: 0,
    stderr_bytes: 0,
    stdout_truncated: false,
    stderr_truncated: false,
  };
}
