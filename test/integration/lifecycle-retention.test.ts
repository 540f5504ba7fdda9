// Retention by age, count and bytes, global and per service: rows and files go together, unfinished runs stay,
// the WAL is checkpointed, the store stays bounded under steady load, and the storage gauge reports it all.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';
import { selectForRemoval, sweepRetention, RETENTION_GRACE_MS, type FinishedRun } from '../../src-main/core/run/retention';
import { adminCall, inspectStore, submitAa } from '../faults/harness';

let t: TestServer;
const admin = (method: string, p: string, body?: unknown) => adminCall({ url: t.url, token: t.server.token }, method, p, body);
const HOUR = 3_600_000;

async function runs(job: string, n: number): Promise<string[]> {
  const uuids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await submitAa(t.url, { job }, { file: { name: 'in.txt', content: 'x'.repeat(1000) } });
    expect(r.status, r.text).toBe(201);
    uuids.push(t.core.runs.submissionsOfBatch(t.core.runs.batch(r.body.UUID)!.id)[0].uuid);
  }
  for (const u of uuids) expect(await t.core.waitFor(u, 20_000)).toBe(true);
  return uuids;
}
/** Pretends runs ended `hoursAgo` (in order: the first is the oldest). */
function age(uuids: string[], hoursAgo: number): void {
  const set = t.core.db.prepare('UPDATE submission SET finished_at = ? WHERE uuid = ?');
  uuids.forEach((u, i) => set.run(new Date(Date.now() - hoursAgo * HOUR + i * 1000).toISOString(), u));
}
const exists = (uuid: string) => !!t.core.runs.submission(uuid) || fs.existsSync(path.join(t.core.paths.uploads, uuid));
const finishedCount = () => (t.core.db.prepare('SELECT COUNT(*) AS n FROM submission WHERE status >= 2').get() as { n: number }).n;

beforeAll(async () => {
  t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null, retain_days: null } });
  addTask(t.core.db, 'echo', 'cat $I1', { out_glob: '.out', stdout_glob: '.out' });
  addJob(t.core.db, 'echo', [['echo', 0]]);
  addJob(t.core.db, 'other', [['echo', 0]]);
});

afterAll(async () => {
  await t?.close();
});

describe('which runs retention removes (pure)', () => {
  const now = Date.parse('2026-01-10T00:00:00Z');
  const run = (id: number, job: string, hoursAgo: number, bytes = 100): FinishedRun => ({ id, batch_id: id, uuid: `u${id}`, job_name: job, ended: now - hoursAgo * HOUR, bytes });
  // Newest first, as the sweep reads them.
  const list = [run(1, 'a', 1), run(2, 'b', 2), run(3, 'a', 30), run(4, 'b', 50), run(5, 'a', 80)];
  const none = { days: null, count: null, bytes: null };

  it('removes nothing without limits', () => {
    expect([...selectForRemoval(list, none, new Map(), now)]).toEqual([]);
  });
  it('by age', () => {
    expect([...selectForRemoval(list, { ...none, days: 1 }, new Map(), now)]).toEqual([3, 4, 5]);
  });
  it('by count, newest kept', () => {
    expect([...selectForRemoval(list, { ...none, count: 2 }, new Map(), now)]).toEqual([3, 4, 5]);
  });
  it('by bytes, oldest go first and nothing older stays once the budget is spent', () => {
    const sized = [run(1, 'a', 1, 100), run(2, 'a', 2, 500), run(3, 'a', 3, 10)];
    expect([...selectForRemoval(sized, { ...none, bytes: 550 }, new Map(), now)]).toEqual([2, 3]);
  });
  it('per service, on top of the global limits', () => {
    expect([...selectForRemoval(list, none, new Map([['a', { ...none, count: 1 }]]), now)]).toEqual([3, 5]);
    expect([...selectForRemoval(list, { ...none, days: 3 }, new Map([['b', { ...none, count: 1 }]]), now).values()].sort()).toEqual([4, 5]);
  });
  it('never removes a run that ended within the grace period, and counts it against the limits', () => {
    const fresh = [run(1, 'a', 0), run(2, 'a', 0), run(3, 'a', 5)];
    fresh[0].ended = now - RETENTION_GRACE_MS / 2;
    fresh[1].ended = now - RETENTION_GRACE_MS / 3;
    expect([...selectForRemoval(fresh, { ...none, count: 1, days: 0 }, new Map(), now)]).toEqual([3]);
  });
});

