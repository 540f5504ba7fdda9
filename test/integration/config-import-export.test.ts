// Specification of configuration import/export: native documents, A_A fixture dumps, round trips and all-or-nothing imports.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src-main/core/store/db';
import { AppError } from '../../src-main/core/errors';
import { exportConfig, importConfig } from '../../src-main/core/config';
import {
  getBackend,
  getJob,
  getTask,
  listJobs,
  listTasks,
  saveBackend,
  saveJob,
  saveTask,
  syncValidatorTypes,
} from '../../src-main/core/store/config-repo';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const EXAMPLES = path.join(__dirname, '..', '..', 'resources', 'examples');
const VALIDATORS = ['gif', 'jpeg', 'none', 'pdb_file', 'png', 'seq'];

const dirs: string[] = [];
const dbs: Db[] = [];

/** A fresh store in its own temp dir, with the built-in validator types registered as at start-up. */
function freshStore(validators: string[] = VALIDATORS): Db {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-config-io-'));
  dirs.push(dir);
  const db = openDb(path.join(dir, 'store.db'));
  dbs.push(db);
  syncValidatorTypes(db, validators);
  return db;
}

afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const read = (file: string): string => fs.readFileSync(file, 'utf8');

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

/** A store holding the awkward cases: repeated env names, positions, limits, multi-line scripts, quoting. */
function awkwardStore(): Db {
  const db = freshStore();
  saveBackend(db, { name: 'py', queue_type: 'Python', root_path: '/var/tmp/aa/' });
  saveTask(db, {
    name: 'script',
    description: 'yes',
    backend: 'py',
    in_glob: '.fasta',
    out_glob: '.out',
    stdout_glob: '',
    executable: "for line in I1:\n    O1.write(line)  # copy: 'as is'\n\n",
    incomplete_outputs_behaviour: 0,
    custom_exit_status: '0',
    custom_exit_behaviour: 1,
    timeout: 1.5,
    retries: 3,
    parameters: [
      { flag: '--mode', alias: 'mode', default: 'true' },
      { flag: '-x', alias: 'x', bool_valued: true, spacing: false, switchless: true },
    ],
    environment: [
      { env: 'A', value: '1' },
      { env: 'A', value: '2' },
    ],
    configuration: [{ type: 2, name: null, parameters: '', version: '007' }],
  });
  saveTask(db, {
    name: '2nd: "quoted" #task',
    backend: 'local',
    in_glob: '.out',
    out_glob: '.n',
    executable: 'wc -l $I1',
    environment: [{ env: '1', value: 'numeric names are kept in order' }],
  });
  saveJob(db, {
    name: 'graph',
    runnable: true,
    description: '',
    validators: ['seq', 'none'],
    steps: [
      { key: 'a', task: 'script', x: 1.25, y: -3 },
      { key: 'b', task: '2nd: "quoted" #task', after: ['a'] },
      { key: 'c', task: '2nd: "quoted" #task', after: ['a'] },
    ],
  });
  return db;
}

