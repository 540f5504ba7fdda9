// Scale-out faults, with a real redis-server and real `aa worker` / `aa serve` processes: a worker killed mid-step,
// Redis restarted (and wiped) while steps wait, the server killed while workers run, and a worker cut off from files.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { addJob, addTask } from '../support/config';
import { openDb, type Db } from '../../src-main/core/store/db';
import { redisOptions } from '../../src-main/core/queue/protocol';
import {
  finished,
  freePort,
  script,
  startRedis,
  startScaleOutServer,
  startServeProcess,
  startWorkerProcess,
  submit,
  tempDir,
  text,
  tokenFor,
  waitUntil,
  type Proc,
  type RedisProcess,
  type ScaleOutServer,
} from './scaleout-harness';

/** Short BullMQ lock and stall checks, so a dead worker's step moves on within seconds. */
const FAST = {
  AA_SCALEOUT_LOCK_MS: '2000',
  AA_SCALEOUT_STALLED_MS: '1000',
  AA_SCALEOUT_HEARTBEAT_MS: '300',
  AA_SCALEOUT_SWEEP_MS: '500',
};

let redis: RedisProcess;
const procs: Proc[] = [];
const servers: ScaleOutServer[] = [];
const scripts = tempDir('aa-scaleout-scripts-');
const who = script(scripts, 'who.sh', 'sleep "${1:-0}"\necho "${AA_TEST_WORKER:-server}"\n');

function configure(db: Db): void {
  addTask(db, 'who', `sh ${who} 0`, { out_glob: '.w', stdout_glob: '.w' });
  addJob(db, 'who', [['who', 0]]);
  addTask(db, 'slow', `sh ${who} 3`, { out_glob: '.w', stdout_glob: '.w' });
  addJob(db, 'slow', [['slow', 0]]);
  addTask(db, 'slow_then_count', 'wc -c $I1', { in_glob: '.w', out_glob: '.n', stdout_glob: '.n' });
  addJob(db, 'slow_two', [
    ['slow', 0],
    ['slow_then_count', 1],
  ]);
}

async function server(env: Record<string, string> = FAST): Promise<ScaleOutServer> {
  const s = await startScaleOutServer(redis.url, { env });
  configure(s.core.db);
  servers.push(s);
  return s;
}

describe('a server short of disk space for results', () => {
  it("refuses a worker's result with 507 before writing it; the attempt fails saying why, and no partial file stays", async () => {
    const t = await server();
    await worker(t, 'short-disk', ['--transfer-tries', '2']);
    const uuid = await submit(t.url, 'slow');
    await runningOn(t.url, t.token);
    // More than any disk has: the reserve intake keeps cannot be met when the result arrives.
    t.core.updateSettings({ min_free_bytes: Number.MAX_SAFE_INTEGER });
    expect(await t.core.waitFor(uuid, 30_000)).toBe(true);
    const sub = t.core.runs.submission(uuid)!;
    expect(sub.status).toBe(3);
    expect(sub.last_message).toMatch(
      /could not send the step's results to http:\/\/127\.0\.0\.1:\d+: upload of ".*" failed after 2 tries: HTTP 507: Insufficient storage: the server's disk has .* free and needs at least .* to take this result\./,
    );
    const files = fs.readdirSync(t.core.paths.root, { recursive: true }) as string[];
    expect(files.filter((f) => f.includes('.part-'))).toEqual([]);
  }, 60_000);
});

async function worker(s: { url: string; token: string }, name: string, extra: string[] = []): Promise<Proc> {
  const w = await startWorkerProcess(s.url, s.token, { name, extra });
  procs.push(w);
  return w;
}

/** Workers report their load in heartbeats; wait until the named one runs a step. */
async function runningOn(url: string, token: string, count = 1): Promise<void> {
  await waitUntil('a worker to report a running step', async () => {
    const res = await fetch(`${url}/api/worker/workers`, { headers: { Authorization: `Bearer ${token}` } }).catch(() => null);
    if (!res?.ok) return false;
    const body = (await res.json()) as { workers: Array<{ running: number; state: string }> };
    return body.workers.filter((w) => w.state === 'online').reduce((n, w) => n + w.running, 0) >= count;
  });
}

const attemptsOf = (db: Db, uuid: string) =>
  db.prepare('SELECT a.state, a.message FROM attempt a JOIN submission s ON s.id = a.submission_id WHERE s.uuid = ? ORDER BY a.id').all(uuid) as Array<{
    state: string;
    message: string | null;
  }>;

beforeAll(async () => {
  redis = await startRedis();
});

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
  for (const s of servers.splice(0)) await s.close();
});

afterAll(async () => {
  await redis?.stop();
});

describe('a worker killed mid-step', () => {
  it('hands the step to another worker (BullMQ stalled-job handling) and the run completes', async () => {
    const t = await server();
    const w1 = await worker(t, 'w1');
    const uuid = await submit(t.url, 'slow');
    await runningOn(t.url, t.token);
    await worker(t, 'w2');
    await w1.kill('SIGKILL');
    const sub = await finished(t.url, uuid, 30_000);
    expect(sub.state).toBe('Complete');
    expect((await text(t.url, sub.results[0].data_path)).trim()).toBe('w2');
    // One attempt: the job changed hands inside BullMQ, the orchestrator saw nothing but a longer step.
    expect(attemptsOf(t.core.db, uuid).map((a) => a.state)).toEqual(['done']);
  }, 90_000);

  it('ends the run as Crash, with a clear message, once the step stalled more than allowed and no retries are left', async () => {
    const t = await server({ ...FAST, AA_SCALEOUT_MAX_STALLED: '0' });
    const w1 = await worker(t, 'w1');
    const uuid = await submit(t.url, 'slow');
    await runningOn(t.url, t.token);
    await worker(t, 'w2');
    await w1.kill('SIGKILL');
    const sub = await finished(t.url, uuid, 30_000);
    expect(sub.state).toBe('Crash');
    expect(sub.last_message).toMatch(/the workers running this step stopped before it finished/);
    expect(attemptsOf(t.core.db, uuid).map((a) => a.state)).toEqual(['crash']);
  }, 90_000);
});

