// Domain types shared by core, server, CLI, worker and renderer (plain data, no behaviour).

/** A_A execution behaviours (1–4) plus the script interpreters this workbench adds. */
export const EXECUTION_BEHAVIOURS = {
  localhost: 1,
  GridEngine: 2,
  R: 3,
  Python: 4,
  bash: 5,
  node: 6,
} as const;
export type ExecutionBehaviour = (typeof EXECUTION_BEHAVIOURS)[keyof typeof EXECUTION_BEHAVIOURS];

/** A_A COMPLETION_CHOICES (there is no value 2). */
export const COMPLETION = { CONTINUE: 0, TERMINATE: 1, FAIL: 3 } as const;
export type Completion = (typeof COMPLETION)[keyof typeof COMPLETION];

/** Submission and Batch status codes, A_A 0–4 plus Cancelled. */
export const STATUS = { Submitted: 0, Running: 1, Complete: 2, Error: 3, Crash: 4, Cancelled: 5 } as const;
export type StatusCode = (typeof STATUS)[keyof typeof STATUS];
export const STATUS_LABELS = ['Submitted', 'Running', 'Complete', 'Error', 'Crash', 'Cancelled'] as const;
export type StatusLabel = (typeof STATUS_LABELS)[number];
export const isFinalStatus = (s: number): boolean => s >= STATUS.Complete;

export const CONFIGURATION_TYPES = ['Software', 'Dataset', 'Misc.'] as const;

export interface QueueType {
  id: number;
  name: string;
  execution_behaviour: ExecutionBehaviour;
}

export interface Backend {
  id: number;
  name: string;
  queue_type: string | null;
  /** Parent of per-submission working directories; '' means `<data dir>/work`. */
  root_path: string;
}

/** Value types of the native API; A_A routes treat every parameter as a string. */
export const PARAMETER_TYPES = ['string', 'integer', 'number', 'boolean', 'enum', 'file'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

export interface Parameter {
  flag: string;
  /** Unprefixed alias; the REST field is `<task name>_<alias>`. */
  alias: string;
  default: string | null;
  bool_valued: boolean;
  spacing: boolean;
  switchless: boolean;
  /** Native API type; absent: 'boolean' for a bool_valued parameter, else 'string'. */
  type?: ParameterType;
  /** integer, number: inclusive bounds. */
  min?: number;
  max?: number;
  /** enum: the allowed values. */
  enum?: string[];
  /** string: an ECMAScript regular expression the value must match (unanchored, as JSON Schema's `pattern`). */
  pattern?: string;
  /** string: the most characters allowed. */
  max_length?: number;
  /** file: validator type names the uploaded file must pass. */
  validators?: string[];
  /** Shown to API clients (OpenAPI description). */
  description?: string;
}

export interface EnvironmentVar {
  env: string;
  value: string;
}

export interface Configuration {
  type: number;
  name: string | null;
  parameters: string | null;
  version: string | null;
}

export interface Task {
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
  /** Seconds; null = no limit. */
  timeout: number | null;
  retries: number;
  parameters: Parameter[];
  environment: EnvironmentVar[];
  configuration: Configuration[];
}

export interface Step {
  id: number;
  /** Stable key of the step within its job (node id in the designer). */
  key: string;
  task: string;
  /** A_A ordering; derived from the graph layer when edges are given. */
  ordering: number;
  /** Keys of the steps this step waits for. */
  after: string[];
  x: number | null;
  y: number | null;
}

export interface Job {
  id: number;
  name: string;
  runnable: boolean;
  description: string | null;
  validators: string[];
  steps: Step[];
}

/** A task rendered for one step of one submission: everything the executor needs. */
export interface PlannedStep {
  key: string;
  task: string;
  task_id: number;
  /** A_A Step.ordering. */
  step_id: number;
  /** A_A 1-based group index (same for parallel steps). */
  current_step: number;
  /** A_A 1-based running index. */
  step_counter: number;
  after: string[];
  execution_behaviour: ExecutionBehaviour;
  queue: string;
  root_path: string;
  executable: string;
  in_globs: string[];
  out_globs: string[];
  stdout_glob: string;
  /** Parameter flags in A_A `params` order (VALUE flags skipped; '' for a FALSE switch). */
  params: string[];
  param_values: Record<string, { value: string; spacing: boolean; switchless: boolean }>;
  value: string;
  environment: Record<string, string>;
  incomplete_outputs_behaviour: Completion;
  custom_exit_status: string | null;
  custom_exit_behaviour: Completion | null;
  timeout: number | null;
  retries: number;
  /**
   * Native submissions only: uploaded files to place in the working directory before the step runs
   * (`path` relative to the data dir, `name` the file name there). When present, an entry step takes
   * these instead of the single A_A upload.
   */
  inputs?: Array<{ path: string; name: string }>;
}

export interface Plan {
  job: string;
  total_steps: number;
  steps: PlannedStep[];
}

export interface Batch {
  id: number;
  uuid: string;
  status: StatusCode;
}

export interface Submission {
  id: number;
  uuid: string;
  batch_id: number;
  job_id: number | null;
  job_name: string;
  submission_name: string;
  email: string | null;
  ip: string;
  priority: number;
  input_path: string;
  input_name: string;
  status: StatusCode;
  last_message: string;
  step_id: number | null;
  created_at: string;
  modified_at: string;
}

export interface AttemptRecord {
  id: number;
  submission_id: number;
  step_key: string;
  task_name: string;
  attempt_no: number;
  state: 'queued' | 'running' | 'done' | 'failed' | 'crash' | 'cancelled';
  argv: string[] | null;
  exit_code: number | null;
  signal: string | null;
  stdout_path: string | null;
  stderr_path: string | null;
  queued_at: string;
  started_at: string | null;
  ended_at: string | null;
  message: string | null;
}

export interface ResultRecord {
  id: number;
  submission_id: number;
  task_id: number | null;
  task_name: string;
  step: number;
  previous_step: number | null;
  path: string;
  name: string;
  message: string;
}
