// LocalQueue executor: runs attempts on this machine through a small pool of launcher processes.
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { AttemptSpec, AttemptOutcome } from '../../../src-worker/exec/types';
import type { LaunchReply, LaunchRun } from '../../../src-worker/exec/launch-protocol';
import { killGroup, notStarted } from '../../../src-worker/exec/run';
import type { Executor } from '../run/orchestrator';

interface Pending {
  resolve: (outcome: AttemptOutcome) => void;
  onStarted: (pid: number) => void;
  pid: number | null;
}

/**
 * Node flags of a launcher. Without the posix_spawn addon (native/spawn), a spawn forks: it costs in proportion to
 * the launcher's memory (its page tables are copied, then torn down by the child's exec: about 40 µs per MB on each
 * side here), and a launcher's heap stays tiny, so a young generation of 1 MB and no V8 helper threads keep it from
 * growing to the default's 20 MB: 14 MB, and 0.2–0.7 ms less CPU per attempt, measured side by side. With the addon
 * the flags make no difference to the CPU per attempt (measured likewise) and keep the smaller memory. Electron's Node
 * mode is left with its defaults.
 */
const LAUNCHER_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=0'];

/**
 * One launcher process (out/main/launcher.js). Attempts run there rather than in threads of the server: a thread
 * shares the server's address space, so its every spawn forked the whole server (7–17 ms at 95–200 MB against
 * 2 ms from a small process). Where the posix_spawn addon is built, a start no longer copies the spawner's memory,
 * but a launcher still keeps two things off the server: the start itself (the spawning thread waits until the child
 * has called exec) and the task processes' lives (it kills their groups when the server dies). Started on first use;
 * an idle launcher does not keep the server's event loop alive.
 */
class Launcher {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly file: string) {}

  get load(): number {
    return this.pending.size;
  }

  run(spec: AttemptSpec, onStarted: (pid: number) => void): Promise<AttemptOutcome> {
    const child = this.child ?? this.start();
    const id = this.nextId++;
    const { port: _port, ...plain } = spec;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, onStarted, pid: null });
      if (this.pending.size === 1) child.channel?.ref();
      const message: LaunchRun = { t: 'run', id, spec: plain };
      child.send(message, (error) => {
        if (error) this.settle(id, notStarted(`cannot reach the launcher process: ${error.message}`));
      });
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // Held until it has gone, or a host with nothing else to do would exit before this resolves.
      child.ref();
      // Closing the channel is the launcher's cue: it kills what still runs and exits.
      if (child.connected) child.disconnect();
      else child.kill('SIGKILL');
    });
  }

  private start(): ChildProcess {
    const child = fork(this.file, [], {
      // Not the server's flags (profiling or inspector ones would follow it into every launcher), but a small heap.
      execArgv: process.versions.electron ? [] : LAUNCHER_FLAGS,
      // Inside Electron, process.execPath is the Electron binary: it runs the launcher as plain Node only when told to.
      env: process.versions.electron ? { ...process.env, ELECTRON_RUN_AS_NODE: '1' } : process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    child.unref();
    child.on('message', (m: LaunchReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.t === 'started') {
        p.pid = m.pid;
        p.onStarted(m.pid);
      } else {
        this.settle(m.id, m.outcome);
      }
    });
    child.on('error', (error) => console.error('launcher process:', error.message));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      // Killed from outside (or out of memory): its attempts cannot report, and their groups must not linger.
      for (const [id, p] of this.pending) {
        if (p.pid !== null) killGroup(p.pid);
        this.settle(id, notStarted(`the launcher process stopped (${signal ?? `exit ${code}`}) while this attempt ran`));
      }
    });
    return child;
  }

  private settle(id: number, outcome: AttemptOutcome): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.child?.channel?.unref();
    p.resolve(outcome);
  }
}

export class LocalExecutor implements Executor {
  /** A launcher kills what it started when the server goes (it watches its channel), so quick attempts are stored once. */
  readonly recordsQuickAttemptsOnce = true;
  private readonly launchers: Launcher[];

  /** `concurrency` steps may run at once; launchers beyond the core count would only wait on the same cores. */
  constructor(launcherFile: string, concurrency: number) {
    const count = Math.max(1, Math.min(concurrency, os.availableParallelism()));
    this.launchers = Array.from({ length: count }, () => new Launcher(launcherFile));
  }

  run(spec: AttemptSpec, onStarted: (pid: number) => void): Promise<AttemptOutcome> {
    let best = this.launchers[0];
    for (const l of this.launchers) if (l.load < best.load) best = l;
    return best.run(spec, onStarted);
  }

  async close(): Promise<void> {
    await Promise.all(this.launchers.map((l) => l.close()));
  }
}
