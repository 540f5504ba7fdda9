// The palette: existing Tasks (each deletable), a new Task and validator types, dragged onto the canvas (or added with Enter).
import { useMemo, useState, type DragEvent, type KeyboardEvent } from 'react';
import { useReactFlow } from '@xyflow/react';
import { toast } from '../../app/toasts';
import { Dialog, Icon } from '../../components/ui';
import { designerStore, jobsUsingTask, useDesigner } from './store';
import { PALETTE_MIME, dropPalette, type PaletteItem } from './Canvas';

function startDrag(e: DragEvent, item: PaletteItem) {
  e.dataTransfer.setData(PALETTE_MIME, JSON.stringify(item));
  e.dataTransfer.effectAllowed = 'copy';
}

function PaletteEntry(props: { item: PaletteItem; title: string; detail?: string; className?: string; testId: string }) {
  const rf = useReactFlow();
  // Keyboard users add at the centre of the visible canvas.
  const add = () => {
    const el = document.querySelector('.canvas');
    const box = el?.getBoundingClientRect();
    const centre = box ? rf.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 }) : { x: 0, y: 0 };
    dropPalette(props.item, centre);
  };
  return (
    <div
      className={`palette-item ${props.className ?? ''}`}
      draggable
      tabIndex={0}
      role="button"
      aria-label={`${props.title}: drag onto the canvas or press Enter`}
      data-testid={props.testId}
      onDragStart={(e) => startDrag(e, props.item)}
      onKeyDown={(e: KeyboardEvent) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          add();
        }
      }}
      onDoubleClick={add}
    >
      <div className="palette-title">{props.title}</div>
      {props.detail && <div className="palette-detail">{props.detail}</div>}
    </div>
  );
}

function DeleteTaskDialog({ name, onClose }: { name: string; onClose: () => void }) {
  const jobs = useDesigner((s) => s.jobs);
  const original = useDesigner((s) => s.original);
  const dirty = useDesigner((s) => s.dirty);
  const users = jobsUsingTask(jobs, name);
  const [deleting, setDeleting] = useState(false);
  const remove = async () => {
    setDeleting(true);
    const ok = await designerStore.getState().deleteTask(name);
    setDeleting(false);
    onClose();
    if (ok) toast('ok', `Deleted task ${name}`);
    else toast('error', designerStore.getState().error ?? `Could not delete ${name}`);
  };
  return (
    <Dialog
      title={`Delete task “${name}”?`}
      onClose={onClose}
      actions={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn danger" onClick={() => void remove()} disabled={deleting}>
            Delete task
          </button>
        </>
      }
    >
      {users.length === 0 ? (
        <p data-testid="task-users">No job uses it.</p>
      ) : (
        <p data-testid="task-users">
          Used by {users.length === 1 ? 'the job' : `${users.length} jobs:`}{' '}
          {users.map((u, i) => (
            <span key={u}>
              {i > 0 && ', '}
              <strong>{u}</strong>
            </span>
          ))}
          . Its steps there are removed and the steps before and after them are joined up.
        </p>
      )}
      {dirty && original !== null && users.includes(original) && <p className="note">Unsaved changes to {original} are dropped.</p>}
      <p className="muted small">Past runs and their results stay.</p>
    </Dialog>
  );
}

export function Palette() {
  const tasks = useDesigner((s) => s.tasks);
  const [deleting, setDeleting] = useState<string | null>(null);
  const validatorTypes = useDesigner((s) => s.validatorTypes);
  const [filter, setFilter] = useState('');
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return f ? tasks.filter((t) => t.name.toLowerCase().includes(f) || t.executable.toLowerCase().includes(f)) : tasks;
  }, [tasks, filter]);
  return (
    <aside className="palette" aria-label="Palette">
      <section>
        <h3>Tasks</h3>
        <PaletteEntry item={{ kind: 'new-task' }} title="+ New Task" detail="an empty task to fill in" className="new" testId="palette-new-task" />
        {tasks.length > 6 && (
          <input className="palette-filter" placeholder="Filter tasks" aria-label="Filter tasks" value={filter} onChange={(e) => setFilter(e.target.value)} />
        )}
        {shown.map((t) => (
          <div className="palette-row" key={t.id}>
            <PaletteEntry
              item={{ kind: 'task', name: t.name }}
              title={t.name}
              detail={t.executable.split('\n')[0] || '(no command)'}
              testId={`palette-task-${t.name}`}
            />
            <button type="button" className="palette-delete" aria-label={`Delete task ${t.name}`} title={`Delete task ${t.name}`} onClick={() => setDeleting(t.name)}>
              <Icon name="trash" size={14} />
            </button>
          </div>
        ))}
        {tasks.length === 0 && <p className="muted small">Saved Tasks appear here for reuse.</p>}
      </section>
      <section>
        <h3>Validators</h3>
        <p className="muted small">Checks on the uploaded file, all of which must pass.</p>
        {validatorTypes.map((v) => (
          <PaletteEntry
            key={v.name}
            item={{ kind: 'validator', name: v.name }}
            title={v.name}
            detail={v.description}
            className="validator"
            testId={`palette-validator-${v.name}`}
          />
        ))}
      </section>
      {deleting && <DeleteTaskDialog name={deleting} onClose={() => setDeleting(null)} />}
    </aside>
  );
}
