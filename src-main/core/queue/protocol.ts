// What the server and `aa worker` agree on in scale-out mode: queue names, job payloads, the worker API's shape.
// Plain data and small pure functions only, so the worker imports it without the rest of the core.
import os from 'node:os';
import path from 'node:path';
import type { AttemptOutcome, AttemptSpec } from '../../../src-worker/exec/types';

/** `aa worker` defaults. */
export const WORKER_DEFAULTS = {
  queues: ['localhost'],
  /** Steps at once from each queue: the machine's CPU count, as local mode's pool. */
  concurrency: Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
  /** Tries per file transfer before the step fails (waits double from 0.5 s up to 10 s: about a minute). */
  transferTries: 8,
};

/** Every worker API path sits under this mount point; all of them need `Authorization: Bearer <worker token>`. */
export const WORKER_API = '/api/worker';

/** A_A priorities (0 low, 1 normal, 2 high) as BullMQ priorities, where a smaller number runs first. */
const BULL_PRIORITY = [3, 2, 1] as const;

/**
 * One BullMQ queue per queue type; A_A's low_/high_ variants become BullMQ priorities in it. Every job carries a
 * priority: BullMQ would otherwise run unprioritised jobs before all prioritised ones.
 */
export function bullQueueFor(plannedQueue: string, priority: number): { queue: string; priority: number } {
  const p = Math.max(0, Math.min(2, Math.trunc(priority)));
  // Strip only the prefix that this priority added, so a queue type really named "high_mem" stays itself.
  const prefix = p === 0 ? 'low_' : p === 2 ? 'high_' : '';
  const type = prefix && plannedQueue.startsWith(prefix) ? plannedQueue.slice(prefix.length) : plannedQueue;
  return { queue: bullQueueName(type), priority: BULL_PRIORITY[p] };
}

/** A queue type name as a BullMQ queue name (which must not contain ':'; keep it readable in redis-cli). */
export function bullQueueName(queueType: string): string {
  return queueType.replace(/[^A-Za-z0-9_.-]/g, '_') || '_';
}

/** The BullMQ job id of one attempt: stable, so a second add of the same attempt is a no-op. */
export function attemptJobId(submissionUuid: string, stepKey: string, attemptNo: number): string {
  // Escaped one to one (~hex), so two step keys never share an id and the id stays a plain file and URL name.
  const key = stepKey.replace(/[^A-Za-z0-9_-]/g, (c) => `~${c.codePointAt(0)!.toString(16)}`);
  return `${submissionUuid}.${key}.${attemptNo}`;
}

export interface InputFile {
  name: string;
  size: number;
}

/** A BullMQ job's data: the attempt as the server would run it, plus what a remote worker must fetch. */
export interface StepJob {
  v: 1;
  submission_uuid: string;
  step_key: string;
  attempt_no: number;
  /** The queue type (BullMQ queue name) the step was sent to. */
  queue: string;
  /** Paths are the server's; a remote worker rewrites them into its own temporary folder. */
  spec: Omit<AttemptSpec, 'port'>;
  /** Files in spec.cwd when the step was queued: what the step may read. */
  inputs: InputFile[];
  /** File-name endings of the step's results; only these (and stdout/stderr) travel back. */
  out_globs: string[];
}

/** A BullMQ job's return value. */
export interface StepResult {
  outcome: AttemptOutcome;
  /** Where the files are: 'server' = already in `cwd` on the server; 'uploaded' = in the server's staging folder. */
  files_at: 'server' | 'uploaded';
  /** Only for 'server': the folder the attempt ran in (it may differ from the adopting attempt's folder). */
  cwd?: string;
  /** Names relative to the attempt's folder, with their sizes (checked on arrival). */
  files: InputFile[];
  /**
   * The stdout/stderr files: for 'uploaded', names among `files` (null when the step never started); for 'server',
   * the absolute paths the attempt wrote.
   */
  stdout: string | null;
  stderr: string | null;
  worker: string;
  host: string;
}

/** GET /api/worker/config: what a worker needs after its token was accepted. */
export interface WorkerConfig {
  /** Redis URL as the server reaches it; a loopback host means "the server's host" to a remote worker. */
  redis: string;
  /** BullMQ key prefix of this server (one Redis may serve several workbenches). */
  prefix: string;
  /** BullMQ lock: a job whose worker stops renewing it for this long is stalled and given to another worker. */
  lock_ms: number;
  stalled_interval_ms: number;
  /** Stalls a job survives before it fails (and the orchestrator's retries take over). */
  max_stalled: number;
  heartbeat_ms: number;
  /** Redis pub/sub channel announcing cancelled job ids. */
  cancel_channel: string;
}

/** POST /api/worker/heartbeat body. */
export interface WorkerHeartbeat {
  id: string;
  host: string;
  queues: string[];
  concurrency: number;
  running: number;
  completed: number;
  failed: number;
  version: string;
  /** Sent once on a clean stop. */
  stopped?: boolean;
}

/** A worker as the app lists it. */
export interface WorkerView {
  id: string;
  host: string;
  queues: string[];
  concurrency: number;
  running: number;
  completed: number;
  failed: number;
  version: string | null;
  /** online: heard from within three heartbeats; offline: silent since; stopped: said goodbye. */
  state: 'online' | 'offline' | 'stopped';
  token: string | null;
  started_at: string;
  last_seen_at: string;
}

/**
 * A step's command as a worker runs it: `$TMP` names the parent of the step's working folder (A_A: the backend's
 * root), which the server rendered as its own (the parent of `serverCwd`); on a worker it is the worker's own root.
 */
export function commandOnWorker(argv: string[], serverCwd: string, workerRoot: string): string[] {
  const serverRoot = path.dirname(serverCwd);
  // A root of "/" renders as an empty $TMP: nothing to rewrite.
  if (serverRoot === path.parse(serverRoot).root) return argv;
  // The whole path only, not a longer name that starts with it.
  const at = new RegExp(`${serverRoot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$)`, 'g');
  return argv.map((word) => word.replace(at, () => workerRoot));
}

/** A file name a worker may send or ask for: one plain name inside the attempt's folder. */
export function isPlainFileName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

/** ioredis options from a redis:// or rediss:// URL (BullMQ takes options, so it owns and closes its connections). */
export function redisOptions(url: string): { host: string; port: number; username?: string; password?: string; db: number; tls?: object } {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`not a redis:// URL: ${url}`);
  const db = Number(u.pathname.replace(/^\//, '') || '0');
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isInteger(db) ? db : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * The Redis URL a worker should use: the server's own URL, except that a loopback host (Redis beside the server)
 * is reached at the host the worker used to reach the server.
 */
export function redisUrlForWorker(serverRedis: string, serverUrl: string): string {
  const r = new URL(serverRedis);
  const host = r.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || /^127\./.test(host)) r.hostname = new URL(serverUrl).hostname;
  return r.toString();
}
