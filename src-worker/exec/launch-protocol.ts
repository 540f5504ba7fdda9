// Messages between the server and its launcher processes (Node IPC, JSON); shared by both sides, so no imports
// beyond the attempt types.
import type { AttemptOutcome, AttemptSpec } from './types';

/** Server → launcher: run this attempt. `id` is the server's handle for it, unique per launcher. */
export interface LaunchRun {
  t: 'run';
  id: number;
  spec: Omit<AttemptSpec, 'port'>;
}

/**
 * Launcher → server. 'started' comes only for an attempt still running a short while after its spawn; a quick one
 * reports its pid with 'done' alone.
 */
export type LaunchReply =
  | { t: 'started'; id: number; pid: number; started_at: string }
  | { t: 'done'; id: number; outcome: AttemptOutcome };
