// Assembles the core: store, intake, orchestrator and executor behind the Core interface.
import fs from 'node:fs';
import path from 'node:path';
import type { Core, CoreOptions, SubmissionForm, SubmitResult } from './api';
import { openDb } from './store/db';
import { RunRepo, type AcceptedSubmission } from './store/run-repo';
import { GroupWriter } from './store/writer';
import { ConfigCache } from './store/config-cache';
import * as config from './store/config-repo';
import { RunEvents } from './events';
import { DEFAULT_SETTINGS, RESTART_SETTINGS, type Settings } from './settings';
import { dataPaths } from './paths';
import { submitAa } from './intake/aa-intake';
import { submitNative, type StoredInput } from './intake/native-intake';
import { Orchestrator, type Executor } from './run/orchestrator';
import { LocalExecutor } from './queue/local';
import type { BullExecutor } from './queue/bullmq';
import { loadUnixCommands } from './plan/sanitise';
import { listValidators } from './validators';
import { AppError, notFound } from './errors';
import { isFinalStatus } from './model/types';
import type { PlanLookup } from './plan/plan';
import type { Plan } from './model/types';
import type { Job } from './model/types';
import { IntakeGuard, jobNamesOf } from './security/access';
import { ServicePolicies } from './security/service-policy';
import { killStrays } from './security/process-groups';
import { reconcileFiles, scheduleRetention } from './run/retention';
import { CallbackNotifier } from './notify/callbacks';
import { EmailNotifier } from './notify/email';
import { Scheduler } from './schedule/scheduler';

export type { Core, CoreOptions } from './api';

const SETTINGS_KEY = 'settings';

export interface CoreInternals extends Core {
  /** The BullMQ executor when the core runs in scale-out mode (a Redis URL was given), else null. */
  readonly scaleOut: BullExecutor | null;
  readonly runs: RunRepo;
  readonly lookup: PlanLookup & { job(name: string): Job | null };
  /** Completion callbacks of native API runs (the server lends it the run document builder). */
  readonly callbacks: CallbackNotifier;
  /** Completion email per batch (A_A). */
  readonly mail: EmailNotifier;
  /** Scheduled runs (A_A periodic jobs). */
  readonly schedules: Scheduler;
  /** Whether an attempt of the submission is still being handled (retention leaves such a run for later). */
  handling(submissionId: number): boolean;
}

