// Re-running a run submits the same input and parameters again, through the route it first came in by.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, postSubmission, pollBatch, fixture, type TestServer } from '../support/server';
import { addJob, addTask } from '../support/config';
import { publishJob } from '../../src-main/core/publish';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ settings: { queue_hog_size: null, queue_hard_limit: null } });
  addTask(t.core.db, 'echo_n', 'printf %s, $P1 $I1', { parameters: [{ flag: '-n', alias: 'n' }] });
  addJob(t.core.db, 'echo_n', [['echo_n', 0]]);
  addTask(t.core.db, 'typed', 'printf %s, $P1 $P2', {
    parameters: [
      { flag: '--count', alias: 'count', type: 'integer', min: 1, max: 5 },
      { flag: '--note', alias: 'note', type: 'string' },
    ],
  });
  addJob(t.core.db, 'typed', [['typed', 0]]);
  publishJob(t.core.db, 'typed');
});

afterAll(async () => {
  await t?.close();
});

const output = async (uuid: string) => {
  const sub = t.core.runs.submission(uuid);
  const result = t.core.runs.results(sub!.id)[0];
  return (await fetch(`${t.url}/${result.path}`)).text();
};

describe('re-run', () => {
  it('runs an A_A submission again with the same file and parameters', async () => {
    const r = await postSubmission(t.url, { job: 'echo_n', submission_name: 'first', email: 'a@b.com', echo_n_n: '7' }, { name: 'in.txt', content: fixture('file1.txt') });
    const first = (await pollBatch(t.url, r.body.UUID)).submissions[0];
    const again = await t.core.rerun(first.UUID);
    expect(again.submissions).toHaveLength(1);
    expect(again.submissions[0].uuid).not.toBe(first.UUID);
    expect(await t.core.waitFor(again.submissions[0].uuid, 15_000)).toBe(true);
    const out = await output(again.submissions[0].uuid);
    expect(out).toBe(`-n,7,${again.submissions[0].uuid}.input,`);
    expect(t.core.runs.submission(again.submissions[0].uuid)?.submission_name).toBe('first');
  });

  it('runs a native submission again against the same published version with its typed values', async () => {
    const first = await t.core.submitNative(
      { job: 'typed', source: 'json', values: [['typed_count', 3], ['typed_note', 'two words'], ['input_data', 'x\n']], files: [] },
      { ip: '127.0.0.1' },
    );
    expect(await t.core.waitFor(first.uuid, 15_000)).toBe(true);
    const again = await t.core.rerun(first.uuid);
    const uuid = again.submissions[0].uuid;
    expect(await t.core.waitFor(uuid, 15_000)).toBe(true);
    expect(await output(uuid)).toBe('--count,3,--note,two words,');
    const row = t.core.runs.submission(uuid) as unknown as { job_version: number };
    expect(row.job_version).toBe(first.version);
  });
});
