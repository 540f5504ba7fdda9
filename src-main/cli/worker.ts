// `aa worker`: a machine that runs steps for a server in scale-out mode. It pulls jobs of its queue types from the
// server's Redis through BullMQ, fetches each step's inputs over HTTP with its worker token, runs the attempt with
// the same runner as local mode in a temporary folder, sends the results and stdout/stderr back, and reports the exit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import IORedis from 'ioredis';
import { killGroup, runAttempt, useNativeSpawner } from '../../src-worker/exec/run';
import { loadNativeSpawner } from '../../src-worker/exec/native-spawn';
import type { AttemptOutcome } from '../../src-worker/exec/types';
import {
  WORKER_API,
  bullQueueName,
  commandOnWorker,
  isPlainFileName,
  redisOptions,
  redisUrlForWorker,
  type InputFile,
  type StepJob,
  type StepResult,
  type WorkerConfig,
  type WorkerHeartbeat,
} from '../core/queue/protocol';

export interface WorkerOptions {
  /** The workbench server, e.g. http://lab-pc:8610. */
  server: string;
  /** A worker token created in the app. */
  token: string;
  /** Queue types to serve (A_A names: localhost, Python, R, ...). */
  queues: string[];
  /** Steps run at once from each queue. */
  concurrency: number;
  /** Overrides the Redis URL the server hands out (e.g. when Redis sits behind another address). */
  redis?: string;
  /** Parent of the per-step temporary folders. */
  workDir: string;
  /** Tries per file transfer (and for the first contact) before giving up; waits double from 0.5 s up to 10 s. */
  transferTries: number;
  log: (line: string) => void;
}

const VERSION = 'aa-worker/1';
/** Files up to this size travel as one buffer rather than a stream. */
const WHOLE_BODY_BYTES = 8 * 1024 * 1024;

export interface RunningWorker {
  id: string;
  /** Stop taking steps; let running ones finish (force: kill them, they are handed to another worker). */
  stop(force?: boolean): Promise<void>;
  /** Settles when the worker has stopped; rejects when it stopped on its own because its token was refused. */
  done: Promise<void>;
}

