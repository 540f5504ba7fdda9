// The runs, run page, services and settings stores against a real (paused) server: pages, filters, live events, actions.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureApi } from '../../src-renderer/src/api/client';
import { createRunPageStore, createRunsStore, queryOf, stateMatches, NO_FILTERS } from '../../src-renderer/src/pages/runs/store';
import { createServicesStore } from '../../src-renderer/src/pages/services/store';
import { changedSettings, createSettingsStore } from '../../src-renderer/src/pages/settings/store';
import type { RunEvent } from '../../src-main/core/events';
import { addJob, addTask } from '../support/config';
import { startTestServer, tempDir, type TestServer } from '../support/server';

let t: TestServer;
const uuids: string[] = [];

async function submit(job: string, ip: string): Promise<string> {
  const dir = tempDir('aa-upload-');
  const file = path.join(dir, 'in.txt');
  fs.writeFileSync(file, 'hello\n');
  const r = await t.core.submitAa(
    { fields: [['job', job], ['submission_name', `run of ${job}`], ['email', 'a@b.com']], file: { field: 'input_data', path: file, originalName: 'in.txt', size: 6 } },
    { ip, admin: true },
  );
  return r.submissions[0].uuid;
}

beforeAll(async () => {
  // Paused: runs stay Submitted, so the list is stable while the stores read it.
  t = await startTestServer({ paused: true, settings: { queue_hog_size: null, queue_hard_limit: null } });
  configureApi({ origin: t.url, token: t.server.token });
  addTask(t.core.db, 'echo', '/bin/echo hi');
  addJob(t.core.db, 'alpha', [['echo', 0]]);
  addJob(t.core.db, 'beta', [['echo', 0]]);
  for (let i = 0; i < 60; i++) uuids.push(await submit(i % 3 === 0 ? 'beta' : 'alpha', i % 2 ? '10.0.0.2' : '127.0.0.1'));
});

afterAll(async () => {
  await t?.close();
});

const submissionEvent = (uuid: string, job: string, status: 0 | 1 | 2 | 3, message: string): RunEvent => ({
  type: 'submission',
  uuid,
  batch_uuid: 'b',
  job,
  status,
  last_message: message,
  at: new Date().toISOString(),
});

describe('runs list store', () => {
  it('pages newest first with keyset cursors, forward and back', async () => {
    const store = createRunsStore(10);
    await store.getState().load();
    const first = store.getState();
    expect(first.total).toBe(60);
    expect(first.runs).toHaveLength(50);
    expect(first.runs[0].uuid).toBe(uuids[59]);
    await store.getState().older();
    expect(store.getState().runs.map((r) => r.uuid)).toEqual(uuids.slice(0, 10).reverse());
    expect(store.getState().next).toBeNull();
    await store.getState().newer();
    expect(store.getState().runs[0].uuid).toBe(uuids[59]);
  });

  it('filters by job and client and lists both for the filter menus', async () => {
    const store = createRunsStore(10);
    await store.getState().setFilters({ job: 'beta', client: '10.0.0.2' });
    const st = store.getState();
    expect(st.runs.every((r) => r.job === 'beta' && r.client === '10.0.0.2')).toBe(true);
    expect(st.total).toBe(10);
    expect(st.jobs).toEqual(['alpha', 'beta']);
    expect(st.clients).toEqual(['10.0.0.2', '127.0.0.1']);
  });

  it('patches a listed run from its event at once', async () => {
    const store = createRunsStore(10_000);
    await store.getState().load();
    store.getState().applyEvent(submissionEvent(uuids[59], 'beta', 1, 'Running step: 1'));
    expect(store.getState().runs[0]).toMatchObject({ state: 'Running', last_message: 'Running step: 1' });
  });

  it('reloads the newest page when a new matching run appears, and only flags it on older pages', async () => {
    const store = createRunsStore(5);
    await store.getState().load();
    const added = await submit('alpha', '127.0.0.1');
    store.getState().applyEvent(submissionEvent(added, 'alpha', 0, 'Submitted'));
    await expect.poll(() => store.getState().runs[0]?.uuid).toBe(added);
    await store.getState().older();
    store.getState().applyEvent(submissionEvent('another', 'alpha', 0, 'Submitted'));
    expect(store.getState().stale).toBe(true);
  });

  it('turns local filter times into ISO instants and matches "active" states', () => {
    const q = queryOf({ ...NO_FILTERS, since: '2026-01-02T03:04' }, 17);
    expect(q.since).toBe(new Date('2026-01-02T03:04').toISOString());
    expect(q.before).toBe(17);
    expect(stateMatches('active', 'Running')).toBe(true);
    expect(stateMatches('active', 'Complete')).toBe(false);
    expect(stateMatches('', 'Error')).toBe(true);
  });
});

