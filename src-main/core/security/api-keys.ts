// API keys for the published services: created (shown once), listed, revoked; stored only as a SHA-256 hash.
import crypto from 'node:crypto';
import type { Db } from '../store/db';
import { nowIso } from '../store/db';
import { AppError } from '../errors';

/** What the workbench shows about a key; the secret itself is never stored. */
export interface ApiKeyInfo {
  id: number;
  name: string;
  /** The key's public part (`aak_<prefix>_…`), enough to tell keys apart in logs and lists. */
  prefix: string;
  /** Services (Job names) the key may call; null: every service. */
  services: string[] | null;
  /** This key's own request quota; null: the `key_requests_per_minute` setting. */
  requests_per_minute: number | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface NewApiKey {
  name: string;
  services?: string[] | null;
  requests_per_minute?: number | null;
}

interface KeyRow {
  id: number;
  name: string;
  prefix: string;
  hash: string;
  services: string | null;
  requests_per_minute: number | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

// 8 hex characters of lookup prefix and 192 random bits of secret. Keys carry their own entropy,
// so a fast hash is enough: there is nothing to brute-force that a slow hash would protect.
const KEY_PATTERN = /^aak_([0-9a-f]{8})_([A-Za-z0-9_-]{32})$/;
/** How often a key's last-used time is written at most, so a busy key does not cost a write per request. */
const LAST_USED_EVERY_MS = 60_000;

const hashOf = (key: string): string => crypto.createHash('sha256').update(key).digest('hex');

const infoOf = (row: KeyRow): ApiKeyInfo => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  services: row.services === null ? null : (JSON.parse(row.services) as string[]),
  requests_per_minute: row.requests_per_minute,
  created_at: row.created_at,
  last_used_at: row.last_used_at,
  revoked_at: row.revoked_at,
});

/** Checks a new key's fields; the problems name the field, as the workbench forms do. */
export function checkNewKey(input: unknown): NewApiKey {
  if (!input || typeof input !== 'object') throw new AppError('Invalid', 'expected a JSON object body');
  const body = input as Record<string, unknown>;
  const problems: Array<{ path: string; message: string }> = [];
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  if (!name) problems.push({ path: 'name', message: 'the key needs a name' });
  else if (name.length > 100) problems.push({ path: 'name', message: 'must be at most 100 characters' });
  let services: string[] | null = null;
  if (body.services !== undefined && body.services !== null) {
    if (!Array.isArray(body.services) || body.services.some((s) => typeof s !== 'string' || s.trim() === '')) {
      problems.push({ path: 'services', message: 'must be a list of service names, or null for every service' });
    } else services = [...new Set((body.services as string[]).map((s) => s.trim()))];
  }
  let rpm: number | null = null;
  if (body.requests_per_minute !== undefined && body.requests_per_minute !== null) {
    const n = body.requests_per_minute;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) problems.push({ path: 'requests_per_minute', message: 'must be a whole number of at least 1' });
    else rpm = n;
  }
  for (const key of Object.keys(body)) {
    if (!['name', 'services', 'requests_per_minute'].includes(key)) problems.push({ path: key, message: 'unknown field' });
  }
  if (problems.length > 0) throw new AppError('Invalid', `${problems[0].path} ${problems[0].message}`, undefined, problems);
  return { name, services, requests_per_minute: rpm };
}

export class ApiKeys {
  private readonly s;
  private readonly lastUsedWritten = new Map<number, number>();

  constructor(private readonly db: Db) {
    this.s = {
      insert: db.prepare(
        'INSERT INTO api_key (name, prefix, hash, services, requests_per_minute, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      byId: db.prepare('SELECT * FROM api_key WHERE id = ?'),
      byPrefix: db.prepare('SELECT * FROM api_key WHERE prefix = ?'),
      list: db.prepare('SELECT * FROM api_key ORDER BY revoked_at IS NOT NULL, id DESC'),
      revoke: db.prepare('UPDATE api_key SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      touch: db.prepare('UPDATE api_key SET last_used_at = ? WHERE id = ?'),
    };
  }

  /** Creates a key; the returned `key` is the only time its secret is seen. */
  create(input: NewApiKey): { key: string; info: ApiKeyInfo } {
    for (;;) {
      const prefix = crypto.randomBytes(4).toString('hex');
      const key = `aak_${prefix}_${crypto.randomBytes(24).toString('base64url')}`;
      try {
        const id = Number(
          this.s.insert.run(
            input.name,
            prefix,
            hashOf(key),
            input.services ? JSON.stringify(input.services) : null,
            input.requests_per_minute ?? null,
            nowIso(),
          ).lastInsertRowid,
        );
        return { key, info: infoOf(this.s.byId.get(id) as KeyRow) };
      } catch (error) {
        // A prefix collision (1 in 4 billion per key) just draws again.
        if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw error;
      }
    }
  }

  list(): ApiKeyInfo[] {
    return (this.s.list.all() as KeyRow[]).map(infoOf);
  }

  get(id: number): ApiKeyInfo | null {
    const row = this.s.byId.get(id) as KeyRow | undefined;
    return row ? infoOf(row) : null;
  }

  /** Revoking is permanent; the row stays so lists and logs can still name the key. */
  revoke(id: number): boolean {
    return this.s.revoke.run(nowIso(), id).changes > 0;
  }

  /** The key a presented secret belongs to, or null when it is unknown, malformed or revoked. */
  verify(presented: string): ApiKeyInfo | null {
    const m = KEY_PATTERN.exec(presented);
    if (!m) return null;
    const row = this.s.byPrefix.get(m[1]) as KeyRow | undefined;
    if (!row || row.revoked_at) return null;
    const a = Buffer.from(hashOf(presented), 'hex');
    const b = Buffer.from(row.hash, 'hex');
    if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return null;
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(row.id) ?? 0) >= LAST_USED_EVERY_MS) {
      this.lastUsedWritten.set(row.id, now);
      this.s.touch.run(new Date(now).toISOString(), row.id);
    }
    return infoOf(row);
  }
}
