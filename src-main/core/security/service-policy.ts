// Per-service policy the analyst sets on a published Job: public or keyed, upload cap, active cap, deadline, retention.
import type { Db } from '../store/db';
import { AppError } from '../errors';

export interface ServicePolicy {
  /** The Job this policy applies to (kept by name, so it survives re-imports of the Job). */
  job_name: string;
  /** On the LAN, callers need no API key for this service. */
  public: boolean;
  /** Largest upload for this service, bytes; null: the `upload_limit_bytes` setting. */
  upload_limit_bytes: number | null;
  /** Unfinished submissions this service may hold at once; null: the `service_max_active` setting. */
  max_active: number | null;
  /** Deadline of one submission, seconds from acceptance; null: the `job_deadline_s` setting. */
  deadline_s: number | null;
  /** Retention for this service's finished runs, on top of the global limits; null: no extra limit. */
  retain_days: number | null;
  retain_count: number | null;
  retain_bytes: number | null;
}

export const defaultPolicy = (job_name: string): ServicePolicy => ({
  job_name,
  public: false,
  upload_limit_bytes: null,
  max_active: null,
  deadline_s: null,
  retain_days: null,
  retain_count: null,
  retain_bytes: null,
});

/** The largest upload a service takes: its own cap, else the `upload_limit_bytes` setting. */
export const uploadCapOf = (policy: ServicePolicy, settings: { upload_limit_bytes: number }): number =>
  policy.upload_limit_bytes ?? settings.upload_limit_bytes;

interface PolicyRow extends Omit<ServicePolicy, 'public'> {
  public: number;
}

const FIELDS: Array<{ key: keyof ServicePolicy; min: number; integer: boolean }> = [
  { key: 'upload_limit_bytes', min: 1, integer: true },
  { key: 'max_active', min: 1, integer: true },
  { key: 'deadline_s', min: 1, integer: false },
  { key: 'retain_days', min: 0, integer: false },
  { key: 'retain_count', min: 0, integer: true },
  { key: 'retain_bytes', min: 0, integer: true },
];

/** Only known fields, each null or a number in range; `public` a boolean. */
export function parsePolicyPatch(body: unknown): Partial<Omit<ServicePolicy, 'job_name'>> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AppError('Invalid', 'expected a JSON object body');
  const input = body as Record<string, unknown>;
  const patch: Record<string, unknown> = {};
  const problems: Array<{ path: string; message: string }> = [];
  for (const [key, value] of Object.entries(input)) {
    const rule = FIELDS.find((f) => f.key === key);
    if (key === 'public') {
      if (typeof value !== 'boolean') problems.push({ path: key, message: 'must be true or false' });
      else patch.public = value;
    } else if (rule) {
      if (value === null) patch[key] = null;
      else if (typeof value !== 'number' || !Number.isFinite(value) || value < rule.min || (rule.integer && !Number.isInteger(value))) {
        problems.push({ path: key, message: `must be null or ${rule.integer ? 'a whole number' : 'a number'} of at least ${rule.min}` });
      } else patch[key] = value;
    } else problems.push({ path: key, message: 'unknown field' });
  }
  if (problems.length > 0) throw new AppError('Invalid', `${problems[0].path} ${problems[0].message}`, undefined, problems);
  return patch as Partial<Omit<ServicePolicy, 'job_name'>>;
}

/**
 * Bumped by every write of any instance. Policies are written only through this class, in the server's process, so
 * the instances (guard, intake, admin routes) cache what they read and drop it when the number moves; intake reads
 * them several times per request.
 */
let written = 0;

export class ServicePolicies {
  private readonly s;
  /** The whole table (one row per service with a policy), read again after any write. */
  private cached: { at: number; byJob: Map<string, ServicePolicy> } = { at: -1, byJob: new Map() };

  constructor(db: Db) {
    this.s = {
      list: db.prepare('SELECT * FROM service_policy ORDER BY job_name'),
      upsert: db.prepare(
        `INSERT INTO service_policy (job_name, public, upload_limit_bytes, max_active, deadline_s, retain_days, retain_count, retain_bytes)
         VALUES (@job_name, @public, @upload_limit_bytes, @max_active, @deadline_s, @retain_days, @retain_count, @retain_bytes)
         ON CONFLICT(job_name) DO UPDATE SET public = excluded.public, upload_limit_bytes = excluded.upload_limit_bytes,
           max_active = excluded.max_active, deadline_s = excluded.deadline_s, retain_days = excluded.retain_days,
           retain_count = excluded.retain_count, retain_bytes = excluded.retain_bytes`,
      ),
      remove: db.prepare('DELETE FROM service_policy WHERE job_name = ?'),
      unfinished: db.prepare('SELECT COUNT(*) AS n FROM submission WHERE job_name = ? AND status <= 1'),
      servicesOf: db.prepare(
        `SELECT job_name FROM submission WHERE uuid = @uuid
         UNION SELECT s.job_name FROM submission s JOIN batch b ON b.id = s.batch_id WHERE b.uuid = @uuid`,
      ),
    };
  }

  /** The policy of a service; the defaults when the analyst has set none. */
  get(jobName: string): ServicePolicy {
    const policy = this.stored().get(jobName);
    return policy ? { ...policy } : defaultPolicy(jobName);
  }

  /** Only services with a stored policy. */
  list(): ServicePolicy[] {
    return [...this.stored().values()].map((p) => ({ ...p }));
  }

  anyPublic(): boolean {
    return this.list().some((p) => p.public);
  }

  update(jobName: string, patch: Partial<Omit<ServicePolicy, 'job_name'>>): ServicePolicy {
    const next: ServicePolicy = { ...this.get(jobName), ...patch, job_name: jobName };
    this.s.upsert.run({ ...next, public: next.public ? 1 : 0 });
    written++;
    return next;
  }

  private stored(): Map<string, ServicePolicy> {
    if (this.cached.at !== written) {
      const rows = this.s.list.all() as PolicyRow[];
      this.cached = { at: written, byJob: new Map(rows.map((row) => [row.job_name, { ...row, public: row.public === 1 }])) };
    }
    return this.cached.byJob;
  }

  /** Unfinished submissions of one service. */
  unfinished(jobName: string): number {
    return (this.s.unfinished.get(jobName) as { n: number }).n;
  }

  /** The services a submission or batch UUID belongs to (empty when the UUID is unknown). */
  servicesOf(uuid: string): string[] {
    return (this.s.servicesOf.all({ uuid }) as Array<{ job_name: string }>).map((r) => r.job_name);
  }

  /** Back to the defaults. */
  reset(jobName: string): void {
    this.s.remove.run(jobName);
    written++;
  }
}
