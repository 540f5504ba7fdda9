// Scheduled runs as the page shows them: the list (refreshed while the page is open) and its actions.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { schedulesApi, type NewSchedule, type Schedule } from './api';

export interface SchedulesState {
  schedules: Schedule[];
  loaded: boolean;
  error: string | null;
  /** Ids with an action under way. */
  busy: number[];
  load(): Promise<void>;
  create(input: NewSchedule): Promise<boolean>;
  setEnabled(id: number, enabled: boolean): Promise<void>;
  runNow(id: number): Promise<string | null>;
  remove(id: number): Promise<void>;
  clearError(): void;
}

export function createSchedulesStore(client = schedulesApi) {
  return createStore<SchedulesState>()((set, get) => {
    const act = async <T>(id: number, fn: () => Promise<T>): Promise<T | null> => {
      set({ busy: [...get().busy, id], error: null });
      try {
        const out = await fn();
        await get().load();
        return out;
      } catch (error) {
        set({ error: (error as Error).message });
        return null;
      } finally {
        set({ busy: get().busy.filter((b) => b !== id) });
      }
    };
    return {
      schedules: [],
      loaded: false,
      error: null,
      busy: [],
      async load() {
        try {
          set({ schedules: await client.list(), loaded: true });
        } catch (error) {
          set({ error: (error as Error).message, loaded: true });
        }
      },
      async create(input) {
        set({ error: null });
        try {
          await client.create(input);
          await get().load();
          return true;
        } catch (error) {
          set({ error: (error as Error).message });
          return false;
        }
      },
      async setEnabled(id, enabled) {
        await act(id, () => client.update(id, { enabled }));
      },
      async runNow(id) {
        return (await act(id, () => client.runNow(id)))?.batch_uuid ?? null;
      },
      async remove(id) {
        await act(id, () => client.remove(id));
      },
      clearError() {
        set({ error: null });
      },
    };
  });
}

export const schedulesStore = createSchedulesStore();
export const useSchedules = <T>(pick: (s: SchedulesState) => T): T => useStore(schedulesStore, pick);
