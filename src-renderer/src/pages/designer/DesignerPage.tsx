// The designer page: job list when nothing is open, else toolbar + palette + canvas + properties, with shortcuts and the leave guard.
import { useEffect, useRef, useState } from 'react';
import { ReactFlowProvider } from '@xyflow/react';
import { navigate, routerStore } from '../../app/router';
import { toast } from '../../app/toasts';
import { api, subscribeEvents } from '../../api/client';
import { Dialog, Empty, ErrorNote, Icon, ConfirmDialog } from '../../components/ui';
import { designerStore, useDesigner } from './store';
import { Canvas } from './Canvas';
import { Palette } from './Palette';
import { PropertiesPanel } from './PropertiesPanel';
import { TestRunPanel } from './TestRunPanel';
import { ProblemsBar } from './ProblemsBar';

const editable = (target: EventTarget | null): boolean => {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
};

function useShortcuts() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const s = designerStore.getState();
      if (!s.doc) return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 's') {
        e.preventDefault();
        void s.save().then((ok) => ok && toast('ok', 'Saved'));
        return;
      }
      if (editable(e.target)) return;
      if (mod && key === 'z' && !e.shiftKey) s.undo();
      else if ((mod && key === 'z' && e.shiftKey) || (mod && key === 'y')) s.redo();
      else if (mod && key === 'c') s.copySelection();
      else if (mod && key === 'v') s.paste();
      else if (mod && key === 'd') s.duplicateSelection();
      else if (mod && key === 'a') s.select(s.doc.nodes.map((n) => n.id));
      else if (!mod && (e.key === 'Delete' || e.key === 'Backspace')) s.deleteSelection();
      else if (!mod && key === 'l') s.layout();
      else if (!mod && key === 'f') s.requestFit();
      else if (e.key === 'Escape') s.select([]);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

/** Unsaved work is never lost silently: in-app navigation asks, closing the window warns. */
function useLeaveGuard() {
  useEffect(() => {
    routerStore.getState().setGuard((next) => {
      const s = designerStore.getState();
      if (!s.doc || !s.dirty) return null;
      if (next.page === 'designer' && next.job !== undefined && next.job === s.original) return null;
      return {
        question: `“${s.doc.name || 'The new job'}” has unsaved changes.`,
        save: () => designerStore.getState().save(),
      };
    });
    const beforeUnload = (e: BeforeUnloadEvent) => {
      if (designerStore.getState().dirty) {
        e.preventDefault();
        e.returnValue = '';
      }
    };
    window.addEventListener('beforeunload', beforeUnload);
    return () => {
      routerStore.getState().setGuard(null);
      window.removeEventListener('beforeunload', beforeUnload);
      // Leaving was confirmed: drop what was not saved.
      if (designerStore.getState().dirty) designerStore.getState().close();
    };
  }, []);
}

/** Re-checks the draft shortly after each edit. */
function useProblemsCheck() {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const schedule = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void designerStore.getState().refreshProblems(), 300);
    };
    schedule();
    const off = designerStore.subscribe((s, prev) => {
      if (s.doc !== prev.doc && s.doc) schedule();
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, []);
}

