// A_A per-client quota arithmetic (reference §2.4, __get_job_priority).

/**
 * Priority for a client with `n` unfinished submissions, or null when it must be refused (429).
 * Only null disables a limit (A_A: a limit of 0 rejects everyone).
 */
export function priorityFor(n: number, base: number, limits: { hog: number | null; hard: number | null }): number | null {
  const { hog, hard } = limits;
  if (hard !== null && n >= hard) return null;
  if (hog !== null && n >= hog) {
    if (hard === null) return base - 1;
    return base > 0 ? base - 1 : null;
  }
  return base;
}
