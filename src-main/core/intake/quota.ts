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

export interface QuotaDeps {
  runs: { unfinishedCount(ip: string, cap: number): number };
  quotas: () => { hog: number | null; hard: number | null };
}

/** Unfinished submissions of a client, counted no further than the quotas need (0 when none apply). */
export function unfinished(deps: QuotaDeps, ip: string): number {
  const { hog, hard } = deps.quotas();
  if (hog === null && hard === null) return 0;
  return deps.runs.unfinishedCount(ip, Math.max(hog ?? 0, hard ?? 0));
}

/** An anonymous client's priority under the current quotas, or null when it must be refused. */
export function clientPriority(deps: QuotaDeps, ip: string): number | null {
  return priorityFor(unfinished(deps, ip), 1, deps.quotas());
}
