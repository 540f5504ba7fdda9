// Scheduled runs on a real server: a cron that fires every second submits the Job with its stored parameters and input file.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, LAUNCHER_FILE, type TestServer } from '../support/server';
import { createCore } from '../../src-main/core';
import { addJob, addTask } from '../support/config';
import { cronPreview } from '../../src-main/core/schedule/scheduler';

let t: TestServer;
const dataDir = tempDir('aa-schedule-');

const admin = (p: string, init: RequestInit = {}) =>
  fetch(`${t.url}/api/admin${p}`, {
    ...init,
    headers: {
      Authorization: `Bearer ${t.server.token}`,
      ...(typeof init.body === 'string' ? { 'Content-Type': 'application/json' } : {}),
      ...(init.headers ?? {}),
    },
  });
const json = async (p: string, init: RequestInit = {}) => {
  const res = await admin(p, init);
  return { status: res.status, body: (await res.json()) as any };
};

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function resultText(batchUuid: string, task: string): string {
  const sub = t.core.runs.submissionsOfBatch(t.core.runs.batch(batchUuid)!.id)[0];
  const result = t.core.runs.results(sub.id).find((r) => r.task_name === task);
  return result ? fs.readFileSync(path.join(t.core.paths.root, result.path), 'utf8') : '';
}

beforeAll(async () => {
  t = await startTestServer({ dataDir, settings: { queue_hog_size: null, queue_hard_limit: null } });
  // Two steps of one layer: one shows the parameter, the other the input file.
  addTask(t.core.db, 'show_word', 'printf [%s] $P1', { parameters: [{ flag: 'w', alias: 'word', switchless: true }] });
  addTask(t.core.db, 'show_input', 'cat $I1');
  addTask(t.core.db, 'with_default', 'echo $P1', { parameters: [{ flag: '--n', alias: 'n', default: '3' }] });
  addJob(t.core.db, 'nightly', [['show_word', 0], ['show_input', 0]], { runnable: false });
  addJob(t.core.db, 'defaults', [['with_default', 0]]);
});

afterAll(async () => {
  await t?.close();
});

