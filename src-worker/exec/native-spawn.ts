// Task processes started through the posix_spawn addon (native/spawn). Node's child_process forks on Linux: the fork
// copies the spawning process's page tables and the child tears its copy down at exec, which costs a launcher and its
// command about as much CPU as a quick command itself. posix_spawn shares the memory until exec instead. Where the
// addon is not built (another OS, no compiler), child_process starts the processes; both behave the same to callers.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isMainThread } from 'node:worker_threads';

interface Addon {
  /** [pid, stdout read end, stderr read end], or -errno, or 0 for an argument that is not a string or holds NUL. */
  spawn(file: string, argv: string[], env: string[], cwd: string): [number, number, number] | number;
  /** Undefined while the process runs, else [exit code or -1, signal number or 0]. */
  reap(pid: number): [number, number] | undefined;
  /** kill(2): 0 or the errno. */
  kill(pid: number, signal: number): number;
}

/** Where the build puts the addon, from the folder of an entry file in out/main/ (or of this file in src-worker/exec/). */
export function nativeSpawnerFile(entryDir: string): string {
  return path.join(entryDir, '..', '..', 'native', 'spawn', 'build', 'Release', 'aa_spawn.node');
}

/**
 * Loads the addon; null (child_process is used) where it is missing or cannot be used: not Linux, not built, or a
 * worker thread (signals reach only the main thread, and exits are learnt from SIGCHLD).
 */
export function loadNativeSpawner(file: string): NativeSpawner | null {
  if (process.platform !== 'linux' || !isMainThread || !fs.existsSync(file)) return null;
  try {
    const loaded = { exports: {} };
    process.dlopen(loaded, file);
    return new NativeSpawner(loaded.exports as Addon);
  } catch (error) {
    console.warn(`cannot load ${file} (${(error as Error).message}): task processes start with child_process`);
    return null;
  }
}

/** What run.ts needs of a started process; a ChildProcess is one. */
export interface TaskChild extends EventEmitter {
  readonly pid?: number;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);
const ERRNO_NAMES = new Map<number, string>(Object.entries(os.constants.errno).map(([name, n]) => [n, name]));
/** Longest timer period Node keeps (24.8 days): a handle that holds the event loop open while a process runs. */
const HOLD_MS = 2 ** 31 - 1;

export class NativeSpawner {
  private readonly running = new Map<number, NativeChild>();
  /** Keeps the event loop alive while processes run: the SIGCHLD listener does not, and pipes may close before exit. */
  private hold: NodeJS.Timeout | null = null;
  /**
   * `KEY=value` lines per environment object: a launcher passes its one fixed copy for every attempt without variables
   * of its own, whatever the attempts between them passed.
   */
  private readonly envPairs = new WeakMap<NodeJS.ProcessEnv, string[]>();

  constructor(private readonly addon: Addon) {
    // Installed before the first start, so no exit can come before it.
    process.on('SIGCHLD', () => this.reapAll());
  }

  /**
   * Starts argv in cwd in a process group of its own, stdin from /dev/null, stdout and stderr piped. Throws as
   * child_process would: an ErrnoException with `syscall` 'spawn' when the program cannot start, a TypeError for an
   * argument holding a NUL byte.
   */
  spawn(argv: string[], cwd: string, env: NodeJS.ProcessEnv): TaskChild {
    const started = this.addon.spawn(argv[0], argv, this.pairs(env), cwd);
    if (typeof started === 'number') {
      if (started === 0) throw new TypeError('arguments, working folder and environment must be strings without null bytes');
      const code = ERRNO_NAMES.get(-started);
      const error: NodeJS.ErrnoException = new Error(`spawn ${argv[0]} ${code ?? started}`);
      error.errno = started;
      error.code = code;
      error.syscall = 'spawn';
      error.path = argv[0];
      throw error;
    }
    const [pid, outFd, errFd] = started;
    const child = new NativeChild(pid, pipe(outFd), pipe(errFd));
    this.running.set(pid, child);
    this.hold ??= setInterval(() => undefined, HOLD_MS);
    return child;
  }

  /**
   * Signals a process group; false when it is gone. Node's process.kill throws for a group already gone, as one is at
   * every attempt's end, and building that exception cost more than the kill.
   */
  killGroup(pid: number, signal: NodeJS.Signals): boolean {
    return this.addon.kill(-pid, os.constants.signals[signal]) === 0;
  }

  private pairs(env: NodeJS.ProcessEnv): string[] {
    // process.env itself can change between two starts; a launcher's fixed copy of it cannot.
    const known = env === process.env ? undefined : this.envPairs.get(env);
    if (known) return known;
    const pairs: string[] = [];
    for (const key in env) {
      const value = env[key];
      if (value !== undefined) pairs.push(`${key}=${value}`);
    }
    if (env !== process.env) this.envPairs.set(env, pairs);
    return pairs;
  }

  private reapAll(): void {
    for (const [pid, child] of this.running) {
      const ended = this.addon.reap(pid);
      if (ended === undefined) continue;
      this.running.delete(pid);
      const [code, signal] = ended;
      child.exited(code >= 0 ? code : null, signal > 0 ? (SIGNAL_NAMES.get(signal) ?? null) : null);
    }
    if (this.running.size === 0 && this.hold !== null) {
      clearInterval(this.hold);
      this.hold = null;
    }
  }
}

/** A process started by the addon: emits 'exit' (code, signal) when it ends and 'close' once its pipes are closed too. */
class NativeChild extends EventEmitter implements TaskChild {
  private open = 3;

  constructor(
    readonly pid: number,
    readonly stdout: net.Socket,
    readonly stderr: net.Socket,
  ) {
    super();
    stdout.once('close', () => this.done());
    stderr.once('close', () => this.done());
  }

  exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.emit('exit', code, signal);
    this.done();
  }

  private done(): void {
    if (--this.open === 0) this.emit('close');
  }
}

function pipe(fd: number): net.Socket {
  return new net.Socket({ fd, readable: true, writable: false });
}