function JobList() {
  const jobs = useDesigner((s) => s.jobs);
  const loaded = useDesigner((s) => s.catalogLoaded);
  const [name, setName] = useState('');
  const [deleting, setDeleting] = useState<string | null>(null);
  const taken = jobs.some((j) => j.name === name.trim());
  const create = (e: React.FormEvent) => {
    e.preventDefault();
    if (!name.trim() || taken) return;
    designerStore.getState().newJob(name.trim());
  };
  return (
    <div className="page">
      <header className="page-head">
        <h1>Designer</h1>
        <p className="lead">Wire Validators → Steps → Tasks into a Job, check it, and publish it as a web service.</p>
      </header>
      <form className="card new-job" onSubmit={create}>
        <label htmlFor="new-job-name">New job</label>
        <input
          id="new-job-name"
          placeholder="job name, e.g. tmp_count"
          value={name}
          onChange={(e) => setName(e.target.value.replace(/\s/g, '_'))}
          autoComplete="off"
        />
        <button type="submit" className="btn primary" disabled={!name.trim() || taken}>
          <Icon name="plus" /> Create job
        </button>
        {taken && <span className="hint error">A job with this name exists.</span>}
        <span className="toolbar-spacer" />
        <CwlImport />
      </form>
      {loaded && jobs.length === 0 && <Empty title="No jobs yet">Create one above: it opens on an empty canvas.</Empty>}
      <div className="job-grid">
        {jobs.map((j) => (
          <div className="card job-card" key={j.id}>
            <div className="job-card-head">
              <a
                href={`#/designer/${encodeURIComponent(j.name)}`}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(`#/designer/${encodeURIComponent(j.name)}`);
                }}
              >
                {j.name}
              </a>
              <span className={`badge ${j.runnable ? 'state-complete' : 'muted'}`}>{j.runnable ? 'Published' : 'Draft'}</span>
            </div>
            <p className="muted">{j.description || `${j.steps.length} step${j.steps.length === 1 ? '' : 's'}`}</p>
            <div className="job-card-foot">
              <span className="muted small">
                {j.steps.map((s) => s.task).slice(0, 4).join(' · ')}
                {j.steps.length > 4 ? ' …' : ''}
              </span>
              <button type="button" className="btn small ghost" onClick={() => setDeleting(j.name)} aria-label={`Delete job ${j.name}`}>
                <Icon name="trash" size={15} />
              </button>
            </div>
          </div>
        ))}
      </div>
      {deleting && (
        <ConfirmDialog
          title={`Delete “${deleting}”?`}
          onClose={() => setDeleting(null)}
          confirm="Delete job"
          onConfirm={async () => {
            const name = deleting;
            setDeleting(null);
            if (await designerStore.getState().deleteJob(name)) toast('ok', `Deleted ${name}`);
            else toast('error', designerStore.getState().error ?? 'Could not delete the job');
          }}
        >
          <p>Its steps and validators go; its Tasks and past runs stay.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

/** Imports CWL files chosen together: tools become Tasks, workflows Jobs; nothing is written unless all are valid. */
function CwlImport() {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const load = async (list: FileList | null) => {
    if (!list || list.length === 0) return;
    setBusy(true);
    try {
      const files = await Promise.all([...list].map(async (f) => ({ name: f.name, text: await f.text() })));
      const summary = await api.importCwl(files);
      const count = (r: Record<string, number>) => (r.tasks ?? 0) + (r.jobs ?? 0);
      const made = Object.entries(summary.created)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ');
      toast('ok', `Imported from CWL: ${made || 'nothing new'}${count(summary.updated) ? `; replaced ${count(summary.updated)}` : ''}`);
      for (const note of summary.notes) toast('info', note);
      await designerStore.getState().loadCatalog();
    } catch (error) {
      toast('error', `CWL import failed: ${(error as Error).message}`);
    } finally {
      setBusy(false);
      if (input.current) input.current.value = '';
    }
  };
  return (
    <>
      <input ref={input} type="file" multiple accept=".cwl,.yml,.yaml,.json" hidden aria-label="CWL files" onChange={(e) => void load(e.target.files)} />
      <button type="button" className="btn" disabled={busy} onClick={() => input.current?.click()}>
        {busy ? 'Importing…' : 'Import CWL…'}
      </button>
    </>
  );
}

function Toolbar({ panel, setPanel }: { panel: 'properties' | 'test'; setPanel: (p: 'properties' | 'test') => void }) {
  // The name only: the toolbar must not re-render on every drag frame.
  const name = useDesigner((s) => s.doc?.name);
  const dirty = useDesigner((s) => s.dirty);
  const original = useDesigner((s) => s.original);
  const published = useDesigner((s) => s.published);
  const busy = useDesigner((s) => s.busy);
  const canUndo = useDesigner((s) => s.past.length > 0);
  const canRedo = useDesigner((s) => s.future.length > 0);
  const problems = useDesigner((s) => s.problems);
  const checked = useDesigner((s) => s.checkedSerial !== null);
  const [leaving, setLeaving] = useState(false);
  const [help, setHelp] = useState(false);
  if (name === undefined) return null;
  const s = designerStore.getState();

  const reason = !original || dirty ? 'Save first' : !checked ? 'Checking…' : problems.length ? `${problems.length} problem${problems.length > 1 ? 's' : ''} to fix` : null;
  const save = async () => {
    const wasNew = original === null;
    if (await s.save()) {
      toast('ok', 'Saved');
      const name = designerStore.getState().original;
      if (name && (wasNew || name !== original)) routerStore.getState().navigate(`#/designer/${encodeURIComponent(name)}`);
    }
  };
  const publish = async () => {
    await s.publish();
    if (designerStore.getState().published) toast('ok', `${name} is published`);
  };
  const toList = () => {
    if (dirty) setLeaving(true);
    else if (original) navigate('#/designer');
    else s.close();
  };

  return (
    <header className="toolbar">
      <button type="button" className="btn ghost" onClick={toList} title="All jobs">
        ← Jobs
      </button>
      <input
        className="job-name"
        aria-label="Job name"
        value={name}
        onChange={(e) => s.setMeta({ name: e.target.value.replace(/\s/g, '_') })}
      />
      <span className={`badge ${published ? 'state-complete' : 'muted'}`}>{published ? 'Published' : 'Draft'}</span>
      {dirty && <span className="badge unsaved">Unsaved</span>}
      <div className="toolbar-group" role="group" aria-label="Edit">
        <button type="button" className="btn icon" onClick={s.undo} disabled={!canUndo} title="Undo (Ctrl+Z)" aria-label="Undo">
          <Icon name="undo" />
        </button>
        <button type="button" className="btn icon" onClick={s.redo} disabled={!canRedo} title="Redo (Ctrl+Shift+Z)" aria-label="Redo">
          <Icon name="redo" />
        </button>
        <button type="button" className="btn icon" onClick={s.duplicateSelection} title="Duplicate selection (Ctrl+D)" aria-label="Duplicate">
          <Icon name="copy" />
        </button>
        <button type="button" className="btn icon" onClick={s.deleteSelection} title="Delete selection (Del)" aria-label="Delete selection">
          <Icon name="trash" />
        </button>
        <button type="button" className="btn icon" onClick={s.layout} title="Auto-layout (L)" aria-label="Auto-layout">
          <Icon name="layout" />
        </button>
        <button type="button" className="btn icon" onClick={s.requestFit} title="Fit view (F)" aria-label="Fit view">
          <Icon name="fit" />
        </button>
        <button type="button" className="btn icon" onClick={() => setHelp(true)} title="Keyboard shortcuts" aria-label="Keyboard shortcuts">
          ?
        </button>
      </div>
      <div className="toolbar-spacer" />
      <div className="toolbar-group">
        {original && (
          <a className="btn" href={api.cwlZipUrl(original)} download={`${original}.zip`} title="The saved job as a CWL workflow with its tools (zip)">
            Export CWL
          </a>
        )}
        <button type="button" className={`btn ${panel === 'test' ? 'active' : ''}`} onClick={() => setPanel(panel === 'test' ? 'properties' : 'test')}>
          <Icon name="play" size={15} /> Test run
        </button>
        <button type="button" className={`btn ${dirty ? 'primary' : ''}`} onClick={save} disabled={busy === 'saving'}>
          {busy === 'saving' ? 'Saving…' : 'Save'}
        </button>
        {published ? (
          <button type="button" className="btn" onClick={() => void s.unpublish()}>
            Unpublish
          </button>
        ) : (
          <span className="publish">
            <button type="button" className="btn primary" onClick={publish} disabled={!!reason || busy === 'publishing'}>
              Publish
            </button>
            {reason && (
              <span className="publish-reason" data-testid="publish-reason">
                {reason}
              </span>
            )}
          </span>
        )}
      </div>
      {leaving && (
        <ConfirmDialog
          title="Leave without saving?"
          onClose={() => setLeaving(false)}
          cancel="Stay"
          confirm="Discard changes"
          onConfirm={() => {
            setLeaving(false);
            s.close();
            navigate('#/designer');
          }}
        >
          <p>“{name || 'The new job'}” has unsaved changes.</p>
        </ConfirmDialog>
      )}
      {help && (
        <Dialog title="Keyboard shortcuts" onClose={() => setHelp(false)} actions={<button type="button" className="btn" onClick={() => setHelp(false)}>Close</button>}>
          <table className="shortcuts">
            <tbody>
              {[
                ['Ctrl+S', 'Save'],
                ['Ctrl+Z / Ctrl+Shift+Z', 'Undo / redo'],
                ['Ctrl+C / Ctrl+V', 'Copy / paste steps'],
                ['Ctrl+D', 'Duplicate steps'],
                ['Ctrl+A', 'Select all'],
                ['Delete', 'Delete selected steps and edges'],
                ['L', 'Auto-layout'],
                ['F', 'Fit view'],
                ['Shift+drag', 'Select an area'],
                ['Esc', 'Clear selection'],
              ].map(([k, v]) => (
                <tr key={k}>
                  <td>
                    <kbd>{k}</kbd>
                  </td>
                  <td>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Dialog>
      )}
    </header>
  );
}

function Editor() {
  const [panel, setPanel] = useState<'properties' | 'test'>('properties');
  const error = useDesigner((s) => s.error);
  useShortcuts();
  useProblemsCheck();
  useEffect(() => subscribeEvents((e) => designerStore.getState().applyRunEvent(e)), []);
  return (
    <ReactFlowProvider>
      <div className="designer">
        <Toolbar panel={panel} setPanel={setPanel} />
        <div className="designer-body">
          <Palette />
          <div className="canvas-wrap">
            <Canvas />
            <ProblemsBar />
            <div className="canvas-error">
              <ErrorNote message={error} onClose={() => designerStore.getState().clearError()} />
            </div>
          </div>
          <aside className="panel" aria-label={panel === 'test' ? 'Test run' : 'Properties'}>
            <div className="panel-tabs" role="tablist">
              <button type="button" role="tab" aria-selected={panel === 'properties'} className={panel === 'properties' ? 'active' : ''} onClick={() => setPanel('properties')}>
                Properties
              </button>
              <button type="button" role="tab" aria-selected={panel === 'test'} className={panel === 'test' ? 'active' : ''} onClick={() => setPanel('test')}>
                Test run
              </button>
            </div>
            <div className="panel-body">{panel === 'properties' ? <PropertiesPanel /> : <TestRunPanel />}</div>
          </aside>
        </div>
      </div>
    </ReactFlowProvider>
  );
}

export function DesignerPage({ job }: { job?: string }) {
  const doc = useDesigner((s) => s.doc !== null);
  const original = useDesigner((s) => s.original);
  const busy = useDesigner((s) => s.busy);
  const error = useDesigner((s) => s.error);
  const opened = useRef<string | null>(null);
  useLeaveGuard();
  useEffect(() => {
    void designerStore.getState().loadCatalog();
  }, []);
  useEffect(() => {
    const s = designerStore.getState();
    if (job && job !== s.original) {
      opened.current = job;
      void s.open(job);
    } else if (!job && s.original !== null) s.close();
  }, [job]);
  if (job && busy === 'loading') return <div className="page muted">Opening {job}…</div>;
  if (job && !doc && error) {
    return (
      <div className="page">
        <ErrorNote message={error} />
        <button type="button" className="btn" onClick={() => navigate('#/designer')}>
          Back to jobs
        </button>
      </div>
    );
  }
  if (!doc || (job && original !== job && opened.current !== job)) return <JobList />;
  return <Editor />;
}
