// Engine benchmarks: intake throughput, per-step overhead, burst completion, memory on a 1 GiB upload.
// Usage: npm run build && node bench/engine.mjs [--quick]   (writes the "Engine" section of bench/RESULTS.md)
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ROOT, tempDir, startServer, runCli, admin, request, pool, now, sleep, percentile, round, rssKb, machine, recordSection, cpuTimes, submitAa, untilComplete, BENCH_DIR } from './lib.mjs';

const quick = process.argv.includes('--quick');
const KIB = crypto.randomBytes(512).toString('hex'); // 1 KiB of text
const CONFIG = `format: aa-workbench/1
tasks:
  - { name: b_wc1, backend: local, executable: wc -c $I1, in_glob: .input, out_glob: .s1, stdout_glob: .s1 }
  - { name: b_wc2, backend: local, executable: wc -c $I1, in_glob: .s1, out_glob: .s2, stdout_glob: .s2 }
  - { name: b_wc3, backend: local, executable: wc -c $I1, in_glob: .s2, out_glob: .s3, stdout_glob: .s3 }
jobs:
  - name: bench1
    runnable: true
    steps: [{ key: a, task: b_wc1 }]
  - name: bench3
    runnable: true
    steps: [{ key: a, task: b_wc1 }, { key: b, task: b_wc2, after: [a] }, { key: c, task: b_wc3, after: [b] }]
`;

async function prepared({ paused = false } = {}) {
  const dataDir = tempDir('engine-');
  const cfg = path.join(dataDir, 'bench.yaml');
  fs.writeFileSync(cfg, CONFIG);
  await runCli(['import', cfg, '--data-dir', dataDir]);
  const server = await startServer({ dataDir, paused });
  const r = await admin(server, 'PUT', '/settings', { queue_hog_size: null, queue_hard_limit: null });
  if (r.status !== 200) throw new Error(`settings: ${r.status} ${r.body}`);
  return { server, dataDir };
}

/**
 * Data folders are removed when the whole bench is done, not after each part: on a file system without a journal,
 * ext4 makes every new inode skip those freed in the last 30 s one by one, so removing one part's ten thousand files
 * would slow the next part's file creation.
 */
const leftovers = [];
const removeAtEnd = (dir) => leftovers.push(dir);
process.on('exit', () => {
  for (const dir of leftovers) fs.rmSync(dir, { recursive: true, force: true });
});

const submit = (url, job, i) => submitAa(url, job, i, Buffer.from(KIB));

/** Accepted submissions/s, and the server's CPU time per submission (user and kernel, ms). */
async function intakeRate(url, clients, n, pid) {
  await pool(Math.min(200, n / 5), clients, (i) => submit(url, 'bench1', i)); // warm-up
  const cpu0 = cpuTimes(pid);
  const { results, wallMs } = await pool(n, clients, (i) => submit(url, 'bench1', i));
  const cpu1 = cpuTimes(pid);
  const ok = results.filter((r) => r.ok).length;
  if (ok !== n) throw new Error(`intake: ${n - ok} failed: ${results.find((r) => !r.ok)?.error}`);
  return { rps: ok / (wallMs / 1000), p50: percentile(results.map((r) => r.ms), 50), userMs: (cpu1.user - cpu0.user) / n, sysMs: (cpu1.sys - cpu0.sys) / n };
}

const INTAKE_ROUNDS = 3;

/** The round with the median of `key` (rounds ordered by it). */
const medianRound = (rounds, key) => [...rounds].sort((a, b) => key(a) - key(b))[(rounds.length - 1) >> 1];

