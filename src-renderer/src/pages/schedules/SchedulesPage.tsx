// Schedules: each Job's periodic runs (A_A's periodic jobs) with their cron, next and last firing, and a form for new ones.
import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { Job, Task } from '../../api/types';
import { navigate } from '../../app/router';
import { Empty, ErrorNote, Switch } from '../../components/ui';
import { formatBytes, formatTime } from '../../components/format';
import { schedulesApi, type NewSchedule } from './api';
import { schedulesStore, useSchedules } from './store';

/** Next and last firings move by the second; the list is read again this often while the page is open. */
const REFRESH_MS = 5000;

const EXAMPLES: Array<[string, string]> = [
  ['0 2 * * *', 'every night at 02:00'],
  ['*/15 * * * *', 'every 15 minutes'],
  ['0 9 * * 1-5', 'weekdays at 09:00'],
  ['0 0 1 * *', 'the first of each month'],
];

/** The REST fields of a Job's parameters with their defaults, in step order (as A_A lists them). */
function fieldsOf(job: Job | undefined, tasks: Task[]): Array<{ field: string; value: string; bool: boolean }> {
  if (!job) return [];
  const out: Array<{ field: string; value: string; bool: boolean }> = [];
  for (const step of [...job.steps].sort((a, b) => a.ordering - b.ordering)) {
    const task = tasks.find((t) => t.name === step.task);
    for (const p of task?.parameters ?? []) {
      const field = `${task?.name}_${p.alias}`;
      if (!out.some((f) => f.field === field)) out.push({ field, value: p.default ?? '', bool: p.bool_valued });
    }
  }
  return out;
}

