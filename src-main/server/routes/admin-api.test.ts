// The workbench API over real HTTP: who may call it, configuration, the publish check, runs and their files, live events, settings.
import { publishJob } from '../../core/publish';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../app';
import { addJob, addTask } from '../../../test/support/config';
import { fixture, postSubmission, startTestServer, UI_DIR, type TestServer } from '../../../test/support/server';

let t: TestServer;

async function call(method: string, route: string, body?: unknown, token: string | null = t.server.token) {
  const res = await fetch(`${t.url}/api/admin${route}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, body: json, text, headers: res.headers };
}

const taskBody = (name: string, fields: Record<string, unknown> = {}) => ({
  name,
  description: null,
  backend: 'local',
  in_glob: '.input',
  out_glob: '.out',
  stdout_glob: '.out',
  executable: 'cat $I1',
  incomplete_outputs_behaviour: 3,
  custom_exit_status: null,
  custom_exit_behaviour: null,
  timeout: null,
  retries: 0,
  parameters: [],
  environment: [],
  configuration: [],
  ...fields,
});

/** Submits through the admin test-run route (multipart) and waits for the run to finish. */
async function testRun(job: string, file: { name: string; content: Buffer | string }, fields: Record<string, string> = {}) {
  const form = new FormData();
  form.append('job', job);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('input_data', new Blob([typeof file.content === 'string' ? file.content : new Uint8Array(file.content)]), file.name);
  const res = await fetch(`${t.url}/api/admin/test-run`, { method: 'POST', body: form, headers: { Authorization: `Bearer ${t.server.token}` } });
  const body = (await res.json()) as { submission_uuid: string; batch_uuid: string; error?: string };
  if (res.status === 201) await t.core.waitFor(body.submission_uuid, 15_000);
  return { status: res.status, body };
}

beforeAll(async () => {
  t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null } });
  const db = t.core.db;
  addTask(db, 'lines', 'seq 1 3000', { in_glob: '.input', out_glob: '.out', stdout_glob: '.out' });
  addTask(db, 'copy_png', 'cp $I1 $O1', { in_glob: '.input', out_glob: '.png', stdout_glob: '.log' });
  addTask(db, 'copy_html', 'cp $I1 $O1', { in_glob: '.input', out_glob: '.html', stdout_glob: '.log' });
  addJob(db, 'lines', [['lines', 0]], { runnable: false });
  addJob(db, 'png', [['copy_png', 0]]);
  addJob(db, 'html', [['copy_html', 0]]);
});

afterAll(async () => {
  await t?.close();
});

describe('access', () => {
  it('refuses calls without the launch token, or with a wrong one', async () => {
    expect((await call('GET', '/overview', undefined, null)).status).toBe(401);
    expect((await call('GET', '/overview', undefined, 'not-the-token')).status).toBe(401);
    expect((await call('GET', '/overview')).status).toBe(200);
  });

  it('accepts the token as ?token= where headers cannot be set', async () => {
    const res = await fetch(`${t.url}/api/admin/overview?token=${encodeURIComponent(t.server.token)}`);
    expect(res.status).toBe(200);
  });

  const lan = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && !a.internal)?.address;
  it.skipIf(!lan)('refuses clients that are not on this computer, even with the token', async () => {
    let wide: RunningServer | undefined;
    try {
      wide = await startServer(t.core, { host: '0.0.0.0', port: 0, uiDir: UI_DIR, token: t.server.token });
      const port = (wide.server.address() as { port: number }).port;
      const res = await fetch(`http://${lan}:${port}/api/admin/overview`, { headers: { Authorization: `Bearer ${t.server.token}` } });
      expect(res.status).toBe(403);
    } finally {
      await wide?.close();
    }
  });

  it('answers unknown API paths with a JSON 404, not the UI', async () => {
    const res = await call('GET', '/no-such-thing');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'no such workbench API route' });
  });
});

