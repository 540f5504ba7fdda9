// kill -9 of the real server process during a step, during intake and during result storage: on restart every
// accepted submission is accounted for, nothing stays Running, no task process lingers, and the store is consistent.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { addJob, addTask } from '../support/config';
import {
  attemptsOf,
  faultScript as sh,
  inspectStore,
  killHard,
  killHardWithLaunchers,
  processesWith,
  seedStore,
  serverKeeper,
  submissions,
  submitAa,
  submitOne,
  until,
} from './harness';

const marker = (n: number) => `${4000 + n}.${process.pid % 1000}`;
const servers = serverKeeper();
const start = servers.start;

/** Every submission reaches a final state, and the store adds up. */
async function settled(dataDir: string): Promise<ReturnType<typeof submissions>> {
  await until(() => submissions(dataDir).every((s) => s.status >= 2), 'every submission to finish', 30_000, 100);
  const report = inspectStore(dataDir);
  expect(report).toEqual({ integrity: 'ok', foreignKeyProblems: 0, unfinished: [], missingFiles: [], strayFiles: [] });
  return submissions(dataDir);
}

afterEach(() => servers.stopAll());

describe('kill -9 during a step', () => {
  it('stops the task processes of a killed server at once (its launcher sees it go); the next start retries or crashes', async () => {
    const m = marker(3);
    const dataDir = seedStore((db) => {
      addTask(db, 'fragile', sh('fork-and-wait.sh', m));
      addJob(db, 'fragile', [['fragile', 0]]);
    });
    const first = await start(dataDir);
    const fragile = await submitOne(first.url, 'fragile');
    await until(() => processesWith(`sleep ${m}`).length === 2, 'the task (and its child) to run');
    await killHard(first);
    await until(() => processesWith(`sleep ${m}`).length === 0, 'the task processes to stop with the server', 5000);
    await start(dataDir);
    const all = await settled(dataDir);
    expect(all.find((s) => s.uuid === fragile)).toMatchObject({ status: 4, last_message: 'Crash: the server stopped while step 1 was running' });
  });

  it('retries what may retry, ends the rest as Crash with the reason, runs the queue, and leaves no task process behind', async () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-crash-'));
    const [m1, m2] = [marker(1), marker(2)];
    const dataDir = seedStore((db) => {
      addTask(db, 'retryable', sh('slow-once.sh', path.join(scratch, 'first-run'), m1), { retries: 1 });
      addJob(db, 'retryable', [['retryable', 0]]);
      addTask(db, 'fragile', sh('fork-and-wait.sh', m2));
      addJob(db, 'fragile', [['fragile', 0]]);
      addTask(db, 'quick', 'echo hi', { out_glob: '.out', stdout_glob: '.out' });
      addJob(db, 'quick', [['quick', 0]]);
    });
    const first = await start(dataDir, ['--concurrency', '2']);
    const retryable = await submitOne(first.url, 'retryable');
    const fragile = await submitOne(first.url, 'fragile');
    await until(() => processesWith(`sleep ${m1}`).length === 2 && processesWith(`sleep ${m2}`).length === 2, 'both tasks (and their children) to run');
    const queued: string[] = [];
    for (let i = 0; i < 3; i++) queued.push(await submitOne(first.url, 'quick'));
    await until(() => attemptsOf(dataDir, fragile)[0]?.pid, 'the pids to be recorded');

    await killHardWithLaunchers(first);
    // The dead server's task processes are still there (their launcher died with it): recovery has to find them.
    expect(processesWith(`sleep ${m1}`)).toHaveLength(2);
    expect(processesWith(`sleep ${m2}`)).toHaveLength(2);
    expect(submissions(dataDir).filter((s) => s.status === 1)).toHaveLength(2);

    await start(dataDir, ['--concurrency', '2']);
    await until(() => processesWith(`sleep ${m1}`).length + processesWith(`sleep ${m2}`).length === 0, 'the orphaned task processes to be killed', 5000);
    const all = await settled(dataDir);
    const state = (uuid: string) => all.find((s) => s.uuid === uuid);
    expect(state(retryable)).toMatchObject({ status: 2, last_message: 'Completed job at step #1' });
    expect(attemptsOf(dataDir, retryable).map((a) => [a.attempt_no, a.state, a.message])).toEqual([
      [1, 'crash', 'the server stopped while this attempt was running'],
      [2, 'done', null],
    ]);
    expect(state(fragile)).toMatchObject({ status: 4, last_message: 'Crash: the server stopped while step 1 was running' });
    for (const q of queued) expect(state(q)).toMatchObject({ status: 2 });
    expect(all).toHaveLength(5);
  });
});

