// The native configuration document (format aa-workbench/1): written from the store, read back as a Bundle.
import type { Db } from '../store/db';
import { listBackends, listJobs, listQueueTypes, listTasks } from '../store/config-repo';
import type { BackendInput, JobInput, Problem, QueueTypeInput, TaskInput } from '../store/config-repo';
import { COMPLETION, CONFIGURATION_TYPES, EXECUTION_BEHAVIOURS } from '../model/types';
import type { Job, Task } from '../model/types';
import { type Bundle, emptyBundle, type Entry, under } from './bundle';
import { NATIVE_FORMAT, schemaProblems } from './schema';

export { NATIVE_FORMAT };

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

// Keys the document may have at the top; every other accepted key is the schema's (schema.ts).
const TOP_FIELDS = ['format', 'queue_types', 'backends', 'tasks', 'jobs'];
/** The native API's typed parameter fields, written only when set. */
const TYPED_PARAMETER_FIELDS = ['type', 'min', 'max', 'enum', 'pattern', 'max_length', 'validators', 'description'] as const;

const COMPLETION_WORDS: Record<number, string> = {
  [COMPLETION.CONTINUE]: 'continue',
  [COMPLETION.TERMINATE]: 'terminate',
  [COMPLETION.FAIL]: 'fail',
};
const BEHAVIOUR_WORDS: Record<number, string> = Object.fromEntries(Object.entries(EXECUTION_BEHAVIOURS).map(([w, n]) => [n, w]));

// ---------------------------------------------------------------------------------------------
// Writing

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Plain object with `undefined` members left out, keys in the order given. */
const compact = (fields: Fields): Fields => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));

const orOmit = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** The whole configuration, sorted by name, defaults left out; equal stores give equal documents. */
export function nativeDocument(db: Db): Fields {
  return {
    format: NATIVE_FORMAT,
    queue_types: listQueueTypes(db)
      .sort(byName)
      .map((q) => ({ name: q.name, execution_behaviour: BEHAVIOUR_WORDS[q.execution_behaviour] ?? q.execution_behaviour })),
    backends: listBackends(db)
      .sort(byName)
      .map((b) => compact({ name: b.name, queue_type: orOmit(b.queue_type), root_path: b.root_path === '' ? undefined : b.root_path })),
    tasks: listTasks(db).sort(byName).map(taskDocument),
    jobs: listJobs(db).sort(byName).map(jobDocument),
  };
}

function taskDocument(t: Task): Fields {
  return compact({
    name: t.name,
    description: orOmit(t.description),
    backend: orOmit(t.backend),
    executable: t.executable,
    in_glob: t.in_glob,
    out_glob: t.out_glob,
    stdout_glob: orOmit(t.stdout_glob),
    parameters: t.parameters.length
      ? t.parameters.map((p) =>
          compact({
            alias: p.alias,
            flag: p.flag,
            default: orOmit(p.default),
            bool_valued: p.bool_valued ? true : undefined,
            spacing: p.spacing ? undefined : false,
            switchless: p.switchless ? true : undefined,
            ...Object.fromEntries(TYPED_PARAMETER_FIELDS.map((f) => [f, p[f]])),
          }),
        )
      : undefined,
    environment: environmentDocument(t.environment),
    configuration: t.configuration.length
      ? t.configuration.map((c) =>
          compact({
            type: CONFIGURATION_TYPES[c.type] ?? c.type,
            name: orOmit(c.name),
            version: orOmit(c.version),
            parameters: orOmit(c.parameters),
          }),
        )
      : undefined,
    incomplete_outputs_behaviour:
      t.incomplete_outputs_behaviour === COMPLETION.FAIL ? undefined : (COMPLETION_WORDS[t.incomplete_outputs_behaviour] ?? t.incomplete_outputs_behaviour),
    custom_exit_status: orOmit(t.custom_exit_status),
    custom_exit_behaviour: t.custom_exit_behaviour === null ? undefined : (COMPLETION_WORDS[t.custom_exit_behaviour] ?? t.custom_exit_behaviour),
    timeout: orOmit(t.timeout),
    retries: t.retries === 0 ? undefined : t.retries,
  });
}

/** A map `{NAME: value}` reads best; a list keeps names a map cannot hold (repeats, numeric keys that objects reorder). */
function environmentDocument(environment: Task['environment']): unknown {
  if (environment.length === 0) return undefined;
  const names = environment.map((e) => e.env);
  const mapSafe = new Set(names).size === names.length && names.every((n) => !/^\d+$/.test(n) && n !== '__proto__');
  return mapSafe ? Object.fromEntries(environment.map((e) => [e.env, e.value])) : environment.map((e) => ({ env: e.env, value: e.value }));
}

function jobDocument(j: Job): Fields {
  return compact({
    name: j.name,
    description: orOmit(j.description),
    runnable: j.runnable,
    validators: j.validators,
    steps: j.steps.map((s) => compact({ key: s.key, task: s.task, after: s.after.length ? s.after : undefined, x: orOmit(s.x), y: orOmit(s.y) })),
  });
}

// ---------------------------------------------------------------------------------------------
// Reading. Only the document's shape is checked here; field values are checked with the store's own rules.

/** Names and other text fields: whole numbers are taken as written (`version: 2`). */
const text = (v: unknown): unknown => (typeof v === 'number' && Number.isInteger(v) ? String(v) : v);

const word = (table: Record<number, string>, v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  const hit = Object.entries(table).find(([, w]) => w.toLowerCase() === v.trim().toLowerCase());
  return hit ? Number(hit[0]) : v;
};

