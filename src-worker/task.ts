// Piscina entry: one task attempt per call (the pool loads the built file, out/main/worker.js).
import { runAttempt } from './exec/run';
import type { AttemptOutcome, AttemptSpec } from './exec/types';

export default function task(spec: AttemptSpec): Promise<AttemptOutcome> {
  return runAttempt(spec);
}
