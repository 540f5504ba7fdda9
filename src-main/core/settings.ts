// Runtime settings: typed once, defaulted once.
import os from 'node:os';

export interface Settings {
  /** Concurrent task attempts in the local worker pool. */
  concurrency: number;
  /** A_A QUEUE_HOG_SIZE: at this many unfinished submissions a client drops to low priority; null disables. */
  queue_hog_size: number | null;
  /** A_A QUEUE_HARD_LIMIT: at this many unfinished submissions a client gets 429; null disables. */
  queue_hard_limit: number | null;
  /** Largest accepted upload, bytes. */
  upload_limit_bytes: number;
  /** stdout/stderr kept per attempt, bytes; the rest is dropped and noted. */
  output_cap_bytes: number;
  /** Address the server binds (restart to apply). */
  host: string;
  /** Port the server binds (restart to apply). */
  port: number;
}

export const DEFAULT_SETTINGS: Settings = {
  concurrency: Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
  queue_hog_size: 10,
  queue_hard_limit: 15,
  upload_limit_bytes: 2 * 1024 * 1024 * 1024,
  output_cap_bytes: 16 * 1024 * 1024,
  host: '127.0.0.1',
  port: 8610,
};

/** Settings that only apply when the server starts again. */
export const RESTART_SETTINGS: Array<keyof Settings> = ['host', 'port'];