describe('run page store', () => {
  it('loads one run with its plan, input and messages, and cancels it', async () => {
    const store = createRunPageStore(10);
    await store.getState().load(uuids[0]);
    const d = store.getState().detail;
    expect(d?.run.uuid).toBe(uuids[0]);
    expect(d?.plan.map((p) => p.task)).toEqual(['echo']);
    expect(d?.input).toMatchObject({ name: 'in.txt', size: 6, preview: 'text' });
    expect(d?.messages.map((m) => m.message)).toEqual(['Submitted']);
    await store.getState().cancel();
    expect(store.getState().detail?.run.state).toBe('Cancelled');
  });

  it('re-runs with the same input and parameters as a new submission', async () => {
    const store = createRunPageStore(10);
    await store.getState().load(uuids[1]);
    const next = await store.getState().rerun();
    expect(next).toBeTruthy();
    expect(next).not.toBe(uuids[1]);
    expect(t.core.runs.submission(next as string)?.input_name).toBe('in.txt');
  });

  it('deletes a run and reports it gone', async () => {
    const store = createRunPageStore(10);
    await store.getState().load(uuids[2]);
    expect(await store.getState().remove()).toBe(true);
    expect(store.getState().gone).toBe(true);
    expect(t.core.runs.submission(uuids[2])).toBeUndefined();
  });
});

describe('services store', () => {
  it('lists jobs as services and switches one off and on', async () => {
    const store = createServicesStore(10);
    await store.getState().load();
    const alpha = store.getState().services.find((s) => s.name === 'alpha');
    expect(alpha?.runnable).toBe(true);
    expect(alpha?.submit_url).toBe(`${t.url}/analytics_automated/submission/`);
    await store.getState().setRunnable('alpha', false);
    expect(store.getState().services.find((s) => s.name === 'alpha')?.runnable).toBe(false);
    await store.getState().setRunnable('alpha', true);
    expect(t.core.lookup.job('alpha')?.runnable).toBe(true);
  });
});

describe('settings store', () => {
  it('saves only changed settings and remembers which need a restart', async () => {
    const store = createSettingsStore();
    await store.getState().load();
    const port = store.getState().view?.settings.port as number;
    store.getState().edit({ concurrency: 3, port: port + 1 });
    const restart = await store.getState().save();
    expect(restart).toEqual(['port']);
    expect(t.core.settings().concurrency).toBe(3);
    expect(store.getState().restartPending).toEqual(['port']);
    expect(store.getState().draft).toEqual({});
  });

  it('pauses and resumes the queue', async () => {
    const store = createSettingsStore();
    await store.getState().load();
    await store.getState().setPaused(false);
    expect(store.getState().queue?.paused).toBe(false);
    await store.getState().setPaused(true);
    expect(t.core.queueStats().paused).toBe(true);
  });

  it('drops edits equal to the saved value', () => {
    const saved = { concurrency: 2, port: 8610 } as Parameters<typeof changedSettings>[0];
    expect(changedSettings(saved, { concurrency: 2, port: 9000 })).toEqual({ port: 9000 });
  });
});
