import { describe, expect, it } from 'vitest';
import type { Parameter } from '../../src-main/core/model/types';
import { missingParameters, planParams, restField } from '../../src-main/core/plan/params';

function param(over: Partial<Parameter>): Parameter {
  return { flag: '-x', alias: 'x', default: null, bool_valued: false, spacing: true, switchless: false, ...over };
}

describe('restField', () => {
  it('prefixes the alias with the task name once', () => {
    expect(restField('task1', 'this')).toBe('task1_this');
  });
});

describe('missingParameters', () => {
  it('lists the fields the request lacks, in order and once each', () => {
    expect(missingParameters(['t_a', 't_b', 't_c', 't_b'], { t_a: '1' })).toEqual(['t_b', 't_c']);
  });

  it('counts a present but empty field as given', () => {
    expect(missingParameters(['t_a'], { t_a: '' })).toEqual([]);
  });

  it('does not mistake inherited object properties for fields', () => {
    expect(missingParameters(['constructor', 'toString'], {})).toEqual(['constructor', 'toString']);
  });
});

describe('planParams', () => {
  it('builds A_A params, param_values and value for the chain example', () => {
    // A_A test: params ['-t', '-th'], param_values {'-th': {spacing True, switchless False, value 123}}, value 'things'.
    const parameters = [
      param({ flag: '-t', alias: 't', bool_valued: true }),
      param({ flag: '-th', alias: 'th' }),
      param({ flag: 'VALUE', alias: 'v' }),
    ];
    expect(planParams(parameters, 'task1', { task1_t: 'TRUE', task1_th: '123', task1_v: 'things' })).toEqual({
      params: ['-t', '-th'],
      param_values: { '-th': { value: '123', spacing: true, switchless: false } },
      value: 'things',
    });
  });

  it("renders a bool as '' only for exactly FALSE or False", () => {
    const parameters = [param({ flag: '-a', alias: 'a', bool_valued: true })];
    expect(planParams(parameters, 't', { t_a: 'FALSE' }).params).toEqual(['']);
    expect(planParams(parameters, 't', { t_a: 'False' }).params).toEqual(['']);
    expect(planParams(parameters, 't', { t_a: 'false' }).params).toEqual(['-a']);
    expect(planParams(parameters, 't', { t_a: 'TRUE' }).params).toEqual(['-a']);
    expect(planParams(parameters, 't', {}).params).toEqual(['-a']);
  });

  it('keeps bool parameters out of param_values', () => {
    expect(planParams([param({ flag: '-a', alias: 'a', bool_valued: true })], 't', { t_a: 'TRUE' }).param_values).toEqual({});
  });

  it('falls back to the default, then to an empty string, when a field is missing', () => {
    const parameters = [param({ flag: '-a', alias: 'a', default: '7' }), param({ flag: '-b', alias: 'b' })];
    expect(planParams(parameters, 't', {}).param_values).toEqual({
      '-a': { value: '7', spacing: true, switchless: false },
      '-b': { value: '', spacing: true, switchless: false },
    });
  });

  it('carries spacing and switchless through', () => {
    const parameters = [param({ flag: '-a', alias: 'a', spacing: false, switchless: true })];
    expect(planParams(parameters, 't', { t_a: '1' }).param_values['-a']).toEqual({ value: '1', spacing: false, switchless: true });
  });

  it('skips every VALUE flag in params and takes $VALUE from the first non-bool one', () => {
    const parameters = [
      param({ flag: 'VALUE', alias: 'flag_value', bool_valued: true }),
      param({ flag: '-a', alias: 'a' }),
      param({ flag: 'MY_VALUE', alias: 'v1', default: 'd1' }),
      param({ flag: 'VALUE2', alias: 'v2' }),
    ];
    const planned = planParams(parameters, 't', { t_flag_value: 'TRUE', t_a: '1', t_v2: 'second' });
    expect(planned.params).toEqual(['-a']);
    expect(planned.value).toBe('d1');
  });

  it('has an empty value when no parameter fills $VALUE', () => {
    expect(planParams([param({})], 't', { t_x: '1' }).value).toBe('');
  });

  it('reads only the fields of its own task', () => {
    expect(planParams([param({ flag: '-a', alias: 'a' })], 'task2', { task1_a: '1', task2_a: '2' }).param_values['-a'].value).toBe('2');
  });

  it('lets a later parameter with the same flag overwrite the earlier value, as A_A does', () => {
    const parameters = [param({ flag: '-a', alias: 'one' }), param({ flag: '-a', alias: 'two' })];
    const planned = planParams(parameters, 't', { t_one: '1', t_two: '2' });
    expect(planned.params).toEqual(['-a', '-a']);
    expect(planned.param_values['-a'].value).toBe('2');
  });
});
