// Jobs run end to end through the real worker pool: steps, parallel layers, exit rules, messages, results.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, postSubmission, pollBatch, getJson, fixture, FIXTURES, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';

let t: TestServer;
const base = { submission_name: 'run', email: 'a@b.com' };
const file1 = { name: 'file1.txt', content: fixture('file1.txt') };

const messages = (uuid: string): string[] =>
  (t.core.db.prepare('SELECT m.message FROM message m JOIN submission s ON s.id = m.submission_id WHERE s.uuid = ? ORDER BY m.id').all(uuid) as Array<{ message: string }>).map(
    (m) => m.message,
  );

async function run(job: string, extra: Record<string, string> = {}, file = file1) {
  const r = await postSubmission(t.url, { ...base, job, ...extra }, file);
  expect(r.status, r.text).toBe(201);
  const batch = await pollBatch(t.url, r.body.UUID);
  return { batch, sub: batch.submissions[0] };
}

const has = (cmd: string) => {
  try {
    execFileSync('which', [cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null } });
  const db = t.core.db;
  // A_A's documented example job.
  addTask(db, 'tmp_ls', 'ls /tmp', { in_glob: '.input', out_glob: '.contents', stdout_glob: '.contents' });
  addTask(db, 'tmp_wc', 'wc -l $I1', { in_glob: '.contents', out_glob: '.count', stdout_glob: '.count' });
  addJob(db, 'tmp_count', [
    ['tmp_ls', 0],
    ['tmp_wc', 1],
  ]);
  addTask(db, 'cat_in', 'cat $I1', { in_glob: '.input', out_glob: '.a', stdout_glob: '.a' });
  addTask(db, 'wc_c', 'wc -c $I1', { in_glob: '.a', out_glob: '.b', stdout_glob: '.b' });
  addTask(db, 'wc_l', 'wc -l $I1', { in_glob: '.a', out_glob: '.c', stdout_glob: '.c' });
  addTask(db, 'both', 'cat $I1 $I2', { in_glob: '.b,.c', out_glob: '.d', stdout_glob: '.d' });
  addJob(db, 'diamond', [
    ['cat_in', 0],
    ['wc_c', 1],
    ['wc_l', 1],
    ['both', 2],
  ]);
  addJob(db, 'parallel_end', [
    ['cat_in', 0],
    ['wc_c', 1],
    ['wc_l', 1],
  ]);
  addTask(db, 'fails', 'false', { out_glob: '.x', stdout_glob: '.x' });
  addJob(db, 'fails', [['fails', 0]]);
  addTask(db, 'missing_cmd', 'no-such-command-here $I1', { out_glob: '.x', stdout_glob: '.x' });
  addJob(db, 'missing_cmd', [['missing_cmd', 0]]);
  const exit3 = `sh ${path.join(FIXTURES, 'bin', 'exit-with.sh')} 3`;
  addTask(db, 'exit3_continue', exit3, { out_glob: '.x', stdout_glob: '.x', custom_exit_status: '3', custom_exit_behaviour: 0 });
  addTask(db, 'exit3_terminate', exit3, { out_glob: '.x', stdout_glob: '.x', custom_exit_status: '3', custom_exit_behaviour: 1 });
  addTask(db, 'exit3_fail', exit3, { out_glob: '.x', stdout_glob: '.x', custom_exit_status: '3', custom_exit_behaviour: 3 });
  addTask(db, 'after', 'cat $I1', { in_glob: '.x', out_glob: '.y', stdout_glob: '.y', incomplete_outputs_behaviour: 0 });
  addJob(db, 'exit3_continue', [['exit3_continue', 0], ['after', 1]]);
  addJob(db, 'exit3_terminate', [['exit3_terminate', 0], ['after', 1]]);
  addJob(db, 'exit3_fail', [['exit3_fail', 0], ['after', 1]]);
  addTask(db, 'incomplete_fail', 'true', { out_glob: '.nothing', stdout_glob: '.out', incomplete_outputs_behaviour: 3 });
  addTask(db, 'incomplete_terminate', 'true', { out_glob: '.nothing', stdout_glob: '.out', incomplete_outputs_behaviour: 1 });
  addTask(db, 'incomplete_continue', 'true', { out_glob: '.nothing', stdout_glob: '.out', incomplete_outputs_behaviour: 0 });
  addTask(db, 'last', 'echo done', { in_glob: '.out', out_glob: '.z', stdout_glob: '.z' });
  for (const b of ['fail', 'terminate', 'continue']) addJob(db, `incomplete_${b}`, [[`incomplete_${b}`, 0], ['last', 1]]);
  addTask(db, 'env', `sh ${path.join(FIXTURES, 'bin', 'env-check.sh')}`, {
    out_glob: '.out',
    environment: [{ env: 'GREETING', value: 'hello' }],
  });
  addJob(db, 'env', [['env', 0]]);
  addTask(db, 'noisy', `sh ${path.join(FIXTURES, 'bin', 'cat-and-warn.sh')} $I1`, { in_glob: '.input', out_glob: '.n', stdout_glob: '.n' });
  addJob(db, 'noisy', [['noisy', 0]]);
  addTask(db, 'params', 'printf %s, $P1 $P2 $VALUE', {
    parameters: [
      { flag: '-n', alias: 'num' },
      { flag: '--flag', alias: 'sw', bool_valued: true },
      { flag: 'VALUE', alias: 'v' },
    ],
  });
  addJob(db, 'params', [['params', 0]]);
});

