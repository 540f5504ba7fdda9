// The designer store: editing actions, history, clipboard, dirty tracking, and save/check/publish against a real server.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configureApi } from '../../src-renderer/src/api/client';
import { createDesignerStore, jobsUsingTask, withStatus, withStep, type DesignerStore, type TestRun } from '../../src-renderer/src/pages/designer/store';
import { INPUT_ID, OUTPUT_ID, isStep } from '../../src-renderer/src/pages/designer/graph';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
let store: DesignerStore;

beforeAll(async () => {
  t = await startTestServer({ paused: true });
  configureApi({ origin: t.url, token: t.server.token });
});

afterAll(async () => {
  await t?.close();
});

beforeEach(async () => {
  store = createDesignerStore();
  await store.getState().loadCatalog();
});

const s = () => store.getState();
const steps = () => s().doc?.nodes.filter(isStep) ?? [];
const tidOf = (key: string) => steps().find((n) => n.id === key)?.data.tid as string;

/** Builds tmp_count in the store the way the canvas does: drops, typing, handle drags. */
function buildTmpCount(name = 'tmp_count') {
  s().newJob(name);
  const a = s().addStep(null, { x: 300, y: 0 });
  s().updateTask(tidOf(a), { name: `${name}_list`, executable: 'ls /tmp', in_glob: '.input', out_glob: '.contents', stdout_glob: '.contents' });
  const b = s().addStep(null, { x: 600, y: 0 });
  s().updateTask(tidOf(b), { name: `${name}_count`, executable: 'wc -l $I1', in_glob: '.contents', out_glob: '.count', stdout_glob: '.count' });
  s().connect({ source: INPUT_ID, target: a, sourceHandle: null, targetHandle: null });
  s().connect({ source: a, target: b, sourceHandle: null, targetHandle: null });
  s().connect({ source: b, target: OUTPUT_ID, sourceHandle: null, targetHandle: null });
  return { a, b };
}

describe('editing', () => {
  it('starts a new job with only the Input and Output, unsaved', () => {
    s().newJob('fresh');
    expect(s().doc?.nodes.map((n) => n.id)).toEqual([INPUT_ID, OUTPUT_ID]);
    expect(s().dirty).toBe(true);
    expect(s().original).toBeNull();
  });

  it('adds a step with a new Task draft on the local backend, selected', () => {
    s().newJob('j');
    const key = s().addStep(null, { x: 10, y: 20 });
    const node = steps()[0];
    expect(key).toBe('step_1');
    expect(node.selected).toBe(true);
    expect(s().doc?.drafts[node.data.tid]).toMatchObject({ name: 'new_task', backend: 'local', original: null });
  });

  it('refuses self edges and duplicate edges, and derives stages from the edges', () => {
    const { a, b } = buildTmpCount();
    const edges = s().doc?.edges.length;
    s().connect({ source: a, target: a, sourceHandle: null, targetHandle: null });
    s().connect({ source: a, target: b, sourceHandle: null, targetHandle: null });
    expect(s().doc?.edges.length).toBe(edges);
    expect(s().stages[a]).toEqual({ stage: 0, width: 1 });
    expect(s().stages[b]).toEqual({ stage: 1, width: 1 });
  });

  it('undoes and redoes whole edits, coalescing typing into one step', () => {
    s().newJob('j');
    const key = s().addStep(null, { x: 0, y: 0 });
    const tid = tidOf(key);
    for (const text of ['l', 'ls', 'ls /', 'ls /tmp']) s().updateTask(tid, { executable: text }, 'executable');
    expect(s().doc?.drafts[tid].executable).toBe('ls /tmp');
    s().undo();
    expect(s().doc?.drafts[tid].executable).toBe('');
    s().undo();
    expect(steps()).toHaveLength(0);
    s().redo();
    s().redo();
    expect(s().doc?.drafts[tidOf(key)].executable).toBe('ls /tmp');
  });

  it('deletes selected steps with their edges but never the Input or Output', () => {
    const { a } = buildTmpCount();
    s().select([a, INPUT_ID, OUTPUT_ID]);
    s().deleteSelection();
    expect(s().doc?.nodes.map((n) => n.id)).toEqual([INPUT_ID, OUTPUT_ID, 'step_2']);
    expect(s().doc?.edges.map((e) => e.id)).toEqual([`step_2->${OUTPUT_ID}`]);
  });

  it('copies and pastes steps with the edges between them, under new keys and the same Task', () => {
    const { a, b } = buildTmpCount();
    s().select([a, b]);
    s().copySelection();
    s().paste();
    const pasted = steps().filter((n) => n.selected);
    expect(pasted.map((n) => n.id)).toEqual(['step_3', 'step_4']);
    expect(pasted.map((n) => n.data.tid)).toEqual([tidOf(a), tidOf(b)]);
    expect(s().doc?.edges.some((e) => e.source === 'step_3' && e.target === 'step_4')).toBe(true);
    expect(pasted[0].position.x).toBe(340);
  });

  it('adds each validator once and removes it again', () => {
    s().newJob('j');
    s().addValidator('seq');
    s().addValidator('seq');
    expect(s().doc?.validators).toEqual(['seq']);
    s().removeValidator('seq');
    expect(s().doc?.validators).toEqual([]);
  });
});

