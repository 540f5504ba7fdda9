// A run's life beyond success: retries with backoff as separate attempts, task timeouts and job deadlines that kill
// the whole process group, cancel (queued steps never start, running groups die) and delete (cancel, then rows and files).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';
import { adminCall, faultScript as sh, processesWith, submitAa, until } from '../faults/harness';

let t: TestServer;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-life-'));
const admin = (method: string, p: string, body?: unknown) => adminCall({ url: t.url, token: t.server.token }, method, p, body);
// Each test's sleeps get their own duration, so the processes a test left behind can be told apart.
let marker = 3000;
const nextMarker = () => `${++marker}.${process.pid % 1000}`;

const messages = (uuid: string) =>
  (t.core.db.prepare('SELECT m.message FROM message m JOIN submission s ON s.id = m.submission_id WHERE s.uuid = ? ORDER BY m.id').all(uuid) as Array<{ message: string }>).map((m) => m.message);
const attempts = (uuid: string) =>
  t.core.db
    .prepare('SELECT a.step_key, a.attempt_no, a.state, a.message, a.pid, a.started_at, a.ended_at FROM attempt a JOIN submission s ON s.id = a.submission_id WHERE s.uuid = ? ORDER BY a.id')
    .all(uuid) as Array<{ step_key: string; attempt_no: number; state: string; message: string | null; pid: number | null; started_at: string; ended_at: string }>;

async function submit(job: string): Promise<string> {
  const r = await submitAa(t.url, { job });
  expect(r.status, r.text).toBe(201);
  return t.core.runs.submissionsOfBatch(t.core.runs.batch(r.body.UUID)!.id)[0].uuid;
}
const sub = (uuid: string) => t.core.runs.submission(uuid)!;
const runningPid = (uuid: string) => until(() => attempts(uuid).find((a) => a.state === 'running' && a.pid)?.pid, 'the attempt to start');

beforeAll(async () => {
  t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null, concurrency: 4 } });
});

afterAll(async () => {
  await t?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('retries', () => {
  it('retries a failing step with growing backoff, each try its own Attempt, until it succeeds', async () => {
    addTask(t.core.db, 'flaky', sh('flaky.sh', path.join(scratch, 'flaky-count'), 2), { retries: 2 });
    addJob(t.core.db, 'flaky', [['flaky', 0]]);
    const uuid = await submit('flaky');
    expect(await t.core.waitFor(uuid, 20_000)).toBe(true);
    expect(sub(uuid).status).toBe(2);
    const tries = attempts(uuid);
    expect(tries.map((a) => [a.attempt_no, a.state])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'done'],
    ]);
    expect(tries[0].message).toMatch(/Exit status 1/);
    // 250 ms before the second try, 500 ms before the third.
    expect(Date.parse(tries[1].started_at) - Date.parse(tries[0].ended_at)).toBeGreaterThanOrEqual(240);
    expect(Date.parse(tries[2].started_at) - Date.parse(tries[1].ended_at)).toBeGreaterThanOrEqual(490);
    expect(messages(uuid)).toEqual([
      'Submitted',
      'Running step: 1',
      'Retrying step: 1 (attempt 2 of 3)',
      'Running step: 1',
      'Retrying step: 1 (attempt 3 of 3)',
      'Running step: 1',
      'Completed job at step #1',
    ]);
  });

  it('ends in Error once the retries are spent, with every attempt kept', async () => {
    addTask(t.core.db, 'always_fails', 'false', { retries: 1 });
    addJob(t.core.db, 'always_fails', [['always_fails', 0]]);
    const uuid = await submit('always_fails');
    expect(await t.core.waitFor(uuid, 20_000)).toBe(true);
    expect(sub(uuid)).toMatchObject({ status: 3, last_message: expect.stringMatching(/^Unable to call commandRunner\.run_cmd\(\): Exit status 1/) });
    expect(attempts(uuid).map((a) => [a.attempt_no, a.state])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
    ]);
  });
});

