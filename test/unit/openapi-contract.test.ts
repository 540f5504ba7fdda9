// Specification of a Job's typed contract: field list, value parsing and limits, parameter definitions, and plan values.
import { describe, expect, it } from 'vitest';
import {
  checkJsonType,
  checkLimits,
  checkParameterDefinition,
  effectiveType,
  fileSlots,
  parseText,
  planText,
  serviceFields,
  type ServiceField,
} from '../../src-main/core/openapi/contract';
import type { Job, Parameter, Task } from '../../src-main/core/model/types';

const param = (p: Partial<Parameter> & { alias: string }): Parameter => ({
  flag: `-${p.alias}`,
  default: null,
  bool_valued: false,
  spacing: true,
  switchless: false,
  ...p,
});

const task = (name: string, parameters: Parameter[], in_glob = '.input'): Task => ({
  id: 1,
  name,
  description: null,
  backend: null,
  in_glob,
  out_glob: '.out',
  stdout_glob: '.out',
  executable: 'true',
  incomplete_outputs_behaviour: 3,
  custom_exit_status: null,
  custom_exit_behaviour: null,
  timeout: null,
  retries: 0,
  parameters,
  environment: [],
  configuration: [],
});

const job = (steps: Array<[string, string, number]>, validators: string[] = []): Job => ({
  id: 1,
  name: 'job',
  runnable: true,
  description: null,
  validators,
  steps: steps.map(([key, t, ordering], i) => ({ id: i + 1, key, task: t, ordering, after: [], x: null, y: null })),
});

const lookup = (...tasks: Task[]) => (name: string) => tasks.find((t) => t.name === name) ?? null;
const known = (name: string) => ['seq', 'none'].includes(name);

describe('parameter types', () => {
  it('a parameter without a type is boolean when bool_valued and a string otherwise', () => {
    expect(effectiveType(param({ alias: 'a', bool_valued: true }))).toBe('boolean');
    expect(effectiveType(param({ alias: 'a' }))).toBe('string');
    expect(effectiveType(param({ alias: 'a', type: 'integer' }))).toBe('integer');
  });

  it('form text parses to typed values, refusing what is not of the type', () => {
    expect(parseText('integer', ' 42 ')).toEqual({ value: 42 });
    expect(parseText('integer', '4.2')).toEqual({ error: 'must be a whole number' });
    expect(parseText('integer', '99999999999999999999')).toEqual({ error: 'must be a whole number' });
    expect(parseText('number', '-0.5e3')).toEqual({ value: -500 });
    expect(parseText('number', '0x10')).toEqual({ error: 'must be a number' });
    expect(parseText('number', 'Infinity')).toEqual({ error: 'must be a number' });
    expect(parseText('boolean', 'TRUE')).toEqual({ value: true });
    expect(parseText('boolean', '0')).toEqual({ value: false });
    expect(parseText('boolean', 'yes')).toEqual({ error: 'must be true or false' });
    expect(parseText('string', ' keep spaces ')).toEqual({ value: ' keep spaces ' });
  });

  it('JSON values must already have the type: no strings for numbers, no numbers for strings', () => {
    expect(checkJsonType('integer', 3)).toEqual({ value: 3 });
    expect(checkJsonType('integer', '3')).toEqual({ error: 'must be a whole number' });
    expect(checkJsonType('integer', 3.5)).toEqual({ error: 'must be a whole number' });
    expect(checkJsonType('number', 3.5)).toEqual({ value: 3.5 });
    expect(checkJsonType('boolean', 'true')).toEqual({ error: 'must be true or false' });
    expect(checkJsonType('enum', 1)).toEqual({ error: 'must be a string' });
    expect(checkJsonType('string', 'x')).toEqual({ value: 'x' });
  });

  it('limits: inclusive bounds, enum membership, pattern (unanchored, as JSON Schema), length in characters, no NUL', () => {
    expect(checkLimits({ type: 'integer', min: 1, max: 10 }, 1)).toBeNull();
    expect(checkLimits({ type: 'integer', min: 1, max: 10 }, 0)).toBe('must be at least 1');
    expect(checkLimits({ type: 'number', max: 0.5 }, 0.6)).toBe('must be at most 0.5');
    expect(checkLimits({ type: 'enum', enum: ['fast', 'slow'] }, 'medium')).toBe('must be one of "fast", "slow"');
    expect(checkLimits({ type: 'string', pattern: '[ACGT]+' }, 'xxACGTxx')).toBeNull();
    expect(checkLimits({ type: 'string', pattern: '^[ACGT]+$' }, 'xxACGTxx')).toBe('must match the pattern ^[ACGT]+$');
    expect(checkLimits({ type: 'string', max_length: 3 }, 'héé')).toBeNull();
    expect(checkLimits({ type: 'string', max_length: 3 }, 'abcd')).toBe('must be at most 3 characters');
    expect(checkLimits({ type: 'string' }, 'a\0b')).toBe('must not contain NUL characters');
    expect(checkLimits({ type: 'string', format: 'email' }, 'not-an-address')).toBe('must be an email address');
  });
});

