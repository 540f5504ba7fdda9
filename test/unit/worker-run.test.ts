// runAttempt with real child processes: exit statuses, capped output files, timeouts, process groups, env, argv; each
// case with both starters (the posix_spawn addon and Node's child_process).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAttempt, useNativeSpawner } from '../../src-worker/exec/run';
import { loadNativeSpawner, nativeSpawnerFile, type NativeSpawner } from '../../src-worker/exec/native-spawn';
import type { AttemptSpec, AttemptStarted } from '../../src-worker/exec/types';

let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aa-worker-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function command(argv: string[], extra: Partial<AttemptSpec> = {}): AttemptSpec {
  n += 1;
  return {
    kind: 'command',
    argv,
    cwd: dir,
    env: {},
    stdout_file: join(dir, `${n}.stdout`),
    stderr_file: join(dir, `${n}.stderr`),
    output_cap_bytes: 1024 * 1024,
    timeout_ms: null,
    ...extra,
  };
}

const read = (path: string) => readFileSync(path, 'utf8');

/** Alive and not a zombie (an orphan's zombie lingers until PID 1 reaps it, which some containers never do). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Signals are delivered asynchronously, so give a killed process a moment to be gone. */
async function goneSoon(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

const hasProgram = (name: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

// Built by `npm run build` (scripts/build-native.js), as `npm test` does first.
const native = loadNativeSpawner(nativeSpawnerFile(__dirname));

it('loads the posix_spawn starter on Linux', () => {
  expect(process.platform !== 'linux' || native !== null).toBe(true);
});

const starters: [string, NativeSpawner | null][] = [
  ['child_process', null],
  ...(native ? [['posix_spawn', native] as [string, NativeSpawner]] : []),
];

describe.each(starters)('runAttempt (command) started by %s', (_name, starter) => {
  beforeAll(() => useNativeSpawner(starter));
  afterAll(() => useNativeSpawner(null));

  it('returns exit code 0 and the start and end of the run', async () => {
    const o = await runAttempt(command(['true']));
    expect(o).toMatchObject({ exit_code: 0, signal: null, timed_out: false, spawn_error: null });
    expect(o.pid).toBeGreaterThan(0);
    expect(Date.parse(o.ended_at)).toBeGreaterThanOrEqual(Date.parse(o.started_at));
    expect(o.duration_ms).toBeGreaterThan(0);
  });

  it('returns the real non-zero exit code', async () => {
    const o = await runAttempt(command(['sh', '-c', 'exit 3']));
    expect(o.exit_code).toBe(3);
    expect(o.signal).toBeNull();
  });

  it('streams stdout and stderr to their own files, flushed by the time it resolves', async () => {
    const spec = command(['sh', '-c', 'printf "to out"; printf "to err" >&2']);
    const o = await runAttempt(spec);
    expect(read(spec.stdout_file)).toBe('to out');
    expect(read(spec.stderr_file)).toBe('to err');
    expect(o).toMatchObject({ stdout_bytes: 6, stderr_bytes: 6, stdout_truncated: false, stderr_truncated: false });
  });

  it('creates the stdout file even when the process prints nothing (it may be a result), stderr only when written', async () => {
    const spec = command(['true']);
    await runAttempt(spec);
    expect(read(spec.stdout_file)).toBe('');
    expect(existsSync(spec.stderr_file)).toBe(false);
  });

  it('makes the folder of the stderr file on the first byte', async () => {
    const spec = command(['sh', '-c', 'echo late >&2'], { stderr_file: join(dir, 'made', 'later', 'x.stderr') });
    const o = await runAttempt(spec);
    expect(o).toMatchObject({ exit_code: 0, stderr_bytes: 5, stderr_truncated: false });
    expect(read(spec.stderr_file)).toBe('late\n');
  });

  it('keeps only output_cap_bytes per stream, counts the rest and marks the stream truncated', async () => {
    const spec = command(['sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" a; printf small >&2'], {
      output_cap_bytes: 1000,
    });
    const o = await runAttempt(spec);
    expect(o.exit_code).toBe(0);
    expect(read(spec.stdout_file)).toBe('a'.repeat(1000));
    expect(o).toMatchObject({ stdout_bytes: 100000, stdout_truncated: true, stderr_bytes: 5, stderr_truncated: false });
    expect(read(spec.stderr_file)).toBe('small');
  });

  it('keeps draining past the cap so a process writing far more than a pipe holds never blocks', async () => {
    const spec = command(['head', '-c', String(20 * 1024 * 1024), '/dev/zero'], { output_cap_bytes: 10 });
    const o = await runAttempt(spec);
    expect(o.exit_code).toBe(0);
    expect(o.stdout_bytes).toBe(20 * 1024 * 1024);
    expect(readFileSync(spec.stdout_file).length).toBe(10);
  });

  it('with a cap of 0 keeps nothing and reports any output as truncated', async () => {
    const spec = command(['printf', 'x'], { output_cap_bytes: 0 });
    const o = await runAttempt(spec);
    expect(read(spec.stdout_file)).toBe('');
    expect(o).toMatchObject({ stdout_bytes: 1, stdout_truncated: true });
  });

  it('on timeout kills the whole process group, grandchildren included', async () => {
    const spec = command(['sh', '-c', 'sleep 100 & echo $!; sleep 100'], { timeout_ms: 200 });
    const o = await runAttempt(spec);
    const grandchild = Number(read(spec.stdout_file).trim());
    expect(o).toMatchObject({ timed_out: true, exit_code: null, signal: 'SIGTERM' });
    expect(o.duration_ms).toBeLessThan(1500);
    expect(grandchild).toBeGreaterThan(0);
    expect(await goneSoon(grandchild)).toBe(true);
  });

  it('on timeout follows SIGTERM with SIGKILL when the process ignores SIGTERM', async () => {
    const spec = command(['sh', '-c', "trap '' TERM; sleep 100 & echo $!; wait; wait"], { timeout_ms: 100 });
    const o = await runAttempt(spec);
    const grandchild = Number(read(spec.stdout_file).trim());
    expect(o).toMatchObject({ timed_out: true, exit_code: null, signal: 'SIGKILL' });
    expect(o.duration_ms).toBeGreaterThanOrEqual(2000);
    expect(o.duration_ms).toBeLessThan(5000);
    expect(await goneSoon(grandchild)).toBe(true);
  });

  it('treats a timeout too long for a timer as a long wait, not as an immediate kill', async () => {
    const o = await runAttempt(command(['sleep', '0.2'], { timeout_ms: 2 ** 31 * 10 }));
    expect(o).toMatchObject({ exit_code: 0, timed_out: false });
  });

  it('leaves nothing running when the task forks a child and exits', async () => {
    const spec = command(['sh', '-c', 'sleep 100 & echo $!']);
    const o = await runAttempt(spec);
    const grandchild = Number(read(spec.stdout_file).trim());
    expect(o.exit_code).toBe(0);
    expect(o.timed_out).toBe(false);
    // The orphan held the stdout pipe; killing the group ends it at once rather than after it finishes.
    expect(o.duration_ms).toBeLessThan(1000);
    expect(await goneSoon(grandchild)).toBe(true);
  });

  it.skipIf(!hasProgram('setsid'))(
    'does not wait for a descendant that left the process group and still holds the output pipe',
    async () => {
      const spec = command(['sh', '-c', 'setsid sleep 30 & echo $!']);
      const o = await runAttempt(spec);
      const escaped = Number(read(spec.stdout_file).trim());
      try {
        expect(o.exit_code).toBe(0);
        expect(o.duration_ms).toBeLessThan(5000);
      } finally {
        if (escaped > 0 && isAlive(escaped)) process.kill(escaped, 'SIGKILL');
      }
    },
  );

  it('merges env onto the worker environment: PATH kept, extra variables visible, same names overridden', async () => {
    const spec = command(['sh', '-c', 'printf "%s|%s|%s" "$AA_EXTRA" "$PATH" "$HOME"'], {
      env: { AA_EXTRA: 'a value with spaces', HOME: '/aa-home' },
    });
    await runAttempt(spec);
    expect(read(spec.stdout_file)).toBe(`a value with spaces|${process.env.PATH}|/aa-home`);
  });

  it('inherits the worker environment unchanged when env is empty', async () => {
    const spec = command(['sh', '-c', 'printf "%s" "$PATH"']);
    await runAttempt(spec);
    expect(read(spec.stdout_file)).toBe(process.env.PATH);
  });

  it('runs in cwd', async () => {
    const spec = command(['pwd']);
    await runAttempt(spec);
    expect(read(spec.stdout_file).trim()).toBe(dir);
  });

  it('passes every argument verbatim, shell metacharacters and newlines included', async () => {
    const args = [
      '$(id)',
      ';rm -rf /tmp/aa-should-not-exist',
      'line one\nline two',
      '--output=/etc/x',
      "it's",
      '`whoami`',
      '*',
      '"double"',
      ' padded ',
      '&& echo pwned',
      '',
    ];
    const spec = command(['printf', '[%s]', ...args]);
    const o = await runAttempt(spec);
    expect(o.exit_code).toBe(0);
    expect(read(spec.stdout_file)).toBe(args.map((a) => `[${a}]`).join(''));
  });

  it('reports a program that is not on PATH as "command not found"', async () => {
    const o = await runAttempt(command(['aa-no-such-program-xyz', 'arg']));
    expect(o).toMatchObject({
      spawn_error: 'command not found: aa-no-such-program-xyz',
      exit_code: null,
      signal: null,
      pid: null,
      timed_out: false,
    });
  });

  it('resolves the program on the merged PATH', async () => {
    const o = await runAttempt(command(['sh', '-c', 'true'], { env: { PATH: '/aa-nowhere' } }));
    expect(o.spawn_error).toBe('command not found: sh');
  });

  it('reports a missing working directory as such, not as a missing program', async () => {
    const cwd = join(dir, 'absent');
    const o = await runAttempt(command(['true'], { cwd }));
    expect(o.spawn_error).toBe(`working directory not found: ${cwd}`);
  });

  it('reports a program that cannot be executed as "permission denied"', async () => {
    const file = join(dir, 'not-executable');
    await writeFile(file, 'echo hi\n', { mode: 0o644 });
    const o = await runAttempt(command([file]));
    expect(o.spawn_error).toBe(`permission denied: ${file}`);
  });

  it('refuses an empty argv without starting anything', async () => {
    const spec = command([]);
    const o = await runAttempt(spec);
    expect(o.spawn_error).toBe('empty command');
    expect(existsSync(spec.stdout_file)).toBe(false);
  });

  it('refuses an argument holding a NUL byte with a message instead of throwing', async () => {
    const o = await runAttempt(command(['printf', 'a\0b']));
    expect(o.spawn_error).toMatch(/^cannot start printf: .*null bytes/);
  });

  it('reports an output file that cannot be opened without starting the process', async () => {
    const o = await runAttempt(command(['true'], { stdout_file: join(dir, 'absent', 'x.stdout') }));
    expect(o.spawn_error).toMatch(/^cannot open output file: ENOENT/);
    expect(o.pid).toBeNull();
  });

  it('posts { type: "started", pid, started_at } on the port right after spawn', async () => {
    const channel = new MessageChannel();
    const started = new Promise<AttemptStarted>((resolve) => channel.port2.once('message', resolve));
    try {
      const o = await runAttempt(command(['true'], { port: channel.port1 }));
      expect(await started).toEqual({ type: 'started', pid: o.pid, started_at: o.started_at });
    } finally {
      channel.port1.close();
      channel.port2.close();
    }
  });

  it('lets the caller cancel through the process group named in the started message', async () => {
    const channel = new MessageChannel();
    // A moment's delay so the shell has started its background child before the cancel arrives.
    channel.port2.once('message', (m: AttemptStarted) => setTimeout(() => process.kill(-m.pid, 'SIGTERM'), 200));
    try {
      const spec = command(['sh', '-c', 'sleep 100 & echo $!; sleep 100'], { port: channel.port1 });
      const o = await runAttempt(spec);
      expect(o).toMatchObject({ signal: 'SIGTERM', exit_code: null, timed_out: false });
      expect(o.duration_ms).toBeLessThan(5000);
      const grandchild = Number(read(spec.stdout_file).trim());
      expect(grandchild).toBeGreaterThan(0);
      expect(await goneSoon(grandchild)).toBe(true);
    } finally {
      channel.port1.close();
      channel.port2.close();
    }
  });

  it('posts nothing on the port when the program cannot start', async () => {
    const channel = new MessageChannel();
    let messages = 0;
    channel.port2.on('message', () => (messages += 1));
    try {
      await runAttempt(command(['aa-no-such-program-xyz'], { port: channel.port1 }));
      await new Promise((r) => setTimeout(r, 50));
      expect(messages).toBe(0);
    } finally {
      channel.port1.close();
      channel.port2.close();
    }
  });

  it('starts the process with no standard signal blocked or ignored (SIGPIPE included, which Node ignores)', async () => {
    const spec = command(['grep', '-E', '^Sig(Blk|Ign)', '/proc/self/status']);
    await runAttempt(spec);
    const masks = read(spec.stdout_file).trim().split('\n').map((line) => BigInt(`0x${line.split('\t')[1]}`));
    // Signals 1-31; glibc keeps its two internal real-time signals (32, 33) ignored across posix_spawn.
    expect(masks.map((m) => m & 0x7fffffffn)).toEqual([0n, 0n]);
  });

  it('makes the process the leader of a process group of its own', async () => {
    const spec = command(['cat', '/proc/self/stat']);
    const o = await runAttempt(spec);
    const fields = read(spec.stdout_file).slice(read(spec.stdout_file).lastIndexOf(')') + 2).split(' ');
    expect(Number(fields[2])).toBe(o.pid);
  });

  it('looks a relative PATH entry up in the working folder', async () => {
    const cwd = join(dir, `rel-${n}`);
    await mkdir(join(cwd, 'tools'), { recursive: true });
    await writeFile(join(cwd, 'tools', 'aa-here'), '#!/bin/sh\necho found\n', { mode: 0o755 });
    const spec = command(['aa-here'], { cwd, env: { PATH: `/aa-nowhere:tools` } });
    const o = await runAttempt(spec);
    expect(o.spawn_error).toBeNull();
    expect(read(spec.stdout_file)).toBe('found\n');
  });

  it('runs an executable file without a #! line through /bin/sh, as execvp does', async () => {
    const file = join(dir, `no-hash-bang-${n}`);
    await writeFile(file, 'echo "from sh: $1"\n', { mode: 0o755 });
    const spec = command([file, 'arg']);
    const o = await runAttempt(spec);
    expect(o).toMatchObject({ exit_code: 0, spawn_error: null });
    expect(read(spec.stdout_file)).toBe('from sh: arg\n');
  });

  it('reports how a process killed by a signal ended', async () => {
    const o = await runAttempt(command(['sh', '-c', 'kill -USR1 $$']));
    expect(o).toMatchObject({ exit_code: null, signal: 'SIGUSR1', spawn_error: null });
  });
});

describe.each(starters.filter(([, starter]) => starter !== null))('runAttempt started by %s', (_name, starter) => {
  beforeAll(() => useNativeSpawner(starter));
  afterAll(() => useNativeSpawner(null));

  it('gives the process no descriptor beyond stdin (/dev/null), stdout and stderr, inherited ones included', async () => {
    const spec = command(['sh', '-c', 'ls /proc/$$/fd; readlink /proc/$$/fd/0']);
    const o = await runAttempt(spec);
    expect(o.exit_code).toBe(0);
    expect(read(spec.stdout_file).split('\n').filter(Boolean)).toEqual(['0', '1', '2', '/dev/null']);
  });
});