async function benchIntake() {
  const n1 = quick ? 300 : 1000;
  const n8 = quick ? 1000 : 3000;
  // Baseline in the same run: bare busboy → file → SQLite (synchronous=FULL). Both run side by side and their
  // 8-client rounds alternate, so that the machine's drift meets both alike; the median round is the figure.
  const baseDir = tempDir('baseline-');
  const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'baseline-intake.cjs'), baseDir], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
  const baseUrl = await new Promise((resolve) => child.stdout.on('data', (d) => resolve(String(d).match(/(http:\/\/[^/\s]+)/)[1])));
  const { server, dataDir } = await prepared({ paused: true });
  const base1 = await intakeRate(baseUrl, 1, n1, child.pid);
  const ours1 = await intakeRate(server.url, 1, n1, server.pid);
  const rounds = [];
  for (let r = 0; r < INTAKE_ROUNDS; r++) {
    const base8 = await intakeRate(baseUrl, 8, n8, child.pid);
    const ours8 = await intakeRate(server.url, 8, n8, server.pid);
    rounds.push({ base8, ours8 });
  }
  child.kill();
  // Every accepted submission is durable and still queued (the queue is paused).
  const stored = await admin(server, 'GET', '/overview');
  await server.stop();
  removeAtEnd(dataDir);
  removeAtEnd(baseDir);
  return {
    base1,
    ours1,
    base8: medianRound(rounds, (r) => r.base8.rps).base8,
    ours8: medianRound(rounds, (r) => r.ours8.rps).ours8,
    rounds: rounds.map((r) => ({ ours: round(r.ours8.rps, 0), base: round(r.base8.rps, 0) })),
    overview: stored.body.slice(0, 200),
  };
}

/**
 * One job, client end to end, polling the A_A batch route every `pollMs` as the peers' client did (5 ms). The first
 * poll comes after a random fraction of the interval, so the finishing time is not rounded to the poll grid.
 * Also returns the server's own record of the run: accepted to finished (ms resolution), free of the client's polling.
 */
async function timedJob(url, job, i, pollMs) {
  const t0 = now();
  const uuid = await submit(url, job, i);
  const done = await untilComplete(url, uuid, pollMs, Math.random() * pollMs);
  const client = now() - t0;
  const run = JSON.parse((await request('GET', `${url}/api/v1/runs/${done.submissions[0].UUID}`)).body);
  return { client, server: Date.parse(run.finished_at) - Date.parse(run.submitted_at) };
}

