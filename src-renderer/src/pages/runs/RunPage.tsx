// One run: per-step timeline, every attempt's exact command and output, input and result files with previews, messages, actions.
import { useEffect, useState } from 'react';
import { fileUrl, subscribeEvents } from '../../api/client';
import type { PreviewKind, RunAttemptView, RunDetail } from '../../api/types';
import { navigate } from '../../app/router';
import { toast } from '../../app/toasts';
import { CopyButton, ErrorNote, StateBadge, ConfirmDialog } from '../../components/ui';
import { formatBytes, formatDuration, formatTime, isFinalState, shellLine } from '../../components/format';
import { runPageStore, useRunPage } from './store';

const PREVIEW_BYTES = 64 * 1024;

function FilePreview({ url, kind, name }: { url: string; kind: PreviewKind; name: string }) {
  const [text, setText] = useState<string | null>(null);
  const [cut, setCut] = useState(false);
  useEffect(() => {
    if (kind !== 'text') return;
    let live = true;
    fetch(fileUrl(url))
      .then((r) => r.text())
      .then((t) => {
        if (!live) return;
        setCut(t.length > PREVIEW_BYTES);
        setText(t.slice(0, PREVIEW_BYTES));
      })
      .catch(() => live && setText('(could not load the file)'));
    return () => {
      live = false;
    };
  }, [url, kind]);
  if (kind === 'image') return <img className="preview-image" src={fileUrl(url)} alt={name} />;
  if (kind === 'none') return <p className="muted small">No preview for this kind of file; download it instead.</p>;
  return (
    <>
      <pre className="log file-preview" data-testid={`preview-${name}`}>
        {text ?? 'Loading…'}
      </pre>
      {cut && <p className="muted small">Showing the first 64 KiB.</p>}
    </>
  );
}

function FileRow(props: { name: string; detail: string; size: number; url: string; kind: PreviewKind; defaultOpen?: boolean }) {
  const [open, setOpen] = useState(!!props.defaultOpen);
  return (
    <li className="file-row" data-testid={`file-${props.name}`}>
      <div className="file-head">
        <span className="mono file-name">{props.name}</span>
        <span className="muted small">{props.detail}</span>
        <span className="muted small">{formatBytes(props.size)}</span>
        <span className="file-actions">
          {props.kind !== 'none' && (
            <button type="button" className="btn small" onClick={() => setOpen(!open)} aria-expanded={open}>
              {open ? 'Hide' : 'Preview'}
            </button>
          )}
          <a className="btn small" href={fileUrl(props.url, true)} download={props.name}>
            Download
          </a>
        </span>
      </div>
      {open && <FilePreview url={props.url} kind={props.kind} name={props.name} />}
    </li>
  );
}

/** Queued (light) and running (solid) spans of each step's attempts on one time axis. */
function Timeline({ detail }: { detail: RunDetail }) {
  const now = Date.now();
  const start = Date.parse(detail.run.created_at);
  const ends = detail.attempts.map((a) => (a.ended_at ? Date.parse(a.ended_at) : now));
  const finished = detail.run.finished_at ? Date.parse(detail.run.finished_at) : now;
  const end = Math.max(start + 1, finished, ...ends);
  const span = end - start;
  const pct = (t: number) => `${(((t - start) / span) * 100).toFixed(2)}%`;
  const width = (a: number, b: number) => `${Math.max(0.4, ((b - a) / span) * 100).toFixed(2)}%`;
  const keys = detail.plan.length ? detail.plan.map((p) => ({ key: p.key, task: p.task })) : [...new Set(detail.attempts.map((a) => a.step_key))].map((key) => ({ key, task: detail.attempts.find((a) => a.step_key === key)?.task_name ?? '' }));
  return (
    <div className="timeline" data-testid="timeline">
      <div className="timeline-axis">
        <span>0</span>
        <span>{formatDuration(span)}</span>
      </div>
      {keys.map(({ key, task }) => {
        const attempts = detail.attempts.filter((a) => a.step_key === key);
        return (
          <div className="timeline-row" key={key}>
            <div className="timeline-label" title={task}>
              <strong>{key}</strong> <span className="muted">{task}</span>
            </div>
            <div className="timeline-track">
              {attempts.length === 0 && <span className="muted small timeline-none">did not run</span>}
              {attempts.map((a) => {
                const q = Date.parse(a.queued_at);
                const s = a.started_at ? Date.parse(a.started_at) : a.ended_at ? Date.parse(a.ended_at) : now;
                const e = a.ended_at ? Date.parse(a.ended_at) : now;
                return (
                  <span key={a.id}>
                    <span className="bar queued" style={{ left: pct(q), width: width(q, s) }} title={`queued ${formatDuration(s - q)}`} />
                    <span
                      className={`bar running run-${a.state}`}
                      style={{ left: pct(s), width: width(s, e) }}
                      title={`attempt ${a.attempt_no}: ${a.state}, ran ${formatDuration(e - s)}`}
                    />
                  </span>
                );
              })}
            </div>
          </div>
        );
      })}
      <div className="timeline-legend muted small">
        <span className="bar-key queued" /> queued <span className="bar-key running run-done" /> running/done <span className="bar-key running run-failed" /> failed
      </div>
    </div>
  );
}

