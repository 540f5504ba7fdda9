// A_A-compatible POST /submission: validation order, exact error bodies, all-or-nothing, batches, quotas.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, postSubmission, getJson, fixture, filesUnder, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';

let t: TestServer;
const base = { submission_name: 'test', email: 'a@b.com' };
const file1 = { name: 'file1.txt', content: fixture('file1.txt') };

function rawGet(url: string, rawPath: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: rawPath, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function counts() {
  const db = t.core.db;
  const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return { batches: one('SELECT COUNT(*) n FROM batch'), submissions: one('SELECT COUNT(*) n FROM submission') };
}

beforeAll(async () => {
  // Paused: intake only; nothing runs, so quotas count every accepted submission.
  t = await startTestServer({ paused: true, settings: { queue_hog_size: null, queue_hard_limit: null } });
  const db = t.core.db;
  addTask(db, 'task1', '/bin/echo $P1 $P2', {
    parameters: [
      { flag: '-t', alias: 'this' },
      { flag: '-lm', alias: 'that', bool_valued: true },
    ],
  });
  addTask(db, 'task2', '/bin/cat $I1');
  addTask(db, 'fasta', '/bin/cat $I1', { in_glob: '.fasta' });
  addTask(db, 'image', '/bin/cat $I1', { in_glob: '.png' });
  addJob(db, 'job1', [['task1', 0]]);
  addJob(db, 'job2', [['task2', 0]]);
  addJob(db, 'disabled', [['task2', 0]], { runnable: false });
  addJob(db, 'seqjob', [['fasta', 0]], { validators: ['seq'] });
  addJob(db, 'pngjob', [['image', 0]], { validators: ['png'] });
  db.prepare("INSERT INTO job (name, runnable) VALUES ('empty', 1)").run();
});

afterAll(async () => {
  await t?.close();
});

const job1 = { ...base, job: 'job1', task1_this: 'Value1', task1_that: 'TRUE' };

describe('POST /analytics_automated/submission/', () => {
  it('answers 201 with the batch UUID and the submission name, keys in A_A order', async () => {
    const r = await postSubmission(t.url, job1, file1);
    expect(r.status).toBe(201);
    expect(Object.keys(r.body)).toEqual(['UUID', 'submission_name']);
    expect(r.body.submission_name).toBe('test');
    expect(r.text).toBe(`{"UUID":"${r.body.UUID}","submission_name":"test"}`);
    const batch = await getJson(`${t.url}/analytics_automated/submission/${r.body.UUID}`);
    expect(batch.body.state).toBe('Submitted');
    expect(batch.body.submissions).toHaveLength(1);
    expect(batch.body.submissions[0].job_name).toBe('job1');
  });

  it('accepts submission.json and urlencoded bodies', async () => {
    const r = await postSubmission(t.url, job1, file1, '/analytics_automated/submission.json');
    expect(r.status).toBe(201);
    const res = await fetch(`${t.url}/analytics_automated/submission/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(job1).toString(),
    });
    // A urlencoded body cannot carry the file: Django's form says so.
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('{"error":{"input_data":["This field is required."]}}');
  });

  it('makes one Batch with one Submission per job for a comma list', async () => {
    const r = await postSubmission(t.url, { ...job1, job: 'job1,job2' }, file1);
    expect(r.status).toBe(201);
    const batch = await getJson(`${t.url}/analytics_automated/submission/${r.body.UUID}`);
    expect(batch.body.submissions.map((s: any) => s.job_name).sort()).toEqual(['job1', 'job2']);
    const single = await getJson(`${t.url}/analytics_automated/submission/single/${batch.body.submissions[0].UUID}`);
    expect(Object.keys(single.body)).toEqual(['submission_name', 'job_name', 'UUID', 'state', 'last_message', 'email', 'input_file', 'results']);
    expect(single.body.email).toBe('a@b.com');
    // Each submission's input downloads from its input_file URL.
    const input = await fetch(t.url + single.body.input_file);
    expect(input.status).toBe(200);
    expect(await input.text()).toBe('these are the file contents!\n');
  });

  const errors: Array<[string, Record<string, string>, { name: string; content: Buffer | string } | null, number, string]> = [
    ['a missing core field', { submission_name: 'x', job: 'job1' }, file1, 400, '{"error":"Input does not contain all required fields"}'],
    ['an unknown job', { ...base, job: 'job34' }, file1, 400, '{"error":"Job name supplied does not exist"}'],
    ['one unknown job in a list', { ...job1, job: 'job1,job34' }, file1, 400, '{"error":"Job name supplied does not exist"}'],
    ['a disabled job', { ...base, job: 'disabled' }, file1, 403, '{"error":"disabled is present but currently disabled."}'],
    ['a job without steps', { ...base, job: 'empty' }, file1, 400, '{"error":"Job Requested: empty appears to have no Steps"}'],
    [
      'a missing parameter',
      { ...base, job: 'job1', task1_this: 'v' },
      file1,
      400,
      '{"error":"Required Parameter for job1 Missing.You are missing a required parameter in your web form submission. GET /analytics_automated/endpoints to discover all required options"}',
    ],
    [
      'punctuation in a value',
      { ...job1, task1_this: '-5' },
      file1,
      400,
      '{"error":"Required Parameter for job1 Missing.Incoming data can not contain punctuation: . GET /analytics_automated/endpoints to discover all required options"}',
    ],
    [
      'a Python keyword',
      { ...job1, task1_that: 'True' },
      file1,
      400,
      '{"error":"Required Parameter for job1 Missing.Incoming data can not contain python keyords: True. GET /analytics_automated/endpoints to discover all required options"}',
    ],
    [
      'an R keyword',
      { ...job1, task1_this: 'mean' },
      file1,
      400,
      '{"error":"Required Parameter for job1 Missing.Incoming data can not contain R keywords: mean. GET /analytics_automated/endpoints to discover all required options"}',
    ],
    [
      'a unix command',
      { ...job1, task1_this: 'bash' },
      file1,
      400,
      '{"error":"Required Parameter for job1 Missing.Incoming data can not contain unix commands: bash. GET /analytics_automated/endpoints to discover all required options"}',
    ],
    [
      'punctuation in an extra field',
      { ...job1, extra: 'a;b' },
      file1,
      400,
      '{"error":"Required Parameter for job1 Missing.Incoming data can not contain punctuation: . GET /analytics_automated/endpoints to discover all required options"}',
    ],
    ['no file', job1, null, 400, '{"error":{"input_data":["This field is required."]}}'],
    ['an empty file', job1, { name: 'empty.fasta', content: '' }, 400, '{"error":{"input_data":["The submitted file is empty."]}}'],
    ['a bad email', { ...job1, email: 'not-an-email' }, file1, 400, '{"error":{"email":["Enter a valid email address."]}}'],
    ['a blank name', { ...job1, submission_name: '' }, file1, 400, '{"error":{"submission_name":["This field is required."]}}'],
    [
      'a name over 64 characters',
      { ...job1, submission_name: 'x'.repeat(65) },
      file1,
      400,
      '{"error":{"submission_name":["Ensure this value has at most 64 characters (it has 65)."]}}',
    ],
    [
      'several form errors at once, in field order',
      { ...job1, submission_name: '', email: 'bad' },
      null,
      400,
      '{"error":{"submission_name":["This field is required."],"email":["Enter a valid email address."],"input_data":["This field is required."]}}',
    ],
    ['a FASTA that fails seq', { ...base, job: 'seqjob' }, { name: 'bad.fasta', content: fixture('5ptpA_badseq.fasta') }, 400, '{"error":{"input_data":["Input data could not be validated"]}}'],
    ['a PDB file given to seq (A_A: 507)', { ...base, job: 'seqjob' }, { name: '1iar.pdb', content: fixture('1iar.pdb') }, 400, '{"error":{"input_data":["Input data could not be validated"]}}'],
    ['an image given to seq (A_A: 507)', { ...base, job: 'seqjob' }, { name: 'test.png', content: fixture('test.png') }, 400, '{"error":{"input_data":["Input data could not be validated"]}}'],
    ['a GIF given to png', { ...base, job: 'pngjob' }, { name: 'test.gif', content: fixture('test.gif') }, 400, '{"error":{"input_data":["Input data could not be validated"]}}'],
    ['text given to png (A_A: 507)', { ...base, job: 'pngjob' }, file1, 400, '{"error":{"input_data":["Input data could not be validated"]}}'],
  ];

  for (const [what, fields, file, status, body] of errors) {
    it(`rejects ${what} with ${status} and A_A's body, leaving nothing behind`, async () => {
      const before = counts();
      const filesBefore = filesUnder(t.core.paths.uploads).length;
      const r = await postSubmission(t.url, fields, file);
      expect(r.status).toBe(status);
      expect(r.text).toBe(body);
      expect(counts()).toEqual(before);
      expect(filesUnder(t.core.paths.uploads).length).toBe(filesBefore);
      expect(filesUnder(t.core.paths.tmp)).toEqual([]);
    });
  }

  it('accepts a valid FASTA through seq and a PNG through png', async () => {
    expect((await postSubmission(t.url, { ...base, job: 'seqjob' }, { name: 'a.fasta', content: fixture('5ptpA.fasta') })).status).toBe(201);
    expect((await postSubmission(t.url, { ...base, job: 'pngjob' }, { name: 'test.png', content: fixture('test.png') })).status).toBe(201);
  });

  it('answers a JSON body with 415 as DRF does', async () => {
    const res = await fetch(`${t.url}/analytics_automated/submission/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(job1),
    });
    expect(res.status).toBe(415);
    expect(await res.text()).toBe('{"detail":"Unsupported media type \\"application/json\\" in request."}');
  });

  it('answers malformed multipart with a structured 400 and keeps serving', async () => {
    const res = await fetch(`${t.url}/analytics_automated/submission/`, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="job"\r\n\r\njob1\r\n--XY',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/Malformed|required fields/);
    expect((await getJson(`${t.url}/analytics_automated/endpoints/`)).status).toBe(200);
  });

  it('stores a path-like upload name as a plain file name inside the submission folder', async () => {
    const r = await postSubmission(t.url, job1, { name: '../../etc/passwd', content: 'x' });
    expect(r.status).toBe(201);
    const batch = await getJson(`${t.url}/analytics_automated/submission/${r.body.UUID}`);
    const input = batch.body.submissions[0].input_file as string;
    expect(input).toMatch(/^\/submissions\/[^/]+\/passwd$/);
    expect(fs.existsSync(path.join(t.dataDir, input))).toBe(true);
  });

  it('stores uploads byte for byte, whether held until the part ends or streamed (past 64 KiB)', async () => {
    for (const size of [1, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 17]) {
      const content = crypto.randomBytes(size);
      const r = await postSubmission(t.url, job1, { name: `blob${size}.bin`, content });
      expect(r.status).toBe(201);
      const batch = await getJson(`${t.url}/analytics_automated/submission/${r.body.UUID}`);
      const stored = fs.readFileSync(path.join(t.dataDir, batch.body.submissions[0].input_file));
      expect(stored.equals(content)).toBe(true);
      const download = await fetch(t.url + batch.body.submissions[0].input_file);
      expect(Buffer.from(await download.arrayBuffer()).equals(content)).toBe(true);
    }
  });

  it('answers intake and batch polls with the same headers and bodies on every spelling of their routes', async () => {
    const posted = await fetch(`${t.url}/analytics_automated/submission.json?format=json`, {
      method: 'POST',
      body: (() => {
        const form = new FormData();
        for (const [k, v] of Object.entries(job1)) form.append(k, v);
        form.append('input_data', new Blob(['abc']), 'x.txt');
        return form;
      })(),
    });
    expect(posted.status).toBe(201);
    expect(posted.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(posted.headers.get('x-content-type-options')).toBe('nosniff');
    const { UUID } = (await posted.json()) as { UUID: string };
    const spellings = [`/submission/${UUID}`, `/submission/${UUID}/`, `/submission/${UUID}.json`, `/submission/${UUID}?format=json`];
    const bodies = [];
    for (const p of spellings) {
      const res = await fetch(`${t.url}/analytics_automated${p}`);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      bodies.push(await res.text());
    }
    expect(new Set(bodies).size).toBe(1);
    // HEAD answers the headers only.
    const head = await fetch(`${t.url}/analytics_automated/submission/${UUID}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const unknown = await fetch(`${t.url}/analytics_automated/submission/00000000-0000-0000-0000-000000000000`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: 'Not found.' });
  });

  it('never serves files outside the submissions folder', async () => {
    for (const p of ['/submissions/../workbench.sqlite', '/submissions/%2e%2e/workbench.sqlite', '/submissions/..%2fworkbench.sqlite', '/submissions/%00']) {
      const res = await fetch(t.url + p);
      const body = Buffer.from(await res.arrayBuffer());
      // fetch normalises `..` away (the UI page answers); nothing may return the store itself.
      expect(body.subarray(0, 15).toString()).not.toBe('SQLite format 3');
      expect(res.status === 404 || res.headers.get('content-type')?.startsWith('text/html')).toBe(true);
    }
    // Raw request paths, not normalised by a client.
    for (const p of ['/submissions/../workbench.sqlite', '/submissions/..%2fworkbench.sqlite', '/submissions/%2e%2e%2fworkbench.sqlite']) {
      const status = await rawGet(t.url, p);
      expect(status).toBe(404);
    }
  });
});

describe('per-client quotas (A_A §2.4)', () => {
  it('drops a client to low priority at the hog size and refuses it at the hard limit', async () => {
    const q = await startTestServer({ paused: true, settings: { queue_hog_size: 2, queue_hard_limit: 3 } });
    try {
      addTask(q.core.db, 't', '/bin/true', { out_glob: '.stdout', stdout_glob: '.stdout' });
      addJob(q.core.db, 'j', [['t', 0]]);
      const post = () => postSubmission(q.url, { ...base, job: 'j' }, file1);
      const priorities: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await post();
        expect(r.status).toBe(201);
        const sub = q.core.db.prepare('SELECT priority FROM submission s JOIN batch b ON b.id = s.batch_id WHERE b.uuid = ?').get(r.body.UUID) as { priority: number };
        priorities.push(sub.priority);
      }
      expect(priorities).toEqual([1, 1, 0]);
      const refused = await post();
      expect(refused.status).toBe(429);
      expect(refused.text).toBe('{"error":"You have no authority to post jobs.Either you are not logged in you have too many, 3, concurrent jobs running"}');
    } finally {
      await q.close();
    }
  });
});