export async function createCore(options: CoreOptions, executor?: Executor): Promise<CoreInternals> {
  const paths = dataPaths(options.dataDir);
  const db = openDb(paths.db, { nativeBinding: options.nativeBinding });
  config.syncValidatorTypes(
    db,
    listValidators().map((v) => v.name),
  );
  const stored = db.prepare('SELECT value FROM setting WHERE key = ?').get(SETTINGS_KEY) as { value: string } | undefined;
  let settings: Settings = { ...DEFAULT_SETTINGS, ...(stored ? (JSON.parse(stored.value) as Partial<Settings>) : {}), ...options.settings };

  const events = new RunEvents();
  const runs = new RunRepo(db);
  const writer = new GroupWriter(db, paths.db);
  const local = () => new LocalExecutor(options.launcherFile, settings.concurrency);
  // `--redis` wins over the setting saved in the app.
  const redisUrl = options.redis ?? settings.redis_url ?? undefined;
  // Loaded only in scale-out mode: BullMQ and ioredis add to every start otherwise.
  const exec =
    executor ??
    (redisUrl
      ? await (await import('./queue/bullmq')).BullExecutor.open(
          { url: redisUrl, localWorker: options.localWorker },
          { db, dataRoot: paths.root, events, local: local(), localConcurrency: settings.concurrency },
        )
      : local());
  const scaleOut = 'dispatchLimit' in exec ? (exec as BullExecutor) : null;
  const unixCommands = loadUnixCommands();
  const policies = new ServicePolicies(db);
  const guard = new IntakeGuard({ policies, settings: () => settings, unfinished: (job) => policies.unfinished(job), dataRoot: paths.root });
  // Intake looks up the same few jobs and tasks on every request: cache them until configuration changes.
  const cache = new ConfigCache(db);
  const lookup = {
    job: (name: string) => cache.get(`job:${name}`, () => config.getJob(db, name)),
    task: (name: string) => cache.get(`task:${name}`, () => config.getTask(db, name)),
    backend: (name: string) => cache.get(`backend:${name}`, () => config.getBackend(db, name)),
    queueType: (name: string) => cache.get(`queue:${name}`, () => config.listQueueTypes(db).find((q) => q.name === name) ?? null),
  };
  const orchestrator = new Orchestrator(
    {
      runs,
      writer,
      events,
      executor: exec,
      dataRoot: paths.root,
      filesRoot: paths.uploads,
      workRoot: paths.work,
      concurrency: () => (scaleOut ? scaleOut.dispatchLimit : settings.concurrency),
      outputCapBytes: () => settings.output_cap_bytes,
      deadlineFor: (job) => policies.get(job).deadline_s ?? settings.job_deadline_s,
    },
    { paused: options.paused },
  );
  const intakeDeps = {
    lookup,
    runs,
    writer,
    unixCommands,
    quotas: () => ({ hog: settings.queue_hog_size, hard: settings.queue_hard_limit }),
    filesRoot: paths.uploads,
    dataRoot: paths.root,
    onAccepted: (accepted: AcceptedSubmission[]) => orchestrator.accept(accepted),
  };
  // Uploads that were in flight when the process stopped were never accepted.
  for (const entry of fs.readdirSync(paths.tmp)) fs.rmSync(path.join(paths.tmp, entry), { recursive: true, force: true });
  // Uploads stream straight into their submission's folder; a folder without a row was never accepted.
  const known = new Set((db.prepare('SELECT uuid FROM submission').all() as Array<{ uuid: string }>).map((r) => r.uuid));
  for (const entry of fs.readdirSync(paths.uploads)) {
    if (!known.has(entry)) fs.rmSync(path.join(paths.uploads, entry), { recursive: true, force: true });
  }
  // Nothing of this store runs yet: whatever works in its attempt folders was left by a previous run of the server.
  killStrays(
    [paths.work],
    runs.unfinished().flatMap((s) => (JSON.parse(s.plan) as Plan).steps.filter((step) => step.root_path).map((step) => path.join(step.root_path, `${s.uuid}-`))),
  );
  await reconcileFiles({ db, paths, settings: () => settings });
  // Completion notices follow final states from here on, including those recovery settles.
  const callbacks = new CallbackNotifier({ db, events, runs, settings: () => settings });
  const mail = new EmailNotifier({ db, events, runs, settings: () => settings });
  callbacks.start();
  mail.start();
  await orchestrator.recover();
  const handling = (submissionId: number) => orchestrator.handling(submissionId);
  const retention = scheduleRetention({ db, paths, settings: () => settings, handling });

  const submissionOrThrow = (uuid: string) => {
    const sub = runs.submission(uuid);
    if (!sub) throw notFound();
    return sub;
  };

  const schedules = new Scheduler({ db, paths, submit: (form, opts) => core.submitAa(form, opts) });

  const core: CoreInternals = {
    db,
    paths,
    events,
    runs,
    scaleOut,
    lookup,
    callbacks,
    mail,
    schedules,
    settings: () => settings,
    handling,
    updateSettings(patch) {
      const next = { ...settings, ...patch };
      db.prepare('INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
        SETTINGS_KEY,
        JSON.stringify(next),
      );
      const restart = RESTART_SETTINGS.filter((k) => k in patch && patch[k] !== settings[k]);
      settings = next;
      orchestrator.kick(); // a higher concurrency applies at once
      return restart;
    },
    submitAa: (form: SubmissionForm, opts) =>
      guard.run({ jobs: jobNamesOf(form), uploadBytes: form.file?.size ?? 0 }, opts, () => submitAa(intakeDeps, form, opts)),
    submitNative: (request, opts) =>
      guard.run({ jobs: [request.job], uploadBytes: request.files.reduce((n, f) => n + f.size, 0) }, opts, () =>
        submitNative({ ...intakeDeps, db, tmpRoot: paths.tmp }, request, opts),
      ),
    async rerun(uuid: string): Promise<SubmitResult> {
      const sub = submissionOrThrow(uuid);
      const dir = fs.mkdtempSync(path.join(paths.tmp, 'rerun-'));
      const params = JSON.parse(sub.params) as Record<string, string>;
      const native = sub as typeof sub & { job_version: number | null; inputs: string | null };
      if (native.job_version !== null && native.job_version !== undefined) {
        // A native-API run: the same published version, typed values and named input files.
        try {
          const inputs = JSON.parse(native.inputs ?? '[]') as StoredInput[];
          const files = await Promise.all(
            inputs.map(async (input, i) => {
              const copy = path.join(dir, String(i), input.name);
              await fs.promises.mkdir(path.dirname(copy), { recursive: true });
              await fs.promises.copyFile(path.join(paths.root, input.path), copy);
              return { field: input.field, path: copy, originalName: input.name, size: input.size };
            }),
          );
          const fileFields = new Set(inputs.map((input) => input.field));
          const r = await core.submitNative(
            { job: sub.job_name, version: native.job_version, source: 'multipart', values: Object.entries(params).filter(([k]) => !fileFields.has(k)), files },
            { ip: sub.ip, admin: true },
          );
          return { batch_uuid: r.batch_uuid, submission_name: sub.submission_name, submissions: [{ uuid: r.uuid, job: r.job }] };
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
      const copy = path.join(dir, sub.input_name);
      await fs.promises.copyFile(path.join(paths.root, sub.input_path), copy);
      const form: SubmissionForm = {
        fields: [
          ['job', sub.job_name],
          ['submission_name', sub.submission_name],
          ['email', sub.email ?? ''],
          ...Object.entries(params),
        ],
        file: { field: 'input_data', path: copy, originalName: sub.input_name, size: sub.input_size },
      };
      try {
        return await submitAa(intakeDeps, form, { ip: sub.ip, admin: true });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    async cancel(uuid: string) {
      const sub = submissionOrThrow(uuid);
      if (isFinalStatus(sub.status)) return false;
      return orchestrator.cancel(sub.id);
    },
    async deleteRun(uuid: string) {
      const sub = submissionOrThrow(uuid);
      if (!isFinalStatus(sub.status)) await orchestrator.cancel(sub.id);
      // Attempts still being handled (killed by the cancel, or running beside a sibling that ended the run) record
      // their end and move their logs before the rows and files go.
      await orchestrator.settled(sub.id);
      await writer.write(() => runs.deleteSubmission(sub));
      await fs.promises.rm(path.join(paths.uploads, sub.uuid), { recursive: true, force: true });
      return true;
    },
    pause: () => orchestrator.pause(),
    resume: () => orchestrator.resume(),
    queueStats: () => ({ paused: orchestrator.isPaused(), concurrency: settings.concurrency, ...orchestrator.stats() }),
    waitFor(uuid: string, timeoutMs: number) {
      return new Promise<boolean>((resolve) => {
        const done = () => {
          const s = runs.submission(uuid);
          return !s || isFinalStatus(s.status);
        };
        if (done()) return resolve(true);
        const timer = setTimeout(() => {
          off();
          resolve(false);
        }, timeoutMs);
        const off = events.onRun((e) => {
          if (e.type === 'submission' && e.uuid === uuid && isFinalStatus(e.status)) {
            clearTimeout(timer);
            off();
            // The final state is committed before the event is emitted.
            resolve(true);
          }
        });
      });
    },
    async close() {
      await schedules.stop();
      retention.stop();
      // In scale-out mode in-flight steps stay in Redis for the next start, so there is nothing to wait for.
      await scaleOut?.detach();
      await orchestrator.close(scaleOut ? 0 : settings.shutdown_grace_ms);
      await Promise.all([callbacks.stop(), mail.stop()]);
      writer.close();
      await exec.close();
      db.close();
    },
  };
  schedules.start();
  return core;
}

export { AppError };
