// Limits per service: its own upload cap, unfinished-run cap, deadline and retention, each falling back to the global setting.
import { useState } from 'react';
import type { ServicePolicy } from '../../api/types';
import { toast } from '../../app/toasts';
import { accessStore, useAccess } from './store';

type LimitKey = Exclude<keyof ServicePolicy, 'job_name' | 'public'>;

/** The columns: what each limit is called, the unit it is typed in, and the factor to the stored unit. */
const COLUMNS: Array<{ key: LimitKey; label: string; scale: number }> = [
  { key: 'upload_limit_bytes', label: 'Upload (MiB)', scale: 1024 * 1024 },
  { key: 'max_active', label: 'Unfinished at most', scale: 1 },
  { key: 'deadline_s', label: 'Deadline (s)', scale: 1 },
  { key: 'retain_days', label: 'Keep (days)', scale: 1 },
  { key: 'retain_count', label: 'Keep (runs)', scale: 1 },
  { key: 'retain_bytes', label: 'Keep (GiB)', scale: 1024 ** 3 },
];

const shown = (value: number | null, scale: number) => (value === null ? '' : String(Math.round((value / scale) * 1000) / 1000));

function LimitsRow({ policy }: { policy: ServicePolicy }) {
  const busy = useAccess((s) => s.busy.includes(policy.job_name));
  const initial = Object.fromEntries(COLUMNS.map((c) => [c.key, shown(policy[c.key], c.scale)])) as Record<LimitKey, string>;
  const [draft, setDraft] = useState(initial);
  const changed = COLUMNS.filter((c) => draft[c.key].trim() !== initial[c.key]);
  const invalid = COLUMNS.some((c) => draft[c.key].trim() !== '' && !(Number(draft[c.key]) > 0));
  const save = async () => {
    const patch: Partial<Record<LimitKey, number | null>> = {};
    for (const c of changed) {
      const text = draft[c.key].trim();
      patch[c.key] = text === '' ? null : Math.round(Number(text) * c.scale);
    }
    if (await accessStore.getState().savePolicy(policy.job_name, patch)) toast('ok', `Limits of ${policy.job_name} saved`);
  };
  return (
    <tr data-service={policy.job_name}>
      <td>
        <strong>{policy.job_name}</strong>
      </td>
      {COLUMNS.map((c) => (
        <td key={c.key}>
          <input
            aria-label={`${policy.job_name}: ${c.label}`}
            className="narrow-input"
            type="number"
            min={0}
            step="any"
            value={draft[c.key]}
            placeholder="default"
            onChange={(e) => setDraft({ ...draft, [c.key]: e.target.value })}
          />
        </td>
      ))}
      <td className="row-actions">
        <button type="button" className="btn small" disabled={busy || changed.length === 0 || invalid} onClick={() => void save()}>
          Save
        </button>
      </td>
    </tr>
  );
}

export function ServiceLimits({ policies }: { policies: ServicePolicy[] }) {
  if (policies.length === 0) return <p className="muted small">No jobs yet.</p>;
  return (
    <table className="edit-table" data-testid="service-limits">
      <thead>
        <tr>
          <th>Service</th>
          {COLUMNS.map((c) => (
            <th key={c.key}>{c.label}</th>
          ))}
          <th />
        </tr>
      </thead>
      <tbody>
        {policies.map((p) => (
          // Keyed by the saved values, so a save (or a reload) starts the row afresh.
          <LimitsRow key={`${p.job_name}:${COLUMNS.map((c) => p[c.key]).join(',')}`} policy={p} />
        ))}
      </tbody>
    </table>
  );
}
