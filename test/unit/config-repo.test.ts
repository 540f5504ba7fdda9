// Specification of the configuration repository: CRUD of each aggregate and the located problems a save reports.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src-main/core/store/db';
import { AppError } from '../../src-main/core/errors';
import {
  deleteBackend,
  deleteJob,
  deleteQueueType,
  deleteTask,
  getBackend,
  getJob,
  getQueueType,
  getTask,
  listBackends,
  listJobs,
  listQueueTypes,
  listTasks,
  listValidatorTypes,
  saveBackend,
  saveJob,
  saveQueueType,
  saveTask,
  setRunnable,
  syncValidatorTypes,
  validateJobInput,
  validateTaskInput,
  type JobInput,
  type TaskInput,
} from '../../src-main/core/store/config-repo';

const VALIDATORS = ['gif', 'jpeg', 'none', 'pdb_file', 'png', 'seq'];

let dir: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-config-repo-'));
  db = openDb(path.join(dir, 'store.db'));
  syncValidatorTypes(db, VALIDATORS);
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const task = (name: string, extra: Partial<TaskInput> = {}): TaskInput => ({
  name,
  backend: 'local',
  in_glob: '.input',
  out_glob: '.out',
  executable: `/usr/bin/${name} $I1`,
  ...extra,
});

/** The AppError a call throws, so its kind and problems can be asserted. */
function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

describe('queue types', () => {
  it('a fresh store has A_A’s four queue types and the script interpreters', () => {
    expect(listQueueTypes(db).map((q) => [q.name, q.execution_behaviour])).toEqual([
      ['localhost', 1],
      ['GridEngine', 2],
      ['R', 3],
      ['Python', 4],
      ['bash', 5],
      ['node', 6],
    ]);
  });

  it('saveQueueType creates a queue type, and saving the same name replaces its behaviour', () => {
    const created = saveQueueType(db, { name: 'gpu', execution_behaviour: 1 });
    expect(created).toEqual({ id: expect.any(Number), name: 'gpu', execution_behaviour: 1 });
    const replaced = saveQueueType(db, { name: 'gpu', execution_behaviour: 2 });
    expect(replaced).toEqual({ ...created, execution_behaviour: 2 });
    expect(listQueueTypes(db)).toHaveLength(7);
  });

  it('renaming a queue type keeps its id and the backends that use it', () => {
    const before = saveQueueType(db, { name: 'gpu', execution_behaviour: 1 });
    saveBackend(db, { name: 'gpu-box', queue_type: 'gpu' });
    const after = saveQueueType(db, { name: 'cuda', execution_behaviour: 1 }, { previousName: 'gpu' });
    expect(after.id).toBe(before.id);
    expect(getQueueType(db, 'gpu')).toBeNull();
    expect(getBackend(db, 'gpu-box')?.queue_type).toBe('cuda');
  });

  it('an unknown execution behaviour is refused with a located problem', () => {
    const error = thrown(() => saveQueueType(db, { name: 'odd', execution_behaviour: 9 as never }));
    expect(error.kind).toBe('Invalid');
    expect(error.problems).toEqual([
      {
        path: 'queue_type.execution_behaviour',
        message: 'must be one of 1 (localhost), 2 (GridEngine), 3 (R), 4 (Python), 5 (bash), 6 (node)',
      },
    ]);
    expect(getQueueType(db, 'odd')).toBeNull();
  });

  it('deleting a queue type leaves its backends without one (A_A SET_NULL)', () => {
    saveQueueType(db, { name: 'gpu', execution_behaviour: 1 });
    saveBackend(db, { name: 'gpu-box', queue_type: 'gpu' });
    expect(deleteQueueType(db, 'gpu')).toBe(true);
    expect(deleteQueueType(db, 'gpu')).toBe(false);
    expect(getBackend(db, 'gpu-box')).toEqual({ id: expect.any(Number), name: 'gpu-box', queue_type: null, root_path: '' });
  });
});

