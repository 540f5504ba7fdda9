// Specification of how the API docs page reads a generated OpenAPI document: services, fields, constraints and the try-it request.
import { describe, expect, it } from 'vitest';
import { buildDocument } from '../../src-main/core/openapi/document';
import type { JobVersion } from '../../src-main/core/publish';
import type { Parameter, Task } from '../../src-main/core/model/types';
import { constraints, curlFor, formBody, operations } from '../../src-renderer/src/pages/apidocs/schema';

const param = (p: Partial<Parameter> & { alias: string }): Parameter => ({ flag: `-${p.alias}`, default: null, bool_valued: false, spacing: true, switchless: false, ...p });

const task: Task = {
  id: 1,
  name: 'align',
  description: null,
  backend: null,
  in_glob: '.fa',
  out_glob: '.out',
  stdout_glob: null,
  executable: 'align $P1 $P2 $P3',
  incomplete_outputs_behaviour: 3,
  custom_exit_status: null,
  custom_exit_behaviour: null,
  timeout: null,
  retries: 0,
  parameters: [
    param({ alias: 'gap', type: 'integer', min: 0, max: 9, default: '3', description: 'Gap penalty' }),
    param({ alias: 'mode', type: 'enum', enum: ['fast', 'slow'] }),
    param({ alias: 'seqs', type: 'file', validators: ['seq'] }),
  ],
  environment: [],
  configuration: [],
};

const version = (n: number): JobVersion => ({
  job_id: 1,
  name: 'my align',
  version: n,
  published_at: '2026-01-01T00:00:00.000Z',
  runnable: true,
  snapshot: { job: { id: 1, name: 'my align', description: 'Aligns', validators: [], steps: [{ id: 1, key: 'a', task: 'align', ordering: 0, after: [], x: null, y: null }] }, tasks: [task] },
});

const doc = buildDocument(
  [
    { service: version(1), latest: false },
    { service: version(2), latest: true },
  ],
  { serverUrl: 'http://127.0.0.1:8610/api/v1', title: 't', version: '1' },
);

describe('API docs page', () => {
  it('lists each service submission, latest before its fixed versions', () => {
    expect(operations(doc).map((o) => [o.service, o.version, o.path])).toEqual([
      ['my align', null, '/services/my%20align'],
      ['my align', 1, '/services/my%20align/v1'],
      ['my align', 2, '/services/my%20align/v2'],
    ]);
  });

  it('shows every field with its kind, requirement, default and constraints', () => {
    const op = operations(doc).find((o) => o.version === null)!;
    expect(op.fields.map((f) => [f.name, f.kind, f.required, f.default])).toEqual([
      ['submission_name', 'string', false, 'my align'],
      ['email', 'string', false, undefined],
      ['align_gap', 'integer', false, 3],
      ['align_mode', 'enum', true, undefined],
      ['align_seqs', 'file', true, undefined],
    ]);
    expect(op.fields.map(constraints)).toEqual(['at most 64 characters', 'at most 256 characters', '0 to 9', 'one of fast, slow', 'validated as seq']);
    expect(op.fields.find((f) => f.name === 'align_gap')?.description).toBe('Gap penalty');
  });

  it('the try-it request sends only what was filled in, files as file parts', async () => {
    const op = operations(doc)[0];
    const file = new File(['>s\nACGT\n'], 'in.fa');
    const form = formBody(op.fields, { align_gap: '', align_mode: 'slow', align_seqs: file });
    expect([...form.keys()]).toEqual(['align_mode', 'align_seqs']);
    expect(await (form.get('align_seqs') as File).text()).toBe('>s\nACGT\n');
    expect(curlFor('http://h/api/v1/services/x', op.fields, { align_mode: "it's", align_seqs: file })).toBe(
      "curl -X POST 'http://h/api/v1/services/x' \\\n  -F 'align_mode=it'\\''s' \\\n  -F 'align_seqs=@in.fa'",
    );
  });
});
