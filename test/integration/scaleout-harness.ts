// Scale-out test harness: a real redis-server on a free loopback port, real `aa worker` / `aa serve` processes from
// the built CLI, and an in-process server in scale-out mode (real core, real HTTP on port 0).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createCore, type CoreInternals } from '../../src-main/core';
import { startServer, type RunningServer } from '../../src-main/server/app';
import { openDb } from '../../src-main/core/store/db';
import { createWorkerToken } from '../../src-main/core/queue/worker-registry';
import type { Settings } from '../../src-main/core/settings';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'out', 'main', 'cli.js');
const LAUNCHER_FILE = path.join(ROOT, 'out', 'main', 'launcher.js');

const created: string[] = [];
// Data dirs, scripts and Redis folders go when the test process ends.
process.once('exit', () => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'aa-scaleout-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export function requireBuild(): void {
  if (!fs.existsSync(CLI) || !fs.existsSync(LAUNCHER_FILE)) throw new Error(`${CLI} is missing: run \`npm run build\` before the tests`);
}

function redisServerBinary(): string {
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) if (fs.existsSync(candidate)) return candidate;
  try {
    return execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('redis-server is not installed: the scale-out tests need a real Redis (Debian/Ubuntu: apt-get install redis-server)');
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await sleep(50);
  }
}

export interface RedisProcess {
  url: string;
  port: number;
  dir: string;
  /** Clean stop (AOF flushed), then start again on the same port and folder. */
  restart(options?: { wipe?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisProcess> {
  const binary = redisServerBinary();
  const port = await freePort();
  const dir = tempDir('aa-redis-');
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir], { stdio: 'ignore' });
    await waitForPort(port);
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async restart(options = {}) {
      await stop();
      if (options.wipe) for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
      await launch();
    },
    async stop() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

function track(child: ChildProcess): Proc {
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(pattern);
        if (m) return m;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in output: ${out}`);
        await sleep(25);
      }
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** `aa worker` as its own process; resolves once it serves its queues. */
export async function startWorkerProcess(
  server: string,
  token: string,
  options: { name?: string; queues?: string; concurrency?: number; extra?: string[]; env?: Record<string, string>; waitReady?: boolean } = {},
): Promise<Proc> {
  const args = [CLI, 'worker', '--server', server, '--token', token, '--queues', options.queues ?? 'localhost', '--concurrency', String(options.concurrency ?? 1), ...(options.extra ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AA_TEST_WORKER: options.name ?? 'worker', ...options.env } });
  const proc = track(child);
  if (options.waitReady !== false) await proc.waitFor(/serving .* for /);
  return proc;
}

/** `aa serve --redis` as its own process (so it can be killed like a crash). */
export async function startServeProcess(dataDir: string, port: number, redis: string, env: Record<string, string> = {}): Promise<Proc & { url: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--redis', redis, '--no-local-worker'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const proc = track(child);
  const m = await proc.waitFor(/Workbench: (http:\/\/[^/\s]+)\//, 20_000);
  return { ...proc, url: m[1] };
}

export interface ScaleOutServer {
  core: CoreInternals;
  server: RunningServer;
  url: string;
  dataDir: string;
  token: string;
  close(): Promise<void>;
}

/** A real core in scale-out mode plus its HTTP server on port 0, and a worker token. */
export async function startScaleOutServer(
  redis: string,
  options: { localWorker?: boolean; settings?: Partial<Settings>; dataDir?: string; env?: Record<string, string> } = {},
): Promise<ScaleOutServer> {
  requireBuild();
  const dataDir = options.dataDir ?? tempDir();
  const saved: Record<string, string | undefined> = {};
  // Failure timings are read when the executor opens; set them only for this server.
  for (const [k, v] of Object.entries(options.env ?? {})) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  let core: CoreInternals;
  try {
    core = await createCore({
      dataDir,
      launcherFile: LAUNCHER_FILE,
      redis,
      localWorker: options.localWorker ?? false,
      settings: { queue_hog_size: null, queue_hard_limit: null, ...options.settings },
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const server = await startServer(core, { host: '127.0.0.1', port: 0, uiDir: path.join(ROOT, 'out', 'renderer') });
  const { token } = createWorkerToken(core.db, 'test');
  return {
    core,
    server,
    url: server.url,
    dataDir,
    token,
    async close() {
      await server.close();
      await core.close();
    },
  };
}

/** A worker token made directly in a data dir's store (as `aa worker --new-token` does). */
export function tokenFor(dataDir: string, name = 'test'): string {
  const db = openDb(path.join(dataDir, 'workbench.sqlite'));
  try {
    return createWorkerToken(db, name).token;
  } finally {
    db.close();
  }
}

/** A shell script in a temp folder, run by tasks as `sh <path> ...` (commands run without a shell). */
export function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, body);
  return file;
}

export async function waitUntil<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Submit through the A_A route; returns the submission UUID. */
export async function submit(url: string, job: string, content = 'hello\nworld\n'): Promise<string> {
  const form = new FormData();
  form.append('job', job);
  form.append('submission_name', 'scaleout');
  form.append('email', 'a@b.com');
  form.append('input_data', new Blob([content]), 'in.txt');
  const res = await fetch(`${url}/analytics_automated/submission/`, { method: 'POST', body: form, headers: { Accept: 'application/json' } });
  const body = (await res.json()) as { UUID?: string };
  if (res.status !== 201 || !body.UUID) throw new Error(`submission refused: ${res.status} ${JSON.stringify(body)}`);
  const batch = (await (await fetch(`${url}/analytics_automated/submission/${body.UUID}`)).json()) as { submissions: Array<{ UUID: string }> };
  return batch.submissions[0].UUID;
}

export interface SubmissionView {
  state: string;
  last_message: string;
  results: Array<{ name: string; data_path: string; step: number }>;
}

/** Poll the A_A batch route of the submission's batch until it is final. */
export async function finished(url: string, submissionUuid: string, timeoutMs = 30_000): Promise<SubmissionView> {
  return waitUntil(
    `submission ${submissionUuid} to finish`,
    async () => {
      const res = await fetch(`${url}/analytics_automated/submission/single/${submissionUuid}`).catch(() => null);
      if (!res?.ok) return null;
      const sub = (await res.json()) as SubmissionView;
      return ['Complete', 'Error', 'Crash', 'Cancelled'].includes(sub.state) ? sub : null;
    },
    timeoutMs,
  );
}

export async function text(url: string, dataPath: string): Promise<string> {
  return (await fetch(url + dataPath)).text();
}
