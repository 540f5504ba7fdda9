// Working folders: a finished run's folder serves a later run, emptied; one that a task's escaped process still
// writes into is removed, never handed to another run.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, postSubmission, pollBatch, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';

let t: TestServer;

async function run(job: string) {
  const r = await postSubmission(t.url, { submission_name: 'w', email: 'a@b.com', job }, { name: 'in.txt', content: 'abc\n' });
  expect(r.status, r.text).toBe(201);
  const sub = (await pollBatch(t.url, r.body.UUID)).submissions[0];
  expect(sub.state, sub.last_message).toBe('Complete');
  return sub as { results: Array<{ name: string; data_path: string }> };
}

/** The inode of the folder a run's step ran in, as the step itself reported it. */
async function folderInode(sub: { results: Array<{ data_path: string }> }): Promise<string> {
  const ino = sub.results.find((r) => r.data_path.endsWith('.ino'));
  expect(ino).toBeDefined();
  return (await (await fetch(t.url + ino!.data_path)).text()).trim();
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
}

beforeAll(async () => {
  t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null } });
  const db = t.core.db;
  addTask(db, 'where', 'stat -c %i .', { out_glob: '.ino', stdout_glob: '.ino' });
  addJob(db, 'where', [['where', 0]]);
  db.prepare("INSERT OR IGNORE INTO backend (name, queue_type_id, root_path) VALUES ('bash_backend', (SELECT id FROM queue_type WHERE name = 'bash'), '')").run();
  // Leaves a process outside its process group that writes into its folder after the run has ended.
  addTask(db, 'escapes', `stat -c %i . > "$O1"\nsetsid sh -c 'sleep 0.4; echo leak > leak.ino' </dev/null >/dev/null 2>&1 &\nsleep 0.1`, {
    backend: 'bash_backend',
    out_glob: '.ino',
    stdout_glob: '.stdout',
  });
  addJob(db, 'escapes', [['escapes', 0]]);
});

afterAll(async () => {
  await t?.close();
});

describe('working folders', () => {
  it("gives a later run a finished run's folder, empty", async () => {
    const first = await folderInode(await run('where'));
    const second = await run('where');
    expect(await folderInode(second)).toBe(first);
    expect(second.results.map((r) => r.name)).toHaveLength(1);
  });

  it('removes a folder that something still wrote into after its run ended instead of handing it on', async () => {
    const escaped = await folderInode(await run('escapes'));
    // The escaped process writes its file into the (now spare) folder.
    await new Promise((resolve) => setTimeout(resolve, 800));
    const next = await run('where');
    expect(await folderInode(next)).not.toBe(escaped);
    expect(next.results.some((r) => r.name.includes('leak'))).toBe(false);
    // The dirty folder is gone from the work root, with what was written into it.
    await expect.poll(() => filesUnder(t.core.paths.work).includes('leak.ino'), { timeout: 5000 }).toBe(false);
  });
});
