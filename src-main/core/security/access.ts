// Who calls a service, carried from the HTTP guard to intake, and the checks intake makes once it knows the Job.
import fs from 'node:fs';
import { AppError } from '../errors';
import type { SubmissionForm } from '../api';
import type { Settings } from '../settings';
import type { ApiKeyInfo } from './api-keys';
import { uploadCapOf, type ServicePolicies } from './service-policy';

export interface ServiceCaller {
  /** The verified API key the request presented; null when it presented none. */
  key: ApiKeyInfo | null;
  /** The services are published on the LAN, so every non-public service needs a key. */
  keysRequired: boolean;
}

/** A refusal that says when to try again (429 with Retry-After). */
export class RetryLater extends AppError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super('TooMany', message);
  }
}

/** Why `caller` may not use the services `jobs`, or null when it may. */
export function accessProblem(caller: ServiceCaller, jobs: string[], policies: ServicePolicies): AppError | null {
  if (!caller.keysRequired) return null;
  for (const job of jobs) {
    if (policies.get(job).public) continue;
    if (!caller.key) return new AppError('Unauthorized', `An API key is required to use ${job}: send it as X-API-Key or Authorization: Bearer.`);
    if (caller.key.services && !caller.key.services.includes(job)) {
      return new AppError('Forbidden', `API key ${caller.key.prefix} may not use ${job}.`);
    }
  }
  return null;
}

/** Job names a form asks for, as A_A intake reads them (the last `job` field, comma separated). */
export function jobNamesOf(form: SubmissionForm): string[] {
  let value: string | undefined;
  for (const [k, v] of form.fields) if (k === 'job') value = v;
  return value === undefined ? [] : value.split(',');
}

/** Bytes free for this process on the file system holding `dir`; null where the platform cannot tell. */
export function freeBytes(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

export function insufficientStorage(free: number, needed: number, purpose = 'to accept new submissions'): AppError {
  const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;
  const message = `Insufficient storage: the server's disk has ${mb(free)} free and needs at least ${mb(needed)} ${purpose}.`;
  return new AppError('InsufficientStorage', message, { error: message });
}

export interface IntakeGuardDeps {
  policies: ServicePolicies;
  settings: () => Settings;
  /** Unfinished submissions of one service, as committed. */
  unfinished: (jobName: string) => number;
  dataRoot: string;
}

/**
 * The checks intake needs beyond A_A's: who may call, per-service upload and active caps, free disk.
 * Submissions in flight are counted until committed, so concurrent requests cannot overshoot a cap.
 */
export class IntakeGuard {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly deps: IntakeGuardDeps) {}

  /**
   * Runs `submit` (the intake of `request`) once the guard's checks pass. `admin`: a workbench test run, not capped.
   * `caller`: who the HTTP guard let in (it knows who calls; only intake knows, once the form is read, which services
   * are asked for); absent for trusted local callers (workbench, CLI).
   */
  async run<T>(request: { jobs: string[]; uploadBytes: number }, options: { admin?: boolean; caller?: ServiceCaller }, submit: () => Promise<T>): Promise<T> {
    const { policies, settings } = this.deps;
    const jobs = [...new Set(request.jobs)];
    const admin = !!options.admin;
    const caller = options.caller;
    if (caller) {
      const problem = accessProblem(caller, jobs, policies);
      if (problem) throw problem;
    }
    const s = settings();
    const free = freeBytes(this.deps.dataRoot);
    if (free !== null && free < s.min_free_bytes) throw insufficientStorage(free, s.min_free_bytes);
    if (!admin) {
      for (const job of jobs) {
        const policy = policies.get(job);
        const cap = uploadCapOf(policy, s);
        if (request.uploadBytes > cap) {
          const message = `Upload exceeds the limit of ${cap} bytes for ${job}`;
          throw new AppError('TooLarge', message, { error: message });
        }
        const maxActive = policy.max_active ?? s.service_max_active;
        if (maxActive !== null && this.deps.unfinished(job) + (this.inFlight.get(job) ?? 0) >= maxActive) {
          throw new RetryLater(`${job} is busy: it already has ${maxActive} unfinished submissions. Try again later.`, 10);
        }
      }
    }
    for (const job of jobs) this.inFlight.set(job, (this.inFlight.get(job) ?? 0) + 1);
    try {
      return await submit();
    } finally {
      for (const job of jobs) {
        const n = (this.inFlight.get(job) ?? 1) - 1;
        if (n === 0) this.inFlight.delete(job);
        else this.inFlight.set(job, n);
      }
    }
  }
}
