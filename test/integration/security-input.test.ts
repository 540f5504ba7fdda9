// Hostile input: path traversal in URLs and file names, symlinks left in working folders, upload and form limits,
// and parameter values full of shell syntax that must reach the program as one verbatim argv element.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';
import { publishJob } from '../../src-main/core/publish';
import { saveQueueType, saveBackend } from '../../src-main/core/store/config-repo';
import { multipart, rawRequest, submitAa, until } from '../faults/harness';

let t: TestServer;
const SECRET = path.join(os.tmpdir(), `aa-secret-${process.pid}.txt`);
const counts = () => t.core.db.prepare('SELECT (SELECT COUNT(*) FROM submission) AS subs, (SELECT COUNT(*) FROM batch) AS batches').get();
const uploadFolders = () => fs.readdirSync(t.core.paths.uploads).length;

async function finished(batchUuid: string) {
  return until(async () => {
    const b = await rawRequest(`${t.url}/analytics_automated/submission/${batchUuid}`);
    return ['Complete', 'Error', 'Crash'].includes(b.body?.state) ? b.body : null;
  }, 'the batch to finish');
}

beforeAll(async () => {
  fs.writeFileSync(SECRET, 'top secret\n');
  t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null } });
  const db = t.core.db;
  addTask(db, 'echo', 'echo hello', { out_glob: '.out', stdout_glob: '.out' });
  addJob(db, 'echo', [['echo', 0]]);
  // Outputs that are links to files elsewhere: what an unpacked client archive could contain.
  addTask(db, 'link_out', `ln -s ${SECRET} $O1`, { out_glob: '.lnk', stdout_glob: '.log' });
  addJob(db, 'link_out', [['link_out', 0]]);
  addTask(db, 'link_rel', 'ln -s ../../../../../../../../../../etc/hostname $O1', { out_glob: '.lnk', stdout_glob: '.log' });
  addJob(db, 'link_rel', [['link_rel', 0]]);
  addTask(db, 'capped', 'cat $I1', { out_glob: '.out', stdout_glob: '.out' });
  addJob(db, 'capped', [['capped', 0]]);
  // Each argv element printed in brackets: one element per parameter value, whatever it holds.
  addTask(db, 'argv', 'printf [%s] -t $P1', {
    parameters: [{ flag: '-t', alias: 'text', switchless: true, type: 'string' }],
  });
  addJob(db, 'argv', [['argv', 0]], { runnable: false });
  publishJob(db, 'argv');
  addTask(db, 'aa_argv', 'printf [%s] $P1', { parameters: [{ flag: '-t', alias: 'text', switchless: true }] });
  addJob(db, 'aa_argv', [['aa_argv', 0]]);
  saveQueueType(db, { name: 'bash', execution_behaviour: 5 });
  saveBackend(db, { name: 'bash', queue_type: 'bash', root_path: '' });
  addTask(db, 'bash_argv', `printf '[%s]' "$P1" > "$O1"`, {
    backend: 'bash',
    out_glob: '.out',
    stdout_glob: '.log',
    parameters: [{ flag: '-t', alias: 'text', type: 'string' }],
  });
  addJob(db, 'bash_argv', [['bash_argv', 0]], { runnable: false });
  publishJob(db, 'bash_argv');
});

afterAll(async () => {
  await t?.close();
  fs.rmSync(SECRET, { force: true });
});

