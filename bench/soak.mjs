#!/usr/bin/env node
// Soak: 8 clients submit a 3-step job over loopback for 5 minutes (bounded by count and time) and poll each run to
// its end, while the server's RSS and store size are sampled. Checks that no submission is lost or stuck, plots the
// samples to bench/soak.svg and records the "Soak" section of bench/RESULTS.md.
// Usage: npm run build && node bench/soak.mjs [--duration-s 300] [--clients 8] [--max 50000] [--retain-count 300]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, admin, machine, multipart, now, percentile, recordSection, request, round, rssKb, runCli, sleep, startServer, tempDir } from './lib.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const DURATION_S = arg('duration-s', 300);
const CLIENTS = arg('clients', 8);
const MAX = arg('max', 50_000);
const RETAIN = arg('retain-count', 300);
const SAMPLE_MS = 5000;
const POLL_MS = 200;
/** A run not finished this long after the clients stop is stuck. */
const DRAIN_MS = 60_000;

const JOB = `format: aa-workbench/1
tasks:
  - name: soak_copy
    backend: local
    executable: cat $I1
    in_glob: .input
    out_glob: .copy
    stdout_glob: .copy
  - name: soak_count
    backend: local
    executable: wc -c $I1
    in_glob: .copy
    out_glob: .count
    stdout_glob: .count
  - name: soak_sort
    backend: local
    executable: sort $I1
    in_glob: .count
    out_glob: .sorted
    stdout_glob: .sorted
jobs:
  - name: soak
    runnable: true
    steps:
      - key: copy
        task: soak_copy
      - key: count
        task: soak_count
        after: [copy]
      - key: sort
        task: soak_sort
        after: [count]
`;

const mib = (bytes) => round(bytes / 2 ** 20, 1);

