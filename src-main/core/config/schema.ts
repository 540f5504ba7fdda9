// The JSON Schema of the native configuration document (aa-workbench/1) and the located problems it finds in a document.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { CONFIGURATION_TYPES, COMPLETION, EXECUTION_BEHAVIOURS, PARAMETER_TYPES } from '../model/types';
import type { Problem } from '../store/config-repo';

/** Format name and version of the native document. */
export const NATIVE_FORMAT = 'aa-workbench/1';

/** Where the running server publishes the schema (editors can point `$schema` at it). */
export const CONFIG_SCHEMA_PATH = '/api/schema/config.json';

type Schema = Record<string, unknown>;

/** Names and other text: the reader takes whole numbers as written (`version: 2`). */
const text = (description: string): Schema => ({ type: ['string', 'integer'], description });
const optionalText = (description: string): Schema => ({ type: ['string', 'integer', 'null'], description });

/** A word the reader matches without regard to case, or its number; the enum lists the spellings editors offer. */
function words(table: Record<string, number>, description: string, nullable = false): Schema {
  const spelled = Object.keys(table);
  const anyCase = spelled
    .map((w) =>
      [...w.replace(/\.$/, '')]
        .map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join(''),
    )
    .join('|');
  return {
    description,
    anyOf: [
      { enum: [...spelled, ...Object.values(table), ...(nullable ? [null] : [])] },
      { type: 'string', pattern: `^\\s*(${anyCase})\\.?\\s*$` },
    ],
  };
}

const COMPLETION_WORDS: Record<string, number> = { continue: COMPLETION.CONTINUE, terminate: COMPLETION.TERMINATE, fail: COMPLETION.FAIL };
const CONFIGURATION_WORDS: Record<string, number> = Object.fromEntries(CONFIGURATION_TYPES.map((label, i) => [label, i]));

const queueType: Schema = {
  type: 'object',
  description: 'How the tasks of a backend run (A_A QueueType).',
  additionalProperties: false,
  required: ['name', 'execution_behaviour'],
  properties: {
    name: text('Unique name; A_A queues are low_<name>, <name> and high_<name>.'),
    execution_behaviour: words(EXECUTION_BEHAVIOURS, 'localhost (a command line), GridEngine, R, Python, bash or node (script bodies); or its number.'),
  },
};

const backend: Schema = {
  type: 'object',
  description: 'Where tasks run (A_A Backend).',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: text('Unique name.'),
    queue_type: optionalText('Name of a queue type; absent: tasks run as localhost commands.'),
    root_path: optionalText('Parent folder of the per-submission working folders; absent: <data dir>/work.'),
  },
};

const parameter: Schema = {
  type: 'object',
  description: 'A user-settable command-line option; its REST field is <task name>_<alias>.',
  additionalProperties: false,
  required: ['alias', 'flag'],
  properties: {
    alias: text('Field name without the task prefix.'),
    flag: text('Text put on the command line, e.g. -t; a flag containing VALUE supplies $VALUE instead.'),
    default: { type: ['string', 'integer', 'null'], description: 'Used when a request leaves the field out.' },
    bool_valued: { type: 'boolean', description: 'A switch: the flag alone, or nothing when the value is FALSE.' },
    spacing: { type: 'boolean', description: 'A space between flag and value (default true).' },
    switchless: { type: 'boolean', description: 'Only the value, without the flag.' },
    type: { enum: [...PARAMETER_TYPES], description: 'Native API value type; absent: boolean for a switch, else string.' },
    min: { type: 'number', description: 'integer, number: smallest value allowed.' },
    max: { type: 'number', description: 'integer, number: largest value allowed.' },
    enum: { type: 'array', items: { type: 'string' }, description: 'enum: the allowed values.' },
    pattern: { type: 'string', description: 'string: an ECMAScript regular expression the value must match.' },
    max_length: { type: 'integer', minimum: 0, description: 'string: most characters allowed.' },
    validators: { type: 'array', items: { type: 'string' }, description: 'file: validator names the upload must pass.' },
    description: { type: 'string', description: 'Shown to API clients.' },
  },
};

const environmentEntry: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['env'],
  properties: { env: text('Variable name.'), value: optionalText('Value.') },
};

const configuration: Schema = {
  type: 'object',
  description: 'Descriptive metadata shown by GET job/<name> (A_A Configuration).',
  additionalProperties: false,
  properties: {
    type: words(CONFIGURATION_WORDS, 'Software, Dataset or Misc.; or its number.'),
    name: optionalText('Name.'),
    version: optionalText('Version.'),
    parameters: optionalText('Free text.'),
  },
};

