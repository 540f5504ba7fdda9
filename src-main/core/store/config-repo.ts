// Configuration aggregate: all SQL for queue types, backends, tasks, jobs and validator types, and the checks a save must pass.
import type Database from 'better-sqlite3';
import type { Db } from './db';
import { AppError, notFound } from '../errors';
import { COMPLETION, CONFIGURATION_TYPES, EXECUTION_BEHAVIOURS } from '../model/types';
import type {
  Backend,
  Completion,
  Configuration,
  EnvironmentVar,
  ExecutionBehaviour,
  Job,
  Parameter,
  ParameterType,
  QueueType,
  Step,
  Task,
} from '../model/types';
import { afterFromOrdering, GraphError, layersOf } from '../plan/stages';
import { checkExecutable } from '../plan/command';
import { checkParameterDefinition } from '../openapi/contract';

/** One thing wrong with an input, located: `{ path: 'jobs[2].steps[0].task', message: 'unknown task "foo"' }`. */
export interface Problem {
  path: string;
  message: string;
}

export interface QueueTypeInput {
  name: string;
  execution_behaviour: ExecutionBehaviour;
}

export interface BackendInput {
  name: string;
  /** Name of a queue type; null or omitted: none (tasks then run as localhost commands). */
  queue_type?: string | null;
  /** Omitted: '' (`<data dir>/work`). */
  root_path?: string;
}

export type ParameterInput = Pick<Parameter, 'flag' | 'alias'> & Partial<Omit<Parameter, 'flag' | 'alias'>>;
export type EnvironmentInput = Pick<EnvironmentVar, 'env'> & Partial<EnvironmentVar>;
export type ConfigurationInput = Partial<Configuration>;

/** A task as callers write it; omitted fields take A_A's defaults. Child lists replace the stored ones as a whole. */
export interface TaskInput {
  name: string;
  description?: string | null;
  backend?: string | null;
  in_glob: string;
  out_glob: string;
  stdout_glob?: string | null;
  executable: string;
  /** Default FAIL (3). */
  incomplete_outputs_behaviour?: Completion;
  custom_exit_status?: string | null;
  custom_exit_behaviour?: Completion | null;
  timeout?: number | null;
  /** Default 0. */
  retries?: number;
  parameters?: ParameterInput[];
  environment?: EnvironmentInput[];
  configuration?: ConfigurationInput[];
}

export interface StepInput {
  key: string;
  task: string;
  /** Keys of upstream steps. When any step of the job has `after`, edges are the truth. */
  after?: string[];
  /** A_A ordering; used (and turned into edges) only when no step has `after`. Default 0. */
  ordering?: number;
  x?: number | null;
  y?: number | null;
}

export interface JobInput {
  name: string;
  /** Default false. */
  runnable?: boolean;
  description?: string | null;
  /** Validator type names; default none. */
  validators?: string[];
  steps: StepInput[];
}

export interface SaveOptions {
  /** Rename: the stored row with this name is updated (its id, and every step using it, are kept). */
  previousName?: string;
}

/** Names a check resolves references against: the store, or the store plus a document being imported. */
export interface ConfigLookup {
  /** Execution behaviour of a queue type; undefined when there is no such queue type. */
  queueType(name: string): number | undefined;
  /** Queue type name of a backend (null: none); undefined when there is no such backend. */
  backend(name: string): string | null | undefined;
  hasTask(name: string): boolean;
  hasValidator(name: string): boolean;
}

const MAX_NAME = 64;

// ---------------------------------------------------------------------------------------------
// Prepared statements, prepared once per connection.

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

function sql(db: Db, text: string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) {
    cache = new Map();
    statements.set(db, cache);
  }
  let statement = cache.get(text);
  if (!statement) {
    statement = db.prepare(text);
    cache.set(text, statement);
  }
  return statement;
}

const bit = (b: boolean): number => (b ? 1 : 0);

function invalidInput(what: string, problems: Problem[]): AppError {
  const list = problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
  return new AppError('Invalid', `Invalid ${what}: ${list}`, undefined, problems);
}

type NamedTable = 'queue_type' | 'backend' | 'task' | 'job';

const idByName = (db: Db, table: NamedTable, name: string): number | undefined =>
  (sql(db, `SELECT id FROM ${table} WHERE name = ?`).get(name) as { id: number } | undefined)?.id;

/**
 * The id of the row a save replaces in place: the one named `previousName` when renaming, else the
 * one with the input's name. A rename onto another row's name is a problem; a missing `previousName` is NotFound.
 */
