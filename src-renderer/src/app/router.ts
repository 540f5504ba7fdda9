// Owns where the user is: hash routes, and the question asked before leaving a page with unsaved work.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';

export type Route =
  | { page: 'designer'; job?: string }
  | { page: 'services' }
  | { page: 'runs' }
  | { page: 'run'; uuid: string }
  | { page: 'schedules' }
  | { page: 'api'; service?: string }
  | { page: 'access' }
  | { page: 'workers' }
  | { page: 'settings' };

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  switch (parts[0]) {
    case 'services':
      return { page: 'services' };
    case 'runs':
      return parts[1] ? { page: 'run', uuid: parts[1] } : { page: 'runs' };
    case 'schedules':
    case 'access':
    case 'workers':
    case 'settings':
      return { page: parts[0] };
    case 'api':
      return parts[1] ? { page: 'api', service: parts[1] } : { page: 'api' };
    default:
      return parts[1] ? { page: 'designer', job: parts[1] } : { page: 'designer' };
  }
}

export function hashOf(route: Route): string {
  switch (route.page) {
    case 'designer':
      return route.job ? `#/designer/${encodeURIComponent(route.job)}` : '#/designer';
    case 'run':
      return `#/runs/${encodeURIComponent(route.uuid)}`;
    case 'api':
      return route.service ? `#/api/${encodeURIComponent(route.service)}` : '#/api';
    default:
      return `#/${route.page}`;
  }
}

/** What to ask before leaving for `next` (and how to save first), or null to leave freely. */
export type LeaveGuard = (next: Route) => { question: string; save?: () => Promise<boolean> } | null;

export interface RouterState {
  route: Route;
  /** A navigation waiting for the user's answer to `question`. */
  pending: { hash: string; question: string; save?: () => Promise<boolean> } | null;
  guard: LeaveGuard | null;
  navigate(hash: string): void;
  setGuard(guard: LeaveGuard | null): void;
  confirmLeave(): void;
  cancelLeave(): void;
  /** The address bar changed (back/forward or a link). */
  onHashChange(hash: string): void;
}

export function createRouterStore(initialHash: string, setHash: (hash: string, replace: boolean) => void) {
  return createStore<RouterState>()((set, get) => ({
    route: parseHash(initialHash),
    pending: null,
    guard: null,

    navigate(hash) {
      const next = parseHash(hash);
      const ask = get().guard?.(next) ?? null;
      if (ask) {
        set({ pending: { hash, ...ask } });
        return;
      }
      set({ route: next, pending: null });
      setHash(hashOf(next), false);
    },

    setGuard(guard) {
      set({ guard });
    },

    confirmLeave() {
      const pending = get().pending;
      if (!pending) return;
      const next = parseHash(pending.hash);
      set({ route: next, pending: null });
      setHash(hashOf(next), false);
    },

    cancelLeave() {
      set({ pending: null });
    },

    onHashChange(hash) {
      const next = parseHash(hash);
      if (hashOf(next) === hashOf(get().route)) return;
      const ask = get().guard?.(next) ?? null;
      if (ask) {
        // Put the address back until the user decides.
        setHash(hashOf(get().route), true);
        set({ pending: { hash, ...ask } });
        return;
      }
      set({ route: next });
    },
  }));
}

const browser = typeof window !== 'undefined';
export const routerStore = createRouterStore(browser ? window.location.hash : '', (hash, replace) => {
  if (!browser || window.location.hash === hash) return;
  if (replace) window.history.replaceState(null, '', hash);
  else window.history.pushState(null, '', hash);
});
if (browser) window.addEventListener('hashchange', () => routerStore.getState().onHashChange(window.location.hash));
if (browser) window.addEventListener('popstate', () => routerStore.getState().onHashChange(window.location.hash));

export const useRouter = <T>(selector: (s: RouterState) => T): T => useStore(routerStore, selector);
export const navigate = (hash: string): void => routerStore.getState().navigate(hash);
