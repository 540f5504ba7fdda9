// Harness for the fault and lifecycle suites: a real `aa serve` process over a seeded data dir, raw HTTP from
// another address, lingering-process checks and a store consistency check.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { openDb, type Db } from '../../src-main/core/store/db';
import { DEFAULT_SETTINGS, type Settings } from '../../src-main/core/settings';
import { ROOT, tempDir } from '../support/server';

export const CLI = path.join(ROOT, 'out', 'main', 'cli.js');
export const FAULT_BIN = path.join(ROOT, 'test', 'faults', 'bin');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value (returned) or the time runs out (throws with `what`). */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 20_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A data dir whose store is prepared (tasks, jobs, settings) before any server opens it. */
export function seedStore(setup: (db: Db) => void, settings: Partial<Settings> = {}, dataDir = tempDir('aa-fault-')): string {
  const db = openDb(path.join(dataDir, 'workbench.sqlite'));
  try {
    setup(db);
    db.prepare('INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
      'settings',
      JSON.stringify({ ...DEFAULT_SETTINGS, queue_hog_size: null, queue_hard_limit: null, ...settings }),
    );
  } finally {
    db.close();
  }
  return dataDir;
}

export interface ServerProcess {
  proc: ChildProcess;
  pid: number;
  url: string;
  token: string;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

/** `aa serve` as users run it (the built CLI), on a free port; resolves once it prints its URLs. */
export async function spawnServer(dataDir: string, args: string[] = []): Promise<ServerProcess> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the tests`);
  const proc = spawn(process.execPath, [CLI, 'serve', '--data-dir', dataDir, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const m = await until(() => /Workbench: (http:\/\/[^/\s]+)\/#token=(\S+)/.exec(out), `the server to start:\n${out}`, 20_000).catch(async (e) => {
    proc.kill('SIGKILL');
    throw e;
  });
  return { proc, pid: proc.pid as number, url: m[1], token: m[2], output: () => out, exited };
}

export function killHard(server: ServerProcess): Promise<number | string> {
  server.proc.kill('SIGKILL');
  return server.exited;
}

/**
 * kill -9 of the server and its launcher processes at the same instant (as the OOM killer or a killed session
 * does): the server is frozen first so that it cannot react to its launchers' end. Task processes, in their own
 * process groups, are left running for the next start to deal with.
 */
export async function killHardWithLaunchers(server: ServerProcess): Promise<number | string> {
  server.proc.kill('SIGSTOP');
  const children = fs.readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  for (const pid of children) process.kill(pid, 'SIGKILL');
  server.proc.kill('SIGKILL');
  return server.exited;
}

/** Processes whose command line contains `marker` (e.g. a unique `sleep 3001.5`). */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = /\) (\S)/.exec(fs.readFileSync(`/proc/${name}/stat`, 'utf8'))?.[1];
      if (cmd.includes(marker) && state !== 'Z') found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** The first IPv4 address of this machine that is not loopback: requests from it are "another host". */
export function lanAddress(): string | null {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: any;
}

/** One HTTP request with full control: source address, headers, raw body. */
export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; localAddress?: string; host?: string } = {},
): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        method: opts.method ?? 'GET',
        host: opts.host ?? u.hostname,
        port: u.port,
        // Taken from the string as given: URL parsing would resolve the `..` segments traversal tests send.
        path: url.slice(u.origin.length) || '/',
        localAddress: opts.localAddress,
        headers: { Connection: 'close', ...opts.headers, ...(opts.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(opts.body)) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let body: unknown = null;
          try {
            body = JSON.parse(text);
          } catch {
            body = null;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** A multipart body as browsers and `requests` send it. */
export async function multipart(fields: Record<string, string>, file?: { name: string; content: string | Buffer; field?: string }): Promise<{ body: Buffer; type: string }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append(file.field ?? 'input_data', new Blob([typeof file.content === 'string' ? file.content : new Uint8Array(file.content)]), file.name);
  const req = new Request('http://x/', { method: 'POST', body: form });
  return { body: Buffer.from(await req.arrayBuffer()), type: req.headers.get('content-type') as string };
}

/** POSTs an A_A submission with `fetch`-free raw HTTP (so a source address and headers can be chosen). */
export async function submitAa(
  url: string,
  fields: Record<string, string>,
  opts: { localAddress?: string; headers?: Record<string, string>; file?: { name: string; content: string | Buffer } } = {},
): Promise<RawResponse> {
  const { body, type } = await multipart({ submission_name: 'run', email: 'a@b.com', ...fields }, opts.file ?? { name: 'in.txt', content: 'data\n' });
  return rawRequest(`${url}/analytics_automated/submission/`, {
    method: 'POST',
    body,
    localAddress: opts.localAddress,
    headers: { 'Content-Type': type, ...opts.headers },
  });
}

export interface StoreReport {
  integrity: string;
  foreignKeyProblems: number;
  /** Submissions still Submitted or Running. */
  unfinished: Array<{ uuid: string; status: number; last_message: string }>;
  /** Result or input rows whose file is missing. */
  missingFiles: string[];
  /** Files in submissions/<uuid>/ (and its in/, logs/) that no row points at, and folders of unknown submissions. */
  strayFiles: string[];
}

/** Reads a store (read-only; a live server may keep running) and reports what does not add up. */
export function inspectStore(dataDir: string): StoreReport {
  const db = new Database(path.join(dataDir, 'workbench.sqlite'), { readonly: true });
  try {
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? '';
    const foreignKeyProblems = (db.pragma('foreign_key_check') as unknown[]).length;
    const subs = db.prepare('SELECT id, uuid, status, last_message, input_path FROM submission').all() as Array<{
      id: number;
      uuid: string;
      status: number;
      last_message: string;
      input_path: string;
    }>;
    const results = db.prepare('SELECT submission_id, path FROM result').all() as Array<{ submission_id: number; path: string }>;
    const referenced = new Set<string>([...subs.map((s) => s.input_path), ...results.map((r) => r.path)]);
    const missingFiles = [...referenced].filter((p) => !fs.existsSync(path.join(dataDir, p)));
    // Attempts' kept stdout and stderr are theirs too (not checked for presence: retention may drop logs first).
    for (const a of db.prepare('SELECT stdout_path, stderr_path FROM attempt').all() as Array<{ stdout_path: string | null; stderr_path: string | null }>) {
      if (a.stdout_path) referenced.add(a.stdout_path);
      if (a.stderr_path) referenced.add(a.stderr_path);
    }
    const strayFiles: string[] = [];
    const uuids = new Set(subs.map((s) => s.uuid));
    const root = path.join(dataDir, 'submissions');
    for (const name of fs.existsSync(root) ? fs.readdirSync(root) : []) {
      if (!uuids.has(name)) {
        strayFiles.push(`submissions/${name}/`);
        continue;
      }
      // Inputs and results in the folder itself (native inputs in in/), logs in logs/.
      for (const sub of ['', 'in', 'logs']) {
        const dir = path.join(root, name, sub);
        for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
          if (fs.statSync(path.join(dir, f)).isDirectory()) continue;
          const rel = path.join('submissions', name, sub, f);
          if (!referenced.has(rel)) strayFiles.push(rel);
        }
      }
    }
    return {
      integrity,
      foreignKeyProblems,
      unfinished: subs.filter((s) => s.status <= 1).map(({ uuid, status, last_message }) => ({ uuid, status, last_message })),
      missingFiles,
      strayFiles,
    };
  } finally {
    db.close();
  }
}

/** Admin API call with the per-launch token. */
export async function adminCall(server: { url: string; token: string }, method: string, p: string, body?: unknown): Promise<RawResponse> {
  return rawRequest(`${server.url}/api/admin${p}`, {
    method,
    headers: { Authorization: `Bearer ${server.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
}

/** Submission rows as the store holds them. */
export function submissions(dataDir: string): Array<{ uuid: string; job_name: string; status: number; last_message: string }> {
  const db = new Database(path.join(dataDir, 'workbench.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT uuid, job_name, status, last_message FROM submission ORDER BY id').all() as Array<{
      uuid: string;
      job_name: string;
      status: number;
      last_message: string;
    }>;
  } finally {
    db.close();
  }
}

export function attemptsOf(dataDir: string, uuid: string): Array<{ attempt_no: number; state: string; message: string | null; pid: number | null; started_at: string | null; ended_at: string | null }> {
  const db = new Database(path.join(dataDir, 'workbench.sqlite'), { readonly: true });
  try {
    return db
      .prepare('SELECT a.attempt_no, a.state, a.message, a.pid, a.started_at, a.ended_at FROM attempt a JOIN submission s ON s.id = a.submission_id WHERE s.uuid = ? ORDER BY a.id')
      .all(uuid) as Array<{ attempt_no: number; state: string; message: string | null; pid: number | null; started_at: string | null; ended_at: string | null }>;
  } finally {
    db.close();
  }
}

/** A task command template running one of the fault scripts with `sh`. */
export const faultScript = (script: string, ...args: Array<string | number>): string =>
  ['sh', path.join(FAULT_BIN, script), ...args.map(String)].join(' ');

/** Servers a test file starts; `stopAll` (in afterEach) kills whatever is still running. */
export function serverKeeper(): { start(dataDir: string, args?: string[]): Promise<ServerProcess>; stopAll(): Promise<void> } {
  let live: ServerProcess[] = [];
  return {
    async start(dataDir, args = []) {
      const s = await spawnServer(dataDir, args);
      live.push(s);
      return s;
    },
    async stopAll() {
      for (const s of live) {
        s.proc.kill('SIGKILL');
        await s.exited;
      }
      live = [];
    },
  };
}

/** Submits `job` on the A_A route and returns the UUID of its (first) submission. */
export async function submitOne(url: string, job: string): Promise<string> {
  const r = await submitAa(url, { job });
  if (r.status !== 201) throw new Error(`submission refused: ${r.status} ${r.text}`);
  return (await rawRequest(`${url}/analytics_automated/submission/${r.body.UUID}`)).body.submissions[0].UUID;
}
