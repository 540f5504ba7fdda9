// Completion email (A_A __handle_batch_email, reference §3.10): one mail per finished batch over SMTP, from an outbox in SQLite.
import type { Transporter } from 'nodemailer';
import type { Db } from '../store/db';
import { nowIso } from '../store/db';
import type { RunEvents } from '../events';
import type { RunRepo } from '../store/run-repo';
import type { Settings } from '../settings';
import { STATUS } from '../model/types';
import { backoffMs } from './callbacks';

const PASSWORD_KEY = 'smtp_password';

/** The address a submission carries when nobody is to be mailed (scheduled runs without one). */
export const NO_EMAIL = 'nobody@localhost';

/** Addresses at localhost are the workbench's own placeholders (`aa run` uses cli@localhost); they are never mailed. */
const mailable = (address: string): boolean => address.length > 5 && !/@localhost$/i.test(address);

export interface EmailRetry {
  /** Tries per mail, the first included. */
  attempts: number;
  /** Wait before the first retry, ms; doubling after. */
  firstDelayMs: number;
  maxDelayMs: number;
}

const DEFAULT_RETRY: EmailRetry = { attempts: 5, firstDelayMs: 30_000, maxDelayMs: 30 * 60_000 };

export interface EmailDeps {
  db: Db;
  events: RunEvents;
  runs: RunRepo;
  settings: () => Settings;
  retry?: Partial<EmailRetry>;
}

export interface OutboxEntry {
  id: number;
  batch_uuid: string;
  recipient: string;
  subject: string;
  state: 'pending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

/** A_A's subject: `<job name> : <EMAIL_SUBJECT_STRING>: <batch UUID>`. */
export function completionSubject(settings: Pick<Settings, 'email_subject'>, job: string, batchUuid: string): string {
  return `${job} : ${settings.email_subject}: ${batchUuid}`;
}

/** A_A's body: the message string and the batch UUID on success; the failure text with the last message otherwise. */
export function completionBody(settings: Pick<Settings, 'email_message'>, batchUuid: string, ok: boolean, lastMessage: string): string {
  if (ok) return `${settings.email_message}${batchUuid}`;
  return `Job ${batchUuid} has failed\n\nPlease contact the server administrator with the job ID and the following error message\n\n${lastMessage}`;
}

/** Sending is on when an SMTP host and a sender are set (A_A: DEFAULT_FROM_EMAIL set). */
export const emailEnabled = (s: Settings): boolean => s.smtp_host.trim() !== '' && s.email_from.trim() !== '';

/**
 * Owns completion email. When a run's final state leaves its batch Complete, Error or Crash, one mail for that batch
 * goes into the outbox (A_A could send several; the batch key keeps it to one) and is sent, retried a few times
 * if the SMTP server fails. A failure never affects the run.
 */
export class EmailNotifier {
  private readonly retry: EmailRetry;
  private timer: NodeJS.Timeout | null = null;
  private off: (() => void) | null = null;
  private sending: Promise<void> | null = null;
  private stopped = true;

  constructor(private readonly deps: EmailDeps) {
    this.retry = { ...DEFAULT_RETRY, ...deps.retry };
  }