afterAll(async () => {
  await t?.close();
});

describe('A_A execution semantics', () => {
  it("runs A_A's tmp_count job: ls /tmp then wc -l of its output", async () => {
    const { batch, sub } = await run('tmp_count');
    expect(batch.state).toBe('Complete');
    expect(sub.state).toBe('Complete');
    expect(sub.last_message).toBe('Completed job at step #2');
    expect(sub.results.map((r: any) => [r.name, r.step])).toEqual([
      ['tmp_ls', 1],
      ['tmp_wc', 2],
    ]);
    const count = await (await fetch(t.url + sub.results[1].data_path)).text();
    const listing = await (await fetch(t.url + sub.results[0].data_path)).text();
    expect(count.trim()).toBe(`${listing.split('\n').filter(Boolean).length} ${sub.UUID}.contents`);
    expect(messages(sub.UUID)).toEqual(['Submitted', 'Running step: 1', 'Completed step: 1', 'Running step: 2', 'Completed job at step #2']);
  });

  it('runs steps of one ordering in parallel and lets a later step read all earlier results', async () => {
    const { sub } = await run('diamond');
    expect(sub.state).toBe('Complete');
    expect(sub.last_message).toBe('Completed job at step #3');
    const d = sub.results.find((r: any) => r.name === 'both');
    const text = await (await fetch(t.url + d.data_path)).text();
    expect(text).toContain(`29 ${sub.UUID}.a`);
    expect(text).toContain(`1 ${sub.UUID}.a`);
    const attempts = t.core.db
      .prepare('SELECT step_key, started_at, ended_at FROM attempt a JOIN submission s ON s.id = a.submission_id WHERE s.uuid = ? ORDER BY a.id')
      .all(sub.UUID) as Array<{ step_key: string; started_at: string; ended_at: string }>;
    expect(attempts.map((a) => a.step_key)).toEqual(['s1', expect.stringMatching(/s2|s3/), expect.stringMatching(/s2|s3/), 's4']);
  });

  it("ends a job whose last steps share an ordering with A_A's chord_end message", async () => {
    const { sub } = await run('parallel_end');
    expect(sub.state).toBe('Complete');
    expect(sub.last_message).toBe('Completed job at step #4');
  });

  it('fails a step with a non-zero exit with A_A\'s run_cmd message', async () => {
    const { batch, sub } = await run('fails');
    expect(batch.state).toBe('Error');
    expect(sub.state).toBe('Error');
    expect(sub.last_message).toBe(`Unable to call commandRunner.run_cmd(): Exit status 1 : 1 : false > ${sub.UUID}.x`);
  });

  it('fails clearly when the command does not exist', async () => {
    const { sub } = await run('missing_cmd');
    expect(sub.state).toBe('Error');
    expect(sub.last_message).toMatch(/^Unable to call commandRunner.run_cmd\(\): .*no-such-command-here.* : 1 : no-such-command-here /);
  });

  it('custom exit CONTINUE goes on to the next step', async () => {
    const { sub } = await run('exit3_continue');
    expect(sub.state).toBe('Complete');
    expect(sub.last_message).toBe('Completed job at step #2');
  });

  it('custom exit TERMINATE completes the job and cuts the chain', async () => {
    const { sub } = await run('exit3_terminate');
    expect(sub.state).toBe('Complete');
    expect(sub.last_message).toBe('Completed job at step #1');
    expect(messages(sub.UUID)).not.toContain('Running step: 2');
  });

  it('custom exit FAIL ends in Error with the ordering in the message', async () => {
    const { sub } = await run('exit3_fail');
    expect(sub.state).toBe('Error');
    expect(sub.last_message).toBe('Failed step, non 0 exit at step:0');
  });

  it('incomplete outputs FAIL ends in Error', async () => {
    const { sub } = await run('incomplete_fail');
    expect(sub.state).toBe('Error');
    expect(sub.last_message).toBe(`Failed with missing outputs: true > ${sub.UUID}.out`);
  });

  it('incomplete outputs TERMINATE completes at that step', async () => {
    const { sub } = await run('incomplete_terminate');
    expect(sub.state).toBe('Complete');
    expect(sub.last_message).toBe('Completed job at step #1');
  });

  it('incomplete outputs CONTINUE goes on', async () => {
    const { sub } = await run('incomplete_continue');
    expect(sub.state).toBe('Complete');
    expect(sub.last_message).toBe('Completed job at step #2');
  });

  it("merges the task's environment into the worker's instead of replacing it", async () => {
    const { sub } = await run('env');
    expect(await (await fetch(t.url + sub.results[0].data_path)).text()).toBe('hello:path');
  });

  it('renders parameters to argv without a shell', async () => {
    const { sub } = await run('params', { params_num: '12', params_sw: 'TRUE', params_v: 'abc' });
    expect(sub.state).toBe('Complete');
    expect(await (await fetch(t.url + sub.results[0].data_path)).text()).toBe('-n,12,--flag,abc,');
    const { sub: off } = await run('params', { params_num: '7', params_sw: 'FALSE', params_v: 'x' });
    expect(await (await fetch(t.url + off.results[0].data_path)).text()).toBe('-n,7,x,');
  });

  it('records each attempt: argv, exit code, timings and kept stdout/stderr', async () => {
    const { sub } = await run('tmp_count');
    const attempts = t.core.db
      .prepare('SELECT a.* FROM attempt a JOIN submission s ON s.id = a.submission_id WHERE s.uuid = ? ORDER BY a.id')
      .all(sub.UUID) as any[];
    expect(attempts).toHaveLength(2);
    expect(JSON.parse(attempts[1].argv)).toEqual(['wc', '-l', `${sub.UUID}.contents`]);
    expect(attempts[1].exit_code).toBe(0);
    expect(attempts[1].state).toBe('done');
    expect(Date.parse(attempts[1].ended_at)).toBeGreaterThanOrEqual(Date.parse(attempts[1].started_at));
    expect(fs.readFileSync(path.join(t.dataDir, attempts[1].stdout_path), 'utf8')).toMatch(/^\d+ /);
    // Nothing was written to stderr, so no file was made for it.
    expect(attempts[1].stderr_path).toBeNull();
  });

  it('keeps a submission in one folder: the input and results side by side, stderr (when written) under logs/', async () => {
    // An upload named like the logs folder is stored under another name, so the two never collide.
    const { sub } = await run('noisy', {}, { name: 'logs', content: Buffer.from('abc\n') });
    expect(sub.state).toBe('Complete');
    const folder = path.join(t.dataDir, 'submissions', sub.UUID);
    expect(sub.input_file).toBe(`/submissions/${sub.UUID}/logs_input`);
    expect(sub.results.map((r: { data_path: string }) => r.data_path)).toEqual([`/submissions/${sub.UUID}/${sub.UUID}.n`]);
    expect(fs.readFileSync(path.join(folder, `${sub.UUID}.n`), 'utf8')).toBe('abc\n');
    const [attempt] = t.core.db
      .prepare('SELECT a.* FROM attempt a JOIN submission s ON s.id = a.submission_id WHERE s.uuid = ?')
      .all(sub.UUID) as Array<{ stderr_path: string }>;
    expect(path.dirname(attempt.stderr_path)).toBe(path.join('submissions', sub.UUID, 'logs'));
    expect(path.basename(attempt.stderr_path)).toMatch(/-1\.stderr$/);
    expect(fs.readFileSync(path.join(t.dataDir, attempt.stderr_path), 'utf8')).toBe('warned\n');
    expect(fs.readdirSync(folder).sort()).toEqual([`${sub.UUID}.n`, 'logs', 'logs_input']);
    // The attempt's working folder is gone once the step is done.
    expect(fs.readdirSync(t.core.paths.work).filter((n) => n.startsWith(sub.UUID))).toEqual([]);
  });

  it('reports a typical run time per job in jobtimes', async () => {
    const r = await getJson(`${t.url}/analytics_automated/jobtimes/`);
    expect(Object.keys(r.body)).toContain('tmp_count');
  });
});

