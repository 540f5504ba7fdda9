// The runs list and the run page: filters, keyset pages, live updates from run events, and run actions.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { api, type RunQuery } from '../../api/client';
import type { RunDetail, RunEvent, RunRow } from '../../api/types';
import { isFinalState, stateLabel } from '../../components/format';

export interface RunFilters {
  job: string;
  state: string;
  client: string;
  /** datetime-local values (local time), '' when unset. */
  since: string;
  until: string;
}

export const NO_FILTERS: RunFilters = { job: '', state: '', client: '', since: '', until: '' };
export const PAGE_SIZE = 50;

export interface RunsState {
  filters: RunFilters;
  runs: RunRow[];
  total: number;
  next: number | null;
  /** `before` cursors of the pages visited; the last is the current page (undefined = newest). */
  cursors: Array<number | undefined>;
  jobs: string[];
  clients: string[];
  loading: boolean;
  error: string | null;
  /** A change arrived that the current page does not show yet. */
  stale: boolean;

  setFilters(patch: Partial<RunFilters>): Promise<void>;
  resetFilters(): Promise<void>;
  load(): Promise<void>;
  older(): Promise<void>;
  newer(): Promise<void>;
  applyEvent(event: RunEvent): void;
}

const localToIso = (v: string): string | undefined => {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
};

export function queryOf(filters: RunFilters, before: number | undefined): RunQuery {
  return {
    job: filters.job || undefined,
    state: filters.state || undefined,
    client: filters.client || undefined,
    since: localToIso(filters.since),
    until: localToIso(filters.until),
    before,
    limit: PAGE_SIZE,
  };
}

/** Whether a run in `label` state belongs under the state filter. */
export function stateMatches(filter: string, label: string): boolean {
  if (!filter) return true;
  return filter.split(',').some((f) => (f === 'active' ? label === 'Submitted' || label === 'Running' : f === label));
}

export function createRunsStore(reloadDelayMs = 400) {
  let reloadTimer: ReturnType<typeof setTimeout> | null = null;
  let sequence = 0;
  return createStore<RunsState>()((set, get) => {
    const scheduleReload = () => {
      if (reloadTimer) return;
      reloadTimer = setTimeout(() => {
        reloadTimer = null;
        void get().load();
      }, reloadDelayMs);
    };
    const fetchPage = async (cursors: Array<number | undefined>) => {
      const mine = ++sequence;
      set({ loading: true, error: null });
      try {
        const page = await api.runs(queryOf(get().filters, cursors[cursors.length - 1]));
        if (mine !== sequence) return;
        set({ runs: page.runs, total: page.total, next: page.next, jobs: page.jobs, clients: page.clients, cursors, loading: false, stale: false });
      } catch (error) {
        if (mine === sequence) set({ loading: false, error: (error as Error).message });
      }
    };
    return {
      filters: NO_FILTERS,
      runs: [],
      total: 0,
      next: null,
      cursors: [undefined],
      jobs: [],
      clients: [],
      loading: false,
      error: null,
      stale: false,

      async setFilters(patch) {
        set({ filters: { ...get().filters, ...patch } });
        await fetchPage([undefined]);
      },
      async resetFilters() {
        set({ filters: NO_FILTERS });
        await fetchPage([undefined]);
      },
      load: () => fetchPage(get().cursors),
      async older() {
        const { next, cursors } = get();
        if (next === null) return;
        await fetchPage([...cursors, next]);
      },
      async newer() {
        const { cursors } = get();
        if (cursors.length <= 1) return;
        await fetchPage(cursors.slice(0, -1));
      },

      applyEvent(event) {
        if (event.type !== 'submission') return;
        const label = stateLabel(event.status);
        const { runs, filters, cursors } = get();
        const i = runs.findIndex((r) => r.uuid === event.uuid);
        if (i >= 0) {
          const final = isFinalState(label);
          const patched: RunRow = {
            ...runs[i],
            status: event.status,
            state: label as RunRow['state'],
            last_message: event.last_message,
            modified_at: event.at,
            ...(final ? { finished_at: event.at, duration_ms: Math.max(0, Date.parse(event.at) - Date.parse(runs[i].created_at)) } : {}),
          };
          set({ runs: runs.map((r, j) => (j === i ? patched : r)) });
          // The server's own finish time replaces the estimate shortly after.
          if (final) scheduleReload();
          return;
        }
        const wanted = (!filters.job || filters.job === event.job) && stateMatches(filters.state, label);
        if (!wanted) return;
        // New runs appear at the top: refresh the newest page; elsewhere just say there is more.
        if (cursors.length === 1) scheduleReload();
        else set({ stale: true });
      },
    };
  });
}

export const runsStore = createRunsStore();
export const useRuns = <T>(selector: (s: RunsState) => T): T => useStore(runsStore, selector);

export interface RunPageState {
  uuid: string | null;
  detail: RunDetail | null;
  loading: boolean;
  error: string | null;
  gone: boolean;
  load(uuid: string): Promise<void>;
  applyEvent(event: RunEvent): void;
  rerun(): Promise<string | null>;
  cancel(): Promise<void>;
  remove(): Promise<boolean>;
}

export function createRunPageStore(reloadDelayMs = 250) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return createStore<RunPageState>()((set, get) => ({
    uuid: null,
    detail: null,
    loading: false,
    error: null,
    gone: false,

    async load(uuid) {
      const switching = get().uuid !== uuid;
      set({ uuid, loading: true, error: null, gone: false, ...(switching ? { detail: null } : {}) });
      try {
        const detail = await api.run(uuid);
        if (get().uuid === uuid) set({ detail, loading: false });
      } catch (error) {
        if (get().uuid === uuid) set({ loading: false, error: (error as Error).message });
      }
    },

    applyEvent(event) {
      const uuid = get().uuid;
      if (!uuid) return;
      const mine = (event.type === 'submission' && event.uuid === uuid) || (event.type === 'attempt' && event.submission_uuid === uuid);
      if (!mine || timer) return;
      timer = setTimeout(() => {
        timer = null;
        if (get().uuid === uuid) void get().load(uuid);
      }, reloadDelayMs);
    },

    async rerun() {
      const uuid = get().uuid;
      if (!uuid) return null;
      try {
        return (await api.rerun(uuid)).submission_uuid;
      } catch (error) {
        set({ error: (error as Error).message });
        return null;
      }
    },

    async cancel() {
      const uuid = get().uuid;
      if (!uuid) return;
      try {
        await api.cancel(uuid);
        await get().load(uuid);
      } catch (error) {
        set({ error: (error as Error).message });
      }
    },

    async remove() {
      const uuid = get().uuid;
      if (!uuid) return false;
      try {
        await api.deleteRun(uuid);
        set({ gone: true, detail: null });
        return true;
      } catch (error) {
        set({ error: (error as Error).message });
        return false;
      }
    },
  }));
}

export const runPageStore = createRunPageStore();
export const useRunPage = <T>(selector: (s: RunPageState) => T): T => useStore(runPageStore, selector);
