// Wire shapes of the workbench API (/api/admin): the router returns them and the UI client is typed by them (types only).
import type { Backend, EnvironmentVar, Job, Parameter, QueueType, Step, Task } from '../../core/model/types';
import type { Settings } from '../../core/settings';
import type { QueueStats } from '../../core/api';
import type { RunEvent } from '../../core/events';
import type {
  RunAttempt,
  RunDetailRow,
  RunMessage,
  RunPage,
  RunPlanStep,
  RunResult,
  RunRow,
  ServiceStats,
} from '../../core/store/run-queries';

export type { Backend, EnvironmentVar, Job, Parameter, QueueType, Step, Task, Settings, QueueStats, RunEvent };
export type { RunAttempt, RunMessage, RunPage, RunPlanStep, RunResult, RunRow, ServiceStats };

export type ProblemCode =
  | 'no_steps'
  | 'job_name'
  | 'graph'
  | 'cycle'
  | 'unconnected'
  | 'missing_task'
  | 'task_field'
  | 'shell_syntax'
  | 'missing_input'
  | 'unknown_validator';

/** One thing that stops a Job from being published; `keys` are the step keys involved. */
export interface Problem {
  code: ProblemCode;
  message: string;
  keys: string[];
}

export type TaskInput = Omit<Task, 'id'>;
export type StepInput = Pick<Step, 'key' | 'task' | 'after' | 'x' | 'y'> & { ordering?: number };
export interface JobInput {
  name: string;
  description: string | null;
  runnable?: boolean;
  validators: string[];
  steps: StepInput[];
}
export type BackendInput = Omit<Backend, 'id'>;
export type QueueTypeInput = Omit<QueueType, 'id'>;

/**
 * Body of POST /jobs/:name/check. Without `job` the stored Job is checked. The designer sends its
 * unsaved draft, the Task drafts it edits, and which steps its Input and Output nodes connect to.
 */
export interface JobCheckRequest {
  job?: JobInput;
  tasks?: TaskInput[];
  /** Steps wired from the Input node. */
  entry?: string[];
  /** Steps wired to the Output node. */
  exit?: string[];
}

export interface JobCheckResponse {
  problems: Problem[];
}

export interface ValidatorTypeInfo {
  name: string;
  description: string;
}

export interface Overview {
  version: string;
  data_dir: string;
  jobs: number;
  published: number;
  tasks: number;
  backends: number;
  runs_today: number;
  queue: QueueStats;
}

export interface ServiceField {
  field: string;
  bool: boolean;
  /** The value the snippets use: the parameter default, or a placeholder. */
  example: string;
}

export interface ServiceInfo {
  name: string;
  description: string | null;
  runnable: boolean;
  /** Fingerprint of the Job and its Tasks as configured now: changes whenever they do. */
  version: string;
  /** Base of the A_A surface, e.g. http://127.0.0.1:8610/analytics_automated */
  base_url: string;
  /** Where clients POST. */
  submit_url: string;
  /** Reachable from other machines (bound to a LAN address). */
  lan: boolean;
  /** A_A `endpoints/` string for this Job (reference §2.9). */
  endpoints: string;
  fields: ServiceField[];
  validators: string[];
  steps: number;
  snippets: { curl: string; python: string; javascript: string };
  stats: ServiceStats;
}

export interface RunAttemptView extends RunAttempt {
  duration_ms: number | null;
  /** Last 4 KiB of each stream (null when nothing was kept). */
  stdout_tail: string | null;
  stderr_tail: string | null;
  stdout_size: number;
  stderr_size: number;
}

export type PreviewKind = 'text' | 'image' | 'none';

export interface RunResultView extends RunResult {
  url: string;
  preview: PreviewKind;
}

export interface RunDetail extends Omit<RunDetailRow, 'attempts' | 'results'> {
  attempts: RunAttemptView[];
  results: RunResultView[];
  input: { name: string; size: number; url: string; preview: PreviewKind };
}

export interface RunsResponse extends RunPage {
  clients: string[];
  jobs: string[];
}

export interface SettingsView {
  settings: Settings;
  data_dir: string;
  /** Settings that only apply after a restart. */
  restart_settings: Array<keyof Settings>;
  /** Address and port this server is really listening on. */
  listening: { host: string; port: number };
}

export interface SettingsSaved extends SettingsView {
  /** Changed settings that wait for a restart. */
  restart_required: string[];
}

export interface PreviewCommandRequest {
  executable: string;
  parameters: Parameter[];
  /** Sample values by parameter alias. */
  values: Record<string, string>;
  task?: string;
  in_glob?: string;
  out_glob?: string;
  stdout_glob?: string | null;
}

export type PreviewCommandResponse = { argv: string[] } | { error: string };

export interface TestRunResponse {
  batch_uuid: string;
  submission_uuid: string;
}
