// The core's surface as seen by hosts (server, CLI, Electron): what they may call.
import type { Db } from './store/db';
import type { ServiceCaller } from './security/access';
import type { RunEvents } from './events';
import type { Settings } from './settings';
import type { NativeSubmission, NativeSubmitResult } from './intake/native-intake';

export interface CoreOptions {
  dataDir: string;
  /** Built launcher process entry (out/main/launcher.js), resolved by the host from its own __dirname. */
  launcherFile: string;
  /** Start with the queue paused: intake stores submissions, nothing starts until resume(). */
  paused?: boolean;
  /** better-sqlite3 native binding to load (headless Node build vs Electron build). */
  nativeBinding?: string;
  settings?: Partial<Settings>;
  /** Scale-out: a redis:// URL; steps then go to BullMQ queues that `aa worker` processes anywhere pull from. */
  redis?: string;
  /** Scale-out: also run steps in this process (default true); false leaves them to remote workers. */
  localWorker?: boolean;
}

export interface DataPaths {
  root: string;
  db: string;
  uploads: string;
  results: string;
  work: string;
  logs: string;
  /** Uploads in flight; moved into submissions/ once accepted. */
  tmp: string;
}

/** A parsed upload: fields in form order, the file already streamed to disk. */
export interface SubmissionForm {
  fields: Array<[string, string]>;
  file: { field: string; path: string; originalName: string; size: number } | null;
}

export interface SubmitOptions {
  ip: string;
  /** Workbench test runs bypass the runnable switch and quotas. */
  admin?: boolean;
  /** UUID for the (first) submission, when the upload was already written into its folder. */
  submissionUuid?: string;
  /** Who called, as the HTTP guard found (API key, whether keys are required); absent for trusted local callers. */
  caller?: ServiceCaller;
}

export interface SubmitResult {
  batch_uuid: string;
  submission_name: string;
  submissions: Array<{ uuid: string; job: string }>;
}

export interface QueueStats {
  paused: boolean;
  queued: number;
  running: number;
  concurrency: number;
}

export interface Core {
  readonly db: Db;
  readonly paths: DataPaths;
  readonly events: RunEvents;
  settings(): Settings;
  /** Persist and apply settings; returns the names that need a restart to apply. */
  updateSettings(patch: Partial<Settings>): string[];
  /** A_A-compatible intake (reference §2.3); throws AppError with A_A's exact bodies. */
  submitAa(form: SubmissionForm, options: SubmitOptions): Promise<SubmitResult>;
  /** Native API intake against a published Job version; throws AppError (Invalid carries a problem per field). */
  submitNative(request: NativeSubmission, options: SubmitOptions): Promise<NativeSubmitResult>;
  /** Re-run a submission with the same input and parameters; returns the new submission UUID. */
  rerun(submissionUuid: string): Promise<SubmitResult>;
  /** Cancel: queued steps never start, running ones are killed; state Cancelled. */
  cancel(submissionUuid: string): Promise<boolean>;
  /** Cancel, then remove rows and files. */
  deleteRun(submissionUuid: string): Promise<boolean>;
  pause(): void;
  resume(): void;
  queueStats(): QueueStats;
  /** Resolves when the submission reaches a final state (or the timeout passes: resolves false). */
  waitFor(submissionUuid: string, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}
