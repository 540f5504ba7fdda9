// Who may call what: loopback by default, LAN publishing with scoped API keys and public services, quotas with
// Retry-After, per-service caps, CORS allowlist and security headers. "Another host" is this machine's LAN address.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type CoreInternals } from '../../src-main/core';
import { startServer, type RunningServer } from '../../src-main/server/app';
import { addJob, addTask } from '../support/config';
import { tempDir, UI_DIR, LAUNCHER_FILE } from '../support/server';
import { publishJob } from '../../src-main/core/publish';
import { adminCall, lanAddress, rawRequest, submitAa, until, type RawResponse } from '../faults/harness';

const LAN = lanAddress();
let core: CoreInternals;
let server: RunningServer;
let local: string;
let remote: string;
let dataDir: string;

const admin = (method: string, p: string, body?: unknown) => adminCall({ url: local, token: server.token }, method, p, body);
const fromLan = (p: string, headers: Record<string, string> = {}, method = 'GET') =>
  rawRequest(remote + p, { method, headers, localAddress: LAN ?? undefined });
const counts = () => core.db.prepare('SELECT (SELECT COUNT(*) FROM submission) AS subs, (SELECT COUNT(*) FROM batch) AS batches').get() as { subs: number; batches: number };
const uploadsLeft = () => fs.readdirSync(core.paths.uploads).length;

async function batchOf(r: RawResponse, headers: Record<string, string> = {}, source = local, localAddress?: string) {
  expect(r.status, r.text).toBe(201);
  return until(async () => {
    const b = await rawRequest(`${source}/analytics_automated/submission/${r.body.UUID}`, { headers, localAddress });
    return ['Complete', 'Error'].includes(b.body?.state) ? b.body : null;
  }, 'the batch to finish', 20_000, 100);
}

beforeAll(async () => {
  dataDir = tempDir('aa-sec-');
  core = await createCore({ dataDir, launcherFile: LAUNCHER_FILE, settings: { queue_hog_size: null, queue_hard_limit: 15 } });
  const db = core.db;
  addTask(db, 'echo', 'echo hello', { out_glob: '.out', stdout_glob: '.out' });
  addJob(db, 'echo', [['echo', 0]]);
  addTask(db, 'other', 'echo other', { out_glob: '.out', stdout_glob: '.out' });
  addJob(db, 'other', [['other', 0]]);
  addTask(db, 'pub', 'echo public', { out_glob: '.out', stdout_glob: '.out' });
  addJob(db, 'pub', [['pub', 0]]);
  addTask(db, 'slow', 'sleep 30', { out_glob: '.out', stdout_glob: '.out' });
  addJob(db, 'slow', [['slow', 0]]);
  addTask(db, 'v1echo', 'printf [%s] $P1', { parameters: [{ flag: '-t', alias: 'text', switchless: true, type: 'string' }] });
  addJob(db, 'v1echo', [['v1echo', 0]], { runnable: false });
  publishJob(db, 'v1echo');
  // Bound on every interface, as publishing on the LAN needs.
  server = await startServer(core, { host: '0.0.0.0', port: 0, uiDir: UI_DIR });
  local = server.url;
  remote = LAN ? server.url.replace('127.0.0.1', LAN) : server.url;
});

afterAll(async () => {
  await server?.close();
  await core?.close();
});

describe('by default the services answer this computer only', () => {
  it('serves loopback clients without a key', async () => {
    const b = await batchOf(await submitAa(local, { job: 'echo' }));
    expect(b.state).toBe('Complete');
  });

  it.skipIf(!LAN)('refuses another host on every service surface, before reading or writing anything', async () => {
    const before = counts();
    const folders = uploadsLeft();
    const batch = core.db.prepare('SELECT uuid FROM batch LIMIT 1').get() as { uuid: string };
    const responses = [
      await fromLan('/analytics_automated/job/'),
      await fromLan('/analytics_automated/endpoints/'),
      await fromLan(`/analytics_automated/submission/${batch.uuid}`),
      await submitAa(remote, { job: 'echo' }, { localAddress: LAN as string }),
      await fromLan('/api/v1/services'),
      await fromLan(`/submissions/${core.runs.submissionsOfBatch(core.runs.batch(batch.uuid)!.id)[0].uuid}/in.txt`),
    ];
    for (const r of responses) {
      expect(r.status, r.text).toBe(403);
      expect(JSON.stringify(r.body)).toMatch(/this computer only/);
    }
    expect(responses[0].body).toEqual({ detail: expect.any(String) });
    expect(responses[4].body).toEqual({ error: expect.any(String) });
    expect(counts()).toEqual(before);
    expect(uploadsLeft()).toBe(folders);
  });

  it.skipIf(!LAN)('never lets another host reach the workbench API, even with the right token', async () => {
    const r = await fromLan('/api/admin/overview', { Authorization: `Bearer ${server.token}` });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: 'the workbench API is only reachable from this computer' });
    expect((await admin('GET', '/overview')).status).toBe(200);
  });

  it('refuses a page that rebinds its own host name to this computer (Host is not a loopback name)', async () => {
    const r = await rawRequest(`${local}/analytics_automated/job/`, { headers: { Host: 'evil.example:80' } });
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/Host evil\.example is not served here/);
  });
});