function AttemptCard({ a, uuid }: { a: RunAttemptView; uuid: string }) {
  const line = a.argv ? shellLine(a.argv) : null;
  const streamUrl = (s: 'stdout' | 'stderr') => `/api/admin/runs/${encodeURIComponent(uuid)}/attempts/${a.id}/${s}`;
  return (
    <section className="card attempt" data-testid={`attempt-${a.step_key}`}>
      <header className="attempt-head">
        <h3>
          {a.step_key} <span className="muted">· {a.task_name}</span>
          {a.attempt_no > 1 && <span className="muted"> · attempt {a.attempt_no}</span>}
        </h3>
        <span className={`run-chip run-${a.state}`}>{a.state}</span>
      </header>
      <div className="command">
        <code>{line ?? '(command not rendered)'}</code>
        {line && <CopyButton text={line} />}
      </div>
      <dl className="facts inline">
        <dt>Exit code</dt>
        <dd data-testid="exit-code">{a.exit_code ?? '—'}</dd>
        {a.signal && (
          <>
            <dt>Signal</dt>
            <dd>{a.signal}</dd>
          </>
        )}
        <dt>Duration</dt>
        <dd>{formatDuration(a.duration_ms)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(a.started_at)}</dd>
        {a.pid !== null && (
          <>
            <dt>PID</dt>
            <dd>{a.pid}</dd>
          </>
        )}
      </dl>
      {a.message && <p className="error-text">{a.message}</p>}
      {(['stdout', 'stderr'] as const).map((stream) => {
        const tail = stream === 'stdout' ? a.stdout_tail : a.stderr_tail;
        const size = stream === 'stdout' ? a.stdout_size : a.stderr_size;
        return (
          <div key={stream} className="stream">
            <div className="stream-head">
              <span className="preview-label">{stream}</span>
              <span className="muted small">
                {size > 0 ? formatBytes(size) : 'empty'}
                {size > 4096 ? ' · showing the last 4 KiB' : ''}
              </span>
              {size > 0 && (
                <a className="btn small" href={fileUrl(streamUrl(stream), true)}>
                  Download full {stream}
                </a>
              )}
            </div>
            {tail ? <pre className={`log${stream === 'stderr' ? ' err' : ''}`}>{tail}</pre> : null}
          </div>
        );
      })}
    </section>
  );
}

