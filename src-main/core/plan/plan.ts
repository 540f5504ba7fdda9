// Builds the immutable Plan of one submission: the job's steps rendered with the request's parameters.
import type { Backend, ExecutionBehaviour, Job, Plan, PlannedStep, QueueType, Task } from '../model/types';
import { EXECUTION_BEHAVIOURS } from '../model/types';
import { aaCounters } from './stages';
import { planParams } from './params';

export interface PlanLookup {
  task(name: string): Task | null;
  backend(name: string): Backend | null;
  queueType(name: string): QueueType | null;
}

/** A_A glob lists: all whitespace removed, split on ','. */
export const splitGlobs = (glob: string): string[] =>
  glob
    .replace(/\s+/g, '')
    .split(',')
    .filter((g) => g.length > 0);

/** A_A stdout glob: '.stdout' by default, else '.' + the glob without leading dots. */
export const stdoutGlob = (glob: string | null): string => (glob && glob.trim() ? '.' + glob.trim().replace(/^\.+/, '') : '.stdout');

/** A_A queue names: low_<q>, <q>, high_<q> for priorities 0, 1, 2. */
export const queueName = (queue: string, priority: number): string =>
  priority <= 0 ? `low_${queue}` : priority >= 2 ? `high_${queue}` : queue;

export function buildPlan(job: Job, request: Record<string, string>, priority: number, lookup: PlanLookup): Plan {
  const steps = [...job.steps].sort((a, b) => a.ordering - b.ordering);
  const { counters, total_steps } = aaCounters(steps.map((s) => s.ordering));
  const planned: PlannedStep[] = steps.map((step, i) => {
    const task = lookup.task(step.task);
    if (!task) throw new Error(`step "${step.key}" uses unknown task "${step.task}"`);
    const backend = task.backend ? lookup.backend(task.backend) : null;
    const queueType = backend?.queue_type ? lookup.queueType(backend.queue_type) : null;
    const behaviour: ExecutionBehaviour = queueType?.execution_behaviour ?? EXECUTION_BEHAVIOURS.localhost;
    const { params, param_values, value } = planParams(task.parameters, task.name, request);
    return {
      key: step.key,
      task: task.name,
      task_id: task.id,
      step_id: step.ordering,
      current_step: counters[i].current_step,
      step_counter: counters[i].step_counter,
      after: step.after,
      execution_behaviour: behaviour,
      queue: queueName(queueType?.name ?? 'localhost', priority),
      root_path: backend?.root_path ?? '',
      executable: task.executable,
      in_globs: splitGlobs(task.in_glob),
      out_globs: splitGlobs(task.out_glob),
      stdout_glob: stdoutGlob(task.stdout_glob),
      params,
      param_values,
      value,
      environment: Object.fromEntries(task.environment.map((e) => [e.env, e.value])),
      incomplete_outputs_behaviour: task.incomplete_outputs_behaviour,
      custom_exit_status: task.custom_exit_status,
      custom_exit_behaviour: task.custom_exit_behaviour,
      timeout: task.timeout,
      retries: task.retries,
    };
  });
  return { job: job.name, total_steps, steps: planned };
}

/** REST fields a job needs: every parameter of every step's task, in step order. */
export function jobParameterFields(job: Job, lookup: Pick<PlanLookup, 'task'>): Array<{ field: string; bool: boolean }> {
  const steps = [...job.steps].sort((a, b) => a.ordering - b.ordering);
  const out: Array<{ field: string; bool: boolean }> = [];
  for (const step of steps) {
    const task = lookup.task(step.task);
    for (const p of task?.parameters ?? []) out.push({ field: `${task?.name}_${p.alias}`, bool: p.bool_valued });
  }
  return out;
}
