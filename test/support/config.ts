// Test support: build Tasks and Jobs in a real store through the config repository.
import type { Db } from '../../src-main/core/store/db';
import { saveJob, saveTask } from '../../src-main/core/store/config-repo';
import type { Parameter, Task } from '../../src-main/core/model/types';

type TaskOptions = Partial<Omit<Task, 'id' | 'name' | 'executable' | 'parameters'>> & { parameters?: Array<Partial<Parameter> & { flag: string; alias: string }> };

export function addTask(db: Db, name: string, executable: string, opts: TaskOptions = {}): void {
  saveTask(db, {
    name,
    description: null,
    backend: 'local',
    in_glob: '.input',
    out_glob: '.out',
    stdout_glob: '.out',
    executable,
    incomplete_outputs_behaviour: 3,
    custom_exit_status: null,
    custom_exit_behaviour: null,
    timeout: null,
    retries: 0,
    environment: [],
    configuration: [],
    ...opts,
    parameters: (opts.parameters ?? []).map((p) => ({
      default: null,
      bool_valued: false,
      spacing: true,
      switchless: false,
      ...p,
    })),
  });
}

/** A job from A_A-style orderings: steps [[task, ordering], ...]. */
export function addJob(db: Db, name: string, steps: Array<[string, number]>, opts: { runnable?: boolean; validators?: string[] } = {}): void {
  saveJob(db, {
    name,
    runnable: opts.runnable ?? true,
    description: null,
    validators: opts.validators ?? [],
    steps: steps.map(([task, ordering], i) => ({ key: `s${i + 1}`, task, ordering })),
  });
}
