#!/usr/bin/env node
// `aa` command: runs the built CLI (out/main/cli.js).
const path = require('node:path');
const fs = require('node:fs');

const cli = path.join(__dirname, '..', 'out', 'main', 'cli.js');
if (!fs.existsSync(cli)) {
  console.error('aa: the app is not built yet. Run `npm run build` (or `npm start`, which builds first).');
  process.exit(2);
}
require(cli).main(process.argv);
