// A parsed configuration document as store inputs: checked as a whole against the store, then applied in one go.
import type { Db } from '../store/db';
import {
  checkBackend,
  checkJob,
  checkQueueType,
  checkTask,
  getBackend,
  getJob,
  getQueueType,
  getTask,
  listBackends,
  listQueueTypes,
  saveBackend,
  saveJob,
  saveQueueType,
  saveTask,
  storeLookup,
} from '../store/config-repo';
import type { BackendInput, ConfigLookup, JobInput, Problem, QueueTypeInput, TaskInput } from '../store/config-repo';

/** One entity of a document and a way to name where any of its fields came from. */
export interface Entry<T> {
  value: T;
  /** Document location of a field path of `value` ('' = the entity itself), e.g. 'parameters[1].alias'. */
  at(path: string): string;
}

export interface Bundle {
  queue_types: Array<Entry<QueueTypeInput>>;
  backends: Array<Entry<BackendInput>>;
  tasks: Array<Entry<TaskInput>>;
  jobs: Array<Entry<JobInput>>;
}

export type Kind = keyof Bundle;
export const KINDS: Kind[] = ['queue_types', 'backends', 'tasks', 'jobs'];

const LABELS: Record<Kind, string> = { queue_types: 'queue type', backends: 'backend', tasks: 'task', jobs: 'job' };

export const emptyBundle = (): Bundle => ({ queue_types: [], backends: [], tasks: [], jobs: [] });
export const zeroCounts = (): Record<Kind, number> => ({ queue_types: 0, backends: 0, tasks: 0, jobs: 0 });

/** Locations under `prefix`: 'tasks[2]' + 'parameters[0].flag' → 'tasks[2].parameters[0].flag'. */
export const under =
  (prefix: string) =>
  (path: string): string =>
    path === '' ? prefix : path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;

/** Every problem of the bundle, located in the document; references resolve against the store and the document. */
export function checkBundle(db: Db, bundle: Bundle): Problem[] {
  const problems: Problem[] = [];
  const lookup = bundleLookup(db, bundle);
  for (const kind of KINDS) {
    const seen = new Map<string, string>();
    for (const entry of bundle[kind] as Array<Entry<{ name?: unknown }>>) {
      const name = entry.value.name;
      if (typeof name !== 'string') continue;
      const first = seen.get(name);
      if (first !== undefined) problems.push({ path: entry.at('name'), message: `duplicate ${LABELS[kind]} "${name}" (first at ${first})` });
      else seen.set(name, entry.at(''));
    }
  }
  const locate = (entry: Entry<unknown>, found: Problem[]): void => {
    for (const p of found) problems.push({ path: entry.at(p.path), message: p.message });
  };
  for (const e of bundle.queue_types) locate(e, checkQueueType(e.value, ''));
  for (const e of bundle.backends) locate(e, checkBackend(e.value, '', lookup));
  for (const e of bundle.tasks) locate(e, checkTask(e.value, '', lookup));
  for (const e of bundle.jobs) locate(e, checkJob(e.value, '', lookup));
  return problems;
}

/** Saves every entity (an existing name is replaced); call inside a transaction. */
export function applyBundle(db: Db, bundle: Bundle): { created: Record<Kind, number>; updated: Record<Kind, number> } {
  const created = zeroCounts();
  const updated = zeroCounts();
  const count = (kind: Kind, existed: boolean): void => {
    (existed ? updated : created)[kind] += 1;
  };
  for (const { value } of bundle.queue_types) {
    count('queue_types', getQueueType(db, value.name) !== null);
    saveQueueType(db, value);
  }
  for (const { value } of bundle.backends) {
    count('backends', getBackend(db, value.name) !== null);
    saveBackend(db, value);
  }
  for (const { value } of bundle.tasks) {
    count('tasks', getTask(db, value.name) !== null);
    saveTask(db, value);
  }
  for (const { value } of bundle.jobs) {
    count('jobs', getJob(db, value.name) !== null);
    saveJob(db, value);
  }
  return { created, updated };
}

/** The store as it will be once the bundle is applied: document entities override stored ones of the same name. */
function bundleLookup(db: Db, bundle: Bundle): ConfigLookup {
  const store = storeLookup(db);
  const queueTypes = new Map(listQueueTypes(db).map((q) => [q.name, q.execution_behaviour as number]));
  for (const { value } of bundle.queue_types) {
    if (typeof value.name === 'string') queueTypes.set(value.name, value.execution_behaviour);
  }
  const backends = new Map(listBackends(db).map((b) => [b.name, b.queue_type]));
  for (const { value } of bundle.backends) {
    if (typeof value.name === 'string') backends.set(value.name, typeof value.queue_type === 'string' ? value.queue_type : null);
  }
  const tasks = new Set(bundle.tasks.map((t) => t.value.name));
  return {
    queueType: (name) => queueTypes.get(name),
    backend: (name) => backends.get(name),
    hasTask: (name) => tasks.has(name) || store.hasTask(name),
    hasValidator: (name) => store.hasValidator(name),
  };
}
