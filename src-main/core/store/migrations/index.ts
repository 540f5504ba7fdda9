// Numbered schema migrations. Never edit a migration after it has landed: add the next one.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const m001 = `
CREATE TABLE queue_type (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  execution_behaviour INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE backend (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  queue_type_id INTEGER REFERENCES queue_type(id) ON DELETE SET NULL,
  root_path TEXT NOT NULL DEFAULT ''
);
CREATE TABLE task (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT,
  backend_id INTEGER REFERENCES backend(id) ON DELETE SET NULL,
  in_glob TEXT NOT NULL,
  out_glob TEXT NOT NULL,
  stdout_glob TEXT,
  executable TEXT NOT NULL,
  incomplete_outputs_behaviour INTEGER NOT NULL DEFAULT 3,
  custom_exit_status TEXT,
  custom_exit_behaviour INTEGER,
  timeout REAL,
  retries INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE parameter (
  id INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL REFERENCES task(id) ON DELETE CASCADE,
  flag TEXT NOT NULL,
  alias TEXT NOT NULL,
  default_value TEXT,
  bool_valued INTEGER NOT NULL DEFAULT 0,
  spacing INTEGER NOT NULL DEFAULT 1,
  switchless INTEGER NOT NULL DEFAULT 0,
  UNIQUE (task_id, alias)
);
CREATE TABLE environment (
  id INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL REFERENCES task(id) ON DELETE CASCADE,
  env TEXT NOT NULL,
  value TEXT NOT NULL DEFAULT ''
);
CREATE TABLE configuration (
  id INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL REFERENCES task(id) ON DELETE CASCADE,
  type INTEGER NOT NULL DEFAULT 0,
  name TEXT,
  parameters TEXT,
  version TEXT
);
CREATE TABLE job (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  runnable INTEGER NOT NULL DEFAULT 0,
  description TEXT
);
CREATE TABLE step (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
  task_id INTEGER NOT NULL REFERENCES task(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  ordering INTEGER NOT NULL DEFAULT 0,
  x REAL,
  y REAL,
  UNIQUE (job_id, key)
);
CREATE TABLE step_edge (
  job_id INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
  from_step_id INTEGER NOT NULL REFERENCES step(id) ON DELETE CASCADE,
  to_step_id INTEGER NOT NULL REFERENCES step(id) ON DELETE CASCADE,
  PRIMARY KEY (from_step_id, to_step_id)
);
CREATE TABLE validator_type (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE validator (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
  validator_type_id INTEGER NOT NULL REFERENCES validator_type(id) ON DELETE CASCADE
);

CREATE TABLE batch (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  status INTEGER NOT NULL DEFAULT 0,
  ip TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE submission (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  batch_id INTEGER NOT NULL REFERENCES batch(id) ON DELETE CASCADE,
  job_id INTEGER REFERENCES job(id) ON DELETE SET NULL,
  job_name TEXT NOT NULL,
  submission_name TEXT NOT NULL,
  email TEXT,
  ip TEXT NOT NULL DEFAULT '127.0.0.1',
  priority INTEGER NOT NULL DEFAULT 1,
  input_path TEXT NOT NULL,
  input_name TEXT NOT NULL,
  input_size INTEGER NOT NULL DEFAULT 0,
  params TEXT NOT NULL DEFAULT '{}',
  plan TEXT NOT NULL,
  status INTEGER NOT NULL DEFAULT 0,
  last_message TEXT NOT NULL DEFAULT 'Submitted',
  claimed INTEGER NOT NULL DEFAULT 0,
  hostname TEXT,
  step_id INTEGER,
  created_at TEXT NOT NULL,
  modified_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX submission_batch ON submission(batch_id);
CREATE INDEX submission_status ON submission(status);
CREATE INDEX submission_ip_status ON submission(ip, status);
CREATE INDEX submission_job ON submission(job_name, created_at);
CREATE TABLE attempt (
  id INTEGER PRIMARY KEY,
  submission_id INTEGER NOT NULL REFERENCES submission(id) ON DELETE CASCADE,
  step_key TEXT NOT NULL,
  task_name TEXT NOT NULL,
  current_step INTEGER NOT NULL,
  attempt_no INTEGER NOT NULL DEFAULT 1,
  state TEXT NOT NULL DEFAULT 'queued',
  argv TEXT,
  cwd TEXT,
  pid INTEGER,
  exit_code INTEGER,
  signal TEXT,
  stdout_path TEXT,
  stderr_path TEXT,
  queued_at TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  message TEXT
);
CREATE INDEX attempt_submission ON attempt(submission_id);
CREATE INDEX attempt_state ON attempt(state);
CREATE TABLE result (
  id INTEGER PRIMARY KEY,
  submission_id INTEGER NOT NULL REFERENCES submission(id) ON DELETE CASCADE,
  task_id INTEGER REFERENCES task(id) ON DELETE SET NULL,
  task_name TEXT NOT NULL,
  step_key TEXT,
  step INTEGER NOT NULL,
  previous_step INTEGER,
  path TEXT NOT NULL,
  name TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT 'Result',
  size INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE INDEX result_submission ON result(submission_id);
CREATE TABLE message (
  id INTEGER PRIMARY KEY,
  submission_id INTEGER NOT NULL REFERENCES submission(id) ON DELETE CASCADE,
  step_id INTEGER,
  message TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX message_submission ON message(submission_id);
CREATE TABLE setting (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

// Native service API: typed parameters, published Job snapshots, and what a native submission ran against.
const m002 = `
ALTER TABLE parameter ADD COLUMN type TEXT;
ALTER TABLE parameter ADD COLUMN min REAL;
ALTER TABLE parameter ADD COLUMN max REAL;
ALTER TABLE parameter ADD COLUMN enum_values TEXT;
ALTER TABLE parameter ADD COLUMN pattern TEXT;
ALTER TABLE parameter ADD COLUMN max_length INTEGER;
ALTER TABLE parameter ADD COLUMN validators TEXT;
ALTER TABLE parameter ADD COLUMN description TEXT;
CREATE TABLE job_version (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  snapshot TEXT NOT NULL,
  published_at TEXT NOT NULL,
  UNIQUE (job_id, version)
);
ALTER TABLE submission ADD COLUMN job_version INTEGER;
ALTER TABLE submission ADD COLUMN inputs TEXT;
`;

// Protection and retention: hashed API keys and per-service policies (public, caps, deadline, retention).
const m003 = `
CREATE TABLE api_key (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL,
  services TEXT,
  requests_per_minute INTEGER,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE TABLE service_policy (
  job_name TEXT PRIMARY KEY,
  public INTEGER NOT NULL DEFAULT 0,
  upload_limit_bytes INTEGER,
  max_active INTEGER,
  deadline_s REAL,
  retain_days REAL,
  retain_count INTEGER,
  retain_bytes INTEGER
);
CREATE INDEX submission_finished ON submission(status, finished_at);
`;

// Scale-out: worker tokens (sha256 of the secret, shown once) and the workers that announced themselves.
const m004 = `
CREATE TABLE worker_token (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE TABLE worker (
  id TEXT PRIMARY KEY,
  token_id INTEGER REFERENCES worker_token(id) ON DELETE SET NULL,
  host TEXT NOT NULL,
  queues TEXT NOT NULL DEFAULT '[]',
  concurrency INTEGER NOT NULL DEFAULT 1,
  running INTEGER NOT NULL DEFAULT 0,
  completed INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  version TEXT,
  started_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  stopped_at TEXT
);
CREATE INDEX worker_seen ON worker(last_seen_at);
`;

// Configuration stamp: every change to a configuration table bumps one counter (also from other processes,
// such as `aa import`), so lookups on the intake path can be cached and invalidated by one cheap read.
const CONFIG_TABLES = ['queue_type', 'backend', 'task', 'parameter', 'environment', 'configuration', 'job', 'step', 'step_edge', 'validator_type', 'validator', 'job_version'];
const m006 =
  `CREATE TABLE config_stamp (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT INTO config_stamp (id, n) VALUES (1, 0);
` +
  CONFIG_TABLES.flatMap((table) =>
    ['INSERT', 'UPDATE', 'DELETE'].map(
      (op) => `CREATE TRIGGER config_stamp_${table}_${op.toLowerCase()} AFTER ${op} ON ${table} BEGIN UPDATE config_stamp SET n = n + 1 WHERE id = 1; END;`,
    ),
  ).join('\n');

// Notifications and schedules: completion callbacks (outbox), completion email (outbox), scheduled runs.
const m005 = `
CREATE TABLE callback (
  id INTEGER PRIMARY KEY,
  submission_id INTEGER NOT NULL UNIQUE REFERENCES submission(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  api_base TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'waiting',
  body TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  last_status INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  delivered_at TEXT
);
CREATE INDEX callback_state ON callback(state, next_attempt_at);
CREATE TABLE email_outbox (
  id INTEGER PRIMARY KEY,
  batch_id INTEGER NOT NULL UNIQUE REFERENCES batch(id) ON DELETE CASCADE,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  last_error TEXT,
  created_at TEXT NOT NULL,
  sent_at TEXT
);
CREATE INDEX email_outbox_state ON email_outbox(state, next_attempt_at);
CREATE TABLE schedule (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
  cron TEXT NOT NULL,
  timezone TEXT,
  submission_name TEXT NOT NULL,
  params TEXT NOT NULL DEFAULT '{}',
  input_name TEXT NOT NULL,
  input_path TEXT NOT NULL,
  email TEXT,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  runs INTEGER NOT NULL DEFAULT 0,
  last_run_at TEXT,
  last_batch_uuid TEXT,
  last_error TEXT
);
`;

// The status index duplicated the first column of submission_finished (status, finished_at), which serves every
// status-only query; each run's state changes no longer update it.
const m007 = `DROP INDEX submission_status;`;

// No query looks attempts up by state (recovery reads a submission's attempts through attempt_submission), and every
// attempt's insert and end updated this index.
const m008 = `DROP INDEX attempt_state;`;

export const MIGRATIONS: Migration[] = [
  { version: 1, name: 'initial schema', sql: m001 },
  { version: 2, name: 'native service API', sql: m002 },
  { version: 3, name: 'protection and retention', sql: m003 },
  { version: 4, name: 'scale-out workers', sql: m004 },
  { version: 5, name: 'notifications and schedules', sql: m005 },
  { version: 6, name: 'configuration stamp', sql: m006 },
  { version: 7, name: 'one status index', sql: m007 },
  { version: 8, name: 'no attempt state index', sql: m008 },
];
