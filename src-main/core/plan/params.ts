// Owns turning a submission's REST fields into a task's params, param_values and value (A_A §3.2).
import type { Parameter, PlannedStep } from '../model/types';

/** The REST field of a parameter: `<task name>_<alias>`, prefixed once (A_A re-prefixes on every save). */
export function restField(taskName: string, alias: string): string {
  return `${taskName}_${alias}`;
}

/** Fields absent from the request, in order, each once. A_A requires every one, bool or not, default or not. */
export function missingParameters(fields: string[], request: Record<string, string>): string[] {
  return [...new Set(fields.filter((field) => !Object.hasOwn(request, field)))];
}

// A flag containing VALUE is not a flag: its value fills $VALUE instead of a $P slot.
const isValueFlag = (p: Parameter): boolean => p.flag.includes('VALUE');

/**
 * A_A `__build_params` and `__return_value` for one task. `parameters` must be in Parameter id
 * order, which numbers the $P<i> slots. A missing field falls back to the parameter's default,
 * and a null default to '' (A_A would pass Python's None, which membership checks make moot).
 */
export function planParams(
  parameters: Parameter[],
  taskName: string,
  request: Record<string, string>,
): { params: string[]; param_values: PlannedStep['param_values']; value: string } {
  const lookup = (p: Parameter): string | undefined => {
    const field = restField(taskName, p.alias);
    return Object.hasOwn(request, field) ? request[field] : undefined;
  };

  const params: string[] = [];
  const param_values: PlannedStep['param_values'] = {};
  for (const p of parameters) {
    if (isValueFlag(p)) continue;
    if (p.bool_valued) {
      // Only these exact spellings switch a flag off; A_A treats anything else, even 'false', as on.
      const off = lookup(p) === 'FALSE' || lookup(p) === 'False';
      params.push(off ? '' : p.flag);
      continue;
    }
    params.push(p.flag);
    // Two parameters sharing a flag collide here, the later winning, as in A_A.
    param_values[p.flag] = { value: lookup(p) ?? p.default ?? '', spacing: p.spacing, switchless: p.switchless };
  }

  const valueParam = parameters.find((p) => !p.bool_valued && isValueFlag(p));
  const value = valueParam ? (lookup(valueParam) ?? valueParam.default ?? '') : '';
  return { params, param_values, value };
}
