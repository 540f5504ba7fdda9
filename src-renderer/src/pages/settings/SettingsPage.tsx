// Settings: binding and port, worker concurrency and the queue, scale-out, limits, data dir with storage and retention, backends,
// queue types and notifications.
import { useEffect, useState, type ReactNode } from 'react';
import type { Backend, QueueType, Settings } from '../../api/types';
import { navigate } from '../../app/router';
import { toast } from '../../app/toasts';
import { ErrorNote } from '../../components/ui';
import { StorageGauge } from './StorageGauge';
import { SettingRow } from './SettingRow';
import { NotificationsSection } from './Notifications';
import { settingsStore, useSettings } from './store';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const BEHAVIOURS: Array<[number, string]> = [
  [1, 'localhost: command line'],
  [2, 'GridEngine'],
  [3, 'R script'],
  [4, 'Python script'],
  [5, 'bash script'],
  [6, 'node script'],
];

/** The settings saved together below: each says when it applies. */
function Row(props: { label: string; hint?: ReactNode; restart?: boolean; children: (id: string) => ReactNode }) {
  return (
    <SettingRow label={props.label} hint={props.hint} applies={props.restart ? 'restart' : 'live'}>
      {props.children}
    </SettingRow>
  );
}

function useValue<K extends keyof Settings>(key: K): Settings[K] | undefined {
  const draft = useSettings((s) => s.draft[key]);
  const saved = useSettings((s) => s.view?.settings[key]);
  return (key in settingsStore.getState().draft ? draft : saved) as Settings[K] | undefined;
}

function NumberInput(props: { id: string; setting: keyof Settings; scale?: number; min?: number; nullable?: boolean }) {
  const value = useValue(props.setting) as number | null | undefined;
  const scale = props.scale ?? 1;
  const shown = value === null || value === undefined ? '' : String(Math.round((value / scale) * 100) / 100);
  return (
    <input
      id={props.id}
      type="number"
      min={props.min ?? 0}
      value={shown}
      placeholder={props.nullable ? 'no limit' : ''}
      onChange={(e) => {
        const raw = e.target.value;
        if (raw === '') {
          if (props.nullable) settingsStore.getState().edit({ [props.setting]: null } as Partial<Settings>);
          return;
        }
        settingsStore.getState().edit({ [props.setting]: Math.round(Number(raw) * scale) } as Partial<Settings>);
      }}
    />
  );
}

/** A text setting that may be unset: an empty field saves null. */
function TextInput(props: { id: string; setting: 'redis_url'; placeholder?: string }) {
  const value = useValue(props.setting);
  return (
    <input
      id={props.id}
      className="mono wide-input"
      value={value ?? ''}
      placeholder={props.placeholder}
      spellCheck={false}
      onChange={(e) => settingsStore.getState().edit({ [props.setting]: e.target.value.trim() === '' ? null : e.target.value.trim() })}
    />
  );
}

const pageLink = (hash: string, text: string) => (
  <a
    href={hash}
    onClick={(e) => {
      e.preventDefault();
      navigate(hash);
    }}
  >
    {text}
  </a>
);

