// Access to the published services: LAN publishing, API keys (a new key's secret visible once), public services, CORS and request limits.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { api } from '../../api/client';
import type { ApiKeyInfo, CreatedApiKey, NewApiKey, SecurityView, ServicePolicy } from '../../api/types';

export interface AccessState {
  security: SecurityView | null;
  keys: ApiKeyInfo[];
  policies: ServicePolicy[];
  loaded: boolean;
  error: string | null;
  /** A key just created: its secret is never available again once this is dismissed. */
  created: CreatedApiKey | null;
  /** Where the server listens now; publishing on the LAN changes the address it binds at the next start. */
  listening: { host: string; port: number } | null;
  /** Keys (by id) and services (by name) with an action under way. */
  busy: Array<number | string>;
  load(): Promise<void>;
  createKey(input: NewApiKey): Promise<boolean>;
  revokeKey(id: number): Promise<void>;
  dismissCreated(): void;
  saveSecurity(patch: Partial<SecurityView>): Promise<boolean>;
  setPublic(job: string, on: boolean): Promise<void>;
  /** Saves a service's own limits (null: the global setting); true when saved. */
  savePolicy(job: string, patch: Partial<Omit<ServicePolicy, 'job_name' | 'public'>>): Promise<boolean>;
  clearError(): void;
}

/** Origins as typed, one per line or separated by commas/spaces, without blanks, trailing slashes or repeats. */
export function parseOrigins(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/[\s,]+/)) {
    const o = raw.trim().replace(/\/+$/, '');
    if (o && !out.includes(o)) out.push(o);
  }
  return out;
}

/** The address saved for the next start differs from the one in use (only the address: the port is not set here). */
export const restartNeeded = (security: Pick<SecurityView, 'host'> | null, listening: { host: string } | null): boolean =>
  !!security && !!listening && security.host !== listening.host;

/** What a key may call, in words. */
export const keyScope = (key: Pick<ApiKeyInfo, 'services'>): string => (key.services === null ? 'every service' : key.services.join(', ') || 'no service');

export function createAccessStore() {
  return createStore<AccessState>()((set, get) => {
    const fail = (error: unknown) => set({ error: (error as Error).message });
    const withBusy = async (id: number | string, fn: () => Promise<void>) => {
      set({ busy: [...get().busy, id], error: null });
      try {
        await fn();
      } catch (error) {
        fail(error);
      } finally {
        set({ busy: get().busy.filter((b) => b !== id) });
      }
    };
    return {
      security: null,
      keys: [],
      policies: [],
      loaded: false,
      error: null,
      created: null,
      listening: null,
      busy: [],

      async load() {
        try {
          const [security, keys, policies, settings] = await Promise.all([api.security(), api.apiKeys(), api.servicePolicies(), api.settings()]);
          set({ security, keys, policies, listening: settings.listening, loaded: true });
        } catch (error) {
          set({ loaded: true });
          fail(error);
        }
      },

      async createKey(input) {
        set({ error: null });
        try {
          const created = await api.createApiKey(input);
          set({ created, keys: await api.apiKeys() });
          return true;
        } catch (error) {
          fail(error);
          return false;
        }
      },

      async revokeKey(id) {
        await withBusy(id, async () => {
          await api.revokeApiKey(id);
          set({ keys: await api.apiKeys() });
        });
      },

      dismissCreated() {
        set({ created: null });
      },

      async saveSecurity(patch) {
        set({ error: null });
        try {
          const { restart_required: _restart, ...security } = await api.saveSecurity(patch);
          set({ security });
          return true;
        } catch (error) {
          fail(error);
          return false;
        }
      },

      async setPublic(job, on) {
        await withBusy(job, async () => {
          const policy = await api.saveServicePolicy(job, { public: on });
          set({ policies: get().policies.map((p) => (p.job_name === job ? policy : p)) });
        });
      },

      async savePolicy(job, patch) {
        let saved = false;
        await withBusy(job, async () => {
          const policy = await api.saveServicePolicy(job, patch);
          set({ policies: get().policies.map((p) => (p.job_name === job ? policy : p)) });
          saved = true;
        });
        return saved;
      },

      clearError() {
        set({ error: null });
      },
    };
  });
}

export const accessStore = createAccessStore();
export const useAccess = <T>(selector: (s: AccessState) => T): T => useStore(accessStore, selector);
