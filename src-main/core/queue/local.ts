// LocalQueue executor: runs attempts in the piscina worker pool on this machine.
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { AttemptSpec, AttemptOutcome } from '../../../src-worker/exec/types';
import type { Executor } from '../run/orchestrator';

export class LocalExecutor implements Executor {
  private readonly pool: Piscina;

  constructor(workerFile: string, threads: number) {
    this.pool = new Piscina({
      filename: workerFile,
      minThreads: threads,
      // Threads only wait on child processes; the orchestrator enforces the configured concurrency.
      maxThreads: Math.max(threads, 16),
      idleTimeout: 60_000,
    });
  }

  async run(spec: AttemptSpec, onStarted: (pid: number) => void): Promise<AttemptOutcome> {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: { type: string; pid: number }) => {
      if (m.type === 'started') onStarted(m.pid);
    });
    try {
      return (await this.pool.run({ ...spec, port: port2 }, { transferList: [port2] })) as AttemptOutcome;
    } finally {
      port1.close();
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
