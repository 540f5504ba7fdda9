// Completion notices: SMTP for A_A's completion email (with a test mail), signed completion callbacks and their deliveries.
import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { CallbackDelivery, CallbackSettingsPatch, EmailSettingsPatch, NotifyView } from '../../api/types';
import { toast } from '../../app/toasts';
import { ConfirmDialog, ErrorNote, Switch } from '../../components/ui';
import { SettingRow as Field } from './SettingRow';

type EmailDraft = Omit<NotifyView['email'], 'enabled' | 'password_set'>;
type CallbackDraft = { enabled: boolean; services: string; max_attempts: number; backoff_s: number; backoff_max_s: number; timeout_s: number };

const emailDraft = (v: NotifyView): EmailDraft => {
  const { enabled: _enabled, password_set: _set, ...rest } = v.email;
  return rest;
};
const callbackDraft = (v: NotifyView): CallbackDraft => ({
  enabled: v.callbacks.enabled,
  services: v.callbacks.services?.join(', ') ?? '',
  max_attempts: v.callbacks.max_attempts,
  backoff_s: v.callbacks.backoff_ms / 1000,
  backoff_max_s: v.callbacks.backoff_max_ms / 1000,
  timeout_s: v.callbacks.timeout_ms / 1000,
});

/** Only what the analyst changed, so a save never rewrites the rest. */
function emailPatch(saved: EmailDraft, draft: EmailDraft, password: string): EmailSettingsPatch {
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(draft) as Array<keyof EmailDraft>) if (draft[key] !== saved[key]) patch[key] = draft[key];
  if (password !== '') patch.smtp_password = password;
  return patch as EmailSettingsPatch;
}

function callbackPatch(d: CallbackDraft): CallbackSettingsPatch {
  const names = d.services
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    callbacks_enabled: d.enabled,
    callback_services: names.length ? names : null,
    callback_max_attempts: d.max_attempts,
    callback_backoff_ms: Math.round(d.backoff_s * 1000),
    callback_backoff_max_ms: Math.round(d.backoff_max_s * 1000),
    callback_timeout_ms: Math.round(d.timeout_s * 1000),
  };
}


