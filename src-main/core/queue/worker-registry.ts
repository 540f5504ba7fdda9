// Worker tokens (created once, stored as sha256, revocable) and the registry of workers that announced themselves.
import crypto from 'node:crypto';
import type { Db } from '../store/db';
import { nowIso } from '../store/db';
import { AppError } from '../errors';
import type { WorkerHeartbeat, WorkerView } from './protocol';

export interface WorkerToken {
  id: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Tokens are long random secrets, so one unsalted sha256 is enough to make a stolen database useless. */
const hashOf = (token: string): string => crypto.createHash('sha256').update(token).digest('hex');

/** Create a worker token; the plaintext is returned here once and never stored. */
export function createWorkerToken(db: Db, name: string): { id: number; name: string; token: string } {
  const clean = name.trim();
  if (clean === '' || clean.length > 100) throw new AppError('Invalid', 'a worker token needs a name of 1 to 100 characters');
  const token = `aaw_${crypto.randomBytes(32).toString('base64url')}`;
  const id = Number(db.prepare('INSERT INTO worker_token (name, hash, created_at) VALUES (?, ?, ?)').run(clean, hashOf(token), nowIso()).lastInsertRowid);
  return { id, name: clean, token };
}

/** Revoke by id, or every live token with that name; returns how many were revoked. */
export function revokeWorkerToken(db: Db, idOrName: number | string): number {
  const now = nowIso();
  const r =
    typeof idOrName === 'number'
      ? db.prepare('UPDATE worker_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, idOrName)
      : db.prepare('UPDATE worker_token SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(now, idOrName);
  return r.changes;
}

export function listWorkerTokens(db: Db): WorkerToken[] {
  return db.prepare('SELECT id, name, created_at, last_used_at, revoked_at FROM worker_token ORDER BY id').all() as WorkerToken[];
}

/** The live token matching a presented secret, or null (unknown and revoked look the same to the caller). */
export function verifyWorkerToken(db: Db, token: string): { id: number; name: string } | null {
  if (!token.startsWith('aaw_')) return null;
  const row = db.prepare('SELECT id, name FROM worker_token WHERE hash = ? AND revoked_at IS NULL').get(hashOf(token)) as
    | { id: number; name: string }
    | undefined;
  return row ?? null;
}

/** Record a heartbeat (the first one registers the worker). */
export function recordHeartbeat(db: Db, tokenId: number | null, beat: WorkerHeartbeat): void {
  const now = nowIso();
  db.prepare(
    `INSERT INTO worker (id, token_id, host, queues, concurrency, running, completed, failed, version, started_at, last_seen_at, stopped_at)
     VALUES (@id, @token_id, @host, @queues, @concurrency, @running, @completed, @failed, @version, @now, @now, @stopped_at)
     ON CONFLICT(id) DO UPDATE SET token_id = excluded.token_id, host = excluded.host, queues = excluded.queues,
       concurrency = excluded.concurrency, running = excluded.running, completed = excluded.completed, failed = excluded.failed,
       version = excluded.version, last_seen_at = excluded.last_seen_at, stopped_at = excluded.stopped_at`,
  ).run({
    id: beat.id,
    token_id: tokenId,
    host: beat.host,
    queues: JSON.stringify(beat.queues),
    concurrency: beat.concurrency,
    running: beat.running,
    completed: beat.completed,
    failed: beat.failed,
    version: beat.version,
    now,
    stopped_at: beat.stopped ? now : null,
  });
  if (tokenId !== null) db.prepare('UPDATE worker_token SET last_used_at = ? WHERE id = ?').run(now, tokenId);
}

/** Heartbeats are sent this often unless the server says otherwise. */
export const DEFAULT_HEARTBEAT_MS = 5_000;

/**
 * Workers seen within `keepMs` (default a day), newest first. A worker is online while it has been heard from within
 * three heartbeats; its load is `running` of `concurrency`.
 */
export function listWorkers(db: Db, options: { heartbeatMs?: number; keepMs?: number; now?: number } = {}): WorkerView[] {
  const now = options.now ?? Date.now();
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const since = new Date(now - (options.keepMs ?? 24 * 3600_000)).toISOString();
  const rows = db
    .prepare(
      `SELECT w.*, t.name AS token_name FROM worker w LEFT JOIN worker_token t ON t.id = w.token_id
       WHERE w.last_seen_at >= ? ORDER BY w.stopped_at IS NOT NULL, w.last_seen_at DESC`,
    )
    .all(since) as Array<{
    id: string;
    host: string;
    queues: string;
    concurrency: number;
    running: number;
    completed: number;
    failed: number;
    version: string | null;
    started_at: string;
    last_seen_at: string;
    stopped_at: string | null;
    token_name: string | null;
  }>;
  return rows.map((r) => ({
    id: r.id,
    host: r.host,
    queues: JSON.parse(r.queues) as string[],
    concurrency: r.concurrency,
    running: r.stopped_at ? 0 : r.running,
    completed: r.completed,
    failed: r.failed,
    version: r.version,
    state: r.stopped_at ? 'stopped' : now - Date.parse(r.last_seen_at) <= 3 * heartbeatMs ? 'online' : 'offline',
    token: r.token_name,
    started_at: r.started_at,
    last_seen_at: r.last_seen_at,
  }));
}

/** This data dir's scale-out identity: its BullMQ prefix, so several workbenches may share one Redis. */
export function scaleOutId(db: Db): string {
  const key = 'scaleout.server_id';
  const row = db.prepare('SELECT value FROM setting WHERE key = ?').get(key) as { value: string } | undefined;
  if (row) return row.value;
  const id = crypto.randomBytes(6).toString('hex');
  db.prepare('INSERT OR IGNORE INTO setting (key, value) VALUES (?, ?)').run(key, id);
  return (db.prepare('SELECT value FROM setting WHERE key = ?').get(key) as { value: string }).value;
}