describe('backends', () => {
  it('saveBackend stores the queue type by name and the root path', () => {
    const saved = saveBackend(db, { name: 'scratch', queue_type: 'GridEngine', root_path: '/scratch/aa/' });
    expect(saved).toEqual({ id: expect.any(Number), name: 'scratch', queue_type: 'GridEngine', root_path: '/scratch/aa/' });
    expect(listBackends(db).map((b) => b.name)).toEqual(['local', 'scratch']);
    expect(saveBackend(db, { name: 'scratch', queue_type: null }).root_path).toBe('');
  });

  it('a backend on an unknown queue type is refused at backend.queue_type', () => {
    const error = thrown(() => saveBackend(db, { name: 'x', queue_type: 'nope' }));
    expect(error.problems).toEqual([{ path: 'backend.queue_type', message: 'unknown queue type "nope"' }]);
  });

  it('renaming a backend onto another backend’s name is a problem, not a merge', () => {
    saveBackend(db, { name: 'other', queue_type: 'localhost' });
    const error = thrown(() => saveBackend(db, { name: 'local', queue_type: 'localhost' }, { previousName: 'other' }));
    expect(error.problems).toEqual([{ path: 'backend.name', message: 'a backend named "local" already exists' }]);
  });

  it('deleting a backend leaves its tasks without one (A_A SET_NULL)', () => {
    saveBackend(db, { name: 'scratch', queue_type: 'localhost' });
    saveTask(db, task('t1', { backend: 'scratch' }));
    expect(deleteBackend(db, 'scratch')).toBe(true);
    expect(getTask(db, 't1')?.backend).toBeNull();
  });
});

