// Completion callbacks against a real local HTTP receiver: signed final run documents, retries with backoff, bounds, restarts.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';
import { publishJob } from '../../src-main/core/publish';
import { backoffMs, signBody } from '../../src-main/core/notify/callbacks';

interface Hit {
  at: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receiver that answers `failFirst` requests with 500, then 200. */
async function receiver(failFirst: number, port = 0): Promise<{ url: string; hits: Hit[]; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = hits.length <= failFirst ? 500 : 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?from=aa`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const FAST = { callback_backoff_ms: 100, callback_backoff_max_ms: 400, callback_max_attempts: 3, callback_timeout_ms: 2000 };

function setUp(t: TestServer): void {
  addTask(t.core.db, 'hello', 'echo hello');
  addJob(t.core.db, 'hello', [['hello', 0]], { runnable: false });
  publishJob(t.core.db, 'hello');
}

const submit = (t: TestServer, body: Record<string, unknown>) =>
  fetch(`${t.url}/api/v1/services/hello`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input_data: 'x\n', ...body }) });
const admin = (t: TestServer, p: string, init: RequestInit = {}) =>
  fetch(`${t.url}/api/admin${p}`, { ...init, headers: { Authorization: `Bearer ${t.server.token}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) } });

describe('completion callbacks', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null, ...FAST } });
    setUp(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the final run document is POSTed, signed with the server secret; a receiver that fails first gets the same bytes after a backoff', async () => {
    const hook = await receiver(1);
    try {
      const res = await submit(t, { callback_url: hook.url });
      expect(res.status).toBe(202);
      const run = (await res.json()) as { id: string };
      const hits = await until(() => hook.hits, (h) => h.length >= 2);
      expect(hits).toHaveLength(2);
      expect(hits[1].body).toBe(hits[0].body);
      expect(hits[1].at - hits[0].at).toBeGreaterThanOrEqual(FAST.callback_backoff_ms - 5);
      expect(hits.map((h) => h.headers['x-aa-attempt'])).toEqual(['1', '2']);
      expect(hits[0].headers['content-type']).toBe('application/json');

      const secret = ((await (await admin(t, '/notify')).json()) as any).callbacks.secret as string;
      const expected = `sha256=${crypto.createHmac('sha256', secret).update(hits[0].body).digest('hex')}`;
      expect(hits[0].headers['x-aa-signature']).toBe(expected);

      const doc = JSON.parse(hits[0].body);
      const polled = (await (await fetch(`${t.url}/api/v1/runs/${run.id}`)).json()) as any;
      // The same document a client polls, with links it can follow from anywhere.
      expect({ ...doc, links: undefined, results: undefined }).toEqual({ ...polled, links: undefined, results: undefined });
      expect(doc).toMatchObject({ id: run.id, state: 'Complete', links: { self: `${t.url}/api/v1/runs/${run.id}` } });
      expect(doc.results.map((r: any) => r.url)).toEqual(polled.results.map((r: any) => `${t.url}${r.url}`));

      const [delivery] = (await (await admin(t, '/notify/callbacks/deliveries')).json()) as any[];
      expect(delivery).toMatchObject({ submission_uuid: run.id, url: hook.url, state: 'delivered', attempts: 2, last_status: 200, last_error: null });
    } finally {
      await hook.close();
    }
  });

  it('a callback URL that is not http(s) is refused before the run is accepted', async () => {
    const count = () => (t.core.db.prepare('SELECT COUNT(*) AS n FROM submission').get() as { n: number }).n;
    const before = count();
    for (const url of ['ftp://127.0.0.1/x', 'javascript:alert(1)', 'file:///etc/passwd', 'not a url', 'http://user:pw@127.0.0.1/', 42]) {
      const res = await submit(t, { callback_url: url });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain('callback_url');
    }
    expect(count()).toBe(before);
  });

  it('a service that does not allow callbacks refuses callback_url; the others still accept it', async () => {
    await admin(t, '/notify/callbacks', { method: 'PUT', body: JSON.stringify({ callback_services: ['other'] }) });
    expect((await submit(t, { callback_url: 'http://127.0.0.1:9/x' })).status).toBe(403);
    await admin(t, '/notify/callbacks', { method: 'PUT', body: JSON.stringify({ callback_services: null, callbacks_enabled: false }) });
    expect((await submit(t, { callback_url: 'http://127.0.0.1:9/x' })).status).toBe(403);
    await admin(t, '/notify/callbacks', { method: 'PUT', body: JSON.stringify({ callbacks_enabled: true }) });
    expect((await submit(t, {})).status).toBe(202);
  });

  it('retries are bounded: a receiver that never says 2xx is given up after callback_max_attempts; retry sends it again', async () => {
    const hook = await receiver(Number.POSITIVE_INFINITY);
    try {
      const run = (await (await submit(t, { callback_url: hook.url })).json()) as { id: string };
      const failed = await until(
        async () => ((await (await admin(t, '/notify/callbacks/deliveries?state=failed')).json()) as any[]).find((d) => d.submission_uuid === run.id),
        (d) => !!d,
      );
      expect(failed).toMatchObject({ state: 'failed', attempts: FAST.callback_max_attempts, last_status: 500, last_error: 'HTTP 500' });
      expect(hook.hits).toHaveLength(FAST.callback_max_attempts);

      const retried = await admin(t, `/notify/callbacks/deliveries/${failed.id}/retry`, { method: 'POST' });
      expect(retried.status).toBe(200);
      await until(() => hook.hits.length, (n) => n > FAST.callback_max_attempts);
      expect(hook.hits.length).toBeGreaterThan(FAST.callback_max_attempts);
    } finally {
      await hook.close();
    }
  });

  it('rotating the secret changes the signature of later deliveries', async () => {
    const before = ((await (await admin(t, '/notify')).json()) as any).callbacks.secret;
    const after = ((await (await admin(t, '/notify/callbacks/secret', { method: 'POST' })).json()) as any).secret;
    expect(after).not.toBe(before);
    expect(after).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('a restart', () => {
  it('resumes deliveries that were still pending: the receiver gets the run once it is back', async () => {
    // A port nothing listens on yet.
    const probe = await receiver(0);
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const dataDir = tempDir('aa-callback-');
    const settings = { queue_hog_size: null, queue_hard_limit: null, callback_backoff_ms: 100, callback_backoff_max_ms: 200, callback_max_attempts: 1000 };
    let t = await startTestServer({ dataDir, settings });
    setUp(t);
    const run = (await (await submit(t, { callback_url: `http://127.0.0.1:${port}/hook` })).json()) as { id: string };
    const pending = await until(
      async () => ((await (await admin(t, '/notify/callbacks/deliveries')).json()) as any[])[0],
      (d) => d?.attempts >= 1,
    );
    expect(pending).toMatchObject({ state: 'pending', last_status: null, last_error: 'ECONNREFUSED' });
    await t.close();

    const hook = await receiver(0, port);
    try {
      t = await startTestServer({ dataDir, settings });
      const hits = await until(() => hook.hits, (h) => h.length >= 1);
      expect(JSON.parse(hits[0].body)).toMatchObject({ id: run.id, state: 'Complete' });
      const delivered = await until(
        async () => ((await (await admin(t, '/notify/callbacks/deliveries')).json()) as any[])[0],
        (d) => d?.state === 'delivered',
      );
      expect(delivered.state).toBe('delivered');
    } finally {
      await t.close();
      await hook.close();
    }
  });
});

describe('the rules', () => {
  it('signatures are HMAC-SHA256 of the raw body, hex, behind sha256=', () => {
    expect(signBody('key', 'The quick brown fox jumps over the lazy dog')).toBe('sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
  });

  it('backoff doubles from the first wait and is capped', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, 1000, 10_000))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});
