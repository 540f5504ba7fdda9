// The runs list: filters, keyset pages of 50 (fast at any size) and live state changes.
import { useEffect } from 'react';
import { subscribeEvents } from '../../api/client';
import { navigate } from '../../app/router';
import { Empty, ErrorNote, StateBadge } from '../../components/ui';
import { formatDuration, formatTime, STATE_LABELS } from '../../components/format';
import { PAGE_SIZE, runsStore, useRuns } from './store';

export function RunsPage() {
  const s = runsStore.getState();
  const filters = useRuns((st) => st.filters);
  const runs = useRuns((st) => st.runs);
  const total = useRuns((st) => st.total);
  const next = useRuns((st) => st.next);
  const cursors = useRuns((st) => st.cursors);
  const jobs = useRuns((st) => st.jobs);
  const clients = useRuns((st) => st.clients);
  const loading = useRuns((st) => st.loading);
  const error = useRuns((st) => st.error);
  const stale = useRuns((st) => st.stale);

  useEffect(() => {
    void runsStore.getState().load();
    return subscribeEvents((e) => runsStore.getState().applyEvent(e));
  }, []);

  const page = cursors.length;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const filtered = Object.values(filters).some(Boolean);
  const open = (uuid: string) => navigate(`#/runs/${uuid}`);

  return (
    <div className="page runs-page">
      <header className="page-head">
        <h1>Runs</h1>
        <p className="lead">Every submission, newest first. States change live.</p>
      </header>
      <form className="filters card" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Job
          <select value={filters.job} onChange={(e) => void s.setFilters({ job: e.target.value })} aria-label="Filter by job">
            <option value="">All jobs</option>
            {jobs.map((j) => (
              <option key={j}>{j}</option>
            ))}
          </select>
        </label>
        <label>
          State
          <select value={filters.state} onChange={(e) => void s.setFilters({ state: e.target.value })} aria-label="Filter by state">
            <option value="">Any state</option>
            <option value="active">Active (Submitted or Running)</option>
            {STATE_LABELS.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </label>
        <label>
          Client
          <select value={filters.client} onChange={(e) => void s.setFilters({ client: e.target.value })} aria-label="Filter by client">
            <option value="">Any client</option>
            {clients.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" value={filters.since} onChange={(e) => void s.setFilters({ since: e.target.value })} aria-label="Submitted from" />
        </label>
        <label>
          Until
          <input type="datetime-local" value={filters.until} onChange={(e) => void s.setFilters({ until: e.target.value })} aria-label="Submitted until" />
        </label>
        <button type="button" className="btn ghost" onClick={() => void s.resetFilters()} disabled={!filtered}>
          Clear
        </button>
      </form>
      <ErrorNote message={error} />
      <div className="runs-summary">
        <span data-testid="runs-total">
          {total.toLocaleString()} run{total === 1 ? '' : 's'}
          {filtered ? ' match' : ''}
        </span>
        {stale && (
          <button type="button" className="btn small" onClick={() => void s.resetFilters()}>
            New runs: show newest
          </button>
        )}
        {loading && <span className="muted small">updating…</span>}
      </div>
      {runs.length === 0 && !loading ? (
        <Empty title={filtered ? 'No runs match these filters' : 'No runs yet'}>
          {filtered ? 'Clear the filters to see every run.' : 'Publish a job and POST a file to it, or start a test run from the designer.'}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="runs-table" data-testid="runs-table">
            <thead>
              <tr>
                <th>State</th>
                <th>Job</th>
                <th>Name</th>
                <th>Client</th>
                <th>Submitted</th>
                <th className="num">Duration</th>
                <th>Last message</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.uuid} onClick={() => open(r.uuid)} className="clickable" data-uuid={r.uuid}>
                  <td>
                    <StateBadge state={r.state} />
                  </td>
                  <td>
                    <a
                      href={`#/runs/${r.uuid}`}
                      onClick={(e) => {
                        e.preventDefault();
                        e.stopPropagation();
                        open(r.uuid);
                      }}
                    >
                      {r.job}
                    </a>
                  </td>
                  <td className="ellipsis">{r.submission_name}</td>
                  <td className="mono small">{r.client}</td>
                  <td title={r.created_at}>{formatTime(r.created_at)}</td>
                  <td className="num">{formatDuration(r.duration_ms)}</td>
                  <td className="ellipsis muted" title={r.last_message}>
                    {r.last_message}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="pager">
        <button type="button" className="btn" onClick={() => void s.newer()} disabled={page <= 1}>
          ← Newer
        </button>
        <span className="muted">
          Page {page} of {pages}
        </span>
        <button type="button" className="btn" onClick={() => void s.older()} disabled={next === null}>
          Older →
        </button>
      </div>
    </div>
  );
}