describe('tasks', () => {
  const full: TaskInput = {
    name: 'disorder',
    description: 'Disorder prediction',
    backend: 'local',
    in_glob: '.clean',
    out_glob: '.diso,.pbdat',
    stdout_glob: '.log',
    executable: '/opt/disopred/run.pl $P1 -t $VALUE $I1',
    incomplete_outputs_behaviour: 1,
    custom_exit_status: '2,3',
    custom_exit_behaviour: 0,
    timeout: 90,
    retries: 2,
    parameters: [
      { flag: '-fast', alias: 'fast', bool_valued: true },
      { flag: 'VALUE', alias: 'threshold', default: '0.05' },
      { flag: '-w', alias: 'width', default: '60', spacing: false, switchless: true },
    ],
    environment: [
      { env: 'DISOPRED_DATA', value: '/opt/disopred/data' },
      { env: 'PATH', value: '/usr/bin:/bin' },
    ],
    configuration: [
      { type: 0, name: 'disopred', parameters: '', version: '3.16' },
      { type: 1, name: 'uniref90', parameters: null, version: '2023_01' },
    ],
  };

  it('saveTask stores every field and child list, with A_A defaults filled in', () => {
    const saved = saveTask(db, full);
    expect(saved).toEqual({
      id: expect.any(Number),
      ...full,
      parameters: [
        { flag: '-fast', alias: 'fast', default: null, bool_valued: true, spacing: true, switchless: false },
        { flag: 'VALUE', alias: 'threshold', default: '0.05', bool_valued: false, spacing: true, switchless: false },
        { flag: '-w', alias: 'width', default: '60', bool_valued: false, spacing: false, switchless: true },
      ],
    });
    expect(getTask(db, 'disorder')).toEqual(saved);
    expect(saveTask(db, task('plain'))).toMatchObject({
      description: null,
      stdout_glob: null,
      incomplete_outputs_behaviour: 3,
      custom_exit_status: null,
      custom_exit_behaviour: null,
      timeout: null,
      retries: 0,
      parameters: [],
      environment: [],
      configuration: [],
    });
  });

  it('saving a task again replaces its child lists as a whole and keeps its id', () => {
    const first = saveTask(db, full);
    const second = saveTask(db, { ...full, parameters: [{ flag: '-q', alias: 'quiet', bool_valued: true }], environment: [], configuration: [] });
    expect(second.id).toBe(first.id);
    expect(second.parameters.map((p) => p.alias)).toEqual(['quiet']);
    expect(second.environment).toEqual([]);
    expect(second.configuration).toEqual([]);
    expect(listTasks(db)).toHaveLength(1);
  });

  it('renaming a task keeps its id and the steps that use it', () => {
    const before = saveTask(db, task('old'));
    saveJob(db, { name: 'j', steps: [{ key: 'a', task: 'old' }] });
    const after = saveTask(db, task('new'), { previousName: 'old' });
    expect(after.id).toBe(before.id);
    expect(getTask(db, 'old')).toBeNull();
    expect(getJob(db, 'j')?.steps.map((s) => s.task)).toEqual(['new']);
  });

  it('renaming an unknown task is NotFound; renaming onto a taken name is a located problem', () => {
    expect(thrown(() => saveTask(db, task('x'), { previousName: 'ghost' })).kind).toBe('NotFound');
    saveTask(db, task('a'));
    saveTask(db, task('b'));
    expect(thrown(() => saveTask(db, task('b'), { previousName: 'a' })).problems).toEqual([
      { path: 'task.name', message: 'a task named "b" already exists' },
    ]);
  });

  it('tasks are listed in creation order, as A_A lists by pk', () => {
    for (const name of ['zeta', 'alpha', 'mid']) saveTask(db, task(name));
    expect(listTasks(db).map((t) => t.name)).toEqual(['zeta', 'alpha', 'mid']);
  });

  it('every problem of a task is reported with its path, and nothing is stored', () => {
    const bad = {
      name: '',
      backend: 'nowhere',
      in_glob: '',
      out_glob: '.out',
      executable: 'ls',
      incomplete_outputs_behaviour: 2,
      custom_exit_status: '3, x',
      custom_exit_behaviour: 7,
      timeout: 0,
      retries: -1,
      parameters: [
        { flag: '-a', alias: 'same' },
        { flag: '', alias: 'same' },
      ],
      environment: [{ env: '', value: 'x' }],
      configuration: [{ type: 5 }],
    } as unknown as TaskInput;
    expect(validateTaskInput(db, bad)).toEqual([
      { path: 'task.name', message: 'required' },
      { path: 'task.backend', message: 'unknown backend "nowhere"' },
      { path: 'task.in_glob', message: 'required' },
      { path: 'task.incomplete_outputs_behaviour', message: 'must be 0 (continue), 1 (terminate) or 3 (fail)' },
      { path: 'task.custom_exit_behaviour', message: 'must be 0 (continue), 1 (terminate) or 3 (fail)' },
      { path: 'task.custom_exit_status', message: 'must be a comma-separated list of integers, e.g. "123,500"' },
      { path: 'task.timeout', message: 'must be a number of seconds greater than 0, or null for no limit' },
      { path: 'task.retries', message: 'must be a whole number, 0 or more' },
      { path: 'task.parameters[1].flag', message: 'required' },
      { path: 'task.parameters[1].alias', message: 'duplicate alias "same"' },
      { path: 'task.environment[0].env', message: 'required' },
      { path: 'task.configuration[0].type', message: 'must be 0 (Software), 1 (Dataset), 2 (Misc.)' },
    ]);
    const error = thrown(() => saveTask(db, bad));
    expect(error.kind).toBe('Invalid');
    expect(error.problems).toHaveLength(12);
    expect(listTasks(db)).toEqual([]);
  });

  it('names are limited to 64 characters, and the path prefix is the caller’s', () => {
    expect(validateTaskInput(db, task('n'.repeat(65)), 'tasks[3]')).toEqual([
      { path: 'tasks[3].name', message: 'must be at most 64 characters' },
    ]);
    expect(validateTaskInput(db, task('n'.repeat(64)))).toEqual([]);
  });

  it('a custom exit status list may hold spaces, as A_A strips them', () => {
    expect(validateTaskInput(db, task('t', { custom_exit_status: ' 123, 500 ' }))).toEqual([]);
  });

  it('shell syntax is refused in command backends but allowed in script backends', () => {
    saveBackend(db, { name: 'py', queue_type: 'Python' });
    saveBackend(db, { name: 'sge', queue_type: 'GridEngine' });
    const piped = 'ls /tmp | wc -l';
    const local = validateTaskInput(db, task('t', { executable: piped }));
    expect(local).toHaveLength(1);
    expect(local[0].path).toBe('task.executable');
    expect(local[0].message).toContain('shell syntax');
    expect(validateTaskInput(db, task('t', { backend: 'sge', executable: piped }))[0]?.path).toBe('task.executable');
    // No backend runs as localhost.
    expect(validateTaskInput(db, task('t', { backend: null, executable: piped }))[0]?.path).toBe('task.executable');
    expect(validateTaskInput(db, task('t', { backend: 'py', executable: "print('a' if 1 > 0 else 'b')" }))).toEqual([]);
  });

  it('deleting a task removes its steps (A_A CASCADE) and links their neighbours so the order holds', () => {
    for (const name of ['a', 'b', 'c']) saveTask(db, task(name));
    saveJob(db, {
      name: 'j',
      steps: [
        { key: 'first', task: 'a' },
        { key: 'middle', task: 'b', after: ['first'] },
        { key: 'last', task: 'c', after: ['middle'] },
      ],
    });
    expect(deleteTask(db, 'b')).toBe(true);
    expect(deleteTask(db, 'b')).toBe(false);
    expect(getJob(db, 'j')?.steps.map((s) => [s.key, s.after])).toEqual([
      ['first', []],
      ['last', ['first']],
    ]);
  });
});

