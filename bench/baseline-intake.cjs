// Baseline for the intake bench: a bare busboy → file (fsync) → SQLite (WAL, synchronous=FULL) handler, nothing else.
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const busboy = require('busboy');
const Database = require('better-sqlite3');

const dir = process.argv[2];
fs.mkdirSync(dir, { recursive: true });
const db = new Database(path.join(dir, 'baseline.sqlite'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS submission (id INTEGER PRIMARY KEY, uuid TEXT, name TEXT, path TEXT)');
const insert = db.prepare('INSERT INTO submission (uuid, name, path) VALUES (?, ?, ?)');

const server = http.createServer((req, res) => {
  const bb = busboy({ headers: req.headers });
  const fields = {};
  let done = null;
  bb.on('field', (k, v) => (fields[k] = v));
  bb.on('file', (_name, stream) => {
    const file = path.join(dir, crypto.randomUUID());
    const out = fs.createWriteStream(file, { flush: true });
    done = new Promise((resolve) => out.on('close', () => resolve(file)));
    stream.pipe(out);
  });
  bb.on('close', async () => {
    const file = await done;
    const uuid = crypto.randomUUID();
    insert.run(uuid, fields.submission_name ?? '', file);
    res.writeHead(201, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ UUID: uuid, submission_name: fields.submission_name }));
  });
  req.pipe(bb);
});
server.listen(0, '127.0.0.1', () => console.log(`Workbench: http://127.0.0.1:${server.address().port}/#token=none`));
