// The JSON Schema of the native configuration: valid itself, true of every export and example, located problems, published over HTTP.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src-main/core/store/db';
import { getTask, saveJob, saveTask, syncValidatorTypes } from '../../src-main/core/store/config-repo';
import { CONFIG_SCHEMA, CONFIG_SCHEMA_PATH, exportConfig, importConfig, schemaProblems } from '../../src-main/core/config';
import { AppError } from '../../src-main/core/errors';
import { startTestServer, type TestServer } from '../support/server';

const EXAMPLES = path.join(__dirname, '..', '..', 'resources', 'examples');

function store(): Db {
  const db = openDb(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aa-schema-')), 'workbench.sqlite'));
  syncValidatorTypes(db, ['gif', 'jpeg', 'none', 'pdb_file', 'png', 'seq']);
  return db;
}

function typedStore(): Db {
  const db = store();
  saveTask(db, {
    name: 'typed',
    in_glob: '.fa',
    out_glob: '.out',
    executable: 'tool $P1 $P2 $P3 $I1',
    timeout: 60,
    environment: [{ env: 'LC_ALL', value: 'C' }],
    configuration: [{ type: 0, name: 'tool', version: '1.2' }],
    parameters: [
      { flag: '-n', alias: 'count', type: 'integer', min: 1, max: 10, default: '3', description: 'How many.' },
      { flag: '--mode', alias: 'mode', type: 'enum', enum: ['fast', 'slow'], default: 'fast' },
      { flag: '--label', alias: 'label', type: 'string', pattern: '^[a-z]+$', max_length: 12 },
    ],
  });
  saveJob(db, { name: 'typed_job', runnable: true, validators: ['seq'], steps: [{ key: 'a', task: 'typed' }] });
  return db;
}

describe('the configuration schema', () => {
  const validate = new Ajv({ allErrors: true, allowUnionTypes: true, strict: true }).compile(CONFIG_SCHEMA);

  it('is a draft-07 schema that every example configuration and every export satisfies', () => {
    for (const name of fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'))) {
      expect(validate(YAML.parse(fs.readFileSync(path.join(EXAMPLES, name), 'utf8'))), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(validate(JSON.parse(exportConfig(typedStore(), 'json'))), JSON.stringify(validate.errors)).toBe(true);
  });

  it("typed parameters (the native API's types and limits) travel through export and import", () => {
    const db = typedStore();
    const copy = store();
    importConfig(copy, exportConfig(db));
    expect(getTask(copy, 'typed')?.parameters).toEqual(getTask(db, 'typed')?.parameters);
    expect(exportConfig(copy)).toBe(exportConfig(db));
  });

  it('locates what breaks it the way the importer names places; words are read in any case', () => {
    const doc = {
      format: 'aa-workbench/1',
      queue_types: [{ name: 'q', execution_behaviour: 'Python' }],
      tasks: [
        {
          name: 't',
          executable: 'x',
          in_glob: '.a',
          out_glob: '.b',
          incomplete_outputs_behaviour: 'Continue',
          environment: { PATH: ['/bin'], 'MY VAR': 'x' },
          parameters: [{ alias: 'a', flag: '-a', type: 'colour', colour: 'red' }],
          configuration: [{ type: 'misc' }],
        },
      ],
      jobs: [{ name: 'j', runnable: 'yes', steps: [{ key: 's', task: 't', after: 's2' }] }],
    };
    expect(schemaProblems(doc)).toEqual([
      { path: 'tasks[0].parameters[0].colour', message: 'unknown field' },
      { path: 'tasks[0].parameters[0].type', message: 'must be one of "string", "integer", "number", "boolean", "enum", "file"' },
      { path: 'tasks[0].environment.PATH', message: 'must be a string or a whole number' },
      { path: 'jobs[0].runnable', message: 'must be true or false' },
      { path: 'jobs[0].steps[0].after', message: 'must be a list' },
    ]);
  });

  it('an import reports a place only once: the more specific problem wins over the schema', () => {
    let error: AppError | null = null;
    try {
      importConfig(store(), 'format: aa-workbench/1\njobs:\n  - name: j\n    runnable: yes please\n    steps: []\n    colour: red\n');
    } catch (e) {
      error = e as AppError;
    }
    expect(error?.problems).toEqual([
      { path: 'jobs[0].colour', message: 'unknown field' },
      { path: 'jobs[0].runnable', message: 'must be true or false' },
    ]);
  });
});

describe('publishing the schema', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it(`is served at ${CONFIG_SCHEMA_PATH} without a token`, async () => {
    const res = await fetch(`${t.url}${CONFIG_SCHEMA_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(CONFIG_SCHEMA)));
  });
});