describe('Redis restarted while steps are queued', () => {
  const waiting = async (t: ScaleOutServer, n: number) => {
    const queue = new Queue('localhost', { connection: redisOptions(redis.url), prefix: t.core.scaleOut!.prefix });
    try {
      await waitUntil(`${n} steps waiting in Redis`, async () => (await queue.getJobCountByTypes('prioritized', 'wait')) === n);
    } finally {
      await queue.close();
    }
  };

  it('loses nothing: the queued steps survive in the append-only file and run once a worker comes', async () => {
    const t = await server();
    const uuids = await Promise.all([1, 2, 3].map(() => submit(t.url, 'who')));
    await waiting(t, 3);
    await redis.restart();
    await worker(t, 'after-restart');
    const subs = await Promise.all(uuids.map((u) => finished(t.url, u)));
    expect(subs.map((s) => s.state)).toEqual(['Complete', 'Complete', 'Complete']);
    for (const s of subs) expect((await text(t.url, s.results[0].data_path)).trim()).toBe('after-restart');
  }, 90_000);

  it('queues the steps again from the server when Redis comes back empty', async () => {
    const t = await server();
    const uuids = await Promise.all([1, 2].map(() => submit(t.url, 'who')));
    await waiting(t, 2);
    await redis.restart({ wipe: true });
    await worker(t, 'after-wipe');
    const subs = await Promise.all(uuids.map((u) => finished(t.url, u)));
    expect(subs.map((s) => s.state)).toEqual(['Complete', 'Complete']);
  }, 90_000);
});

describe('the server restarted while remote workers run', () => {
  it('accepts their results after the restart and carries on with the next step', async () => {
    const dataDir = tempDir();
    const db = openDb(path.join(dataDir, 'workbench.sqlite'));
    configure(db);
    db.prepare("INSERT INTO setting (key, value) VALUES ('settings', ?)").run(JSON.stringify({ queue_hog_size: null, queue_hard_limit: null }));
    db.close();
    const token = tokenFor(dataDir);
    const port = await freePort();
    let serve = await startServeProcess(dataDir, port, redis.url, FAST);
    procs.push(serve);
    await worker({ url: serve.url, token }, 'survivor');
    const uuid = await submit(serve.url, 'slow_two', 'abc');
    await runningOn(serve.url, token);

    await serve.kill('SIGKILL'); // a crash: no clean shutdown
    // Down for longer than the step takes: the worker finishes meanwhile and retries its upload.
    await new Promise((r) => setTimeout(r, 3500));
    serve = await startServeProcess(dataDir, port, redis.url, FAST);
    procs.push(serve);

    const sub = await finished(serve.url, uuid, 40_000);
    expect(sub.state).toBe('Complete');
    const first = sub.results.find((r) => r.name === 'slow')!;
    expect((await text(serve.url, first.data_path)).trim()).toBe('survivor');
    const second = sub.results.find((r) => r.name === 'slow_then_count')!;
    expect((await text(serve.url, second.data_path)).trim()).toBe(`9 ${uuid}.w`);
    const check = openDb(path.join(dataDir, 'workbench.sqlite'));
    try {
      const attempts = attemptsOf(check, uuid);
      // The interrupted attempt is closed with the reason; its successor took over the same BullMQ job.
      expect(attempts.map((a) => a.state)).toEqual(['crash', 'done', 'done']);
      expect(attempts[0].message).toBe('the server restarted while a worker ran this attempt; the next attempt collects its result');
    } finally {
      check.close();
    }
    expect(fs.readdirSync(path.join(dataDir, 'remote'))).toEqual([]);
  }, 90_000);
});

describe('a worker that cannot reach the server for files', () => {
  it('retries with backoff, then fails the attempt with a message that says so', async () => {
    const t = await server();
    await worker(t, 'cut-off', ['--transfer-tries', '3']);
    await t.server.close(); // the HTTP side goes away; the core and Redis stay
    const input = path.join(tempDir(), 'in.txt');
    fs.writeFileSync(input, 'hello\n');
    const result = await t.core.submitAa(
      {
        fields: [
          ['job', 'who'],
          ['submission_name', 'cut-off'],
          ['email', 'a@b.com'],
        ],
        file: { field: 'input_data', path: input, originalName: 'in.txt', size: 6 },
      },
      { ip: '127.0.0.1', admin: true },
    );
    const uuid = result.submissions[0].uuid;
    const started = Date.now();
    expect(await t.core.waitFor(uuid, 30_000)).toBe(true);
    const sub = t.core.runs.submission(uuid)!;
    expect(sub.status).toBe(3);
    expect(sub.last_message).toMatch(/worker .* could not fetch the step's input files from http:\/\/127\.0\.0\.1:\d+: download of input ".*" failed after 3 tries: ECONNREFUSED/);
    // Two waits between three tries: about 0.5 s, then 1 s.
    expect(Date.now() - started).toBeGreaterThan(1000);
  }, 90_000);
});