function renameTarget(db: Db, table: NamedTable, label: string, name: unknown, opts: SaveOptions, problems: Problem[]): number | undefined {
  if (typeof name !== 'string') return undefined;
  if (opts.previousName === undefined || opts.previousName === name) return idByName(db, table, name);
  const existing = idByName(db, table, opts.previousName);
  if (existing === undefined) throw notFound(`${label} "${opts.previousName}" not found`);
  if (idByName(db, table, name) !== undefined) {
    problems.push({ path: `${table}.name`, message: `a ${label} named "${name}" already exists` });
  }
  return existing;
}

// ---------------------------------------------------------------------------------------------
// Queue types

export function listQueueTypes(db: Db): QueueType[] {
  return sql(db, 'SELECT id, name, execution_behaviour FROM queue_type ORDER BY id').all() as QueueType[];
}

export function getQueueType(db: Db, name: string): QueueType | null {
  return (sql(db, 'SELECT id, name, execution_behaviour FROM queue_type WHERE name = ?').get(name) as QueueType | undefined) ?? null;
}

/** Creates the queue type, or replaces the stored one with the same name (or `previousName`) in place. */
export function saveQueueType(db: Db, input: QueueTypeInput, opts: SaveOptions = {}): QueueType {
  return db.transaction((): QueueType => {
    const problems = checkQueueType(input, 'queue_type');
    const existing = renameTarget(db, 'queue_type', 'queue type', input.name, opts, problems);
    if (problems.length) throw invalidInput('queue type', problems);
    if (existing !== undefined) {
      sql(db, 'UPDATE queue_type SET name = ?, execution_behaviour = ? WHERE id = ?').run(input.name, input.execution_behaviour, existing);
    } else {
      sql(
        db,
        `INSERT INTO queue_type (name, execution_behaviour) VALUES (?, ?)
         ON CONFLICT(name) DO UPDATE SET execution_behaviour = excluded.execution_behaviour`,
      ).run(input.name, input.execution_behaviour);
    }
    return getQueueType(db, input.name) as QueueType;
  })();
}

/** Backends on it are kept, without a queue type (A_A: SET_NULL). */
export function deleteQueueType(db: Db, name: string): boolean {
  return sql(db, 'DELETE FROM queue_type WHERE name = ?').run(name).changes > 0;
}

// ---------------------------------------------------------------------------------------------
// Backends

const BACKEND_SELECT = `SELECT b.id, b.name, q.name AS queue_type, b.root_path
  FROM backend b LEFT JOIN queue_type q ON q.id = b.queue_type_id`;

export function listBackends(db: Db): Backend[] {
  return sql(db, `${BACKEND_SELECT} ORDER BY b.id`).all() as Backend[];
}

export function getBackend(db: Db, name: string): Backend | null {
  return (sql(db, `${BACKEND_SELECT} WHERE b.name = ?`).get(name) as Backend | undefined) ?? null;
}

/** Creates the backend, or replaces the stored one with the same name (or `previousName`) in place. */
export function saveBackend(db: Db, input: BackendInput, opts: SaveOptions = {}): Backend {
  return db.transaction((): Backend => {
    const problems = checkBackend(input, 'backend', storeLookup(db));
    const existing = renameTarget(db, 'backend', 'backend', input.name, opts, problems);
    if (problems.length) throw invalidInput('backend', problems);
    if (existing !== undefined) {
      sql(
        db,
        'UPDATE backend SET name = ?, queue_type_id = (SELECT id FROM queue_type WHERE name = ?), root_path = ? WHERE id = ?',
      ).run(input.name, input.queue_type ?? null, input.root_path ?? '', existing);
    } else {
      sql(
        db,
        `INSERT INTO backend (name, queue_type_id, root_path)
         VALUES (?, (SELECT id FROM queue_type WHERE name = ?), ?)
         ON CONFLICT(name) DO UPDATE SET queue_type_id = excluded.queue_type_id, root_path = excluded.root_path`,
      ).run(input.name, input.queue_type ?? null, input.root_path ?? '');
    }
    return getBackend(db, input.name) as Backend;
  })();
}

/** Tasks on it are kept, without a backend (A_A: SET_NULL). */
export function deleteBackend(db: Db, name: string): boolean {
  return sql(db, 'DELETE FROM backend WHERE name = ?').run(name).changes > 0;
}

// ---------------------------------------------------------------------------------------------
// Tasks

interface TaskRow {
  id: number;
  name: string;
  description: string | null;
  backend: string | null;
  in_glob: string;
  out_glob: string;
  stdout_glob: string | null;
  executable: string;
  incomplete_outputs_behaviour: Completion;
  custom_exit_status: string | null;
  custom_exit_behaviour: Completion | null;
  timeout: number | null;
  retries: number;
}

