// Access: who may call the published services — LAN publishing, API keys, public services, limits per service, browser origins
// and request limits.
import { useEffect, useId, useState } from 'react';
import type { ApiKeyInfo, NewApiKey, SecurityView, ServicePolicy } from '../../api/types';
import { toast } from '../../app/toasts';
import { Dialog, Empty, ErrorNote, SecretBox, Switch, ConfirmDialog } from '../../components/ui';
import { formatAgo, formatTime } from '../../components/format';
import { accessStore, keyScope, parseOrigins, restartNeeded, useAccess } from './store';
import { ServiceLimits } from './ServiceLimits';

function Publishing({ security }: { security: SecurityView }) {
  const listening = useAccess((s) => s.listening);
  const [saving, setSaving] = useState(false);
  const toggle = async (on: boolean) => {
    setSaving(true);
    if (await accessStore.getState().saveSecurity({ lan_publish: on })) toast('ok', on ? 'Services are published on the local network' : 'Services are on this computer only');
    setSaving(false);
  };
  return (
    <section className="card section-card">
      <div className="setting-row first">
        <div className="setting-label">
          <span>Publish on the local network</span>
          <div className="hint">
            Off: only this computer may call your services, without a key. On: the server listens on every address, callers need an API key
            (public services excepted) and per-client request limits apply. The workbench itself always stays on this computer.
          </div>
        </div>
        <div className="setting-control">
          <Switch label="Publish on the local network" checked={security.lan_publish} disabled={saving} onChange={(on) => void toggle(on)} />
          <span className={security.lan_publish ? 'on-label' : 'muted'} data-testid="lan-state">
            {security.lan_publish ? 'On the LAN, keys required' : 'This computer only'}
          </span>
        </div>
      </div>
      {restartNeeded(security, listening) && (
        <div className="banner" role="status">
          Restart the workbench to listen on <strong>{security.host}</strong>; until then it listens on {listening?.host}:{listening?.port}.
        </div>
      )}
    </section>
  );
}

function NewKeyForm({ services }: { services: string[] }) {
  const [name, setName] = useState('');
  const [all, setAll] = useState(true);
  const [picked, setPicked] = useState<string[]>([]);
  const [rpm, setRpm] = useState('');
  const [saving, setSaving] = useState(false);
  const nameId = useId();
  const rpmId = useId();
  const valid = name.trim() !== '' && (all || picked.length > 0);
  const submit = async () => {
    const input: NewApiKey = { name: name.trim(), services: all ? null : picked, requests_per_minute: rpm === '' ? null : Number(rpm) };
    setSaving(true);
    if (await accessStore.getState().createKey(input)) {
      setName('');
      setAll(true);
      setPicked([]);
      setRpm('');
    }
    setSaving(false);
  };
  return (
    <form
      className="key-form"
      aria-label="New API key"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) void submit();
      }}
    >
      <div className="field">
        <label htmlFor={nameId}>Name</label>
        <input id={nameId} value={name} maxLength={100} placeholder="who uses it, e.g. lab website" onChange={(e) => setName(e.target.value)} autoComplete="off" />
      </div>
      <fieldset className="field scope">
        <legend>May call</legend>
        <div className="scope-choice">
          <label className="radio">
            <input type="radio" name="key-scope" checked={all} onChange={() => setAll(true)} /> every service
          </label>
          <label className="radio">
            <input type="radio" name="key-scope" checked={!all} onChange={() => setAll(false)} /> only:
          </label>
          {!all &&
            (services.length === 0 ? (
              <span className="muted small">no services yet</span>
            ) : (
              services.map((s) => (
                <label key={s} className="check">
                  <input
                    type="checkbox"
                    aria-label={`Key may call ${s}`}
                    checked={picked.includes(s)}
                    onChange={(e) => setPicked(e.target.checked ? [...picked, s] : picked.filter((p) => p !== s))}
                  />
                  {s}
                </label>
              ))
            ))}
        </div>
      </fieldset>
      <div className="field rpm">
        <label htmlFor={rpmId}>Requests a minute</label>
        <input id={rpmId} type="number" min={1} value={rpm} placeholder="default" onChange={(e) => setRpm(e.target.value)} />
      </div>
      <button type="submit" className="btn primary" disabled={!valid || saving}>
        Create key
      </button>
    </form>
  );
}

