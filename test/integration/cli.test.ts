// The `aa` command line, run as a real process against the built app.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../support/server';

const AA = path.join(ROOT, 'bin', 'aa.js');
const aa = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = spawnSync(process.execPath, [AA, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** A data folder holding one job of one local task, imported from `cfg` (the config file, left in the folder). */
function oneTaskJob(job: string, executable: string, glob: string): { dir: string; cfg: string } {
  const dir = tempDir();
  const cfg = path.join(dir, `${job}.yaml`);
  fs.writeFileSync(
    cfg,
    `format: aa-workbench/1\ntasks:\n  - { name: t, backend: local, executable: "${executable}", in_glob: .input, out_glob: ${glob}, stdout_glob: ${glob} }\njobs:\n  - { name: ${job}, runnable: true, steps: [{ key: a, task: t }] }\n`,
  );
  expect(aa(['import', cfg, '--data-dir', dir]).code).toBe(0);
  return { dir, cfg };
}

describe('aa', () => {
  it('prints usage for --help and for each command', () => {
    const top = aa(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['serve', 'import', 'export', 'run']) expect(top.out).toContain(cmd);
    const serve = aa(['serve', '--help']);
    expect(serve.code).toBe(0);
    expect(serve.out).toContain('--paused');
    expect(serve.out).toContain('--data-dir');
  });

  it('rejects unknown flags and commands with exit code 2 and a clear message', () => {
    const flag = aa(['serve', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.err).toContain("unknown option '--bogus'");
    const cmd = aa(['frobnicate']);
    expect(cmd.code).toBe(2);
    expect(cmd.err).toContain('unknown command');
    expect(aa(['serve', '--port', 'abc']).code).toBe(2);
  });

  it('imports the tmp_count example, exports it identically, and runs it locally', () => {
    const dir = tempDir();
    const imp = aa(['import', path.join(ROOT, 'resources', 'examples', 'tmp_count.yaml'), '--data-dir', dir]);
    expect(imp.code, imp.err).toBe(0);
    expect(imp.out).toContain('created');
    const first = aa(['export', '--data-dir', dir]).out;
    const file = path.join(dir, 'export.yaml');
    expect(aa(['export', file, '--data-dir', dir]).code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(first);
    const other = tempDir();
    expect(aa(['import', file, '--data-dir', other]).code).toBe(0);
    expect(aa(['export', '--data-dir', other]).out).toBe(first);

    const run = aa(['run', 'tmp_count', path.join(ROOT, 'test', 'fixtures', 'file1.txt'), '--data-dir', dir]);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/tmp_count \S+: Complete \(Completed job at step #2\)/);
    const files = run.out.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
    expect(files).toHaveLength(2);
    expect(fs.readFileSync(files[1], 'utf8')).toMatch(/^\d+ \S+\.contents\n$/);
  });

  it("gives tasks the environment it was started with, without the server's own thread-pool setting", () => {
    const { dir } = oneTaskJob('showenv', 'env', '.env');
    const environment = (env: NodeJS.ProcessEnv) => {
      const run = aa(['run', 'showenv', path.join(ROOT, 'test', 'fixtures', 'file1.txt'), '--data-dir', dir], env);
      expect(run.code, run.err).toBe(0);
      const file = run.out.split('\n').find((l) => l.trim().endsWith('.env'));
      return fs.readFileSync(file!.trim(), 'utf8').split('\n');
    };
    const plain = environment({ UV_THREADPOOL_SIZE: undefined, AA_TEST_MARK: 'kept' });
    expect(plain).toContain('AA_TEST_MARK=kept');
    expect(plain.filter((l) => l.startsWith('UV_THREADPOOL_SIZE='))).toEqual([]);
    // A size the user chose is theirs, and reaches the tasks.
    expect(environment({ UV_THREADPOOL_SIZE: '3' })).toContain('UV_THREADPOOL_SIZE=3');
  });

  it('uses AA_DATA_DIR when --data-dir is not given', () => {
    const dir = tempDir();
    expect(aa(['import', path.join(ROOT, 'resources', 'examples', 'tmp_count.yaml')], { AA_DATA_DIR: dir }).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'workbench.sqlite'))).toBe(true);
  });

  it('exits non-zero when the run ends in Error, and on a bad import without changing the store', () => {
    const { dir, cfg } = oneTaskJob('fails', 'false', '.o');
    const run = aa(['run', 'fails', path.join(ROOT, 'test', 'fixtures', 'file1.txt'), '--data-dir', dir]);
    expect(run.code).toBe(1);
    expect(run.out).toContain('Error (Unable to call commandRunner.run_cmd(): Exit status 1');
    const before = aa(['export', '--data-dir', dir]).out;
    fs.writeFileSync(cfg, 'format: aa-workbench/1\njobs:\n  - { name: j, steps: [{ key: a, task: nope }] }\n');
    const bad = aa(['import', cfg, '--data-dir', dir]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('jobs[0].steps[0].task');
    expect(aa(['export', '--data-dir', dir]).out).toBe(before);
  });

  it('serves with --paused: submissions are stored and only run after resume', async () => {
    const dir = tempDir();
    expect(aa(['import', path.join(ROOT, 'resources', 'examples', 'tmp_count.yaml'), '--data-dir', dir]).code).toBe(0);
    const child = spawn(process.execPath, [AA, 'serve', '--port', '0', '--paused', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = out.match(/Workbench: (http:\/\/[^/\s]+)\/#token=(\S+)/);
          if (m) resolve({ url: m[1], token: m[2] });
        });
        child.once('exit', (c) => reject(new Error(`exited ${c}: ${out}`)));
      });
      const form = new FormData();
      for (const [k, v] of Object.entries({ job: 'tmp_count', submission_name: 'p', email: 'a@b.com' })) form.append(k, v);
      form.append('input_data', new Blob(['hello']), 'in.txt');
      const posted = await fetch(`${url}/analytics_automated/submission/`, { method: 'POST', body: form });
      expect(posted.status).toBe(201);
      const { UUID } = (await posted.json()) as { UUID: string };
      await new Promise((r) => setTimeout(r, 500));
      const state = async () => ((await (await fetch(`${url}/analytics_automated/submission/${UUID}`)).json()) as { state: string }).state;
      expect(await state()).toBe('Submitted');
      const resumed = await fetch(`${url}/api/admin/queue/resume`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
      expect(resumed.status).toBe(200);
      const deadline = Date.now() + 15_000;
      while ((await state()) !== 'Complete' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await state()).toBe('Complete');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
