// Retention and storage: which finished runs go (by age, count, bytes; global and per service), removing their rows
// and files together, the start-up reconciliation of files without rows, and the storage gauge.
import fs from 'node:fs';
import path from 'node:path';
import type { DataPaths } from '../api';
import type { Db } from '../store/db';
import { nowIso } from '../store/db';
import type { Settings } from '../settings';
import { RunRepo } from '../store/run-repo';
import { ServicePolicies } from '../security/service-policy';
import { freeBytes } from '../security/access';

/** What retention needs of the core. */
export interface RetentionHost {
  db: Db;
  paths: DataPaths;
  settings(): Settings;
  /**
   * Whether an attempt of the run is still being handled: a run ended by one step while a sibling still runs, or a
   * killed attempt still recording its end. Such a run is left to a later sweep, which would otherwise remove its
   * folder while the attempt writes its logs there.
   */
  handling?(submissionId: number): boolean;
}

export interface RetentionLimits {
  days: number | null;
  count: number | null;
  bytes: number | null;
}

/** One finished run as retention sees it. */
export interface FinishedRun {
  id: number;
  batch_id: number;
  uuid: string;
  job_name: string;
  /** ms timestamp the run ended. */
  ended: number;
  /** Bytes its files take on disk. */
  bytes: number;
}

export interface SweepReport {
  at: string;
  removed: number;
  freed_bytes: number;
  duration_ms: number;
}

/** A run that just ended is never removed by retention, so a client that saw Complete can still fetch its results. */
export const RETENTION_GRACE_MS = 60_000;
const DAY_MS = 86_400_000;
const LAST_SWEEP_KEY = 'retention_last_sweep';
/** Runs measured or removed between two turns of the event loop, so a large sweep never holds the server up. */
const BATCH = 200;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

const hasLimit = (l: RetentionLimits): boolean => l.days !== null || l.count !== null || l.bytes !== null;

/**
 * Pure: the ids of finished runs to remove. `runs` is newest first. Each set of limits keeps the newest runs
 * that fit all of them; a run goes when the global limits or its own service's limits leave it out.
 */
export function selectForRemoval(runs: FinishedRun[], global: RetentionLimits, perService: Map<string, RetentionLimits>, now: number): Set<number> {
  const remove = new Set<number>();
  const apply = (list: FinishedRun[], limits: RetentionLimits) => {
    let kept = 0;
    let bytes = 0;
    let full = false;
    for (const run of list) {
      if (now - run.ended < RETENTION_GRACE_MS) {
        kept += 1;
        bytes += run.bytes;
        continue;
      }
      const old = limits.days !== null && now - run.ended > limits.days * DAY_MS;
      const over = full || (limits.count !== null && kept >= limits.count) || (limits.bytes !== null && bytes + run.bytes > limits.bytes);
      // Once one run does not fit the count or bytes budget, no older run does either: oldest go first.
      if (over) full = true;
      if (old || over) {
        remove.add(run.id);
        continue;
      }
      kept += 1;
      bytes += run.bytes;
    }
  };
  if (hasLimit(global)) apply(runs, global);
  for (const [job, limits] of perService) {
    if (hasLimit(limits)) apply(runs.filter((r) => r.job_name === job), limits);
  }
  return remove;
}

// Sizes of finished runs do not change, so each is measured once per store.
const sizeCache = new WeakMap<Db, Map<string, number>>();
const sweeping = new WeakMap<Db, Promise<SweepReport>>();

/** Removes the finished runs the limits leave out (rows, then files), then checkpoints the WAL. */
export function sweepRetention(host: RetentionHost, now = Date.now()): Promise<SweepReport> {
  // A manual sweep while the scheduled one runs joins it rather than deleting the same runs twice.
  const running = sweeping.get(host.db);
  if (running) return running;
  const sweep = doSweep(host, now).finally(() => sweeping.delete(host.db));
  sweeping.set(host.db, sweep);
  return sweep;
}

