// Tasks that misbehave, run by the real server process: one that hangs (past its job's deadline, across a kill -9),
// one that forks and exits, one that floods stdout, and requests that end inside a file part. After each: nothing
// lost or stuck, no process left behind, the store consistent, the server still serving.
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { addJob, addTask } from '../support/config';
import { publishJob } from '../../src-main/core/publish';
import { ServicePolicies } from '../../src-main/core/security/service-policy';
import {
  attemptsOf,
  faultScript as sh,
  inspectStore,
  killHard,
  processesWith,
  rawRequest,
  seedStore,
  serverKeeper,
  sleep,
  submissions,
  submitOne,
  until,
} from './harness';

const marker = (n: number) => `${5000 + n}.${process.pid % 1000}`;
const servers = serverKeeper();
const start = (dataDir: string) => servers.start(dataDir);
function consistent(dataDir: string): void {
  expect(inspectStore(dataDir)).toEqual({ integrity: 'ok', foreignKeyProblems: 0, unfinished: [], missingFiles: [], strayFiles: [] });
}
/** Peak resident memory of a process so far (Linux VmHWM), in bytes. */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

afterEach(() => servers.stopAll());

describe('a task that hangs', () => {
  it("is stopped at its job's deadline, even when the server was killed meanwhile and the deadline passed while it was down", async () => {
    const m = marker(1);
    const dataDir = seedStore((db) => {
      addTask(db, 'hangs', sh('fork-and-wait.sh', m), { retries: 1 });
      addJob(db, 'hangs', [['hangs', 0]]);
      new ServicePolicies(db).update('hangs', { deadline_s: 4 });
    });
    const first = await start(dataDir);
    const accepted = Date.now();
    const uuid = await submitOne(first.url, 'hangs');
    // (On a very busy machine the deadline may pass before the task even starts: the outcome is the same.)
    await until(() => processesWith(`sleep ${m}`).length === 2 || submissions(dataDir)[0].status >= 2, 'the task to run');
    await killHard(first);
    await sleep(Math.max(0, accepted + 4500 - Date.now()));
    await start(dataDir);
    await until(() => submissions(dataDir)[0].status >= 2, 'the run to end', 10_000);
    // The retry started (the crash consumed the first attempt) and the deadline, counted from acceptance, stopped it.
    expect(submissions(dataDir)[0]).toMatchObject({ uuid, status: 3, last_message: expect.stringMatching(/^Deadline exceeded: hangs may take 4 s; stopped/) });
    await until(() => processesWith(`sleep ${m}`).length === 0, 'no process of the task to remain', 5000);
    await until(() => attemptsOf(dataDir, uuid).every((a) => a.state !== 'running'), 'the attempts to be recorded');
    consistent(dataDir);
  });
});

describe('a task that forks and exits', () => {
  it('completes at once and its forked child does not outlive it', async () => {
    const m = marker(2);
    const dataDir = seedStore((db) => {
      addTask(db, 'forks', sh('fork-and-exit.sh', m), { out_glob: '.out', stdout_glob: '.out' });
      addJob(db, 'forks', [['forks', 0]]);
    });
    const server = await start(dataDir);
    const t0 = Date.now();
    const uuid = await submitOne(server.url, 'forks');
    await until(() => submissions(dataDir)[0].status >= 2, 'the run to end', 10_000);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(submissions(dataDir)[0]).toMatchObject({ uuid, status: 2 });
    await until(() => processesWith(`sleep ${m}`).length === 0, 'the forked child to be gone', 3000);
    consistent(dataDir);
  });
});

describe('a task that floods stdout', () => {
  it('keeps only the capped output, completes, and the server stays small', async () => {
    const CAP = 1024 * 1024;
    const dataDir = seedStore(
      (db) => {
        addTask(db, 'floods', 'head -c 300000000 /dev/zero', { out_glob: '.out', stdout_glob: '.out' });
        addJob(db, 'floods', [['floods', 0]]);
      },
      { output_cap_bytes: CAP },
    );
    const server = await start(dataDir);
    const uuid = await submitOne(server.url, 'floods');
    await until(() => submissions(dataDir)[0].status >= 2, 'the run to end', 30_000);
    expect(submissions(dataDir)[0]).toMatchObject({ uuid, status: 2 });
    const out = path.join(dataDir, 'submissions', uuid, `${uuid}.out`);
    expect(fs.statSync(out).size).toBe(CAP);
    // 300 MB went through a server that never held more than a small part of it.
    expect(peakRss(server.pid)).toBeLessThan(400 * 1024 * 1024);
    consistent(dataDir);
  });
});

describe('a request that ends inside a file part', () => {
  for (const [surface, route] of [
    ['A_A', '/analytics_automated/submission/'],
    ['native', '/api/v1/services/typed'],
  ] as const) {
    it(`does not take the server down (${surface} route)`, async () => {
      const dataDir = seedStore((db) => {
        addTask(db, 'typed', 'echo hi', { out_glob: '.out', stdout_glob: '.out' });
        addJob(db, 'typed', [['typed', 0]], { runnable: true });
        publishJob(db, 'typed');
      });
      const server = await start(dataDir);
      let exitedWith: number | string | null = null;
      void server.exited.then((c) => (exitedWith = c));
      const port = Number(new URL(server.url).port);
      const body = '--X\r\nContent-Disposition: form-data; name="job"\r\n\r\ntyped\r\n--X\r\nContent-Disposition: form-data; name="input_data"; filename="a"\r\n\r\nabc';
      await new Promise<void>((resolve) => {
        const c = net.connect(port, '127.0.0.1', () => {
          c.write(`POST ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=X\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        });
        c.on('close', () => resolve());
        c.on('error', () => resolve());
        setTimeout(() => c.destroy(), 3000);
      });
      await sleep(500);
      expect(exitedWith, server.output().slice(-2000)).toBeNull();
      expect((await rawRequest(`${server.url}/analytics_automated/jobtimes/`)).status).toBe(200);
      expect(fs.readdirSync(path.join(dataDir, 'submissions'))).toEqual([]);
    });
  }
});
