// Settings: the running settings and their edits, which ones wait for a restart, backends, queue types and the queue switch.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { api } from '../../api/client';
import type { Backend, BackendInput, QueueStats, QueueType, QueueTypeInput, RetentionSettingKey, Settings, SettingsView, StorageGauge } from '../../api/types';

export interface SettingsState {
  view: SettingsView | null;
  /** Edited values not yet saved. */
  draft: Partial<Settings>;
  /** Saved settings that apply only after a restart. */
  restartPending: string[];
  backends: Backend[];
  queueTypes: QueueType[];
  queue: QueueStats | null;
  error: string | null;
  saving: boolean;
  savedAt: number | null;
  storage: StorageGauge | null;
  sweeping: boolean;

  load(): Promise<void>;
  loadStorage(): Promise<void>;
  /** Runs retention now; returns what it removed, or null when it failed. */
  sweep(): Promise<{ removed: number; freed_bytes: number } | null>;
  edit(patch: Partial<Settings>): void;
  discard(): void;
  save(): Promise<string[] | null>;
  saveBackend(previousName: string, input: BackendInput): Promise<boolean>;
  deleteBackend(name: string): Promise<void>;
  saveQueueType(previousName: string, input: QueueTypeInput): Promise<boolean>;
  deleteQueueType(name: string): Promise<void>;
  setPaused(paused: boolean): Promise<void>;
}

/** Only the settings whose edited value differs from the saved one. */
export function changedSettings(saved: Settings, draft: Partial<Settings>): Partial<Settings> {
  const out: Partial<Settings> = {};
  for (const [k, v] of Object.entries(draft) as Array<[keyof Settings, Settings[keyof Settings]]>) {
    if (saved[k] !== v) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** Retention settings are saved through their own route (checked with their own rules); the rest through /settings. */
export const RETENTION_KEYS: RetentionSettingKey[] = ['retain_days', 'retain_count', 'retain_bytes', 'retention_interval_s'];

export function splitPatch(patch: Partial<Settings>): { general: Partial<Settings>; retention: Partial<Settings> } {
  const general: Partial<Settings> = {};
  const retention: Partial<Settings> = {};
  for (const [k, v] of Object.entries(patch)) {
    const target = (RETENTION_KEYS as string[]).includes(k) ? retention : general;
    (target as Record<string, unknown>)[k] = v;
  }
  return { general, retention };
}

export function createSettingsStore() {
  return createStore<SettingsState>()((set, get) => {
    const fail = (error: unknown) => set({ error: (error as Error).message });
    return {
      view: null,
      draft: {},
      restartPending: [],
      backends: [],
      queueTypes: [],
      queue: null,
      error: null,
      saving: false,
      savedAt: null,
      storage: null,
      sweeping: false,

      async load() {
        try {
          const [view, backends, queueTypes, overview] = await Promise.all([api.settings(), api.backends(), api.queueTypes(), api.overview()]);
          set({ view, backends, queueTypes, queue: overview.queue });
        } catch (error) {
          fail(error);
        }
        void get().loadStorage();
      },

      async loadStorage() {
        try {
          set({ storage: await api.storage() });
        } catch (error) {
          fail(error);
        }
      },

      async sweep() {
        set({ sweeping: true, error: null });
        try {
          const report = await api.sweepNow();
          await get().loadStorage();
          return report;
        } catch (error) {
          fail(error);
          return null;
        } finally {
          set({ sweeping: false });
        }
      },

      edit(patch) {
        set({ draft: { ...get().draft, ...patch }, savedAt: null });
      },

      discard() {
        set({ draft: {} });
      },

      async save() {
        const view = get().view;
        if (!view) return null;
        const patch = changedSettings(view.settings, get().draft);
        if (Object.keys(patch).length === 0) {
          set({ draft: {} });
          return [];
        }
        set({ saving: true, error: null });
        const { general, retention } = splitPatch(patch);
        try {
          if (Object.keys(retention).length > 0) {
            await api.saveRetention(retention);
            void get().loadStorage();
          }
          const saved = Object.keys(general).length > 0 ? await api.saveSettings(general) : { ...(await api.settings()), restart_required: [] };
          const pending = [...new Set([...get().restartPending, ...saved.restart_required])];
          set({ view: saved, draft: {}, restartPending: pending, saving: false, savedAt: Date.now() });
          return saved.restart_required;
        } catch (error) {
          set({ saving: false });
          fail(error);
          return null;
        }
      },

      async saveBackend(previousName, input) {
        try {
          await api.saveBackend(previousName || input.name, input);
          set({ backends: await api.backends(), error: null });
          return true;
        } catch (error) {
          fail(error);
          return false;
        }
      },

      async deleteBackend(name) {
        try {
          await api.deleteBackend(name);
          set({ backends: await api.backends() });
        } catch (error) {
          fail(error);
        }
      },

      async saveQueueType(previousName, input) {
        try {
          await api.saveQueueType(previousName || input.name, input);
          const [queueTypes, backends] = await Promise.all([api.queueTypes(), api.backends()]);
          set({ queueTypes, backends, error: null });
          return true;
        } catch (error) {
          fail(error);
          return false;
        }
      },

      async deleteQueueType(name) {
        try {
          await api.deleteQueueType(name);
          const [queueTypes, backends] = await Promise.all([api.queueTypes(), api.backends()]);
          set({ queueTypes, backends });
        } catch (error) {
          fail(error);
        }
      },

      async setPaused(paused) {
        try {
          set({ queue: paused ? await api.pauseQueue() : await api.resumeQueue() });
        } catch (error) {
          fail(error);
        }
      },
    };
  });
}

export const settingsStore = createSettingsStore();
export const useSettings = <T>(selector: (s: SettingsState) => T): T => useStore(settingsStore, selector);
