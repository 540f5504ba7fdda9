// Owns the typed contract of a Job's native API: which fields it has, their types and limits, and turning submitted values into plan values.
import type { Job, Parameter, ParameterType, Task } from '../model/types';
import { PARAMETER_TYPES } from '../model/types';
import { restField } from '../plan/params';
import { splitGlobs } from '../plan/plan';

/** One thing wrong with a definition or a submitted value; `path` is a field path ('a.b[0]') or a field name. */
export interface ContractProblem {
  path: string;
  message: string;
}

/** A typed value a field default or a JSON submission holds. */
export type FieldValue = string | number | boolean;

/** One field of a service's request. */
export interface ServiceField {
  /** REST name: `submission_name`, `email`, `input_data`, or `<task>_<alias>`. */
  name: string;
  kind: 'core' | 'input_data' | 'parameter';
  type: ParameterType;
  required: boolean;
  /** Typed default (parameters with a default; `submission_name`); files keep their default as given. */
  default?: FieldValue;
  description?: string;
  /** Task and parameter behind a `parameter` field (the first task using it, when several steps share one). */
  task?: string;
  parameter?: Parameter;
  min?: number;
  max?: number;
  enum?: string[];
  pattern?: string;
  max_length?: number;
  /** Validator names a file must pass (the Job's validators for `input_data`). */
  validators?: string[];
  /** For string fields the server checks with its own rule (email). */
  format?: 'email';
}

/** The upload field of Jobs whose Tasks declare no file parameter (A_A's only file field). */
export const INPUT_DATA = 'input_data';
export const SUBMISSION_NAME_MAX = 64;
export const EMAIL_MAX = 256;

/** A parameter's native type: its declared `type`, else A_A's reading of it. */
export function effectiveType(p: Parameter): ParameterType {
  return p.type ?? (p.bool_valued ? 'boolean' : 'string');
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TRUE_WORDS = new Set(['true', '1']);
const FALSE_WORDS = new Set(['false', '0']);
// Loose on purpose: the address is stored, never used to send anything.
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** JSON Schema counts characters as code points. */
const length = (s: string): number => [...s].length;

function compile(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return null;
  }
}

/**
 * Parses a text value (a form field or a stored default) as `type`. Returns the typed value, or a
 * message saying what is wrong. Limits are checked separately by `checkLimits`.
 */
export function parseText(type: ParameterType, text: string): { value: FieldValue } | { error: string } {
  switch (type) {
    case 'integer': {
      const t = text.trim();
      if (!INTEGER.test(t) || !Number.isSafeInteger(Number(t))) return { error: 'must be a whole number' };
      return { value: Number(t) };
    }
    case 'number': {
      const t = text.trim();
      if (!NUMBER.test(t) || !Number.isFinite(Number(t))) return { error: 'must be a number' };
      return { value: Number(t) };
    }
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (TRUE_WORDS.has(t)) return { value: true };
      if (FALSE_WORDS.has(t)) return { value: false };
      return { error: 'must be true or false' };
    }
    default:
      return { value: text };
  }
}

/** Checks a typed JSON value's type (no limits); numbers arrive as numbers, booleans as booleans. */
export function checkJsonType(type: ParameterType, value: unknown): { value: FieldValue } | { error: string } {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) ? { value } : { error: 'must be a whole number' };
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? { value } : { error: 'must be a number' };
    case 'boolean':
      return typeof value === 'boolean' ? { value } : { error: 'must be true or false' };
    default:
      return typeof value === 'string' ? { value } : { error: 'must be a string' };
  }
}

