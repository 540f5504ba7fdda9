// The local executor with the built launcher processes: attempts, started messages, cancel, crashes, clean exit.
import { readFileSync, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src-main/core/queue/local';
import type { AttemptSpec } from '../../src-worker/exec/types';
import { LAUNCHER_FILE } from '../support/server';

let dir: string;
let executor: LocalExecutor;

beforeAll(async () => {
  if (!existsSync(LAUNCHER_FILE)) throw new Error(`${LAUNCHER_FILE} is missing: run \`npm run build\` before the tests`);
  dir = await mkdtemp(join(tmpdir(), 'aa-launcher-'));
  executor = new LocalExecutor(LAUNCHER_FILE, 2);
});

afterAll(async () => {
  await executor?.close();
  await rm(dir, { recursive: true, force: true });
});

function spec(name: string, argv: string[], extra: Partial<AttemptSpec> = {}): AttemptSpec {
  return {
    kind: 'command',
    argv,
    cwd: dir,
    env: { AA_FROM_TASK: name },
    stdout_file: join(dir, `${name}.stdout`),
    stderr_file: join(dir, 'logs', `${name}.stderr`),
    output_cap_bytes: 1024,
    timeout_ms: 10_000,
    ...extra,
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
}

describe('local executor (launcher processes)', () => {
  it('runs a command attempt with the task environment merged and returns its outcome', async () => {
    const s = spec('one', ['sh', '-c', 'printf "%s" "$AA_FROM_TASK"; exit 4']);
    const o = await executor.run(s, () => undefined);
    expect(o).toMatchObject({ exit_code: 4, spawn_error: null, timed_out: false, stdout_bytes: 3, stderr_bytes: 0 });
    expect(readFileSync(s.stdout_file, 'utf8')).toBe('one');
  });

  it('creates the stderr file (and its folder) only when the process writes to stderr', async () => {
    const quiet = spec('quiet', ['true']);
    await executor.run(quiet, () => undefined);
    expect(existsSync(quiet.stdout_file)).toBe(true);
    expect(existsSync(quiet.stderr_file)).toBe(false);
    const loud = spec('loud', ['sh', '-c', 'echo oops >&2']);
    const o = await executor.run(loud, () => undefined);
    expect(o.stderr_bytes).toBe(5);
    expect(readFileSync(loud.stderr_file, 'utf8')).toBe('oops\n');
  });

  it('runs a script attempt', async () => {
    const s = spec('script', [], {
      kind: 'script',
      interpreter: 'bash',
      script: 'echo "$P1"',
      argv: undefined,
      script_params: [{ flag: '-k', value: 'from launcher', bool: false }],
    });
    const o = await executor.run(s, () => undefined);
    expect(o.exit_code).toBe(0);
    expect(readFileSync(s.stdout_file, 'utf8')).toBe('from launcher\n');
  });

  it('reports the pid once started, and killing that group ends the attempt', async () => {
    let startedPid = 0;
    const o = await executor.run(spec('cancel', ['sleep', '100']), (pid) => {
      startedPid = pid;
      process.kill(-pid, 'SIGTERM');
    });
    expect(startedPid).toBe(o.pid);
    expect(o).toMatchObject({ signal: 'SIGTERM', exit_code: null, timed_out: false });
  });

  it('reports the pid of a quick attempt with its outcome alone, sparing the server a message', async () => {
    let announced = false;
    const o = await executor.run(spec('quick', ['true']), () => (announced = true));
    expect(o.pid).toBeGreaterThan(0);
    expect(announced).toBe(false);
  });

  it('runs attempts side by side', async () => {
    const t0 = Date.now();
    const outcomes = await Promise.all([executor.run(spec('a', ['sleep', '0.5']), () => undefined), executor.run(spec('b', ['sleep', '0.5']), () => undefined)]);
    expect(outcomes.map((o) => o.exit_code)).toEqual([0, 0]);
    expect(Date.now() - t0).toBeLessThan(950);
  });

  it('ends the attempts of a launcher killed from outside, with their process groups', async () => {
    const own = new LocalExecutor(LAUNCHER_FILE, 1);
    try {
      let pid = 0;
      const running = own.run(spec('orphan', ['sleep', '100']), (p) => (pid = p));
      while (!pid) await new Promise((r) => setTimeout(r, 10));
      const launcherPid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      process.kill(launcherPid, 'SIGKILL');
      const o = await running;
      expect(o.spawn_error).toMatch(/launcher process stopped \(SIGKILL\)/);
      expect(await gone(pid)).toBe(true);
      // The next attempt gets a fresh launcher.
      expect((await own.run(spec('after', ['true']), () => undefined)).exit_code).toBe(0);
    } finally {
      await own.close();
    }
  });

  it('stops running attempts when it is closed', async () => {
    const own = new LocalExecutor(LAUNCHER_FILE, 1);
    let pid = 0;
    const running = own.run(spec('closing', ['sleep', '100']), (p) => (pid = p));
    while (!pid) await new Promise((r) => setTimeout(r, 10));
    await own.close();
    await running;
    expect(await gone(pid)).toBe(true);
  });
});
