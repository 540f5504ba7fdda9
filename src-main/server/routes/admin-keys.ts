// Workbench routes for protection and storage: API keys, LAN publishing and limits, per-service policies,
// retention settings, the storage gauge and a sweep on demand.
import type { Request, Router } from 'express';
import type { Core } from '../../core/api';
import { AppError, notFound } from '../../core/errors';
import type { Settings } from '../../core/settings';
import { ApiKeys, checkNewKey } from '../../core/security/api-keys';
import { ServicePolicies, parsePolicyPatch } from '../../core/security/service-policy';
import { lastSweep, storageGauge, sweepRetention } from '../../core/run/retention';
import * as config from '../../core/store/config-repo';

type Rule = { kind: 'int'; min: number; nullable?: boolean } | { kind: 'number'; min: number; nullable?: boolean } | { kind: 'bool' } | { kind: 'origins' };

/** Settings on the protection screen, each with its type and range. */
export const SECURITY_SETTINGS: Partial<Record<keyof Settings, Rule>> = {
  lan_publish: { kind: 'bool' },
  cors_origins: { kind: 'origins' },
  client_requests_per_minute: { kind: 'int', min: 1, nullable: true },
  key_requests_per_minute: { kind: 'int', min: 1, nullable: true },
  service_max_active: { kind: 'int', min: 1, nullable: true },
  upload_limit_bytes: { kind: 'int', min: 1 },
  upload_max_fields: { kind: 'int', min: 1 },
  upload_max_field_bytes: { kind: 'int', min: 1 },
  upload_max_files: { kind: 'int', min: 1 },
  upload_idle_timeout_ms: { kind: 'int', min: 100 },
  min_free_bytes: { kind: 'int', min: 0 },
  job_deadline_s: { kind: 'number', min: 1, nullable: true },
  shutdown_grace_ms: { kind: 'int', min: 0 },
};

/** Settings on the retention screen. */
export const RETENTION_SETTINGS: Partial<Record<keyof Settings, Rule>> = {
  retain_days: { kind: 'number', min: 0, nullable: true },
  retain_count: { kind: 'int', min: 0, nullable: true },
  retain_bytes: { kind: 'int', min: 0, nullable: true },
  retention_interval_s: { kind: 'int', min: 10 },
};

const ORIGIN = /^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?|https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?)$/;

/** Only the settings `rules` names, each of the right type and range; every problem is reported. */
export function parseSettings(body: unknown, rules: Partial<Record<keyof Settings, Rule>>): Partial<Settings> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AppError('Invalid', 'expected a JSON object body');
  const patch: Record<string, unknown> = {};
  const problems: Array<{ path: string; message: string }> = [];
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const rule = rules[key as keyof Settings];
    if (!rule) {
      problems.push({ path: key, message: 'unknown setting' });
    } else if (rule.kind === 'bool') {
      if (typeof value !== 'boolean') problems.push({ path: key, message: 'must be true or false' });
      else patch[key] = value;
    } else if (rule.kind === 'origins') {
      if (!Array.isArray(value) || value.some((o) => typeof o !== 'string' || !ORIGIN.test(o))) {
        problems.push({ path: key, message: 'must be a list of origins such as "https://example.org:8443", or "*"' });
      } else patch[key] = value;
    } else if (value === null && rule.nullable) {
      patch[key] = null;
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < rule.min || (rule.kind === 'int' && !Number.isInteger(value))) {
      problems.push({ path: key, message: `must be ${rule.nullable ? 'null or ' : ''}${rule.kind === 'int' ? 'a whole number' : 'a number'} of at least ${rule.min}` });
    } else patch[key] = value;
  }
  if (problems.length > 0) throw new AppError('Invalid', `${problems[0].path} ${problems[0].message}`, undefined, problems);
  return patch as Partial<Settings>;
}

const pick = (settings: Settings, rules: Partial<Record<keyof Settings, Rule>>) =>
  Object.fromEntries(Object.keys(rules).map((k) => [k, settings[k as keyof Settings]]));

const LOOPBACK = /^(127\.|::1$|localhost$)/;

export function keyRoutes(router: Router, core: Core): void {
  const keys = new ApiKeys(core.db);
  const policies = new ServicePolicies(core.db);
  const idOf = (req: Request) => {
    const id = Number(req.params.id);
    if (!Number.isInteger(id) || id < 1) throw notFound('no such API key');
    return id;
  };

  router.get('/keys', (_req, res) => {
    res.json(keys.list());
  });
  router.post('/keys', (req, res) => {
    const created = keys.create(checkNewKey(req.body));
    // The secret is shown this once; only its hash is stored.
    res.status(201).json({ ...created.info, key: created.key });
  });
  router.delete('/keys/:id', (req, res) => {
    const id = idOf(req);
    if (!keys.get(id)) throw notFound('no such API key');
    keys.revoke(id);
    res.status(204).end();
  });

  const securityView = () => ({ ...pick(core.settings(), SECURITY_SETTINGS), host: core.settings().host });
  router.get('/security', (_req, res) => {
    res.json(securityView());
  });
  router.put('/security', (req, res) => {
    const patch = parseSettings(req.body, SECURITY_SETTINGS);
    // Publishing on the LAN means listening beyond loopback; taking it back returns to loopback.
    const host = core.settings().host;
    if (patch.lan_publish === true && LOOPBACK.test(host)) patch.host = '0.0.0.0';
    if (patch.lan_publish === false && (host === '0.0.0.0' || host === '::')) patch.host = '127.0.0.1';
    const restart = core.updateSettings(patch);
    res.json({ ...securityView(), restart_required: restart });
  });

  const retentionView = () => ({ ...pick(core.settings(), RETENTION_SETTINGS), last_sweep: lastSweep(core.db) });
  router.get('/retention', (_req, res) => {
    res.json(retentionView());
  });
  router.put('/retention', (req, res) => {
    core.updateSettings(parseSettings(req.body, RETENTION_SETTINGS));
    res.json(retentionView());
  });

  router.get('/storage', async (_req, res) => {
    res.json(await storageGauge(core));
  });
  router.post('/storage/sweep', async (_req, res) => {
    res.json(await sweepRetention(core));
  });

  // Every Job is listed with its effective policy (defaults where the analyst set none).
  router.get('/service-policies', (_req, res) => {
    res.json(config.listJobs(core.db).map((j) => policies.get(j.name)));
  });
  const jobOf = (req: Request) => {
    const name = String(req.params.job);
    if (!config.getJob(core.db, name)) throw notFound(`no job named "${name}"`);
    return name;
  };
  router.get('/service-policies/:job', (req, res) => {
    res.json(policies.get(jobOf(req)));
  });
  router.put('/service-policies/:job', (req, res) => {
    res.json(policies.update(jobOf(req), parsePolicyPatch(req.body)));
  });
  router.delete('/service-policies/:job', (req, res) => {
    policies.reset(jobOf(req));
    res.status(204).end();
  });
}