export function RunPage({ uuid }: { uuid: string }) {
  const detail = useRunPage((s) => s.detail);
  const error = useRunPage((s) => s.error);
  const gone = useRunPage((s) => s.gone);
  const [confirmDelete, setConfirmDelete] = useState(false);
  useEffect(() => {
    void runPageStore.getState().load(uuid);
    return subscribeEvents((e) => runPageStore.getState().applyEvent(e));
  }, [uuid]);
  const s = runPageStore.getState();
  const back = (
    <a
      href="#/runs"
      className="back"
      onClick={(e) => {
        e.preventDefault();
        navigate('#/runs');
      }}
    >
      ← All runs
    </a>
  );
  if (gone) {
    return (
      <div className="page">
        {back}
        <p>The run was deleted.</p>
      </div>
    );
  }
  if (!detail) {
    return (
      <div className="page">
        {back}
        {error ? <ErrorNote message={error} /> : <p className="muted">Loading…</p>}
      </div>
    );
  }
  const run = detail.run;
  const active = !isFinalState(run.state);
  const rerun = async () => {
    const next = await s.rerun();
    if (next) {
      toast('ok', 'Re-run submitted');
      navigate(`#/runs/${next}`);
    }
  };
  const params = Object.entries(detail.params);
  return (
    <div className="page run-page">
      {back}
      <header className="run-head">
        <div>
          <h1>
            {run.submission_name} <StateBadge state={run.state} />
          </h1>
          <p className="muted">{run.last_message}</p>
        </div>
        <div className="run-actions">
          <button type="button" className="btn" onClick={rerun}>
            Re-run
          </button>
          {active && (
            <button type="button" className="btn" onClick={() => void s.cancel()}>
              Cancel
            </button>
          )}
          <button type="button" className="btn danger ghost" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        </div>
      </header>
      <ErrorNote message={error} onClose={() => runPageStore.setState({ error: null })} />
      <dl className="facts grid card">
        <dt>Job</dt>
        <dd>
          <a
            href={`#/designer/${encodeURIComponent(run.job)}`}
            onClick={(e) => {
              e.preventDefault();
              navigate(`#/designer/${encodeURIComponent(run.job)}`);
            }}
          >
            {run.job}
          </a>
        </dd>
        <dt>Submission</dt>
        <dd className="mono small">{run.uuid}</dd>
        <dt>Batch</dt>
        <dd className="mono small">
          {run.batch_uuid} <span className="muted">({detail.batch_state})</span>
        </dd>
        <dt>Client</dt>
        <dd className="mono">{run.client}</dd>
        <dt>Submitted</dt>
        <dd>{formatTime(run.created_at)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(run.duration_ms)}</dd>
        {run.email && (
          <>
            <dt>Email</dt>
            <dd>{run.email}</dd>
          </>
        )}
      </dl>

      <h2>Timeline</h2>
      <Timeline detail={detail} />

      <h2>Files</h2>
      <ul className="files card">
        <FileRow name={detail.input.name} detail="input" size={detail.input.size} url={detail.input.url} kind={detail.input.preview} />
        {detail.results.map((r) => (
          <FileRow key={r.id} name={r.file_name} detail={`result of ${r.step_key ?? `step ${r.step}`} · ${r.task_name}`} size={r.size} url={r.url} kind={r.preview} />
        ))}
        {detail.results.length === 0 && <li className="muted small file-row">{active ? 'No results yet.' : 'This run kept no result files.'}</li>}
      </ul>

      {params.length > 0 && (
        <>
          <h2>Parameters</h2>
          <dl className="facts grid card">
            {params.map(([k, v]) => (
              <div key={k} className="contents">
                <dt className="mono">{k}</dt>
                <dd className="mono">{v}</dd>
              </div>
            ))}
          </dl>
        </>
      )}

      <h2>Attempts</h2>
      {detail.attempts.length === 0 ? <p className="muted">No step has started yet.</p> : detail.attempts.map((a) => <AttemptCard key={a.id} a={a} uuid={run.uuid} />)}

      <h2>Messages</h2>
      <table className="messages card">
        <tbody>
          {detail.messages.map((m) => (
            <tr key={m.id}>
              <td className="muted nowrap">{formatTime(m.created_at)}</td>
              <td>{m.message}</td>
            </tr>
          ))}
        </tbody>
      </table>

      {confirmDelete && (
        <ConfirmDialog
          title="Delete this run?"
          onClose={() => setConfirmDelete(false)}
          confirm="Delete run and files"
          onConfirm={async () => {
            setConfirmDelete(false);
            if (await s.remove()) {
              toast('ok', 'Run deleted');
              navigate('#/runs');
            }
          }}
        >
          <p>{active ? 'It is still running: it is cancelled first. ' : ''}Its input, results and logs are removed from disk.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
