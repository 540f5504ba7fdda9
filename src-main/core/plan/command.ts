// Owns task command templates: the no-shell syntax check and rendering a template to an argv array.
import { parse } from 'shell-quote';
import type { PlannedStep } from '../model/types';

/**
 * Returns null when `executable` can run without a shell, otherwise a message naming the
 * first shell operator found. Tasks are spawned as an argv array, so pipes, redirection,
 * command lists, substitution and subshells would silently turn into literal arguments.
 */
export function checkExecutable(executable: string): string | null {
  const operator = findShellOperator(executable);
  if (operator === null) return null;
  return (
    `executable uses shell syntax (${JSON.stringify(operator)}): commands run without a shell; ` +
    'use stdout_glob to capture output or a script backend for pipelines'
  );
}

function findShellOperator(executable: string): string | null {
  // shell-quote does not treat backticks as syntax, and a shell still substitutes `…` and
  // $(…) inside double quotes, where shell-quote only sees a word; both are refused outright.
  if (executable.includes('`')) return '`';
  if (executable.includes('$(')) return '$(';
  // Placeholders ($P1, $VALUE, …) must survive parsing as plain words, not be expanded.
  for (const token of parse(executable, (name) => `$${name}`)) {
    if (typeof token === 'object' && 'op' in token && token.op !== 'glob') return token.op;
  }
  // Even quoted, A_A refuses any '>' (renderCommand does too), so say so when the task is saved.
  if (executable.includes('>')) return '>';
  return null;
}

export type RenderInput = Pick<PlannedStep, 'executable' | 'params' | 'param_values' | 'value' | 'in_globs' | 'out_globs'>;

export interface RenderContext {
  /** Submission UUID: the prefix of every input and output file name. */
  id: string;
  /** Backend root path; `$TMP` is this without trailing '/' (A_A: the parent, not the working directory). */
  tmp: string;
}

export const STDOUT_REDIRECTION_ERROR = 'Command string provides stdout redirection, please provide std_out_str instead';
export const MISSING_VALUE_ERROR = 'Command string references $VALUE but no value_string provided';

// Python's str.split() separators, so a template tokenises exactly as A_A's does.
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
// One pass over all placeholders: the longest number wins ($P10 is never $P1 + "0") and
// substituted values are never rescanned, so a parameter value cannot smuggle in "$ID".
const PLACEHOLDER = /\$(?:P(\d+)|I(\d+)|O(\d+)|VALUE|ID|TMP)/g;
const WHOLE_PARAM = /^\$P(\d+)$/;

/**
 * Renders a task's command template to the argv A_A's shell would have run (A_A
 * `_translate_command`), without the `> <id><stdout_glob>` A_A appends: the executor
 * captures stdout itself. Throws A_A's errors for `>` in the template and for `$VALUE`
 * without a value.
 */
export function renderCommand(step: RenderInput, ctx: RenderContext): string[] {
  if (step.executable.includes('>')) throw new Error(STDOUT_REDIRECTION_ERROR);
  if (step.executable.includes('$VALUE') && !step.value) throw new Error(MISSING_VALUE_ERROR);

  const argv: string[] = [];
  for (const token of step.executable.split(PY_WHITESPACE)) {
    if (token === '') continue;
    const whole = WHOLE_PARAM.exec(token);
    const parts = whole ? paramParts(step, Number(whole[1])) : null;
    if (parts) {
      // A lone $Pn becomes separate words, as the shell would split "-z 12"; a value with
      // spaces stays one word, which is what the parameter meant.
      argv.push(...parts.filter((part) => part !== ''));
    } else {
      const rendered = substitute(token, step, ctx);
      if (rendered !== '') argv.push(rendered);
    }
  }
  return argv;
}

/** The words parameter `n` (1-based over `params`) renders to; null when there is no such parameter. */
function paramParts(step: RenderInput, n: number): string[] | null {
  if (n < 1 || n > step.params.length) return null;
  const flag = step.params[n - 1];
  const valued = Object.hasOwn(step.param_values, flag) ? step.param_values[flag] : undefined;
  if (!valued) return [flag];
  if (valued.switchless) return [valued.value];
  if (valued.spacing) return [flag, valued.value];
  return [flag + valued.value];
}

function substitute(token: string, step: RenderInput, ctx: RenderContext): string {
  return token.replace(PLACEHOLDER, (match: string, p?: string, i?: string, o?: string) => {
    if (p !== undefined) return paramParts(step, Number(p))?.join(' ') ?? match;
    if (i !== undefined) return globName(ctx.id, step.in_globs, Number(i)) ?? match;
    if (o !== undefined) return globName(ctx.id, step.out_globs, Number(o)) ?? match;
    if (match === '$VALUE') return step.value;
    if (match === '$ID') return ctx.id;
    return ctx.tmp.replace(/\/+$/, '');
  });
}

function globName(id: string, globs: string[], n: number): string | null {
  return n >= 1 && n <= globs.length ? id + globs[n - 1] : null;
}