/** The server answered 401: the token is wrong or revoked. Never retried. */
export class TokenRefused extends Error {}

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const server = opts.server.replace(/\/+$/, '');
  await fs.promises.mkdir(opts.workDir, { recursive: true });
  const host = os.hostname();
  const id = `${host}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const auth = { Authorization: `Bearer ${opts.token}` };
  const api = (p: string) => `${server}${WORKER_API}${p}`;

  const config = await withRetries(`contacting ${server}`, opts.transferTries, async () => {
    const res = await fetch(api('/config'), { headers: auth, signal: AbortSignal.timeout(10_000) });
    await refuseOn401(res);
    if (res.status === 409) throw new Fatal(((await res.json()) as { error: string }).error);
    if (!res.ok) throw new Error(`HTTP ${res.status}${await reason(res)}`);
    return (await res.json()) as WorkerConfig;
  });
  const redisUrl = opts.redis ?? redisUrlForWorker(config.redis, server);
  const connection = { ...redisOptions(redisUrl), maxRetriesPerRequest: null };

  const load = { running: 0, completed: 0, failed: 0 };
  const pids = new Map<string, number>();
  let stopping: Promise<void> | null = null;
  let settle: { resolve: () => void; reject: (e: Error) => void } = { resolve: () => undefined, reject: () => undefined };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);

  const send = async (beat: Partial<WorkerHeartbeat> = {}) => {
    const body: WorkerHeartbeat = { id, host, queues: opts.queues, concurrency: opts.concurrency, ...load, version: VERSION, ...beat };
    const res = await fetch(api('/heartbeat'), {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    await refuseOn401(res);
  };
  let serverAway = false;
  const heartbeat = async () => {
    try {
      await send();
      if (serverAway) opts.log(`server ${server} is reachable again`);
      serverAway = false;
    } catch (error) {
      if (error instanceof TokenRefused) return void stop(false, new TokenRefused('the server refused this worker token (revoked?); stopped'));
      if (!serverAway) opts.log(`server ${server} unreachable for heartbeats: ${(error as Error).message}`);
      serverAway = true;
    }
  };

  const download = async (jobId: string, f: InputFile, dir: string) => {
    const res = await fetch(api(`/jobs/${encodeURIComponent(jobId)}/inputs/${encodeURIComponent(f.name)}`), { headers: auth });
    await refuseOn401(res);
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}${await reason(res)}`);
    const target = path.join(dir, f.name);
    if (f.size <= WHOLE_BODY_BYTES) await fs.promises.writeFile(target, Buffer.from(await res.arrayBuffer()));
    else await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), fs.createWriteStream(target));
    const size = (await fs.promises.stat(target)).size;
    if (size !== f.size) throw new Error(`got ${size} of ${f.size} bytes`);
  };

  const upload = async (jobId: string, file: string, name: string) => {
    const size = (await fs.promises.stat(file)).size;
    const res = await fetch(api(`/jobs/${encodeURIComponent(jobId)}/outputs/${encodeURIComponent(name)}`), {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      // undici streams any async iterable, but a streamed body goes out after the headers in its own packet,
      // which costs a delayed-ACK round (~40 ms) per file; small files go whole.
      body: size <= WHOLE_BODY_BYTES ? await fs.promises.readFile(file) : (fs.createReadStream(file) as unknown as BodyInit),
      duplex: 'half',
    } as RequestInit);
    await refuseOn401(res);
    if (!res.ok) throw new Error(`HTTP ${res.status}${await reason(res)}`);
    return { name, size };
  };

  const process_ = async (job: Job, lockToken?: string): Promise<StepResult> => {
    const data = job.data as StepJob;
    const jobId = job.id as string;
    if (data.v !== 1) throw new UnrecoverableError(`worker ${host} does not understand this job (version ${String(data.v)})`);
    load.running += 1;
    const dir = await fs.promises.mkdtemp(path.join(opts.workDir, 'aa-step-'));
    try {
      try {
        for (const f of data.inputs) if (!isPlainFileName(f.name)) throw new Fatal(`refusing input name ${JSON.stringify(f.name)}`);
        await Promise.all(data.inputs.map((f) => withRetries(`download of input "${f.name}"`, opts.transferTries, () => download(jobId, f, dir))));
      } catch (error) {
        if (error instanceof TokenRefused) {
          // Not this worker's to fail: hand the step back for a worker the server still trusts.
          await job.moveToWait(lockToken);
          void stop(false, new TokenRefused('the server refused this worker token (revoked?); stopped'));
          throw new WaitingError();
        }
        throw new UnrecoverableError(`worker ${host} could not fetch the step's input files from ${server}: ${(error as Error).message}`);
      }
      const inputs = new Map<string, number>();
      for (const f of await fs.promises.readdir(dir)) inputs.set(f, (await fs.promises.stat(path.join(dir, f))).mtimeMs);

      const stdoutName = nameInside(data.spec.cwd, data.spec.stdout_file) ?? '.aa-stdout';
      const stderrName = nameInside(data.spec.cwd, data.spec.stderr_file) ?? '.aa-stderr';
      const outcome: AttemptOutcome = await runAttempt({
        ...data.spec,
        ...(data.spec.argv ? { argv: commandOnWorker(data.spec.argv, data.spec.cwd, path.dirname(dir)) } : {}),
        cwd: dir,
        stdout_file: path.join(dir, stdoutName),
        stderr_file: path.join(dir, stderrName),
        port: { postMessage: (m) => pids.set(jobId, m.pid) },
      });
      pids.delete(jobId);

      const wanted: string[] = [];
      for (const name of await fs.promises.readdir(dir)) {
        const stat = await fs.promises.stat(path.join(dir, name));
        if (!stat.isFile()) continue;
        const unchangedInput = inputs.get(name) === stat.mtimeMs;
        if (name === stdoutName || name === stderrName || (!unchangedInput && data.out_globs.some((g) => name.endsWith(g)))) wanted.push(name);
      }
      let files: InputFile[];
      try {
        files = await Promise.all(wanted.map((name) => withRetries(`upload of "${name}"`, opts.transferTries, () => upload(jobId, path.join(dir, name), name))));
      } catch (error) {
        throw new UnrecoverableError(`worker ${host} could not send the step's results to ${server}: ${(error as Error).message}`);
      }
      load[outcome.exit_code === 0 ? 'completed' : 'failed'] += 1;
      return {
        outcome,
        files_at: 'uploaded',
        files,
        stdout: wanted.includes(stdoutName) ? stdoutName : null,
        stderr: wanted.includes(stderrName) ? stderrName : null,
        worker: id,
        host,
      };
    } catch (error) {
      if (!(error instanceof WaitingError)) load.failed += 1;
      throw error;
    } finally {
      load.running -= 1;
      pids.delete(jobId);
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  };

  let workers: Worker[] = [];
  let cancels: IORedis | null = null;
  let beats: NodeJS.Timeout | undefined;
  const stop = (force = false, reason?: Error): Promise<void> => {
    if (force) for (const pid of pids.values()) killGroup(pid);
    if (stopping) return stopping;
    stopping = (async () => {
      clearInterval(beats);
      await Promise.allSettled(workers.map((w) => w.close(force)));
      cancels?.disconnect();
      await send({ stopped: true, running: 0 }).catch(() => undefined);
      if (reason) settle.reject(reason);
      else settle.resolve();
    })();
    return stopping;
  };

  workers = opts.queues.map((q) => {
    const w = new Worker(bullQueueName(q), process_, {
      connection,
      prefix: config.prefix,
      concurrency: opts.concurrency,
      lockDuration: config.lock_ms,
      stalledInterval: config.stalled_interval_ms,
      maxStalledCount: config.max_stalled,
    });
    let redisAway = false;
    w.on('error', (error) => {
      if (!redisAway) opts.log(`Redis at ${redactUrl(redisUrl)}: ${error.message} (retrying)`);
      redisAway = true;
    });
    w.on('ready', () => {
      if (redisAway) opts.log(`Redis at ${redactUrl(redisUrl)} is back`);
      redisAway = false;
    });
    return w;
  });

  // Cancelled steps: the server names the job; its process group is killed and the job finishes as killed.
  cancels = new IORedis(connection);
  cancels.on('error', () => undefined);
  await cancels.subscribe(config.cancel_channel);
  cancels.on('message', (_channel: string, jobId: string) => {
    const pid = pids.get(jobId);
    if (pid) killGroup(pid);
  });

  beats = setInterval(() => void heartbeat(), config.heartbeat_ms);
  await heartbeat();
  opts.log(`worker ${id} serving ${opts.queues.join(', ')} for ${server} (${opts.concurrency} at once per queue)`);
  return { id, stop, done };
}

