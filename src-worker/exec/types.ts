// What one task attempt is asked to run and what came of it; shared by the worker and the core, so no imports.

/** A_A-style parameter handed to a script header as P<i> (i = position in `script_params`, 1-based). */
export interface ScriptParam {
  flag: string;
  /** The parameter's value; null for a switch. */
  value: string | null;
  /**
   * A switch (A_A bool parameter). Switches become `True`/`TRUE`/`true` in the header whatever their value,
   * as in A_A, where a bool set to FALSE also arrives as True; valued parameters become `{flag: value}`.
   */
  bool: boolean;
}

/** Posted on `AttemptSpec.port` right after a successful spawn. */
export interface AttemptStarted {
  type: 'started';
  /** Also the process group id: cancel with `process.kill(-pid, 'SIGTERM')`. */
  pid: number;
  started_at: string;
}

/** Anything that can carry the `started` message, in practice a worker_threads MessagePort. */
export interface AttemptPort {
  postMessage(message: AttemptStarted): void;
}

export type ScriptInterpreter = 'python' | 'R' | 'bash' | 'node';

export interface AttemptSpec {
  kind: 'command' | 'script';
  /** command: argv[0] is the program (resolved on PATH), the rest its arguments. Never run through a shell. */
  argv?: string[];
  /** script: interpreter kind and the code block (A_A R/Python code blocks, plus bash and node). */
  interpreter?: ScriptInterpreter;
  script?: string;
  /** For script headers: A_A I/O variables (reference §3.6). Globs are matched as file-name endings. */
  in_globs?: string[];
  out_globs?: string[];
  /** Prefix of output file names (A_A: the submission UUID); '' when absent. */
  id?: string;
  script_params?: ScriptParam[];
  /** Must exist; scripts are written here too (and removed after the run). */
  cwd: string;
  /** Merged onto the worker's own environment (never replacing it). */
  env: Record<string, string>;
  stdout_file: string;
  stderr_file: string;
  /** Bytes kept per stream; the rest is dropped and `*_truncated` set. */
  output_cap_bytes: number;
  /** Kill the whole process group after this many ms (null = none). */
  timeout_ms: number | null;
  /**
   * Optional port: the worker posts { type: 'started', pid, started_at } right after spawn so the caller can kill
   * the process group (cancel) itself. The caller owns the port; the worker never closes it.
   */
  port?: AttemptPort;
}

export interface AttemptOutcome {
  /** The process's exit status; null when it was killed by a signal or never started. */
  exit_code: number | null;
  /** Name of the signal that ended the process, e.g. 'SIGTERM'. */
  signal: string | null;
  /** The timeout fired and the process group was killed. */
  timed_out: boolean;
  /** spawn failure such as ENOENT: a clear message, e.g. 'command not found: foo'. */
  spawn_error: string | null;
  pid: number | null;
  started_at: string;
  ended_at: string;
  duration_ms: number;
  /** Bytes the process wrote to each stream, kept or not; the file holds at most `output_cap_bytes` of them. */
  stdout_bytes: number;
  stderr_bytes: number;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  /** The machine running the attempt went away (a remote worker lost mid-step): the run ends as Crash, not Error. */
  lost?: boolean;
}
