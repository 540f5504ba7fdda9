#!/usr/bin/env node
// `npm start`: builds if needed, then opens the Electron app, or falls back to browser mode (`aa serve`).
const path = require('node:path');
const fs = require('node:fs');
const { spawn, spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');
const built = ['main/cli.js', 'main/index.js', 'main/launcher.js', 'renderer/index.html'].every((f) =>
  fs.existsSync(path.join(root, 'out', f)),
);
if (!built) {
  console.log('Building the app (first start)…');
  spawnSync(process.execPath, [path.join(root, 'scripts', 'build-native.js')], { cwd: root, stdio: 'inherit' });
  // The package exports its package.json but not its bin script: find the script through the former.
  const pkg = require.resolve('electron-vite/package.json');
  const cli = path.join(path.dirname(pkg), require(pkg).bin['electron-vite']);
  const r = spawnSync(process.execPath, [cli, 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// Looks for an installed Electron binary without requiring the package: its index downloads the
// binary on first use, which must not happen as a side effect of starting the app.
function electronBinary() {
  let dir;
  try {
    dir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return { why: 'the electron package is not installed' };
  }
  const pathFile = path.join(dir, 'path.txt');
  if (!fs.existsSync(pathFile)) return { why: 'the Electron binary has not been downloaded (no network at install time?)' };
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(dir, 'dist');
  const bin = path.join(dist, fs.readFileSync(pathFile, 'utf8').trim());
  return fs.existsSync(bin) ? { bin } : { why: `the Electron binary is missing (${bin})` };
}

const electron = electronBinary();
if (electron.bin && !process.env.AA_BROWSER_MODE) {
  const child = spawn(electron.bin, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const why = process.env.AA_BROWSER_MODE ? 'AA_BROWSER_MODE is set' : electron.why;
  console.log(`Starting in browser mode: ${why}.`);
  console.log('Open the Workbench URL below in a browser. (See README, "Desktop window", to get the Electron app.)');
  require(path.join(root, 'out', 'main', 'cli.js')).main([process.argv[0], 'aa', 'serve', ...process.argv.slice(2)]);
}
