// Scale-out: jobs run on `aa worker` processes through BullMQ on a real redis-server; files travel over the worker API.
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import express from 'express';
import { Queue } from 'bullmq';
import { workerAdminRoutes } from '../../src-main/server/routes/worker-api';
import { addJob, addTask } from '../support/config';
import { redisOptions } from '../../src-main/core/queue/protocol';
import { createWorkerToken, revokeWorkerToken } from '../../src-main/core/queue/worker-registry';
import {
  finished,
  script,
  startRedis,
  startScaleOutServer,
  startWorkerProcess,
  submit,
  tempDir,
  text,
  waitUntil,
  type Proc,
  type RedisProcess,
  type ScaleOutServer,
} from './scaleout-harness';

let redis: RedisProcess;
let t: ScaleOutServer;
const workers: Proc[] = [];
const scripts = tempDir('aa-scaleout-scripts-');
const who = script(scripts, 'who.sh', 'sleep "${1:-0}"\necho "${AA_TEST_WORKER:-server}"\n');

function configure(s: ScaleOutServer): void {
  const db = s.core.db;
  addTask(db, 'cat_in', 'cat $I1', { in_glob: '.input', out_glob: '.a', stdout_glob: '.a' });
  addTask(db, 'wc_c', 'wc -c $I1', { in_glob: '.a', out_glob: '.b', stdout_glob: '.b' });
  addTask(db, 'wc_l', 'wc -l $I1', { in_glob: '.a', out_glob: '.c', stdout_glob: '.c' });
  addTask(db, 'both', 'cat $I1 $I2', { in_glob: '.b,.c', out_glob: '.d', stdout_glob: '.d' });
  addJob(db, 'diamond', [
    ['cat_in', 0],
    ['wc_c', 1],
    ['wc_l', 1],
    ['both', 2],
  ]);
  addTask(db, 'who', `sh ${who} 0.4`, { out_glob: '.w', stdout_glob: '.w' });
  addJob(db, 'who', [['who', 0]]);
  addTask(db, 'hang', 'sleep 37.25', { out_glob: '.h', stdout_glob: '.h' });
  addTask(db, 'tmp', 'echo $TMP', { out_glob: '.t', stdout_glob: '.t' });
  addJob(db, 'tmp', [['tmp', 0]]);
  addJob(db, 'hang', [['hang', 0]]);
}

const workerApi = (s: ScaleOutServer, route: string, token = s.token) => fetch(`${s.url}/api/worker${route}`, { headers: { Authorization: `Bearer ${token}` } });

beforeAll(async () => {
  redis = await startRedis();
  t = await startScaleOutServer(redis.url, { env: { AA_SCALEOUT_HEARTBEAT_MS: '500' } });
  configure(t);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await t?.close();
  await redis?.stop();
});

