// The worker entry in a real Piscina pool: built to CommonJS the way the app bundles it, then run on pool threads.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptOutcome, AttemptSpec, AttemptStarted } from '../../src-worker/exec/types';

let dir: string;
let pool: Piscina<AttemptSpec, AttemptOutcome>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aa-worker-pool-'));
  // Pool threads load plain JavaScript, so bundle the entry to CommonJS as the app build does (out/main/worker.js).
  await build({
    configFile: false,
    logLevel: 'silent',
    root: resolve(__dirname, '../..'),
    build: {
      ssr: resolve(__dirname, '../../src-worker/task.ts'),
      outDir: join(dir, 'out'),
      emptyOutDir: true,
      minify: false,
      rollupOptions: { output: { format: 'cjs', entryFileNames: 'worker.js' } },
    },
  });
  pool = new Piscina({ filename: join(dir, 'out', 'worker.js'), minThreads: 2, maxThreads: 2 });
});

afterAll(async () => {
  await pool?.destroy();
  await rm(dir, { recursive: true, force: true });
});

function spec(name: string, argv: string[], extra: Partial<AttemptSpec> = {}): AttemptSpec {
  return {
    kind: 'command',
    argv,
    cwd: dir,
    env: { AA_FROM_TASK: name },
    stdout_file: join(dir, `${name}.stdout`),
    stderr_file: join(dir, `${name}.stderr`),
    output_cap_bytes: 1024,
    timeout_ms: 10_000,
    ...extra,
  };
}

describe('worker entry in a Piscina pool', () => {
  it('runs a command attempt on a pool thread and returns its outcome', async () => {
    const s = spec('one', ['sh', '-c', 'printf "%s" "$AA_FROM_TASK"; exit 4']);
    const o = await pool.run(s);
    expect(o).toMatchObject({ exit_code: 4, spawn_error: null, timed_out: false, stdout_bytes: 3 });
    expect(readFileSync(s.stdout_file, 'utf8')).toBe('one');
  });

  it('runs a script attempt on a pool thread', async () => {
    const s = spec('script', [], { kind: 'script', interpreter: 'bash', script: 'echo "$P1"', argv: undefined,
      script_params: [{ flag: '-k', value: 'from pool', bool: false }] });
    const o = await pool.run(s);
    expect(o.exit_code).toBe(0);
    expect(readFileSync(s.stdout_file, 'utf8')).toBe('from pool\n');
  });

  it('delivers the started message through a transferred port, and cancel through it stops the attempt', async () => {
    const channel = new MessageChannel();
    const started = new Promise<AttemptStarted>((resolveStarted) =>
      channel.port2.once('message', (m: AttemptStarted) => {
        process.kill(-m.pid, 'SIGTERM');
        resolveStarted(m);
      }),
    );
    try {
      const s = spec('cancel', ['sleep', '100'], { port: channel.port1 });
      const o = await pool.run(s, { transferList: [channel.port1] });
      const m = await started;
      expect(m).toEqual({ type: 'started', pid: o.pid, started_at: o.started_at });
      expect(o).toMatchObject({ signal: 'SIGTERM', exit_code: null, timed_out: false });
    } finally {
      channel.port1.close();
      channel.port2.close();
    }
  });

  it('runs attempts side by side on separate threads', async () => {
    const t0 = Date.now();
    const outcomes = await Promise.all([
      pool.run(spec('a', ['sleep', '0.5'])),
      pool.run(spec('b', ['sleep', '0.5'])),
    ]);
    expect(outcomes.map((o) => o.exit_code)).toEqual([0, 0]);
    expect(Date.now() - t0).toBeLessThan(950);
  });
});