describe('export', () => {
  it('writes a readable, sorted document with defaults left out', () => {
    const db = freshStore();
    saveTask(db, {
      name: 'wc',
      backend: 'local',
      in_glob: '.contents',
      out_glob: '.count',
      stdout_glob: '.count',
      executable: 'wc -l $I1',
      parameters: [{ flag: '-l', alias: 'lines', bool_valued: true }],
      environment: [{ env: 'LC_ALL', value: 'C' }],
      custom_exit_status: '2',
      custom_exit_behaviour: 1,
    });
    saveTask(db, { name: 'ls', backend: 'local', in_glob: '.input', out_glob: '.contents', executable: 'ls /tmp' });
    saveJob(db, {
      name: 'tmp_count',
      runnable: true,
      validators: ['none'],
      steps: [
        { key: 'list', task: 'ls' },
        { key: 'count', task: 'wc', after: ['list'] },
      ],
    });
    expect(exportConfig(db)).toBe(`format: aa-workbench/1
queue_types:
  - name: GridEngine
    execution_behaviour: GridEngine
  - name: Python
    execution_behaviour: Python
  - name: R
    execution_behaviour: R
  - name: bash
    execution_behaviour: bash
  - name: localhost
    execution_behaviour: localhost
  - name: node
    execution_behaviour: node
backends:
  - name: local
    queue_type: localhost
tasks:
  - name: ls
    backend: local
    executable: ls /tmp
    in_glob: .input
    out_glob: .contents
  - name: wc
    backend: local
    executable: wc -l $I1
    in_glob: .contents
    out_glob: .count
    stdout_glob: .count
    parameters:
      - alias: lines
        flag: -l
        bool_valued: true
    environment:
      LC_ALL: C
    custom_exit_status: "2"
    custom_exit_behaviour: terminate
jobs:
  - name: tmp_count
    runnable: true
    validators: [none]
    steps:
      - key: list
        task: ls
      - key: count
        task: wc
        after: [list]
`);
  });

  it('JSON export holds the same document as YAML export', () => {
    const db = awkwardStore();
    expect(JSON.parse(exportConfig(db, 'json'))).toEqual(YAML.parse(exportConfig(db, 'yaml')));
    expect(exportConfig(db, 'json').endsWith('}\n')).toBe(true);
  });

  it('repeated or numeric environment names are written as a list, so order and repeats survive', () => {
    const doc = YAML.parse(exportConfig(awkwardStore())) as { tasks: Array<{ name: string; environment: unknown }> };
    expect(doc.tasks.map((t) => t.environment)).toEqual([
      [{ env: '1', value: 'numeric names are kept in order' }],
      [
        { env: 'A', value: '1' },
        { env: 'A', value: '2' },
      ],
    ]);
  });
});

describe('round trip', () => {
  for (const format of ['yaml', 'json'] as const) {
    it(`export → import into an empty store → export gives the same bytes (${format})`, () => {
      const first = exportConfig(awkwardStore(), format);
      const copy = freshStore();
      importConfig(copy, first);
      expect(exportConfig(copy, format)).toBe(first);
      // And the stored data is the same, not just its rendering.
      expect(getTask(copy, 'script')).toMatchObject({
        stdout_glob: '',
        executable: "for line in I1:\n    O1.write(line)  # copy: 'as is'\n\n",
        timeout: 1.5,
        retries: 3,
        custom_exit_status: '0',
        custom_exit_behaviour: 1,
        incomplete_outputs_behaviour: 0,
        configuration: [{ type: 2, name: null, parameters: '', version: '007' }],
      });
      expect(getJob(copy, 'graph')?.steps.map((s) => [s.key, s.after, s.x, s.y])).toEqual([
        ['a', [], 1.25, -3],
        ['b', ['a'], null, null],
        ['c', ['a'], null, null],
      ]);
    });
  }

  for (const example of ['tmp_count.yaml', 'protein_fasta.yaml']) {
    it(`the ${example} example round-trips byte for byte`, () => {
      const db = freshStore();
      importConfig(db, read(path.join(EXAMPLES, example)));
      const first = exportConfig(db);
      const copy = freshStore();
      importConfig(copy, first);
      expect(exportConfig(copy)).toBe(first);
    });
  }

  it('an A_A dump round-trips through the native format', () => {
    const db = freshStore();
    importConfig(db, read(path.join(FIXTURES, 'aa-dump.yaml')));
    const first = exportConfig(db);
    const copy = freshStore();
    importConfig(copy, first);
    expect(exportConfig(copy)).toBe(first);
  });
});

