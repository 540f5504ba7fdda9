// Specification of versioned publishing and the generated OpenAPI 3.1 documents (validated against the official schema).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { openDb, type Db } from '../../src-main/core/store/db';
import { getTask, saveJob, saveTask, setRunnable, syncValidatorTypes, type TaskInput } from '../../src-main/core/store/config-repo';
import { listVersions, publishedServices, publishedVersion, publishJob } from '../../src-main/core/publish';
import { buildDocument, requestSchema } from '../../src-main/core/openapi/document';
import { AppError } from '../../src-main/core/errors';

let dir: string;
let db: Db;

const typed: TaskInput = {
  name: 'align',
  backend: 'local',
  in_glob: '.fa,.ref',
  out_glob: '.aln',
  stdout_glob: '.aln',
  executable: 'align $P1 $P2 $P3 $P4 $P5 $P6 $P7',
  parameters: [
    { flag: '-g', alias: 'gap', type: 'integer', min: 0, max: 100, default: '10', description: 'Gap penalty' },
    { flag: '-t', alias: 'threshold', type: 'number', min: 0, max: 1 },
    { flag: '-v', alias: 'verbose', bool_valued: true, default: 'FALSE' },
    { flag: '-m', alias: 'mode', type: 'enum', enum: ['fast', 'slow'], default: 'fast' },
    { flag: '-l', alias: 'label', type: 'string', pattern: '^[a-z]+$', max_length: 12 },
    { flag: '-i', alias: 'sequences', type: 'file', validators: ['seq'] },
    { flag: '-r', alias: 'reference', type: 'file', default: '/data/ref.fa' },
  ],
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-openapi-'));
  db = openDb(path.join(dir, 'store.sqlite'));
  syncValidatorTypes(db, ['none', 'seq']);
  saveTask(db, typed);
  saveTask(db, { name: 'plain', in_glob: '.input', out_glob: '.out', executable: 'cat $I1', parameters: [{ flag: '-n', alias: 'n' }] });
  saveJob(db, { name: 'align', description: 'Align sequences', steps: [{ key: 'a', task: 'align' }] });
  saveJob(db, { name: 'plain job', validators: ['seq'], steps: [{ key: 'p', task: 'plain' }] });
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const validate = async (doc: unknown) => {
  const result = await new Validator().validate(doc as Record<string, unknown>);
  return { valid: result.valid, errors: JSON.stringify(result.errors ?? null, null, 1) };
};

describe('typed parameters in the store', () => {
  it('a task keeps every typed field it was saved with, and A_A-only parameters read as before', () => {
    const stored = getTask(db, 'align');
    expect(stored?.parameters.map((p) => ({ ...p }))).toEqual([
      { flag: '-g', alias: 'gap', default: '10', bool_valued: false, spacing: true, switchless: false, type: 'integer', min: 0, max: 100, description: 'Gap penalty' },
      { flag: '-t', alias: 'threshold', default: null, bool_valued: false, spacing: true, switchless: false, type: 'number', min: 0, max: 1 },
      { flag: '-v', alias: 'verbose', default: 'FALSE', bool_valued: true, spacing: true, switchless: false },
      { flag: '-m', alias: 'mode', default: 'fast', bool_valued: false, spacing: true, switchless: false, type: 'enum', enum: ['fast', 'slow'] },
      { flag: '-l', alias: 'label', default: null, bool_valued: false, spacing: true, switchless: false, type: 'string', pattern: '^[a-z]+$', max_length: 12 },
      { flag: '-i', alias: 'sequences', default: null, bool_valued: false, spacing: true, switchless: false, type: 'file', validators: ['seq'] },
      { flag: '-r', alias: 'reference', default: '/data/ref.fa', bool_valued: false, spacing: true, switchless: false, type: 'file' },
    ]);
    expect(getTask(db, 'plain')?.parameters).toEqual([{ flag: '-n', alias: 'n', default: null, bool_valued: false, spacing: true, switchless: false }]);
  });

  it('saving a task with an unsound typed parameter is refused with the located problem', () => {
    let error: unknown;
    try {
      saveTask(db, { ...typed, name: 'bad', parameters: [{ flag: '-x', alias: 'x', type: 'integer', min: 3, max: 1, default: '2' }] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).problems).toEqual([{ path: 'task.parameters[0].max', message: 'must not be less than min' }]);
  });
});

describe('versioned publishing', () => {
  it('publishing snapshots the Job as version 1 and makes it runnable', () => {
    const v = publishJob(db, 'align');
    expect(v).toMatchObject({ name: 'align', version: 1, runnable: true });
    expect(v.snapshot.tasks.map((t) => t.name)).toEqual(['align']);
    expect(v.snapshot.job.steps.map((s) => s.key)).toEqual(['a']);
  });

  it('publishing again without a change keeps the version; moving a node does not count as a change', () => {
    publishJob(db, 'align');
    saveJob(db, { name: 'align', runnable: true, description: 'Align sequences', steps: [{ key: 'a', task: 'align', x: 40, y: 80 }] });
    expect(publishJob(db, 'align').version).toBe(1);
    expect(listVersions(db, 'align').map((v) => v.version)).toEqual([1]);
  });

  it('editing a Task and publishing makes version 2; version 1 keeps its own snapshot', () => {
    publishJob(db, 'align');
    saveTask(db, { ...typed, executable: 'align2 $P1' });
    const v2 = publishJob(db, 'align');
    expect(v2.version).toBe(2);
    expect(publishedVersion(db, 'align')?.version).toBe(2);
    expect(publishedVersion(db, 'align', 1)?.snapshot.tasks[0].executable).toBe('align $P1 $P2 $P3 $P4 $P5 $P6 $P7');
    expect(publishedVersion(db, 'align', 2)?.snapshot.tasks[0].executable).toBe('align2 $P1');
    expect(publishedVersion(db, 'align', 3)).toBeNull();
  });

  it('a Job with more file parameters than in_globs cannot be published', () => {
    saveTask(db, { ...typed, in_glob: '.fa' });
    expect(() => publishJob(db, 'align')).toThrowError(/align cannot be published: tasks\.align\.in_glob: has 1 glob for 2 file parameters/);
  });

  it('a runnable Job without a version is published on first use; an unpublished one is not served', () => {
    expect(publishedVersion(db, 'plain job')).toBeNull();
    setRunnable(db, 'plain job', true);
    expect(publishedVersion(db, 'plain job')?.version).toBe(1);
    expect(publishedServices(db).map((s) => s.name)).toEqual(['plain job']);
  });
});

describe('OpenAPI documents', () => {
  it('the document for every published service is valid OpenAPI 3.1', async () => {
    publishJob(db, 'align');
    saveTask(db, { ...typed, parameters: typed.parameters?.slice(0, 6) });
    publishJob(db, 'align');
    publishJob(db, 'plain job');
    const entries = [
      { service: publishedVersion(db, 'align', 1)!, latest: false },
      { service: publishedVersion(db, 'align', 2)!, latest: true },
      { service: publishedVersion(db, 'plain job')!, latest: true },
    ];
    const doc = buildDocument(entries, { serverUrl: 'http://127.0.0.1:8610/api/v1', title: 'services', version: '1' }) as any;
    const result = await validate(doc);
    expect(result.errors).toBe('null');
    expect(result.valid).toBe(true);
    expect(Object.keys(doc.paths)).toEqual([
      '/services/align/v1',
      '/services/align',
      '/services/align/v2',
      '/services/plain%20job',
      '/services/plain%20job/v1',
      '/runs/{id}',
      '/runs/{id}/events',
      '/runs/{id}/results/{name}',
      '/runs/{id}/cancel',
    ]);
    const operationIds = Object.values(doc.paths).flatMap((p: any) => Object.values(p).map((o: any) => o.operationId));
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('each field becomes a JSON Schema property with its type, limits and default; fields without a default are required', () => {
    const v = publishJob(db, 'align');
    const json = requestSchema(v, 'json') as any;
    expect(json.additionalProperties).toBe(false);
    expect(json.required).toEqual(['align_threshold', 'align_label', 'align_sequences']);
    expect(json.properties.align_gap).toEqual({ description: 'Gap penalty', type: 'integer', minimum: 0, maximum: 100, default: 10 });
    expect(json.properties.align_threshold).toEqual({ type: 'number', minimum: 0, maximum: 1 });
    expect(json.properties.align_verbose).toEqual({ type: 'boolean', default: false });
    expect(json.properties.align_mode).toEqual({ type: 'string', enum: ['fast', 'slow'], default: 'fast' });
    expect(json.properties.align_label).toEqual({ type: 'string', maxLength: 12, pattern: '^[a-z]+$' });
    expect(json.properties.align_sequences.oneOf).toHaveLength(2);
    expect(json.properties.align_sequences['x-validators']).toEqual(['seq']);
    const form = requestSchema(v, 'multipart') as any;
    expect(form.properties.align_sequences).toMatchObject({ type: 'string', contentMediaType: 'application/octet-stream' });
    expect(form.properties.input_data).toBeUndefined();
    expect((requestSchema(publishJob(db, 'plain job'), 'json') as any).required).toEqual(['plain_n', 'input_data']);
  });
});
