// Runtime settings: typed once, defaulted once.
import os from 'node:os';

export interface Settings {
  /** Concurrent task attempts in the local worker pool. */
  concurrency: number;
  /** A_A QUEUE_HOG_SIZE: at this many unfinished submissions a client drops to low priority; null disables. */
  queue_hog_size: number | null;
  /** A_A QUEUE_HARD_LIMIT: at this many unfinished submissions a client gets 429; null disables. */
  queue_hard_limit: number | null;
  /** Largest accepted upload, bytes. */
  upload_limit_bytes: number;
  /** stdout/stderr kept per attempt, bytes; the rest is dropped and noted. */
  output_cap_bytes: number;
  /** Address the server binds (restart to apply). */
  host: string;
  /** Port the server binds (restart to apply). */
  port: number;

  // Protection. Off the LAN (the default) only this computer may call the services, without keys.
  /** Publish services on the LAN: every service call then needs an API key (except public services) and quotas apply. */
  lan_publish: boolean;
  /** Origins (`scheme://host[:port]`) whose web pages may call the services from a browser; `*` allows any. */
  cors_origins: string[];
  /** On the LAN: service requests per minute per client address; null disables. */
  client_requests_per_minute: number | null;
  /** On the LAN: service requests per minute per API key, unless the key sets its own; null disables. */
  key_requests_per_minute: number | null;
  /** Unfinished submissions one service (Job) may hold at once, unless its policy says otherwise; more get 429. null: no cap. */
  service_max_active: number | null;
  /** Most form fields in one upload. */
  upload_max_fields: number;
  /** Largest value of one form field, bytes. */
  upload_max_field_bytes: number;
  /** Most file parts in one upload. */
  upload_max_files: number;
  /** An upload that sends nothing for this long is refused (408), so a stalled client cannot hold a connection. */
  upload_idle_timeout_ms: number;
  /** Intake refuses new submissions (507) while less than this is free on the data disk, leaving room for running jobs. */
  min_free_bytes: number;
  /** Deadline for a whole submission, seconds from acceptance, unless its service sets one; null: none. */
  job_deadline_s: number | null;
  /** Running attempts get this long to finish at shutdown before they are stopped and left for the next start, ms. */
  shutdown_grace_ms: number;

  // Retention: finished runs only; rows and files go together. Each service may add its own limits.
  /** Finished runs older than this many days are removed; null keeps them. */
  retain_days: number | null;
  /** At most this many finished runs are kept (newest first); null: no limit. */
  retain_count: number | null;
  /** Finished runs' files are kept within this many bytes (oldest go first); null: no limit. */
  retain_bytes: number | null;
  /** Seconds between retention sweeps. */
  retention_interval_s: number;

  // Completion email (A_A __handle_batch_email): sent once per batch when it reaches Complete, Error or Crash.
  /** SMTP server; '' turns completion email off. */
  smtp_host: string;
  /** SMTP port: 587 (STARTTLS), 465 (TLS from the start, with smtp_secure) or 25. */
  smtp_port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
  smtp_secure: boolean;
  /** SMTP login; '' sends without logging in. The password is kept apart from the settings, write-only. */
  smtp_user: string;
  /** A_A DEFAULT_FROM_EMAIL: the sender; '' turns completion email off, as in A_A. */
  email_from: string;
  /** A_A EMAIL_SUBJECT_STRING: the subject reads `<job name> : <this>: <batch UUID>`. */
  email_subject: string;
  /** A_A EMAIL_MESSAGE_STRING: the body of a success mail is this followed by the batch UUID. */
  email_message: string;

  // Completion callbacks: a native API client may name a URL that receives the final run document, signed.
  /** Clients may pass `callback_url` at all. */
  callbacks_enabled: boolean;
  /** Services (Job names) that accept `callback_url`; null: every service. */
  callback_services: string[] | null;
  /** Tries per delivery before it is given up (the first included). */
  callback_max_attempts: number;
  /** Wait before the first retry, ms; each later retry waits twice as long as the one before. */
  callback_backoff_ms: number;
  /** Longest wait between two tries, ms. */
  callback_backoff_max_ms: number;
  /** A receiver that has not answered within this long counts as a failed try, ms. */
  callback_timeout_ms: number;
  /** Redis for scale-out (`redis://host:6379`): steps go to BullMQ for `aa worker` machines; null runs them here only. */
  redis_url: string | null;
}

export const DEFAULT_SETTINGS: Settings = {
  concurrency: Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
  queue_hog_size: 10,
  queue_hard_limit: 15,
  upload_limit_bytes: 2 * 1024 * 1024 * 1024,
  output_cap_bytes: 16 * 1024 * 1024,
  host: '127.0.0.1',
  port: 8610,
  lan_publish: false,
  cors_origins: [],
  client_requests_per_minute: 600,
  key_requests_per_minute: 600,
  service_max_active: null,
  upload_max_fields: 1000,
  upload_max_field_bytes: 1024 * 1024,
  upload_max_files: 16,
  upload_idle_timeout_ms: 30_000,
  min_free_bytes: 64 * 1024 * 1024,
  job_deadline_s: null,
  shutdown_grace_ms: 10_000,
  retain_days: 30,
  retain_count: null,
  retain_bytes: null,
  retention_interval_s: 600,
  smtp_host: '',
  smtp_port: 587,
  smtp_secure: false,
  smtp_user: '',
  email_from: '',
  email_subject: 'A_A Job Completion',
  email_message: 'Your analysis is complete.\nYou can retrieve the results from http://127.0.0.1:4000/interface/&uuid=',
  callbacks_enabled: true,
  callback_services: null,
  callback_max_attempts: 8,
  callback_backoff_ms: 1000,
  callback_backoff_max_ms: 10 * 60 * 1000,
  callback_timeout_ms: 10_000,
  redis_url: null,
};

/** Settings that only apply when the server starts again. */
export const RESTART_SETTINGS: Array<keyof Settings> = ['host', 'port', 'redis_url'];
