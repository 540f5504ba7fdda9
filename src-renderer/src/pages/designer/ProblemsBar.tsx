// The problems strip over the canvas: what stops publishing, each one selecting the steps it is about.
import { useState } from 'react';
import { useReactFlow } from '@xyflow/react';
import { designerStore, useDesigner } from './store';

export function ProblemsBar() {
  const problems = useDesigner((s) => s.problems);
  const checked = useDesigner((s) => s.checkedSerial !== null);
  const dirty = useDesigner((s) => s.dirty);
  const published = useDesigner((s) => s.published);
  const [open, setOpen] = useState(true);
  const rf = useReactFlow();
  if (!checked) return null;
  if (problems.length === 0) {
    return (
      <div className="problems ok" data-testid="problems">
        ✓ No problems{dirty ? ': ready to publish once saved' : published ? ' · published' : ': ready to publish'}
      </div>
    );
  }
  const focus = (keys: string[]) => {
    designerStore.getState().select(keys);
    if (keys.length) void rf.fitView({ nodes: keys.map((id) => ({ id })), padding: 0.6, duration: 250, maxZoom: 1.2 });
  };
  return (
    <div className="problems" data-testid="problems">
      <button type="button" className="problems-head" onClick={() => setOpen(!open)} aria-expanded={open}>
        ⚠ {problems.length} problem{problems.length > 1 ? 's' : ''} before publishing {open ? '▾' : '▸'}
      </button>
      {open && (
        <ul>
          {problems.map((p, i) => (
            <li key={i} className={`problem-${p.code}`}>
              <button type="button" className="linkish" onClick={() => focus(p.keys)}>
                {p.message}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
