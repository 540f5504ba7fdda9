// Workbench routes for what runs: overview, published services with client snippets and stats, settings, the queue switch.
import os from 'node:os';
import type net from 'node:net';
import type { Request, Router } from 'express';
import type { Core } from '../../core/api';
import { AppError } from '../../core/errors';
import type { Job } from '../../core/model/types';
import { publishedVersion } from '../../core/publish';
import { RESTART_SETTINGS, type Settings } from '../../core/settings';
import * as config from '../../core/store/config-repo';
import { restField } from '../../core/plan/params';
import { serviceStats } from '../../core/store/run-queries';
import type { Overview, ServiceField, ServiceInfo, SettingsSaved, SettingsView } from './admin-types';

const VERSION = '0.1.0';

/** Local midnight as an ISO instant: "runs today" follows the user's clock. */
export function startOfToday(now = new Date()): string {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.toISOString();
}

/** The first non-internal IPv4 address: what another machine on the LAN would use. */
function lanAddress(): string | null {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

/** Where this server really listens (the settings may wait for a restart). */
function listening(req: Request, settings: Settings): { host: string; port: number } {
  // Server-side sockets keep a reference to their net.Server (not in the typings).
  const server = (req.socket as net.Socket & { server?: net.Server }).server;
  const address = server?.address();
  if (address && typeof address === 'object') return { host: address.address, port: address.port };
  return { host: settings.host, port: req.socket.localPort ?? settings.port };
}

function publicBase(req: Request, settings: Settings): { url: string; lan: boolean } {
  const { host, port } = listening(req, settings);
  const wildcard = host === '0.0.0.0' || host === '::';
  const loopback = /^127\./.test(host) || host === '::1' || host === 'localhost';
  const shown = wildcard ? (lanAddress() ?? '127.0.0.1') : host;
  const hostPart = shown.includes(':') ? `[${shown}]` : shown;
  return { url: `http://${hostPart}:${port}`, lan: !loopback && (!wildcard || lanAddress() !== null) };
}

/** Changes whenever the Job or any Task it uses changes: what clients are talking to. */

const pyString = (s: string): string => JSON.stringify(s);
const shellWord = (s: string): string => (/^[A-Za-z0-9_.@:/=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function clientSnippets(job: string, base: string, fields: ServiceField[]): ServiceInfo['snippets'] {
  const form: Array<[string, string]> = [
    ['job', job],
    ['submission_name', 'my_run'],
    ['email', 'you@example.com'],
    ...fields.map((f): [string, string] => [f.field, f.example]),
  ];
  const curl = [
    `curl -s -X POST ${base}/submission.json \\`,
    ...form.map(([k, v]) => `  -F ${shellWord(`${k}=${v}`)} \\`),
    `  -F input_data=@input.txt`,
    '',
    '# poll the batch with the UUID from the reply until its state is Complete or Error:',
    `curl -s "${base}/submission/<UUID>?format=json"`,
  ].join('\n');
  const python = [
    'import time',
    'import requests',
    '',
    `BASE = ${pyString(base)}`,
    'data = {',
    ...form.map(([k, v]) => `    ${pyString(k)}: ${pyString(v)},`),
    '}',
    'with open("input.txt", "rb") as f:',
    '    reply = requests.post(f"{BASE}/submission.json", data=data, files={"input_data": f})',
    'reply.raise_for_status()',
    'uuid = reply.json()["UUID"]',
    '',
    'while True:',
    '    batch = requests.get(f"{BASE}/submission/{uuid}", params={"format": "json"}).json()',
    '    if batch["state"] in ("Complete", "Error", "Crash"):',
    '        break',
    '    time.sleep(1)',
    'for submission in batch["submissions"]:',
    '    for result in submission["results"]:',
    '        print(result["name"], result["data_path"])',
  ].join('\n');
  const javascript = [
    `const BASE = ${JSON.stringify(base)};`,
    '',
    'const form = new FormData();',
    ...form.map(([k, v]) => `form.append(${JSON.stringify(k)}, ${JSON.stringify(v)});`),
    "form.append('input_data', file); // a File from <input type=\"file\">, or new Blob([bytes]) in Node",
    '',
    'const reply = await fetch(`${BASE}/submission.json`, { method: \'POST\', body: form });',
    'if (!reply.ok) throw new Error((await reply.json()).error);',
    'const { UUID } = await reply.json();',
    '',
    'let batch;',
    'do {',
    '  await new Promise((r) => setTimeout(r, 1000));',
    '  batch = await (await fetch(`${BASE}/submission/${UUID}?format=json`)).json();',
    "} while (!['Complete', 'Error', 'Crash'].includes(batch.state));",
    'for (const s of batch.submissions) for (const r of s.results) console.log(r.name, r.data_path);',
  ].join('\n');
  return { curl, python, javascript };
}

function serviceInfo(job: Job, core: Core, base: { url: string; lan: boolean }, dayStart: string): ServiceInfo {
  // A_A §2.9 order: steps by ordering, then each task's parameters in their own order.
  const fields: ServiceField[] = [...job.steps]
    .sort((a, b) => a.ordering - b.ordering)
    .flatMap((step) => config.getTask(core.db, step.task)?.parameters.map((p) => ({ task: step.task, p })) ?? [])
    .map(({ task, p }) => ({
      field: restField(task, p.alias),
      bool: p.bool_valued,
      example: p.bool_valued ? 'TRUE' : (p.default ?? 'VALUE'),
    }));
  const aaBase = `${base.url}/analytics_automated`;
  return {
    name: job.name,
    description: job.description,
    runnable: job.runnable,
    // The published snapshot clients run (native API /v{n}); a runnable job gets v1 on its first native call.
    version: versionLabel(core, job.name),
    base_url: aaBase,
    submit_url: `${aaBase}/submission/`,
    lan: base.lan,
    endpoints:
      `/submission/&job=${job.name}&submission_name=[STRING]&email=[EMAIL_STRING]&input_data=[FILE]` +
      fields.map((f) => `&${f.field}=${f.bool ? '[TRUE/FALSE]' : '[VALUE]'}`).join(''),
    fields,
    validators: job.validators,
    steps: job.steps.length,
    snippets: clientSnippets(job.name, aaBase, fields),
    stats: serviceStats(core.db, job.name, dayStart),
  };
}

function settingsView(req: Request, core: Core): SettingsView {
  const settings = core.settings();
  return { settings, data_dir: core.paths.root, restart_settings: RESTART_SETTINGS, listening: listening(req, settings) };
}

const NUMBER_SETTINGS: Array<{ key: keyof Settings; min: number; nullable?: boolean }> = [
  { key: 'concurrency', min: 1 },
  { key: 'queue_hog_size', min: 0, nullable: true },
  { key: 'queue_hard_limit', min: 0, nullable: true },
  { key: 'upload_limit_bytes', min: 1 },
  { key: 'output_cap_bytes', min: 1024 },
  { key: 'port', min: 0 },
];

/** Only known settings, each of the right type and range. */
export function parseSettingsPatch(body: unknown): Partial<Settings> {
  if (!body || typeof body !== 'object') throw new AppError('Invalid', 'expected a JSON object body');
  const input = body as Record<string, unknown>;
  const patch: Record<string, unknown> = {};
  const problems: Array<{ path: string; message: string }> = [];
  for (const key of Object.keys(input)) {
    const rule = NUMBER_SETTINGS.find((r) => r.key === key);
    const value = input[key];
    if (rule) {
      if (value === null && rule.nullable) patch[key] = null;
      else if (typeof value !== 'number' || !Number.isInteger(value) || value < rule.min) {
        problems.push({ path: key, message: `must be a whole number of at least ${rule.min}` });
      } else if (key === 'port' && value > 65535) problems.push({ path: key, message: 'must be at most 65535' });
      else patch[key] = value;
    } else if (key === 'host') {
      if (typeof value !== 'string' || !/^[A-Za-z0-9.:-]+$/.test(value)) problems.push({ path: key, message: 'must be an address' });
      else patch[key] = value;
    } else if (key === 'redis_url') {
      if (value !== null && (typeof value !== 'string' || !/^rediss?:\/\/\S+$/.test(value))) {
        problems.push({ path: key, message: 'must be a redis:// or rediss:// URL, or null' });
      } else patch[key] = value;
    } else problems.push({ path: key, message: 'unknown setting' });
  }
  if (problems.length) throw new AppError('Invalid', `${problems[0].path} ${problems[0].message}`, undefined, problems);
  return patch as Partial<Settings>;
}

export function serviceRoutes(router: Router, core: Core): void {
  router.get('/overview', (_req, res) => {
    const jobs = config.listJobs(core.db);
    const runsToday = core.db.prepare('SELECT COUNT(*) AS n FROM submission WHERE created_at >= ?').get(startOfToday()) as { n: number };
    const body: Overview = {
      version: VERSION,
      data_dir: core.paths.root,
      jobs: jobs.length,
      published: jobs.filter((j) => j.runnable).length,
      tasks: config.listTasks(core.db).length,
      backends: config.listBackends(core.db).length,
      runs_today: runsToday.n,
      queue: core.queueStats(),
    };
    res.json(body);
  });

  router.get('/services', (req, res) => {
    const base = publicBase(req, core.settings());
    const dayStart = startOfToday();
    // Every job with steps is listed, published first: the runnable switch publishes (after the check) or unpublishes.
    const jobs = config.listJobs(core.db).filter((j) => j.runnable || j.steps.length > 0);
    res.json(jobs.filter((j) => j.runnable).concat(jobs.filter((j) => !j.runnable)).map((j) => serviceInfo(j, core, base, dayStart)));
  });

  router.get('/settings', (req, res) => {
    res.json(settingsView(req, core));
  });
  router.put('/settings', (req, res) => {
    const restart = core.updateSettings(parseSettingsPatch(req.body));
    const body: SettingsSaved = { ...settingsView(req, core), restart_required: restart };
    res.json(body);
  });

  router.post('/queue/pause', (_req, res) => {
    core.pause();
    res.json(core.queueStats());
  });
  router.post('/queue/resume', (_req, res) => {
    core.resume();
    res.json(core.queueStats());
  });
}

function versionLabel(core: Core, name: string): string {
  const published = publishedVersion(core.db, name);
  return published ? `v${published.version}` : 'not yet snapshotted';
}
