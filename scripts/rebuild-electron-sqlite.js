#!/usr/bin/env node
// Builds better-sqlite3 for Electron's ABI into native/electron/, leaving the Node build in node_modules
// untouched (headless mode and the tests keep using it). Needs internet access for Electron's headers.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');
const electronVersion = require(path.join(root, 'node_modules', 'electron', 'package.json')).version;
const source = path.dirname(require.resolve('better-sqlite3/package.json', { paths: [root] }));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aa-sqlite-electron-'));

console.log(`Building better-sqlite3 for Electron ${electronVersion} in ${work}`);
fs.cpSync(source, work, { recursive: true, filter: (p) => !p.includes(`${path.sep}build${path.sep}`) });
const r = spawnSync(
  'npx',
  ['--yes', 'node-gyp', 'rebuild', '--release', `--target=${electronVersion}`, '--runtime=electron', '--dist-url=https://electronjs.org/headers'],
  { cwd: work, stdio: 'inherit', env: { ...process.env, npm_config_nodedir: '' } },
);
if (r.status !== 0) {
  console.error('The Electron build of better-sqlite3 failed; see the output above.');
  process.exit(r.status ?? 1);
}
const target = path.join(root, 'native', 'electron');
fs.mkdirSync(target, { recursive: true });
fs.copyFileSync(path.join(work, 'build', 'Release', 'better_sqlite3.node'), path.join(target, 'better_sqlite3.node'));
fs.rmSync(work, { recursive: true, force: true });
console.log(`Wrote ${path.join(target, 'better_sqlite3.node')}; the Electron app loads it, headless mode keeps the Node build.`);
