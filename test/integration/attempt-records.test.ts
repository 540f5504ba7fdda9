// How attempts reach the store: a quick one is written once, with its start and end; one still running after a
// short while is written while it runs, pid and all; a folder left by an attempt the store never heard of is cleared
// before the step runs again.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, postSubmission, pollBatch, getJson, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';

let t: TestServer | null = null;

afterEach(async () => {
  await t?.close();
  t = null;
});

async function serve(opts: { paused?: boolean; dataDir?: string } = {}): Promise<TestServer> {
  t = await startTestServer({ ...opts, settings: { queue_hog_size: null, queue_hard_limit: null } });
  const db = t.core.db;
  addTask(db, 'count', 'wc -c $I1', { stdout_glob: '.out' });
  addTask(db, 'count_more', 'wc -l $I1', { in_glob: '.out', out_glob: '.lines', stdout_glob: '.lines' });
  addTask(db, 'slow', 'sleep 0.6', { out_glob: '.none', stdout_glob: '.none' });
  addJob(db, 'quick', [['count', 0], ['count_more', 1]]);
  addJob(db, 'slow', [['slow', 0]]);
  addTask(db, 'fails', 'false', { out_glob: '.none', stdout_glob: '.none' });
  // Two parallel steps, one of which fails: the other may end after the run has.
  addJob(db, 'race', [['count', 0], ['fails', 0]]);
  return t;
}

async function submit(server: TestServer, job: string): Promise<string> {
  const r = await postSubmission(server.url, { submission_name: 'r', email: 'a@b.com', job }, { name: 'in.txt', content: 'abc\n' });
  expect(r.status, r.text).toBe(201);
  return r.body.UUID;
}

function submissionId(server: TestServer, batchUuid: string): { id: number; uuid: string } {
  return server.core.db
    .prepare('SELECT s.id, s.uuid FROM submission s JOIN batch b ON b.id = s.batch_id WHERE b.uuid = ?')
    .get(batchUuid) as { id: number; uuid: string };
}

function attemptsOf(server: TestServer, submissionId: number): Array<Record<string, unknown>> {
  return server.core.db.prepare('SELECT * FROM attempt WHERE submission_id = ? ORDER BY id').all(submissionId) as Array<Record<string, unknown>>;
}

describe('attempt records', () => {
  it('stores a quick attempt once, with its start and its end, and the history still shows each step start', async () => {
    const server = await serve();
    const batch = await submit(server, 'quick');
    const done = await pollBatch(server.url, batch);
    expect(done.state).toBe('Complete');
    const sub = submissionId(server, batch);
    const attempts = attemptsOf(server, sub.id);
    expect(attempts.map((a) => [a.step_key, a.attempt_no, a.state, a.exit_code])).toEqual([
      ['s1', 1, 'done', 0],
      ['s2', 1, 'done', 0],
    ]);
    for (const a of attempts) {
      expect(a.pid).toEqual(expect.any(Number));
      expect(JSON.parse(a.argv as string)[0]).toBe('wc');
      expect(a.cwd).toEqual(expect.stringContaining(sub.uuid));
      expect(Date.parse(a.ended_at as string)).toBeGreaterThanOrEqual(Date.parse(a.started_at as string));
      expect(a.stdout_path).toEqual(expect.stringContaining(sub.uuid));
    }
    const history = (server.core.db.prepare('SELECT message FROM message WHERE submission_id = ? ORDER BY id').all(sub.id) as Array<{ message: string }>).map(
      (m) => m.message,
    );
    expect(history).toEqual(['Submitted', 'Running step: 1', 'Completed step: 1', 'Running step: 2', 'Completed job at step #2']);
    // The run inspector's view of it.
    const detail = await getJson(`${server.url}/api/v1/runs/${sub.uuid}`);
    expect(detail.status).toBe(200);
  });

  it('stores an attempt still running after a short while as running, with its pid, before it ends', async () => {
    const server = await serve();
    const batch = await submit(server, 'slow');
    const sub = submissionId(server, batch);
    await expect
      .poll(() => attemptsOf(server, sub.id).map((a) => [a.state, typeof a.pid]), { timeout: 5000, interval: 20 })
      .toEqual([['running', 'number']]);
    // An A_A client polling meanwhile sees the run Running.
    const polled = await getJson(`${server.url}/analytics_automated/submission/${batch}`);
    expect(polled.body.state).toBe('Running');
    expect(polled.body.submissions[0].last_message).toBe('Running step: 1');
    expect((await pollBatch(server.url, batch)).state).toBe('Complete');
    expect(attemptsOf(server, sub.id).map((a) => a.state)).toEqual(['done']);
  });

  it('clears a working folder left by an attempt the store never heard of before the step runs again', async () => {
    const first = await serve({ paused: true });
    const batch = await submit(first, 'quick');
    const sub = submissionId(first, batch);
    const dataDir = first.dataDir;
    const work = first.core.paths.work;
    await first.close();
    t = null;
    // What a crash leaves when it comes within the first milliseconds of a step: the folder, no attempt row.
    const left = path.join(work, `${sub.uuid}-s1-1`);
    fs.mkdirSync(left, { recursive: true });
    fs.writeFileSync(path.join(left, 'partial.out'), 'half');
    const second = await serve({ dataDir });
    const done = await pollBatch(second.url, batch);
    expect(done.state, done.submissions[0].last_message).toBe('Complete');
    expect(done.submissions[0].results.some((r: { name: string }) => r.name.includes('partial'))).toBe(false);
    expect(attemptsOf(second, sub.id).map((a) => [a.step_key, a.state])).toEqual([
      ['s1', 'done'],
      ['s2', 'done'],
    ]);
    expect(fs.existsSync(path.join(left, 'partial.out'))).toBe(false);
  });

  it("keeps a run's end as the last line of its history when a parallel step ends after it", async () => {
    const server = await serve();
    const batches = await Promise.all(Array.from({ length: 8 }, () => submit(server, 'race')));
    for (const batch of batches) {
      const done = await pollBatch(server.url, batch);
      expect(done.state).toBe('Error');
      const sub = submissionId(server, batch);
      const stored = server.core.db.prepare('SELECT last_message FROM submission WHERE id = ?').get(sub.id) as { last_message: string };
      const last = server.core.db.prepare('SELECT message FROM message WHERE submission_id = ? ORDER BY id DESC LIMIT 1').get(sub.id) as { message: string };
      expect(last.message).toBe(stored.last_message);
      expect(stored.last_message).toMatch(/Exit status 1/);
      // Both attempts are stored, whichever ended first.
      expect(attemptsOf(server, sub.id).map((a) => a.step_key).sort()).toEqual(['s1', 's2']);
    }
  });
});
