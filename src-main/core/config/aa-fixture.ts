// A_A Django fixture dumps (`dumpdata`, django-smuggler; YAML or JSON) read as a Bundle: pk references resolved within the dump.
import type { BackendInput, JobInput, ParameterInput, Problem, QueueTypeInput, StepInput, TaskInput } from '../store/config-repo';
import { type Bundle, emptyBundle } from './bundle';

const APP = 'analytics_automated.';
/** A_A models that carry configuration; every other model (runs, users, schedules, ...) is skipped. */
const MODELS = ['queuetype', 'backend', 'task', 'parameter', 'environment', 'configuration', 'job', 'step', 'validatortypes', 'validator'] as const;
type Model = (typeof MODELS)[number];

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Item {
  /** Position in the dump; problems are located as `[index].fields.<field>`. */
  index: number;
  pk: unknown;
  fields: Fields;
}

/** A dump is a list of `{model, pk, fields}` objects; malformed entries are reported one by one when it is read. */
export const isAaFixture = (value: unknown): value is unknown[] =>
  Array.isArray(value) && value.some((v) => isObject(v) && typeof v.model === 'string');

const fieldAt = (index: number, field: string): string => (field === '' ? `[${index}]` : `[${index}].fields.${field}`);

const byPk = (a: Item, b: Item): number =>
  typeof a.pk === 'number' && typeof b.pk === 'number' ? a.pk - b.pk : String(a.pk) < String(b.pk) ? -1 : String(a.pk) > String(b.pk) ? 1 : 0;

/**
 * A_A's `rest_alias` is saved as `<task name>_<alias>` (and re-prefixed on every later save).
 * Stripping the prefix once keeps the REST field exactly as A_A clients send it.
 */
export const aliasOf = (restAlias: unknown, taskName: unknown): unknown =>
  typeof restAlias === 'string' && typeof taskName === 'string' && restAlias.startsWith(`${taskName}_`) && restAlias.length > taskName.length + 1
    ? restAlias.slice(taskName.length + 1)
    : restAlias;

