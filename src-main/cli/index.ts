// The `aa` command line: serve | worker | import | export | run. Parsing with commander; each command calls the core.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { createCore, type CoreInternals } from '../core';
import { defaultDataDir } from '../core/paths';
import { openDb } from '../core/store/db';
import { getJob, syncValidatorTypes } from '../core/store/config-repo';
import { exportJobCwl, exportTaskCwl, importCwl } from '../core/cwl';
import { listValidators } from '../core/validators';
import { importConfig, exportConfig } from '../core/config';
import { startServer } from '../server/app';
import { readRuntimeFile } from '../core/security/runtime-file';
import { WORKER_DEFAULTS } from '../core/queue/protocol';
import { nativeSpawnerFile } from '../../src-worker/exec/native-spawn';
import { createWorkerToken, revokeWorkerToken } from '../core/queue/worker-registry';
import { AppError } from '../core/errors';
import { STATUS_LABELS, STATUS } from '../core/model/types';

// More thread-pool threads let concurrent upload fsyncs share journal commits. libuv reads the size once, when its pool
// first starts: set it, start the pool, and take the setting back, so that launchers and the tasks they start (whose
// environment is this process's) do not inherit it. A size the user set is left as it is, and inherited.
if (!process.env.UV_THREADPOOL_SIZE) {
  process.env.UV_THREADPOOL_SIZE = '16';
  fs.access(__filename, () => undefined);
  delete process.env.UV_THREADPOOL_SIZE;
}

/** Built files sit beside this entry: out/main/{cli,worker}.js and out/renderer/; the spawn addon in native/. */
export const BUILD_PATHS = {
  launcherFile: path.join(__dirname, 'launcher.js'),
  uiDir: path.join(__dirname, '..', 'renderer'),
  spawnerFile: nativeSpawnerFile(__dirname),
};

const dataDirOption = () => new Option('--data-dir <dir>', 'data folder (default: $AA_DATA_DIR or the per-user app-data folder)');
const resolveDataDir = (dir?: string) => path.resolve(dir ?? defaultDataDir());