function NewScheduleForm({ onDone }: { onDone: () => void }) {
  const [jobs, setJobs] = useState<Job[]>([]);
  const [tasks, setTasks] = useState<Task[]>([]);
  const [draft, setDraft] = useState<NewSchedule>({ job: '', cron: '0 2 * * *', timezone: '', submission_name: '', email: '', params: {}, file: null });
  const [preview, setPreview] = useState<{ next?: string[]; error?: string }>({});
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    void Promise.all([api.jobs(), api.tasks()]).then(([j, t]) => {
      setJobs(j.filter((x) => x.steps.length > 0));
      setTasks(t);
    });
  }, []);

  const job = jobs.find((j) => j.name === draft.job);
  const fields = useMemo(() => fieldsOf(job, tasks), [job, tasks]);

  // What the expression means: its next firings, read by the server's own cron parser.
  useEffect(() => {
    const timer = setTimeout(() => {
      schedulesApi.preview(draft.cron, draft.timezone).then(
        (r) => setPreview({ next: r.next }),
        (e: Error) => setPreview({ error: e.message }),
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [draft.cron, draft.timezone]);

  const pickJob = (name: string) => {
    const picked = jobs.find((j) => j.name === name);
    setDraft({ ...draft, job: name, params: Object.fromEntries(fieldsOf(picked, tasks).map((f) => [f.field, f.value])) });
  };

  const save = async () => {
    setSaving(true);
    const ok = await schedulesStore.getState().create(draft);
    setSaving(false);
    if (ok) onDone();
  };

  return (
    <form
      className="card schedule-form"
      aria-label="New schedule"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2>New schedule</h2>
      <div className="field-row">
        <label className="field">
          <span>Job</span>
          <select value={draft.job} onChange={(e) => pickJob(e.target.value)} aria-label="Job" required>
            <option value="">Choose a job…</option>
            {jobs.map((j) => (
              <option key={j.name}>{j.name}</option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Cron expression</span>
          <input className="mono" value={draft.cron} onChange={(e) => setDraft({ ...draft, cron: e.target.value })} aria-label="Cron expression" required />
        </label>
        <label className="field">
          <span>Time zone</span>
          <input value={draft.timezone} placeholder="this computer's" onChange={(e) => setDraft({ ...draft, timezone: e.target.value })} aria-label="Time zone" />
        </label>
      </div>
      <p className="hint">
        Minute hour day-of-month month day-of-week, with an optional leading seconds field. For example{' '}
        {EXAMPLES.map(([cron, words], i) => (
          <span key={cron}>
            <button type="button" className="btn small ghost mono" onClick={() => setDraft({ ...draft, cron })} title={words}>
              {cron}
            </button>
            {i < EXAMPLES.length - 1 ? ' ' : ''}
          </span>
        ))}
      </p>
      <div className={`preview${preview.error ? ' hint error' : ''}`} data-testid="cron-preview">
        {preview.error ? preview.error : preview.next ? `Next: ${preview.next.map((t) => formatTime(t)).join(' · ')}` : '…'}
      </div>
      {fields.length > 0 && (
        <fieldset className="field-row" aria-label="Parameters">
          {fields.map((f) => (
            <label className="field" key={f.field}>
              <span className="mono">{f.field}</span>
              {f.bool ? (
                <select value={draft.params[f.field] ?? ''} onChange={(e) => setDraft({ ...draft, params: { ...draft.params, [f.field]: e.target.value } })}>
                  <option value="TRUE">TRUE</option>
                  <option value="FALSE">FALSE</option>
                </select>
              ) : (
                <input value={draft.params[f.field] ?? ''} onChange={(e) => setDraft({ ...draft, params: { ...draft.params, [f.field]: e.target.value } })} />
              )}
            </label>
          ))}
        </fieldset>
      )}
      <div className="field-row">
        <label className="field">
          <span>Input file</span>
          <input type="file" onChange={(e) => setDraft({ ...draft, file: e.target.files?.[0] ?? null })} aria-label="Input file" />
        </label>
        <label className="field">
          <span>Run name</span>
          <input value={draft.submission_name} placeholder={draft.job ? `${draft.job} (scheduled)` : ''} onChange={(e) => setDraft({ ...draft, submission_name: e.target.value })} />
        </label>
        <label className="field">
          <span>Email when done</span>
          <input type="email" value={draft.email} placeholder="nobody" onChange={(e) => setDraft({ ...draft, email: e.target.value })} />
        </label>
      </div>
      <p className="hint">Without a file each run gets A_A&apos;s dummy.txt holding “empty”. Runs are submitted as test runs: the job need not be published.</p>
      <div className="dialog-actions">
        <button type="button" className="btn ghost" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="btn primary" disabled={saving || !draft.job || !!preview.error}>
          Create schedule
        </button>
      </div>
    </form>
  );
}

export function SchedulesPage() {
  const schedules = useSchedules((s) => s.schedules);
  const loaded = useSchedules((s) => s.loaded);
  const error = useSchedules((s) => s.error);
  const busy = useSchedules((s) => s.busy);
  const [adding, setAdding] = useState(false);
  const s = schedulesStore.getState();

  useEffect(() => {
    void s.load();
    const timer = setInterval(() => void schedulesStore.getState().load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  return (
    <div className="page schedules-page">
      <header className="page-head">
        <h1>Schedules</h1>
        <p className="lead">Jobs that run by themselves on a cron schedule, with stored parameters and an input file.</p>
      </header>
      <ErrorNote message={error} onClose={() => s.clearError()} />
      {adding ? (
        <NewScheduleForm onDone={() => setAdding(false)} />
      ) : (
        <div className="runs-summary">
          <button type="button" className="btn primary" onClick={() => setAdding(true)}>
            New schedule
          </button>
        </div>
      )}
      {loaded && schedules.length === 0 ? (
        <Empty title="No schedules yet">Create one to run a job every night, every hour, or on any cron expression.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="runs-table" data-testid="schedules-table">
            <thead>
              <tr>
                <th>On</th>
                <th>Job</th>
                <th>Cron</th>
                <th>Next run</th>
                <th>Last run</th>
                <th className="num">Runs</th>
                <th>Input</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {schedules.map((x) => (
                <tr key={x.id} data-schedule={x.id}>
                  <td>
                    <Switch label={`Schedule ${x.id} enabled`} checked={x.enabled} disabled={busy.includes(x.id)} onChange={(on) => void s.setEnabled(x.id, on)} />
                  </td>
                  <td>
                    <strong>{x.job}</strong>
                    <div className="muted small ellipsis" title={Object.entries(x.params).map(([k, v]) => `${k}=${v}`).join(' ')}>
                      {x.submission_name}
                    </div>
                  </td>
                  <td className="mono">
                    {x.cron}
                    {x.timezone && <div className="muted small">{x.timezone}</div>}
                  </td>
                  <td title={x.next_run_at ?? ''} data-testid="next-run">
                    {x.next_run_at ? formatTime(x.next_run_at) : <span className="muted">off</span>}
                  </td>
                  <td title={x.last_error ?? x.last_run_at ?? ''}>
                    {x.last_run_at ? formatTime(x.last_run_at) : <span className="muted">never</span>}
                    {x.last_error ? (
                      <div className="hint error ellipsis">{x.last_error}</div>
                    ) : (
                      x.last_batch_uuid && (
                        <div className="small">
                          <a
                            href="#/runs"
                            onClick={(e) => {
                              e.preventDefault();
                              navigate('#/runs');
                            }}
                          >
                            see runs
                          </a>
                        </div>
                      )
                    )}
                  </td>
                  <td className="num">{x.runs}</td>
                  <td className="small">
                    <a href={schedulesApi.inputUrl(x.id)} download={x.input_name}>
                      {x.input_name}
                    </a>{' '}
                    <span className="muted">{formatBytes(x.input_size)}</span>
                  </td>
                  <td className="row-actions">
                    <button type="button" className="btn small" disabled={busy.includes(x.id)} onClick={() => void s.runNow(x.id)}>
                      Run now
                    </button>{' '}
                    <button
                      type="button"
                      className="btn small danger ghost"
                      disabled={busy.includes(x.id)}
                      onClick={() => {
                        if (window.confirm(`Delete the schedule of ${x.job} (${x.cron})?`)) void s.remove(x.id);
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