/** How long spawning the steps' command takes from this process (spawnSync of `wc -c` on a 1 KiB file), ms. */
function commandTime(file) {
  const t0 = now();
  spawnSync('wc', ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  return now() - t0;
}

/** The posix_spawn addon the launchers start commands with, where the build made it (native/spawn). */
const SPAWN_ADDON = path.join(ROOT, 'native', 'spawn', 'build', 'Release', 'aa_spawn.node');
const launchersSpawn = fs.existsSync(SPAWN_ADDON) ? 'posix_spawn' : 'child_process';

/**
 * The same command timed from a Node process as small as a launcher (same flags), started as launchers start it: with
 * the posix_spawn addon where it is built (reading the pipes to their end, then reaping), else with child_process,
 * whose fork costs in proportion to the memory of the process that forks. The bench's own process is larger than a
 * launcher and forks, so its command time alone would credit or charge the engine for how the spawn is made.
 */
function smallSpawner(file) {
  const once = launchersSpawn === 'posix_spawn'
    ? `const fs = require('node:fs');
      const addon = { exports: {} };
      process.dlopen(addon, ${JSON.stringify(SPAWN_ADDON)});
      const env = Object.entries(process.env).map(([k, v]) => k + '=' + v);
      const buf = Buffer.alloc(65536);
      const pause = new Int32Array(new SharedArrayBuffer(4));
      const once = () => {
        const [pid, out, err] = addon.exports.spawn('wc', ['wc', '-c', ${JSON.stringify(file)}], env, process.cwd());
        for (const fd of [out, err]) {
          while (fs.readSync(fd, buf) > 0);
          fs.closeSync(fd);
        }
        while (addon.exports.reap(pid) === undefined) Atomics.wait(pause, 0, 0, 0.02);
      };`
    : `const { spawnSync } = require('node:child_process');
      const once = () => spawnSync('wc', ['-c', ${JSON.stringify(file)}], { stdio: ['ignore', 'pipe', 'pipe'] });`;
  const code = `${once}
    require('node:readline').createInterface({ input: process.stdin }).on('line', (n) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < Number(n); i++) once();
      process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6) + '\\n');
    });`;
  const child = spawn(process.execPath, ['--max-semi-space-size=1', '--v8-pool-size=0', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = [];
  let buffered = '';
  child.stdout.on('data', (d) => {
    buffered += d;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      waiting.shift()(Number(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
    }
  });
  return {
    /** ms taken by `n` spawns of the command, one after another. */
    time: (n = 1) => new Promise((resolve) => {
      waiting.push(resolve);
      child.stdin.write(`${n}\n`);
    }),
    stop: () => child.kill(),
  };
}

const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 5);
const ROUNDS = 5;

async function benchStepOverhead() {
  const n = quick ? 30 : 100;
  const { server, dataDir } = await prepared();
  const dir = tempDir('cmd-');
  removeAtEnd(dir);
  const file = path.join(dir, 'x.input');
  fs.writeFileSync(file, KIB);
  const small = smallSpawner(file);
  for (let i = 0; i < 20; i++) await timedJob(server.url, i % 2 ? 'bench3' : 'bench1', i, POLL_MS); // warm-up
  const rounds = [];
  // The 1-step and 3-step jobs alternate job by job, with two command spawns after each pair, so that the
  // machine's drift meets all three alike; the median of five rounds is the figure.
  for (let r = 0; r < ROUNDS; r++) {
    const one = [];
    const three = [];
    const cmd = [];
    const cmdSmall = [];
    for (let i = 0; i < n; i++) {
      one.push(await timedJob(server.url, 'bench1', i, POLL_MS));
      three.push(await timedJob(server.url, 'bench3', i, POLL_MS));
      cmd.push(commandTime(file), commandTime(file));
      cmdSmall.push(await small.time(), await small.time());
    }
    const p50 = (list, key) => percentile(list.map((x) => x[key]), 50);
    const c = percentile(cmd, 50);
    const cSmall = percentile(cmdSmall, 50);
    rounds.push({
      cmdSmall: cSmall,
      overheadSmall: (p50(three, 'client') - p50(one, 'client')) / 2 - cSmall,
      one: p50(one, 'client'),
      three: p50(three, 'client'),
      cmd: c,
      overhead: (p50(three, 'client') - p50(one, 'client')) / 2 - c,
      serverOne: p50(one, 'server'),
      serverThree: p50(three, 'server'),
      serverOverhead: (p50(three, 'server') - p50(one, 'server')) / 2 - c,
    });
  }
  small.stop();
  await server.stop();
  removeAtEnd(dataDir);
  const all = rounds.map((r) => round(r.overhead));
  const inServer = rounds.map((r) => r.serverOverhead).sort((a, b) => a - b)[(ROUNDS - 1) / 2];
  const mid = [...rounds].sort((a, b) => a.overheadSmall - b.overheadSmall)[(ROUNDS - 1) / 2];
  return { ...medianRound(rounds, (r) => r.overhead), all, inServer, small: { overhead: mid.overheadSmall, cmd: mid.cmdSmall, all: rounds.map((r) => round(r.overheadSmall)) } };
}

/**
 * CPU time (ms) of the server, of its launcher processes, and of the commands they ran and reaped (which the
 * kernel adds to the launchers' children's time).
 */
function treeCpu(pid) {
  const launchers = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const sum = (f) => launchers.reduce((a, p) => a + f(p), 0);
  const own = cpuTimes(pid);
  return { server: own.total, serverSys: own.sys, launchers: sum((p) => cpuTimes(p).total), commands: sum((p) => cpuTimes(p).children) };
}

const BURST_ROUNDS = 5;

/**
 * One burst of `n` jobs on a running server. Completed jobs/s is taken from the server's record, first POST to the
 * last run's finish, as the scale-out bench does; one client polls the batches in turn meanwhile, pausing 10 ms between
 * polls as the peers' burst client did (a client polling back to back takes the cores the runs need).
 */
/** Busy and total CPU time of the whole machine so far (jiffies), from /proc/stat. */
function machineCpu() {
  const [, ...f] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const idle = f[3] + f[4];
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

async function burstOnce(server, n) {
  const machine0 = machineCpu();
  const cpu0 = treeCpu(server.pid);
  const own0 = process.cpuUsage();
  const t0 = now();
  const wall0 = Date.now();
  const { results } = await pool(n, 8, (i) => submit(server.url, 'bench1', i));
  const postedMs = now() - t0;
  const ownPosted = process.cpuUsage(own0);
  const pending = results.map((r) => r.value);
  const batches = [...pending];
  let polls = 0;
  while (pending.length) {
    const uuid = pending.shift();
    const r = await request('GET', `${server.url}/analytics_automated/submission/${uuid}`);
    polls += 1;
    const state = JSON.parse(r.body).state;
    if (state === 'Error' || state === 'Crash') throw new Error(`burst ${uuid}: ${r.body}`);
    if (state !== 'Complete') pending.push(uuid);
    await sleep(10);
  }
  const seenMs = now() - t0;
  const cpu1 = treeCpu(server.pid);
  const own1 = process.cpuUsage(own0);
  const machine1 = machineCpu();
  let last = 0;
  for (const uuid of batches) {
    const batch = JSON.parse((await request('GET', `${server.url}/analytics_automated/submission/${uuid}`)).body);
    const run = JSON.parse((await request('GET', `${server.url}/api/v1/runs/${batch.submissions[0].UUID}`)).body);
    last = Math.max(last, Date.parse(run.finished_at));
  }
  const wall = last - wall0;
  const perJob = (k) => round((cpu1[k] - cpu0[k]) / n);
  const busy = round((machine1.busy - machine0.busy) / (machine1.total - machine0.total), 2);
  return { jobsPerS: n / (wall / 1000), wallMs: wall, seenPerS: n / (seenMs / 1000), postedMs, polls, busy, cpuPerJob: { server: perJob('server'), serverKernel: perJob('serverSys'), launchers: perJob('launchers'), commands: perJob('commands'), clients: round((own1.user + own1.system) / 1000 / n), clientsPosting: round((ownPosted.user + ownPosted.system) / 1000 / n) } };
}

/**
 * The command alone at the same scale, for the burst's baseline: two small Node processes (as many as the server's
 * launchers) spawn it 200 times in all, back to back; spawns/s.
 */
async function bareSpawns(spawners) {
  const t0 = now();
  await Promise.all(spawners.map((s) => s.time(200 / spawners.length)));
  return 200 / ((now() - t0) / 1000);
}

async function benchBurst() {
  const { server, dataDir } = await prepared();
  const dir = tempDir('cmd-');
  removeAtEnd(dir);
  const file = path.join(dir, 'x.input');
  fs.writeFileSync(file, KIB);
  const spawners = [smallSpawner(file), smallSpawner(file)];
  // The first bursts on a fresh server also pay for V8 compiling its hot paths (perf: about a fifth of the server's CPU
  // over the first thousand jobs): the first is recorded as the cold figure, then one more warms up before the rounds.
  const cold = await burstOnce(server, 200);
  await burstOnce(server, 200);
  await bareSpawns(spawners);
  const rounds = [];
  // Each burst follows a run of the bare command, so that both meet the machine as it is at that moment.
  for (let r = 0; r < BURST_ROUNDS; r++) {
    await sleep(300);
    const bare = await bareSpawns(spawners);
    await sleep(300);
    rounds.push({ ...(await burstOnce(server, 200)), bare });
  }
  for (const s of spawners) s.stop();
  await server.stop();
  removeAtEnd(dataDir);
  return {
    ...medianRound(rounds, (r) => r.jobsPerS),
    all: rounds.map((r) => round(r.jobsPerS, 0)),
    bareAll: rounds.map((r) => round(r.bare, 0)),
    ratio: rounds.map((r) => r.jobsPerS / r.bare).sort((a, b) => a - b)[(BURST_ROUNDS - 1) / 2],
    cold: round(cold.jobsPerS, 0),
  };
}

async function benchMemory() {
  const size = quick ? 256 * 2 ** 20 : 2 ** 30;
  const { server, dataDir } = await prepared({ paused: true });
  const before = rssKb(server.pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKb(server.pid))), 20);
  const boundary = '----mem' + crypto.randomBytes(6).toString('hex');
  const head = Buffer.from(
    ['job', 'submission_name', 'email'].map((k, i) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${['bench1', 'big', 'bench@example.org'][i]}\r\n`).join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="input_data"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const u = new URL(server.url);
  const t0 = now();
  const status = await new Promise((resolve, reject) => {
    const req = http.request(
      { method: 'POST', hostname: u.hostname, port: u.port, path: '/analytics_automated/submission/', headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': head.length + size + tail.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.write(head);
    const chunk = crypto.randomBytes(1 << 20);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += piece.length;
        if (!req.write(piece)) return req.once('drain', pump);
      }
      req.end(tail);
    };
    pump();
  });
  const seconds = (now() - t0) / 1000;
  clearInterval(sampler);
  await server.stop();
  removeAtEnd(dataDir);
  return { status, sizeMiB: size / 2 ** 20, growthMiB: (peak - before) / 1024, seconds };
}

/**
 * What one HTTP request costs the serving process here: a bare node:http handler against our A_A batch status
 * route (what every polling client calls), server CPU per request (ms) over 2,000 sequential keep-alive GETs.
 */
async function benchRequestCost() {
  const n = 2000;
  const measure = async (pid, url) => {
    for (let i = 0; i < 200; i++) await request('GET', url);
    const c0 = cpuTimes(pid).total;
    for (let i = 0; i < n; i++) await request('GET', url);
    return (cpuTimes(pid).total - c0) / n;
  };
  const bare = spawn(process.execPath, ['-e', `const s = require('node:http').createServer((q, r) => { r.writeHead(200, { 'Content-Type': 'application/json' }); r.end('{"state":"Complete"}'); }).listen(0, '127.0.0.1', () => console.log(s.address().port));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => bare.stdout.once('data', (d) => resolve(String(d).trim())));
  const bareMs = await measure(bare.pid, `http://127.0.0.1:${port}/`);
  bare.kill();
  const { server, dataDir } = await prepared();
  const uuid = await submit(server.url, 'bench1', 0);
  await sleep(300);
  const oursMs = await measure(server.pid, `${server.url}/analytics_automated/submission/${uuid}`);
  await server.stop();
  removeAtEnd(dataDir);
  return { bareMs, oursMs };
}

const started = new Date().toISOString();
// --only=intake,step,burst,memory runs just those parts and records nothing (for looking into one figure).
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const parts = { intake: benchIntake, step: benchStepOverhead, burst: benchBurst, memory: benchMemory, request: benchRequestCost };
const figures = {};
for (const [name, fn] of Object.entries(parts)) {
  if (only && !only.includes(name)) continue;
  figures[name] = await fn();
  console.log(name, JSON.stringify(figures[name]));
}
if (only) process.exit(0);
const { intake, step, burst, memory, request: requestCost } = figures;

const cpu = (r) => `${round(r.userMs + r.sysMs)} ms (user ${round(r.userMs)}, kernel ${round(r.sysMs)})`;
const checks = [
  ['intake ≥ 1,000/s', intake.ours8.rps >= 1000],
  ['per-step ≤ 1.5 ms', step.overhead <= 1.5],
  ['burst ≥ 250 jobs/s', burst.jobsPerS >= 250],
  ['memory < 64 MB', memory.growthMiB * 1.048576 < 64],
];
const verdicts = { met: checks.filter(([, ok]) => ok).map(([n]) => n), missed: checks.filter(([, ok]) => !ok).map(([n]) => n) };
recordSection(
  'Engine: intake, per-step overhead, burst, memory',
  `Recorded ${started} by \`node bench/engine.mjs${quick ? ' --quick' : ''}\` on ${machine()}. Loopback; 1 KiB multipart uploads; each step runs \`wc -c\` on its input.
Data folders (ours and the baseline's) under ${BENCH_DIR.replace(process.env.HOME ?? "~", "~")} (BENCH_DIR), on the disk where users' data lives.

| figure | measured | baseline in the same run | ratio | target | peers |
|---|---|---|---|---|---|
| intake, 1 client, queue paused (accepted, durable submissions/s) | ${round(intake.ours1.rps, 0)} (p50 ${round(intake.ours1.p50)} ms) | bare busboy → file → SQLite FULL: ${round(intake.base1.rps, 0)} | ${round(intake.ours1.rps / intake.base1.rps)} | – | A_A 50.5 |
| intake, 8 clients, queue paused (median of ${intake.rounds.length} alternating rounds) | ${round(intake.ours8.rps, 0)} (p50 ${round(intake.ours8.p50)} ms; rounds: ${intake.rounds.map((r) => r.ours).join(', ')}) | ${round(intake.base8.rps, 0)} (rounds: ${intake.rounds.map((r) => r.base).join(', ')}) | ${round(intake.ours8.rps / intake.base8.rps)} | ≥ 1,000 | A_A 81.6 |
| server CPU per accepted submission (8 clients) | ${cpu(intake.ours8)} | ${cpu(intake.base8)} | ${round((intake.ours8.userMs + intake.ours8.sysMs) / (intake.base8.userMs + intake.base8.sysMs))} | – | – |
| per-step overhead: (3-step − 1-step p50) / 2 − command p50 | ${round(step.overhead)} ms (rounds: ${step.all.join(', ')}) | 1-step p50 ${round(step.one)} ms, 3-step p50 ${round(step.three)} ms, \`wc -c\` spawn p50 ${round(step.cmd)} ms | – | ≤ 1.5 ms | A_A 25.4, Node-RED 3.3, n8n 2.0 |
| the same, from the server's record (accepted → finished, median of rounds) | ${round(step.inServer)} ms | – | – | – | – |
| the same as the first, against the command started as launchers start it (${launchersSpawn}, from a process as small as a launcher) | ${round(step.small.overhead)} ms (rounds: ${step.small.all.join(', ')}) | \`wc -c\` spawn p50 from it ${round(step.small.cmd)} ms | – | – | – |
| burst: 200 one-step jobs by 8 clients, completed jobs/s (server's record; median of ${burst.all.length} bursts) | ${round(burst.jobsPerS, 0)} (${round(burst.wallMs / 1000)} s, of which posting ${round(burst.postedMs / 1000)} s; bursts: ${burst.all.join(', ')}, after two warm-up bursts, the first on the fresh server at ${burst.cold}; as the polling client saw it: ${round(burst.seenPerS, 0)}) | the command alone, 200 spawns (${launchersSpawn}) by two small processes: ${burst.bareAll.join(', ')} spawns/s (before each burst) | ${round(burst.ratio)} (median of bursts) | ≥ 250 | A_A 35–40 |
| CPU per burst job: server (of it kernel) / launchers / the \`wc\` commands / the clients while posting | ${round(burst.cpuPerJob.server)} (${round(burst.cpuPerJob.serverKernel)}) / ${round(burst.cpuPerJob.launchers)} / ${round(burst.cpuPerJob.commands)} / ${round(burst.cpuPerJob.clientsPosting)} ms | – | – | – | – |
| memory: server RSS growth during a ${memory.sizeMiB} MiB upload (HTTP ${memory.status}) | ${round(memory.growthMiB, 1)} MiB | – | – | < 64 MB | n8n/Node-RED hold uploads in memory |
| server CPU per status poll (A_A batch route) | ${round(requestCost.oursMs)} ms | bare node:http handler: ${round(requestCost.bareMs)} ms | ${round(requestCost.oursMs / requestCost.bareMs)} | – | – |

Per-step overhead is measured as the peers were: client end to end, one job at a time, polling the A_A batch route every
${POLL_MS} ms (the peers' client polled every 5 ms), the first poll after a random part of the interval so that finishing
times are not rounded to the poll grid; 1-step and 3-step jobs alternate, with two spawns of the command after each\npair (the command column); the median of five rounds is shown, each round listed. The burst's figure is the server's record, from the first POST to the last run's finish; one client polls the
batches in turn meanwhile, pausing 10 ms between polls as the peers' client did. The 1 GiB upload streamed at
${round(memory.sizeMiB / memory.seconds, 0)} MiB/s.

Where the time goes. Attempts run in small launcher processes, not in threads of the server: Linux \`fork\` copies the
page tables of the process that forks, and a spawn from the ~95 MB server cost 7–17 ms against ~2 ms from a small
process. Launchers start commands with \`posix_spawn\` (native/spawn), which shares the launcher's memory until
\`exec\` instead of copying its page tables: launcher and command CPU per attempt fell from 3.1–4.2 ms to 2.1–2.2 ms
(a launcher driven alone, three alternating rounds each), burst CPU per job from 4.2–4.5 to 3.3–3.4 ms for the two.
The issue's command column is a spawn (\`fork\`) from this bench's own, larger Node process, which credits the engine
with the launcher's cheaper start and can make that row negative; the row below it subtracts the command started as a
launcher starts it, from a process as small as one, and is the engine's own cost per step. Per step there remain two
messages between the server and a launcher (the attempt and its outcome; an attempt that runs past 20 ms also reports
its pid on the way), moving the results beside the input, and one SQLite commit: a quick attempt is stored once, start
and end, in the commit that records its results and the run's new state. A launcher gets its next attempt as soon as
a process ends, while the server records the one before. A fresh server's first bursts also pay for V8 compiling its
hot paths (perf during the first thousand jobs: about a fifth of the server's CPU in the optimizing compiler), hence
the cold figure beside the rounds.
Working folders are reused: a run's next step takes the emptied folder of the one before, and a finished run's folder
goes to a later run (checked empty when taken). This machine's disk is ext4 without a journal, where every new inode
skips, one by one, the inodes freed in its block group in the last minutes: making and removing a folder per job made
every later file creation dearer (the server's kernel time per burst job fell from 3.4 ms to 1.1–1.6 ms once folders
stopped being removed), which is also why the bench removes its data folders only when it is done and makes each
part's folder in a block group of its own (\`chattr +T\` on the bench folder; in the group an earlier run emptied,
creating a file or folder cost 0.6 ms of kernel time against 0.04–0.08 ms). In a burst the
machine's CPU per job is the sum of the last burst row (plus the polling client's); on two cores that sum bounds the
rate, and the same work costs up to 1.7× more CPU when the host is busy (run-to-run spread of the burst rows).
The rest is CPU on two shared cores: every HTTP request costs
the server the figure in the last row (a bare node:http handler costs the one beside it), the polling client and the
server share the cores with the launchers and the commands, and intake does more than the bare baseline (A_A's checks,
the plan, quotas, security headers, one durable group commit): ${round((intake.ours8.userMs + intake.ours8.sysMs) / (intake.base8.userMs + intake.base8.sysMs), 1)}× the
baseline's CPU per submission in this run. Targets met in this run: ${verdicts.met.join(', ') || 'none'}; not met: ${verdicts.missed.join(', ') || 'none'}.`,
);
console.log('recorded in bench/RESULTS.md');
process.exit(0);