const task: Schema = {
  type: 'object',
  description: 'A reusable unit of work (A_A Task).',
  additionalProperties: false,
  required: ['name', 'executable', 'in_glob', 'out_glob'],
  properties: {
    name: text('Unique name; prefix of its parameters REST fields.'),
    description: optionalText('Free text.'),
    backend: optionalText('Name of a backend; absent: a localhost command.'),
    executable: text('Command template ($P1 $I1 $O1 $VALUE $ID $TMP; run without a shell) or a script body.'),
    in_glob: text('Comma-separated file endings the task consumes, e.g. .input or .fa,.aln.'),
    out_glob: text('Comma-separated endings of the files kept as results.'),
    stdout_glob: optionalText('Ending of the file stdout is written to; absent: .stdout.'),
    parameters: { type: ['array', 'null'], items: parameter },
    environment: {
      type: ['object', 'array', 'null'],
      description: 'Variables added to the inherited environment: a map NAME: value, or a list of { env, value } (repeated names).',
      additionalProperties: { type: ['string', 'integer', 'null'] },
      items: environmentEntry,
    },
    configuration: { type: ['array', 'null'], items: configuration },
    incomplete_outputs_behaviour: words(COMPLETION_WORDS, 'When an out_glob has no file: continue, terminate or fail (default).'),
    custom_exit_status: {
      type: ['string', 'integer', 'array', 'null'],
      items: { type: ['integer', 'string'] },
      description: 'Exit codes handled by custom_exit_behaviour: "123,500" or a list.',
    },
    custom_exit_behaviour: words(COMPLETION_WORDS, 'What a custom exit status does: continue, terminate or fail.', true),
    timeout: { type: ['number', 'null'], exclusiveMinimum: 0, description: 'Seconds; absent or null: no limit.' },
    retries: { type: 'integer', minimum: 0, description: 'Extra tries of a failed attempt (default 0).' },
  },
};

const step: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'task'],
  properties: {
    key: text('Stable key of the step within its job.'),
    task: text('Name of the task the step runs.'),
    after: { type: 'array', items: { type: ['string', 'integer'] }, description: 'Keys of the steps this one waits for; when any step has it, edges are the truth.' },
    ordering: { type: 'integer', description: 'A_A ordering, used only when no step has after: equal values run in parallel.' },
    x: { type: ['number', 'null'], description: 'Designer position.' },
    y: { type: ['number', 'null'], description: 'Designer position.' },
  },
};

const job: Schema = {
  type: 'object',
  description: 'A named graph of steps (A_A Job); a published job is a web service.',
  additionalProperties: false,
  required: ['name', 'steps'],
  properties: {
    name: text('Unique name; the job field of a submission and the service name.'),
    description: optionalText('Free text.'),
    runnable: { type: 'boolean', description: 'Accepts submissions (default false).' },
    validators: { type: ['array', 'null'], items: { type: ['string', 'integer'] }, description: 'Validator names every input must pass.' },
    steps: { type: 'array', items: step },
  },
};

/** JSON Schema (draft-07) of the native configuration document. */
export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'urn:aa-workbench:config:1',
  title: 'A_A Workbench configuration',
  description: `Queue types, backends, tasks and jobs, as \`aa export\` writes them and \`aa import\` reads them (format ${NATIVE_FORMAT}).`,
  type: 'object',
  additionalProperties: false,
  required: ['format'],
  properties: {
    format: { const: NATIVE_FORMAT, description: 'Document format and version.' },
    queue_types: { type: ['array', 'null'], items: queueType },
    backends: { type: ['array', 'null'], items: backend },
    tasks: { type: ['array', 'null'], items: task },
    jobs: { type: ['array', 'null'], items: job },
  },
} as const;

let compiled: ValidateFunction | null = null;

function validator(): ValidateFunction {
  if (!compiled) compiled = new Ajv({ allErrors: true, allowUnionTypes: true, strict: true }).compile(CONFIG_SCHEMA);
  return compiled;
}

/** Every place the document breaks the schema, located as the importer locates problems ('tasks[0].parameters[1].alias'). */
export function schemaProblems(document: unknown): Problem[] {
  const validate = validator();
  if (validate(document)) return [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const problem = problemOf(error);
    // Branches of one anyOf fail together; the anyOf itself says it once.
    if (!problem || seen.has(problem.path)) continue;
    seen.add(problem.path);
    problems.push(problem);
  }
  return problems;
}

function problemOf(error: ErrorObject): Problem | null {
  const at = locate(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: child(at, String(params.additionalProperty)), message: 'unknown field' };
    case 'required':
      return { path: child(at, String(params.missingProperty)), message: 'required' };
    case 'type':
      return { path: at, message: typeMessage(String(params.type)) };
    case 'const':
      return { path: at, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'enum':
      // Inside an anyOf the anyOf error carries the message.
      if (/\/anyOf\/\d+\/enum$/.test(error.schemaPath)) return null;
      return { path: at, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern':
      if (/\/anyOf\/\d+\/pattern$/.test(error.schemaPath)) return null;
      return { path: at, message: `must match ${String(params.pattern)}` };
    case 'anyOf': {
      const options = ((error.parentSchema as Schema | undefined)?.anyOf as Schema[] | undefined)?.[0]?.enum as unknown[] | undefined;
      return { path: at, message: options ? `must be one of ${options.map((v) => JSON.stringify(v)).join(', ')}` : 'has the wrong form' };
    }
    default:
      return { path: at, message: error.message ?? `breaks the rule "${error.keyword}"` };
  }
}

const TYPE_WORDS: Record<string, string> = {
  array: 'a list',
  object: 'an object',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
};

function typeMessage(types: string): string {
  const names = types.split(',').filter((t) => t !== 'null');
  if (names.length === 1 && names[0] === 'boolean') return 'must be true or false';
  return `must be ${names.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const child = (at: string, key: string): string =>
  /^\d+$/.test(key) || !IDENTIFIER.test(key) ? `${at}[${JSON.stringify(key)}]` : at === '' ? key : `${at}.${key}`;

/** JSON Pointer '/tasks/0/parameters/1' → 'tasks[0].parameters[1]'. */
function locate(pointer: string): string {
  if (pointer === '') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(key)) out += `[${key}]`;
    else out = child(out, key);
  }
  return out;
}
