// The native service API over real HTTP: typed submissions, problem details, ?wait, versions, named files, Range, cancel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, postSubmission, pollBatch, fixture, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';
import { saveTask } from '../../src-main/core/store/config-repo';
import { publishJob } from '../../src-main/core/publish';
import { setRunnable } from '../../src-main/core/store/config-repo';

let t: TestServer;
const api = (p: string) => `${t.url}/api/v1${p}`;

const postJson = async (p: string, body: unknown) => {
  const res = await fetch(api(p), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', location: res.headers.get('location'), body: (await res.json()) as any };
};
const postForm = async (p: string, form: FormData) => {
  const res = await fetch(api(p), { method: 'POST', body: form });
  return { status: res.status, type: res.headers.get('content-type') ?? '', location: res.headers.get('location'), body: (await res.json()) as any };
};
const download = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(t.url + url, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
};

const ARGS_TASK = {
  parameters: [
    { flag: '-n', alias: 'count', type: 'integer' as const, min: 1, max: 10, default: '3' },
    { flag: '--mode', alias: 'mode', type: 'enum' as const, enum: ['fast', 'slow'] },
    { flag: '-v', alias: 'verbose', bool_valued: true, default: 'false' },
    { flag: '-t', alias: 'text', switchless: true, type: 'string' as const, max_length: 40 },
  ],
};

beforeAll(async () => {
  t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null } });
  const db = t.core.db;
  // printf repeats its format for each argument, so every argv element shows up bracketed.
  addTask(db, 'args', 'printf [%s] $P1 $P2 $P3 $P4', ARGS_TASK);
  addJob(db, 'args', [['args', 0]], { runnable: false });
  publishJob(db, 'args');

  addTask(db, 'pair', 'cat $I1 $I2', {
    in_glob: '.left,.right',
    out_glob: '.both',
    stdout_glob: '.both',
    parameters: [
      { flag: '-l', alias: 'left', type: 'file', validators: ['seq'] },
      { flag: '-r', alias: 'right', type: 'file' },
    ],
  });
  addTask(db, 'size', 'wc -c $I1', { in_glob: '.both', out_glob: '.size', stdout_glob: '.size' });
  addJob(db, 'pair', [['pair', 0], ['size', 1]], { runnable: false });
  publishJob(db, 'pair');

  addTask(db, 'versioned', 'echo one', { out_glob: '.out' });
  addJob(db, 'versioned', [['versioned', 0]], { runnable: false });
  publishJob(db, 'versioned');
  saveTask(db, { name: 'versioned', backend: 'local', in_glob: '.input', out_glob: '.out', stdout_glob: '.out', executable: 'echo two' });
  publishJob(db, 'versioned');

  addTask(db, 'slow', 'sleep 30', { out_glob: '.out' });
  addJob(db, 'slow', [['slow', 0]]);

  addTask(db, 'draft', 'true', { out_glob: '.out' });
  addJob(db, 'draft', [['draft', 0]], { runnable: false });
});

afterAll(async () => {
  await t?.close();
});