async function doSweep(host: RetentionHost, now: number): Promise<SweepReport> {
  const t0 = Date.now();
  const { db, paths } = host;
  const s = host.settings();
  const sizes = sizeCache.get(db) ?? new Map<string, number>();
  sizeCache.set(db, sizes);
  const rows = db
    .prepare(
      `SELECT id, batch_id, uuid, job_name, COALESCE(finished_at, modified_at) AS ended FROM submission
       WHERE status >= 2 ORDER BY ended DESC, id DESC`,
    )
    .all() as Array<{ id: number; batch_id: number; uuid: string; job_name: string; ended: string }>;
  const perService = new Map<string, RetentionLimits>();
  for (const p of new ServicePolicies(db).list()) perService.set(p.job_name, { days: p.retain_days, count: p.retain_count, bytes: p.retain_bytes });
  const measure = s.retain_bytes !== null || [...perService.values()].some((l) => l.bytes !== null);
  const runs: FinishedRun[] = [];
  let measured = 0;
  for (const r of rows) {
    let bytes = 0;
    if (measure) {
      bytes = sizes.get(r.uuid) ?? -1;
      if (bytes < 0) {
        bytes = diskUsage(path.join(paths.uploads, r.uuid));
        sizes.set(r.uuid, bytes);
        if (++measured % BATCH === 0) await nextTurn();
      }
    }
    runs.push({ id: r.id, batch_id: r.batch_id, uuid: r.uuid, job_name: r.job_name, ended: Date.parse(r.ended), bytes });
  }
  const ids = selectForRemoval(runs, { days: s.retain_days, count: s.retain_count, bytes: s.retain_bytes }, perService, now);
  const doomed = runs.filter((r) => ids.has(r.id) && !host.handling?.(r.id));
  let freed = 0;
  const repo = new RunRepo(db);
  for (let i = 0; i < doomed.length; i += BATCH) {
    const batch = doomed.slice(i, i + BATCH);
    // Rows first: a run whose rows are gone is unreachable at once; files left by a crash are reconciled at start-up.
    db.transaction(() => {
      for (const r of batch) repo.deleteSubmission(r);
    })();
    // Synchronous on purpose: a run's folder holds a handful of small files, and under load every await of a busy
    // event loop costs far more than the calls themselves.
    for (const r of batch) {
      const dir = path.join(paths.uploads, r.uuid);
      freed += sizes.get(r.uuid) ?? diskUsage(dir);
      sizes.delete(r.uuid);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await nextTurn();
  }
  const report: SweepReport = { at: nowIso(), removed: doomed.length, freed_bytes: freed, duration_ms: Date.now() - t0 };
  db.prepare('INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
    LAST_SWEEP_KEY,
    JSON.stringify(report),
  );
  // Last, so the log starts empty again: the WAL never grows without bound between automatic checkpoints.
  db.pragma('wal_checkpoint(TRUNCATE)');
  return report;
}

export function lastSweep(db: Db): SweepReport | null {
  const row = db.prepare('SELECT value FROM setting WHERE key = ?').get(LAST_SWEEP_KEY) as { value: string } | undefined;
  return row ? (JSON.parse(row.value) as SweepReport) : null;
}

/** Sweeps shortly after start, then every `retention_interval_s` (read each time, so a change applies). */
export function scheduleRetention(host: RetentionHost, onError: (error: unknown) => void = (e) => console.error('retention sweep failed:', e)): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      void sweepRetention(host)
        .catch(onError)
        .finally(() => next(Math.max(1, host.settings().retention_interval_s) * 1000));
    }, ms);
    timer.unref();
  };
  next(5_000);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * Bytes the files under `dir` take, each inode once (results, logs and the inputs of one batch share inodes through
 * hard links); `seen` carries the inodes across calls.
 */
export function diskUsage(dir: string, seen = new Set<number>()): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += diskUsage(p, seen);
    else {
      try {
        const st = fs.lstatSync(p);
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
        total += st.size;
      } catch {
        // Removed meanwhile.
      }
    }
  }
  return total;
}

/** `diskUsage` of a folder of many run folders, a batch of them per turn of the event loop. */
async function folderUsage(root: string): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return 0;
  }
  for (let i = 0; i < names.length; i++) {
    total += diskUsage(path.join(root, names[i]), seen);
    if ((i + 1) % BATCH === 0) await nextTurn();
  }
  return total;
}

/**
 * Start-up reconciliation, before recovery: files no row points at are what a stop left half-done (an intake
 * whose commit never happened, results moved into place by an attempt that never recorded them, logs of it,
 * working folders of runs that ended). Removes them. Returns how many files and folders went.
 */
