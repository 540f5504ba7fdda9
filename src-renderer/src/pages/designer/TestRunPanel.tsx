// Test runs from the designer: drop a file, fill the parameters, run; step states light up and each step opens its attempt.
import { useEffect, useId, useState, type DragEvent } from 'react';
import { api } from '../../api/client';
import type { RunAttemptView } from '../../api/types';
import { navigate } from '../../app/router';
import { StateBadge } from '../../components/ui';
import { formatBytes, formatDuration, isFinalState, shellLine } from '../../components/format';
import { designerStore, usedDrafts, useDesigner } from './store';
import { isStep } from './graph';
import { restField } from '../../../../src-main/core/plan/params';

export function TestRunPanel() {
  const doc = useDesigner((s) => s.doc);
  const original = useDesigner((s) => s.original);
  const dirty = useDesigner((s) => s.dirty);
  const testRun = useDesigner((s) => s.testRun);
  const busy = useDesigner((s) => s.busy);
  const selectedStep = useDesigner((s) => {
    const sel = s.doc?.nodes.filter((n) => n.selected) ?? [];
    return sel.length === 1 && isStep(sel[0]) ? sel[0].id : null;
  });
  const [file, setFile] = useState<File | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const [over, setOver] = useState(false);
  const fileId = useId();
  if (!doc) return null;

  const fields = usedDrafts(doc).flatMap((d) =>
    d.parameters.map((p) => ({ field: restField(d.name, p.alias), bool: p.bool_valued, fallback: p.default ?? (p.bool_valued ? 'TRUE' : '') })),
  );
  const reason = !original || dirty ? 'Save the job first.' : !file ? 'Choose an input file.' : null;
  const run = () => {
    if (!file) return;
    const filled: Record<string, string> = {};
    for (const f of fields) filled[f.field] = values[f.field] ?? f.fallback;
    void designerStore.getState().startTestRun(file, filled);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const dropped = e.dataTransfer.files[0];
    if (dropped) setFile(dropped);
  };
  const steps = doc.nodes.filter(isStep);

  return (
    <div className="test-run">
      <h3 className="section-title">Test run</h3>
      <p className="muted small">Runs the saved job once with admin rights (even unpublished); the canvas shows each step's state live.</p>
      <div
        className={`dropzone${over ? ' over' : ''}${file ? ' has-file' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        {file ? (
          <span>
            <strong>{file.name}</strong> · {formatBytes(file.size)}
          </span>
        ) : (
          <span>Drop the input file here</span>
        )}
        <label htmlFor={fileId} className="btn small">
          {file ? 'Change…' : 'Choose…'}
        </label>
        <input id={fileId} type="file" className="visually-hidden" aria-label="Input file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </div>
      {fields.length > 0 && (
        <div className="test-fields">
          {fields.map((f) => (
            <label key={f.field} className="field">
              <span className="mono">{f.field}</span>
              {f.bool ? (
                <select aria-label={f.field} value={values[f.field] ?? f.fallback} onChange={(e) => setValues({ ...values, [f.field]: e.target.value })}>
                  <option>TRUE</option>
                  <option>FALSE</option>
                </select>
              ) : (
                <input aria-label={f.field} value={values[f.field] ?? f.fallback} onChange={(e) => setValues({ ...values, [f.field]: e.target.value })} />
              )}
            </label>
          ))}
        </div>
      )}
      <div className="test-actions">
        <button type="button" className="btn primary" onClick={run} disabled={!!reason || busy === 'running'}>
          {busy === 'running' ? 'Starting…' : 'Run'}
        </button>
        {reason && <span className="muted small">{reason}</span>}
      </div>
      {testRun && (
        <div className="test-status" data-testid="test-status">
          <div className="test-status-head">
            <StateBadge state={testRun.status} />
            <span className="muted small">{testRun.message}</span>
          </div>
          <ul className="step-states">
            {steps.map((n) => {
              const st = testRun.steps[n.id]?.state ?? 'waiting';
              return (
                <li key={n.id}>
                  <button type="button" className="linkish" onClick={() => designerStore.getState().select([n.id])}>
                    {n.id} · {doc.drafts[n.data.tid]?.name}
                  </button>
                  <span className={`run-chip run-${st}`}>{st}</span>
                </li>
              );
            })}
          </ul>
          {selectedStep ? (
            <AttemptView stepKey={selectedStep} link={false} />
          ) : (
            <p className="muted small">Click a step on the canvas to see its attempt.</p>
          )}
          <button type="button" className="btn small" onClick={() => navigate(`#/runs/${testRun.submission_uuid}`)}>
            Open run page
          </button>
          {isFinalState(testRun.status) && (
            <button type="button" className="btn small ghost" onClick={() => designerStore.getState().clearTestRun()}>
              Clear
            </button>
          )}
        </div>
      )}
    </div>
  );
}

/** The selected step's attempt in the current test run: command, exit, timings, output tails. */
export function AttemptView({ stepKey, link = true }: { stepKey: string; link?: boolean }) {
  const uuid = useDesigner((s) => s.testRun?.submission_uuid);
  const state = useDesigner((s) => s.testRun?.steps[stepKey]?.state);
  const attemptId = useDesigner((s) => s.testRun?.steps[stepKey]?.attempt_id ?? null);
  const [attempt, setAttempt] = useState<RunAttemptView | null>(null);
  useEffect(() => {
    if (!uuid || attemptId === null) {
      setAttempt(null);
      return;
    }
    let live = true;
    api.run(uuid).then(
      (detail) => live && setAttempt(detail.attempts.find((a) => a.id === attemptId) ?? null),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [uuid, attemptId, state]);
  if (!uuid) return null;
  return (
    <div className="attempt-view" data-testid="attempt-view">
      <div className="attempt-head">
        <h3 className="section-title">Attempt</h3>
        <span className={`run-chip run-${state ?? 'waiting'}`}>{state ?? 'waiting'}</span>
      </div>
      {!attempt ? (
        <p className="muted small">{state === 'waiting' || !state ? 'This step has not started.' : 'Loading…'}</p>
      ) : (
        <>
          <code className="preview-line">{attempt.argv ? shellLine(attempt.argv) : '(not rendered)'}</code>
          <dl className="facts">
            <dt>Exit code</dt>
            <dd>{attempt.exit_code ?? '—'}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(attempt.duration_ms)}</dd>
          </dl>
          {attempt.message && <p className="error-text small">{attempt.message}</p>}
          {attempt.stdout_tail && (
            <>
              <div className="preview-label">stdout</div>
              <pre className="log">{attempt.stdout_tail}</pre>
            </>
          )}
          {attempt.stderr_tail && (
            <>
              <div className="preview-label">stderr</div>
              <pre className="log err">{attempt.stderr_tail}</pre>
            </>
          )}
        </>
      )}
      {link && (
        <button type="button" className="btn small" onClick={() => navigate(`#/runs/${uuid}`)}>
          Open run page
        </button>
      )}
    </div>
  );
}
