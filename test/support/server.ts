// Test support: a real core + HTTP server on port 0 over a fresh data dir (real SQLite, real worker pool).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCore, type CoreInternals } from '../../src-main/core';
import { startServer, type RunningServer } from '../../src-main/server/app';
import type { Settings } from '../../src-main/core/settings';

export const ROOT = path.resolve(__dirname, '..', '..');
export const LAUNCHER_FILE = path.join(ROOT, 'out', 'main', 'launcher.js');
export const UI_DIR = path.join(ROOT, 'out', 'renderer');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');

export interface TestServer {
  core: CoreInternals;
  server: RunningServer;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

const created: string[] = [];
// Temporary folders go when the test process ends (a test may restart a server on the same folder).
process.once('exit', () => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'aa-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export async function startTestServer(opts: { paused?: boolean; settings?: Partial<Settings>; dataDir?: string } = {}): Promise<TestServer> {
  if (!fs.existsSync(LAUNCHER_FILE)) throw new Error(`${LAUNCHER_FILE} is missing: run \`npm run build\` before the tests`);
  const dataDir = opts.dataDir ?? tempDir();
  const core = await createCore({ dataDir, launcherFile: LAUNCHER_FILE, paused: opts.paused, settings: opts.settings });
  const server = await startServer(core, { host: '127.0.0.1', port: 0, uiDir: UI_DIR });
  return {
    core,
    server,
    url: server.url,
    dataDir,
    async close() {
      await server.close();
      await core.close();
    },
  };
}

/** multipart POST like A_A clients (requests.post(url, data=..., files={'input_data': ...})). */
export async function postSubmission(
  url: string,
  fields: Record<string, string>,
  file?: { name: string; content: Buffer | string } | null,
  route = '/analytics_automated/submission/',
): Promise<{ status: number; body: any; text: string }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('input_data', new Blob([typeof file.content === 'string' ? file.content : new Uint8Array(file.content)]), file.name);
  const res = await fetch(url + route, { method: 'POST', body: form, headers: { Accept: 'application/json' } });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, body, text };
}

export async function getJson(url: string): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}

/** Poll the A_A batch route until it reaches a final state, as A_A clients do. */
export async function pollBatch(url: string, uuid: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await getJson(`${url}/analytics_automated/submission/${uuid}`);
    if (['Complete', 'Error', 'Crash', 'Cancelled'].includes(body.state) && body.submissions.every((s: any) => ['Complete', 'Error', 'Crash', 'Cancelled'].includes(s.state))) return body;
    if (Date.now() > deadline) throw new Error(`batch ${uuid} still ${body.state}: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
}

/** Every file under a folder (relative paths), for "nothing was left behind" checks. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}