function KeysTable({ keys, onRevoke }: { keys: ApiKeyInfo[]; onRevoke: (k: ApiKeyInfo) => void }) {
  const busy = useAccess((s) => s.busy);
  if (keys.length === 0) return <Empty title="No API keys yet">Create one for each client that calls your services from another machine.</Empty>;
  return (
    <div className="table-wrap">
      <table className="runs-table" data-testid="api-keys">
        <thead>
          <tr>
            <th>Name</th>
            <th>Key</th>
            <th>May call</th>
            <th className="num">Per minute</th>
            <th>Created</th>
            <th>Last used</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} data-key={k.name} className={k.revoked_at ? 'revoked' : ''}>
              <td>
                <strong>{k.name}</strong>
              </td>
              <td className="mono nowrap">aak_{k.prefix}_…</td>
              <td className="ellipsis" title={keyScope(k)}>
                {k.services === null ? <span className="muted">every service</span> : keyScope(k)}
              </td>
              <td className="num">{k.requests_per_minute ?? <span className="muted">default</span>}</td>
              <td title={k.created_at}>{formatTime(k.created_at)}</td>
              <td title={k.last_used_at ?? ''}>{k.last_used_at ? formatAgo(k.last_used_at) : <span className="muted">never</span>}</td>
              <td>{k.revoked_at ? <span className="badge state-cancelled">revoked</span> : <span className="badge state-complete">live</span>}</td>
              <td className="row-actions">
                {!k.revoked_at && (
                  <button type="button" className="btn small danger ghost" disabled={busy.includes(k.id)} onClick={() => onRevoke(k)} aria-label={`Revoke key ${k.name}`}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CreatedKeyDialog() {
  const created = useAccess((s) => s.created);
  if (!created) return null;
  const close = () => accessStore.getState().dismissCreated();
  return (
    <Dialog
      title={`API key “${created.name}”`}
      wide
      onClose={close}
      actions={
        <button type="button" className="btn primary" onClick={close}>
          Done
        </button>
      }
    >
      <p className="note">This is the only time the key is shown: only its hash is kept. Copy it now; if it is lost, revoke it and create another.</p>
      <SecretBox label="API key" value={created.key} testId="new-api-key" />
      <p className="small">
        Clients send it as <code>X-API-Key: {created.key.slice(0, 13)}…</code> or <code>Authorization: Bearer …</code>. It may call{' '}
        {keyScope(created)}.
      </p>
    </Dialog>
  );
}

function PublicServices({ policies }: { policies: ServicePolicy[] }) {
  const busy = useAccess((s) => s.busy);
  if (policies.length === 0) return <p className="muted small">No jobs yet.</p>;
  return (
    <table className="runs-table" data-testid="service-policies">
      <thead>
        <tr>
          <th>Service</th>
          <th>Without a key</th>
        </tr>
      </thead>
      <tbody>
        {policies.map((p) => (
          <tr key={p.job_name}>
            <td>
              <strong>{p.job_name}</strong>
            </td>
            <td>
              <span className="inline-switch">
                <Switch
                  label={`${p.job_name} is public`}
                  checked={p.public}
                  disabled={busy.includes(p.job_name)}
                  onChange={(on) => void accessStore.getState().setPublic(p.job_name, on)}
                />
                <span className={p.public ? 'on-label' : 'muted'}>{p.public ? 'anyone on the network' : 'key needed'}</span>
              </span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Origins({ security }: { security: SecurityView }) {
  const saved = security.cors_origins.join('\n');
  const [text, setText] = useState(saved);
  const id = useId();
  useEffect(() => setText(saved), [saved]);
  const next = parseOrigins(text);
  const changed = next.join('\n') !== saved;
  return (
    <div className="setting-row first">
      <div className="setting-label">
        <label htmlFor={id}>Web pages allowed to call the services</label>
        <div className="hint">
          One origin a line, such as <code>https://lab.example.org</code>; <code>*</code> allows any page. Others are refused by the browser (CORS).
          Programs such as curl or Python are not affected.
        </div>
      </div>
      <div className="setting-control column">
        <textarea id={id} className="mono" rows={Math.max(3, next.length + 1)} value={text} placeholder="none" onChange={(e) => setText(e.target.value)} />
        <div className="row-buttons">
          <button
            type="button"
            className="btn"
            disabled={!changed}
            onClick={async () => {
              if (await accessStore.getState().saveSecurity({ cors_origins: next })) toast('ok', 'Allowed origins saved');
            }}
          >
            Save origins
          </button>
          {changed && (
            <button type="button" className="btn ghost" onClick={() => setText(saved)}>
              Discard
            </button>
          )}
        </div>
      </div>
    </div>
  );
}

type LimitKey = 'client_requests_per_minute' | 'key_requests_per_minute' | 'service_max_active';
const LIMITS: Array<{ key: LimitKey; label: string; hint: string }> = [
  { key: 'client_requests_per_minute', label: 'Requests a minute per client', hint: 'On the LAN, per calling address. Empty: no limit.' },
  { key: 'key_requests_per_minute', label: 'Requests a minute per API key', hint: 'Unless the key sets its own. Empty: no limit.' },
  { key: 'service_max_active', label: 'Unfinished runs per service', hint: 'More are refused with 429 until some finish. Empty: no limit.' },
];

function Limits({ security }: { security: SecurityView }) {
  const [draft, setDraft] = useState<Partial<Record<LimitKey, string>>>({});
  const value = (k: LimitKey) => draft[k] ?? (security[k] === null ? '' : String(security[k]));
  const changed = LIMITS.some((l) => draft[l.key] !== undefined && draft[l.key] !== (security[l.key] === null ? '' : String(security[l.key])));
  const save = async () => {
    const patch: Partial<SecurityView> = {};
    for (const [k, v] of Object.entries(draft) as Array<[LimitKey, string]>) patch[k] = v.trim() === '' ? null : Number(v);
    if (await accessStore.getState().saveSecurity(patch)) {
      setDraft({});
      toast('ok', 'Limits saved');
    }
  };
  return (
    <>
      {LIMITS.map((l) => (
        <div className="setting-row" key={l.key}>
          <div className="setting-label">
            <label htmlFor={`limit-${l.key}`}>{l.label}</label>
            <div className="hint">{l.hint}</div>
          </div>
          <div className="setting-control">
            <input
              id={`limit-${l.key}`}
              type="number"
              min={1}
              value={value(l.key)}
              placeholder="no limit"
              onChange={(e) => setDraft({ ...draft, [l.key]: e.target.value })}
            />
          </div>
        </div>
      ))}
      <div className="row-buttons">
        <button type="button" className="btn" disabled={!changed} onClick={() => void save()}>
          Save limits
        </button>
        {changed && (
          <button type="button" className="btn ghost" onClick={() => setDraft({})}>
            Discard
          </button>
        )}
      </div>
    </>
  );
}

export function AccessPage() {
  const security = useAccess((s) => s.security);
  const keys = useAccess((s) => s.keys);
  const policies = useAccess((s) => s.policies);
  const error = useAccess((s) => s.error);
  const [revoking, setRevoking] = useState<ApiKeyInfo | null>(null);
  const s = accessStore.getState();
  useEffect(() => {
    void s.load();
    // A secret shown once is not kept for a later visit.
    return () => accessStore.getState().dismissCreated();
  }, []);
  if (!security) return <div className="page muted">{error ?? 'Loading…'}</div>;
  const live = keys.filter((k) => !k.revoked_at).length;
  return (
    <div className="page access-page">
      <header className="page-head">
        <h1>Access</h1>
        <p className="lead">Who may call your published services, and how often.</p>
      </header>
      <ErrorNote message={error} onClose={() => s.clearError()} />

      <Publishing security={security} />

      <section className="card section-card">
        <div className="section-head">
          <h2>API keys</h2>
          <span className="muted small" data-testid="keys-summary">
            {live} live key{live === 1 ? '' : 's'}
            {security.lan_publish ? '' : ' · needed only once services are published on the LAN'}
          </span>
        </div>
        <NewKeyForm services={policies.map((p) => p.job_name)} />
        <KeysTable keys={keys} onRevoke={setRevoking} />
      </section>

      <section className="card section-card">
        <div className="section-head">
          <h2>Public services</h2>
          <span className="muted small">On the LAN, a public service takes calls without an API key.</span>
        </div>
        <PublicServices policies={policies} />
      </section>

      <section className="card section-card">
        <div className="section-head">
          <h2>Limits per service</h2>
          <span className="muted small">Empty: the global setting (Settings). Retention here comes on top of the global limits.</span>
        </div>
        <ServiceLimits policies={policies} />
      </section>

      <section className="card section-card">
        <h2>Browsers and limits</h2>
        <Origins security={security} />
        <Limits security={security} />
      </section>

      <CreatedKeyDialog />
      {revoking && (
        <ConfirmDialog
          title={`Revoke “${revoking.name}”?`}
          onClose={() => setRevoking(null)}
          confirm="Revoke key"
          onConfirm={async () => {
            const k = revoking;
            setRevoking(null);
            await s.revokeKey(k.id);
            if (!accessStore.getState().error) toast('ok', `Revoked ${k.name}`);
          }}
        >
          <p>
            Clients using <code>aak_{revoking.prefix}_…</code> are refused from now on. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

export default AccessPage;
