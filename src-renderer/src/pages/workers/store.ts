// Workers (scale-out): the machines that announced themselves, the worker tokens, and the one moment a new token is visible.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { api } from '../../api/client';
import type { CreatedWorkerToken, WorkerToken, WorkerView } from '../../api/types';

export interface WorkersState {
  workers: WorkerView[];
  /** This server dispatches steps to workers (it was started with a Redis URL). */
  scaleOut: boolean;
  tokens: WorkerToken[];
  loaded: boolean;
  error: string | null;
  /** A token just created: its secret is never available again once this is dismissed. */
  created: CreatedWorkerToken | null;
  /** Token ids with a revoke under way. */
  busy: number[];
  load(): Promise<void>;
  /** Re-reads workers and tokens quietly (heartbeats move both: a token's last use too). */
  refresh(): Promise<void>;
  createToken(name: string): Promise<boolean>;
  revokeToken(id: number): Promise<void>;
  dismissCreated(): void;
  clearError(): void;
}

/** The command a worker machine runs, quoted for a POSIX shell where needed. */
export function workerCommand(server: string, token: string): string {
  const quote = (s: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `aa worker --server ${quote(server.replace(/\/+$/, ''))} --token ${quote(token)}`;
}

/** Live tokens first, newest first; revoked ones after, so the list reads as "what works now". */
export function sortTokens(tokens: WorkerToken[]): WorkerToken[] {
  return [...tokens].sort((a, b) => Number(!!a.revoked_at) - Number(!!b.revoked_at) || b.id - a.id);
}

export function createWorkersStore() {
  return createStore<WorkersState>()((set, get) => {
    const fail = (error: unknown) => set({ error: (error as Error).message });
    return {
      workers: [],
      scaleOut: false,
      tokens: [],
      loaded: false,
      error: null,
      created: null,
      busy: [],

      async load() {
        try {
          const [workers, tokens] = await Promise.all([api.workers(), api.workerTokens()]);
          set({ workers: workers.workers, scaleOut: workers.scale_out, tokens: sortTokens(tokens), loaded: true });
        } catch (error) {
          set({ loaded: true });
          fail(error);
        }
      },

      async refresh() {
        try {
          const [workers, tokens] = await Promise.all([api.workers(), api.workerTokens()]);
          set({ workers: workers.workers, scaleOut: workers.scale_out, tokens: sortTokens(tokens) });
        } catch {
          // A missed refresh is retried by the next tick; the list on screen stays as it was.
        }
      },

      async createToken(name) {
        set({ error: null });
        try {
          const created = await api.createWorkerToken(name.trim());
          set({ created, tokens: sortTokens(await api.workerTokens()) });
          return true;
        } catch (error) {
          fail(error);
          return false;
        }
      },

      async revokeToken(id) {
        set({ busy: [...get().busy, id], error: null });
        try {
          await api.revokeWorkerToken(id);
          set({ tokens: sortTokens(await api.workerTokens()) });
        } catch (error) {
          fail(error);
        } finally {
          set({ busy: get().busy.filter((b) => b !== id) });
        }
      },

      dismissCreated() {
        set({ created: null });
      },

      clearError() {
        set({ error: null });
      },
    };
  });
}

export const workersStore = createWorkersStore();
export const useWorkers = <T>(selector: (s: WorkersState) => T): T => useStore(workersStore, selector);
