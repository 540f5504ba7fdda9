#!/usr/bin/env node
// Builds native/spawn (task processes started with posix_spawn) with node-gyp. Optional: where it cannot be built
// (not Linux, no C compiler or Python), this says so and the app starts task processes with Node's child_process.
// Skips the build when the addon is newer than its sources.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const dir = path.join(__dirname, '..', 'native', 'spawn');
const addon = path.join(dir, 'build', 'Release', 'aa_spawn.node');
const fallback = "task processes will be started with Node's child_process (slower to start)";

if (process.platform !== 'linux') {
  console.log(`native/spawn is built on Linux only: ${fallback}.`);
  process.exit(0);
}
const sources = ['spawn.c', 'binding.gyp'].map((f) => fs.statSync(path.join(dir, f)).mtimeMs);
if (fs.existsSync(addon) && fs.statSync(addon).mtimeMs > Math.max(...sources)) process.exit(0);

const args = [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--release'];
// Node's own headers when they lie beside it (Linux packages and tarballs): node-gyp would download them otherwise.
const prefix = path.join(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
if (r.status !== 0) {
  const lines = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n');
  // The compiler's own errors say what is missing; node-gyp's summary after them does not.
  const errors = lines.filter((line) => /\berror\b/.test(line) && !line.startsWith('gyp '));
  const output = (errors.length > 0 ? errors : lines).slice(-15).join('\n');
  console.warn(`${output}\nCould not build native/spawn (above): ${fallback}.`);
}