describe('scheduled runs', () => {
  let id = 0;

  it('a schedule is created with its input file and parameters; its next firing is shown', async () => {
    const form = new FormData();
    form.append('job', 'nightly');
    form.append('cron', '* * * * * *');
    form.append('params', JSON.stringify({ show_word_word: 'hello' }));
    form.append('submission_name', 'every second');
    form.append('input_data', new Blob(['scheduled input\n']), 'data.txt');
    const res = await admin('/schedules', { method: 'POST', body: form });
    expect(res.status).toBe(201);
    const created = (await res.json()) as any;
    id = created.id;
    expect(created).toMatchObject({
      job: 'nightly',
      cron: '* * * * * *',
      params: { show_word_word: 'hello' },
      input_name: 'data.txt',
      input_size: 16,
      enabled: true,
      runs: 0,
    });
    const next = Date.parse(created.next_run_at);
    expect(next).toBeGreaterThan(Date.now() - 100);
    expect(next).toBeLessThanOrEqual(Date.now() + 1100);
    expect((await json('/schedules')).body.map((s: any) => s.id)).toContain(id);
    expect(await (await admin(`/schedules/${id}/input`)).text()).toBe('scheduled input\n');
  });

  it('each firing is a normal admin submission of the Job (even though it is not runnable) with the stored parameters and input', async () => {
    const fired = await until(
      async () => (await json(`/schedules/${id}`)).body,
      (s) => s.runs >= 2 && !!s.last_batch_uuid,
    );
    expect(fired.runs).toBeGreaterThanOrEqual(2);
    expect(fired.last_error).toBeNull();
    const batch = fired.last_batch_uuid as string;
    const sub = t.core.runs.submissionsOfBatch(t.core.runs.batch(batch)!.id)[0];
    expect(sub).toMatchObject({ job_name: 'nightly', submission_name: 'every second', email: 'nobody@localhost', ip: '127.0.0.1', priority: 2, input_name: 'data.txt' });
    expect(await t.core.waitFor(sub.uuid, 10_000)).toBe(true);
    expect(resultText(batch, 'show_word')).toBe('[hello]');
    expect(resultText(batch, 'show_input')).toBe('scheduled input\n');
  });

  it('a disabled schedule has no next firing and stops submitting; enabling it again resumes', async () => {
    const off = await json(`/schedules/${id}`, { method: 'PATCH', body: JSON.stringify({ enabled: false }) });
    expect(off.body).toMatchObject({ enabled: false, next_run_at: null });
    const runs = off.body.runs as number;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await json(`/schedules/${id}`)).body.runs).toBeLessThanOrEqual(runs + 1);
    const on = await json(`/schedules/${id}`, { method: 'PATCH', body: JSON.stringify({ enabled: true, cron: '0 0 1 1 *' }) });
    expect(on.body.next_run_at).toMatch(/-01-01T/);
  });

  it('schedules survive a restart and fire again', async () => {
    await json(`/schedules/${id}`, { method: 'PATCH', body: JSON.stringify({ cron: '*/1 * * * * *' }) });
    const before = (await json(`/schedules/${id}`)).body.runs as number;
    await t.close();
    t = await startTestServer({ dataDir, settings: { queue_hog_size: null, queue_hard_limit: null } });
    const after = await until(
      async () => (await json(`/schedules/${id}`)).body,
      (s) => s.runs > before,
    );
    expect(after.runs).toBeGreaterThan(before);
  });

  it('deleting a schedule stops it and removes its stored input', async () => {
    const folder = path.join(dataDir, 'schedules', String(id));
    expect(fs.existsSync(folder)).toBe(true);
    expect((await json(`/schedules/${id}`, { method: 'DELETE' })).body).toEqual({ deleted: true });
    expect(fs.existsSync(folder)).toBe(false);
    expect((await admin(`/schedules/${id}`)).status).toBe(404);
  });

  it("without a file a run gets A_A's dummy.txt holding \"empty\"; parameters default; run now submits at once", async () => {
    const created = await json('/schedules', { method: 'POST', body: JSON.stringify({ job: 'defaults', cron: '0 3 * * *', timezone: 'Europe/London' }) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ input_name: 'dummy.txt', input_size: 5, params: { with_default_n: '3' }, submission_name: 'defaults (scheduled)', timezone: 'Europe/London' });
    const run = await json(`/schedules/${created.body.id}/run`, { method: 'POST' });
    expect(run.status).toBe(202);
    expect((await json(`/schedules/${created.body.id}`)).body).toMatchObject({ runs: 1, last_batch_uuid: run.body.batch_uuid });
    const sub = t.core.runs.submissionsOfBatch(t.core.runs.batch(run.body.batch_uuid)!.id)[0];
    expect(await t.core.waitFor(sub.uuid, 10_000)).toBe(true);
    expect(resultText(run.body.batch_uuid, 'with_default')).toBe('--n 3\n');
    expect(fs.readFileSync(path.join(t.core.paths.root, sub.input_path), 'utf8')).toBe('empty');
  });

  it('a bad cron, time zone, job or parameter is refused with each problem named', async () => {
    const bad = await json('/schedules', {
      method: 'POST',
      body: JSON.stringify({ job: 'nightly', cron: '61 * * * *', timezone: 'Mars/Olympus', params: { nope: 'x' } }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.problems.map((p: any) => p.path)).toEqual(['timezone', 'cron', 'params.nope', 'params.show_word_word']);
    const noJob = await json('/schedules', { method: 'POST', body: JSON.stringify({ job: 'ghost', cron: '* * * * *' }) });
    expect(noJob.body.problems).toEqual([{ path: 'job', message: 'unknown job "ghost"' }]);
    const unsafe = await json('/schedules', { method: 'POST', body: JSON.stringify({ job: 'nightly', cron: '* * * * *', params: { show_word_word: 'a;b' } }) });
    expect(unsafe.body.problems[0]).toMatchObject({ path: 'params.show_word_word', message: expect.stringMatching(/punctuation/) });
  });

  it('a cron expression can be previewed: its next five firing times', async () => {
    const preview = await json('/schedules/preview', { method: 'POST', body: JSON.stringify({ cron: '30 9 * * 1-5', timezone: 'UTC' }) });
    expect(preview.body.next).toHaveLength(5);
    for (const at of preview.body.next as string[]) {
      const d = new Date(at);
      expect([d.getUTCHours(), d.getUTCMinutes()]).toEqual([9, 30]);
      expect([0, 6]).not.toContain(d.getUTCDay());
    }
    expect(cronPreview('not a cron')).toHaveProperty('error');
  });
});

describe('two processes on one data dir', () => {
  it('fire each slot once: the first to claim it submits, the other stands aside', async () => {
    const dir = tempDir('aa-schedule-twice-');
    const first = await startTestServer({ dataDir: dir, settings: { queue_hog_size: null, queue_hard_limit: null } });
    const second = await createCore({ dataDir: dir, launcherFile: LAUNCHER_FILE, settings: { queue_hog_size: null, queue_hard_limit: null } });
    try {
      addTask(first.core.db, 'tick', 'echo tick');
      addJob(first.core.db, 'tick', [['tick', 0]]);
      const schedule = await first.core.schedules.create({ job: 'tick', cron: '* * * * * *', submission_name: 'twice' });
      // The second process learns of it when it starts its timers, as it would at its own start.
      await second.schedules.stop();
      second.schedules.start();
      await until(async () => first.core.schedules.get(schedule.id).runs, (n) => n >= 3);
      await first.core.schedules.remove(schedule.id);
      await new Promise((r) => setTimeout(r, 1100));
      const subs = first.core.db.prepare("SELECT created_at FROM submission WHERE submission_name = 'twice'").all() as Array<{ created_at: string }>;
      const seconds = subs.map((s) => s.created_at.slice(0, 19));
      expect(subs.length).toBeGreaterThanOrEqual(3);
      expect(new Set(seconds).size).toBe(seconds.length);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