describe('native import', () => {
  const doc = `
format: aa-workbench/1
queue_types:
  - name: gpu
    execution_behaviour: localhost
backends:
  - name: gpu-box
    queue_type: gpu
    root_path: /data/work/
tasks:
  - name: align
    backend: gpu-box
    executable: /usr/bin/align $P1 $I1 $O1
    in_glob: .fa
    out_glob: .aln
    parameters:
      - alias: gap
        flag: -g
        default: 10
    environment:
      - env: OMP_NUM_THREADS
        value: 4
    configuration:
      - type: software
        name: align
        version: 2
    incomplete_outputs_behaviour: Continue
    custom_exit_status: [3, 4]
    custom_exit_behaviour: fail
jobs:
  - name: align_job
    runnable: true
    validators: [seq]
    steps:
      - key: a
        task: align
`;

  it('creates what is new and replaces what exists, reporting both', () => {
    const db = freshStore();
    const summary = importConfig(db, doc);
    expect(summary).toEqual({
      kind: 'native',
      created: { queue_types: 1, backends: 1, tasks: 1, jobs: 1 },
      updated: { queue_types: 0, backends: 0, tasks: 0, jobs: 0 },
      skipped: {},
    });
    expect(getBackend(db, 'gpu-box')).toMatchObject({ queue_type: 'gpu', root_path: '/data/work/' });
    expect(getTask(db, 'align')).toMatchObject({
      parameters: [{ flag: '-g', alias: 'gap', default: '10', bool_valued: false, spacing: true, switchless: false }],
      environment: [{ env: 'OMP_NUM_THREADS', value: '4' }],
      configuration: [{ type: 0, name: 'align', parameters: null, version: '2' }],
      incomplete_outputs_behaviour: 0,
      custom_exit_status: '3,4',
      custom_exit_behaviour: 3,
    });
    const again = importConfig(db, doc.replace('runnable: true', 'runnable: false'));
    expect(again.created).toEqual({ queue_types: 0, backends: 0, tasks: 0, jobs: 0 });
    expect(again.updated).toEqual({ queue_types: 1, backends: 1, tasks: 1, jobs: 1 });
    expect(getJob(db, 'align_job')?.runnable).toBe(false);
  });

  it('references may point at what the store already holds', () => {
    const db = freshStore();
    saveTask(db, { name: 'stored', backend: 'local', in_glob: '.a', out_glob: '.b', executable: 'true' });
    importConfig(db, 'format: aa-workbench/1\njobs:\n  - name: uses_stored\n    steps:\n      - {key: s, task: stored}\n');
    expect(getJob(db, 'uses_stored')?.steps.map((s) => s.task)).toEqual(['stored']);
  });

  it('reports every problem of the document with its location', () => {
    const db = freshStore();
    const error = thrown(() =>
      importConfig(
        db,
        `format: aa-workbench/1
colour: blue
backends:
  - name: b1
    queue_type: quantum
tasks:
  - name: t1
    backend: b1
    executable: ls /tmp
    in_glob: .input
    out_glob: .out
    incomplete_outputs_behaviour: explode
    environment:
      PATH: /bin
      "": empty
  - name: t1
    exectuable: ls
    in_glob: .a
    out_glob: .b
jobs:
  - name: j
    validators: [none, magic]
    steps:
      - {key: a, task: t1}
      - {key: b, task: nope, after: [a, zz], colour: red}
`,
      ),
    );
    expect(error.kind).toBe('Invalid');
    expect(error.problems).toEqual([
      { path: 'colour', message: 'unknown field' },
      { path: 'backends[0].queue_type', message: 'unknown queue type "quantum"' },
      { path: 'tasks[0].incomplete_outputs_behaviour', message: 'must be 0 (continue), 1 (terminate) or 3 (fail)' },
      { path: 'tasks[0].environment[""]', message: 'required' },
      { path: 'tasks[1].exectuable', message: 'unknown field' },
      { path: 'tasks[1].name', message: 'duplicate task "t1" (first at tasks[0])' },
      { path: 'tasks[1].executable', message: 'required' },
      { path: 'jobs[0].steps[1].colour', message: 'unknown field' },
      { path: 'jobs[0].validators[1]', message: 'unknown validator "magic"' },
      { path: 'jobs[0].steps[1].task', message: 'unknown task "nope"' },
      { path: 'jobs[0].steps[1].after[1]', message: 'unknown step "zz"' },
    ]);
    expect(error.message).toMatch(/^Configuration not imported, 11 problems: colour: unknown field; backends\[0\]\.queue_type: /);
  });

  it('a YAML syntax error is reported at its line and column', () => {
    const error = thrown(() => importConfig(freshStore(), 'format: aa-workbench/1\ntasks:\n  - name: a\n   bad: indentation\n'));
    expect(error.problems).toHaveLength(1);
    expect(error.problems?.[0].path).toMatch(/^line 4, column \d+$/);
    expect(error.problems?.[0].message).toMatch(/^YAML syntax error: /);
  });

  it('a JSON document is read as JSON; forcing json on YAML text is a syntax problem', () => {
    const db = freshStore();
    expect(importConfig(db, JSON.stringify({ format: 'aa-workbench/1', queue_types: [{ name: 'q', execution_behaviour: 5 }] })).created).toMatchObject({
      queue_types: 1,
    });
    const error = thrown(() => importConfig(db, 'format: aa-workbench/1\n', { format: 'json' }));
    expect(error.problems?.[0].path).toBe('document');
    expect(error.problems?.[0].message).toMatch(/^JSON syntax error: /);
  });

  it('a document that is neither format is refused', () => {
    expect(thrown(() => importConfig(freshStore(), 'just text')).problems?.[0].path).toBe('document');
    expect(thrown(() => importConfig(freshStore(), 'queue_types: []')).problems).toEqual([
      { path: 'format', message: 'required: "aa-workbench/1"' },
    ]);
    expect(thrown(() => importConfig(freshStore(), 'format: aa-workbench/9')).problems).toEqual([
      { path: 'format', message: 'unsupported format "aa-workbench/9" (expected "aa-workbench/1")' },
    ]);
  });
});