describe('parameter definitions', () => {
  it('a sound typed definition has no problems', () => {
    expect(checkParameterDefinition({ flag: '-n', alias: 'n', type: 'integer', min: 1, max: 10, default: '5' }, 'p', known)).toEqual([]);
    expect(checkParameterDefinition({ flag: '-m', alias: 'm', type: 'enum', enum: ['a', 'b'], default: 'b' }, 'p', known)).toEqual([]);
    expect(checkParameterDefinition({ flag: '-f', alias: 'f', type: 'file', validators: ['seq'] }, 'p', known)).toEqual([]);
  });

  it('reports every problem with its path: unknown type, crossed bounds, bad pattern, unknown validator, empty enum', () => {
    expect(checkParameterDefinition({ alias: 'x', type: 'date' }, 'task.parameters[0]', known)).toEqual([
      { path: 'task.parameters[0].type', message: 'must be one of string, integer, number, boolean, enum, file' },
    ]);
    expect(checkParameterDefinition({ alias: 'x', type: 'integer', min: 5, max: 1.5 }, 'p', known)).toEqual([
      { path: 'p.max', message: 'must not be less than min' },
      { path: 'p.max', message: 'must be a whole number for an integer parameter' },
    ]);
    expect(checkParameterDefinition({ alias: 'x', type: 'string', pattern: '(', max_length: -1 }, 'p', known)).toEqual([
      { path: 'p.pattern', message: 'is not a valid regular expression' },
      { path: 'p.max_length', message: 'must be a whole number, 0 or more' },
    ]);
    expect(checkParameterDefinition({ alias: 'x', type: 'file', validators: ['seq', 'nope'] }, 'p', known)).toEqual([
      { path: 'p.validators[1]', message: 'unknown validator "nope"' },
    ]);
    expect(checkParameterDefinition({ alias: 'x', type: 'enum' }, 'p', known)).toEqual([{ path: 'p.enum', message: 'an enum parameter needs at least one value' }]);
    expect(checkParameterDefinition({ alias: 'x', bool_valued: true, type: 'integer' }, 'p', known)).toEqual([
      { path: 'p.type', message: 'must be boolean for a bool_valued parameter' },
    ]);
  });

  it('a default must be a valid value of its own parameter', () => {
    expect(checkParameterDefinition({ alias: 'x', type: 'integer', max: 10, default: '11' }, 'p', known)).toEqual([
      { path: 'p.default', message: 'must be at most 10' },
    ]);
    expect(checkParameterDefinition({ alias: 'x', type: 'enum', enum: ['a'], default: 'b' }, 'p', known)).toEqual([
      { path: 'p.default', message: 'must be one of "a"' },
    ]);
    expect(checkParameterDefinition({ alias: 'x', type: 'boolean', default: 'maybe' }, 'p', known)).toEqual([
      { path: 'p.default', message: 'must be true or false' },
    ]);
  });
});

describe('service fields', () => {
  const t1 = task('align', [
    param({ alias: 'gap', type: 'integer', min: 0, max: 100, default: '10' }),
    param({ alias: 'mode', type: 'enum', enum: ['fast', 'slow'] }),
    param({ alias: 'fast', bool_valued: true }),
  ]);
  const t2 = task('count', [param({ alias: 'label', type: 'string', pattern: '^[a-z]+$', max_length: 8, description: 'a label' })]);

  it('lists the core fields, each parameter once in step order, then input_data when no task takes a file', () => {
    const fields = serviceFields(job([['b', 'count', 1], ['a', 'align', 0], ['c', 'align', 2]], ['seq']), lookup(t1, t2));
    expect(fields.map((f) => [f.name, f.type, f.required])).toEqual([
      ['submission_name', 'string', false],
      ['email', 'string', false],
      ['align_gap', 'integer', false],
      ['align_mode', 'enum', true],
      ['align_fast', 'boolean', true],
      ['count_label', 'string', true],
      ['input_data', 'file', true],
    ]);
    expect(fields.find((f) => f.name === 'align_gap')).toMatchObject({ default: 10, min: 0, max: 100 });
    expect(fields.find((f) => f.name === 'count_label')).toMatchObject({ pattern: '^[a-z]+$', max_length: 8, description: 'a label' });
    expect(fields.find((f) => f.name === 'input_data')).toMatchObject({ validators: ['seq'] });
  });

  it('a Job whose tasks take files has one field per file parameter and no input_data', () => {
    const pair = task('pair', [param({ alias: 'left', type: 'file', validators: ['seq'] }), param({ alias: 'right', type: 'file', default: '/ref/default.fa' })], '.l,.r');
    const fields = serviceFields(job([['a', 'pair', 0]]), lookup(pair));
    expect(fields.map((f) => [f.name, f.type, f.required])).toEqual([
      ['submission_name', 'string', false],
      ['email', 'string', false],
      ['pair_left', 'file', true],
      ['pair_right', 'file', false],
    ]);
  });

  it('the i-th file parameter of a task lands as <id><in_glob i>', () => {
    const pair = task('pair', [param({ alias: 'left', type: 'file' }), param({ alias: 'n', type: 'integer' }), param({ alias: 'right', type: 'file' })], '.l, .r');
    expect(fileSlots(pair, 'ID')).toEqual([
      { field: 'pair_left', name: 'ID.l' },
      { field: 'pair_right', name: 'ID.r' },
    ]);
  });

  it('typed values reach the plan as one string each; switches use A_A spelling', () => {
    const sw = { type: 'boolean', parameter: param({ alias: 's', bool_valued: true }) } as ServiceField;
    const plain = { type: 'boolean', parameter: param({ alias: 'p', type: 'boolean' }) } as ServiceField;
    expect(planText(sw, false)).toBe('FALSE');
    expect(planText(sw, true)).toBe('TRUE');
    expect(planText(plain, false)).toBe('false');
    expect(planText({ type: 'number' } as ServiceField, 0.25)).toBe('0.25');
    expect(planText({ type: 'string' } as ServiceField, 'two words')).toBe('two words');
  });
});