describe('jobs', () => {
  beforeEach(() => {
    for (const name of ['prep', 'left', 'right', 'merge']) saveTask(db, task(name));
  });

  it('steps given as a graph keep their edges, and orderings are the graph layers', () => {
    const job = saveJob(db, {
      name: 'diamond',
      runnable: true,
      description: 'fan out and in',
      validators: ['seq'],
      steps: [
        { key: 'p', task: 'prep', x: 10, y: 20 },
        { key: 'l', task: 'left', after: ['p'] },
        { key: 'r', task: 'right', after: ['p'] },
        { key: 'm', task: 'merge', after: ['l', 'r'] },
      ],
    });
    expect(job).toEqual({
      id: expect.any(Number),
      name: 'diamond',
      runnable: true,
      description: 'fan out and in',
      validators: ['seq'],
      steps: [
        { id: expect.any(Number), key: 'p', task: 'prep', ordering: 0, after: [], x: 10, y: 20 },
        { id: expect.any(Number), key: 'l', task: 'left', ordering: 1, after: ['p'], x: null, y: null },
        { id: expect.any(Number), key: 'r', task: 'right', ordering: 1, after: ['p'], x: null, y: null },
        { id: expect.any(Number), key: 'm', task: 'merge', ordering: 2, after: ['l', 'r'], x: null, y: null },
      ],
    });
    expect(getJob(db, 'diamond')).toEqual(job);
    const edges = db.prepare('SELECT COUNT(*) AS n FROM step_edge WHERE job_id = ?').get(job.id) as { n: number };
    expect(edges.n).toBe(4);
  });

  it('A_A orderings without edges become edges: every step waits for the whole previous layer', () => {
    const job = saveJob(db, {
      name: 'aa_style',
      steps: [
        { key: 'p', task: 'prep', ordering: 0 },
        { key: 'l', task: 'left', ordering: 1 },
        { key: 'r', task: 'right', ordering: 1 },
        { key: 'm', task: 'merge', ordering: 2 },
      ],
    });
    expect(job.steps.map((s) => [s.key, s.ordering, s.after])).toEqual([
      ['p', 0, []],
      ['l', 1, ['p']],
      ['r', 1, ['p']],
      ['m', 2, ['l', 'r']],
    ]);
    expect(job.runnable).toBe(false);
    expect(job.validators).toEqual([]);
  });

  it('A_A orderings need not start at 0 or be consecutive; they are kept as given', () => {
    const job = saveJob(db, {
      name: 'sparse',
      steps: [
        { key: 'b', task: 'left', ordering: 10 },
        { key: 'a', task: 'prep', ordering: 5 },
      ],
    });
    expect(job.steps.map((s) => [s.key, s.ordering, s.after])).toEqual([
      ['a', 5, []],
      ['b', 10, ['a']],
    ]);
  });

  it('saving a job again replaces its steps and validators and keeps its id', () => {
    const first = saveJob(db, { name: 'j', validators: ['none', 'seq'], steps: [{ key: 'a', task: 'prep' }] });
    const second = saveJob(db, { name: 'j', validators: ['png'], steps: [{ key: 'z', task: 'merge' }] });
    expect(second.id).toBe(first.id);
    expect(second.validators).toEqual(['png']);
    expect(second.steps.map((s) => s.key)).toEqual(['z']);
    expect(listJobs(db)).toHaveLength(1);
  });

  it('setRunnable switches a job and reports unknown names', () => {
    saveJob(db, { name: 'j', steps: [] });
    expect(setRunnable(db, 'j', true)).toBe(true);
    expect(getJob(db, 'j')?.runnable).toBe(true);
    expect(setRunnable(db, 'j', false)).toBe(true);
    expect(getJob(db, 'j')?.runnable).toBe(false);
    expect(setRunnable(db, 'ghost', true)).toBe(false);
  });

  it('deleting a job removes its steps and validators', () => {
    saveJob(db, { name: 'j', validators: ['none'], steps: [{ key: 'a', task: 'prep' }] });
    expect(deleteJob(db, 'j')).toBe(true);
    expect(deleteJob(db, 'j')).toBe(false);
    expect(getJob(db, 'j')).toBeNull();
    expect((db.prepare('SELECT COUNT(*) AS n FROM step').get() as { n: number }).n).toBe(0);
    expect((db.prepare('SELECT COUNT(*) AS n FROM validator').get() as { n: number }).n).toBe(0);
  });

  it('every problem of a job is reported with its path', () => {
    const bad: JobInput = {
      name: 'j',
      validators: ['none', 'virus_scan'],
      steps: [
        { key: 'a', task: 'prep' },
        { key: 'b', task: 'foo', after: ['a', 'ghost'] },
        { key: 'a', task: 'left' },
        { key: 'c', task: 'merge', after: ['c'] },
      ],
    };
    expect(validateJobInput(db, bad, 'jobs[2]')).toEqual([
      { path: 'jobs[2].validators[1]', message: 'unknown validator "virus_scan"' },
      { path: 'jobs[2].steps[1].task', message: 'unknown task "foo"' },
      { path: 'jobs[2].steps[2].key', message: 'duplicate step key "a"' },
      { path: 'jobs[2].steps[1].after[1]', message: 'unknown step "ghost"' },
      { path: 'jobs[2].steps[3].after[0]', message: 'step "c" waits for itself' },
    ]);
    expect(thrown(() => saveJob(db, bad)).problems?.map((p) => p.path)).toEqual([
      'job.validators[1]',
      'job.steps[1].task',
      'job.steps[2].key',
      'job.steps[1].after[1]',
      'job.steps[3].after[0]',
    ]);
    expect(getJob(db, 'j')).toBeNull();
  });

  it('a cycle is reported on the step where it was found', () => {
    const problems = validateJobInput(db, {
      name: 'loop',
      steps: [
        { key: 'a', task: 'prep', after: ['b'] },
        { key: 'b', task: 'left', after: ['a'] },
      ],
    });
    expect(problems).toEqual([{ path: 'job.steps[0].after', message: 'cycle between steps "a" → "b"' }]);
  });

  it('a job name is required and limited to 64 characters', () => {
    expect(validateJobInput(db, { name: ' ', steps: [] })).toEqual([{ path: 'job.name', message: 'required' }]);
    expect(validateJobInput(db, { name: 'j'.repeat(65), steps: [] })).toEqual([
      { path: 'job.name', message: 'must be at most 64 characters' },
    ]);
  });
});

describe('validator types', () => {
  it('syncValidatorTypes adds missing names only, and they are listed by name', () => {
    const ids = db.prepare('SELECT name, id FROM validator_type ORDER BY name').all();
    syncValidatorTypes(db, ['seq', 'fastq', 'none']);
    expect(listValidatorTypes(db)).toEqual(['fastq', ...VALIDATORS]);
    // Existing rows keep their ids, so the validators pointing at them survive a restart.
    expect(db.prepare("SELECT name, id FROM validator_type WHERE name <> 'fastq' ORDER BY name").all()).toEqual(ids);
  });
});
