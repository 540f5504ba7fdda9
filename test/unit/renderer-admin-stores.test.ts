// The Workers, Access and Settings stores against a real server: tokens and keys shown once and revoked, a worker
// reporting in, publishing policy, settings saved through the right routes, the storage gauge; and the new routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureApi } from '../../src-renderer/src/api/client';
import { hashOf, parseHash, type Route } from '../../src-renderer/src/app/router';
import { createWorkersStore, sortTokens, workerCommand } from '../../src-renderer/src/pages/workers/store';
import { createAccessStore, keyScope, parseOrigins, restartNeeded } from '../../src-renderer/src/pages/access/store';
import { createSettingsStore, splitPatch } from '../../src-renderer/src/pages/settings/store';
import { gaugeParts } from '../../src-renderer/src/pages/settings/StorageGauge';
import type { StorageGauge, WorkerToken } from '../../src-renderer/src/api/types';
import { addJob, addTask } from '../support/config';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ paused: true });
  configureApi({ origin: t.url, token: t.server.token });
  addTask(t.core.db, 'echo', '/bin/echo hi');
  addJob(t.core.db, 'alpha', [['echo', 0]]);
  addJob(t.core.db, 'beta', [['echo', 0]]);
});

afterAll(async () => {
  await t?.close();
});

const heartbeat = (token: string) =>
  fetch(`${t.url}/api/worker/heartbeat`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: 'w1', host: 'lab-1', queues: ['localhost'], concurrency: 4, running: 1, completed: 7, failed: 0, version: '0.1.0' }),
  });

describe('workers store', () => {
  it('shows a new token once, lists it without its secret, sees its worker report in, and revokes it', async () => {
    const store = createWorkersStore();
    await store.getState().load();
    expect(store.getState()).toMatchObject({ loaded: true, scaleOut: false, workers: [], tokens: [] });

    expect(await store.getState().createToken('  lab-1 ')).toBe(true);
    const created = store.getState().created;
    expect(created).toMatchObject({ name: 'lab-1', token: expect.stringMatching(/^aaw_/) });
    expect(store.getState().tokens).toEqual([expect.objectContaining({ name: 'lab-1', revoked_at: null })]);
    expect(JSON.stringify(store.getState().tokens)).not.toContain(created?.token);

    expect((await heartbeat(created?.token ?? '')).status).toBe(204);
    await store.getState().refresh();
    expect(store.getState().workers).toEqual([expect.objectContaining({ id: 'w1', host: 'lab-1', state: 'online', running: 1, concurrency: 4, token: 'lab-1' })]);
    expect(store.getState().tokens[0].last_used_at).not.toBeNull();

    store.getState().dismissCreated();
    expect(store.getState().created).toBeNull();
    await store.getState().revokeToken(store.getState().tokens[0].id);
    expect(store.getState().tokens[0].revoked_at).not.toBeNull();
    expect(store.getState().busy).toEqual([]);
    expect((await heartbeat(created?.token ?? '')).status).toBe(401);
  });

  it('reports a refused token name as an error and keeps nothing to show', async () => {
    const store = createWorkersStore();
    expect(await store.getState().createToken('   ')).toBe(false);
    expect(store.getState().error).toMatch(/name/);
    expect(store.getState().created).toBeNull();
  });

  it('writes the worker command line with the server address as given, quoting only where a shell needs it', () => {
    expect(workerCommand('http://lab-pc:8610/', 'aaw_abc-DEF_1')).toBe('aa worker --server http://lab-pc:8610 --token aaw_abc-DEF_1');
    expect(workerCommand('http://my host:8610', "it's")).toBe(`aa worker --server 'http://my host:8610' --token 'it'\\''s'`);
  });

  it('lists live tokens before revoked ones, newest first', () => {
    const tok = (id: number, revoked: boolean): WorkerToken => ({ id, name: `t${id}`, created_at: '', last_used_at: null, revoked_at: revoked ? 'x' : null });
    expect(sortTokens([tok(1, false), tok(2, true), tok(3, false), tok(4, true)]).map((x) => x.id)).toEqual([3, 1, 4, 2]);
  });
});