describe('configuration', () => {
  it('creates, renames and deletes a Task, keeping the steps that use it', async () => {
    expect((await call('PUT', '/tasks/t1', taskBody('t1'))).status).toBe(200);
    await call('PUT', '/jobs/uses_t1', { name: 'uses_t1', description: null, validators: [], steps: [{ key: 'a', task: 't1', after: [], x: 0, y: 0 }] });
    const renamed = await call('PUT', '/tasks/t1', taskBody('t1_renamed'));
    expect(renamed.body.name).toBe('t1_renamed');
    expect((await call('GET', '/jobs/uses_t1')).body.steps[0].task).toBe('t1_renamed');
    expect((await call('GET', '/tasks/t1')).status).toBe(404);
    expect((await call('DELETE', '/jobs/uses_t1')).status).toBe(204);
    expect((await call('DELETE', '/tasks/t1_renamed')).status).toBe(204);
  });

  it('refuses an invalid Task with a problem per field', async () => {
    const res = await call('PUT', '/tasks/bad', taskBody('bad', { out_glob: '', executable: 'cat $I1 | wc' }));
    expect(res.status).toBe(400);
    expect(res.body.problems.map((p: { path: string }) => p.path)).toEqual(['task.out_glob', 'task.executable']);
  });

  it('keeps the runnable switch when a Job is saved again', async () => {
    const before = await call('GET', '/jobs/png');
    expect(before.body.runnable).toBe(true);
    const saved = await call('PUT', '/jobs/png', { ...before.body, runnable: false });
    expect(saved.body.runnable).toBe(true);
  });

  it('lists queue types, backends and validator types with descriptions', async () => {
    expect((await call('GET', '/queue-types')).body.map((q: { name: string }) => q.name)).toContain('localhost');
    expect((await call('GET', '/backends')).body.map((b: { name: string }) => b.name)).toContain('local');
    const validators = (await call('GET', '/validator-types')).body;
    expect(validators.find((v: { name: string }) => v.name === 'seq')?.description).toBeTruthy();
  });
});

describe('check and publish', () => {
  it('checks a draft sent by the designer without saving it', async () => {
    const draft = {
      job: { name: 'draft', description: null, validators: [], steps: [{ key: 'a', task: 'lines', after: ['b'], x: 0, y: 0 }, { key: 'b', task: 'lines', after: ['a'], x: 0, y: 0 }] },
      entry: [],
      exit: [],
    };
    const res = await call('POST', '/jobs/draft/check', draft);
    expect(res.body.problems.map((p: { code: string }) => p.code)).toEqual(['cycle']);
    expect((await call('GET', '/jobs/draft')).status).toBe(404);
  });

  it('refuses to publish with the problems, then publishes once they are fixed', async () => {
    await call('PUT', '/tasks/needs_contents', taskBody('needs_contents', { in_glob: '.contents' }));
    const job = (after: string[]) => ({
      name: 'chain',
      description: null,
      validators: [],
      steps: [
        { key: 'a', task: 'lines', after: [], x: 0, y: 0 },
        { key: 'b', task: 'needs_contents', after, x: 0, y: 0 },
      ],
    });
    await call('PUT', '/jobs/chain', job(['a']));
    const refused = await call('POST', '/jobs/chain/publish');
    expect(refused.status).toBe(400);
    expect(refused.body.problems).toEqual([
      { code: 'missing_input', message: 'step "needs_contents" (b) reads ".contents" but no upstream step produces it', keys: ['b'] },
    ]);
    expect(t.core.lookup.job('chain')?.runnable).toBe(false);
    await call('PUT', '/jobs/chain', job([]));
    const published = await call('POST', '/jobs/chain/publish');
    expect(published.body.runnable).toBe(true);
    expect((await call('POST', '/jobs/chain/unpublish')).body.runnable).toBe(false);
  });

  it('previews the argv a template renders to, or says why it cannot run', async () => {
    const ok = await call('POST', '/preview-command', {
      executable: '/usr/bin/example_binary $P1 -u 123 -la $P2 -input $I1 -out $O1',
      parameters: [
        { flag: '-z', alias: 'z', default: '12', bool_valued: false, spacing: true, switchless: false },
        { flag: '-lm', alias: 'lm', default: null, bool_valued: true, spacing: true, switchless: false },
      ],
      values: { lm: 'TRUE' },
      task: 'example',
      in_glob: '.input',
      out_glob: '.out, .stdout',
    });
    // A_A's documented example (reference §3.4), as an argv array.
    expect(ok.body.argv).toEqual(['/usr/bin/example_binary', '-z', '12', '-u', '123', '-la', '-lm', '-input', 'f7a314fe.input', '-out', 'f7a314fe.out']);
    const shell = await call('POST', '/preview-command', { executable: 'cat $I1 > x', parameters: [], values: {} });
    expect(shell.body.error).toMatch(/shell syntax/);
  });
});

