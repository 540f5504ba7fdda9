// CWL over HTTP on a real server: import through the workbench API, run the imported workflow, export it again; A_A v2's routes.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync, strFromU8 } from 'fflate';
import { loadDocumentByString, Workflow } from 'cwl-ts-auto';
import { FIXTURES, pollBatch, postSubmission, startTestServer, type TestServer } from '../support/server';

let t: TestServer;
const admin = (p: string, init: RequestInit = {}) =>
  fetch(`${t.url}/api/admin${p}`, { ...init, headers: { Authorization: `Bearer ${t.server.token}`, ...(init.headers ?? {}) } });
const cwlFile = (name: string) => ({ name, text: fs.readFileSync(path.join(FIXTURES, 'cwl', name), 'utf8') });
const FILES = ['sort-lines.cwl', 'number-lines.cwl', 'sort-and-number.cwl'];

beforeAll(async () => {
  t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null } });
});
afterAll(async () => {
  await t?.close();
});

describe('the workbench API', () => {
  it('imports uploaded .cwl files; the workflow then runs as a Job: sort, then number the lines', async () => {
    const form = new FormData();
    for (const f of FILES.map(cwlFile)) form.append('files', new Blob([f.text]), f.name);
    form.append('runnable', 'true');
    const res = await admin('/cwl/import', { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ kind: 'cwl', created: { tasks: 2, jobs: 1 }, notes: [] });

    const post = await postSubmission(
      t.url,
      { job: 'sort_and_number', submission_name: 'cwl', email: 'a@b.org', sort_lines_reverse: 'TRUE', number_lines_start: '10', number_lines_style: 'a' },
      { name: 'lines.txt', content: 'banana\napple\ncherry\n' },
    );
    expect(post.status).toBe(201);
    const batch = await pollBatch(t.url, post.body.UUID);
    expect(batch.state).toBe('Complete');
    const sub = t.core.runs.submissionsOfBatch(t.core.runs.batch(post.body.UUID)!.id)[0];
    const results = t.core.runs.results(sub.id);
    const numbered = results.find((r) => r.task_name === 'number_lines');
    expect(fs.readFileSync(path.join(t.core.paths.root, numbered!.path), 'utf8')).toBe('    10:cherry\n    11:banana\n    12:apple\n');
  });

  it('refuses invalid CWL with each problem located, as JSON', async () => {
    const res = await admin('/cwl/import', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ files: [{ name: 'x.cwl', text: 'cwlVersion: v1.2\nclass: ExpressionTool\ninputs: []\noutputs: []\n' }] }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).problems).toEqual([{ path: 'x.cwl.class', message: 'unsupported class "ExpressionTool" (expected CommandLineTool or Workflow)' }]);
  });

  it('exports a Job as one packed CWL document or a zip of files, and a Task as a CommandLineTool', async () => {
    const packed = await admin('/cwl/jobs/sort_and_number');
    expect(packed.status).toBe(200);
    expect(packed.headers.get('content-disposition')).toContain('sort_and_number.cwl');
    const doc = await loadDocumentByString(await packed.text(), 'file:///x/sort_and_number.cwl');
    expect((doc as unknown[]).filter((p) => p instanceof Workflow)).toHaveLength(1);

    const zip = await admin('/cwl/jobs/sort_and_number?format=zip');
    expect(zip.headers.get('content-type')).toBe('application/zip');
    const entries = unzipSync(new Uint8Array(await zip.arrayBuffer()));
    expect(Object.keys(entries).sort()).toEqual(['number_lines.cwl', 'sort_and_number.cwl', 'sort_lines.cwl']);
    expect(strFromU8(entries['sort_and_number.cwl'])).toContain('run: sort_lines.cwl');

    const tool = await admin('/cwl/tasks/sort_lines');
    expect(await tool.text()).toContain('class: CommandLineTool');
    expect((await admin('/cwl/tasks/nope')).status).toBe(404);
  });

  it('needs the workbench token', async () => {
    expect((await fetch(`${t.url}/api/admin/cwl/jobs/sort_and_number`)).status).toBe(401);
  });
});

describe("A_A v2's uploadcwl/ and downloadcwl/", () => {
  it('uploadcwl/ takes the files of field `files` and makes the workflow runnable; downloadcwl/ gives a zip', async () => {
    const form = new FormData();
    const renamed = cwlFile('sort-and-number.cwl');
    renamed.text = renamed.text.replace('id: sort_and_number', 'id: uploaded_flow');
    for (const f of [cwlFile('sort-lines.cwl'), cwlFile('number-lines.cwl'), renamed]) form.append('files', new Blob([f.text]), f.name);
    const res = await fetch(`${t.url}/analytics_automated/uploadcwl/`, { method: 'POST', body: form });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ message: 'Imported 3 CWL files.', created: { jobs: 1 } });
    expect(t.core.lookup.job('uploaded_flow')?.runnable).toBe(true);

    const zip = await fetch(`${t.url}/analytics_automated/downloadcwl/?job_name=uploaded_flow`);
    expect(zip.status).toBe(200);
    expect(Object.keys(unzipSync(new Uint8Array(await zip.arrayBuffer())))).toContain('uploaded_flow.cwl');
    expect((await fetch(`${t.url}/analytics_automated/downloadcwl/?job_name=nothing`)).status).toBe(404);
  });
});