/** An error no retry can fix. */
class Fatal extends Error {}

async function refuseOn401(res: Response): Promise<void> {
  if (res.status === 401) {
    await res.body?.cancel();
    throw new TokenRefused('the server refused the worker token (wrong or revoked): ask for a new one in the app');
  }
}

async function withRetries<T>(what: string, tries: number, fn: () => Promise<T>): Promise<T> {
  let last: Error = new Error('not tried');
  for (let i = 1; i <= Math.max(1, tries); i++) {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof TokenRefused || error instanceof Fatal) throw error;
      last = error as Error;
      if (i < tries) await sleep(Math.min(10_000, 500 * 2 ** (i - 1)) * (0.8 + Math.random() * 0.4));
    }
  }
  throw new Error(`${what} failed after ${tries} tries: ${describeFetchError(last)}`);
}

function describeFetchError(error: Error): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}

/** A file's name relative to `dir` when it sits directly in it. */
function nameInside(dir: string, file: string): string | null {
  const rel = path.relative(dir, file);
  return isPlainFileName(rel) ? rel : null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** The server's own words for a refusal (its JSON `error` or `detail`), after a colon; '' when it gave none. */
async function reason(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: unknown; detail?: unknown };
    const said = typeof body.error === 'string' ? body.error : typeof body.detail === 'string' ? body.detail : '';
    return said ? `: ${said}` : '';
  } catch {
    return '';
  }
}

/**
 * The `aa worker` command: start, stop cleanly on the first Ctrl-C (running steps finish), at once on the second.
 * `spawnerFile`: the posix_spawn addon, used to start the steps' processes where it loads.
 */
export async function workerCommand(opts: Omit<WorkerOptions, 'log'> & { spawnerFile: string }): Promise<number> {
  useNativeSpawner(loadNativeSpawner(opts.spawnerFile));
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const worker = await startWorker({ ...opts, log });
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    log(signals === 1 ? 'stopping: no new steps; waiting for running ones (Ctrl-C again to kill them)' : 'killing running steps');
    void worker.stop(signals > 1);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await worker.done;
    log('stopped');
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
}