describe('runs and files', () => {
  it('runs an unpublished job as a test run and shows its attempt with the tail of its output', async () => {
    const { status, body } = await testRun('lines', { name: 'in.txt', content: 'x\n' });
    expect(status).toBe(201);
    const run = await call('GET', `/runs/${body.submission_uuid}`);
    expect(run.body.run.state).toBe('Complete');
    const [attempt] = run.body.attempts;
    expect(attempt.argv).toEqual(['seq', '1', '3000']);
    expect(attempt.exit_code).toBe(0);
    expect(attempt.stdout_tail.length).toBeLessThanOrEqual(4096);
    expect(attempt.stdout_tail.endsWith('2999\n3000\n')).toBe(true);
    expect(attempt.stdout_size).toBeGreaterThan(4096);
    const full = await fetch(`${t.url}/api/admin/runs/${body.submission_uuid}/attempts/${attempt.id}/stdout?download=1&token=${t.server.token}`);
    expect(full.headers.get('content-disposition')).toMatch(/^attachment/);
    expect((await full.text()).split('\n')[0]).toBe('1');
  });

  it('explains a refused test run in words', async () => {
    const { status, body } = await testRun('png', { name: 'empty.txt', content: '' });
    expect(status).toBe(400);
    expect(body.error).toBe('input_data: The submitted file is empty.');
  });

  it('serves results with a Content-Type by extension, and never as HTML', async () => {
    const png = await testRun('png', { name: 'pic.png', content: fixture('test.png') });
    const pngRun = (await call('GET', `/runs/${png.body.submission_uuid}`)).body;
    const image = pngRun.results.find((r: { file_name: string }) => r.file_name.endsWith('.png'));
    expect(image.preview).toBe('image');
    const imageRes = await fetch(`${t.url}${image.url}?token=${t.server.token}`);
    expect(imageRes.headers.get('content-type')).toBe('image/png');

    const html = await testRun('html', { name: 'page.txt', content: '<script>alert(1)</script>' });
    const htmlRun = (await call('GET', `/runs/${html.body.submission_uuid}`)).body;
    const page = htmlRun.results[0];
    const res = await fetch(`${t.url}${page.url}?token=${t.server.token}`);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    expect(await res.text()).toBe('<script>alert(1)</script>');
  });

  it('refuses a stored path that points outside the data directory', async () => {
    const { body } = await testRun('png', { name: 'pic.png', content: fixture('test.png') });
    const sub = t.core.runs.submission(body.submission_uuid) as { id: number };
    const id = Number(
      t.core.db
        .prepare("INSERT INTO result (submission_id, task_name, step, path, name, created_at) VALUES (?, 'x', 1, '../../../etc/passwd', 'x', ?)")
        .run(sub.id, new Date().toISOString()).lastInsertRowid,
    );
    const res = await fetch(`${t.url}/api/admin/runs/${body.submission_uuid}/results/${id}?token=${t.server.token}`);
    expect(res.status).toBe(403);
    t.core.db.prepare('DELETE FROM result WHERE id = ?').run(id);
  });

  it('lists runs newest first with filters, and rejects a filter it does not know', async () => {
    const all = await call('GET', '/runs?limit=2');
    expect(all.body.runs).toHaveLength(2);
    expect(all.body.runs[0].id).toBeGreaterThan(all.body.runs[1].id);
    const older = await call('GET', `/runs?limit=2&before=${all.body.next}`);
    expect(older.body.runs[0].id).toBeLessThan(all.body.runs[1].id);
    const errors = await call('GET', '/runs?state=Error');
    expect(errors.body.runs.every((r: { state: string }) => r.state === 'Error')).toBe(true);
    expect((await call('GET', '/runs?state=Exploded')).status).toBe(400);
    expect((await call('GET', '/runs?since=yesterday-ish')).status).toBe(400);
  });

  it('re-runs a run with the same input, then deletes it', async () => {
    const { body } = await testRun('lines', { name: 'again.txt', content: 'x\n' });
    const rerun = await call('POST', `/runs/${body.submission_uuid}/rerun`);
    expect(rerun.status).toBe(201);
    expect(t.core.runs.submission(rerun.body.submission_uuid)?.input_name).toBe('again.txt');
    expect((await call('DELETE', `/runs/${body.submission_uuid}`)).status).toBe(204);
    expect((await call('GET', `/runs/${body.submission_uuid}`)).status).toBe(404);
  });

  it('streams run events to the UI', async () => {
    const controller = new AbortController();
    const res = await fetch(`${t.url}/api/admin/events?token=${t.server.token}`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const seen: string[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        seen.push(decoder.decode(value));
        if (seen.join('').includes('"type":"submission"') && seen.join('').includes('"state":"done"')) return;
      }
    })();
    await testRun('lines', { name: 'live.txt', content: 'x\n' });
    await reading;
    controller.abort();
    expect(seen.join('')).toMatch(/data: \{"type":"attempt".*"state":"done"/);
  });
});

