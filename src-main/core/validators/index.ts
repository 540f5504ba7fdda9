// Owns loading the built-in validators: adding one is dropping a file into ./builtin/.
/// <reference types="vite/client" />

// Eager glob imports run each module once for its registerValidator() side effect; the bundler
// (electron-vite) and vitest both expand this at build time, so no directory is read at run time.
import.meta.glob('./builtin/*.ts', { eager: true });

export { registerValidator, getValidator, listValidators } from './registry';
export type { ValidatorDef } from './registry';