describe('kill -9 during intake', () => {
  it('keeps every acknowledged submission; an upload cut off mid-stream leaves nothing', async () => {
    const dataDir = seedStore((db) => {
      // A step running at the kill is retried (without a retry it would end as Crash, which is not what this checks).
      addTask(db, 'quick', 'echo hi', { out_glob: '.out', stdout_glob: '.out', retries: 1 });
      addJob(db, 'quick', [['quick', 0]]);
    });
    const first = await start(dataDir);
    // A large upload that is still arriving when the server dies.
    const port = Number(new URL(first.url).port);
    const boundary = 'cutcutcut';
    const head = ['submission_name', 'email', 'job']
      .map((k) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${k === 'email' ? 'a@b.com' : k === 'job' ? 'quick' : 'cut'}\r\n`)
      .join('');
    const filePart = `--${boundary}\r\nContent-Disposition: form-data; name="input_data"; filename="big.txt"\r\n\r\n`;
    const slow = net.connect(port, '127.0.0.1');
    slow.on('error', () => undefined);
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    slow.write(`POST /analytics_automated/submission/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 5000000\r\n\r\n${head}${filePart}`);
    slow.write('x'.repeat(200_000));
    await until(() => fs.readdirSync(path.join(dataDir, 'submissions')).length > 0, 'the upload to start landing on disk');

    // Submissions acknowledged while it streams, and a burst still in flight as the server dies.
    const acknowledged: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await submitAa(first.url, { job: 'quick' });
      expect(r.status).toBe(201);
      acknowledged.push(r.body.UUID);
    }
    const burst = Array.from({ length: 20 }, () => submitAa(first.url, { job: 'quick' }).catch(() => null));
    await until(() => submissions(dataDir).length >= acknowledged.length + 3, 'part of the burst to be committed', 20_000, 2);
    await killHard(first);
    for (const r of await Promise.all(burst)) if (r?.status === 201) acknowledged.push(r.body.UUID);
    slow.destroy();

    await start(dataDir);
    const all = await settled(dataDir);
    const db = (await import('better-sqlite3')).default;
    const store = new db(path.join(dataDir, 'workbench.sqlite'), { readonly: true });
    const stored = new Set((store.prepare('SELECT uuid FROM batch').all() as Array<{ uuid: string }>).map((r) => r.uuid));
    store.close();
    for (const b of acknowledged) expect(stored.has(b), `acknowledged batch ${b} was lost`).toBe(true);
    expect(all.filter((s) => s.status !== 2)).toEqual([]);
    // The cut upload never became a submission, and its partial file is gone.
    expect(all.length).toBe(stored.size);
    expect(fs.readdirSync(path.join(dataDir, 'submissions')).sort()).toEqual(all.map((s) => s.uuid).sort());
    expect(fs.readdirSync(path.join(dataDir, 'tmp'))).toEqual([]);
  });
});

describe('kill -9 during result storage', () => {
  it('drops the half-stored results, runs the step again and stores each result exactly once', async () => {
    const FILES = 40_000;
    const dataDir = seedStore((db) => {
      addTask(db, 'many', sh('many-files.sh', FILES), { out_glob: '.res', stdout_glob: '.log', retries: 1 });
      addJob(db, 'many', [['many', 0]]);
    });
    const first = await start(dataDir);
    const uuid = await submitOne(first.url, 'many');
    // Results are stored beside the input in the submission's folder: kill the server as the first one lands there.
    const out = path.join(dataDir, 'submissions', uuid);
    const results = () => fs.readdirSync(out).filter((n) => n.endsWith('.res'));
    await until(() => fs.existsSync(out) && results().length > 0, 'result storage to begin', 60_000, 1);
    await killHard(first);
    const storedBeforeKill = results().length;

    await start(dataDir);
    const all = await settled(dataDir);
    expect(all[0]).toMatchObject({ uuid, status: 2 });
    const tries = attemptsOf(dataDir, uuid);
    if (tries.length === 2) {
      // The kill landed inside storage (the usual case): the first attempt crashed and was retried.
      expect(tries.map((a) => a.state)).toEqual(['crash', 'done']);
    }
    const names = results();
    expect(names).toHaveLength(FILES);
    expect(names.filter((n) => /^\d+_/.test(n))).toEqual([]);
    const db = (await import('better-sqlite3')).default;
    const store = new db(path.join(dataDir, 'workbench.sqlite'), { readonly: true });
    expect((store.prepare('SELECT COUNT(*) AS n FROM result').get() as { n: number }).n).toBe(FILES);
    store.close();
    expect(storedBeforeKill).toBeLessThanOrEqual(FILES);
  }, 120_000);
});