export async function reconcileFiles(host: RetentionHost): Promise<number> {
  const { db, paths } = host;
  const subs = db.prepare('SELECT id, uuid, status, input_path FROM submission').all() as Array<{ id: number; uuid: string; status: number; input_path: string }>;
  const byUuid = new Map(subs.map((s) => [s.uuid, s]));
  const referenced = (subId: number, input: string): Set<string> => {
    const refs = new Set<string>([input]);
    for (const r of db.prepare('SELECT path FROM result WHERE submission_id = ?').all(subId) as Array<{ path: string }>) refs.add(r.path);
    const logs = db.prepare('SELECT stdout_path, stderr_path FROM attempt WHERE submission_id = ?').all(subId) as Array<{ stdout_path: string | null; stderr_path: string | null }>;
    for (const a of logs) {
      if (a.stdout_path) refs.add(a.stdout_path);
      if (a.stderr_path) refs.add(a.stderr_path);
    }
    return refs;
  };
  let removed = 0;
  for (const name of await fs.promises.readdir(paths.uploads)) {
    const dir = path.join(paths.uploads, name);
    const sub = byUuid.get(name);
    if (!sub) {
      await fs.promises.rm(dir, { recursive: true, force: true });
      removed += 1;
      continue;
    }
    // Finished runs were complete when they ended; only unfinished ones can hold strays.
    if (sub.status >= 2) continue;
    const refs = referenced(sub.id, sub.input_path);
    // Results sit in the folder itself, logs in logs/ (and in out/ in stores from before that); native inputs in in/.
    for (const sub_dir of ['', 'out', 'logs']) {
      const d = path.join(dir, sub_dir);
      let files: fs.Dirent[];
      try {
        files = await fs.promises.readdir(d, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of files) {
        const f = entry.name;
        if (sub_dir === '' && entry.isDirectory()) continue;
        const rel = path.relative(paths.root, path.join(d, f));
        if (refs.has(rel)) continue;
        await fs.promises.rm(path.join(d, f), { recursive: true, force: true });
        removed += 1;
      }
    }
  }
  for (const name of await fs.promises.readdir(paths.work)) {
    // Attempt folders are named <submission uuid>-<step>-<attempt>.
    const sub = byUuid.get(name.slice(0, 36));
    if (sub && sub.status < 2) continue;
    await fs.promises.rm(path.join(paths.work, name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

export interface StorageGauge {
  /** The SQLite file, its write-ahead log and shared-memory file. */
  db_bytes: number;
  wal_bytes: number;
  /** Inputs, results and logs under submissions/. */
  files_bytes: number;
  /** Working folders of running attempts and uploads in flight. */
  work_bytes: number;
  /** Free for this process on the data disk, and the disk's size; null where the platform cannot tell. */
  free_bytes: number | null;
  disk_bytes: number | null;
  counts: {
    batches: number;
    submissions: number;
    unfinished: number;
    attempts: number;
    results: number;
    messages: number;
  };
  retention: { retain_days: number | null; retain_count: number | null; retain_bytes: number | null; interval_s: number };
  last_sweep: SweepReport | null;
}

export async function storageGauge(host: RetentionHost): Promise<StorageGauge> {
  const { db, paths } = host;
  const size = (f: string) => {
    try {
      return fs.statSync(f).size;
    } catch {
      return 0;
    }
  };
  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const s = host.settings();
  let disk: number | null = null;
  try {
    const st = fs.statfsSync(paths.root);
    disk = st.blocks * st.bsize;
  } catch {
    disk = null;
  }
  const files = await folderUsage(paths.uploads);
  const work = await folderUsage(paths.work);
  const tmp = await folderUsage(paths.tmp);
  return {
    db_bytes: size(paths.db),
    wal_bytes: size(`${paths.db}-wal`) + size(`${paths.db}-shm`),
    files_bytes: files,
    work_bytes: work + tmp,
    free_bytes: freeBytes(paths.root),
    disk_bytes: disk,
    counts: {
      batches: count('batch'),
      submissions: count('submission'),
      unfinished: (db.prepare('SELECT COUNT(*) AS n FROM submission WHERE status <= 1').get() as { n: number }).n,
      attempts: count('attempt'),
      results: count('result'),
      messages: count('message'),
    },
    retention: { retain_days: s.retain_days, retain_count: s.retain_count, retain_bytes: s.retain_bytes, interval_s: s.retention_interval_s },
    last_sweep: lastSweep(db),
  };
}