interface ParameterRow {
  task_id: number;
  flag: string;
  alias: string;
  default_value: string | null;
  bool_valued: number;
  spacing: number;
  switchless: number;
  type: string | null;
  min: number | null;
  max: number | null;
  enum_values: string | null;
  pattern: string | null;
  max_length: number | null;
  validators: string | null;
  description: string | null;
}

/** The native API's optional parameter fields, left out when unset so A_A-only parameters read as before. */
function typedParameterFields(r: ParameterRow): Partial<Parameter> {
  const out: Partial<Parameter> = {};
  if (r.type !== null) out.type = r.type as ParameterType;
  if (r.min !== null) out.min = r.min;
  if (r.max !== null) out.max = r.max;
  if (r.enum_values !== null) out.enum = JSON.parse(r.enum_values) as string[];
  if (r.pattern !== null) out.pattern = r.pattern;
  if (r.max_length !== null) out.max_length = r.max_length;
  if (r.validators !== null) out.validators = JSON.parse(r.validators) as string[];
  if (r.description !== null) out.description = r.description;
  return out;
}

const TASK_SELECT = `SELECT t.id, t.name, t.description, b.name AS backend, t.in_glob, t.out_glob, t.stdout_glob,
  t.executable, t.incomplete_outputs_behaviour, t.custom_exit_status, t.custom_exit_behaviour, t.timeout, t.retries
  FROM task t LEFT JOIN backend b ON b.id = t.backend_id`;

/** Tasks in creation order (A_A lists by pk), each with its parameters, environment and configuration. */
export function listTasks(db: Db): Task[] {
  const rows = sql(db, `${TASK_SELECT} ORDER BY t.id`).all() as TaskRow[];
  return withTaskChildren(db, rows, null);
}

export function getTask(db: Db, name: string): Task | null {
  const row = sql(db, `${TASK_SELECT} WHERE t.name = ?`).get(name) as TaskRow | undefined;
  return row ? withTaskChildren(db, [row], row.id)[0] : null;
}

function withTaskChildren(db: Db, rows: TaskRow[], onlyTask: number | null): Task[] {
  const where = onlyTask === null ? '' : 'WHERE task_id = ?';
  const args = onlyTask === null ? [] : [onlyTask];
  const group = <R extends { task_id: number }, T>(list: R[], map: (r: R) => T): Map<number, T[]> => {
    const out = new Map<number, T[]>();
    for (const r of list) {
      const bucket = out.get(r.task_id);
      if (bucket) bucket.push(map(r));
      else out.set(r.task_id, [map(r)]);
    }
    return out;
  };
  const parameters = group(
    sql(
      db,
      `SELECT task_id, flag, alias, default_value, bool_valued, spacing, switchless,
         type, min, max, enum_values, pattern, max_length, validators, description FROM parameter ${where} ORDER BY id`,
    ).all(
      ...args,
    ) as ParameterRow[],
    (r): Parameter => ({
      flag: r.flag,
      alias: r.alias,
      default: r.default_value,
      bool_valued: r.bool_valued === 1,
      spacing: r.spacing === 1,
      switchless: r.switchless === 1,
      ...typedParameterFields(r),
    }),
  );
  const environment = group(
    sql(db, `SELECT task_id, env, value FROM environment ${where} ORDER BY id`).all(...args) as Array<EnvironmentVar & { task_id: number }>,
    (r): EnvironmentVar => ({ env: r.env, value: r.value }),
  );
  const configuration = group(
    sql(db, `SELECT task_id, type, name, parameters, version FROM configuration ${where} ORDER BY id`).all(...args) as Array<
      Configuration & { task_id: number }
    >,
    (r): Configuration => ({ type: r.type, name: r.name, parameters: r.parameters, version: r.version }),
  );
  return rows.map((r) => ({
    ...r,
    parameters: parameters.get(r.id) ?? [],
    environment: environment.get(r.id) ?? [],
    configuration: configuration.get(r.id) ?? [],
  }));
}

/**
 * Creates the task, or replaces the stored one with the same name (or `previousName`) in place,
 * so the steps that use it keep pointing at it.
 */