function BackendRow({ backend, queueTypes }: { backend: Backend | null; queueTypes: QueueType[] }) {
  const [name, setName] = useState(backend?.name ?? '');
  const [queue, setQueue] = useState(backend?.queue_type ?? queueTypes[0]?.name ?? '');
  const [root, setRoot] = useState(backend?.root_path ?? '');
  const changed = !backend || name !== backend.name || queue !== (backend.queue_type ?? '') || root !== backend.root_path;
  const s = settingsStore.getState();
  return (
    <tr>
      <td>
        <input aria-label="Backend name" value={name} placeholder="name" onChange={(e) => setName(e.target.value)} />
      </td>
      <td>
        <select aria-label="Queue type" value={queue} onChange={(e) => setQueue(e.target.value)}>
          <option value="">(none)</option>
          {queueTypes.map((q) => (
            <option key={q.id}>{q.name}</option>
          ))}
        </select>
      </td>
      <td>
        <input aria-label="Root path" className="mono" value={root} placeholder="(data dir)/work" onChange={(e) => setRoot(e.target.value)} />
      </td>
      <td className="row-actions">
        <button
          type="button"
          className="btn small"
          disabled={!changed || !name.trim()}
          onClick={async () => {
            if (await s.saveBackend(backend?.name ?? '', { name: name.trim(), queue_type: queue || null, root_path: root })) {
              toast('ok', `Saved backend ${name}`);
              if (!backend) {
                setName('');
                setRoot('');
              }
            }
          }}
        >
          {backend ? 'Save' : 'Add'}
        </button>
        {backend && (
          <button type="button" className="btn small ghost" onClick={() => void s.deleteBackend(backend.name)} aria-label={`Delete backend ${backend.name}`}>
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

function QueueTypeRow({ queueType }: { queueType: QueueType | null }) {
  const [name, setName] = useState(queueType?.name ?? '');
  const [behaviour, setBehaviour] = useState<number>(queueType?.execution_behaviour ?? 1);
  const changed = !queueType || name !== queueType.name || behaviour !== queueType.execution_behaviour;
  const s = settingsStore.getState();
  return (
    <tr>
      <td>
        <input aria-label="Queue type name" value={name} placeholder="name" onChange={(e) => setName(e.target.value)} />
      </td>
      <td>
        <select aria-label="Execution behaviour" value={behaviour} onChange={(e) => setBehaviour(Number(e.target.value))}>
          {BEHAVIOURS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      </td>
      <td className="row-actions">
        <button
          type="button"
          className="btn small"
          disabled={!changed || !name.trim()}
          onClick={async () => {
            if (await s.saveQueueType(queueType?.name ?? '', { name: name.trim(), execution_behaviour: behaviour as QueueType['execution_behaviour'] })) {
              toast('ok', `Saved queue type ${name}`);
              if (!queueType) setName('');
            }
          }}
        >
          {queueType ? 'Save' : 'Add'}
        </button>
        {queueType && (
          <button type="button" className="btn small ghost" onClick={() => void s.deleteQueueType(queueType.name)} aria-label={`Delete queue type ${queueType.name}`}>
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

export function SettingsPage() {
  const view = useSettings((s) => s.view);
  const draft = useSettings((s) => s.draft);
  const pending = useSettings((s) => s.restartPending);
  const backends = useSettings((s) => s.backends);
  const queueTypes = useSettings((s) => s.queueTypes);
  const queue = useSettings((s) => s.queue);
  const error = useSettings((s) => s.error);
  const saving = useSettings((s) => s.saving);
  const host = useValue('host');
  useEffect(() => {
    void settingsStore.getState().load();
  }, []);
  if (!view) return <div className="page muted">{error ?? 'Loading…'}</div>;
  const s = settingsStore.getState();
  const edited = Object.keys(draft).length > 0;
  const save = async () => {
    const restart = await s.save();
    if (restart === null) return;
    toast('ok', restart.length ? `Saved. Restart to apply: ${restart.join(', ')}` : 'Saved and applied');
  };
  const lan = host === '0.0.0.0' || host === '::';
  return (
    <div className="page settings-page">
      <header className="page-head">
        <h1>Settings</h1>
        <p className="lead">Most changes apply at once; the address and port apply the next time the workbench starts.</p>
      </header>
      <ErrorNote message={error} onClose={() => settingsStore.setState({ error: null })} />
      {pending.length > 0 && (
        <div className="banner" role="status">
          Restart the workbench to apply: <strong>{pending.join(', ')}</strong>. It is listening on {view.listening.host}:{view.listening.port} until then.
        </div>
      )}

      <section className="card settings-section">
        <h2>Server</h2>
        <Row label="Binding" hint={`Listening now on ${view.listening.host}:${view.listening.port}.`} restart>
          {(id) => (
            <select id={id} value={lan ? '0.0.0.0' : host === '127.0.0.1' ? '127.0.0.1' : (host ?? '')} onChange={(e) => s.edit({ host: e.target.value })}>
              <option value="127.0.0.1">This computer only (127.0.0.1)</option>
              <option value="0.0.0.0">Local network (all addresses)</option>
              {host && !['127.0.0.1', '0.0.0.0', '::'].includes(host) && <option value={host}>{host}</option>}
            </select>
          )}
        </Row>
        {lan && (
          <p className="note">
            Other machines can then reach this server; whether they may call your services (and with which API keys) is set under{' '}
            {pageLink('#/access', 'Access')}. The workbench itself stays reachable from this computer only.
          </p>
        )}
        <Row label="Port" restart>
          {(id) => <NumberInput id={id} setting="port" min={1} />}
        </Row>
      </section>

      <section className="card settings-section">
        <h2>Worker</h2>
        <Row label="Concurrent steps" hint="Task attempts running at the same time on this computer.">
          {(id) => <NumberInput id={id} setting="concurrency" min={1} />}
        </Row>
        <div className="setting-row">
          <div className="setting-label">
            <span>Queue</span>
            <div className="hint">Paused: new submissions are accepted and wait; nothing new starts.</div>
          </div>
          <div className="setting-control">
            {queue && (
              <span className="muted" data-testid="queue-state">
                {queue.paused ? 'Paused' : 'Running'} · {queue.running} running · {queue.queued} waiting
              </span>
            )}
            <button type="button" className="btn" onClick={() => void s.setPaused(!queue?.paused)}>
              {queue?.paused ? 'Resume' : 'Pause'}
            </button>
          </div>
        </div>
      </section>

      <section className="card settings-section">
        <h2>Scale-out</h2>
        <Row
          label="Redis URL"
          restart
          hint={
            <>
              With a Redis server, steps go to queues that {pageLink('#/workers', 'workers')} on other machines take from. Empty: every step runs
              here.
            </>
          }
        >
          {(id) => <TextInput id={id} setting="redis_url" placeholder="redis://host:6379" />}
        </Row>
      </section>

      <section className="card settings-section">
        <h2>Limits</h2>
        <Row label="Upload limit (MiB)" hint="Largest input file a client may send.">
          {(id) => <NumberInput id={id} setting="upload_limit_bytes" scale={MIB} min={1} />}
        </Row>
        <Row label="Output kept per attempt (MiB)" hint="stdout/stderr beyond this is dropped and noted.">
          {(id) => <NumberInput id={id} setting="output_cap_bytes" scale={MIB} min={1} />}
        </Row>
        <Row label="Low priority from" hint="Unfinished submissions per client before it drops to low priority (A_A QUEUE_HOG_SIZE).">
          {(id) => <NumberInput id={id} setting="queue_hog_size" nullable />}
        </Row>
        <Row label="Refuse from" hint="Unfinished submissions per client before it gets 429 (A_A QUEUE_HARD_LIMIT).">
          {(id) => <NumberInput id={id} setting="queue_hard_limit" nullable />}
        </Row>
      </section>


      <section className="card settings-section">
        <h2>Data</h2>
        <div className="setting-row">
          <div className="setting-label">
            <span>Data directory</span>
            <div className="hint">
              The database, inputs, results and logs. Start the workbench with <code>--data-dir</code> (or <code>AA_DATA_DIR</code>) to use
              another one.
            </div>
          </div>
          <div className="setting-control">
            <code data-testid="data-dir">{view.data_dir}</code>
          </div>
        </div>
        <StorageGauge />
        <h3 className="sub-head">Retention</h3>
        <p className="muted small">Finished runs are removed with their files when any limit is passed, oldest first. Each service may add its own limits.</p>
        <Row label="Keep runs for (days)" hint="Empty: keep them regardless of age.">
          {(id) => <NumberInput id={id} setting="retain_days" nullable />}
        </Row>
        <Row label="Keep at most (runs)" hint="The newest are kept. Empty: no limit.">
          {(id) => <NumberInput id={id} setting="retain_count" nullable />}
        </Row>
        <Row label="Keep at most (GiB)" hint="Files of finished runs. Empty: no limit.">
          {(id) => <NumberInput id={id} setting="retain_bytes" scale={GIB} nullable />}
        </Row>
        <Row label="Check every (seconds)">
          {(id) => <NumberInput id={id} setting="retention_interval_s" min={10} />}
        </Row>
      </section>

      <div className="save-bar">
        <button type="button" className="btn primary" onClick={save} disabled={!edited || saving}>
          {saving ? 'Saving…' : 'Save settings'}
        </button>
        <button type="button" className="btn ghost" onClick={s.discard} disabled={!edited}>
          Discard
        </button>
      </div>

      <section className="card settings-section">
        <h2>Backends</h2>
        <p className="muted small">Where a Task runs: its queue type decides how (command line or script) and the root path holds working directories.</p>
        <table className="edit-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Queue type</th>
              <th>Root path</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {backends.map((b) => (
              <BackendRow key={`${b.id}:${b.name}:${b.queue_type}:${b.root_path}`} backend={b} queueTypes={queueTypes} />
            ))}
            <BackendRow key={`new:${backends.length}`} backend={null} queueTypes={queueTypes} />
          </tbody>
        </table>
      </section>

      <section className="card settings-section">
        <h2>Queue types</h2>
        <p className="muted small">A_A's execution behaviours; each queue type gets low_, normal and high_ priority queues.</p>
        <table className="edit-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Execution behaviour</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {queueTypes.map((q) => (
              <QueueTypeRow key={`${q.id}:${q.name}:${q.execution_behaviour}`} queueType={q} />
            ))}
            <QueueTypeRow key={`new:${queueTypes.length}`} queueType={null} />
          </tbody>
        </table>
      </section>

      <NotificationsSection />
    </div>
  );
}