describe('no path traversal when serving files', () => {
  let input: string;
  beforeAll(async () => {
    const r = await submitAa(t.url, { job: 'echo' });
    const batch = await finished(r.body.UUID);
    input = batch.submissions[0].input_file;
    expect((await rawRequest(t.url + input)).text).toBe('data\n');
  });

  const escapes = [
    '/submissions/../workbench.sqlite',
    '/submissions/..%2fworkbench.sqlite',
    '/submissions/%2e%2e/workbench.sqlite',
    '/submissions/%2e%2e%2fworkbench.sqlite',
    '/submissions/..%5cworkbench.sqlite',
    '/submissions/%2fetc%2fpasswd',
    '/submissions//etc/passwd',
    '/submissions/%00/../workbench.sqlite',
    '/submissions/x%00.txt',
    '/submissions/%c0%ae%c0%ae/workbench.sqlite',
    '/submissions/%ef%bc%8e%ef%bc%8e%ef%bc%8fworkbench.sqlite',
    '/submissions/..%u2215workbench.sqlite',
    '/submissions/....//....//workbench.sqlite',
    `/submissions/${encodeURIComponent(SECRET)}`,
  ];
  for (const p of escapes) {
    it(`refuses ${p}`, async () => {
      const r = await rawRequest(t.url + p);
      expect([400, 404]).toContain(r.status);
      expect(r.body).not.toBeNull();
      expect(r.text).not.toMatch(/SQLite format|root:|top secret/);
    });
  }

  it('refuses traversal inside a real submission folder too', async () => {
    const folder = input.split('/').slice(0, 3).join('/');
    for (const p of [`${folder}/../../workbench.sqlite`, `${folder}/logs/../../../workbench.sqlite`, `${folder}/logs`]) {
      const r = await rawRequest(t.url + p);
      expect(r.status).toBe(404);
    }
  });

  it('never stores a symlink a task left among its outputs (absolute or relative): it counts as a missing output', async () => {
    for (const job of ['link_out', 'link_rel']) {
      const r = await submitAa(t.url, { job });
      const batch = await finished(r.body.UUID);
      const sub = batch.submissions[0];
      expect(sub.state).toBe('Error');
      expect(sub.last_message).toMatch(/^Failed with missing outputs: ln -s /);
      expect(sub.results).toEqual([]);
      const native = await rawRequest(`${t.url}/api/v1/runs/${sub.UUID}`);
      expect(native.body.results).toEqual([]);
      await t.core.deleteRun(sub.UUID);
    }
    expect(fs.readFileSync(SECRET, 'utf8')).toBe('top secret\n');
  });

  it('never serves a link inside a submission folder that points outside it (to another file or another run)', async () => {
    const r = await submitAa(t.url, { job: 'echo' });
    const [a, b] = [(await finished(r.body.UUID)).submissions[0], (await finished((await submitAa(t.url, { job: 'echo' })).body.UUID)).submissions[0]];
    const outA = path.join(t.core.paths.uploads, a.UUID);
    fs.symlinkSync(SECRET, path.join(outA, 'secret.txt'));
    fs.symlinkSync(path.join(t.core.paths.uploads, b.UUID, 'in.txt'), path.join(outA, 'other-run.txt'));
    fs.symlinkSync(path.join(outA, `${a.UUID}.out`), path.join(outA, 'same-run.txt'));
    for (const name of ['secret.txt', 'other-run.txt']) {
      const got = await rawRequest(`${t.url}/submissions/${a.UUID}/${name}`);
      expect(got.status).toBe(404);
      expect(got.text).not.toMatch(/top secret|data/);
    }
    expect((await rawRequest(`${t.url}/submissions/${a.UUID}/same-run.txt`)).text).toBe('hello\n');
  });
});

describe('file names are sanitised into the submission folder', () => {
  const names = [
    '../../../../etc/passwd',
    '/etc/passwd',
    'C:\\Windows\\system32\\evil.txt',
    '..',
    '.',
    'a\u202etxt.exe',
    'zero\u200bwidth.txt',
    '\uff0e\uff0e\uff0fdots.txt',
    'x'.repeat(400),
    'quote"<>|?*.txt',
  ];
  for (const name of names) {
    it(`stores ${JSON.stringify(name.slice(0, 40))} as a plain name inside its folder`, async () => {
      const r = await submitAa(t.url, { job: 'echo' }, { file: { name, content: 'data\n' } });
      expect(r.status, r.text).toBe(201);
      const sub = t.core.runs.submissionsOfBatch(t.core.runs.batch(r.body.UUID)!.id)[0];
      expect(path.dirname(sub.input_path)).toBe(path.join('submissions', sub.uuid));
      const stored = path.basename(sub.input_path);
      expect(stored).not.toMatch(/[\\/\u0000-\u001f\u200b\u202e<>:"|?*]/);
      expect(stored).not.toMatch(/^\.+$/);
      expect(stored.length).toBeLessThanOrEqual(200);
      expect(fs.readFileSync(path.join(t.dataDir, sub.input_path), 'utf8')).toBe('data\n');
      await finished(r.body.UUID);
    });
  }

  it('refuses control characters in a part header as malformed (400), storing nothing', async () => {
    const before = counts();
    const r = await submitAa(t.url, { job: 'echo' }, { file: { name: 'ctl\u0001\u001f.txt', content: 'data\n' } });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'Malformed request body: Malformed part header' });
    expect(counts()).toEqual(before);
  });
});

