// The server process's own life: graceful shutdown (intake stops, running attempts get a grace period, the rest is
// kept for the next start) and `aa cancel` against a live server or a stopped one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { addJob, addTask } from '../support/config';
import {
  CLI,
  attemptsOf,
  faultScript as sh,
  lanAddress,
  inspectStore,
  killHard,
  processesWith,
  rawRequest,
  seedStore,
  serverKeeper,
  submissions,
  submitAa,
  submitOne,
  until,
} from '../faults/harness';

const marker = (n: number) => `${6000 + n}.${process.pid % 1000}`;
const servers = serverKeeper();
const start = servers.start;
const stateOf = (dataDir: string, uuid: string) => submissions(dataDir).find((s) => s.uuid === uuid);

function aa(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

afterEach(() => servers.stopAll());

describe('graceful shutdown', () => {
  it('stops intake, lets running attempts finish within the grace period, and keeps the rest for the next start', async () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-stop-'));
    const m = marker(1);
    const dataDir = seedStore(
      (db) => {
        addTask(db, 'short', 'sleep 1.5', { out_glob: '.out', stdout_glob: '.out' });
        addJob(db, 'short', [['short', 0]]);
        addTask(db, 'long', sh('slow-once.sh', path.join(scratch, 'first'), m), { out_glob: '.out', stdout_glob: '.out' });
        addJob(db, 'long', [['long', 0]]);
      },
      { shutdown_grace_ms: 3000 },
    );
    const server = await start(dataDir, ['--concurrency', '2']);
    const long = await submitOne(server.url, 'long');
    await until(() => processesWith(`sleep ${m}`).length === 2, 'the long step to run');
    const short = await submitOne(server.url, 'short');
    await until(() => stateOf(dataDir, short)?.status === 1, 'the short step to run');
    const queued = [await submitOne(server.url, 'short'), await submitOne(server.url, 'short')];

    const t0 = Date.now();
    server.proc.kill('SIGTERM');
    await until(() => /Stopping/.test(server.output()), 'the server to begin stopping');
    // Intake is closed: a new submission is refused (connection refused, or 503 on a connection already open).
    const late = await submitAa(server.url, { job: 'short' }).catch((e: Error) => e);
    if (!(late instanceof Error)) expect(late.status).toBe(503);
    expect(await server.exited).toBe(0);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1000);
    // The grace period (3 s) plus start-up slack, not the 60 s the long step would have taken.
    expect(took).toBeLessThan(3000 + 12_000);

    expect(stateOf(dataDir, short)).toMatchObject({ status: 2 });
    expect(stateOf(dataDir, long)).toMatchObject({ status: 1, last_message: 'Interrupted by shutdown at step 1; resumes on the next start' });
    expect(attemptsOf(dataDir, long).map((a) => [a.state, a.message])).toEqual([
      ['crash', 'the server shut down while this attempt was running; it runs again on the next start'],
    ]);
    for (const q of queued) {
      expect(stateOf(dataDir, q)).toMatchObject({ status: 0 });
      expect(attemptsOf(dataDir, q)).toEqual([]);
    }
    expect(submissions(dataDir)).toHaveLength(4);
    expect(processesWith(`sleep ${m}`)).toEqual([]);

    await start(dataDir, ['--concurrency', '2']);
    await until(() => submissions(dataDir).every((s) => s.status === 2), 'everything to complete after the restart', 20_000);
    expect(attemptsOf(dataDir, long).map((a) => a.state)).toEqual(['crash', 'done']);
    expect(inspectStore(dataDir)).toEqual({ integrity: 'ok', foreignKeyProblems: 0, unfinished: [], missingFiles: [], strayFiles: [] });
  });
});

describe('aa cancel', () => {
  it('asks the live server: the running group is killed and the run ends Cancelled', async () => {
    const m = marker(2);
    const dataDir = seedStore((db) => {
      addTask(db, 'blocks', sh('fork-and-wait.sh', m));
      addJob(db, 'blocks', [['blocks', 0]]);
    });
    const server = await start(dataDir);
    const uuid = await submitOne(server.url, 'blocks');
    await until(() => processesWith(`sleep ${m}`).length === 2, 'the task to run');
    const r = await aa(['cancel', uuid, '--data-dir', dataDir]);
    expect(r).toMatchObject({ code: 0, stdout: `Cancelled ${uuid}\n` });
    expect(stateOf(dataDir, uuid)).toMatchObject({ status: 5, last_message: 'Cancelled' });
    await until(() => processesWith(`sleep ${m}`).length === 0, 'the process group to be gone', 5000);
    const again = await aa(['cancel', uuid, '--data-dir', dataDir]);
    expect(again).toMatchObject({ code: 0, stdout: `${uuid} had already finished; nothing to cancel\n` });
    const unknown = await aa(['cancel', 'e1a0c7d2-5b0f-11ef-8000-0242ac120002', '--data-dir', dataDir]);
    expect(unknown).toMatchObject({ code: 1, stderr: 'error: no submission e1a0c7d2-5b0f-11ef-8000-0242ac120002\n' });
  });

  it('works on the store when no server runs (even one that died), and the run never starts later', async () => {
    const dataDir = seedStore((db) => {
      addTask(db, 'quick', 'echo hi', { out_glob: '.out', stdout_glob: '.out' });
      addJob(db, 'quick', [['quick', 0]]);
    });
    const paused = await start(dataDir, ['--paused']);
    const uuid = await submitOne(paused.url, 'quick');
    await killHard(paused);
    // The dead server's runtime file is still there; its process is not.
    expect(fs.existsSync(path.join(dataDir, 'server.json'))).toBe(true);
    const r = await aa(['cancel', uuid, '--data-dir', dataDir]);
    expect(r).toMatchObject({ code: 0, stdout: `Cancelled ${uuid}\n` });
    expect(stateOf(dataDir, uuid)).toMatchObject({ status: 5 });
    const server = await start(dataDir);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stateOf(dataDir, uuid)).toMatchObject({ status: 5 });
    expect(attemptsOf(dataDir, uuid)).toEqual([]);
    expect((await rawRequest(`${server.url}/analytics_automated/jobtimes/`)).status).toBe(200);
  });
});

describe('starting', () => {
  it.skipIf(!lanAddress())('with LAN publishing on, `aa serve` listens beyond loopback and asks other computers for a key', async () => {
    const dataDir = seedStore(() => undefined, { lan_publish: true, host: '0.0.0.0' });
    const server = await start(dataDir);
    expect(server.output()).toMatch(/Published on the LAN: every service call needs an API key/);
    const lan = lanAddress() as string;
    const r = await rawRequest(server.url.replace('127.0.0.1', lan) + '/analytics_automated/job/', { localAddress: lan });
    expect(r.status).toBe(401);
  });

  it('without it, `aa serve` listens on loopback only', async () => {
    const dataDir = seedStore(() => undefined);
    const server = await start(dataDir);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
    expect(server.output()).not.toMatch(/LAN/);
  });
});