describe('submitting', () => {
  it('JSON: 202 with the run and its Location; the typed values reach argv one element each', async () => {
    const r = await postJson('/services/args', { args_mode: 'slow', args_verbose: false, args_text: 'two words', input_data: 'x\n' });
    expect(r.status).toBe(202);
    expect(r.location).toBe(`/api/v1/runs/${r.body.id}`);
    expect(r.body).toMatchObject({ job: 'args', version: 1, state: expect.stringMatching(/Submitted|Running|Complete/) });
    expect(await t.core.waitFor(r.body.id, 10_000)).toBe(true);
    const run = (await (await fetch(t.url + r.location)).json()) as any;
    expect(run.state).toBe('Complete');
    expect((await download(run.results[0].url)).text).toBe('[-n][3][--mode][slow][two words]');
  });

  it('multipart: form text is parsed to the types, a bool switch turns on, and ?wait answers 200 with the finished run', async () => {
    const form = new FormData();
    form.append('args_count', '7');
    form.append('args_mode', 'fast');
    form.append('args_verbose', 'true');
    form.append('args_text', 'a "quoted" $P1; rm -rf /');
    form.append('input_data', new Blob(['data']), 'in.txt');
    const r = await postForm('/services/args?wait=10', form);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('Complete');
    expect(r.body.steps).toEqual([expect.objectContaining({ key: 's1', task: 'args', state: 'done', attempts: 1, exit_code: 0 })]);
    expect(r.body.duration_ms).toBeGreaterThanOrEqual(0);
    expect((await download(r.body.results[0].url)).text).toBe('[-n][7][--mode][fast][-v][a "quoted" $P1; rm -rf /]');
  });

  it('every invalid field is reported as RFC 9457 problem details, located by JSON pointer', async () => {
    const r = await postJson('/services/args', { args_count: 11, args_mode: 'medium', args_verbose: 'yes', args_text: 'x'.repeat(41), extra: 1 });
    expect(r.status).toBe(400);
    expect(r.type).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400, instance: '/api/v1/services/args' });
    expect(r.body.errors).toEqual([
      { pointer: '/args_count', detail: 'must be at most 10' },
      { pointer: '/args_mode', detail: 'must be one of "fast", "slow"' },
      { pointer: '/args_verbose', detail: 'must be true or false' },
      { pointer: '/args_text', detail: 'must be at most 40 characters' },
      { pointer: '/extra', detail: 'is not a field of this service' },
      { pointer: '/input_data', detail: 'is required' },
    ]);
  });

  it('form fields are located by name; a text value for a file field and a malformed file object are refused', async () => {
    const form = new FormData();
    form.append('args_count', 'three');
    form.append('args_mode', 'fast');
    form.append('args_text', 'ok');
    form.append('input_data', 'not a file part');
    const r = await postForm('/services/args', form);
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([
      { field: 'args_count', detail: 'must be a whole number' },
      { field: 'input_data', detail: 'must be a file upload' },
    ]);
    const j = await postJson('/services/args', { args_mode: 'fast', args_verbose: true, args_text: 'x', input_data: { content: '%%%', encoding: 'base64', size: 3 } });
    expect(j.body.errors).toEqual([
      { pointer: '/input_data/size', detail: 'is not a member of a file object (content, filename, encoding)' },
      { pointer: '/input_data/content', detail: 'is not valid base64' },
    ]);
  });

  it('?wait must be whole seconds within the limit; the problem names the query parameter', async () => {
    const r = await postJson('/services/args?wait=soon', {});
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ parameter: 'wait', detail: 'must be a whole number of seconds from 0 to 300' }]);
  });

  it('unknown service 404, unpublished service 403, other media types 415, all as problem details', async () => {
    const missing = await postJson('/services/nope', {});
    expect([missing.status, missing.type.split(';')[0], missing.body.detail]).toEqual([404, 'application/problem+json', 'No published service named "nope".']);
    publishJob(t.core.db, 'draft');
    setRunnable(t.core.db, 'draft', false);
    const off = await postJson('/services/draft', { input_data: 'x' });
    expect([off.status, off.body.detail]).toEqual([403, 'draft is present but currently disabled.']);
    const res = await fetch(api('/services/args'), { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hi' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as any).status).toBe(415);
    const route = await fetch(api('/nowhere'));
    expect([route.status, route.headers.get('content-type')?.split(';')[0]]).toEqual([404, 'application/problem+json']);
  });

  it('a body that is not JSON, or not a JSON object, is a 400 problem', async () => {
    const bad = await fetch(api('/services/args'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"args_mode":' });
    expect([bad.status, ((await bad.json()) as any).detail]).toEqual([400, 'The body is not valid JSON.']);
    const list = await postJson('/services/args', [1, 2]);
    expect([list.status, list.body.errors]).toEqual([400, [{ pointer: '', detail: 'must be a JSON object' }]]);
  });

  it('the A_A route for the same Job keeps A_A rules: every parameter is required, defaults or not', async () => {
    const r = await postSubmission(t.url, { job: 'args', submission_name: 'aa', email: 'a@b.com', args_mode: 'fast', args_text: 'x' }, { name: 'f.txt', content: 'x' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/^Required Parameter for args Missing\.You are missing a required parameter/);
    const ok = await postSubmission(
      t.url,
      { job: 'args', submission_name: 'aa', email: 'a@b.com', args_count: '2', args_mode: 'fast', args_verbose: 'FALSE', args_text: 'x' },
      { name: 'f.txt', content: 'x' },
    );
    expect(ok.status).toBe(201);
    expect((await pollBatch(t.url, ok.body.UUID)).state).toBe('Complete');
  });
});

describe('named input files', () => {
  it('each file parameter lands as <id><in_glob i> and downstream steps see the results', async () => {
    const form = new FormData();
    form.append('pair_left', new Blob([new Uint8Array(fixture('5ptpA.fasta'))]), '5ptpA.fasta');
    form.append('pair_right', new Blob(['RIGHT\n']), 'right.txt');
    const r = await postForm('/services/pair?wait=15', form);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('Complete');
    expect(r.body.steps.map((s: any) => [s.key, s.state])).toEqual([
      ['s1', 'done'],
      ['s2', 'done'],
    ]);
    const both = r.body.results.find((x: any) => x.name.endsWith('.both'));
    const size = r.body.results.find((x: any) => x.name.endsWith('.size'));
    const expected = fixture('5ptpA.fasta').toString() + 'RIGHT\n';
    expect((await download(both.url)).text).toBe(expected);
    expect((await download(size.url)).text.trim()).toBe(`${Buffer.byteLength(expected)} ${r.body.id}.both`);
    const argv = t.core.runs.attempts(t.core.runs.submission(r.body.id)!.id)[0].argv;
    expect(JSON.parse(argv!)).toEqual(['cat', `${r.body.id}.left`, `${r.body.id}.right`]);
  });

  it('a file parameter checks its own validators', async () => {
    const form = new FormData();
    form.append('pair_left', new Blob([new Uint8Array(fixture('5ptpA_badseq.fasta'))]), 'bad.fasta');
    form.append('pair_right', new Blob(['x']), 'r.txt');
    const r = await postForm('/services/pair', form);
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ field: 'pair_left', detail: 'could not be validated as seq' }]);
  });
});