describe('all-or-nothing', () => {
  it('a document with one bad reference changes nothing: the store exports byte-identical', () => {
    const db = freshStore();
    importConfig(db, read(path.join(EXAMPLES, 'tmp_count.yaml')));
    const before = exportConfig(db);
    const error = thrown(() =>
      importConfig(
        db,
        `format: aa-workbench/1
backends:
  - {name: extra, queue_type: localhost}
tasks:
  - {name: count_lines, backend: local, executable: wc -w $I1, in_glob: .contents, out_glob: .words}
  - {name: brand_new, backend: extra, executable: ls, in_glob: .a, out_glob: .b}
jobs:
  - name: tmp_count
    runnable: false
    steps:
      - {key: list, task: list_tmp}
      - {key: count, task: count_lines, after: [list]}
      - {key: extra, task: missing_task, after: [count]}
`,
      ),
    );
    expect(error.problems).toEqual([{ path: 'jobs[0].steps[2].task', message: 'unknown task "missing_task"' }]);
    expect(exportConfig(db)).toBe(before);
    expect(getBackend(db, 'extra')).toBeNull();
    expect(getTask(db, 'count_lines')?.executable).toBe('wc -l $I1');
  });

  it('a bad pk reference in an A_A dump changes nothing', () => {
    const db = freshStore();
    const before = exportConfig(db);
    const dump = YAML.parse(read(path.join(FIXTURES, 'aa-dump.yaml'))) as Array<{ model: string; pk: number; fields: Record<string, unknown> }>;
    const index = dump.findIndex((e) => e.model === 'analytics_automated.step' && e.pk === 6);
    dump[index].fields.task = 99;
    const error = thrown(() => importConfig(db, JSON.stringify(dump)));
    expect(error.problems).toEqual([{ path: `[${index}].fields.task`, message: 'unknown analytics_automated.task pk 99' }]);
    expect(exportConfig(db)).toBe(before);
    expect(listTasks(db)).toEqual([]);
    expect(listJobs(db)).toEqual([]);
  });
});

