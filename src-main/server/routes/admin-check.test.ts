// The publish check: each reason a draft cannot be published, and a sound job passing clean.
import { describe, expect, it } from 'vitest';
import { checkJob, type CheckLookup } from './admin-check';
import type { JobInput, TaskInput } from './admin-types';

const task = (name: string, fields: Partial<TaskInput> = {}): TaskInput => ({
  name,
  description: null,
  backend: 'local',
  in_glob: '.input',
  out_glob: '.out',
  stdout_glob: null,
  executable: `/bin/cat $I1`,
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

function lookup(tasks: TaskInput[]): CheckLookup {
  return {
    task: (name) => tasks.find((t) => t.name === name) ?? null,
    backend: (name) =>
      name === 'local' ? { id: 1, name: 'local', queue_type: 'localhost', root_path: '' } : name === 'py' ? { id: 2, name: 'py', queue_type: 'Python', root_path: '' } : null,
    queueType: (name) => (name === 'localhost' ? { id: 1, name, execution_behaviour: 1 } : name === 'Python' ? { id: 4, name, execution_behaviour: 4 } : null),
    validatorNames: new Set(['none', 'seq']),
  };
}

const job = (steps: JobInput['steps'], validators: string[] = []): JobInput => ({ name: 'j', description: null, validators, steps });
const step = (key: string, taskName: string, after: string[] = []) => ({ key, task: taskName, after, x: 0, y: 0 });

// A_A's tmp_count: ls /tmp → .contents, then wc -l on it → .count.
const tmpCount = [
  task('list_tmp', { executable: 'ls /tmp', out_glob: '.contents', stdout_glob: '.contents' }),
  task('count_lines', { executable: 'wc -l $I1', in_glob: '.contents', out_glob: '.count', stdout_glob: '.count' }),
];

describe('checkJob', () => {
  it('passes a sound two-step job wired from Input to Output', () => {
    const j = job([step('a', 'list_tmp'), step('b', 'count_lines', ['a'])], ['seq']);
    expect(checkJob(j, lookup(tmpCount), { entry: ['a'], exit: ['b'] })).toEqual([]);
  });

  it('reports a job without steps', () => {
    expect(checkJob(job([]), lookup([])).map((p) => p.code)).toEqual(['no_steps']);
  });

  it('reports a cycle with the steps in it, named by their tasks', () => {
    const j = job([step('a', 'list_tmp', ['b']), step('b', 'count_lines', ['a'])]);
    const problems = checkJob(j, lookup(tmpCount));
    const cycle = problems.find((p) => p.code === 'cycle');
    expect(cycle?.keys.sort()).toEqual(['a', 'b']);
    expect(cycle?.message).toMatch(/list_tmp|count_lines/);
  });

  it('reports a step waiting for itself as a cycle', () => {
    const problems = checkJob(job([step('a', 'list_tmp', ['a'])]), lookup(tmpCount));
    expect(problems.map((p) => p.code)).toContain('cycle');
  });

  it('reports steps the designer left unwired from the Input or to the Output', () => {
    const j = job([step('a', 'list_tmp'), step('b', 'count_lines', ['a'])]);
    const problems = checkJob(j, lookup(tmpCount), { entry: [], exit: [] });
    expect(problems.filter((p) => p.code === 'unconnected').map((p) => [p.keys[0], p.message])).toEqual([
      ['a', 'step "list_tmp" (a) is not connected to the Input'],
      ['b', 'step "count_lines" (b) does not lead to the Output'],
    ]);
  });

  it('does not require wiring for a stored job (its ends are implicit)', () => {
    const j = job([step('a', 'list_tmp'), step('b', 'list_tmp')]);
    expect(checkJob(j, lookup(tmpCount))).toEqual([]);
  });

  it('reports a later step whose first in_glob no ancestor produces', () => {
    const tasks = [task('words', { out_glob: '.words' }), task('count_lines', { in_glob: '.contents', out_glob: '.count' })];
    const problems = checkJob(job([step('a', 'words'), step('b', 'count_lines', ['a'])]), lookup(tasks));
    expect(problems).toEqual([
      { code: 'missing_input', message: 'step "count_lines" (b) reads ".contents" but no upstream step produces it', keys: ['b'] },
    ]);
  });

  it('accepts an in_glob produced by any ancestor, not only the parent', () => {
    const tasks = [...tmpCount, task('middle', { in_glob: '.contents', out_glob: '.middle' }), task('last', { in_glob: '.contents', out_glob: '.x' })];
    const j = job([step('a', 'list_tmp'), step('m', 'middle', ['a']), step('z', 'last', ['m'])]);
    expect(checkJob(j, lookup(tasks))).toEqual([]);
  });

  it('lets entry steps read the upload whatever their in_glob', () => {
    expect(checkJob(job([step('a', 'count_lines')]), lookup(tmpCount))).toEqual([]);
  });

  it('reports steps without a task and tasks that do not exist', () => {
    const problems = checkJob(job([step('a', ''), step('b', 'nope')]), lookup([]));
    expect(problems.map((p) => [p.code, p.keys])).toEqual([
      ['missing_task', ['a']],
      ['missing_task', ['b']],
    ]);
  });

  it('reports missing task fields against every step using the task', () => {
    const tasks = [task('t', { executable: ' ', out_glob: '', backend: null })];
    const problems = checkJob(job([step('a', 't'), step('b', 't')]), lookup(tasks));
    expect(problems.filter((p) => p.code === 'task_field').map((p) => p.message)).toEqual([
      'task "t": executable is empty',
      'task "t": out_glob is empty',
      'task "t": no backend chosen',
    ]);
    expect(problems[0].keys).toEqual(['a', 'b']);
  });

  it('reports shell syntax in a command template', () => {
    const tasks = [task('t', { executable: 'cat $I1 | wc -l' })];
    const problems = checkJob(job([step('a', 't')]), lookup(tasks));
    expect(problems.map((p) => p.code)).toEqual(['shell_syntax']);
    expect(problems[0].message).toContain('"|"');
  });

  it('allows pipes in a script body for a script backend', () => {
    const tasks = [task('t', { backend: 'py', executable: "print(open('x').read() | 1)" })];
    expect(checkJob(job([step('a', 't')]), lookup(tasks))).toEqual([]);
  });

  it('reports unknown validator types', () => {
    const problems = checkJob(job([step('a', 'list_tmp')], ['seq', 'fasta']), lookup(tmpCount));
    expect(problems).toEqual([{ code: 'unknown_validator', message: 'unknown validator type "fasta"', keys: [] }]);
  });
});
