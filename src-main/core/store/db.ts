// Opens the SQLite store (WAL), applies migrations and seeds a fresh store.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { MIGRATIONS } from './migrations';
import { EXECUTION_BEHAVIOURS } from '../model/types';

export type Db = Database.Database;

export interface OpenOptions {
  /** Path to a better-sqlite3 native binding (keeps the Node build for headless mode). */
  nativeBinding?: string;
}

/** A_A's four queue types, plus the script interpreters this workbench adds. */
const SEED_QUEUE_TYPES: Array<[string, number]> = [
  ['localhost', EXECUTION_BEHAVIOURS.localhost],
  ['GridEngine', EXECUTION_BEHAVIOURS.GridEngine],
  ['R', EXECUTION_BEHAVIOURS.R],
  ['Python', EXECUTION_BEHAVIOURS.Python],
  ['bash', EXECUTION_BEHAVIOURS.bash],
  ['node', EXECUTION_BEHAVIOURS.node],
];

export const DEFAULT_BACKEND = 'local';

export function openDb(file: string, options: OpenOptions = {}): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
  db.pragma('journal_mode = WAL');
  // FULL for one-off writers (CLI import); the engine's GroupWriter switches to NORMAL plus its own WAL fsync.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migration').all() as Array<{ version: number }>).map((r) => r.version),
  );
  const fresh = applied.size === 0;
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migration (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
    })();
  }
  if (fresh) seed(db);
}

function seed(db: Db): void {
  db.transaction(() => {
    const qt = db.prepare('INSERT OR IGNORE INTO queue_type (name, execution_behaviour) VALUES (?, ?)');
    for (const [name, behaviour] of SEED_QUEUE_TYPES) qt.run(name, behaviour);
    db.prepare(
      "INSERT OR IGNORE INTO backend (name, queue_type_id, root_path) VALUES (?, (SELECT id FROM queue_type WHERE name = 'localhost'), '')",
    ).run(DEFAULT_BACKEND);
  })();
}

export const nowIso = (): string => new Date().toISOString();