describe('upload and form limits', () => {
  afterAll(() => {
    t.core.updateSettings({ upload_limit_bytes: 2 * 1024 ** 3, upload_max_fields: 1000, upload_max_field_bytes: 1024 ** 2, upload_max_files: 16, upload_idle_timeout_ms: 30_000 });
  });

  it('caps uploads per service (413), whether the job field comes before or after the file, storing nothing', async () => {
    await rawRequest(`${t.url}/api/admin/service-policies/capped`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${t.server.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ upload_limit_bytes: 1000 }),
    });
    const before = counts();
    const folders = uploadFolders();
    const early = await submitAa(t.url, { job: 'capped' }, { file: { name: 'big.txt', content: 'x'.repeat(5000) } });
    expect(early.status).toBe(413);
    expect(early.body).toEqual({ error: 'Upload exceeds the limit of 1000 bytes' });
    // File part first, job field last: the service is only known at the end.
    const form = new FormData();
    form.append('input_data', new Blob(['x'.repeat(5000)]), 'big.txt');
    form.append('submission_name', 'late');
    form.append('email', 'a@b.com');
    form.append('job', 'capped');
    const req = new Request('http://x/', { method: 'POST', body: form });
    const late = await rawRequest(`${t.url}/analytics_automated/submission/`, {
      method: 'POST',
      body: Buffer.from(await req.arrayBuffer()),
      headers: { 'Content-Type': req.headers.get('content-type') as string },
    });
    expect(late.status).toBe(413);
    // Refused while streaming once the job field is read, or by intake at the end: a 413 either way.
    expect(late.body.error).toMatch(/^Upload exceeds the limit of 1000 bytes/);
    expect(counts()).toEqual(before);
    expect(uploadFolders()).toBe(folders);
    const fits = await submitAa(t.url, { job: 'capped' }, { file: { name: 'small.txt', content: 'x'.repeat(900) } });
    expect(fits.status).toBe(201);
    await finished(fits.body.UUID);
  });

  it('applies the configurable default upload cap to every other service', async () => {
    t.core.updateSettings({ upload_limit_bytes: 3000 });
    const r = await submitAa(t.url, { job: 'echo' }, { file: { name: 'big.txt', content: 'y'.repeat(4000) } });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/limit of 3000 bytes/);
    t.core.updateSettings({ upload_limit_bytes: 2 * 1024 ** 3 });
  });

  it('limits the number of fields, the size of one field and the number of files', async () => {
    t.core.updateSettings({ upload_max_fields: 10, upload_max_field_bytes: 100, upload_max_files: 2 });
    const fields: Record<string, string> = { job: 'echo' };
    for (let i = 0; i < 12; i++) fields[`f${i}`] = 'v';
    const many = await submitAa(t.url, fields);
    expect(many.status).toBe(413);
    expect(many.body).toEqual({ error: 'Too many fields (limit 10)' });
    const long = await submitAa(t.url, { job: 'echo', note: 'z'.repeat(101) });
    expect(long.status).toBe(413);
    expect(long.body).toEqual({ error: 'Field "note" exceeds 100 bytes' });
    const form = new FormData();
    for (const [k, v] of Object.entries({ job: 'echo', submission_name: 'n', email: 'a@b.com' })) form.append(k, v);
    for (let i = 0; i < 3; i++) form.append(i === 0 ? 'input_data' : `extra${i}`, new Blob(['x']), `f${i}.txt`);
    const req = new Request('http://x/', { method: 'POST', body: form });
    const files = await rawRequest(`${t.url}/analytics_automated/submission/`, {
      method: 'POST',
      body: Buffer.from(await req.arrayBuffer()),
      headers: { 'Content-Type': req.headers.get('content-type') as string },
    });
    expect(files.status).toBe(413);
    expect(files.body).toEqual({ error: 'Too many files (limit 2)' });
    t.core.updateSettings({ upload_max_fields: 1000, upload_max_field_bytes: 1024 ** 2, upload_max_files: 16 });
  });

  it('answers a body that stalls with 408 and keeps serving', async () => {
    t.core.updateSettings({ upload_idle_timeout_ms: 300 });
    const { body, type } = await multipart({ job: 'echo', submission_name: 'n', email: 'a@b.com' }, { name: 'a.txt', content: 'x'.repeat(1000) });
    const port = Number(new URL(t.url).port);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST /analytics_automated/submission/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`);
        socket.write(body.subarray(0, 200));
      });
      let text = '';
      socket.on('data', (c) => (text += c.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      setTimeout(() => socket.destroy(), 5000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(reply).toMatch(/"error":"Request body stalled: nothing arrived for 300 ms"/);
    expect((await rawRequest(`${t.url}/analytics_automated/job/`)).status).toBe(200);
    t.core.updateSettings({ upload_idle_timeout_ms: 30_000 });
  });
});

describe('parameter values never reach a shell', () => {
  const hostile = [
    '$(touch /tmp/aa-pwned-1)',
    '`touch /tmp/aa-pwned-2`',
    '; touch /tmp/aa-pwned-3',
    'a && touch /tmp/aa-pwned-4',
    '| cat /etc/passwd',
    '> /tmp/aa-pwned-5',
    'line one\nline two\r\n',
    '--output=/etc/x',
    '-rf',
    '* ~ $HOME ${PATH}',
    `it's "quoted" \\ back`,
    '$P1 $ID $TMP $VALUE',
    'ünïcødé ✓ \u202e',
  ];

  it('the A_A route refuses shell syntax with its sanitiser message and stores nothing', async () => {
    for (const value of hostile.slice(0, 6)) {
      const before = counts();
      const r = await submitAa(t.url, { job: 'aa_argv', aa_argv_text: value });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(/^Required Parameter for aa_argv Missing\.Incoming data can not contain punctuation/);
      expect(counts()).toEqual(before);
    }
  });

  it('through the native API each value arrives verbatim as one argv element (command tasks)', async () => {
    for (const value of hostile) {
      const r = await rawRequest(`${t.url}/api/v1/services/argv?wait=20`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ argv_text: value, input_data: 'x' }),
      });
      expect(r.status, r.text).toBe(200);
      expect(r.body.state).toBe('Complete');
      const out = await rawRequest(t.url + r.body.results[0].url);
      expect(out.text).toBe(`[-t][${value}]`);
      const argv = JSON.parse((t.core.db.prepare('SELECT a.argv FROM attempt a JOIN submission s ON s.id = a.submission_id WHERE s.uuid = ?').get(r.body.id) as { argv: string }).argv);
      expect(argv).toEqual(['printf', '[%s]', '-t', value]);
    }
    for (let i = 1; i <= 5; i++) expect(fs.existsSync(`/tmp/aa-pwned-${i}`)).toBe(false);
  });

  it('through the native API a script parameter is a quoted string, never code (bash backend)', async () => {
    for (const value of hostile) {
      const r = await rawRequest(`${t.url}/api/v1/services/bash_argv?wait=20`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ bash_argv_text: value, input_data: 'x' }),
      });
      expect(r.status, r.text).toBe(200);
      expect(r.body.state, JSON.stringify(r.body)).toBe('Complete');
      const out = await rawRequest(t.url + r.body.results[0].url);
      expect(out.text).toBe(`[${value}]`);
    }
    for (let i = 1; i <= 5; i++) expect(fs.existsSync(`/tmp/aa-pwned-${i}`)).toBe(false);
  });

  it('a NUL byte in a value is refused, not truncated', async () => {
    const r = await rawRequest(`${t.url}/api/v1/services/argv?wait=20`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ argv_text: 'a\u0000b', input_data: 'x' }),
    });
    expect(r.status).toBeLessThan(500);
    if (r.status === 200) {
      expect(r.body.state).toBe('Error');
      expect(r.body.last_message ?? JSON.stringify(r.body)).toMatch(/null bytes|NUL|cannot start/);
    } else expect(r.status).toBe(400);
  });
});
