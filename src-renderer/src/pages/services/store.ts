// Published services: their list with live stats, and the runnable switch (publish after the check / unpublish).
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { api } from '../../api/client';
import type { RunEvent, ServiceInfo } from '../../api/types';

export interface ServicesState {
  services: ServiceInfo[];
  loaded: boolean;
  error: string | null;
  /** Job names whose switch is being flipped. */
  switching: string[];
  load(): Promise<void>;
  setRunnable(name: string, on: boolean): Promise<void>;
  applyEvent(event: RunEvent): void;
}

export function createServicesStore(reloadDelayMs = 1500) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return createStore<ServicesState>()((set, get) => ({
    services: [],
    loaded: false,
    error: null,
    switching: [],

    async load() {
      try {
        set({ services: await api.services(), loaded: true });
      } catch (error) {
        set({ error: (error as Error).message, loaded: true });
      }
    },

    async setRunnable(name, on) {
      set({ switching: [...get().switching, name], error: null });
      try {
        if (on) await api.publish(name);
        else await api.unpublish(name);
        await get().load();
      } catch (error) {
        set({ error: (error as Error).message });
      } finally {
        set({ switching: get().switching.filter((n) => n !== name) });
      }
    },

    applyEvent(event) {
      // Stats move with submissions; coalesce bursts into one reload.
      if (event.type !== 'submission' || timer) return;
      if (!get().services.some((s) => s.name === event.job)) return;
      timer = setTimeout(() => {
        timer = null;
        void get().load();
      }, reloadDelayMs);
    },
  }));
}

export const servicesStore = createServicesStore();
export const useServices = <T>(selector: (s: ServicesState) => T): T => useStore(servicesStore, selector);