export function buildProgram(): Command {
  const program = new Command('aa')
    .description('A_A Workbench: publish analysis pipelines as web services')
    .showHelpAfterError('(run aa --help for usage)')
    .exitOverride();

  program
    .command('serve')
    .description('run the headless server: REST API, workbench UI, worker pool and store')
    .option('--host <host>', 'address to bind (default: the host setting, 127.0.0.1 unless LAN publishing is on)')
    .option('--port <port>', 'port to bind (0 picks a free port)', '8610')
    .addOption(dataDirOption())
    .option('--paused', 'start with the queue paused: submissions are stored, nothing starts until resumed')
    .option('--concurrency <n>', 'concurrent task attempts (default: CPU count)')
    .option('--redis <url>', 'scale-out: dispatch steps through BullMQ on this Redis (redis://HOST:6379) to `aa worker` machines')
    .option('--no-local-worker', 'scale-out: run no steps on this machine, only on workers')
    .action(async (opts: { host?: string; port: string; dataDir?: string; paused?: boolean; concurrency?: string; redis?: string; localWorker: boolean }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CommanderError(2, 'aa.badPort', `error: invalid --port "${opts.port}"`);
      const concurrency = opts.concurrency === undefined ? undefined : Number(opts.concurrency);
      if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
        throw new CommanderError(2, 'aa.badConcurrency', `error: invalid --concurrency "${opts.concurrency}"`);
      }
      await serve({ host: opts.host, port, dataDir: resolveDataDir(opts.dataDir), paused: !!opts.paused, concurrency, redis: opts.redis, localWorker: opts.localWorker });
    });

  program
    .command('worker')
    .description('run steps on this machine for a server in scale-out mode (aa serve --redis ...)')
    .option('--server <url>', 'the workbench server, e.g. http://lab-pc:8610')
    .option('--token <token>', 'a worker token created in the app (default: $AA_WORKER_TOKEN)')
    .option('--queues <list>', 'queue types to serve, comma-separated', WORKER_DEFAULTS.queues.join(','))
    .option('--concurrency <n>', 'steps at once from each queue (default: CPU count)')
    .option('--redis <url>', 'Redis URL to use instead of the one the server hands out')
    .option('--work-dir <dir>', 'parent folder of the per-step temporary folders', os.tmpdir())
    .option('--transfer-tries <n>', 'tries per file transfer before the step fails', String(WORKER_DEFAULTS.transferTries))
    .option('--new-token <name>', 'on the server machine: create a worker token, print it once, and exit')
    .option('--revoke-token <name>', 'on the server machine: revoke the worker tokens with this name, and exit')
    .addOption(dataDirOption())
    .action(async (opts: WorkerCliOptions) => {
      process.exitCode = await worker(opts);
    });

  program
    .command('import')
    .description('import a configuration (native YAML/JSON, or an A_A dump), or CWL files (tools and the workflows that run them); all-or-nothing')
    .argument('<files...>', 'one configuration file, or one or more .cwl files')
    .option('--runnable', 'jobs made from CWL workflows accept submissions at once')
    .addOption(dataDirOption())
    .action(async (files: string[], opts: { dataDir?: string; runnable?: boolean }) => {
      const cwl = files.every((f) => f.toLowerCase().endsWith('.cwl'));
      if (!cwl && files.length > 1) throw new AppError('Invalid', 'import one configuration file at a time (several files only for .cwl)');
      const db = openStore(opts.dataDir);
      try {
        const summary = cwl
          ? await importCwl(
              db,
              files.map((f) => ({ name: path.basename(f), text: fs.readFileSync(f, 'utf8') })),
              { runnable: opts.runnable },
            )
          : importConfig(db, fs.readFileSync(files[0], 'utf8'));
        const fmt = (r: Record<string, number>) =>
          Object.entries(r)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none';
        const kind = summary.kind === 'aa-fixture' ? 'A_A dump' : summary.kind === 'cwl' ? 'CWL' : 'configuration';
        console.log(`Imported ${kind} from ${files.join(', ')}`);
        console.log(`  created: ${fmt(summary.created)}`);
        console.log(`  updated: ${fmt(summary.updated)}`);
        if (Object.keys(summary.skipped).length > 0) console.log(`  skipped: ${fmt(summary.skipped)}`);
        if ('notes' in summary) for (const note of (summary as { notes: string[] }).notes) console.log(`  note: ${note}`);
      } finally {
        db.close();
      }
    });

  program
    .command('export')
    .description('export the configuration as YAML (or JSON when FILE ends in .json), or one Job or Task as CWL v1.2; stdout when FILE is omitted')
    .argument('[file]', 'output file')
    .option('--cwl <name>', 'write this Job (a packed workflow with its tools) or Task (a CommandLineTool) as CWL')
    .addOption(dataDirOption())
    .action(async (file: string | undefined, opts: { dataDir?: string; cwl?: string }) => {
      const db = openStore(opts.dataDir);
      try {
        const text = opts.cwl
          ? (getJob(db, opts.cwl) ? await exportJobCwl(db, opts.cwl) : await exportTaskCwl(db, opts.cwl)).text
          : exportConfig(db, file?.endsWith('.json') ? 'json' : 'yaml');
        if (file) fs.writeFileSync(file, text);
        else process.stdout.write(text);
      } finally {
        db.close();
      }
    });

  program
    .command('run')
    .description('submit INPUT to JOB locally, wait, print the state and result files; exit 1 on failure')
    .argument('<job>', 'job name')
    .argument('<input>', 'input file')
    .option('--param <field=value...>', 'parameter value by REST field name, e.g. --param task1_this=12', collect, [])
    .option('--name <name>', 'submission name', 'cli')
    .option('--timeout <seconds>', 'give up waiting after this long', '3600')
    .addOption(dataDirOption())
    .action(async (job: string, input: string, opts: { param: string[]; name: string; timeout: string; dataDir?: string }) => {
      process.exitCode = await runLocal(job, input, opts.param, opts.name, Number(opts.timeout), resolveDataDir(opts.dataDir));
    });

  program
    .command('cancel')
    .description('cancel a submission: queued steps never start, running ones are killed; asks the running server if there is one')
    .argument('<uuid>', 'submission UUID')
    .addOption(dataDirOption())
    .action(async (uuid: string, opts: { dataDir?: string }) => {
      process.exitCode = await cancelRun(uuid, resolveDataDir(opts.dataDir));
    });

  return program;
}

