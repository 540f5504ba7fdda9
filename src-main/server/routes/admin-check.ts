// Owns the designer's publish check: every reason a Job draft cannot become a service yet.
import type { Backend, QueueType } from '../../core/model/types';
import { EXECUTION_BEHAVIOURS } from '../../core/model/types';
import { GraphError, ancestorsOf, layersOf } from '../../core/plan/stages';
import { checkExecutable } from '../../core/plan/command';
import { splitGlobs } from '../../core/plan/plan';
import type { JobInput, Problem, TaskInput } from './admin-types';

export interface CheckLookup {
  task(name: string): TaskInput | null;
  backend(name: string): Backend | null;
  queueType(name: string): QueueType | null;
  validatorNames: ReadonlySet<string>;
}

export interface Wiring {
  /** Steps the designer's Input node connects to; omitted for a stored Job (always wired). */
  entry?: string[];
  /** Steps the designer's Output node is reached from. */
  exit?: string[];
}

// Only these behaviours run the template as a command line; the others treat it as a script body.
const COMMAND_BEHAVIOURS = new Set<number>([EXECUTION_BEHAVIOURS.localhost, EXECUTION_BEHAVIOURS.GridEngine]);

const quoted = (s: string): string => `"${s}"`;

/** Problems in the order a user would fix them: the graph first, then tasks, then data flow. */
export function checkJob(job: JobInput, lookup: CheckLookup, wiring: Wiring = {}): Problem[] {
  const problems: Problem[] = [];
  const taskOf = new Map(job.steps.map((s) => [s.key, s.task]));
  // Users know steps by their Task; the key tells apart two steps using the same Task.
  const step = (key: string): string => (taskOf.get(key) ? `step ${quoted(taskOf.get(key) as string)} (${key})` : `step ${quoted(key)}`);
  const add = (code: Problem['code'], message: string, keys: string[] = []): void => {
    problems.push({ code, message, keys });
  };

  if (!job.name.trim()) add('job_name', 'the job needs a name');
  for (const v of job.validators) {
    if (!lookup.validatorNames.has(v)) add('unknown_validator', `unknown validator type ${quoted(v)}`);
  }
  if (job.steps.length === 0) {
    add('no_steps', 'the job has no steps: drag a Task onto the canvas');
    return problems;
  }

  const keys = new Set(job.steps.map((s) => s.key));
  // Unknown upstream keys are reported once here, then dropped so the cycle search can still run.
  const steps = job.steps.map((s) => ({ ...s, after: s.after.filter((a) => keys.has(a) && a !== s.key) }));
  for (const s of job.steps) {
    for (const a of s.after) {
      if (a === s.key) add('cycle', `${step(s.key)} waits for itself`, [s.key]);
      else if (!keys.has(a)) add('graph', `${step(s.key)} waits for unknown step ${quoted(a)}`, [s.key]);
    }
  }
  let acyclic = true;
  try {
    layersOf(steps);
  } catch (error) {
    if (!(error instanceof GraphError)) throw error;
    acyclic = false;
    if (error.message.startsWith('cycle') && error.keys.length > 0) {
      const names = [...error.keys, error.keys[0]].map((k) => taskOf.get(k) || k);
      add('cycle', `cycle: ${names.join(' → ')} wait for each other, so none can start`, error.keys);
    } else add('graph', error.message, error.keys);
  }

  const downstream = new Set(steps.flatMap((s) => s.after));
  if (wiring.entry) {
    const entry = new Set(wiring.entry);
    for (const s of steps) {
      if (s.after.length === 0 && !entry.has(s.key)) add('unconnected', `${step(s.key)} is not connected to the Input`, [s.key]);
    }
  }
  if (wiring.exit) {
    const exit = new Set(wiring.exit);
    for (const s of steps) {
      if (!downstream.has(s.key) && !exit.has(s.key)) add('unconnected', `${step(s.key)} does not lead to the Output`, [s.key]);
    }
  }

  const usedBy = new Map<string, string[]>();
  for (const s of steps) {
    if (!s.task.trim()) add('missing_task', `${step(s.key)} has no task`, [s.key]);
    else usedBy.set(s.task, [...(usedBy.get(s.task) ?? []), s.key]);
  }
  const tasks = new Map<string, TaskInput>();
  for (const [name, users] of usedBy) {
    const task = lookup.task(name);
    if (!task) {
      add('missing_task', `unknown task ${quoted(name)}`, users);
      continue;
    }
    tasks.set(name, task);
    const field = (message: string): void => add('task_field', `task ${quoted(name)}: ${message}`, users);
    if (!task.executable.trim()) field('executable is empty');
    if (splitGlobs(task.in_glob).length === 0) field('in_glob is empty');
    if (splitGlobs(task.out_glob).length === 0) field('out_glob is empty');
    const backend = task.backend ? lookup.backend(task.backend) : null;
    if (!task.backend) field('no backend chosen');
    else if (!backend) field(`unknown backend ${quoted(task.backend)}`);
    const behaviour = backend?.queue_type ? lookup.queueType(backend.queue_type)?.execution_behaviour : EXECUTION_BEHAVIOURS.localhost;
    if (task.executable.trim() && (behaviour === undefined || COMMAND_BEHAVIOURS.has(behaviour))) {
      const shell = checkExecutable(task.executable);
      if (shell) add('shell_syntax', `task ${quoted(name)}: ${shell}`, users);
    }
  }

  // A_A hands a later step every ancestor result whose file name contains one of its in_globs.
  if (acyclic) {
    for (const s of steps) {
      if (s.after.length === 0) continue;
      const task = tasks.get(s.task);
      const wanted = task ? splitGlobs(task.in_glob)[0] : undefined;
      if (!wanted) continue;
      const needle = wanted.replace(/^\.+/, '');
      const produced = [...ancestorsOf(steps, s.key)].flatMap((k) => {
        const upstream = tasks.get(steps.find((o) => o.key === k)?.task ?? '');
        return upstream ? splitGlobs(upstream.out_glob) : [];
      });
      if (!produced.some((g) => g.includes(needle))) {
        add('missing_input', `${step(s.key)} reads ${quoted(wanted)} but no upstream step produces it`, [s.key]);
      }
    }
  }
  return problems;
}
