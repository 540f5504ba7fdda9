// Workbench routes for completion notices: SMTP settings and a test mail, the callback secret, policy and deliveries.
import type { Request, Router } from 'express';
import type { CoreInternals } from '../../core';
import { AppError } from '../../core/errors';
import type { Settings } from '../../core/settings';
import { emailEnabled } from '../../core/notify/email';
import { SIGNATURE_HEADER, type DeliveryState } from '../../core/notify/callbacks';

type Problem = { path: string; message: string };

const objectBody = (req: Request): Record<string, unknown> => {
  if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) throw new AppError('Invalid', 'expected a JSON object body');
  return req.body as Record<string, unknown>;
};

function rejected(problems: Problem[]): AppError {
  return new AppError('Invalid', `${problems[0].path} ${problems[0].message}`, undefined, problems);
}

/** What the Notifications page shows. */
export function notifyView(core: CoreInternals) {
  const s = core.settings();
  return {
    email: {
      enabled: emailEnabled(s),
      smtp_host: s.smtp_host,
      smtp_port: s.smtp_port,
      smtp_secure: s.smtp_secure,
      smtp_user: s.smtp_user,
      password_set: core.mail.hasPassword(),
      email_from: s.email_from,
      email_subject: s.email_subject,
      email_message: s.email_message,
    },
    callbacks: {
      enabled: s.callbacks_enabled,
      services: s.callback_services,
      max_attempts: s.callback_max_attempts,
      backoff_ms: s.callback_backoff_ms,
      backoff_max_ms: s.callback_backoff_max_ms,
      timeout_ms: s.callback_timeout_ms,
      secret: core.callbacks.secret(),
      signature_header: SIGNATURE_HEADER,
    },
  };
}

const STRINGS = ['smtp_host', 'smtp_user', 'email_from', 'email_subject', 'email_message'] as const;
const INTEGERS: Array<{ key: keyof Settings; min: number; max: number }> = [
  { key: 'smtp_port', min: 1, max: 65535 },
  { key: 'callback_max_attempts', min: 1, max: 100 },
  { key: 'callback_backoff_ms', min: 10, max: 24 * 3600_000 },
  { key: 'callback_backoff_max_ms', min: 10, max: 7 * 24 * 3600_000 },
  { key: 'callback_timeout_ms', min: 100, max: 600_000 },
];
const BOOLEANS = ['smtp_secure', 'callbacks_enabled'] as const;

/** A checked patch of the notification settings; other keys are refused. */
export function parseNotifyPatch(body: Record<string, unknown>, allowed: ReadonlySet<string>): Partial<Settings> {
  const patch: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (!allowed.has(key)) problems.push({ path: key, message: 'unknown setting' });
    else if ((STRINGS as readonly string[]).includes(key)) {
      if (typeof value !== 'string') problems.push({ path: key, message: 'must be a string' });
      else if (key === 'email_from' && value.trim() !== '' && !/^[^\s@]+@[^\s@]+$/.test(value.trim()) && !/<[^\s@]+@[^\s@]+>$/.test(value.trim())) {
        problems.push({ path: key, message: 'must be an email address' });
      } else patch[key] = key === 'email_message' || key === 'email_subject' ? value : value.trim();
    } else if ((BOOLEANS as readonly string[]).includes(key)) {
      if (typeof value !== 'boolean') problems.push({ path: key, message: 'must be true or false' });
      else patch[key] = value;
    } else if (key === 'callback_services') {
      if (value !== null && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) problems.push({ path: key, message: 'must be null (every service) or a list of service names' });
      else patch[key] = value;
    } else {
      const rule = INTEGERS.find((r) => r.key === key);
      if (rule && (typeof value !== 'number' || !Number.isInteger(value) || value < rule.min || value > rule.max)) {
        problems.push({ path: key, message: `must be a whole number from ${rule.min} to ${rule.max}` });
      } else if (rule) patch[key] = value;
    }
  }
  if (problems.length) throw rejected(problems);
  return patch as Partial<Settings>;
}

const EMAIL_KEYS = new Set(['smtp_host', 'smtp_port', 'smtp_secure', 'smtp_user', 'email_from', 'email_subject', 'email_message', 'smtp_password']);
const CALLBACK_KEYS = new Set(['callbacks_enabled', 'callback_services', 'callback_max_attempts', 'callback_backoff_ms', 'callback_backoff_max_ms', 'callback_timeout_ms']);
const STATES: DeliveryState[] = ['waiting', 'pending', 'delivered', 'failed'];

/**
 * GET /notify, PUT /notify/email, POST /notify/email/test, GET /notify/email/outbox, PUT /notify/callbacks,
 * POST /notify/callbacks/secret, GET /notify/callbacks/deliveries, POST /notify/callbacks/deliveries/:id/retry.
 */
export function notifyRoutes(router: Router, core: CoreInternals): void {
  router.get('/notify', (_req, res) => {
    res.json(notifyView(core));
  });

  router.put('/notify/email', (req, res) => {
    const body = { ...objectBody(req) };
    const password = body.smtp_password;
    delete body.smtp_password;
    if (password !== undefined && password !== null && typeof password !== 'string') throw rejected([{ path: 'smtp_password', message: 'must be a string, or null to clear it' }]);
    const patch = parseNotifyPatch(body, EMAIL_KEYS);
    core.updateSettings(patch);
    // The password lives apart from the settings and is never sent back.
    if (password !== undefined) core.mail.setPassword(password as string | null);
    res.json(notifyView(core));
  });

  router.post('/notify/email/test', async (req, res) => {
    const to = objectBody(req).to;
    if (typeof to !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(to.trim())) throw rejected([{ path: 'to', message: 'must be an email address' }]);
    try {
      res.json({ sent: true, ...(await core.mail.sendTest(to.trim())) });
    } catch (error) {
      res.json({ sent: false, error: (error as Error).message });
    }
  });

  router.get('/notify/email/outbox', (req, res) => {
    res.json(core.mail.list(Number(req.query.limit ?? 100) || 100));
  });

  router.put('/notify/callbacks', (req, res) => {
    core.updateSettings(parseNotifyPatch(objectBody(req), CALLBACK_KEYS));
    res.json(notifyView(core));
  });

  router.post('/notify/callbacks/secret', (_req, res) => {
    core.callbacks.rotateSecret();
    res.json(notifyView(core).callbacks);
  });

  router.get('/notify/callbacks/deliveries', (req, res) => {
    const state = typeof req.query.state === 'string' ? req.query.state : undefined;
    if (state !== undefined && !STATES.includes(state as DeliveryState)) throw rejected([{ path: '?state', message: `must be one of ${STATES.join(', ')}` }]);
    res.json(core.callbacks.list({ state: state as DeliveryState | undefined, limit: Number(req.query.limit ?? 100) || 100 }));
  });

  router.post('/notify/callbacks/deliveries/:id/retry', (req, res) => {
    res.json(core.callbacks.retry(Number(req.params.id)));
  });
}
