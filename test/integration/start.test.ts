// `npm start` on a checkout that was never built (as after `npm ci` on a fresh clone): it builds the spawn addon and the
// app on first start, then serves in browser mode. Run on a copy whose sources and node_modules link to this checkout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-first-start-'));

afterAll(() => fs.rmSync(copy, { recursive: true, force: true }));

it('builds a never-built checkout on its first start, then serves in browser mode', () => {
  // Copied: the scripts and the build's configuration find what they build from their own folder. Linked: what is only read.
  for (const dir of ['bin', 'scripts']) fs.cpSync(path.join(ROOT, dir), path.join(copy, dir), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'electron.vite.config.ts'), path.join(copy, 'electron.vite.config.ts'));
  fs.mkdirSync(path.join(copy, 'native', 'spawn'), { recursive: true });
  for (const file of ['spawn.c', 'binding.gyp']) fs.copyFileSync(path.join(ROOT, 'native', 'spawn', file), path.join(copy, 'native', 'spawn', file));
  for (const name of ['package.json', 'tsconfig.json', 'node_modules', 'src-main', 'src-renderer', 'src-worker', 'resources']) {
    fs.symlinkSync(path.join(ROOT, name), path.join(copy, name));
  }

  const r = spawnSync(process.execPath, [path.join(copy, 'bin', 'start.js'), '--help'], {
    env: { ...process.env, AA_BROWSER_MODE: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('Building the app (first start)');
  expect(r.stdout).toContain('Starting in browser mode: AA_BROWSER_MODE is set.');
  expect(r.stdout).toContain('Usage: aa serve');
  for (const built of ['out/main/cli.js', 'out/main/launcher.js', 'out/renderer/index.html']) expect(fs.existsSync(path.join(copy, built)), built).toBe(true);
  if (process.platform === 'linux') expect(fs.existsSync(path.join(copy, 'native/spawn/build/Release/aa_spawn.node'))).toBe(true);
}, 180_000);
