// Workers: the machines running steps for this workbench (scale-out) and the tokens they present.
import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { WorkerToken, WorkerView } from '../../api/types';
import { navigate } from '../../app/router';
import { toast } from '../../app/toasts';
import { Dialog, Empty, ErrorNote, SecretBox, ConfirmDialog } from '../../components/ui';
import { formatAgo, formatTime } from '../../components/format';
import { workerCommand, workersStore, useWorkers } from './store';

/** Heartbeats arrive every few seconds; the table follows them while the page is open. */
const REFRESH_MS = 5000;

const STATE_BADGE: Record<WorkerView['state'], string> = {
  online: 'state-complete',
  offline: 'state-error',
  stopped: 'state-cancelled',
};

function settingsLink(text: string) {
  return (
    <a
      href="#/settings"
      onClick={(e) => {
        e.preventDefault();
        navigate('#/settings');
      }}
    >
      {text}
    </a>
  );
}

function WorkersTable({ workers }: { workers: WorkerView[] }) {
  // Re-rendered by each refresh, so "5 s ago" keeps moving.
  const now = Date.now();
  return (
    <div className="table-wrap">
      <table className="runs-table" data-testid="workers-table">
        <thead>
          <tr>
            <th>Host</th>
            <th>State</th>
            <th>Queues</th>
            <th className="num">Running</th>
            <th className="num">Completed</th>
            <th className="num">Failed</th>
            <th>Last heartbeat</th>
            <th>Token</th>
          </tr>
        </thead>
        <tbody>
          {workers.map((w) => (
            <tr key={w.id} data-worker={w.id}>
              <td>
                <strong>{w.host}</strong>
                <div className="muted small mono" title={`worker id ${w.id}`}>
                  {w.id}
                  {w.version ? ` · v${w.version}` : ''}
                </div>
              </td>
              <td>
                <span className={`badge ${STATE_BADGE[w.state]}`}>{w.state}</span>
              </td>
              <td>
                <div className="chips">
                  {w.queues.map((q) => (
                    <span key={q} className="chip">
                      {q}
                    </span>
                  ))}
                </div>
              </td>
              <td className="num" title={`${w.running} of ${w.concurrency} slots busy`}>
                {w.running} / {w.concurrency}
              </td>
              <td className="num">{w.completed}</td>
              <td className={`num${w.failed > 0 ? ' error-text' : ''}`}>{w.failed}</td>
              <td title={formatTime(w.last_seen_at)}>{formatAgo(w.last_seen_at, now)}</td>
              <td className="small">{w.token ?? <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function NewTokenForm() {
  const [name, setName] = useState('');
  const [saving, setSaving] = useState(false);
  return (
    <form
      className="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!name.trim()) return;
        setSaving(true);
        if (await workersStore.getState().createToken(name)) setName('');
        setSaving(false);
      }}
    >
      <label htmlFor="worker-token-name">New token for</label>
      <input id="worker-token-name" value={name} placeholder="machine name, e.g. lab-gpu-1" maxLength={100} onChange={(e) => setName(e.target.value)} autoComplete="off" />
      <button type="submit" className="btn primary" disabled={!name.trim() || saving}>
        Create token
      </button>
    </form>
  );
}

function TokensTable({ tokens, onRevoke }: { tokens: WorkerToken[]; onRevoke: (t: WorkerToken) => void }) {
  const busy = useWorkers((s) => s.busy);
  if (tokens.length === 0) return <p className="muted small">No tokens yet. Each worker machine needs one; create one per machine so each can be revoked alone.</p>;
  return (
    <table className="runs-table" data-testid="worker-tokens">
      <thead>
        <tr>
          <th>Name</th>
          <th>Created</th>
          <th>Last used</th>
          <th>State</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {tokens.map((t) => (
          <tr key={t.id} data-token={t.name} className={t.revoked_at ? 'revoked' : ''}>
            <td>
              <strong>{t.name}</strong>
            </td>
            <td title={t.created_at}>{formatTime(t.created_at)}</td>
            <td title={t.last_used_at ?? ''}>{t.last_used_at ? formatAgo(t.last_used_at) : <span className="muted">never</span>}</td>
            <td>{t.revoked_at ? <span className="badge state-cancelled" title={t.revoked_at}>revoked</span> : <span className="badge state-complete">live</span>}</td>
            <td className="row-actions">
              {!t.revoked_at && (
                <button type="button" className="btn small danger ghost" disabled={busy.includes(t.id)} onClick={() => onRevoke(t)} aria-label={`Revoke token ${t.name}`}>
                  Revoke
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Where workers reach this server: the LAN address the server reports for its services, else this page's own. */
function useServerUrl(): [string, (url: string) => void] {
  const [url, setUrl] = useState(() => window.location.origin);
  useEffect(() => {
    let live = true;
    api.services().then(
      (services) => {
        const lan = services.find((s) => s.lan);
        if (live && lan) setUrl(new URL(lan.base_url).origin);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  return [url, setUrl];
}

function CreatedDialog() {
  const created = useWorkers((s) => s.created);
  const [server, setServer] = useServerUrl();
  if (!created) return null;
  const close = () => workersStore.getState().dismissCreated();
  return (
    <Dialog
      title={`Worker token “${created.name}”`}
      onClose={close}
      wide
      actions={
        <button type="button" className="btn primary" onClick={close}>
          Done
        </button>
      }
    >
      <p className="note">This is the only time the token is shown. Copy it now; if it is lost, revoke it and create another.</p>
      <SecretBox label="Token" value={created.token} testId="new-worker-token" />
      <div className="field">
        <label htmlFor="worker-server-url">Server address, as the worker machine reaches it</label>
        <input id="worker-server-url" className="mono" value={server} onChange={(e) => setServer(e.target.value)} />
      </div>
      <SecretBox label="Command on the worker machine" value={workerCommand(server, created.token)} testId="worker-command" />
    </Dialog>
  );
}

export function WorkersPage() {
  const workers = useWorkers((s) => s.workers);
  const scaleOut = useWorkers((s) => s.scaleOut);
  const tokens = useWorkers((s) => s.tokens);
  const loaded = useWorkers((s) => s.loaded);
  const error = useWorkers((s) => s.error);
  const [revoking, setRevoking] = useState<WorkerToken | null>(null);
  const s = workersStore.getState();

  useEffect(() => {
    void s.load();
    const timer = setInterval(() => void workersStore.getState().refresh(), REFRESH_MS);
    return () => {
      clearInterval(timer);
      // A secret shown once is not kept for a later visit.
      workersStore.getState().dismissCreated();
    };
  }, []);

  const online = workers.filter((w) => w.state === 'online');
  return (
    <div className="page workers-page">
      <header className="page-head">
        <h1>Workers</h1>
        <p className="lead">Other machines that take steps from this workbench's queues and send the results back.</p>
      </header>
      <ErrorNote message={error} onClose={() => s.clearError()} />
      {loaded && !scaleOut && (
        <div className="banner" role="status" data-testid="scale-out-off">
          This workbench runs every step itself. To hand steps to other machines, set a Redis URL in {settingsLink('Settings')} and restart; then
          start <code>aa worker</code> on each machine with a token from below.
        </div>
      )}

      <section className="card section-card">
        <div className="section-head">
          <h2>Machines</h2>
          <span className="muted small" data-testid="workers-summary">
            {workers.length === 0 ? 'none seen in the last day' : `${online.length} online · ${online.reduce((n, w) => n + w.running, 0)} steps running`}
          </span>
        </div>
        {loaded && workers.length === 0 ? (
          <Empty title="No worker has checked in">
            A worker appears here with its first heartbeat and stays listed for a day after its last one.
          </Empty>
        ) : (
          <WorkersTable workers={workers} />
        )}
      </section>

      <section className="card section-card">
        <div className="section-head">
          <h2>Worker tokens</h2>
          <span className="muted small">Workers present a token on every call; revoking one shuts its workers out.</span>
        </div>
        <NewTokenForm />
        <TokensTable tokens={tokens} onRevoke={setRevoking} />
      </section>

      <CreatedDialog />
      {revoking && (
        <ConfirmDialog
          title={`Revoke “${revoking.name}”?`}
          onClose={() => setRevoking(null)}
          confirm="Revoke token"
          onConfirm={async () => {
            const t = revoking;
            setRevoking(null);
            await s.revokeToken(t.id);
            if (!workersStore.getState().error) toast('ok', `Revoked ${t.name}`);
          }}
        >
          <p>Workers using it can no longer fetch inputs, send results or report in. This cannot be undone; a new token can be created at any time.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

export default WorkersPage;