describe('A_A fixture import', () => {
  const SKIPPED = {
    'auth.user': 1,
    'analytics_automated.backenduser': 1,
    'analytics_automated.batch': 1,
    'analytics_automated.submission': 1,
    'analytics_automated.result': 1,
    'analytics_automated.message': 2,
    'django_celery_beat.intervalschedule': 1,
    'django_celery_beat.periodictask': 1,
  };

  it('imports the configuration models and counts every other model as skipped', () => {
    const db = freshStore();
    const summary = importConfig(db, read(path.join(FIXTURES, 'aa-dump.yaml')));
    expect(summary).toEqual({
      kind: 'aa-fixture',
      // The store seeds A_A's four queue types, so the dump's ones replace them.
      created: { queue_types: 0, backends: 2, tasks: 6, jobs: 3 },
      updated: { queue_types: 4, backends: 0, tasks: 0, jobs: 0 },
      skipped: SKIPPED,
    });
  });

  it('the YAML and JSON dumps give the same store', () => {
    const fromYaml = freshStore();
    const fromJson = freshStore();
    importConfig(fromYaml, read(path.join(FIXTURES, 'aa-dump.yaml')));
    expect(importConfig(fromJson, read(path.join(FIXTURES, 'aa-dump.json'))).skipped).toEqual(SKIPPED);
    expect(exportConfig(fromJson)).toBe(exportConfig(fromYaml));
  });

  it('resolves pk references: backends, queue types, tasks of steps', () => {
    const db = freshStore();
    importConfig(db, read(path.join(FIXTURES, 'aa-dump.yaml')));
    expect(getBackend(db, 'local1')).toMatchObject({ queue_type: 'localhost', root_path: '/tmp/' });
    expect(getBackend(db, 'cluster')).toMatchObject({ queue_type: 'GridEngine', root_path: '/scratch/aa/' });
    expect(getTask(db, 'ls_tmp')).toMatchObject({
      backend: 'local1',
      executable: 'ls /tmp',
      in_glob: '.input',
      out_glob: '.contents',
      stdout_glob: '.contents',
      incomplete_outputs_behaviour: 3,
    });
    const tmpCount = getJob(db, 'tmp_count');
    expect(tmpCount?.runnable).toBe(true);
    expect(tmpCount?.steps.map((s) => [s.key, s.task, s.ordering, s.after])).toEqual([
      ['ls_tmp', 'ls_tmp', 0, []],
      ['wc_lines', 'wc_lines', 1, ['ls_tmp']],
    ]);
  });

  it('parallel steps (orderings 0,1,1,2) become graph layers, ties kept in pk order', () => {
    const db = freshStore();
    importConfig(db, read(path.join(FIXTURES, 'aa-dump.yaml')));
    expect(getJob(db, 'sequence_features')?.steps.map((s) => [s.key, s.ordering, s.after])).toEqual([
      ['seq_clean', 0, []],
      ['disorder', 1, ['seq_clean']],
      ['hydrophobicity', 1, ['seq_clean']],
      ['summary', 2, ['disorder', 'hydrophobicity']],
    ]);
  });

  it('strips the task-name prefix of rest_alias once, so A_A clients keep their field names', () => {
    const db = freshStore();
    importConfig(db, read(path.join(FIXTURES, 'aa-dump.yaml')));
    const fields = (name: string): string[] => (getTask(db, name)?.parameters ?? []).map((p) => `${name}_${p.alias}`);
    expect(getTask(db, 'seq_clean')?.parameters).toEqual([
      { flag: '-u', alias: 'uppercase', default: null, bool_valued: true, spacing: true, switchless: false },
      { flag: '-w', alias: 'width', default: '60', bool_valued: false, spacing: false, switchless: false },
    ]);
    expect(fields('seq_clean')).toEqual(['seq_clean_uppercase', 'seq_clean_width']);
    // A_A re-prefixed this alias on a second save; the REST field stays what A_A served.
    expect(getTask(db, 'hydrophobicity')?.parameters.map((p) => [p.alias, p.switchless])).toEqual([['hydrophobicity_window', true]]);
    expect(fields('hydrophobicity')).toEqual(['hydrophobicity_hydrophobicity_window']);
    expect(getTask(db, 'disorder')?.parameters.map((p) => [p.flag, p.alias, p.default])).toEqual([['VALUE', 'threshold', '0.05']]);
  });

  it('keeps environment, configuration and A_A’s exit integers', () => {
    const db = freshStore();
    importConfig(db, read(path.join(FIXTURES, 'aa-dump.yaml')));
    expect(getTask(db, 'disorder')).toMatchObject({
      backend: 'cluster',
      out_glob: '.diso, .pbdat',
      stdout_glob: 'diso_log',
      custom_exit_status: '2, 3',
      custom_exit_behaviour: 0,
      environment: [
        { env: 'DISOPRED_DATA', value: '/opt/disopred/data' },
        { env: 'PATH', value: '/usr/local/bin:/usr/bin:/bin' },
      ],
      configuration: [
        { type: 0, name: 'disopred', parameters: '', version: '3.16' },
        { type: 1, name: 'uniref90', parameters: '', version: '2023_01' },
      ],
    });
    expect(getTask(db, 'summary')).toMatchObject({
      description: null,
      incomplete_outputs_behaviour: 1,
      configuration: [{ type: 2, name: 'report layout', parameters: '--html', version: null }],
    });
  });

  it('matches validator types by name, not by the dump’s pk', () => {
    // Registered in another order than the dump's A_A install numbered them (none=9, seq=12 there).
    const db = freshStore(['seq', 'png', 'pdb_file', 'none', 'jpeg', 'gif']);
    importConfig(db, read(path.join(FIXTURES, 'aa-dump.yaml')));
    expect(getJob(db, 'tmp_count')?.validators).toEqual(['none']);
    expect(getJob(db, 'sequence_features')?.validators).toEqual(['seq']);
    expect(getJob(db, 'draft')).toMatchObject({ runnable: false, validators: ['none'], steps: [] });
  });

  it('a validator type this workbench does not have is a problem located at the validator', () => {
    const db = freshStore(['gif', 'jpeg', 'none', 'pdb_file', 'png']);
    const dump = YAML.parse(read(path.join(FIXTURES, 'aa-dump.yaml'))) as Array<{ model: string; pk: number }>;
    const index = dump.findIndex((e) => e.model === 'analytics_automated.validator' && e.pk === 2);
    expect(thrown(() => importConfig(db, read(path.join(FIXTURES, 'aa-dump.yaml')))).problems).toEqual([
      { path: `[${index}].fields.validation_type`, message: 'unknown validator "seq"' },
    ]);
  });

  it('malformed dump entries are reported one by one', () => {
    const dump = [
      'not an entry',
      { model: 'analytics_automated.task', pk: 1 },
      { model: 'analytics_automated.job', fields: { name: 'j', runnable: true } },
      { model: 'analytics_automated.job', pk: 2, fields: { name: 'a', runnable: true } },
      { model: 'analytics_automated.job', pk: 2, fields: { name: 'b', runnable: true } },
    ];
    expect(thrown(() => importConfig(freshStore(), JSON.stringify(dump))).problems).toEqual([
      { path: '[0]', message: 'must be an object with "model", "pk" and "fields"' },
      { path: '[1].fields', message: 'must be an object' },
      { path: '[2].pk', message: 'required' },
      { path: '[4].pk', message: 'duplicate analytics_automated.job pk 2 (first at [3])' },
    ]);
  });

  it('problems in child models are located at the child entry', () => {
    const dump = YAML.parse(read(path.join(FIXTURES, 'aa-dump.yaml'))) as Array<{ model: string; pk: number; fields: Record<string, unknown> }>;
    const at = (model: string, pk: number): number => dump.findIndex((e) => e.model === `analytics_automated.${model}` && e.pk === pk);
    dump[at('parameter', 2)].fields.rest_alias = 'seq_clean_uppercase';
    dump[at('environment', 1)].fields.env = '';
    dump[at('task', 6)].fields.executable = '/usr/local/bin/merge_features $I1 $I2 > out.txt';
    dump.push({ model: 'analytics_automated.step', pk: 7, fields: { job: 42, task: 1, ordering: 0 } });
    const problems = thrown(() => importConfig(freshStore(), YAML.stringify(dump))).problems ?? [];
    // In document order: task 6, parameter 2, environment 1, then the appended step.
    expect(problems.map((p) => p.path)).toEqual([
      `[${at('task', 6)}].fields.executable`,
      `[${at('parameter', 2)}].fields.rest_alias`,
      `[${at('environment', 1)}].fields.env`,
      `[${dump.length - 1}].fields.job`,
    ]);
    expect(problems.map((p) => p.message.split(':')[0])).toEqual([
      'executable uses shell syntax (">")',
      'duplicate alias "uppercase"',
      'required',
      'unknown analytics_automated.job pk 42',
    ]);
  });
});
