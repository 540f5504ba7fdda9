// A full disk, for real: the data dir lives on a small tmpfs (mounting needs root; elsewhere the suite is skipped
// and says why). Intake answers 507 with a clear message, running jobs end in Error (never stuck, never corrupt),
// the space comes back, and the server keeps serving.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addJob, addTask } from '../support/config';
import { faultScript, inspectStore, rawRequest, seedStore, spawnServer, submissions, submitAa, submitOne, until, type ServerProcess } from './harness';
import { freeBytes } from '../../src-main/core/security/access';

const SIZE_MB = 24;
const MIN_FREE = 4 * 1024 * 1024;

/** A fresh tmpfs of SIZE_MB, or the reason there is none. */
function mountTmpfs(): { dir: string } | { reason: string } {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return { reason: 'mounting a tmpfs needs root on Linux' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE_MB}m`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    return { reason: `mount failed: ${(error as Error).message.split('\n')[0]}` };
  }
}

const mounted = mountTmpfs();
const where = 'dir' in mounted ? mounted.dir : '';
if (!where) console.warn(`disk-full suite skipped: ${(mounted as { reason: string }).reason}`);

let server: ServerProcess;
let dataDir: string;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-full-'));
const filler = () => path.join(where, 'filler');

/** Leaves about `leave` bytes free on the tmpfs (0: fills it to the last byte). */
function fillDisk(leave: number): void {
  const fd = fs.openSync(filler(), 'a');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) {
      const free = freeBytes(where) ?? 0;
      if (free <= leave) break;
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, Math.max(4096, free - leave)));
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    fs.closeSync(fd);
  }
}
const emptyDisk = () => fs.rmSync(filler(), { force: true });

const submissionOf = (job: string) => submitOne(server.url, job);
const stateOf = (uuid: string) => submissions(dataDir).find((s) => s.uuid === uuid);

describe.skipIf(!where)('a full disk (tmpfs)', () => {
  beforeAll(async () => {
    dataDir = seedStore(
      (db) => {
        addTask(db, 'writes_file', 'dd if=/dev/zero of=big.out bs=1M count=64', { out_glob: '.out', stdout_glob: '.log' });
        addJob(db, 'writes_file', [['writes_file', 0]]);
        addTask(db, 'writes_stdout', 'head -c 64000000 /dev/zero', { out_glob: '.out', stdout_glob: '.out' });
        addJob(db, 'writes_stdout', [['writes_stdout', 0]]);
        addTask(db, 'waits_then_writes', faultScript('sleep-then-write.sh', path.join(scratch, 'go'), 2000000), { out_glob: '.out', stdout_glob: '.out' });
        addJob(db, 'waits_then_writes', [['waits_then_writes', 0]]);
        addTask(db, 'small', 'echo fine', { out_glob: '.out', stdout_glob: '.out' });
        addJob(db, 'small', [['small', 0]]);
      },
      { min_free_bytes: MIN_FREE, output_cap_bytes: 100 * 1024 * 1024, retain_days: null },
      fs.mkdtempSync(path.join(where, 'data-')),
    );
    server = await spawnServer(dataDir);
  });

  afterAll(async () => {
    server?.proc.kill('SIGKILL');
    await server?.exited;
    if (where) execFileSync('umount', [where]);
    fs.rmSync(where, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('a task that fills the disk with a file ends in Error, and its space comes back', async () => {
    const uuid = await submissionOf('writes_file');
    await until(() => (stateOf(uuid)?.status ?? 0) >= 2, 'the run to end', 20_000);
    // dd's own failure, or (when the store could not take it while the disk was full) the engine's.
    expect(stateOf(uuid)).toMatchObject({
      status: 3,
      last_message: expect.stringMatching(/^(Unable to call commandRunner\.run_cmd\(\): Exit status 1 : 1 : dd |Insufficient storage: the output of step 1 could not be written in full \(is the disk full\?\) : dd |Insufficient storage: the disk filled up during step 1; the run was stopped$)/),
    });
    await until(() => (freeBytes(where) ?? 0) > (SIZE_MB - 6) * 1024 * 1024, 'the working folder to be removed', 5000);
  });

  it('a task whose stdout cannot be written ends in Error saying so, not Complete with a cut result', async () => {
    const uuid = await submissionOf('writes_stdout');
    await until(() => (stateOf(uuid)?.status ?? 0) >= 2, 'the run to end', 20_000);
    expect(stateOf(uuid)).toMatchObject({
      status: 3,
      last_message: expect.stringMatching(/^Insufficient storage: the output of step 1 could not be written in full \(is the disk full\?\)/),
    });
    await until(() => (freeBytes(where) ?? 0) > (SIZE_MB - 6) * 1024 * 1024, 'the space to come back', 5000);
  });

  it('intake answers 507 with the free and needed space while the disk is nearly full, and 201 once there is room', async () => {
    fillDisk(MIN_FREE / 2);
    const before = submissions(dataDir).length;
    const r = await submitAa(server.url, { job: 'small' });
    expect(r.status).toBe(507);
    expect(r.body.error).toMatch(/^Insufficient storage: the server's disk has \d+\.\d MB free and needs at least 4\.0 MB to accept new submissions\.$/);
    expect(submissions(dataDir)).toHaveLength(before);
    emptyDisk();
    const uuid = await submissionOf('small');
    await until(() => stateOf(uuid)?.status === 2, 'the run to complete');
  });

  it('an upload larger than the space left is refused with 507 and leaves nothing behind', async () => {
    fillDisk(MIN_FREE + 2 * 1024 * 1024);
    const before = submissions(dataDir).length;
    const r = await submitAa(server.url, { job: 'small' }, { file: { name: 'big.bin', content: Buffer.alloc(12 * 1024 * 1024, 1) } });
    expect(r.status).toBe(507);
    expect(r.body).toEqual({ error: 'Insufficient storage: the server disk is full' });
    expect(submissions(dataDir)).toHaveLength(before);
    emptyDisk();
    await until(() => fs.readdirSync(path.join(dataDir, 'tmp')).length === 0, 'the partial upload to be removed', 3000);
    expect(fs.readdirSync(path.join(dataDir, 'submissions')).sort()).toEqual(submissions(dataDir).map((s) => s.uuid).sort());
  });

  it('a disk that fills up under a running job: the job ends in Error once the store can record it, never stuck', async () => {
    const uuid = await submissionOf('waits_then_writes');
    await until(() => stateOf(uuid)?.status === 1, 'the job to run');
    fillDisk(0);
    fs.writeFileSync(path.join(scratch, 'go'), '');
    // While the disk is full the end may not be recordable; space coming back lets it through.
    await new Promise((r) => setTimeout(r, 1500));
    emptyDisk();
    await until(() => (stateOf(uuid)?.status ?? 0) >= 2, 'the run to end', 20_000);
    expect(stateOf(uuid)).toMatchObject({ status: 3, last_message: expect.stringMatching(/^Insufficient storage/) });
  });

  it('afterwards the store is consistent and the server still serves', async () => {
    expect((await rawRequest(`${server.url}/analytics_automated/jobtimes/`)).status).toBe(200);
    expect(inspectStore(dataDir)).toEqual({ integrity: 'ok', foreignKeyProblems: 0, unfinished: [], missingFiles: [], strayFiles: [] });
  });
});