describe('scale-out with two remote workers', () => {
  beforeAll(async () => {
    workers.push(await startWorkerProcess(t.url, t.token, { name: 'w1' }));
    workers.push(await startWorkerProcess(t.url, t.token, { name: 'w2' }));
  });

  it('runs a multi-step job with a parallel layer on the workers and collects results as in local mode', async () => {
    const uuid = await submit(t.url, 'diamond', 'hello\nworld\n');
    const sub = await finished(t.url, uuid);
    expect(sub.state).toBe('Complete');
    expect(sub.last_message).toBe('Completed job at step #3');
    expect(sub.results.map((r) => [r.name, r.step]).sort()).toEqual([
      ['both', 3],
      ['cat_in', 1],
      ['wc_c', 2],
      ['wc_l', 2],
    ]);
    const d = sub.results.find((r) => r.name === 'both');
    expect(await text(t.url, d!.data_path)).toBe(`12 ${uuid}.a\n2 ${uuid}.a\n`);
    const attempts = t.core.db.prepare('SELECT a.state FROM attempt a JOIN submission s ON s.id = a.submission_id WHERE s.uuid = ?').all(uuid) as Array<{
      state: string;
    }>;
    expect(attempts.map((a) => a.state)).toEqual(['done', 'done', 'done', 'done']);
  }, 90_000);

  it("renders $TMP on a worker as the worker's own root, not the server's", async () => {
    const uuid = await submit(t.url, 'tmp');
    const sub = await finished(t.url, uuid);
    expect(sub.state, sub.last_message).toBe('Complete');
    const printed = (await text(t.url, sub.results[0].data_path)).trim();
    // The workers run with the default --work-dir, the system temporary folder they inherited.
    expect(printed).toBe(os.tmpdir());
    expect(printed).not.toBe(t.core.paths.work);
  });

  it('spreads parallel jobs over both workers', async () => {
    const uuids = await Promise.all(Array.from({ length: 6 }, () => submit(t.url, 'who')));
    const subs = await Promise.all(uuids.map((u) => finished(t.url, u)));
    expect(subs.map((s) => s.state)).toEqual(Array(6).fill('Complete'));
    const ranOn = await Promise.all(subs.map(async (s) => (await text(t.url, s.results[0].data_path)).trim()));
    expect(new Set(ranOn)).toEqual(new Set(['w1', 'w2']));
  }, 90_000);

  it('leaves no job behind in Redis and no staged file on the server once results are collected', async () => {
    const queue = new Queue('localhost', { connection: redisOptions(redis.url), prefix: t.core.scaleOut!.prefix });
    try {
      const counts = await queue.getJobCounts('wait', 'prioritized', 'active', 'completed', 'failed', 'delayed');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    } finally {
      await queue.close();
    }
  }, 90_000);

  it('lists the workers with host, queues, concurrency and load through the worker API', async () => {
    const res = await workerApi(t, '/workers');
    expect(res.status).toBe(200);
    const { workers: listed } = (await res.json()) as { workers: Array<Record<string, unknown>> };
    const online = listed.filter((w) => w.state === 'online');
    expect(online).toHaveLength(2);
    for (const w of online) expect(w).toMatchObject({ host: os.hostname(), queues: ['localhost'], concurrency: 1, token: 'test' });
    await waitUntil('heartbeats with the load after the jobs above', async () => {
      const body = (await (await workerApi(t, '/workers')).json()) as { workers: Array<{ completed: number; running: number }> };
      return body.workers.reduce((n, w) => n + w.completed, 0) >= 10 && body.workers.every((w) => w.running === 0);
    });
  }, 90_000);

  it('cancels a step running on a worker: the run is Cancelled and the worker kills its process', async () => {
    const uuid = await submit(t.url, 'hang');
    const running = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes('sleep 37.25');
    await waitUntil('the step to run on a worker', running);
    // A remote process id means nothing on this machine, so none is recorded while it runs (cancel and recovery kill by pid).
    const attempt = t.core.db.prepare('SELECT a.state, a.pid FROM attempt a JOIN submission s ON s.id = a.submission_id WHERE s.uuid = ?').get(uuid);
    expect(attempt).toEqual({ state: 'running', pid: null });
    expect(await t.core.cancel(uuid)).toBe(true);
    expect((await finished(t.url, uuid)).state).toBe('Cancelled');
    await waitUntil('the worker to kill the process', () => !running(), 5_000);
  }, 90_000);

  it('shows a worker that stopped cleanly as stopped', async () => {
    const w2 = workers.pop()!;
    expect(await w2.kill('SIGTERM')).toBe(0);
    const { workers: listed } = (await (await workerApi(t, '/workers')).json()) as { workers: Array<{ state: string }> };
    expect(listed.map((w) => w.state).sort()).toEqual(['online', 'stopped']);
  }, 90_000);
});