describe.skipIf(!LAN)('published on the LAN', () => {
  let scoped: string;
  let all: string;
  let scopedId: number;

  beforeAll(async () => {
    // Generous per-client quota: polling from one address must not trip it (one test lowers it on purpose).
    const on = await admin('PUT', '/security', { lan_publish: true, client_requests_per_minute: 100_000 });
    expect(on.status, on.text).toBe(200);
    expect(on.body).toMatchObject({ lan_publish: true, host: '0.0.0.0', restart_required: ['host'] });
    const a = await admin('POST', '/keys', { name: 'lab robot', services: ['echo', 'v1echo'] });
    expect(a.status, a.text).toBe(201);
    scoped = a.body.key;
    scopedId = a.body.id;
    const b = await admin('POST', '/keys', { name: 'admin scripts' });
    all = b.body.key;
  });

  afterAll(async () => {
    await admin('PUT', '/security', { lan_publish: false, client_requests_per_minute: 600 });
  });

  it('creates keys shown once and stores only their hash', async () => {
    expect(scoped).toMatch(/^aak_[0-9a-f]{8}_[A-Za-z0-9_-]{32}$/);
    const list = await admin('GET', '/keys');
    expect(list.body.map((k: any) => k.name)).toEqual(['admin scripts', 'lab robot']);
    expect(list.body[1]).toMatchObject({ prefix: scoped.slice(4, 12), services: ['echo', 'v1echo'], revoked_at: null });
    expect(list.text).not.toContain(scoped.slice(13));
    const rows = core.db.prepare('SELECT * FROM api_key').all();
    expect(JSON.stringify(rows)).not.toContain(scoped.slice(13));
    expect((rows[0] as { hash: string }).hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('needs a key on every A_A route, from any address (DRF-style 401 bodies)', async () => {
    const before = counts();
    for (const r of [
      await fromLan('/analytics_automated/job/'),
      await fromLan('/analytics_automated/endpoints/'),
      await rawRequest(`${local}/analytics_automated/jobtimes/`),
      await submitAa(remote, { job: 'echo' }, { localAddress: LAN as string }),
      await submitAa(local, { job: 'echo' }),
    ]) {
      expect(r.status, r.text).toBe(401);
      expect(r.body.detail).toMatch(/API key is required/);
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
    expect(counts()).toEqual(before);
  });

  it('refuses a wrong or malformed key with 401', async () => {
    for (const key of [scoped.slice(0, -1) + (scoped.endsWith('A') ? 'B' : 'A'), 'nonsense', `${scoped} `.repeat(2)]) {
      const r = await fromLan('/analytics_automated/job/', { 'X-API-Key': key });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ detail: 'Invalid or revoked API key.' });
    }
  });

  it('lets a key use exactly its services: submit, poll and download for echo; 403 for other', async () => {
    const headers = { 'X-API-Key': scoped };
    const r = await submitAa(remote, { job: 'echo' }, { localAddress: LAN as string, headers });
    const batch = await batchOf(r, headers, remote, LAN as string);
    expect(batch.state).toBe('Complete');
    const file = batch.submissions[0].results[0].data_path;
    const got = await fromLan(file, headers);
    expect(got.status).toBe(200);
    expect(got.text).toBe('hello\n');
    expect((await fromLan(file)).status).toBe(401);
    expect((await fromLan(`${file}?api_key=${scoped}`)).status).toBe(200);

    const denied = await submitAa(remote, { job: 'other' }, { localAddress: LAN as string, headers });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ error: `API key ${scoped.slice(4, 12)} may not use other.` });
    // A batch of a service the key may not use is not readable with it either.
    const theirs = await batchOf(await submitAa(local, { job: 'other' }, { headers: { Authorization: `Bearer ${all}` } }), { Authorization: `Bearer ${all}` });
    const peek = await fromLan(`/analytics_automated/submission/${theirs.UUID}`, headers);
    expect(peek.status).toBe(403);
    expect(peek.body.detail).toMatch(/may not use other/);
  });

  it('a key for every service may list the services; a scoped key may too', async () => {
    for (const key of [all, scoped]) {
      const r = await fromLan('/analytics_automated/job/', { 'X-API-Key': key });
      expect(r.status).toBe(200);
      expect(r.body.count).toBeGreaterThan(0);
    }
  });

  it('a public service needs no key; the others still do', async () => {
    const set = await admin('PUT', '/service-policies/pub', { public: true });
    expect(set.body).toMatchObject({ job_name: 'pub', public: true });
    const r = await submitAa(remote, { job: 'pub' }, { localAddress: LAN as string });
    const batch = await batchOf(r, {}, remote, LAN as string);
    expect(batch.state).toBe('Complete');
    expect((await fromLan(batch.submissions[0].results[0].data_path)).text).toBe('public\n');
    expect((await submitAa(remote, { job: 'echo' }, { localAddress: LAN as string })).status).toBe(401);
    expect((await submitAa(remote, { job: 'pub,echo' }, { localAddress: LAN as string })).status).toBe(401);
  });

  it('the native API follows the same rule', async () => {
    const post = (headers: Record<string, string>) =>
      rawRequest(`${remote}/api/v1/services/v1echo`, {
        method: 'POST',
        localAddress: LAN as string,
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ v1echo_text: 'hi', input_data: 'x' }),
      });
    const without = await post({});
    expect(without.status).toBe(401);
    expect(without.body).toEqual({ error: expect.stringMatching(/API key is required/) });
    const withKey = await post({ Authorization: `Bearer ${scoped}` });
    expect(withKey.status, withKey.text).toBe(202);
    expect((await fromLan(`/api/v1/runs/${withKey.body.id}`)).status).toBe(401);
    expect((await fromLan(`/api/v1/runs/${withKey.body.id}`, { 'X-API-Key': scoped })).status).toBe(200);
  });

  it('a revoked key stops working at once', async () => {
    const key = (await admin('POST', '/keys', { name: 'temp' })).body;
    expect((await fromLan('/analytics_automated/job/', { 'X-API-Key': key.key })).status).toBe(200);
    expect((await admin('DELETE', `/keys/${key.id}`)).status).toBe(204);
    expect((await fromLan('/analytics_automated/job/', { 'X-API-Key': key.key })).status).toBe(401);
    const listed = (await admin('GET', '/keys')).body.find((k: any) => k.id === key.id);
    expect(listed.revoked_at).not.toBeNull();
    expect((await admin('DELETE', '/keys/99999')).status).toBe(404);
  });

  it('limits requests per key with 429 and Retry-After, without touching other keys', async () => {
    const limited = (await admin('POST', '/keys', { name: 'limited', requests_per_minute: 3 })).body.key;
    const statuses: number[] = [];
    let last: RawResponse | null = null;
    for (let i = 0; i < 5; i++) {
      last = await fromLan('/analytics_automated/job/', { 'X-API-Key': limited });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(last?.body.detail).toMatch(/at most 3 a minute/);
    expect((await fromLan('/analytics_automated/job/', { 'X-API-Key': all })).status).toBe(200);
  });

  it('limits requests per client address with 429 and Retry-After; loopback is another client', async () => {
    await admin('PUT', '/security', { client_requests_per_minute: 4 });
    const statuses: number[] = [];
    let last: RawResponse | null = null;
    for (let i = 0; i < 6; i++) {
      last = await fromLan('/analytics_automated/job/', { 'X-API-Key': all });
      statuses.push(last.status);
    }
    expect(statuses.slice(-2)).toEqual([429, 429]);
    expect(Number(last?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await rawRequest(`${local}/analytics_automated/job/`, { headers: { 'X-API-Key': all } })).status).toBe(200);
    await admin('PUT', '/security', { client_requests_per_minute: 100_000 });
  });

  it('caps unfinished submissions per service with 429 and Retry-After', async () => {
    await admin('PUT', '/service-policies/slow', { max_active: 1 });
    const headers = { 'X-API-Key': all };
    const first = await submitAa(local, { job: 'slow' }, { headers });
    expect(first.status).toBe(201);
    const second = await submitAa(local, { job: 'slow' }, { headers });
    expect(second.status).toBe(429);
    expect(second.headers['retry-after']).toBe('10');
    expect(second.body).toEqual({ error: 'slow is busy: it already has 1 unfinished submissions. Try again later.' });
    const sub = core.runs.submissionsOfBatch(core.runs.batch(first.body.UUID)!.id)[0];
    await core.cancel(sub.uuid);
    expect((await submitAa(local, { job: 'slow' }, { headers })).status).toBe(201);
    for (const s of core.db.prepare("SELECT uuid FROM submission WHERE job_name = 'slow' AND status <= 1").all() as Array<{ uuid: string }>) await core.cancel(s.uuid);
  });
});

