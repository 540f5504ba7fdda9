// Browser-test support: the real built server in a child process, the admin API, and real mouse gestures on the canvas.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, type Locator, type Page } from '@playwright/test';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SHOTS = path.join(ROOT, 'test-results', 'screenshots');

export interface Workbench {
  /** Workbench address with its token, as the server printed it. */
  url: string;
  /** http://127.0.0.1:<port> */
  base: string;
  token: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts `node out/main/cli.js serve` on a free port over a fresh data dir and waits for its address line. */
export async function startWorkbench(dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-e2e-'))): Promise<Workbench> {
  const cli = path.join(ROOT, 'out', 'main', 'cli.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  const child: ChildProcess = spawn(process.execPath, [cli, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Workbench: (http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  const parsed = new URL(url);
  return {
    url,
    base: parsed.origin,
    token: decodeURIComponent(parsed.hash.replace(/^#token=/, '')),
    dataDir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

/** A call to the workbench API with the launch token. */
export async function admin<T = unknown>(w: Workbench, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${w.base}/api/admin${route}`, {
    method,
    headers: { Authorization: `Bearer ${w.token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A client POSTing a file to a published job, exactly as A_A clients do. */
export async function submit(w: Workbench, job: string, file: { name: string; content: string }, fields: Record<string, string> = {}) {
  const form = new FormData();
  form.append('job', job);
  form.append('submission_name', 'e2e client');
  form.append('email', 'client@example.com');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('input_data', new Blob([file.content]), file.name);
  const res = await fetch(`${w.base}/analytics_automated/submission.json`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as { UUID?: string; error?: unknown } };
}

/**
 * Saves the whole page as a window that tall would show it. A full-page capture of a scrolled window draws sticky parts
 * (the navigation, the save bar) where the scroll left them, so a long page gets a viewport its own height instead.
 */
export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  const size = page.viewportSize();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  if (!size || height <= size.height) {
    await page.screenshot({ path: file, fullPage: true });
    return;
  }
  await page.setViewportSize({ width: size.width, height });
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.screenshot({ path: file });
  await page.setViewportSize(size);
}

export const canvas = (page: Page): Locator => page.getByTestId('canvas');
export const stepNodes = (page: Page): Locator => page.locator('.react-flow__node-step');

/** Drags a palette entry onto the canvas at (x, y) relative to the canvas' top-left corner. */
export async function dropOnCanvas(page: Page, paletteTestId: string, x: number, y: number): Promise<void> {
  const before = await stepNodes(page).count();
  await page.getByTestId(paletteTestId).dragTo(canvas(page), { targetPosition: { x, y } });
  if (!paletteTestId.startsWith('palette-validator')) await expect(stepNodes(page)).toHaveCount(before + 1);
}

/** Drags from one node's output handle to another node's input handle with the mouse. */
export async function connect(page: Page, from: Locator, to: Locator): Promise<void> {
  const source = await from.locator('.react-flow__handle.source').boundingBox();
  const target = await to.locator('.react-flow__handle.target').boundingBox();
  if (!source || !target) throw new Error('handle not visible');
  const sx = source.x + source.width / 2;
  const sy = source.y + source.height / 2;
  const tx = target.x + target.width / 2;
  const ty = target.y + target.height / 2;
  await page.mouse.move(sx, sy);
  await page.mouse.down();
  await page.mouse.move((sx + tx) / 2, (sy + ty) / 2, { steps: 8 });
  await page.mouse.move(tx, ty, { steps: 8 });
  await page.mouse.up();
}

export interface TaskFields {
  name: string;
  executable: string;
  in_glob: string;
  out_glob: string;
  stdout_glob?: string;
}

/** Types a Task's fields into the properties panel of the selected step. */
export async function fillTask(page: Page, t: TaskFields): Promise<void> {
  const panel = page.getByRole('complementary', { name: 'Properties' });
  await panel.getByLabel('Task name', { exact: true }).fill(t.name);
  await panel.getByLabel('Executable', { exact: true }).fill(t.executable);
  await panel.getByLabel('in_glob', { exact: true }).fill(t.in_glob);
  await panel.getByLabel('out_glob', { exact: true }).fill(t.out_glob);
  if (t.stdout_glob !== undefined) await panel.getByLabel('stdout_glob', { exact: true }).fill(t.stdout_glob);
}

/** The node of the step whose Task is `task`. */
export const stepOf = (page: Page, task: string): Locator => page.locator(`.step-node[data-task="${task}"]`);
