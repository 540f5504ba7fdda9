// Owns what happens after a task attempt exits: valid exit codes, custom exits and incomplete outputs (A_A §3.7).
import { COMPLETION, type Completion } from '../model/types';

export interface ExitDecision {
  /** continue: go on with the job; terminate: finish it as Complete now; fail: the step errors. */
  outcome: 'continue' | 'terminate' | 'fail';
  /** Whether the produced files become Results (A_A stores them on every branch but an unexpected exit). */
  store_results: boolean;
  reason:
    | 'ok'
    | 'custom_terminate'
    | 'incomplete_continue'
    | 'incomplete_terminate'
    | 'incomplete_fail'
    | 'custom_fail'
    | 'bad_exit';
}

export interface ExitInput {
  exit_code: number;
  custom_exit_status: string | null;
  custom_exit_behaviour: Completion | null;
  incomplete_outputs_behaviour: Completion;
  out_globs: string[];
  /** Names of the output files the attempt produced (A_A `run.output_data` keys). */
  produced: string[];
}

/**
 * The task's custom exit codes, parsed as A_A does: spaces removed, split on ',', each a Python
 * int; null or blank means none. On a bad code `error` is Python's exception text; A_A's step
 * message is `Exit statuses contains non-numerical and other punctuation <error> : <current_step> : <command>`.
 */
export function customExitCodes(custom_exit_status: string | null): number[] | { error: string } {
  if (custom_exit_status === null) return [];
  const statuses = custom_exit_status.replaceAll(' ', '');
  if (statuses.length === 0) return [];
  const codes: number[] = [];
  for (const literal of statuses.split(',')) {
    const code = parsePythonInt(literal);
    if (code === null) {
      return { error: `invalid literal for int() with base 10: ${pythonRepr(literal)}` };
    }
    codes.push(code);
  }
  return codes;
}

/** A_A's valid exit list: 0, plus the custom codes when their behaviour is CONTINUE or TERMINATE. */
export function validExitCodes(
  custom_exit_status: string | null,
  custom_exit_behaviour: Completion | null,
): number[] | { error: string } {
  const custom = customExitCodes(custom_exit_status);
  if ('error' in custom) return custom;
  const acceptsCustom = custom_exit_behaviour === COMPLETION.CONTINUE || custom_exit_behaviour === COMPLETION.TERMINATE;
  return acceptsCustom ? [0, ...custom] : [0];
}

/**
 * A_A `handle_task_exit` as a pure decision. Throws (with the `error` text) when the custom exit
 * codes do not parse: callers check `validExitCodes` before running the attempt, as A_A does.
 */
export function decideExit(input: ExitInput): ExitDecision {
  const custom = customExitCodes(input.custom_exit_status);
  const valid = validExitCodes(input.custom_exit_status, input.custom_exit_behaviour);
  if ('error' in custom) throw new Error(custom.error);
  if ('error' in valid) throw new Error(valid.error);

  const isCustom = custom.includes(input.exit_code);
  if (!valid.includes(input.exit_code)) {
    if (isCustom && input.custom_exit_behaviour === COMPLETION.FAIL) {
      return { outcome: 'fail', store_results: true, reason: 'custom_fail' };
    }
    return { outcome: 'fail', store_results: false, reason: 'bad_exit' };
  }

  const customTerminate = isCustom && input.custom_exit_behaviour === COMPLETION.TERMINATE;
  if (outputsComplete(input.out_globs, input.produced)) {
    return customTerminate
      ? { outcome: 'terminate', store_results: true, reason: 'custom_terminate' }
      : { outcome: 'continue', store_results: true, reason: 'ok' };
  }
  switch (input.incomplete_outputs_behaviour) {
    case COMPLETION.FAIL:
      return { outcome: 'fail', store_results: true, reason: 'incomplete_fail' };
    case COMPLETION.TERMINATE:
      return { outcome: 'terminate', store_results: true, reason: customTerminate ? 'custom_terminate' : 'incomplete_terminate' };
    case COMPLETION.CONTINUE:
      return customTerminate
        ? { outcome: 'terminate', store_results: true, reason: 'custom_terminate' }
        : { outcome: 'continue', store_results: true, reason: 'incomplete_continue' };
  }
}

/**
 * A_A's completeness rule, quirks included: each produced file counts as '.' + its last
 * dot-suffix, so a glob like `.tar.gz` or one without a leading dot is never satisfied.
 */
export function outputsComplete(out_globs: string[], produced: string[]): boolean {
  const found = new Set(produced.map((name) => '.' + name.split('.').pop()));
  return out_globs.every((glob) => found.has(glob));
}

// Python int(): surrounding whitespace, an optional sign, digits with single '_' separators.
const PY_INT = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*([+-]?)(\d+(?:_\d+)*)[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

function parsePythonInt(literal: string): number | null {
  const match = PY_INT.exec(literal);
  if (!match) return null;
  const magnitude = Number(match[2].replaceAll('_', ''));
  return match[1] === '-' ? -magnitude : magnitude;
}

/** Python's repr() of a str, enough for the literals an exit-status list can hold. */
function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return quote + out + quote;
}