  start(): void {
    this.stopped = false;
    this.off = this.deps.events.onRun((e) => {
      if (e.type === 'submission' && e.status >= STATUS.Complete) this.finished(e.uuid);
    });
    this.arm(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    this.off = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.sending?.catch(() => {});
  }

  /** Whether an SMTP password is stored (it is never shown). */
  hasPassword(): boolean {
    return this.password() !== '';
  }

  /** Stores the SMTP password; null or '' clears it. */
  setPassword(password: string | null): void {
    if (!password) this.deps.db.prepare('DELETE FROM setting WHERE key = ?').run(PASSWORD_KEY);
    else
      this.deps.db
        .prepare('INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
        .run(PASSWORD_KEY, JSON.stringify(password));
  }

  /** Sends one mail now with the current settings; rejects with the SMTP server's reason. */
  async sendTest(to: string): Promise<{ message_id: string; accepted: string[] }> {
    const settings = this.deps.settings();
    if (!emailEnabled(settings)) throw new Error('set an SMTP host and a sender address first');
    const info = await (await this.transport(settings)).sendMail({
      from: settings.email_from,
      to,
      subject: `${settings.email_subject}: test`,
      text: 'This is a test mail from the A_A Workbench: completion email works.',
    });
    return { message_id: String(info.messageId), accepted: (info.accepted as Array<string | { address: string }>).map((a) => (typeof a === 'string' ? a : a.address)) };
  }

  list(limit = 100): OutboxEntry[] {
    return this.deps.db
      .prepare(
        `SELECT o.id, b.uuid AS batch_uuid, o.recipient, o.subject, o.state, o.attempts, o.last_error, o.created_at, o.sent_at
         FROM email_outbox o JOIN batch b ON b.id = o.batch_id ORDER BY o.id DESC LIMIT ?`,
      )
      .all(Math.min(Math.max(limit, 1), 1000)) as OutboxEntry[];
  }

  private password(): string {
    const row = this.deps.db.prepare('SELECT value FROM setting WHERE key = ?').get(PASSWORD_KEY) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as string) : '';
  }

  private async transport(settings: Settings): Promise<Transporter> {
    const password = this.password();
    // Loaded on first use: most starts of the app never send mail.
    const nodemailer = await import('nodemailer');
    return nodemailer.createTransport({
      host: settings.smtp_host,
      port: settings.smtp_port,
      secure: settings.smtp_secure,
      ...(settings.smtp_user ? { auth: { user: settings.smtp_user, pass: password } } : {}),
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 30_000,
    });
  }

  private finished(uuid: string): void {
    const settings = this.deps.settings();
    if (!emailEnabled(settings)) return;
    const sub = this.deps.runs.submission(uuid);
    if (!sub) return;
    const email = (sub.email ?? '').trim();
    // A_A mails only addresses longer than five characters.
    if (!mailable(email)) return;
    const batch = this.deps.runs.batch(sub.batch_uuid);
    if (!batch || ![STATUS.Complete, STATUS.Error, STATUS.Crash].includes(batch.status as 2 | 3 | 4)) return;
    const job = sub.job_name;
    const inserted = this.deps.db
      .prepare(
        `INSERT OR IGNORE INTO email_outbox (batch_id, recipient, subject, body, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        batch.id,
        email,
        completionSubject(settings, job, batch.uuid),
        completionBody(settings, batch.uuid, batch.status === STATUS.Complete, sub.last_message),
        nowIso(),
        nowIso(),
      ).changes;
    if (inserted) this.arm(0);
  }

  private arm(delayMs: number | null = null): void {
    if (this.stopped) return;
    let delay = delayMs;
    if (delay === null) {
      const next = this.deps.db.prepare("SELECT MIN(next_attempt_at) AS at FROM email_outbox WHERE state = 'pending'").get() as { at: string | null };
      if (!next.at) return;
      delay = Math.max(0, Date.parse(next.at) - Date.now());
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), Math.min(delay, 2 ** 31 - 1));
    this.timer.unref();
  }

  /** Sends what is due, one mail at a time over one connection's worth of settings. */
  private async pump(): Promise<void> {
    this.timer = null;
    if (this.stopped || this.sending) return;
    const run = async () => {
      const settings = this.deps.settings();
      const due = this.deps.db
        .prepare("SELECT id, recipient, subject, body, attempts FROM email_outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT 50")
        .all(nowIso()) as Array<{ id: number; recipient: string; subject: string; body: string; attempts: number }>;
      if (due.length === 0) return;
      const transport = await this.transport(settings);
      try {
        for (const mail of due) {
          if (this.stopped) break;
          const attempt = mail.attempts + 1;
          try {
            await transport.sendMail({ from: settings.email_from, to: mail.recipient, subject: mail.subject, text: mail.body });
            this.deps.db
              .prepare("UPDATE email_outbox SET state = 'sent', attempts = ?, last_error = NULL, sent_at = ?, next_attempt_at = NULL WHERE id = ?")
              .run(attempt, nowIso(), mail.id);
          } catch (e) {
            const error = (e as Error).message;
            const failed = attempt >= this.retry.attempts;
            const next = failed ? null : new Date(Date.now() + backoffMs(attempt, this.retry.firstDelayMs, this.retry.maxDelayMs)).toISOString();
            this.deps.db
              .prepare('UPDATE email_outbox SET state = ?, attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?')
              .run(failed ? 'failed' : 'pending', attempt, error, next, mail.id);
            // As in A_A, a mail failure is only logged: the run is finished either way.
            console.warn(`completion email to ${mail.recipient} failed (try ${attempt}): ${error}`);
          }
        }
      } finally {
        transport.close();
      }
    };
    this.sending = run().finally(() => {
      this.sending = null;
      this.arm();
    });
    await this.sending;
  }
}
