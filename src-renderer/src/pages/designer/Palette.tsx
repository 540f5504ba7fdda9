// The palette: existing Tasks, a new Task and validator types, dragged onto the canvas (or added with Enter).
import { useMemo, useState, type DragEvent, type KeyboardEvent } from 'react';
import { useReactFlow } from '@xyflow/react';
import { useDesigner } from './store';
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

export function Palette() {
  const tasks = useDesigner((s) => s.tasks);
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
          <PaletteEntry
            key={t.id}
            item={{ kind: 'task', name: t.name }}
            title={t.name}
            detail={t.executable.split('\n')[0] || '(no command)'}
            testId={`palette-task-${t.name}`}
          />
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
    </aside>
  );
}
