// The storage gauge: what the data directory holds (database, run files, work in progress) against the disk, and a sweep on demand.
import { formatBytes, formatTime } from '../../components/format';
import { toast } from '../../app/toasts';
import { settingsStore, useSettings } from './store';
import type { StorageGauge as Gauge } from '../../api/types';

export interface GaugePart {
  key: 'db' | 'files' | 'work' | 'other' | 'free';
  label: string;
  bytes: number;
  /** Share of the whole bar, 0..1. */
  share: number;
}

/**
 * The bar's parts. With the disk size known the bar is the disk (other programs' use included); without it the bar is
 * only what the workbench holds.
 */
export function gaugeParts(g: Gauge): GaugePart[] {
  const db = g.db_bytes + g.wal_bytes;
  const ours = db + g.files_bytes + g.work_bytes;
  const disk = g.disk_bytes;
  const free = g.free_bytes;
  const whole = disk && disk > 0 ? disk : Math.max(ours, 1);
  const other = disk && free !== null ? Math.max(0, disk - free - ours) : 0;
  const parts: Array<Omit<GaugePart, 'share'>> = [
    { key: 'db', label: 'Database', bytes: db },
    { key: 'files', label: 'Run files', bytes: g.files_bytes },
    { key: 'work', label: 'Work in progress', bytes: g.work_bytes },
  ];
  if (disk) parts.push({ key: 'other', label: 'Other use of the disk', bytes: other }, { key: 'free', label: 'Free', bytes: free ?? 0 });
  return parts.map((p) => ({ ...p, share: Math.min(1, p.bytes / whole) }));
}

const count = (n: number, word: string): string => `${n.toLocaleString()} ${word}${n === 1 ? '' : 's'}`;

export function StorageGauge() {
  const gauge = useSettings((s) => s.storage);
  const sweeping = useSettings((s) => s.sweeping);
  if (!gauge) return null;
  const parts = gaugeParts(gauge);
  const ours = gauge.db_bytes + gauge.wal_bytes + gauge.files_bytes + gauge.work_bytes;
  const last = gauge.last_sweep;
  const sweep = async () => {
    const report = await settingsStore.getState().sweep();
    if (report) toast('ok', report.removed ? `Removed ${report.removed} run${report.removed === 1 ? '' : 's'}, freed ${formatBytes(report.freed_bytes)}` : 'Nothing to remove');
  };
  return (
    <div className="storage" data-testid="storage-gauge">
      <div className="storage-head">
        <span>
          <strong>{formatBytes(ours)}</strong> in the data directory
          {gauge.free_bytes !== null && (
            <>
              {' '}
              · <strong>{formatBytes(gauge.free_bytes)}</strong> free
              {gauge.disk_bytes ? ` of ${formatBytes(gauge.disk_bytes)}` : ''}
            </>
          )}
        </span>
        <button type="button" className="btn small" onClick={() => void sweep()} disabled={sweeping}>
          {sweeping ? 'Sweeping…' : 'Apply retention now'}
        </button>
      </div>
      <div className="gauge" role="img" aria-label={parts.map((p) => `${p.label} ${formatBytes(p.bytes)}`).join(', ')}>
        {parts
          .filter((p) => p.key !== 'free')
          .map((p) => (
            <span key={p.key} className={`gauge-part ${p.key}`} style={{ width: `${(p.share * 100).toFixed(2)}%`, minWidth: p.bytes > 0 ? 3 : 0 }} title={`${p.label}: ${formatBytes(p.bytes)}`} />
          ))}
      </div>
      <div className="gauge-legend">
        {parts.map((p) => (
          <span key={p.key}>
            <span className={`gauge-key ${p.key}`} /> {p.label} <span className="muted">{formatBytes(p.bytes)}</span>
          </span>
        ))}
      </div>
      <p className="muted small">
        {count(gauge.counts.submissions, 'run')} ({gauge.counts.unfinished.toLocaleString()} unfinished), {count(gauge.counts.results, 'result file')}.{' '}
        {last ? `Last sweep ${formatTime(last.at)}: removed ${last.removed}, freed ${formatBytes(last.freed_bytes)}.` : 'No sweep yet.'}
      </p>
    </div>
  );
}