describe('access store', () => {
  it('creates a key scoped to one service, shows its secret once, and revokes it', async () => {
    const store = createAccessStore();
    await store.getState().load();
    expect(store.getState().security?.lan_publish).toBe(false);
    expect(store.getState().policies.map((p) => p.job_name)).toEqual(['alpha', 'beta']);

    expect(await store.getState().createKey({ name: 'lab website', services: ['alpha'], requests_per_minute: 30 })).toBe(true);
    const created = store.getState().created;
    expect(created?.key).toMatch(/^aak_[0-9a-f]{8}_/);
    expect(keyScope(created ?? { services: null })).toBe('alpha');
    const listed = store.getState().keys[0];
    expect(listed).toMatchObject({ name: 'lab website', services: ['alpha'], requests_per_minute: 30, revoked_at: null });
    expect(JSON.stringify(store.getState().keys)).not.toContain(created?.key);

    await store.getState().revokeKey(listed.id);
    expect(store.getState().keys[0].revoked_at).not.toBeNull();
  });

  it('names the field of a refused key', async () => {
    const store = createAccessStore();
    expect(await store.getState().createKey({ name: 'x', requests_per_minute: 0 })).toBe(false);
    expect(store.getState().error).toMatch(/requests_per_minute/);
  });

  it('makes a service public and saves browser origins as typed', async () => {
    const store = createAccessStore();
    await store.getState().load();
    await store.getState().setPublic('beta', true);
    expect(store.getState().policies.find((p) => p.job_name === 'beta')?.public).toBe(true);
    expect((await fetch(`${t.url}/api/admin/service-policies/beta`, { headers: { Authorization: `Bearer ${t.server.token}` } }).then((r) => r.json())).public).toBe(true);

    expect(await store.getState().saveSecurity({ cors_origins: parseOrigins('https://lab.example.org/\nhttps://lab.example.org, *') })).toBe(true);
    expect(store.getState().security?.cors_origins).toEqual(['https://lab.example.org', '*']);
    expect(await store.getState().saveSecurity({ cors_origins: ['ftp://nope'] })).toBe(false);
    expect(store.getState().error).toMatch(/cors_origins/);
  });

  it('publishing on the LAN changes the address for the next start, and taking it back undoes that', async () => {
    const store = createAccessStore();
    await store.getState().load();
    const listening = store.getState().listening;
    expect(restartNeeded(store.getState().security, listening)).toBe(false);
    await store.getState().saveSecurity({ lan_publish: true });
    expect(store.getState().security).toMatchObject({ lan_publish: true, host: '0.0.0.0' });
    expect(restartNeeded(store.getState().security, listening)).toBe(true);
    await store.getState().saveSecurity({ lan_publish: false });
    expect(store.getState().security).toMatchObject({ lan_publish: false, host: '127.0.0.1' });
    expect(restartNeeded(store.getState().security, listening)).toBe(false);
  });
});

describe('settings store: scale-out, retention and storage', () => {
  it('sends retention settings to their own route and the rest to /settings', () => {
    expect(splitPatch({ retain_days: 3, redis_url: null, concurrency: 2, retention_interval_s: 60 })).toEqual({
      general: { redis_url: null, concurrency: 2 },
      retention: { retain_days: 3, retention_interval_s: 60 },
    });
  });

  it('saves a Redis URL (waiting for a restart) and retention together, then sweeps on demand', async () => {
    const store = createSettingsStore();
    await store.getState().load();
    await expect.poll(() => store.getState().storage).not.toBeNull();
    expect(store.getState().storage?.db_bytes).toBeGreaterThan(0);

    store.getState().edit({ redis_url: 'redis://127.0.0.1:6399', retain_days: 7 });
    expect(await store.getState().save()).toEqual(['redis_url']);
    expect(store.getState().view?.settings).toMatchObject({ redis_url: 'redis://127.0.0.1:6399', retain_days: 7 });
    expect(store.getState().restartPending).toEqual(['redis_url']);
    expect(t.core.settings().retain_days).toBe(7);

    store.getState().edit({ retain_count: 100 });
    expect(await store.getState().save()).toEqual([]);
    expect(t.core.settings().retain_count).toBe(100);

    store.getState().edit({ redis_url: 'not a url' });
    expect(await store.getState().save()).toBeNull();
    expect(store.getState().error).toMatch(/redis_url/);
    store.getState().discard();

    const report = await store.getState().sweep();
    expect(report).toMatchObject({ removed: 0 });
    expect(store.getState().storage?.last_sweep).not.toBeNull();
  });

  it('draws the disk as database, run files, work, other use and free, or only the data directory when the disk size is unknown', () => {
    const gauge = {
      db_bytes: 100,
      wal_bytes: 100,
      files_bytes: 300,
      work_bytes: 0,
      free_bytes: 500,
      disk_bytes: 1000,
    } as StorageGauge;
    const parts = gaugeParts(gauge);
    expect(parts.map((p) => [p.key, p.bytes, p.share])).toEqual([
      ['db', 200, 0.2],
      ['files', 300, 0.3],
      ['work', 0, 0],
      ['other', 0, 0],
      ['free', 500, 0.5],
    ]);
    expect(gaugeParts({ ...gauge, disk_bytes: null, free_bytes: null }).map((p) => [p.key, p.share])).toEqual([
      ['db', 0.4],
      ['files', 0.6],
      ['work', 0],
    ]);
  });
});

describe('routes of the new pages', () => {
  it('reads and writes each page address, the API docs with an optional service', () => {
    const routes: Route[] = [{ page: 'schedules' }, { page: 'access' }, { page: 'workers' }, { page: 'api' }, { page: 'api', service: 'my align' }];
    for (const route of routes) expect(parseHash(hashOf(route))).toEqual(route);
    expect(hashOf({ page: 'api', service: 'my align' })).toBe('#/api/my%20align');
  });
});