describe('retention in a real store', () => {
  it('exposes its settings and refuses bad ones', async () => {
    const r = await admin('PUT', '/retention', { retain_count: 3, retain_days: null });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ retain_days: null, retain_count: 3, retain_bytes: null, retention_interval_s: 600 });
    const bad = await admin('PUT', '/retention', { retain_count: -1, retain_days: 'soon', nope: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.problems.map((p: { path: string }) => p.path)).toEqual(['retain_count', 'retain_days', 'nope']);
    await admin('PUT', '/retention', { retain_count: null });
  });

  it('by count: keeps the newest, removes rows and files of the rest, never an unfinished run, and checkpoints the WAL', async () => {
    const done = await runs('echo', 6);
    age(done, 5);
    t.core.pause();
    const waiting = await (async () => {
      const r = await submitAa(t.url, { job: 'echo' });
      return t.core.runs.submissionsOfBatch(t.core.runs.batch(r.body.UUID)!.id)[0].uuid;
    })();
    t.core.db.prepare('UPDATE submission SET created_at = ?, modified_at = ? WHERE uuid = ?').run('2000-01-01T00:00:00.000Z', '2000-01-01T00:00:00.000Z', waiting);
    await admin('PUT', '/retention', { retain_count: 2 });
    const sweep = await admin('POST', '/storage/sweep');
    expect(sweep.body).toMatchObject({ removed: 4, freed_bytes: expect.any(Number) });
    expect(sweep.body.freed_bytes).toBeGreaterThanOrEqual(4 * 1000);
    expect(done.map(exists)).toEqual([false, false, false, false, true, true]);
    expect(exists(waiting)).toBe(true);
    expect(fs.statSync(`${t.core.paths.db}-wal`).size).toBe(0);
    const report = inspectStore(t.dataDir);
    expect(report).toMatchObject({ integrity: 'ok', foreignKeyProblems: 0, missingFiles: [], strayFiles: [] });
    t.core.resume();
    expect(await t.core.waitFor(waiting, 10_000)).toBe(true);
    await admin('PUT', '/retention', { retain_count: null });
  });

  it('by age', async () => {
    const old = await runs('echo', 2);
    const recent = await runs('echo', 1);
    age(old, 49);
    age(recent, 1);
    await admin('PUT', '/retention', { retain_days: 2 });
    await admin('POST', '/storage/sweep');
    expect(old.map(exists)).toEqual([false, false]);
    expect(exists(recent[0])).toBe(true);
    await admin('PUT', '/retention', { retain_days: null });
  });

  it('by total bytes', async () => {
    for (const u of (t.core.db.prepare('SELECT uuid FROM submission').all() as Array<{ uuid: string }>).map((r) => r.uuid)) await t.core.deleteRun(u);
    const three = await runs('echo', 3);
    age(three, 3);
    // Each run holds its 1000-byte input and its 1000-byte copy as the result.
    await admin('PUT', '/retention', { retain_bytes: 4500 });
    const sweep = await admin('POST', '/storage/sweep');
    expect(sweep.body.removed).toBe(1);
    expect(three.map(exists)).toEqual([false, true, true]);
    await admin('PUT', '/retention', { retain_bytes: null });
  });

  it('per service: a service keeps its own count, others are untouched', async () => {
    const mine = await runs('other', 3);
    const theirs = await runs('echo', 3);
    age(mine, 2);
    age(theirs, 2);
    const set = await admin('PUT', '/service-policies/other', { retain_count: 1 });
    expect(set.body).toMatchObject({ job_name: 'other', retain_count: 1 });
    await admin('POST', '/storage/sweep');
    expect(mine.map(exists)).toEqual([false, false, true]);
    expect(theirs.map(exists)).toEqual([true, true, true]);
    await admin('DELETE', '/service-policies/other');
  });

  it('leaves a run ended by one step while its sibling still runs, and removes it once that step has ended', async () => {
    addTask(t.core.db, 'fails-at-once', 'false');
    addTask(t.core.db, 'slow-sibling', 'sleep 1.5', { out_glob: '.out', stdout_glob: '.out' });
    addJob(t.core.db, 'split', [['fails-at-once', 0], ['slow-sibling', 0]]);
    const r = await submitAa(t.url, { job: 'split' });
    expect(r.status, r.text).toBe(201);
    const uuid = t.core.runs.submissionsOfBatch(t.core.runs.batch(r.body.UUID)!.id)[0].uuid;
    expect(await t.core.waitFor(uuid, 10_000)).toBe(true);
    const id = t.core.runs.submission(uuid)!.id;
    expect(t.core.runs.submission(uuid)!.status).toBe(3);
    expect(t.core.handling(id)).toBe(true);
    age([uuid], 50);
    await admin('PUT', '/retention', { retain_days: 2 });
    await admin('POST', '/storage/sweep');
    expect(exists(uuid)).toBe(true);
    for (let i = 0; i < 100 && t.core.handling(id); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(t.core.handling(id)).toBe(false);
    await admin('POST', '/storage/sweep');
    expect(exists(uuid)).toBe(false);
    expect(inspectStore(t.dataDir)).toMatchObject({ integrity: 'ok', foreignKeyProblems: 0, missingFiles: [], strayFiles: [] });
    await admin('PUT', '/retention', { retain_days: null });
  });

  it('stays bounded under steady load: store rows, files and database size level off', async () => {
    t.core.updateSettings({ retain_count: 10 });
    const sizes: number[] = [];
    for (let round = 0; round < 6; round++) {
      await runs('echo', 10);
      // As if a grace period had passed since these runs ended.
      await sweepRetention(t.core, Date.now() + RETENTION_GRACE_MS + 1000);
      expect(finishedCount()).toBeLessThanOrEqual(10);
      expect(fs.readdirSync(t.core.paths.uploads).length).toBeLessThanOrEqual(10);
      sizes.push(fs.statSync(t.core.paths.db).size + fs.statSync(`${t.core.paths.db}-wal`).size);
    }
    // Freed pages are reused: after warming up, the database does not keep growing.
    expect(Math.max(...sizes.slice(3))).toBeLessThanOrEqual(Math.max(...sizes.slice(0, 3)) * 1.25);
    t.core.updateSettings({ retain_count: null });
  });
});

describe('the storage gauge', () => {
  it('reports database and file bytes, counts and the last sweep', async () => {
    const g = await admin('GET', '/storage');
    expect(g.status).toBe(200);
    const count = (table: string) => (t.core.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect(g.body).toMatchObject({
      db_bytes: fs.statSync(t.core.paths.db).size,
      counts: { submissions: count('submission'), attempts: count('attempt'), results: count('result'), unfinished: 0 },
      retention: { retain_days: null, retain_count: null, retain_bytes: null },
      last_sweep: { removed: expect.any(Number), at: expect.any(String) },
    });
    expect(g.body.files_bytes).toBeGreaterThanOrEqual(count('submission') * 1000);
    expect(g.body.free_bytes).toBeGreaterThan(0);
    expect(g.body.disk_bytes).toBeGreaterThanOrEqual(g.body.free_bytes);
  });
});