describe('worker tokens', () => {
  beforeAll(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
  });

  it('refuses a wrong token: 401 and no Redis address', async () => {
    const res = await workerApi(t, '/config', 'aaw_not-a-real-token');
    expect(res.status).toBe(401);
    const body = await res.text();
    expect(body).not.toContain('redis://');
    expect(JSON.parse(body)).toEqual({ error: 'missing, wrong or revoked worker token' });
    expect((await fetch(`${t.url}/api/worker/workers`)).status).toBe(401);
  }, 90_000);

  it('gives a worker with a bad or revoked token nothing: it exits and queued steps wait for a trusted worker', async () => {
    const uuid = await submit(t.url, 'who');
    const bad = await startWorkerProcess(t.url, 'aaw_wrong', { waitReady: false });
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toMatch(/refused the worker token/);

    const revoked = createWorkerToken(t.core.db, 'old laptop');
    expect(revokeWorkerToken(t.core.db, revoked.id)).toBe(1);
    expect((await workerApi(t, '/config', revoked.token)).status).toBe(401);
    const stale = await startWorkerProcess(t.url, revoked.token, { waitReady: false });
    expect(await stale.exited).toBe(1);

    const sub = t.core.runs.submission(uuid)!;
    expect(sub.status).toBeLessThan(2);
    const good = await startWorkerProcess(t.url, t.token, { name: 'trusted' });
    try {
      const done = await finished(t.url, uuid);
      expect((await text(t.url, done.results[0].data_path)).trim()).toBe('trusted');
    } finally {
      await good.kill('SIGTERM');
    }
  }, 90_000);

  it('stops a running worker whose token is revoked', async () => {
    const own = createWorkerToken(t.core.db, 'to revoke');
    const w = await startWorkerProcess(t.url, own.token);
    revokeWorkerToken(t.core.db, 'to revoke');
    expect(await w.exited).toBe(1);
    expect(w.output()).toMatch(/refused this worker token/);
  }, 90_000);
});

describe('workbench handlers for worker tokens and the worker table', () => {
  let app: http.Server;
  let base: string;
  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(base + route, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };

  beforeAll(async () => {
    // Mounted as the admin router will mount them (behind its own token check).
    const router = express.Router();
    router.use(express.json());
    workerAdminRoutes(router, t.core);
    const a = express();
    a.use(router);
    a.use((error: { message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(400).json({ error: error.message });
    });
    app = a.listen(0, '127.0.0.1');
    await new Promise((r) => app.once('listening', r));
    base = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
  });

  afterAll(() => new Promise<void>((r) => app.close(() => r())));

  it('creates a token (shown once), lists tokens without secrets, revokes, and lists the workers', async () => {
    const created = await call('POST', '/worker-tokens', { name: 'bench pc' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'bench pc', token: expect.stringMatching(/^aaw_/) });
    expect((await workerApi(t, '/config', created.body.token)).status).toBe(200);
    const listed = await call('GET', '/worker-tokens');
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    expect(listed.body.tokens.find((k: { id: number }) => k.id === created.body.id)).toMatchObject({ name: 'bench pc', revoked_at: null });
    expect((await call('DELETE', `/worker-tokens/${created.body.id}`)).status).toBe(204);
    expect((await workerApi(t, '/config', created.body.token)).status).toBe(401);
    const workersView = await call('GET', '/workers');
    expect(workersView.body.scale_out).toBe(true);
    expect(workersView.body.workers.length).toBeGreaterThan(0);
  }, 90_000);
});

describe('local and remote workers on the same queue', () => {
  let mixed: ScaleOutServer;
  let remote: Proc;

  beforeAll(async () => {
    mixed = await startScaleOutServer(redis.url, { localWorker: true, settings: { concurrency: 1 } });
    configure(mixed);
    remote = await startWorkerProcess(mixed.url, mixed.token, { name: 'remote' });
  });

  afterAll(async () => {
    await remote?.kill('SIGTERM');
    await mixed?.close();
  });

  it('runs steps both in the server process and on the remote worker', async () => {
    const uuids = await Promise.all(Array.from({ length: 6 }, () => submit(mixed.url, 'who')));
    const subs = await Promise.all(uuids.map((u) => finished(mixed.url, u)));
    expect(subs.map((s) => s.state)).toEqual(Array(6).fill('Complete'));
    const ranOn = await Promise.all(subs.map(async (s) => (await text(mixed.url, s.results[0].data_path)).trim()));
    expect(new Set(ranOn)).toEqual(new Set(['server', 'remote']));
  }, 90_000);

  it('keeps two servers on one Redis apart (each has its own BullMQ prefix)', () => {
    expect(mixed.core.scaleOut!.prefix).not.toBe(t.core.scaleOut!.prefix);
  });
});