describe('GET routes', () => {
  it('lists jobs paginated by 10 with absolute next/previous links', async () => {
    for (let i = 0; i < 8; i++) addJob(t.core.db, `page${i}`, [['task2', 0]]);
    const p1 = await getJson(`${t.url}/analytics_automated/job/`);
    expect(p1.body.count).toBe(14);
    expect(p1.body.results).toHaveLength(10);
    expect(p1.body.previous).toBeNull();
    expect(p1.body.next).toBe(`${t.url}/analytics_automated/job/?page=2`);
    expect(p1.body.results[0]).toEqual({ pk: expect.any(Number), name: 'job1' });
    const p2 = await getJson(p1.body.next);
    expect(p2.body.results).toHaveLength(4);
    expect(p2.body.previous).toBe(`${t.url}/analytics_automated/job/`);
    expect((await getJson(`${t.url}/analytics_automated/job/?page=9`)).status).toBe(404);
  });

  it('shows a job as its steps with configuration only', async () => {
    const r = await getJson(`${t.url}/analytics_automated/job/job1?format=json`);
    expect(r.text).toBe('{"name":"job1","steps":[{"task":{"configuration":[]},"ordering":0}]}');
  });

  it('lists every job as an endpoint string with its parameter fields', async () => {
    const r = await getJson(`${t.url}/analytics_automated/endpoints/`);
    expect(r.body.jobs[0]).toBe(
      '/submission/&job=job1&submission_name=[STRING]&email=[EMAIL_STRING]&input_data=[FILE]&task1_this=[VALUE]&task1_that=[TRUE/FALSE]',
    );
    expect(r.body.jobs).toContain('/submission/&job=disabled&submission_name=[STRING]&email=[EMAIL_STRING]&input_data=[FILE]');
  });

  it('answers unknown lookups with DRF 404 bodies', async () => {
    for (const p of ['submission/00000000-0000-0000-0000-000000000000', 'submission/single/00000000-0000-0000-0000-000000000000', 'job/nope', 'nothing/here']) {
      const r = await getJson(`${t.url}/analytics_automated/${p}`);
      expect(r.status).toBe(404);
      expect(r.text).toBe('{"detail":"Not found."}');
    }
  });

  it('answers jobtimes with {} when nothing has completed', async () => {
    const r = await getJson(`${t.url}/analytics_automated/jobtimes/`);
    expect(r.text).toBe('{}');
  });
});