describe('versions', () => {
  it('/services/{job} runs the latest version, /services/{job}/v{n} a fixed one', async () => {
    const latest = await postJson('/services/versioned?wait=10', { input_data: 'x' });
    const first = await postJson('/services/versioned/v1?wait=10', { input_data: 'x' });
    expect([latest.body.version, first.body.version]).toEqual([2, 1]);
    expect((await download(latest.body.results[0].url)).text).toBe('two\n');
    expect((await download(first.body.results[0].url)).text).toBe('one\n');
    expect((await postJson('/services/versioned/v3', { input_data: 'x' })).status).toBe(404);
  });

  it('editing a published Job does not change what its live versions run until it is published again', async () => {
    saveTask(t.core.db, { name: 'versioned', backend: 'local', in_glob: '.input', out_glob: '.out', stdout_glob: '.out', executable: 'echo three' });
    const r = await postJson('/services/versioned?wait=10', { input_data: 'x' });
    expect([r.body.version, (await download(r.body.results[0].url)).text]).toEqual([2, 'two\n']);
  });

  it('lists published services with their versions', async () => {
    const list = (await (await fetch(api('/services'))).json()) as any[];
    expect(list.find((s) => s.name === 'versioned')).toMatchObject({ version: 2, versions: [1, 2], url: '/api/v1/services/versioned' });
    expect(list.some((s) => s.name === 'draft')).toBe(false);
  });
});

describe('runs', () => {
  it('result downloads honour Range requests', async () => {
    const r = await postJson('/services/args?wait=10', { args_mode: 'fast', args_verbose: false, args_text: 'abcdef', input_data: 'x' });
    const url = r.body.results[0].url;
    const part = await download(url, { Range: 'bytes=4-7' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 4-7/${r.body.results[0].size}`);
    expect(part.text).toBe('[3][');
    const full = await download(url);
    expect([full.status, full.headers.get('accept-ranges')]).toEqual([200, 'bytes']);
    const beyond = await download(url, { Range: 'bytes=999-' });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${r.body.results[0].size}`);
    expect((await download(`/api/v1/runs/${r.body.id}/results/..%2F..%2Fworkbench.sqlite`)).status).toBe(404);
  });

  it('cancel stops a running run; cancelling a finished run is a conflict', async () => {
    const r = await postJson('/services/slow', { input_data: 'x' });
    expect(r.status).toBe(202);
    for (let i = 0; i < 100 && t.core.runs.submission(r.body.id)?.status !== 1; i++) await new Promise((res) => setTimeout(res, 20));
    const res = await fetch(api(`/runs/${r.body.id}/cancel`), { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).state).toBe('Cancelled');
    const again = await fetch(api(`/runs/${r.body.id}/cancel`), { method: 'POST' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as any).detail).toMatch(/has already finished \(Cancelled\)/);
  });

  it('an unknown run is a 404 problem', async () => {
    const res = await fetch(api('/runs/00000000-0000-0000-0000-000000000000'));
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).detail).toBe('No run with id "00000000-0000-0000-0000-000000000000".');
  });
});
