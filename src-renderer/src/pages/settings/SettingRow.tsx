// One labelled settings row: the control gets the label's id (a row may hold a button too, which a wrapping label would
// take), with a hint and, for saved-together settings, when a change applies.
import { useId, type ReactNode } from 'react';

export function SettingRow(props: { label: string; hint?: ReactNode; applies?: 'live' | 'restart'; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="setting-row">
      <div className="setting-label">
        <label htmlFor={id}>{props.label}</label>
        {props.hint && <div className="hint">{props.hint}</div>}
      </div>
      <div className="setting-control">
        {props.children(id)}
        {props.applies && (
          <span className={`apply-note ${props.applies}`}>{props.applies === 'restart' ? 'applies after a restart' : 'applies at once'}</span>
        )}
      </div>
    </div>
  );
}
