// Native API `?wait` benchmark: synchronous round trips (submit, run one `wc -c` step, answer with the finished run) at 1 and 8 clients.
// Usage: npm run build && node bench/wait.mjs [--quick]   (writes the "Native API ?wait" section of bench/RESULTS.md)
// Loopback only; every loop is bounded by a request count.
import crypto from 'node:crypto';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, startServer, runCli, admin, request, multipart, pool, percentile, round, machine, recordSection } from './lib.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = 3;
const KIB = crypto.randomBytes(512).toString('hex'); // 1 KiB of text, as the peers were measured with
const PEERS = { 1: 199, 8: 321 }; // Node-RED 4.1, synchronous http-in → exec → http-response (shared/reference/peer-figures.md)
const CONFIG = `format: aa-workbench/1
tasks:
  - { name: w_wc, backend: local, executable: wc -c $I1, in_glob: .input, out_glob: .count, stdout_glob: .count }
jobs:
  - name: wait1
    runnable: true
    steps: [{ key: a, task: w_wc }]
`;

async function roundTrip(url, encoding) {
  let body;
  let ctype;
  if (encoding === 'json') {
    body = Buffer.from(JSON.stringify({ input_data: KIB }));
    ctype = 'application/json';
  } else {
    ({ body, ctype } = multipart([], Buffer.from(KIB)));
  }
  const r = await request('POST', `${url}/api/v1/services/wait1?wait=60`, body, { 'Content-Type': ctype });
  if (r.status !== 200) throw new Error(`POST ${r.status} ${r.body.slice(0, 300)}`);
  const run = JSON.parse(r.body);
  if (run.state !== 'Complete') throw new Error(`run ${run.id} ended ${run.state}: ${run.message}`);
  return run;
}

async function measure(url, clients, n, encoding) {
  await pool(Math.max(20, n / 10), clients, () => roundTrip(url, encoding)); // warm-up
  const { results, wallMs } = await pool(n, clients, () => roundTrip(url, encoding));
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw new Error(`${failed.length} of ${n} failed: ${failed[0].error}`);
  const ms = results.map((r) => r.ms);
  return { rps: n / (wallMs / 1000), p50: percentile(ms, 50), p95: percentile(ms, 95) };
}

const median = (xs, key) => [...xs].sort((a, b) => a[key] - b[key])[Math.floor(xs.length / 2)];

async function main() {
  const loadBefore = os.loadavg()[0];
  const dataDir = tempDir('wait-');
  const cfg = path.join(dataDir, 'bench.yaml');
  fs.writeFileSync(cfg, CONFIG);
  await runCli(['import', cfg, '--data-dir', dataDir]);
  const server = await startServer({ dataDir });
  const rows = [];
  try {
    const r = await admin(server, 'PUT', '/settings', { queue_hog_size: null, queue_hard_limit: null });
    if (r.status !== 200) throw new Error(`settings: ${r.status} ${r.body}`);
    for (const encoding of ['multipart', 'json']) {
      for (const clients of [1, 8]) {
        const n = quick ? (clients === 1 ? 150 : 300) : clients === 1 ? 500 : 1000;
        const rounds = [];
        for (let i = 0; i < ROUNDS; i++) rounds.push(await measure(server.url, clients, n, encoding));
        const mid = median(rounds, 'rps');
        rows.push({ encoding, clients, n, ...mid, all: rounds.map((x) => round(x.rps, 1)) });
        console.log(JSON.stringify(rows[rows.length - 1]));
      }
    }
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const table = rows
    .map(
      (row) =>
        `| ${row.encoding === 'json' ? 'JSON (file inline)' : 'multipart (1 KiB file part)'} | ${row.clients} | ${round(row.rps, 1)} (rounds: ${row.all.join(', ')}) | ${round(row.p50, 2)} ms | ${round(row.p95, 2)} ms | ${PEERS[row.clients]} | ${round(row.rps / PEERS[row.clients], 2)} |`,
    )
    .join('\n');
  recordSection(
    'Native API ?wait',
    `Recorded ${new Date().toISOString()} by \`node bench/wait.mjs${quick ? ' --quick' : ''}\` on ${machine()}. Loopback, keep-alive.

Each request is \`POST /api/v1/services/wait1?wait=60\` with a 1 KiB input; the server validates it, stores it durably (fsync),
runs the one step (\`wc -c\`, started by a launcher process), records the result and answers **200 with the finished run document**.
Node-RED's figures are for a synchronous flow that persists nothing (http-in → exec → http-response).
Median of ${ROUNDS} rounds of ${quick ? '150 / 300' : '500 / 1000'} round trips after a warm-up; 1-minute load average ${round(loadBefore, 1)} before, ${round(os.loadavg()[0], 1)} after (2 cores: above 2 means other work shared the machine).

| body | clients | round trips/s | p50 | p95 | Node-RED req/s | ratio |
|---|---|---|---|---|---|---|
${table}

Where the gap comes from: every round trip here makes two fsyncs (the upload and the accepting commit) and spawns one
process through launchers as many as the cores (2), and it survives a crash at any point; Node-RED answers from memory.
At 8 clients the figure is the engine's completion rate (compare the Engine section's burst figure), so it moves with
per-step overhead, not with this route.
`,
  );
  console.log('recorded in bench/RESULTS.md');
}

await main();