const configurationType = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  const i = CONFIGURATION_TYPES.findIndex((label) => label.replace(/\.$/, '').toLowerCase() === v.trim().replace(/\.$/, '').toLowerCase());
  return i >= 0 ? i : v;
};

/** Items of a list (non-objects are kept for the store's checks to report); unknown fields are the schema's to find. */
const objects = (list: unknown): unknown[] => (Array.isArray(list) ? list : []);

/**
 * The document as a Bundle. `problems` are the reader's own; `schemaProblems` are where the document breaks the
 * JSON Schema, which the importer reports unless a more specific problem stands at the same place.
 */
export function fromNative(doc: Fields): { bundle: Bundle; problems: Problem[]; schemaProblems: Problem[] } {
  const problems: Problem[] = [];
  const bundle = emptyBundle();
  if (doc.format !== NATIVE_FORMAT) {
    const message =
      doc.format === undefined ? `required: "${NATIVE_FORMAT}"` : `unsupported format ${JSON.stringify(doc.format)} (expected "${NATIVE_FORMAT}")`;
    const unknown = Object.keys(doc)
      .filter((key) => !TOP_FIELDS.includes(key))
      .map((key) => ({ path: key, message: 'unknown field' }));
    return { bundle, problems: [...unknown, { path: 'format', message }], schemaProblems: [] };
  }
  const each = (kind: keyof Bundle, read: (v: Fields, at: (path: string) => string) => Entry<unknown>): void => {
    const list = doc[kind];
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) return void problems.push({ path: kind, message: 'must be a list' });
    list.forEach((v: unknown, i) => {
      const at = under(`${kind}[${i}]`);
      if (!isObject(v)) return void problems.push({ path: at(''), message: 'must be an object' });
      (bundle[kind] as Array<Entry<unknown>>).push(read(v, at));
    });
  };

  each('queue_types', (v, at) => ({
    value: { name: text(v.name), execution_behaviour: word(BEHAVIOUR_WORDS, v.execution_behaviour) } as QueueTypeInput,
    at,
  }));
  each('backends', (v, at) => ({
    value: { name: text(v.name), queue_type: text(v.queue_type), root_path: text(v.root_path) } as BackendInput,
    at,
  }));
  each('tasks', (v, at) => readTask(v, at));
  each('jobs', (v, at) => {
    const steps = objects(v.steps);
    return {
      value: {
        name: text(v.name),
        description: text(v.description),
        runnable: v.runnable,
        validators: Array.isArray(v.validators) ? v.validators.map(text) : v.validators,
        steps: Array.isArray(v.steps)
          ? steps.map((s) =>
              isObject(s)
                ? {
                    key: text(s.key),
                    task: text(s.task),
                    after: Array.isArray(s.after) ? s.after.map(text) : s.after,
                    ordering: s.ordering,
                    x: s.x,
                    y: s.y,
                  }
                : s,
            )
          : v.steps,
      } as JobInput,
      at,
    };
  });
  return { bundle, problems, schemaProblems: schemaProblems(doc) };
}

function readTask(v: Fields, at: (path: string) => string): Entry<TaskInput> {
  const parameters = objects(v.parameters);
  const configuration = objects(v.configuration);
  let environment: unknown = v.environment;
  let envNames: string[] | null = null;
  if (Array.isArray(v.environment)) {
    environment = objects(v.environment).map((e) =>
      isObject(e) ? { env: text(e.env), value: text(e.value) } : e,
    );
  } else if (isObject(v.environment)) {
    envNames = Object.keys(v.environment);
    environment = Object.entries(v.environment).map(([env, value]) => ({ env, value: text(value) }));
  }
  const exits = v.custom_exit_status;
  const value = {
    name: text(v.name),
    description: text(v.description),
    backend: text(v.backend),
    executable: text(v.executable),
    in_glob: text(v.in_glob),
    out_glob: text(v.out_glob),
    stdout_glob: text(v.stdout_glob),
    parameters: Array.isArray(v.parameters)
      ? parameters.map((p) =>
          isObject(p)
            ? {
                alias: text(p.alias),
                flag: text(p.flag),
                default: text(p.default),
                bool_valued: p.bool_valued,
                spacing: p.spacing,
                switchless: p.switchless,
                ...Object.fromEntries(TYPED_PARAMETER_FIELDS.filter((f) => p[f] !== undefined).map((f) => [f, p[f]])),
              }
            : p,
        )
      : v.parameters,
    environment,
    configuration: Array.isArray(v.configuration)
      ? configuration.map((c) =>
          isObject(c) ? { type: configurationType(c.type), name: text(c.name), version: text(c.version), parameters: text(c.parameters) } : c,
        )
      : v.configuration,
    incomplete_outputs_behaviour: word(COMPLETION_WORDS, v.incomplete_outputs_behaviour),
    custom_exit_status: Array.isArray(exits) ? exits.map((e) => String(e)).join(',') : text(exits),
    custom_exit_behaviour: word(COMPLETION_WORDS, v.custom_exit_behaviour),
    timeout: v.timeout,
    retries: v.retries,
  } as TaskInput;
  // Problems in a map-form environment are reported at the variable's name.
  const locate = envNames
    ? (path: string): string => {
        const m = /^environment\[(\d+)\](?:\.(?:env|value))?$/.exec(path);
        if (!m) return at(path);
        const name = (envNames as string[])[Number(m[1])];
        return at(/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `environment.${name}` : `environment[${JSON.stringify(name)}]`);
      }
    : at;
  return { value, at: locate };
}
