// Completion callbacks: a signed POST of the final run document to the URL a client named, retried with backoff, kept in SQLite.
import crypto from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/db';
import { nowIso } from '../store/db';
import type { RunEvents } from '../events';
import type { RunRepo, SubmissionRow } from '../store/run-repo';
import type { Settings } from '../settings';
import { AppError, notFound } from '../errors';
import { isFinalStatus } from '../model/types';

/** Header carrying `sha256=<hex HMAC-SHA256 of the raw body>` under the server's callback secret. */
export const SIGNATURE_HEADER = 'X-AA-Signature';
const SECRET_KEY = 'callback_secret';
const MAX_URL_LENGTH = 2048;
/** Deliveries sent at once; the rest wait for the next turn. */
const IN_FLIGHT = 4;

export type DeliveryState = 'waiting' | 'pending' | 'delivered' | 'failed';

/** One callback as the workbench shows it. */
export interface CallbackDelivery {
  id: number;
  submission_uuid: string;
  job: string;
  url: string;
  /** waiting: the run has not finished; pending: to be sent (again); delivered; failed: gave up. */
  state: DeliveryState;
  attempts: number;
  next_attempt_at: string | null;
  /** HTTP status of the last try (null: no answer). */
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** Builds the document a callback carries: the run document of the native API, links under `apiBase`. */
export type DescribeRun = (sub: SubmissionRow, apiBase: string) => unknown;

export interface CallbackDeps {
  db: Db;
  events: RunEvents;
  runs: RunRepo;
  settings: () => Settings;
}

/** The request field naming a completion callback; it is the workbench's, never one of a service's own fields. */
export const CALLBACK_FIELD = 'callback_url';

/** Takes `callback_url` out of submitted values (the last one wins, as for any field); undefined when absent. */
export function takeCallbackUrl(request: { values: Array<[string, unknown]> }): unknown {
  let url: unknown;
  request.values = request.values.filter(([name, value]) => {
    if (name !== CALLBACK_FIELD) return true;
    url = value;
    return false;
  });
  return url;
}

/** `sha256=<hex>`: what a receiver recomputes over the raw body with the shared secret to trust a callback. */
export function signBody(secret: string, body: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Wait before try `attempt + 1` after `attempt` failed tries: doubling from `first`, at most `max`. */
export function backoffMs(attempt: number, first: number, max: number): number {
  return Math.min(max, first * 2 ** Math.max(0, attempt - 1));
}

interface Row {
  id: number;
  submission_id: number;
  url: string;
  api_base: string;
  state: DeliveryState;
  body: string | null;
  attempts: number;
}

/**
 * Owns callback deliveries. A callback is registered when a run is accepted (state waiting), gets its body when
 * the run reaches a final state (pending), and is tried until it is delivered or `callback_max_attempts` is used up.
 * Every step is a row in `callback`, so a restart picks up where the last process stopped.
 */
export class CallbackNotifier {
  private describe: DescribeRun | null = null;
  private timer: NodeJS.Timeout | null = null;
  private off: (() => void) | null = null;
  private readonly sending = new Map<number, Promise<void>>();
  private stopped = true;

  constructor(private readonly deps: CallbackDeps) {}

  /** Subscribes to final run states and resumes deliveries a previous process left. */
  start(): void {
    this.stopped = false;
    this.off = this.deps.events.onRun((e) => {
      if (e.type === 'submission' && isFinalStatus(e.status)) this.finished(e.uuid);
    });
    this.promoteFinished();
    this.arm(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    this.off = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.sending.values()]);
  }

  /** The host lends the document builder (the native API's); runs that finished before it was lent are picked up now. */
  describeWith(describe: DescribeRun): void {
    this.describe = describe;
    if (!this.stopped) {
      this.promoteFinished();
      this.arm(0);
    }
  }

  /** The callback URL as given, if this service may use callbacks and it is an http(s) URL; else Invalid/Forbidden. */
  check(job: string, url: unknown): string {
    const settings = this.deps.settings();
    if (!settings.callbacks_enabled || (settings.callback_services !== null && !settings.callback_services.includes(job))) {
      throw new AppError('Forbidden', `Service "${job}" does not accept callback_url.`, undefined, [
        { path: 'callback_url', message: 'completion callbacks are not enabled for this service' },
      ]);
    }
    const bad = (message: string) => new AppError('Invalid', `Invalid callback_url: ${message}.`, undefined, [{ path: 'callback_url', message }]);
    if (typeof url !== 'string' || url.trim() === '') throw bad('must be a URL');
    if (url.length > MAX_URL_LENGTH) throw bad(`must be at most ${MAX_URL_LENGTH} characters`);
    let parsed: URL;
    try {
      parsed = new URL(url.trim());
    } catch {
      throw bad('must be an absolute http:// or https:// URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw bad('must be an http:// or https:// URL');
    if (parsed.username || parsed.password) throw bad('must not carry a user name or password');
    return parsed.toString();
  }

  /** Remembers where to POST the final document of a run; `apiBase` roots the document's links (`http://host/api/v1`). */
  register(submissionUuid: string, url: string, apiBase: string): void {
    const sub = this.deps.runs.submission(submissionUuid);
    if (!sub) throw notFound(`No run with id "${submissionUuid}".`);
    this.deps.db
      .prepare(
        `INSERT INTO callback (submission_id, url, api_base, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(submission_id) DO UPDATE SET url = excluded.url, api_base = excluded.api_base`,
      )
      .run(sub.id, url, apiBase, nowIso());
    // A run may finish before its callback is registered (a fast job, or a wait=N submit).
    if (isFinalStatus(sub.status)) this.finished(sub.uuid);
  }

  /** The shared secret receivers verify signatures with; made on first use. */
  secret(): string {
    const row = this.deps.db.prepare('SELECT value FROM setting WHERE key = ?').get(SECRET_KEY) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as string) : this.rotateSecret();
  }

  /** A new secret; deliveries sent from now on are signed with it. */
  rotateSecret(): string {
    const secret = crypto.randomBytes(32).toString('base64url');
    this.deps.db
      .prepare('INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(SECRET_KEY, JSON.stringify(secret));
    return secret;
  }

  list(options: { state?: DeliveryState; limit?: number } = {}): CallbackDelivery[] {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    return this.deps.db
      .prepare(
        `SELECT c.id, s.uuid AS submission_uuid, s.job_name AS job, c.url, c.state, c.attempts, c.next_attempt_at,
           c.last_status, c.last_error, c.created_at, c.delivered_at
         FROM callback c JOIN submission s ON s.id = c.submission_id
         ${options.state ? 'WHERE c.state = ?' : ''} ORDER BY c.id DESC LIMIT ?`,
      )
      .all(...(options.state ? [options.state, limit] : [limit])) as CallbackDelivery[];
  }

  /** Sends a delivery that gave up (or is waiting out a backoff) again now, with a fresh allowance of tries. */
  retry(id: number): CallbackDelivery {
    const changed = this.deps.db
      .prepare("UPDATE callback SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND state IN ('failed', 'pending')")
      .run(nowIso(), id).changes;
    const row = this.list({ limit: 1000 }).find((d) => d.id === id);
    if (!row) throw notFound(`No callback delivery ${id}.`);
    if (changed === 0) throw new AppError('Conflict', `Callback delivery ${id} is ${row.state}.`);
    this.arm(0);
    return row;
  }

  /** A run reached its final state: its callback, if any, gets the final document and is due now. */
  /** Every run's end asks, so the question is prepared once and the run is read only when it has a callback. */
  private waitingOf: Statement | null = null;

  private finished(uuid: string): void {
    if (!this.describe) return;
    this.waitingOf ??= this.deps.db.prepare(
      "SELECT c.id, c.api_base FROM callback c JOIN submission s ON s.id = c.submission_id WHERE s.uuid = ? AND c.state = 'waiting'",
    );
    const row = this.waitingOf.get(uuid) as { id: number; api_base: string } | undefined;
    if (!row) return;
    const sub = this.deps.runs.submission(uuid);
    if (!sub) return;
    // The body is fixed now, so every retry sends (and signs) the same bytes.
    const body = JSON.stringify(this.describe(sub, row.api_base));
    this.deps.db.prepare("UPDATE callback SET state = 'pending', body = ?, next_attempt_at = ? WHERE id = ?").run(body, nowIso(), row.id);
    this.arm(0);
  }

  private promoteFinished(): void {
    const waiting = this.deps.db
      .prepare("SELECT s.uuid FROM callback c JOIN submission s ON s.id = c.submission_id WHERE c.state = 'waiting' AND s.status >= 2")
      .all() as Array<{ uuid: string }>;
    for (const w of waiting) this.finished(w.uuid);
  }

  /** One timer for the earliest due delivery. */
  private arm(delayMs: number | null = null): void {
    if (this.stopped) return;
    let delay = delayMs;
    if (delay === null) {
      const next = this.deps.db.prepare("SELECT MIN(next_attempt_at) AS at FROM callback WHERE state = 'pending'").get() as { at: string | null };
      if (!next.at) return;
      delay = Math.max(0, Date.parse(next.at) - Date.now());
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), Math.min(delay, 2 ** 31 - 1));
    this.timer.unref();
  }

  private pump(): void {
    this.timer = null;
    if (this.stopped) return;
    const free = IN_FLIGHT - this.sending.size;
    if (free > 0) {
      const due = this.deps.db
        .prepare("SELECT id, submission_id, url, api_base, state, body, attempts FROM callback WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?")
        .all(nowIso(), free + this.sending.size) as Row[];
      for (const row of due) {
        if (this.sending.has(row.id) || this.sending.size >= IN_FLIGHT) continue;
        const sending = this.send(row).finally(() => {
          this.sending.delete(row.id);
          this.arm();
        });
        this.sending.set(row.id, sending);
      }
    }
    this.arm();
  }

  private async send(row: Row): Promise<void> {
    const settings = this.deps.settings();
    const body = row.body ?? '{}';
    const attempt = row.attempts + 1;
    // Not due again while this try is out; should the process stop meanwhile, the next one retries after it.
    const busyUntil = new Date(Date.now() + settings.callback_timeout_ms + 1000).toISOString();
    this.deps.db.prepare('UPDATE callback SET next_attempt_at = ? WHERE id = ?').run(busyUntil, row.id);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(row.url, {
        method: 'POST',
        body,
        // A redirect is not followed: the client named this URL, not wherever it points.
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.callback_timeout_ms),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'aa-workbench',
          [SIGNATURE_HEADER]: signBody(this.secret(), body),
          'X-AA-Delivery': String(row.id),
          'X-AA-Attempt': String(attempt),
        },
      });
      status = response.status;
      await response.body?.cancel().catch(() => {});
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      error = err.name === 'TimeoutError' ? `no answer within ${settings.callback_timeout_ms} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
    }
    const now = nowIso();
    if (error === null) {
      this.deps.db
        .prepare("UPDATE callback SET state = 'delivered', attempts = ?, last_status = ?, last_error = NULL, delivered_at = ?, next_attempt_at = NULL WHERE id = ?")
        .run(attempt, status, now, row.id);
    } else if (attempt >= settings.callback_max_attempts) {
      this.deps.db
        .prepare("UPDATE callback SET state = 'failed', attempts = ?, last_status = ?, last_error = ?, next_attempt_at = NULL WHERE id = ?")
        .run(attempt, status, error, row.id);
    } else {
      const next = new Date(Date.now() + backoffMs(attempt, settings.callback_backoff_ms, settings.callback_backoff_max_ms)).toISOString();
      this.deps.db
        .prepare('UPDATE callback SET attempts = ?, last_status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?')
        .run(attempt, status, error, next, row.id);
    }
  }
}
