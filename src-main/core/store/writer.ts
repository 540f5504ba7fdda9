// Group commit: every write queued in one event-loop turn shares one transaction, and durable ones
// share one fsync of the write-ahead log, done off the main thread.
import fs from 'node:fs';
import type { Db } from './db';

interface Pending {
  fn: () => unknown;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes are functions run inside a shared transaction. Each runs in its own savepoint, so one
 * failing write rolls back only itself.
 *
 * The connection runs with synchronous=NORMAL: a commit appends to the WAL without fsync, which
 * survives a process crash. For durable writes the writer then fsyncs the WAL file on the thread
 * pool and resolves only after that, so an acknowledged submission also survives a power cut,
 * while the main thread never blocks on the disk and concurrent requests share one fsync.
 */
export class GroupWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private walFd: number | null = null;
  /** Runs one write in its own savepoint (better-sqlite3 nests a transaction function as a savepoint). */
  private readonly savepoint: (fn: () => unknown) => unknown;
  /** Runs a batch in one transaction; built once, as building costs more than a small write. */
  private readonly commit: (batch: Pending[], outcomes: Array<{ ok: boolean; value: unknown }>) => void;

  constructor(
    private readonly db: Db,
    /** The database file; its WAL is `<file>-wal`. */
    private readonly dbFile: string,
  ) {
    db.pragma('synchronous = NORMAL');
    this.savepoint = db.transaction((fn: () => unknown) => fn());
    this.commit = db.transaction((batch: Pending[], outcomes: Array<{ ok: boolean; value: unknown }>) => {
      for (const p of batch) {
        try {
          outcomes.push({ ok: true, value: this.savepoint(p.fn) });
        } catch (error) {
          outcomes.push({ ok: false, value: error });
        }
      }
    });
  }

  /** `durable`: the promise resolves once the commit is fsynced (accepted submissions). */
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
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    try {
      this.commit(batch, outcomes);
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    const settle = (p: Pending, i: number) => (outcomes[i].ok ? p.resolve(outcomes[i].value) : p.reject(outcomes[i].value));
    if (!batch.some((p) => p.durable)) {
      batch.forEach(settle);
      return;
    }
    this.syncWal((error) => {
      batch.forEach((p, i) => (error && outcomes[i].ok && p.durable ? p.reject(error) : settle(p, i)));
    });
  }

  private syncWal(done: (error: Error | null) => void): void {
    try {
      this.walFd ??= fs.openSync(`${this.dbFile}-wal`, 'r+');
    } catch (error) {
      // No WAL file (an in-memory store): fall back to a synchronous checkpoint, which syncs the database.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.db.pragma('wal_checkpoint(FULL)');
        done(null);
        return;
      }
      done(error as Error);
      return;
    }
    fs.fdatasync(this.walFd, (error) => done(error));
  }

  close(): void {
    this.flush();
    this.closed = true;
    if (this.walFd !== null) {
      // The last durable commits have their own fsync in flight; make sure of it before closing.
      try {
        fs.fdatasyncSync(this.walFd);
      } finally {
        fs.closeSync(this.walFd);
        this.walFd = null;
      }
    }
  }
}