export function saveTask(db: Db, input: TaskInput, opts: SaveOptions = {}): Task {
  return db.transaction((): Task => {
    const problems = validateTaskInput(db, input);
    const existing = renameTarget(db, 'task', 'task', input.name, opts, problems);
    if (problems.length) throw invalidInput('task', problems);

    const values = [
      input.name,
      input.description ?? null,
      input.backend ?? null,
      input.in_glob,
      input.out_glob,
      input.stdout_glob ?? null,
      input.executable,
      input.incomplete_outputs_behaviour ?? COMPLETION.FAIL,
      input.custom_exit_status ?? null,
      input.custom_exit_behaviour ?? null,
      input.timeout ?? null,
      input.retries ?? 0,
    ];
    let id: number;
    if (existing === undefined) {
      id = Number(
        sql(
          db,
          `INSERT INTO task (name, description, backend_id, in_glob, out_glob, stdout_glob, executable,
             incomplete_outputs_behaviour, custom_exit_status, custom_exit_behaviour, timeout, retries)
           VALUES (?, ?, (SELECT id FROM backend WHERE name = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(...values).lastInsertRowid,
      );
    } else {
      id = existing;
      sql(
        db,
        `UPDATE task SET name = ?, description = ?, backend_id = (SELECT id FROM backend WHERE name = ?), in_glob = ?,
           out_glob = ?, stdout_glob = ?, executable = ?, incomplete_outputs_behaviour = ?, custom_exit_status = ?,
           custom_exit_behaviour = ?, timeout = ?, retries = ?
         WHERE id = ?`,
      ).run(...values, id);
      sql(db, 'DELETE FROM parameter WHERE task_id = ?').run(id);
      sql(db, 'DELETE FROM environment WHERE task_id = ?').run(id);
      sql(db, 'DELETE FROM configuration WHERE task_id = ?').run(id);
    }
    const addParameter = sql(
      db,
      `INSERT INTO parameter (task_id, flag, alias, default_value, bool_valued, spacing, switchless,
         type, min, max, enum_values, pattern, max_length, validators, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const p of input.parameters ?? []) {
      addParameter.run(
        id,
        p.flag,
        p.alias,
        p.default ?? null,
        bit(p.bool_valued ?? false),
        bit(p.spacing ?? true),
        bit(p.switchless ?? false),
        p.type ?? null,
        p.min ?? null,
        p.max ?? null,
        p.enum ? JSON.stringify(p.enum) : null,
        p.pattern ?? null,
        p.max_length ?? null,
        p.validators ? JSON.stringify(p.validators) : null,
        p.description ?? null,
      );
    }
    const addEnvironment = sql(db, 'INSERT INTO environment (task_id, env, value) VALUES (?, ?, ?)');
    for (const e of input.environment ?? []) addEnvironment.run(id, e.env, e.value ?? '');
    const addConfiguration = sql(db, 'INSERT INTO configuration (task_id, type, name, parameters, version) VALUES (?, ?, ?, ?, ?)');
    for (const c of input.configuration ?? []) addConfiguration.run(id, c.type ?? 0, c.name ?? null, c.parameters ?? null, c.version ?? null);
    return getTask(db, input.name) as Task;
  })();
}

/**
 * Deletes the task and, as in A_A, the steps that use it. Each removed step's upstream steps are
 * linked to its downstream steps first, so the rest of the job keeps its order (as A_A's orderings would).
 */
export function deleteTask(db: Db, name: string): boolean {
  return db.transaction((): boolean => {
    const id = idByName(db, 'task', name);
    if (id === undefined) return false;
    const steps = sql(db, 'SELECT id, job_id FROM step WHERE task_id = ?').all(id) as Array<{ id: number; job_id: number }>;
    const upstream = sql(db, 'SELECT from_step_id AS id FROM step_edge WHERE to_step_id = ?');
    const downstream = sql(db, 'SELECT to_step_id AS id FROM step_edge WHERE from_step_id = ?');
    const link = sql(db, 'INSERT OR IGNORE INTO step_edge (job_id, from_step_id, to_step_id) VALUES (?, ?, ?)');
    for (const step of steps) {
      const froms = upstream.all(step.id) as Array<{ id: number }>;
      const tos = downstream.all(step.id) as Array<{ id: number }>;
      for (const f of froms) for (const t of tos) link.run(step.job_id, f.id, t.id);
    }
    sql(db, 'DELETE FROM task WHERE id = ?').run(id);
    return true;
  })();
}

// ---------------------------------------------------------------------------------------------
// Jobs

interface JobRow {
  id: number;
  name: string;
  runnable: number;
  description: string | null;
}

/** Jobs in creation order (A_A lists jobs by pk). */
export function listJobs(db: Db): Job[] {
  const rows = sql(db, 'SELECT id, name, runnable, description FROM job ORDER BY id').all() as JobRow[];
  return rows.map((r) => readJob(db, r));
}

export function getJob(db: Db, name: string): Job | null {
  const row = sql(db, 'SELECT id, name, runnable, description FROM job WHERE name = ?').get(name) as JobRow | undefined;
  return row ? readJob(db, row) : null;
}

function readJob(db: Db, row: JobRow): Job {
  const stepRows = sql(
    db,
    `SELECT s.id, s.key, t.name AS task, s.ordering, s.x, s.y
     FROM step s JOIN task t ON t.id = s.task_id WHERE s.job_id = ? ORDER BY s.ordering, s.id`,
  ).all(row.id) as Array<Omit<Step, 'after'>>;
  const edges = sql(
    db,
    `SELECT e.to_step_id AS to_id, f.key AS from_key
     FROM step_edge e JOIN step f ON f.id = e.from_step_id WHERE e.job_id = ? ORDER BY e.rowid`,
  ).all(row.id) as Array<{ to_id: number; from_key: string }>;
  const validators = sql(
    db,
    `SELECT vt.name FROM validator v JOIN validator_type vt ON vt.id = v.validator_type_id WHERE v.job_id = ? ORDER BY v.id`,
  ).all(row.id) as Array<{ name: string }>;
  return {
    id: row.id,
    name: row.name,
    runnable: row.runnable === 1,
    description: row.description,
    validators: validators.map((v) => v.name),
    steps: stepRows.map((s) => ({ ...s, after: edges.filter((e) => e.to_id === s.id).map((e) => e.from_key) })),
  };
}

/** Edges and A_A orderings for every step: edges win when given, else they come from the orderings. */
function graphOf(steps: StepInput[]): Array<{ key: string; after: string[]; ordering: number }> {
  if (steps.some((s) => s.after !== undefined)) {
    const graph = steps.map((s) => ({ key: s.key, after: [...new Set(s.after ?? [])] }));
    const layers = layersOf(graph);
    return graph.map((g) => ({ ...g, ordering: layers.get(g.key) as number }));
  }
  const ordered = steps.map((s) => ({ key: s.key, ordering: s.ordering ?? 0 }));
  const after = afterFromOrdering(ordered);
  return ordered.map((s) => ({ ...s, after: after.get(s.key) ?? [] }));
}

/** Creates the job, or replaces the stored one with the same name (or `previousName`): steps and validators as a whole. */
export function saveJob(db: Db, input: JobInput, opts: SaveOptions = {}): Job {
  return db.transaction((): Job => {
    const problems = validateJobInput(db, input);
    const existing = renameTarget(db, 'job', 'job', input.name, opts, problems);
    if (problems.length) throw invalidInput('job', problems);

    let id: number;
    if (existing === undefined) {
      id = Number(
        sql(db, 'INSERT INTO job (name, runnable, description) VALUES (?, ?, ?)').run(
          input.name,
          bit(input.runnable ?? false),
          input.description ?? null,
        ).lastInsertRowid,
      );
    } else {
      id = existing;
      sql(db, 'UPDATE job SET name = ?, runnable = ?, description = ? WHERE id = ?').run(
        input.name,
        bit(input.runnable ?? false),
        input.description ?? null,
        id,
      );
      // Edges go with their steps (ON DELETE CASCADE).
      sql(db, 'DELETE FROM step WHERE job_id = ?').run(id);
      sql(db, 'DELETE FROM validator WHERE job_id = ?').run(id);
    }
    const addStep = sql(
      db,
      'INSERT INTO step (job_id, task_id, key, ordering, x, y) VALUES (?, (SELECT id FROM task WHERE name = ?), ?, ?, ?, ?)',
    );
    const graph = graphOf(input.steps);
    const stepIds = new Map<string, number>();
    input.steps.forEach((s, i) => {
      const info = addStep.run(id, s.task, s.key, graph[i].ordering, s.x ?? null, s.y ?? null);
      stepIds.set(s.key, Number(info.lastInsertRowid));
    });
    const addEdge = sql(db, 'INSERT INTO step_edge (job_id, from_step_id, to_step_id) VALUES (?, ?, ?)');
    for (const g of graph) for (const a of g.after) addEdge.run(id, stepIds.get(a), stepIds.get(g.key));
    const addValidator = sql(
      db,
      'INSERT INTO validator (job_id, validator_type_id) VALUES (?, (SELECT id FROM validator_type WHERE name = ?))',
    );
    for (const v of input.validators ?? []) addValidator.run(id, v);
    return getJob(db, input.name) as Job;
  })();
}

export function deleteJob(db: Db, name: string): boolean {
  return sql(db, 'DELETE FROM job WHERE name = ?').run(name).changes > 0;
}

/** Returns false when there is no such job. */
export function setRunnable(db: Db, name: string, runnable: boolean): boolean {
  return sql(db, 'UPDATE job SET runnable = ? WHERE name = ?').run(bit(runnable), name).changes > 0;
}

// ---------------------------------------------------------------------------------------------
// Validator types

/** Adds the names that have no row yet; existing rows (and the validators using them) are kept. */
export function syncValidatorTypes(db: Db, names: string[]): void {
  const insert = sql(db, 'INSERT OR IGNORE INTO validator_type (name) VALUES (?)');
  db.transaction(() => {
    for (const name of names) insert.run(name);
  })();
}

export function listValidatorTypes(db: Db): string[] {
  return (sql(db, 'SELECT name FROM validator_type ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name);
}

// ---------------------------------------------------------------------------------------------
// Checks. They take untrusted input (JSON bodies, imported documents), so every field is type-checked.

/** Resolves references against what is stored now. */
export function storeLookup(db: Db): ConfigLookup {
  return {
    queueType: (name) =>
      (sql(db, 'SELECT execution_behaviour FROM queue_type WHERE name = ?').get(name) as { execution_behaviour: number } | undefined)
        ?.execution_behaviour,
    backend: (name) => {
      const row = sql(db, `${BACKEND_SELECT} WHERE b.name = ?`).get(name) as Backend | undefined;
      return row ? row.queue_type : undefined;
    },
    hasTask: (name) => idByName(db, 'task', name) !== undefined,
    hasValidator: (name) => sql(db, 'SELECT 1 FROM validator_type WHERE name = ?').get(name) !== undefined,
  };
}

export function validateTaskInput(db: Db, input: TaskInput, path = 'task'): Problem[] {
  return checkTask(input, path, storeLookup(db));
}

export function validateJobInput(db: Db, input: JobInput, path = 'job'): Problem[] {
  return checkJob(input, path, storeLookup(db));
}

type Fields = Record<string, unknown>;

const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const field = (path: string, name: string): string => (path ? `${path}.${name}` : name);
const item = (path: string, index: number): string => `${path}[${index}]`;

const BEHAVIOUR_VALUES = new Set<number>(Object.values(EXECUTION_BEHAVIOURS));
const COMPLETION_VALUES = new Set<number>(Object.values(COMPLETION));
/** Behaviours whose executable is a command line, spawned without a shell. */
const COMMAND_BEHAVIOURS = new Set<number>([EXECUTION_BEHAVIOURS.localhost, EXECUTION_BEHAVIOURS.GridEngine]);

function checkName(out: Problem[], path: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') out.push({ path, message: 'required' });
  else if (value.length > MAX_NAME) out.push({ path, message: `must be at most ${MAX_NAME} characters` });
}

function checkRequiredString(out: Problem[], path: string, value: unknown): void {
  if (value === undefined || value === null || value === '') out.push({ path, message: 'required' });
  else if (typeof value !== 'string') out.push({ path, message: 'must be a string' });
  else if (value.trim() === '') out.push({ path, message: 'required' });
}

function checkOptionalString(out: Problem[], path: string, value: unknown): void {
  if (value !== undefined && value !== null && typeof value !== 'string') out.push({ path, message: 'must be a string' });
}

function checkOptionalBoolean(out: Problem[], path: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') out.push({ path, message: 'must be true or false' });
}

function checkCompletion(out: Problem[], path: string, value: unknown, nullable: boolean): void {
  if (value === undefined || (nullable && value === null)) return;
  if (typeof value !== 'number' || !COMPLETION_VALUES.has(value)) {
    out.push({ path, message: 'must be 0 (continue), 1 (terminate) or 3 (fail)' });
  }
}

export function checkQueueType(input: unknown, path: string): Problem[] {
  if (!isObject(input)) return [{ path, message: 'must be an object' }];
  const out: Problem[] = [];
  checkName(out, field(path, 'name'), input.name);
  if (typeof input.execution_behaviour !== 'number' || !BEHAVIOUR_VALUES.has(input.execution_behaviour)) {
    out.push({
      path: field(path, 'execution_behaviour'),
      message: `must be one of ${Object.entries(EXECUTION_BEHAVIOURS)
        .map(([word, n]) => `${n} (${word})`)
        .join(', ')}`,
    });
  }
  return out;
}

export function checkBackend(input: unknown, path: string, lookup: ConfigLookup): Problem[] {
  if (!isObject(input)) return [{ path, message: 'must be an object' }];
  const out: Problem[] = [];
  checkName(out, field(path, 'name'), input.name);
  const queue = input.queue_type;
  if (queue !== undefined && queue !== null) {
    if (typeof queue !== 'string') out.push({ path: field(path, 'queue_type'), message: 'must be a string' });
    else if (lookup.queueType(queue) === undefined) out.push({ path: field(path, 'queue_type'), message: `unknown queue type "${queue}"` });
  }
  checkOptionalString(out, field(path, 'root_path'), input.root_path);
  return out;
}

export function checkTask(input: unknown, path: string, lookup: ConfigLookup): Problem[] {
  if (!isObject(input)) return [{ path, message: 'must be an object' }];
  const out: Problem[] = [];
  checkName(out, field(path, 'name'), input.name);
  checkOptionalString(out, field(path, 'description'), input.description);

  // A task without a backend runs as a localhost command.
  let behaviour: number | undefined = EXECUTION_BEHAVIOURS.localhost;
  const backend = input.backend;
  if (backend !== undefined && backend !== null) {
    const queue = typeof backend === 'string' ? lookup.backend(backend) : undefined;
    if (typeof backend !== 'string') out.push({ path: field(path, 'backend'), message: 'must be a string' });
    else if (queue === undefined) out.push({ path: field(path, 'backend'), message: `unknown backend "${backend}"` });
    behaviour = queue === undefined ? undefined : queue === null ? EXECUTION_BEHAVIOURS.localhost : lookup.queueType(queue);
  }

  checkRequiredString(out, field(path, 'in_glob'), input.in_glob);
  checkRequiredString(out, field(path, 'out_glob'), input.out_glob);
  checkOptionalString(out, field(path, 'stdout_glob'), input.stdout_glob);
  const executable = input.executable;
  checkRequiredString(out, field(path, 'executable'), executable);
  if (typeof executable === 'string' && executable.trim() !== '' && behaviour !== undefined && COMMAND_BEHAVIOURS.has(behaviour)) {
    const message = checkExecutable(executable);
    if (message) out.push({ path: field(path, 'executable'), message });
  }

  checkCompletion(out, field(path, 'incomplete_outputs_behaviour'), input.incomplete_outputs_behaviour, false);
  checkCompletion(out, field(path, 'custom_exit_behaviour'), input.custom_exit_behaviour, true);
  const exits = input.custom_exit_status;
  if (exits !== undefined && exits !== null) {
    const p = field(path, 'custom_exit_status');
    // A_A removes all whitespace, then splits on ','.
    const codes = typeof exits === 'string' ? exits.replace(/\s+/g, '') : '';
    if (typeof exits !== 'string' || (codes !== '' && !codes.split(',').every((c) => /^-?\d+$/.test(c)))) {
      out.push({ path: p, message: 'must be a comma-separated list of integers, e.g. "123,500"' });
    }
  }
  const timeout = input.timeout;
  if (timeout !== undefined && timeout !== null && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0)) {
    out.push({ path: field(path, 'timeout'), message: 'must be a number of seconds greater than 0, or null for no limit' });
  }
  const retries = input.retries;
  if (retries !== undefined && (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0)) {
    out.push({ path: field(path, 'retries'), message: 'must be a whole number, 0 or more' });
  }

  const parameters = listOf(out, field(path, 'parameters'), input.parameters);
  const aliases = new Set<string>();
  parameters.forEach((p, i) => {
    const at = item(field(path, 'parameters'), i);
    if (!isObject(p)) return void out.push({ path: at, message: 'must be an object' });
    checkRequiredString(out, field(at, 'flag'), p.flag);
    checkRequiredString(out, field(at, 'alias'), p.alias);
    if (typeof p.alias === 'string') {
      if (aliases.has(p.alias)) out.push({ path: field(at, 'alias'), message: `duplicate alias "${p.alias}"` });
      aliases.add(p.alias);
    }
    checkOptionalString(out, field(at, 'default'), p.default);
    checkOptionalBoolean(out, field(at, 'bool_valued'), p.bool_valued);
    checkOptionalBoolean(out, field(at, 'spacing'), p.spacing);
    checkOptionalBoolean(out, field(at, 'switchless'), p.switchless);
    out.push(...checkParameterDefinition(p, at, lookup.hasValidator));
  });

  listOf(out, field(path, 'environment'), input.environment).forEach((e, i) => {
    const at = item(field(path, 'environment'), i);
    if (!isObject(e)) return void out.push({ path: at, message: 'must be an object' });
    checkRequiredString(out, field(at, 'env'), e.env);
    checkOptionalString(out, field(at, 'value'), e.value);
  });

  listOf(out, field(path, 'configuration'), input.configuration).forEach((c, i) => {
    const at = item(field(path, 'configuration'), i);
    if (!isObject(c)) return void out.push({ path: at, message: 'must be an object' });
    if (c.type !== undefined && (typeof c.type !== 'number' || !Number.isInteger(c.type) || c.type < 0 || c.type >= CONFIGURATION_TYPES.length)) {
      out.push({ path: field(at, 'type'), message: `must be ${CONFIGURATION_TYPES.map((label, n) => `${n} (${label})`).join(', ')}` });
    }
    for (const name of ['name', 'parameters', 'version']) checkOptionalString(out, field(at, name), c[name]);
  });
  return out;
}

export function checkJob(input: unknown, path: string, lookup: ConfigLookup): Problem[] {
  if (!isObject(input)) return [{ path, message: 'must be an object' }];
  const out: Problem[] = [];
  checkName(out, field(path, 'name'), input.name);
  checkOptionalBoolean(out, field(path, 'runnable'), input.runnable);
  checkOptionalString(out, field(path, 'description'), input.description);

  listOf(out, field(path, 'validators'), input.validators).forEach((v, i) => {
    const at = item(field(path, 'validators'), i);
    if (typeof v !== 'string') out.push({ path: at, message: 'must be a validator name' });
    else if (!lookup.hasValidator(v)) out.push({ path: at, message: `unknown validator "${v}"` });
  });

  const stepsPath = field(path, 'steps');
  if (input.steps === undefined || input.steps === null) {
    out.push({ path: stepsPath, message: 'required' });
    return out;
  }
  const steps = listOf(out, stepsPath, input.steps);
  const keys = new Set<string>();
  let graphIsSound = true;
  steps.forEach((s, i) => {
    const at = item(stepsPath, i);
    if (!isObject(s)) {
      graphIsSound = false;
      return void out.push({ path: at, message: 'must be an object' });
    }
    if (typeof s.key !== 'string' || s.key === '') {
      graphIsSound = false;
      out.push({ path: field(at, 'key'), message: 'required' });
    } else if (keys.has(s.key)) {
      graphIsSound = false;
      out.push({ path: field(at, 'key'), message: `duplicate step key "${s.key}"` });
    } else keys.add(s.key);
    if (typeof s.task !== 'string' || s.task === '') out.push({ path: field(at, 'task'), message: 'required' });
    else if (!lookup.hasTask(s.task)) out.push({ path: field(at, 'task'), message: `unknown task "${s.task}"` });
    if (s.ordering !== undefined && (typeof s.ordering !== 'number' || !Number.isInteger(s.ordering))) {
      out.push({ path: field(at, 'ordering'), message: 'must be a whole number' });
    }
    for (const axis of ['x', 'y']) {
      const v = s[axis];
      if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
        out.push({ path: field(at, axis), message: 'must be a number' });
      }
    }
    if (s.after !== undefined && !Array.isArray(s.after)) {
      graphIsSound = false;
      out.push({ path: field(at, 'after'), message: 'must be a list of step keys' });
    }
  });

  const objects = steps.filter(isObject);
  // Every dangling or self edge is reported; a cycle needs a whole graph to show up, so it comes last.
  steps.forEach((s, i) => {
    if (!isObject(s) || !Array.isArray(s.after)) return;
    s.after.forEach((a: unknown, j) => {
      const at = item(field(item(stepsPath, i), 'after'), j);
      if (typeof a !== 'string') {
        graphIsSound = false;
        out.push({ path: at, message: 'must be a step key' });
      } else if (a === s.key) {
        graphIsSound = false;
        out.push({ path: at, message: `step "${a}" waits for itself` });
      } else if (!objects.some((o) => o.key === a)) {
        graphIsSound = false;
        out.push({ path: at, message: `unknown step "${a}"` });
      }
    });
  });
  if (graphIsSound && objects.some((s) => s.after !== undefined)) {
    try {
      layersOf(objects.map((s) => ({ key: s.key as string, after: (s.after as string[] | undefined) ?? [] })));
    } catch (e) {
      if (!(e instanceof GraphError)) throw e;
      const i = steps.findIndex((s) => isObject(s) && s.key === e.keys[0]);
      out.push({ path: i >= 0 ? field(item(stepsPath, i), 'after') : stepsPath, message: e.message });
    }
  }
  return out;
}

function listOf(out: Problem[], path: string, value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    out.push({ path, message: 'must be a list' });
    return [];
  }
  return value;
}