/** A live server owns its store and processes, so it is asked; without one the store is opened (queue paused). */
async function cancelRun(uuid: string, dataDir: string): Promise<number> {
  const live = readRuntimeFile(dataDir);
  if (live) {
    const res = await fetch(`${live.url}/api/admin/runs/${encodeURIComponent(uuid)}/cancel`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${live.token}` },
    });
    const text = await res.text();
    if (!res.ok) {
      console.error(res.status === 404 ? `error: no submission ${uuid}` : `error: the server answered ${res.status}: ${text}`);
      return 1;
    }
    console.log((JSON.parse(text) as { cancelled: boolean }).cancelled ? `Cancelled ${uuid}` : `${uuid} had already finished; nothing to cancel`);
    return 0;
  }
  const core = await createCore({ dataDir, launcherFile: BUILD_PATHS.launcherFile, paused: true });
  try {
    const sub = core.runs.submission(uuid);
    if (!sub) {
      console.error(`error: no submission ${uuid}`);
      return 1;
    }
    const cancelled = await core.cancel(uuid);
    console.log(cancelled ? `Cancelled ${uuid}` : `${uuid} had already finished (${STATUS_LABELS[sub.status]}); nothing to cancel`);
    return 0;
  } finally {
    await core.close();
  }
}

interface WorkerCliOptions {
  server?: string;
  token?: string;
  queues: string;
  concurrency?: string;
  redis?: string;
  workDir: string;
  transferTries: string;
  newToken?: string;
  revokeToken?: string;
  dataDir?: string;
}

async function worker(opts: WorkerCliOptions): Promise<number> {
  if (opts.newToken !== undefined || opts.revokeToken !== undefined) {
    const db = openStore(opts.dataDir);
    try {
      if (opts.newToken !== undefined) {
        const created = createWorkerToken(db, opts.newToken);
        console.log(`Worker token "${created.name}" (shown once; store it on the worker machine):`);
        console.log(created.token);
      } else {
        const n = revokeWorkerToken(db, opts.revokeToken as string);
        console.log(n > 0 ? `Revoked ${n} worker token(s) named "${opts.revokeToken}"` : `No live worker token named "${opts.revokeToken}"`);
        if (n === 0) return 1;
      }
      return 0;
    } finally {
      db.close();
    }
  }
  const token = opts.token ?? process.env.AA_WORKER_TOKEN;
  if (!opts.server || !token) throw new CommanderError(2, 'aa.workerArgs', 'error: aa worker needs --server URL and --token TOKEN (or $AA_WORKER_TOKEN)');
  const concurrency = opts.concurrency === undefined ? WORKER_DEFAULTS.concurrency : Number(opts.concurrency);
  const tries = Number(opts.transferTries);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new CommanderError(2, 'aa.badConcurrency', `error: invalid --concurrency "${opts.concurrency}"`);
  if (!Number.isInteger(tries) || tries < 1) throw new CommanderError(2, 'aa.badTries', `error: invalid --transfer-tries "${opts.transferTries}"`);
  const queues = opts.queues.split(',').map((q) => q.trim()).filter(Boolean);
  // Loaded here only: BullMQ and ioredis would add to the start of every other command.
  const { workerCommand } = await import('./worker');
  return workerCommand({
    server: opts.server,
    token,
    queues,
    concurrency,
    redis: opts.redis,
    workDir: opts.workDir,
    transferTries: tries,
    spawnerFile: BUILD_PATHS.spawnerFile,
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(/\s+/).filter(Boolean)];
}

function openStore(dir?: string) {
  const dataDir = resolveDataDir(dir);
  fs.mkdirSync(dataDir, { recursive: true });
  const db = openDb(path.join(dataDir, 'workbench.sqlite'));
  syncValidatorTypes(
    db,
    listValidators().map((v) => v.name),
  );
  return db;
}

export async function serve(opts: { host?: string; port: number; dataDir: string; paused: boolean; concurrency?: number; redis?: string; localWorker?: boolean }): Promise<void> {
  const core = await createCore({
    dataDir: opts.dataDir,
    launcherFile: BUILD_PATHS.launcherFile,
    paused: opts.paused,
    redis: opts.redis,
    localWorker: opts.localWorker,
    settings: opts.concurrency ? { concurrency: opts.concurrency } : undefined,
  });
  // The host setting follows the LAN publishing switch (the workbench sets 0.0.0.0 when it is turned on).
  const host = opts.host ?? core.settings().host;
  const running = await startServer(core, { host, port: opts.port, uiDir: BUILD_PATHS.uiDir });
  console.log(`A_A Workbench serving data dir ${opts.dataDir}`);
  if (!/^(127\.|::1$|localhost$)/.test(host)) {
    console.log(
      core.settings().lan_publish
        ? 'Published on the LAN: every service call needs an API key, except services marked public.'
        : `Listening on ${host}, but LAN publishing is off: other computers get 403 until it is turned on in the workbench.`,
    );
  }
  console.log(`Workbench: ${running.workbenchUrl}`);
  console.log(`A_A-compatible API: ${running.url}/analytics_automated/`);
  if (opts.redis) console.log(`Scale-out: steps go through Redis ${opts.redis}; add machines with \`aa worker --server ${running.url} --token TOKEN\``);
  if (opts.paused) console.log('Queue paused: submissions are stored; resume from the workbench (Settings) or POST /api/admin/queue/resume.');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('Stopping: no new submissions; waiting for running steps…');
    // Intake and scheduling stop first; requests in flight and running steps then get the grace period.
    core.pause();
    await running.close(core.settings().shutdown_grace_ms);
    await core.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

async function runLocal(job: string, input: string, params: string[], name: string, timeoutS: number, dataDir: string): Promise<number> {
  if (!fs.existsSync(input)) {
    console.error(`error: input file not found: ${input}`);
    return 2;
  }
  const fields: Array<[string, string]> = [
    ['job', job],
    ['submission_name', name],
    ['email', 'cli@localhost'],
  ];
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq <= 0) {
      console.error(`error: --param expects field=value, got "${p}"`);
      return 2;
    }
    fields.push([p.slice(0, eq), p.slice(eq + 1)]);
  }
  const core: CoreInternals = await createCore({ dataDir, launcherFile: BUILD_PATHS.launcherFile });
  try {
    const tmp = fs.mkdtempSync(path.join(core.paths.tmp, 'cli-'));
    const copy = path.join(tmp, path.basename(input));
    fs.copyFileSync(input, copy);
    let result;
    try {
      result = await core.submitAa(
        { fields, file: { field: 'input_data', path: copy, originalName: path.basename(input), size: fs.statSync(copy).size } },
        { ip: '127.0.0.1', admin: true },
      );
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    let failed = false;
    for (const s of result.submissions) {
      const finished = await core.waitFor(s.uuid, timeoutS * 1000);
      const sub = core.runs.submission(s.uuid);
      if (!sub) continue;
      console.log(`${sub.job_name} ${sub.uuid}: ${STATUS_LABELS[sub.status]} (${sub.last_message})${finished ? '' : ' — still running, gave up waiting'}`);
      for (const r of core.runs.results(sub.id)) console.log(`  ${path.join(core.paths.root, r.path)}`);
      if (!finished || sub.status !== STATUS.Complete) failed = true;
    }
    return failed ? 1 : 0;
  } catch (error) {
    console.error(`error: ${describe(error)}`);
    return 1;
  } finally {
    await core.close();
  }
}

function describe(error: unknown): string {
  if (error instanceof AppError) {
    const body = error.body as { error?: unknown } | undefined;
    const detail = body?.error ?? error.message;
    const lines = [typeof detail === 'string' ? detail : JSON.stringify(detail)];
    for (const p of error.problems ?? []) lines.push(`  ${p.path}: ${p.message}`);
    return lines.join('\n');
  }
  return (error as Error).message ?? String(error);
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') process.exit(0);
      if (error.code.startsWith('aa.')) console.error(error.message);
      process.exit(2);
    }
    console.error(`error: ${describe(error)}`);
    process.exit(1);
  }
}

if (require.main === module) void main(process.argv);
