// Group commit: every write queued in one event-loop turn shares one transaction (one fsync).
import type { Db } from './db';

interface Pending {
  fn: () => unknown;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes are functions run inside a shared transaction. Each runs in its own savepoint, so one
 * failing write rolls back only itself. The promise settles once the shared commit is on disk.
 */
export class GroupWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private synchronous: 'FULL' | 'NORMAL' = 'FULL';

  constructor(private readonly db: Db) {}

  /**
   * `durable`: the commit is fsynced before the promise resolves (accepted submissions). Run-state
   * writes are not: in WAL mode they survive a process crash, and recovery re-runs what a power cut loses.
   */
  write<T>(fn: () => T, options: { durable?: boolean } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, durable: options.durable ?? false, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commit everything queued now (also used on shutdown). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const wanted = batch.some((p) => p.durable) ? 'FULL' : 'NORMAL';
    if (wanted !== this.synchronous) {
      this.db.pragma(`synchronous = ${wanted}`);
      this.synchronous = wanted;
    }
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    const savepoint = this.db.transaction((fn: () => unknown) => fn());
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          try {
            outcomes.push({ ok: true, value: savepoint(p.fn) });
          } catch (error) {
            outcomes.push({ ok: false, value: error });
          }
        }
      })();
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => (outcomes[i].ok ? p.resolve(outcomes[i].value) : p.reject(outcomes[i].value)));
  }

  close(): void {
    this.flush();
    this.closed = true;
  }
}