describe('services, settings and the queue', () => {
  it('describes each published job as a service with its real field names', async () => {
    addTask(t.core.db, 'blast', 'blastp $P1 $P2 -query $I1', {
      parameters: [
        { flag: '-evalue', alias: 'evalue', default: '10' },
        { flag: '-html', alias: 'html', bool_valued: true },
      ],
    });
    addJob(t.core.db, 'search', [['blast', 0]]);
    publishJob(t.core.db, 'search');
    await postSubmission(t.url, { job: 'png', submission_name: 's', email: 'a@b.com' }, { name: 'p.png', content: fixture('test.png') });
    const services = (await call('GET', '/services')).body as Array<Record<string, any>>;
    const search = services.find((s) => s.name === 'search') as Record<string, any>;
    expect(search.endpoints).toBe(
      '/submission/&job=search&submission_name=[STRING]&email=[EMAIL_STRING]&input_data=[FILE]&blast_evalue=[VALUE]&blast_html=[TRUE/FALSE]',
    );
    expect(search.submit_url).toBe(`${t.url}/analytics_automated/submission/`);
    expect(search.lan).toBe(false);
    expect(search.snippets.curl).toContain('-F blast_evalue=10');
    expect(search.snippets.python).toContain('"blast_html": "TRUE"');
    expect(search.snippets.javascript).toContain("form.append(\"blast_evalue\", \"10\");");
    expect(search.version).toBe('v1');
    const png = services.find((s) => s.name === 'png') as Record<string, any>;
    expect(png.stats.runs_today).toBeGreaterThanOrEqual(1);
  });

  it('saves settings, says which wait for a restart, and refuses bad values', async () => {
    const saved = await call('PUT', '/settings', { concurrency: 2, port: 9999 });
    expect(saved.body.restart_required).toEqual(['port']);
    expect(t.core.settings().concurrency).toBe(2);
    const bad = await call('PUT', '/settings', { concurrency: 0, colour: 'blue' });
    expect(bad.status).toBe(400);
    expect(bad.body.problems.map((p: { path: string }) => p.path)).toEqual(['concurrency', 'colour']);
    const view = await call('GET', '/settings');
    expect(view.body.data_dir).toBe(t.dataDir);
    expect(view.body.listening.port).toBe(Number(new URL(t.url).port));
  });

  it('pauses and resumes the queue', async () => {
    expect((await call('POST', '/queue/pause')).body.paused).toBe(true);
    expect((await call('GET', '/overview')).body.queue.paused).toBe(true);
    expect((await call('POST', '/queue/resume')).body.paused).toBe(false);
  });
});