export function NotificationsSection() {
  const [view, setView] = useState<NotifyView | null>(null);
  const [email, setEmail] = useState<EmailDraft | null>(null);
  const [password, setPassword] = useState('');
  const [callbacks, setCallbacks] = useState<CallbackDraft | null>(null);
  const [deliveries, setDeliveries] = useState<CallbackDelivery[]>([]);
  const [testTo, setTestTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [rotating, setRotating] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const adopt = (v: NotifyView) => {
    setView(v);
    setEmail(emailDraft(v));
    setCallbacks(callbackDraft(v));
    setPassword('');
  };
  const refreshDeliveries = () => api.deliveries().then(setDeliveries, (e: Error) => setError(e.message));
  useEffect(() => {
    api.notify().then(adopt, (e: Error) => setError(e.message));
    void refreshDeliveries();
  }, []);

  const act = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await what();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  /** A section's Save: sends it, shows the settings as the server now has them, says so. */
  const save = (send: () => Promise<NotifyView>, saved: string) => () =>
    void act(async () => {
      adopt(await send());
      toast('ok', saved);
    });

  if (!view || !email || !callbacks) {
    return (
      <section className="card settings-section" aria-label="Notifications">
        <h2>Notifications</h2>
        <ErrorNote message={error} onClose={() => setError(null)} />
        {!error && <p className="muted">Loading…</p>}
      </section>
    );
  }
  const setE = (patch: Partial<EmailDraft>) => setEmail({ ...email, ...patch });
  const setC = (patch: Partial<CallbackDraft>) => setCallbacks({ ...callbacks, ...patch });
  const emailChanged = Object.keys(emailPatch(emailDraft(view), email, password)).length > 0;
  const callbacksChanged = JSON.stringify(callbacks) !== JSON.stringify(callbackDraft(view));

  return (
    <section className="card settings-section" aria-label="Notifications">
      <h2>Notifications</h2>
      <ErrorNote message={error} onClose={() => setError(null)} />

      <h3 className="sub-head">Completion email</h3>
      <p className="muted small" data-testid="email-state">
        {view.email.enabled
          ? 'On: each A_A batch mails its submitter when it ends.'
          : 'Off: set an SMTP server and a sender address to mail submitters when their batch ends.'}
      </p>
      <Field label="SMTP server">
        {(id) => <input id={id} className="mono" value={email.smtp_host} placeholder="smtp.example.org" onChange={(e) => setE({ smtp_host: e.target.value })} />}
      </Field>
      <Field label="Port">
        {(id) => <input id={id} type="number" min={1} max={65535} value={email.smtp_port} onChange={(e) => setE({ smtp_port: Number(e.target.value) })} />}
      </Field>
      <Field label="TLS from the start" hint="On for port 465; off lets the server upgrade with STARTTLS.">
        {(id) => <input id={id} type="checkbox" checked={email.smtp_secure} onChange={(e) => setE({ smtp_secure: e.target.checked })} />}
      </Field>
      <Field label="User">
        {(id) => <input id={id} value={email.smtp_user} autoComplete="off" onChange={(e) => setE({ smtp_user: e.target.value })} />}
      </Field>
      <Field label="Password" hint="Kept apart from the settings and never shown again.">
        {(id) => (
          <>
            <input
              id={id}
              type="password"
              autoComplete="new-password"
              value={password}
              placeholder={view.email.password_set ? 'set (type to replace)' : 'not set'}
              onChange={(e) => setPassword(e.target.value)}
            />
            {view.email.password_set && (
              <button type="button" className="btn small ghost" disabled={busy} onClick={() => void act(async () => adopt(await api.saveEmail({ smtp_password: null })))}>
                Clear
              </button>
            )}
          </>
        )}
      </Field>
      <Field label="Sender">
        {(id) => <input id={id} className="wide-input" value={email.email_from} placeholder="Workbench <noreply@example.org>" onChange={(e) => setE({ email_from: e.target.value })} />}
      </Field>
      <Field label="Subject">
        {(id) => <input id={id} className="wide-input" value={email.email_subject} onChange={(e) => setE({ email_subject: e.target.value })} />}
      </Field>
      <Field label="Message">
        {(id) => <textarea id={id} rows={3} className="wide-input" value={email.email_message} onChange={(e) => setE({ email_message: e.target.value })} />}
      </Field>
      <div className="save-bar">
        <button
          type="button"
          className="btn primary"
          disabled={!emailChanged || busy}
          onClick={save(() => api.saveEmail(emailPatch(emailDraft(view), email, password)), 'Email settings saved')}
        >
          Save email settings
        </button>
        <input aria-label="Test address" type="email" value={testTo} placeholder="you@example.org" onChange={(e) => setTestTo(e.target.value)} />
        <button
          type="button"
          className="btn"
          disabled={!testTo.trim() || busy || !view.email.enabled}
          title={view.email.enabled ? undefined : 'Save an SMTP server and sender first'}
          onClick={() =>
            void act(async () => {
              const r = await api.testEmail(testTo.trim());
              if (r.sent) toast('ok', `Test mail sent to ${testTo.trim()}`);
              else toast('error', `The test mail failed: ${r.error ?? 'no reason given'}`);
            })
          }
        >
          Send test mail
        </button>
      </div>

      <h3 className="sub-head">Completion callbacks</h3>
      <p className="muted small">
        Native API clients may name a <code>callback_url</code>; when their run ends it gets the run document by POST, signed with the secret below
        in the <code>{view.callbacks.signature_header}</code> header (HMAC-SHA256 of the body), and retried with backoff until it answers 2xx.
      </p>
      <Field label="Send callbacks">
        {(id) => <Switch label="Send completion callbacks" checked={callbacks.enabled} onChange={(on) => setC({ enabled: on })} />}
      </Field>
      <Field label="Services" hint="Comma-separated names; empty: every service.">
        {(id) => <input id={id} className="wide-input" value={callbacks.services} placeholder="every service" onChange={(e) => setC({ services: e.target.value })} />}
      </Field>
      <Field label="Tries at most">
        {(id) => <input id={id} type="number" min={1} max={100} value={callbacks.max_attempts} onChange={(e) => setC({ max_attempts: Number(e.target.value) })} />}
      </Field>
      <Field label="First retry after (s)" hint="Doubles with each try.">
        {(id) => <input id={id} type="number" min={0.01} step="any" value={callbacks.backoff_s} onChange={(e) => setC({ backoff_s: Number(e.target.value) })} />}
      </Field>
      <Field label="Longest wait (s)">
        {(id) => <input id={id} type="number" min={0.01} step="any" value={callbacks.backoff_max_s} onChange={(e) => setC({ backoff_max_s: Number(e.target.value) })} />}
      </Field>
      <Field label="Answer within (s)">
        {(id) => <input id={id} type="number" min={0.1} step="any" value={callbacks.timeout_s} onChange={(e) => setC({ timeout_s: Number(e.target.value) })} />}
      </Field>
      <Field label="Signing secret">
        {(id) => (
          <>
            <code className="mono" data-testid="callback-secret">
              {view.callbacks.secret}
            </code>
            <button type="button" className="btn small" disabled={busy} onClick={() => setRotating(true)}>
              Rotate
            </button>
          </>
        )}
      </Field>
      <div className="save-bar">
        <button
          type="button"
          className="btn primary"
          disabled={!callbacksChanged || busy}
          onClick={save(() => api.saveCallbacks(callbackPatch(callbacks)), 'Callback settings saved')}
        >
          Save callback settings
        </button>
      </div>
      {rotating && (
        <ConfirmDialog
          title="Rotate the signing secret?"
          confirm="Rotate"
          onClose={() => setRotating(false)}
          onConfirm={() =>
            act(async () => {
              const callbacksView = await api.rotateCallbackSecret();
              setView({ ...view, callbacks: callbacksView });
              setRotating(false);
              toast('ok', 'New signing secret in use');
            })
          }
        >
          Receivers that check signatures refuse callbacks signed with the new secret until they are given it.
        </ConfirmDialog>
      )}

      <h3 className="sub-head">Recent deliveries</h3>
      {deliveries.length === 0 ? (
        <p className="muted small">No callbacks yet.</p>
      ) : (
        <table className="edit-table" aria-label="Callback deliveries">
          <thead>
            <tr>
              <th>Run</th>
              <th>URL</th>
              <th>State</th>
              <th>Tries</th>
              <th>Last answer</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr key={d.id}>
                <td>
                  <a href={`#/runs/${d.submission_uuid}`}>{d.job}</a>
                </td>
                <td className="mono">{d.url}</td>
                <td>{d.state}</td>
                <td>{d.attempts}</td>
                <td>{d.last_status ?? d.last_error ?? '–'}</td>
                <td className="row-actions">
                  {(d.state === 'failed' || d.state === 'pending') && (
                    <button
                      type="button"
                      className="btn small"
                      disabled={busy}
                      onClick={() =>
                        void act(async () => {
                          await api.retryDelivery(d.id);
                          await refreshDeliveries();
                        })
                      }
                    >
                      Send again
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
