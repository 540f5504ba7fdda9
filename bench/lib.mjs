// Shared bench helpers: start the built server, talk to it, time things, record figures.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'out', 'main', 'cli.js');

/**
 * Where bench data folders go: BENCH_DIR, else beside the users' default data folder (the per-user cache on the same
 * disk), because that is where a server's files live.
 */
export const BENCH_DIR = process.env.BENCH_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'aa-workbench-bench');

/**
 * A data folder of its own for one bench part. BENCH_DIR is marked as the top of a directory tree (`chattr +T`, where
 * the file system has it): ext4 then places each folder made in it in a block group of its own, as it does for
 * folders under /. Without that they share the block group of the runs before them, whose data the bench removed;
 * on an ext4 disk without a journal (this VM's) a new inode there skips every inode freed in the last minutes one by
 * one, and creating a file or folder cost 0.6 ms of kernel time against 0.04–0.08 ms in a fresh group.
 */
export function tempDir(prefix) {
  fs.mkdirSync(BENCH_DIR, { recursive: true });
  // Best effort: other file systems ignore the flag or lack chattr; the figures then carry that cost.
  spawnSync('chattr', ['+T', BENCH_DIR], { stdio: 'ignore' });
  return fs.mkdtempSync(path.join(BENCH_DIR, prefix));
}

/**
 * Starts `aa serve` on a free port; resolves once it prints its URLs. BENCH_NODE_ARGS adds Node flags to the server
 * alone, e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to see where its time goes.
 */
export function startServer({ dataDir, paused = false, concurrency, extra = [] }) {
  if (!fs.existsSync(CLI)) throw new Error('run `npm run build` first');
  const args = [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...(paused ? ['--paused'] : []), ...extra];
  if (concurrency) args.push('--concurrency', String(concurrency));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/Workbench: (http:\/\/[^/\s]+)\/#token=(\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          token: m[2],
          pid: child.pid,
          child,
          stop: () =>
            new Promise((res) => {
              child.once('exit', res);
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

export function runCli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`aa ${args.join(' ')} → ${code}: ${out}`))));
  });
}

export const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export function request(method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      {
        method,
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        agent,
        headers: { Accept: 'application/json', ...headers, ...(body ? { 'Content-Length': body.length } : {}) },
      },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** POSTs one A_A submission (multipart, `content` as input_data) to `job`; resolves to the batch UUID. */
export async function submitAa(url, job, i, content) {
  const { body, ctype } = multipart([['job', job], ['submission_name', `b${i}`], ['email', 'bench@example.org']], content);
  const r = await request('POST', `${url}/analytics_automated/submission/`, body, { 'Content-Type': ctype });
  if (r.status !== 201) throw new Error(`POST ${r.status} ${r.body}`);
  return JSON.parse(r.body).UUID;
}

/**
 * Polls the A_A batch route every `pollMs` (the first poll after `firstMs`) until the batch is Complete; throws on
 * Error or Crash. Resolves to the last batch document.
 */
export async function untilComplete(url, uuid, pollMs, firstMs = pollMs) {
  await sleep(firstMs);
  for (;;) {
    const r = await request('GET', `${url}/analytics_automated/submission/${uuid}`);
    const batch = JSON.parse(r.body);
    if (batch.state === 'Complete') return batch;
    if (batch.state === 'Error' || batch.state === 'Crash') throw new Error(`${uuid}: ${r.body}`);
    await sleep(pollMs);
  }
}

export function admin(server, method, route, json) {
  const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
  return request(method, `${server.url}/api/admin${route}`, body, {
    Authorization: `Bearer ${server.token}`,
    ...(body ? { 'Content-Type': 'application/json' } : {}),
  });
}

export function multipart(fields, fileContent, fileName = 'in.txt') {
  const boundary = '----bench' + Math.random().toString(16).slice(2);
  const parts = [];
  for (const [k, v] of fields) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (fileContent) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="input_data"; filename="${fileName}"\r\nContent-Type: text/plain\r\n\r\n`));
    parts.push(fileContent);
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), ctype: `multipart/form-data; boundary=${boundary}` };
}

export const now = () => Number(process.hrtime.bigint()) / 1e6;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return null;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const round = (x, d = 2) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);

/** Runs `count` calls with at most `conc` in flight. */
export async function pool(count, conc, fn) {
  let next = 0;
  const results = new Array(count);
  const t0 = now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < count) {
        const i = next++;
        const s = now();
        try {
          results[i] = { ok: true, value: await fn(i), ms: now() - s };
        } catch (error) {
          results[i] = { ok: false, error: String(error.message ?? error), ms: now() - s };
        }
      }
    }),
  );
  return { results, wallMs: now() - t0 };
}

export function rssKb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+)/)[1]);
}

/** CPU time a process has used so far, ms: user, system (kernel), their sum, and that of its reaped children. */
export function cpuTimes(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime, in clock ticks (USER_HZ is 100).
  const user = Number(fields[11]) * 10;
  const sys = Number(fields[12]) * 10;
  // cutime + cstime: children it has waited for.
  const children = (Number(fields[13]) + Number(fields[14])) * 10;
  return { user, sys, total: user + sys, children };
}

export const cpuMs = (pid) => cpuTimes(pid).total;

export function machine() {
  return `${os.cpus().length} × ${os.cpus()[0].model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** Replaces the section under `## heading` in bench/RESULTS.md (other sections are left alone). */
export function recordSection(heading, markdown) {
  const file = path.join(ROOT, 'bench', 'RESULTS.md');
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmark results\n\nFigures recorded by the scripts in bench/; each section is rewritten by its own script.\n';
  const marker = `## ${heading}`;
  const start = current.indexOf(marker);
  let next;
  if (start === -1) next = `${current.trimEnd()}\n\n${marker}\n\n${markdown.trim()}\n`;
  else {
    const after = current.indexOf('\n## ', start + marker.length);
    next = current.slice(0, start) + `${marker}\n\n${markdown.trim()}\n` + (after === -1 ? '' : current.slice(after));
  }
  fs.writeFileSync(file, next);
}