describe('script backends', () => {
  const scripts: Array<[string, string, string]> = [
    ['Python', 'python3', "O1.write(str(len(I1.read())))"],
    ['bash', 'bash', 'wc -c < "$I1" | tr -d " " > "$O1"'],
    ['node', 'node', "const fs = require('fs'); fs.writeFileSync(O1, String(fs.readFileSync(I1).length));"],
    ['R', 'Rscript', 'writeLines(as.character(nchar(paste(readLines(I1), collapse="\\n")) + 1), O1)'],
  ];
  for (const [queue, binary, code] of scripts) {
    it.runIf(has(binary))(`runs a ${queue} code block with A_A's I1/O1 variables`, async () => {
      const db = t.core.db;
      const backend = `${queue}_backend`;
      db.prepare("INSERT OR IGNORE INTO backend (name, queue_type_id, root_path) VALUES (?, (SELECT id FROM queue_type WHERE name = ?), '')").run(backend, queue);
      addTask(db, `script_${queue}`, code, { backend, out_glob: '.len', stdout_glob: '.stdout' });
      addJob(db, `script_${queue}`, [[`script_${queue}`, 0]]);
      const { sub } = await run(`script_${queue}`);
      expect(sub.state, sub.last_message).toBe('Complete');
      const len = sub.results.find((r: any) => r.data_path.endsWith('.len'));
      expect((await (await fetch(t.url + len.data_path)).text()).trim()).toBe('29');
    });
  }
});
