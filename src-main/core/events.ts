// Run events the core emits on every state change (UI live updates, SSE, waiters).
import { EventEmitter } from 'node:events';
import type { StatusCode } from './model/types';

export type AttemptState = 'queued' | 'running' | 'done' | 'failed' | 'crash' | 'cancelled';

export type RunEvent =
  | {
      type: 'submission';
      uuid: string;
      batch_uuid: string;
      job: string;
      status: StatusCode;
      last_message: string;
      at: string;
    }
  | {
      type: 'attempt';
      submission_uuid: string;
      step_key: string;
      /** 0 on a 'running' event of an attempt whose row is written only once it ends (a quick local attempt). */
      attempt_id: number;
      state: AttemptState;
      exit_code: number | null;
      at: string;
    };

export class RunEvents extends EventEmitter {
  constructor() {
    super();
    // Many SSE subscribers and waiters may listen at once.
    this.setMaxListeners(0);
  }
  emitRun(event: RunEvent): void {
    this.emit('run', event);
  }
  onRun(listener: (event: RunEvent) => void): () => void {
    this.on('run', listener);
    return () => this.off('run', listener);
  }
}