describe('quotas off the LAN', () => {
  it("A_A's per-client hard limit answers 429 with a Retry-After", async () => {
    core.updateSettings({ queue_hard_limit: 0 });
    try {
      const r = await submitAa(local, { job: 'echo' });
      expect(r.status).toBe(429);
      expect(r.headers['retry-after']).toBe('30');
      expect(r.body.error).toMatch(/You have no authority to post jobs/);
    } finally {
      core.updateSettings({ queue_hard_limit: 15 });
    }
  });
});

describe('browsers: CORS allowlist', () => {
  it('refuses a cross-origin page that is not on the list, even a simple form POST, before anything is stored', async () => {
    const before = counts();
    const { body, type } = await (await import('../faults/harness')).multipart({ job: 'echo', submission_name: 'x', email: 'a@b.com' }, { name: 'a.txt', content: 'x' });
    const r = await rawRequest(`${local}/analytics_automated/submission/`, { method: 'POST', body, headers: { 'Content-Type': type, Origin: 'https://evil.example' } });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: 'Cross-origin requests from https://evil.example are not allowed' });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(counts()).toEqual(before);
  });

  it('answers allowed origins with CORS headers and preflights with 204', async () => {
    const set = await admin('PUT', '/security', { cors_origins: ['https://lab.example:8443'] });
    expect(set.body.cors_origins).toEqual(['https://lab.example:8443']);
    const pre = await rawRequest(`${local}/analytics_automated/submission/`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://lab.example:8443', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-api-key' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://lab.example:8443');
    expect(pre.headers['access-control-allow-headers']).toMatch(/X-API-Key/);
    const get = await rawRequest(`${local}/analytics_automated/job/`, { headers: { Origin: 'https://lab.example:8443' } });
    expect(get.status).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBe('https://lab.example:8443');
    expect(get.headers.vary).toMatch(/Origin/);
    const bad = await admin('PUT', '/security', { cors_origins: ['javascript:alert(1)'] });
    expect(bad.status).toBe(400);
    expect(bad.body.problems[0].path).toBe('cors_origins');
  });

  it('the workbench API never answers other origins', async () => {
    const r = await rawRequest(`${local}/api/admin/overview`, { headers: { Origin: 'https://lab.example:8443', Authorization: `Bearer ${server.token}` } });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('response hygiene', () => {
  it('sends security headers on service, workbench, file and UI responses', async () => {
    const sub = core.db.prepare('SELECT input_path FROM submission LIMIT 1').get() as { input_path: string };
    const cases: Array<[string, RegExp]> = [
      ['/analytics_automated/job/', /default-src 'none'/],
      [`/${sub.input_path}`, /sandbox/],
      ['/', /frame-ancestors 'none'/],
    ];
    for (const [p, csp] of cases) {
      const r = await rawRequest(local + p);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(r.headers['content-security-policy']).toMatch(csp);
      expect(r.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('answers errors with structured bodies and never a stack trace', async () => {
    const responses = [
      await rawRequest(`${local}/api/admin/settings`, { method: 'PUT', headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' }, body: '{"concurrency":' }),
      await rawRequest(`${local}/api/admin/keys`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' }, body: '{"name":5}' }),
      await rawRequest(`${local}/api/admin/nope`, { headers: { Authorization: `Bearer ${server.token}` } }),
      await rawRequest(`${local}/analytics_automated/submission/`, { method: 'POST', headers: { 'Content-Type': 'multipart/form-data; boundary=x' }, body: '--x\r\nbroken' }),
    ];
    expect(responses.map((r) => r.status)).toEqual([400, 400, 404, 400]);
    for (const r of responses) {
      expect(r.body).not.toBeNull();
      expect(r.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    }
  });
});