describe('timeouts and deadlines', () => {
  it("a task's timeout kills its whole process group and ends the run with the reason", async () => {
    const m = nextMarker();
    addTask(t.core.db, 'hangs', sh('fork-and-wait.sh', m), { timeout: 1 });
    addJob(t.core.db, 'hangs', [['hangs', 0]]);
    const uuid = await submit('hangs');
    await until(() => processesWith(`sleep ${m}`).length === 2, 'the task and its child to run');
    expect(await t.core.waitFor(uuid, 10_000)).toBe(true);
    expect(sub(uuid)).toMatchObject({ status: 3, last_message: expect.stringMatching(/^Timed out after 1 s at step: 1 : sh .*fork-and-wait\.sh/) });
    await until(() => processesWith(`sleep ${m}`).length === 0, 'the process group to be gone', 5000);
  });

  it("a service's deadline stops the run wherever it is, killing running groups, with a clear message", async () => {
    const m = nextMarker();
    addTask(t.core.db, 'quick', 'echo quick', { out_glob: '.q', stdout_glob: '.q' });
    addTask(t.core.db, 'dawdles', sh('fork-and-wait.sh', m), { in_glob: '.q' });
    addTask(t.core.db, 'never', 'echo never', { in_glob: '.out', out_glob: '.n', stdout_glob: '.n' });
    addJob(t.core.db, 'deadline', [['quick', 0], ['dawdles', 1], ['never', 2]]);
    const set = await admin('PUT', '/service-policies/deadline', { deadline_s: 2.5 });
    expect(set.body).toMatchObject({ job_name: 'deadline', deadline_s: 2.5 });
    const t0 = Date.now();
    const uuid = await submit('deadline');
    await until(() => processesWith(`sleep ${m}`).length === 2, 'step 2 to run');
    expect(await t.core.waitFor(uuid, 10_000)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(sub(uuid)).toMatchObject({ status: 3, last_message: 'Deadline exceeded: deadline may take 2.5 s; stopped during step 2' });
    // The run's end is recorded at once; the killed attempt records itself as its process exits.
    const tries = await until(() => (attempts(uuid)[1]?.state === 'cancelled' ? attempts(uuid) : null), 'the stopped attempt to be recorded');
    expect(tries.map((a) => [a.step_key, a.state])).toEqual([
      ['s1', 'done'],
      ['s2', 'cancelled'],
    ]);
    expect(tries[1].message).toBe('Deadline exceeded: deadline may take 2.5 s; stopped during step 2');
    await until(() => processesWith(`sleep ${m}`).length === 0, 'the process group to be gone', 5000);
    // A_A clients see the batch end as Error.
    expect(t.core.runs.batch(sub(uuid).batch_uuid)?.status).toBe(3);
  });

  it('the global deadline setting applies to services without their own', async () => {
    const m = nextMarker();
    addTask(t.core.db, 'dawdles2', sh('fork-and-wait.sh', m));
    addJob(t.core.db, 'dawdles2', [['dawdles2', 0]]);
    t.core.updateSettings({ job_deadline_s: 1 });
    try {
      const uuid = await submit('dawdles2');
      expect(await t.core.waitFor(uuid, 10_000)).toBe(true);
      expect(sub(uuid).last_message).toBe('Deadline exceeded: dawdles2 may take 1 s; stopped during step 1');
      await until(() => processesWith(`sleep ${m}`).length === 0, 'the process group to be gone', 5000);
    } finally {
      t.core.updateSettings({ job_deadline_s: null });
    }
  });
});

describe('cancel', () => {
  it('kills the running group (children too); later steps never start; the run ends Cancelled', async () => {
    const m = nextMarker();
    addTask(t.core.db, 'blocks', sh('fork-and-wait.sh', m), { out_glob: '.b', stdout_glob: '.b' });
    addTask(t.core.db, 'after_block', 'echo after', { in_glob: '.b', out_glob: '.a', stdout_glob: '.a' });
    addJob(t.core.db, 'cancel_me', [['blocks', 0], ['after_block', 1]]);
    const uuid = await submit('cancel_me');
    await runningPid(uuid);
    await until(() => processesWith(`sleep ${m}`).length === 2, 'the task and its child to run');
    const r = await admin('POST', `/runs/${uuid}/cancel`);
    expect(r.body).toEqual({ cancelled: true });
    expect(sub(uuid)).toMatchObject({ status: 5, last_message: 'Cancelled' });
    await until(() => processesWith(`sleep ${m}`).length === 0, 'the process group to be gone', 5000);
    await until(() => attempts(uuid)[0]?.state === 'cancelled', 'the attempt to be recorded');
    expect(attempts(uuid).map((a) => a.step_key)).toEqual(['s1']);
    expect(messages(uuid).at(-1)).toBe('Cancelled');
    expect(t.core.runs.batch(sub(uuid).batch_uuid)?.status).toBe(3);
    expect((await admin('POST', `/runs/${uuid}/cancel`)).body).toEqual({ cancelled: false });
  });

  it('a queued submission that is cancelled never starts, even after the queue resumes', async () => {
    addTask(t.core.db, 'touches', `touch ${path.join(scratch, 'ran')}`);
    addJob(t.core.db, 'touches', [['touches', 0]]);
    t.core.pause();
    try {
      const uuid = await submit('touches');
      expect((await admin('POST', `/runs/${uuid}/cancel`)).body).toEqual({ cancelled: true });
      t.core.resume();
      await new Promise((r) => setTimeout(r, 500));
      expect(sub(uuid).status).toBe(5);
      expect(attempts(uuid)).toEqual([]);
      expect(fs.existsSync(path.join(scratch, 'ran'))).toBe(false);
    } finally {
      t.core.resume();
    }
  });

  it('deleting a running run cancels it first, then removes its rows and files', async () => {
    const m = nextMarker();
    addTask(t.core.db, 'blocks2', sh('fork-and-wait.sh', m));
    addJob(t.core.db, 'delete_me', [['blocks2', 0]]);
    const uuid = await submit('delete_me');
    const id = sub(uuid).id;
    await runningPid(uuid);
    expect(fs.existsSync(path.join(t.core.paths.uploads, uuid))).toBe(true);
    expect((await admin('DELETE', `/runs/${uuid}`)).status).toBe(204);
    await until(() => processesWith(`sleep ${m}`).length === 0, 'the process group to be gone', 5000);
    expect(t.core.runs.submission(uuid)).toBeUndefined();
    for (const table of ['attempt', 'result', 'message']) {
      expect((t.core.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE submission_id = ?`).get(id) as { n: number }).n).toBe(0);
    }
    expect(fs.existsSync(path.join(t.core.paths.uploads, uuid))).toBe(false);
    await until(() => !fs.existsSync(path.join(t.core.paths.work, uuid)), 'the working folder to go', 3000);
    expect((await admin('GET', `/runs/${uuid}`)).status).toBe(404);
    // The killed attempt's end was handled before the removal: nothing it wrote comes back afterwards.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fs.existsSync(path.join(t.core.paths.uploads, uuid))).toBe(false);
    expect((t.core.db.prepare('SELECT COUNT(*) AS n FROM attempt WHERE submission_id = ?').get(id) as { n: number }).n).toBe(0);
  });
});
