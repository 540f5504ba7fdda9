import { describe, expect, it } from 'vitest';
import { COMPLETION } from '../../src-main/core/model/types';
import { customExitCodes, decideExit, outputsComplete, validExitCodes, type ExitInput } from '../../src-main/core/plan/exits';

const { CONTINUE, TERMINATE, FAIL } = COMPLETION;

const base: ExitInput = {
  exit_code: 0,
  custom_exit_status: null,
  custom_exit_behaviour: null,
  incomplete_outputs_behaviour: FAIL,
  out_globs: ['.out'],
  produced: ['abc.out'],
};
const decide = (over: Partial<ExitInput>) => decideExit({ ...base, ...over });

describe('validExitCodes', () => {
  it('is [0] without custom codes', () => {
    expect(validExitCodes(null, null)).toEqual([0]);
    expect(validExitCodes('', CONTINUE)).toEqual([0]);
    expect(validExitCodes('   ', TERMINATE)).toEqual([0]);
  });

  it('adds the custom codes, spaces removed, when their behaviour is CONTINUE or TERMINATE', () => {
    expect(validExitCodes('123, 500', CONTINUE)).toEqual([0, 123, 500]);
    expect(validExitCodes(' 1 ,2', TERMINATE)).toEqual([0, 1, 2]);
  });

  it('does not add custom codes whose behaviour is FAIL or unset', () => {
    expect(validExitCodes('123', FAIL)).toEqual([0]);
    expect(validExitCodes('123', null)).toEqual([0]);
  });

  it('parses codes as Python int() does: signs and digit separators', () => {
    expect(customExitCodes('+7,-1,1_0')).toEqual([7, -1, 10]);
  });

  it("reports a non-integer code with Python's int() error text", () => {
    expect(validExitCodes('12,abc', CONTINUE)).toEqual({
      error: "invalid literal for int() with base 10: 'abc'",
    });
  });

  it('reports an empty entry between commas and a quote in the code like Python repr', () => {
    expect(validExitCodes('1,,2', FAIL)).toEqual({
      error: "invalid literal for int() with base 10: ''",
    });
    expect(customExitCodes("a'b")).toEqual({
      error: 'invalid literal for int() with base 10: "a\'b"',
    });
  });
});

describe('outputsComplete (A_A found-endings rule)', () => {
  it('is true when every out_glob is the last dot-suffix of some produced file', () => {
    expect(outputsComplete(['.ss2', '.horiz'], ['id.ss2', 'id.horiz', 'id.stdout'])).toBe(true);
  });

  it('is false when an out_glob has no matching file', () => {
    expect(outputsComplete(['.ss2', '.horiz'], ['id.ss2'])).toBe(false);
  });

  it('never counts a multi-dot glob or a glob without a leading dot as present', () => {
    expect(outputsComplete(['.tar.gz'], ['id.tar.gz'])).toBe(false);
    expect(outputsComplete(['out'], ['id.out'])).toBe(false);
  });

  it('counts a file without a dot as "." + its whole name', () => {
    expect(outputsComplete(['.README'], ['README'])).toBe(true);
  });

  it('is true for no out_globs', () => {
    expect(outputsComplete([], [])).toBe(true);
  });
});

describe('decideExit', () => {
  it('continues and stores results after exit 0 with complete outputs', () => {
    expect(decide({})).toEqual({ outcome: 'continue', store_results: true, reason: 'ok' });
  });

  it('continues after a custom CONTINUE code with complete outputs', () => {
    expect(decide({ exit_code: 3, custom_exit_status: '3', custom_exit_behaviour: CONTINUE })).toEqual({
      outcome: 'continue', store_results: true, reason: 'ok',
    });
  });

  it('terminates the job (as Complete) after a custom TERMINATE code, storing results', () => {
    expect(decide({ exit_code: 3, custom_exit_status: '3', custom_exit_behaviour: TERMINATE })).toEqual({
      outcome: 'terminate', store_results: true, reason: 'custom_terminate',
    });
  });

  it('terminates after a normal exit when 0 is listed with TERMINATE (the documented trick)', () => {
    expect(decide({ exit_code: 0, custom_exit_status: '0', custom_exit_behaviour: TERMINATE }).outcome).toBe('terminate');
  });

  it('fails with missing outputs by default, still storing what exists', () => {
    expect(decide({ produced: [] })).toEqual({ outcome: 'fail', store_results: true, reason: 'incomplete_fail' });
  });

  it('terminates on missing outputs when incomplete_outputs_behaviour is TERMINATE', () => {
    expect(decide({ produced: [], incomplete_outputs_behaviour: TERMINATE })).toEqual({
      outcome: 'terminate', store_results: true, reason: 'incomplete_terminate',
    });
  });

  it('continues on missing outputs when incomplete_outputs_behaviour is CONTINUE', () => {
    expect(decide({ produced: [], incomplete_outputs_behaviour: CONTINUE })).toEqual({
      outcome: 'continue', store_results: true, reason: 'incomplete_continue',
    });
  });

  it('still terminates for a custom TERMINATE code when outputs are missing but may continue', () => {
    expect(
      decide({ exit_code: 9, custom_exit_status: '9', custom_exit_behaviour: TERMINATE, produced: [], incomplete_outputs_behaviour: CONTINUE }),
    ).toEqual({ outcome: 'terminate', store_results: true, reason: 'custom_terminate' });
  });

  it('fails on missing outputs even after a custom TERMINATE code when incomplete outputs FAIL', () => {
    expect(
      decide({ exit_code: 9, custom_exit_status: '9', custom_exit_behaviour: TERMINATE, produced: [], incomplete_outputs_behaviour: FAIL }),
    ).toEqual({ outcome: 'fail', store_results: true, reason: 'incomplete_fail' });
  });

  it('fails and stores results after a custom FAIL code', () => {
    expect(decide({ exit_code: 500, custom_exit_status: '123, 500', custom_exit_behaviour: FAIL })).toEqual({
      outcome: 'fail', store_results: true, reason: 'custom_fail',
    });
  });

  it('fails without storing results after any other non-zero code', () => {
    expect(decide({ exit_code: 1 })).toEqual({ outcome: 'fail', store_results: false, reason: 'bad_exit' });
    expect(decide({ exit_code: 1, custom_exit_status: '2', custom_exit_behaviour: CONTINUE }).reason).toBe('bad_exit');
  });

  it('treats a listed code with no behaviour as an unexpected exit', () => {
    expect(decide({ exit_code: 4, custom_exit_status: '4', custom_exit_behaviour: null })).toEqual({
      outcome: 'fail', store_results: false, reason: 'bad_exit',
    });
  });

  it('throws when the custom exit codes do not parse', () => {
    expect(() => decide({ custom_exit_status: 'x' })).toThrow("invalid literal for int() with base 10: 'x'");
  });
});
