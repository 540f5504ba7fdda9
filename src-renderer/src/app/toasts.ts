// Owns short-lived notices ("Saved", "Published", errors from background work).
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';

export interface Toast {
  id: number;
  kind: 'ok' | 'error' | 'info';
  text: string;
}

interface ToastState {
  toasts: Toast[];
  push(kind: Toast['kind'], text: string): void;
  dismiss(id: number): void;
}

let counter = 0;
export const toastStore = createStore<ToastState>()((set, get) => ({
  toasts: [],
  push(kind, text) {
    const id = ++counter;
    set({ toasts: [...get().toasts.slice(-3), { id, kind, text }] });
    setTimeout(() => get().dismiss(id), kind === 'error' ? 8000 : 3000);
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
}));

export const useToasts = <T>(selector: (s: ToastState) => T): T => useStore(toastStore, selector);
export const toast = (kind: Toast['kind'], text: string): void => toastStore.getState().push(kind, text);