export function fromAaFixture(dump: unknown[]): { bundle: Bundle; problems: Problem[]; skipped: Record<string, number> } {
  const problems: Problem[] = [];
  const skipped: Record<string, number> = {};
  const items = new Map<Model, Item[]>(MODELS.map((m) => [m, []]));
  const pks = new Map<Model, Map<string, Item>>(MODELS.map((m) => [m, new Map()]));

  dump.forEach((raw, index) => {
    if (!isObject(raw) || typeof raw.model !== 'string') {
      return void problems.push({ path: `[${index}]`, message: 'must be an object with "model", "pk" and "fields"' });
    }
    const label = raw.model.toLowerCase();
    const model = label.startsWith(APP) ? (label.slice(APP.length) as Model) : undefined;
    if (model === undefined || !MODELS.includes(model)) {
      skipped[raw.model] = (skipped[raw.model] ?? 0) + 1;
      return;
    }
    if (!isObject(raw.fields)) return void problems.push({ path: `[${index}].fields`, message: 'must be an object' });
    if (raw.pk === undefined || raw.pk === null) return void problems.push({ path: `[${index}].pk`, message: 'required' });
    const item: Item = { index, pk: raw.pk, fields: raw.fields };
    const known = pks.get(model) as Map<string, Item>;
    const first = known.get(String(raw.pk));
    if (first) {
      return void problems.push({ path: `[${index}].pk`, message: `duplicate ${raw.model} pk ${String(raw.pk)} (first at [${first.index}])` });
    }
    known.set(String(raw.pk), item);
    (items.get(model) as Item[]).push(item);
  });

  /** The item a foreign key points at; null when the key is empty; a problem when it points nowhere. */
  const ref = (from: Item, field: string, model: Model): Item | null => {
    const value = from.fields[field];
    if (value === undefined || value === null) return null;
    const target = pks.get(model)?.get(String(value));
    if (!target) problems.push({ path: fieldAt(from.index, field), message: `unknown ${APP}${model} pk ${String(value)}` });
    return target ?? null;
  };
  /** Children of `parent` through `field`, in pk order (A_A's order for parameters, hence $P numbering). */
  const childrenOf = (model: Model, field: string, parentModel: Model): Map<Item, Item[]> => {
    const out = new Map<Item, Item[]>();
    for (const child of [...(items.get(model) as Item[])].sort(byPk)) {
      const parent = ref(child, field, parentModel);
      if (!parent) {
        if (child.fields[field] === undefined || child.fields[field] === null) {
          problems.push({ path: fieldAt(child.index, field), message: 'required' });
        }
        continue;
      }
      out.set(parent, [...(out.get(parent) ?? []), child]);
    }
    return out;
  };
  const nameOf = (item: Item | null): string | null => (item && typeof item.fields.name === 'string' ? item.fields.name : null);

  const bundle = emptyBundle();
  for (const q of items.get('queuetype') as Item[]) {
    bundle.queue_types.push({
      value: { name: q.fields.name, execution_behaviour: q.fields.execution_behaviour ?? 1 } as QueueTypeInput,
      at: (p) => fieldAt(q.index, p),
    });
  }
  for (const b of items.get('backend') as Item[]) {
    bundle.backends.push({
      value: { name: b.fields.name, queue_type: nameOf(ref(b, 'queue_type', 'queuetype')), root_path: b.fields.root_path ?? '' } as BackendInput,
      at: (p) => fieldAt(b.index, p),
    });
  }

  const parameters = childrenOf('parameter', 'task', 'task');
  const environments = childrenOf('environment', 'task', 'task');
  const configurations = childrenOf('configuration', 'task', 'task');
  for (const t of items.get('task') as Item[]) {
    const f = t.fields;
    const params = parameters.get(t) ?? [];
    const envs = environments.get(t) ?? [];
    const confs = configurations.get(t) ?? [];
    const value = {
      name: f.name,
      description: f.description ?? null,
      backend: nameOf(ref(t, 'backend', 'backend')),
      in_glob: f.in_glob,
      out_glob: f.out_glob,
      stdout_glob: f.stdout_glob ?? null,
      executable: f.executable,
      incomplete_outputs_behaviour: f.incomplete_outputs_behaviour ?? 3,
      custom_exit_status: f.custom_exit_status ?? null,
      custom_exit_behaviour: f.custom_exit_behaviour ?? null,
      parameters: params.map(
        (p): ParameterInput =>
          ({
            flag: p.fields.flag,
            alias: aliasOf(p.fields.rest_alias, f.name),
            default: p.fields.default ?? null,
            bool_valued: p.fields.bool_valued ?? false,
            spacing: p.fields.spacing ?? true,
            switchless: p.fields.switchless ?? false,
          }) as ParameterInput,
      ),
      environment: envs.map((e) => ({ env: e.fields.env, value: e.fields.value ?? '' })),
      configuration: confs.map((c) => ({
        type: c.fields.type ?? 0,
        name: c.fields.name ?? null,
        parameters: c.fields.parameters ?? null,
        version: c.fields.version ?? null,
      })),
    } as TaskInput;
    const children: Record<string, Item[]> = { parameters: params, environment: envs, configuration: confs };
    bundle.tasks.push({
      value,
      at: (path) => {
        const m = /^(parameters|environment|configuration)\[(\d+)\](?:\.(\w+))?/.exec(path);
        if (!m) return fieldAt(t.index, path);
        const child = children[m[1]][Number(m[2])];
        return fieldAt(child.index, m[3] === 'alias' ? 'rest_alias' : (m[3] ?? ''));
      },
    });
  }

  const steps = childrenOf('step', 'job', 'job');
  const validators = childrenOf('validator', 'job', 'job');
  for (const j of items.get('job') as Item[]) {
    // A_A runs steps by ordering; ties (parallel steps) keep pk order.
    const jobSteps = [...(steps.get(j) ?? [])].sort((a, b) => Number(a.fields.ordering ?? 0) - Number(b.fields.ordering ?? 0) || byPk(a, b));
    const stepInputs: StepInput[] = [];
    const stepItems: Item[] = [];
    const keys = new Set<string>();
    for (const s of jobSteps) {
      const task = nameOf(ref(s, 'task', 'task'));
      if (task === null) {
        if (s.fields.task === undefined || s.fields.task === null) problems.push({ path: fieldAt(s.index, 'task'), message: 'required' });
        continue;
      }
      // A_A steps have no names: a step is keyed by its task, numbered when the task repeats.
      let key = task;
      for (let n = 2; keys.has(key); n++) key = `${task}_${n}`;
      keys.add(key);
      stepInputs.push({ key, task, ordering: s.fields.ordering ?? 0 } as StepInput);
      stepItems.push(s);
    }
    const validatorNames: string[] = [];
    const validatorItems: Item[] = [];
    for (const v of validators.get(j) ?? []) {
      // A_A numbers validator types anew on each install (reference §9): match them by name.
      const type = ref(v, 'validation_type', 'validatortypes');
      const name = nameOf(type);
      if (name === null) {
        if (type) problems.push({ path: fieldAt(type.index, 'name'), message: 'required' });
        else if (v.fields.validation_type === undefined || v.fields.validation_type === null) {
          problems.push({ path: fieldAt(v.index, 'validation_type'), message: 'required' });
        }
        continue;
      }
      validatorNames.push(name);
      validatorItems.push(v);
    }
    const value = {
      name: j.fields.name,
      runnable: j.fields.runnable ?? false,
      description: null,
      validators: validatorNames,
      steps: stepInputs,
    } as JobInput;
    bundle.jobs.push({
      value,
      at: (path) => {
        const step = /^steps\[(\d+)\](?:\.(\w+))?/.exec(path);
        if (step) {
          const field = step[2] === 'after' ? 'ordering' : step[2] === 'key' ? 'task' : (step[2] ?? '');
          return fieldAt(stepItems[Number(step[1])].index, field);
        }
        const validator = /^validators\[(\d+)\]/.exec(path);
        if (validator) return fieldAt(validatorItems[Number(validator[1])].index, 'validation_type');
        return fieldAt(j.index, path);
      },
    });
  }
  return { bundle, problems, skipped };
}