async function main() {
  const dataDir = tempDir('soak-');
  const config = path.join(dataDir, 'soak.yaml');
  fs.writeFileSync(config, JOB);
  await runCli(['import', config, '--data-dir', dataDir]);
  const server = await startServer({ dataDir, concurrency: os.cpus().length });
  // A count limit keeps the store level under steady load; the sweep runs every 10 s (the shortest interval).
  const set = await admin(server, 'PUT', '/retention', { retain_count: RETAIN, retention_interval_s: 10 });
  if (set.status !== 200) throw new Error(`retention settings refused: ${set.body}`);
  await admin(server, 'PUT', '/settings', { queue_hog_size: null, queue_hard_limit: null });

  const input = Buffer.from('soak input\n'.repeat(100));
  const samples = [];
  const outcomes = { submitted: 0, refused: 0, complete: 0, failed: 0, lost: 0, stuck: 0 };
  const latencies = [];
  const t0 = now();
  const elapsedS = () => (now() - t0) / 1000;
  let stopping = false;

  const sample = async () => {
    const storage = JSON.parse((await admin(server, 'GET', '/storage')).body);
    samples.push({
      t: round(elapsedS(), 1),
      rss: rssKb(server.pid) * 1024,
      db: storage.db_bytes + storage.wal_bytes,
      files: storage.files_bytes,
      rows: storage.counts.submissions,
      unfinished: storage.counts.unfinished,
      completed: outcomes.complete + outcomes.failed,
    });
  };
  await sample();
  const sampler = setInterval(() => void sample().catch((e) => console.error('sample failed:', e.message)), SAMPLE_MS);

  const client = async (c) => {
    while (!stopping && outcomes.submitted + outcomes.refused < MAX) {
      const { body, ctype } = multipart(
        [
          ['job', 'soak'],
          ['submission_name', `soak-${c}`],
          ['email', 'soak@example.org'],
        ],
        input,
      );
      const start = now();
      const posted = await request('POST', `${server.url}/analytics_automated/submission/`, body, { 'Content-Type': ctype });
      if (posted.status !== 201) {
        outcomes.refused += 1;
        await sleep(250);
        continue;
      }
      outcomes.submitted += 1;
      const uuid = JSON.parse(posted.body).UUID;
      const deadline = start + DURATION_S * 1000 + DRAIN_MS;
      for (;;) {
        await sleep(POLL_MS);
        const got = await request('GET', `${server.url}/analytics_automated/submission/${uuid}`);
        if (got.status === 404) {
          outcomes.lost += 1;
          break;
        }
        const state = JSON.parse(got.body).state;
        if (state === 'Complete' || state === 'Error' || state === 'Crash') {
          outcomes[state === 'Complete' ? 'complete' : 'failed'] += 1;
          latencies.push(now() - start);
          break;
        }
        if (now() > deadline) {
          outcomes.stuck += 1;
          break;
        }
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
  const timer = setTimeout(() => (stopping = true), DURATION_S * 1000);
  await Promise.all(clients);
  clearTimeout(timer);
  const wallS = elapsedS();
  clearInterval(sampler);
  await sample();
  const finalStorage = JSON.parse((await admin(server, 'GET', '/storage')).body);
  await server.stop();

  const s0 = samples[0];
  const sEnd = samples.at(-1);
  const storeOf = (s) => s.db + s.files;
  const report = {
    duration_s: round(wallS, 1),
    ...outcomes,
    throughput: round((outcomes.complete + outcomes.failed) / wallS, 1),
    p50_ms: round(percentile(latencies, 50), 0),
    p95_ms: round(percentile(latencies, 95), 0),
    rss_mib: { start: mib(s0.rss), max: mib(Math.max(...samples.map((s) => s.rss))), end: mib(sEnd.rss) },
    store_mib: { start: mib(storeOf(s0)), max: mib(Math.max(...samples.map(storeOf))), end: mib(storeOf(sEnd)) },
    rows_end: sEnd.rows,
    unfinished_end: finalStorage.counts.unfinished,
  };
  console.log(JSON.stringify(report, null, 2));
  fs.writeFileSync(path.join(ROOT, 'bench', 'soak.svg'), plot(samples));

  const ok = report.lost === 0 && report.stuck === 0 && report.unfinished_end === 0;
  recordSection(
    'Soak',
    `Recorded ${new Date().toISOString()} by \`node bench/soak.mjs${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\` on ${machine()}. Loopback.

${CLIENTS} clients, each in a loop for ${DURATION_S} s (bounded at ${MAX} submissions): POST a 1.1 KiB upload to a 3-step job
(\`cat\` → \`wc -c\` → \`sort\`, each step waiting for the one before), then poll the A_A batch route every ${POLL_MS} ms until the run ends.
Steps at once: as many as the cores; retention keeps the newest ${RETAIN} finished runs (sweep every 10 s) so the store
should level off. Retention never removes a run that ended less than a minute ago (a client that saw it finish can still
fetch its results), so at steady load the store holds those ${RETAIN} plus about a minute's worth of runs.
RSS of the server process and store size (SQLite file + WAL + submission files) sampled every ${SAMPLE_MS / 1000} s.

| figure | value |
|---|---|
| submissions accepted | ${report.submitted} (refused: ${report.refused}) |
| completed / failed | ${report.complete} / ${report.failed} |
| **lost / stuck** | **${report.lost} / ${report.stuck}**; unfinished in the store at the end: ${report.unfinished_end} |
| completed runs/s | ${report.throughput} |
| end-to-end latency (POST → seen finished) | p50 ${report.p50_ms} ms, p95 ${report.p95_ms} ms |
| server RSS (MiB) | start ${report.rss_mib.start}, max ${report.rss_mib.max}, end ${report.rss_mib.end} |
| store size (MiB) | start ${report.store_mib.start}, max ${report.store_mib.max}, end ${report.store_mib.end} |
| submissions in the store at the end | ${report.rows_end} |

${ok ? 'No submission was lost or stuck.' : '**Some submissions were lost or stuck: see the figures above.**'}

![RSS and store size over the soak](soak.svg)`,
  );
  console.log('recorded in bench/RESULTS.md and bench/soak.svg');
  if (!ok) process.exitCode = 1;
}

/** Two stacked line charts (RSS; store size split into database and files) over time, as a standalone SVG. */
function plot(samples) {
  const W = 760;
  const H = 220;
  const PAD = { l: 60, r: 20, t: 30, b: 34 };
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const panel = (y0, title, series) => {
    const vMax = Math.max(1, ...series.flatMap((s) => samples.map((p) => s.value(p)))) * 1.1;
    const x = (t) => PAD.l + (t / tMax) * (W - PAD.l - PAD.r);
    const y = (v) => y0 + PAD.t + (1 - v / vMax) * (H - PAD.t - PAD.b);
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
      const v = vMax * f;
      return `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${round(v, 1)}</text>`;
    });
    const xTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${x(tMax * f)}" y="${y0 + H - 12}" text-anchor="middle" font-size="11">${Math.round(tMax * f)} s</text>`);
    const lines = series.map(
      (s, i) =>
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${samples.map((p) => `${round(x(p.t), 1)},${round(y(s.value(p)), 1)}`).join(' ')}"/>` +
        `<text x="${W - PAD.r - 150}" y="${y0 + 16 + i * 14}" font-size="12" fill="${s.color}">${s.label}</text>`,
    );
    return `<text x="${PAD.l}" y="${y0 + 18}" font-size="13" font-weight="bold">${title}</text>${ticks.join('')}${xTicks.join('')}${lines.join('')}`;
  };
  const body = [
    panel(0, 'Server RSS (MiB)', [{ label: 'RSS', color: '#1f77b4', value: (p) => p.rss / 2 ** 20 }]),
    panel(H, 'Store size (MiB)', [
      { label: 'database + WAL', color: '#d62728', value: (p) => p.db / 2 ** 20 },
      { label: 'submission files', color: '#2ca02c', value: (p) => p.files / 2 ** 20 },
    ]),
  ].join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${2 * H}" viewBox="0 0 ${W} ${2 * H}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${body}</svg>\n`;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