/** The limits of a field (bounds, enum, pattern, length, NUL) on an already typed value; null when it passes. */
export function checkLimits(field: Pick<ServiceField, 'type' | 'min' | 'max' | 'enum' | 'pattern' | 'max_length' | 'format'>, value: FieldValue): string | null {
  if (typeof value === 'number') {
    if (field.min !== undefined && value < field.min) return `must be at least ${field.min}`;
    if (field.max !== undefined && value > field.max) return `must be at most ${field.max}`;
    return null;
  }
  if (typeof value !== 'string') return null;
  // A process argument cannot hold NUL; refusing it here beats a run that fails to start.
  if (value.includes('\0')) return 'must not contain NUL characters';
  if (field.type === 'enum' && field.enum && !field.enum.includes(value)) return `must be one of ${field.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  if (field.max_length !== undefined && length(value) > field.max_length) return `must be at most ${field.max_length} characters`;
  if (field.pattern !== undefined) {
    const re = compile(field.pattern);
    if (re && !re.test(value)) return `must match the pattern ${field.pattern}`;
  }
  if (field.format === 'email' && !EMAIL.test(value)) return 'must be an email address';
  return null;
}

/** Field limits of a parameter, from its definition. */
function limitsOf(p: Parameter): Pick<ServiceField, 'min' | 'max' | 'enum' | 'pattern' | 'max_length' | 'validators'> {
  const type = effectiveType(p);
  const out: Pick<ServiceField, 'min' | 'max' | 'enum' | 'pattern' | 'max_length' | 'validators'> = {};
  if (type === 'integer' || type === 'number') {
    if (p.min !== undefined) out.min = p.min;
    if (p.max !== undefined) out.max = p.max;
  }
  if (type === 'enum' && p.enum) out.enum = p.enum;
  if (type === 'string') {
    if (p.pattern !== undefined) out.pattern = p.pattern;
    if (p.max_length !== undefined) out.max_length = p.max_length;
  }
  const validators = p.validators?.filter((v) => v !== 'none');
  if (type === 'file' && validators?.length) out.validators = validators;
  return out;
}

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (path: string, name: string): string => (path ? `${path}.${name}` : name);

/**
 * The typed part of a parameter definition (type, bounds, enum, pattern, length, validators,
 * description, and a default that must fit them), checked on untrusted input. Returns every problem.
 */
export function checkParameterDefinition(p: Fields, path: string, hasValidator: (name: string) => boolean): ContractProblem[] {
  const out: ContractProblem[] = [];
  const type = p.type;
  if (type !== undefined && type !== null && (typeof type !== 'string' || !(PARAMETER_TYPES as readonly string[]).includes(type))) {
    out.push({ path: at(path, 'type'), message: `must be one of ${PARAMETER_TYPES.join(', ')}` });
    return out;
  }
  const effective: ParameterType = (type as ParameterType | undefined | null) ?? (p.bool_valued === true ? 'boolean' : 'string');
  const optionalNumber = (name: string) => {
    const v = p[name];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) out.push({ path: at(path, name), message: 'must be a number' });
  };
  optionalNumber('min');
  optionalNumber('max');
  if (typeof p.min === 'number' && typeof p.max === 'number' && p.min > p.max) out.push({ path: at(path, 'max'), message: 'must not be less than min' });
  if (effective === 'integer') {
    for (const name of ['min', 'max']) {
      const v = p[name];
      if (typeof v === 'number' && !Number.isInteger(v)) out.push({ path: at(path, name), message: 'must be a whole number for an integer parameter' });
    }
  }
  const values = p.enum;
  if (values !== undefined && values !== null) {
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) out.push({ path: at(path, 'enum'), message: 'must be a list of strings' });
    else if (new Set(values).size !== values.length) out.push({ path: at(path, 'enum'), message: 'must not repeat a value' });
  }
  if (effective === 'enum' && (!Array.isArray(values) || values.length === 0)) out.push({ path: at(path, 'enum'), message: 'an enum parameter needs at least one value' });
  const pattern = p.pattern;
  if (pattern !== undefined && pattern !== null) {
    if (typeof pattern !== 'string') out.push({ path: at(path, 'pattern'), message: 'must be a string' });
    else if (!compile(pattern)) out.push({ path: at(path, 'pattern'), message: 'is not a valid regular expression' });
  }
  const maxLength = p.max_length;
  if (maxLength !== undefined && maxLength !== null && (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 0)) {
    out.push({ path: at(path, 'max_length'), message: 'must be a whole number, 0 or more' });
  }
  const validators = p.validators;
  if (validators !== undefined && validators !== null) {
    if (!Array.isArray(validators)) out.push({ path: at(path, 'validators'), message: 'must be a list of validator names' });
    else
      validators.forEach((v, i) => {
        if (typeof v !== 'string' || !hasValidator(v)) out.push({ path: `${at(path, 'validators')}[${i}]`, message: `unknown validator ${JSON.stringify(v)}` });
      });
  }
  if (p.description !== undefined && p.description !== null && typeof p.description !== 'string') out.push({ path: at(path, 'description'), message: 'must be a string' });
  // A bool_valued parameter is an on/off switch in the command; no other type can fill it.
  if (p.bool_valued === true && effective !== 'boolean') out.push({ path: at(path, 'type'), message: 'must be boolean for a bool_valued parameter' });
  // A default must itself be a valid value, or every client omitting the field would be refused at run time.
  if (out.length === 0 && typeof p.default === 'string' && effective !== 'file') {
    const parsed = parseText(effective, p.default);
    const problem =
      'error' in parsed
        ? parsed.error
        : checkLimits(
            {
              type: effective,
              min: typeof p.min === 'number' ? p.min : undefined,
              max: typeof p.max === 'number' ? p.max : undefined,
              enum: Array.isArray(values) ? (values as string[]) : undefined,
              pattern: typeof pattern === 'string' ? pattern : undefined,
              max_length: typeof maxLength === 'number' ? maxLength : undefined,
            },
            parsed.value,
          );
    if (problem) out.push({ path: at(path, 'default'), message: problem });
  }
  return out;
}

/** Steps in A_A ordering (then key), the order fields and $P numbering follow. */
const orderedSteps = (job: Job) => [...job.steps].sort((a, b) => a.ordering - b.ordering || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** True when some Task of the Job declares a file parameter (the Job then has no `input_data`). */
export function hasFileParameters(job: Job, task: (name: string) => Task | null): boolean {
  return job.steps.some((s) => (task(s.task)?.parameters ?? []).some((p) => effectiveType(p) === 'file'));
}

/**
 * Every field of a Job's native request, in order: `submission_name`, `email`, then each parameter of
 * each step's Task (shared Tasks once), then `input_data` when no Task declares a file parameter.
 * A parameter with a default is optional; one without is required.
 */
export function serviceFields(job: Job, task: (name: string) => Task | null): ServiceField[] {
  const fields: ServiceField[] = [
    {
      name: 'submission_name',
      kind: 'core',
      type: 'string',
      required: false,
      default: job.name.slice(0, SUBMISSION_NAME_MAX),
      max_length: SUBMISSION_NAME_MAX,
      description: 'A name for this run, shown in the run list.',
    },
    { name: 'email', kind: 'core', type: 'string', required: false, max_length: EMAIL_MAX, format: 'email', description: 'Contact address stored with the run.' },
  ];
  const seen = new Set(fields.map((f) => f.name));
  for (const step of orderedSteps(job)) {
    const t = task(step.task);
    for (const p of t?.parameters ?? []) {
      const name = restField(step.task, p.alias);
      if (seen.has(name)) continue;
      seen.add(name);
      const type = effectiveType(p);
      const field: ServiceField = { name, kind: 'parameter', type, required: p.default === null, task: step.task, parameter: p, ...limitsOf(p) };
      if (p.description) field.description = p.description;
      if (p.default !== null) {
        if (type === 'file') field.default = p.default;
        else {
          const parsed = parseText(type, p.default);
          if ('value' in parsed) field.default = parsed.value;
        }
      }
      fields.push(field);
    }
  }
  if (!hasFileParameters(job, task)) {
    // `none` accepts everything; listing it would only puzzle a client.
    const validators = job.validators.filter((v) => v !== 'none');
    fields.push({
      name: INPUT_DATA,
      kind: 'input_data',
      type: 'file',
      required: true,
      description: 'The input file of the first steps.',
      ...(validators.length ? { validators } : {}),
    });
  }
  return fields;
}

/** How a typed value reaches the plan (and so argv): one string per field. */
export function planText(field: ServiceField, value: FieldValue): string {
  if (typeof value === 'boolean') {
    // A bool_valued switch is turned off only by A_A's exact spelling.
    if (field.parameter?.bool_valued) return value ? 'TRUE' : 'FALSE';
    return value ? 'true' : 'false';
  }
  return String(value);
}

/**
 * Where each file parameter of a Task lands in a step's working directory: the i-th file parameter
 * (in parameter order) becomes `<id><in_glob i>`, which is also what `$I<i>` renders to.
 */
export function fileSlots(task: Task, id: string): Array<{ field: string; name: string | null }> {
  const globs = splitGlobs(task.in_glob);
  return task.parameters
    .filter((p) => effectiveType(p) === 'file')
    .map((p, i) => ({ field: restField(task.name, p.alias), name: i < globs.length ? id + globs[i] : null }));
}