describe('with the server', () => {
  it('saves new Tasks and the Job, then is clean; a move makes it dirty again', async () => {
    const { a } = buildTmpCount('saved_job');
    expect(await s().save()).toBe(true);
    expect(s().error).toBeNull();
    expect(s().dirty).toBe(false);
    expect(s().original).toBe('saved_job');
    const stored = t.core.lookup.job('saved_job');
    expect(stored?.steps.map((st) => [st.key, st.task, st.after])).toEqual([
      ['step_1', 'saved_job_list', []],
      ['step_2', 'saved_job_count', ['step_1']],
    ]);
    s().applyNodeChanges([{ type: 'position', id: a, position: { x: 500, y: 40 } }]);
    expect(s().dirty).toBe(true);
  });

  it('reopens a saved job as the same graph, clean', async () => {
    buildTmpCount('reopened');
    await s().save();
    const fresh = createDesignerStore();
    await fresh.getState().open('reopened');
    const doc = fresh.getState().doc;
    expect(fresh.getState().dirty).toBe(false);
    expect(doc?.edges.map((e) => e.id).sort()).toEqual([`${INPUT_ID}->step_1`, 'step_1->step_2', `step_2->${OUTPUT_ID}`].sort());
  });

  it('renames a Task in place when its name is edited and saved', async () => {
    const { a } = buildTmpCount('renamer');
    await s().save();
    s().updateTask(tidOf(a), { name: 'renamer_listing' });
    expect(await s().save()).toBe(true);
    expect(t.core.lookup.task('renamer_list')).toBeNull();
    expect(t.core.lookup.job('renamer')?.steps[0].task).toBe('renamer_listing');
  });

  it('shows the server check: a cycle, then publishes once it is fixed', async () => {
    const { a, b } = buildTmpCount('cyclic');
    await s().save();
    s().connect({ source: b, target: a, sourceHandle: null, targetHandle: null });
    await s().refreshProblems();
    expect(s().problems.map((p) => p.code)).toContain('cycle');
    s().undo();
    await s().refreshProblems();
    expect(s().problems).toEqual([]);
    expect(s().dirty).toBe(false);
    await s().publish();
    expect(s().published).toBe(true);
    expect(t.core.lookup.job('cyclic')?.runnable).toBe(true);
  });

  it('reports why saving failed instead of losing the edit', async () => {
    s().newJob('incomplete');
    s().addStep(null, { x: 0, y: 0 });
    expect(await s().save()).toBe(false);
    expect(s().error).toMatch(/out_glob/);
    expect(s().dirty).toBe(true);
  });

  it('deletes a Task: the open job that used it reopens without that step, its neighbours joined', async () => {
    buildTmpCount('loses_step');
    await s().save();
    expect(jobsUsingTask(s().jobs, 'loses_step_list')).toEqual(['loses_step']);
    expect(await s().deleteTask('loses_step_list')).toBe(true);
    expect(s().tasks.map((x) => x.name)).not.toContain('loses_step_list');
    expect(steps().map((n) => s().doc?.drafts[n.data.tid].name)).toEqual(['loses_step_count']);
    expect(s().doc?.edges.map((e) => e.id).sort()).toEqual([`${INPUT_ID}->step_2`, `step_2->${OUTPUT_ID}`].sort());
    expect(s().dirty).toBe(false);
  });

  it('leaves an unsaved job its copy of a deleted Task, to be saved as a new Task', async () => {
    buildTmpCount('keeps_copy');
    await s().save();
    const other = createDesignerStore();
    await other.getState().loadCatalog();
    other.getState().newJob('draft_user');
    const key = other.getState().addStep('keeps_copy_list', { x: 0, y: 0 });
    expect(await other.getState().deleteTask('keeps_copy_list')).toBe(true);
    const node = other.getState().doc?.nodes.filter(isStep).find((n) => n.id === key);
    expect(other.getState().doc?.drafts[node?.data.tid ?? '']).toMatchObject({ name: 'keeps_copy_list', original: null });
    expect(other.getState().dirty).toBe(true);
  });

  it('renders a live command preview from sample parameter values', async () => {
    s().newJob('preview');
    const key = s().addStep(null, { x: 0, y: 0 });
    const tid = tidOf(key);
    s().updateTask(tid, {
      name: 'blast',
      executable: 'blastp $P1 -query $I1',
      parameters: [{ flag: '-evalue', alias: 'e', default: '10', bool_valued: false, spacing: true, switchless: false }],
    });
    s().setSample(tid, 'e', '0.001');
    await s().refreshPreview(tid);
    expect(s().previews[tid]).toEqual({ argv: ['blastp', '-evalue', '0.001', '-query', 'f7a314fe.input'] });
  });
});

describe('test run state', () => {
  const run: TestRun = {
    submission_uuid: 'u',
    batch_uuid: 'b',
    status: 'Running',
    message: '',
    steps: { a: { state: 'waiting', attempt_id: null }, b: { state: 'waiting', attempt_id: null } },
  };

  it('never lets an older read of an attempt undo its final state', () => {
    const done = withStep(run, 'a', { state: 'done', attempt_id: 7 });
    expect(withStep(done, 'a', { state: 'running', attempt_id: 7 }).steps.a.state).toBe('done');
    expect(withStep(done, 'a', { state: 'failed', attempt_id: 6 }).steps.a.state).toBe('done');
    expect(withStep(done, 'a', { state: 'running', attempt_id: 8 }).steps.a).toEqual({ state: 'running', attempt_id: 8 });
  });

  it('marks steps that never started as not run once the run is over, and keeps the final state', () => {
    const over = withStatus(withStep(run, 'a', { state: 'failed', attempt_id: 1 }), 3, 'Failed');
    expect(over.status).toBe('Error');
    expect(over.steps.b.state).toBe('skipped');
    expect(withStatus(over, 1, 'Running step: 1').status).toBe('Error');
  });
});
