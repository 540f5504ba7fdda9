// The designer's graph ↔ Job conversion, stage numbering, auto-layout and connection rules.
import { describe, expect, it } from 'vitest';
import {
  INPUT_ID,
  OUTPUT_ID,
  autoLayout,
  canConnect,
  graphToJob,
  jobToGraph,
  makeEdge,
  nextStepKey,
  nextTaskName,
  stagesOf,
  type DesignEdge,
  type DesignNode,
  type TaskDraft,
} from '../../src-renderer/src/pages/designer/graph';
import type { Job, Task } from '../../src-main/core/model/types';

const task = (id: number, name: string): Task => ({
  id,
  name,
  description: null,
  backend: 'local',
  in_glob: '.input',
  out_glob: '.out',
  stdout_glob: null,
  executable: 'cat $I1',
  incomplete_outputs_behaviour: 3,
  custom_exit_status: null,
  custom_exit_behaviour: null,
  timeout: null,
  retries: 0,
  parameters: [],
  environment: [],
  configuration: [],
});

const ends: DesignNode[] = [
  { id: INPUT_ID, type: 'jobInput', position: { x: 0, y: 0 }, data: {} },
  { id: OUTPUT_ID, type: 'jobOutput', position: { x: 900, y: 0 }, data: {} },
];
const stepNode = (id: string, tid: string, x = 0, y = 0): DesignNode => ({ id, type: 'step', position: { x, y }, data: { tid } });
const drafts = (...names: string[]): Record<string, TaskDraft> =>
  Object.fromEntries(names.map((n, i) => [`t${i}`, { ...task(i, n), tid: `t${i}`, original: n }]));
const meta = { name: 'j', description: null, validators: ['seq'] };

describe('graphToJob', () => {
  it('turns Input edges into steps with no upstream and Step edges into `after`', () => {
    const nodes = [...ends, stepNode('a', 't0', 300, 0), stepNode('b', 't1', 600, 0)];
    const edges = [makeEdge(INPUT_ID, 'a'), makeEdge('a', 'b'), makeEdge('b', OUTPUT_ID)];
    const { job, entry, exit } = graphToJob(meta, nodes, edges, drafts('list_tmp', 'count_lines'));
    expect(job).toEqual({
      name: 'j',
      description: null,
      validators: ['seq'],
      steps: [
        { key: 'a', task: 'list_tmp', after: [], ordering: 0, x: 300, y: 0 },
        { key: 'b', task: 'count_lines', after: ['a'], ordering: 1, x: 600, y: 0 },
      ],
    });
    expect(entry).toEqual(['a']);
    expect(exit).toEqual(['b']);
  });

  it('gives parallel steps the same ordering and a join step every upstream key', () => {
    const nodes = [...ends, stepNode('a', 't0'), stepNode('b', 't1'), stepNode('c', 't2')];
    const edges = [makeEdge(INPUT_ID, 'a'), makeEdge(INPUT_ID, 'b'), makeEdge('a', 'c'), makeEdge('b', 'c'), makeEdge('c', OUTPUT_ID)];
    const { job } = graphToJob(meta, nodes, edges, drafts('x', 'y', 'z'));
    expect(job.steps.map((s) => [s.key, s.ordering, s.after])).toEqual([
      ['a', 0, []],
      ['b', 0, []],
      ['c', 1, ['a', 'b']],
    ]);
  });

  it('rounds positions so dragging by sub-pixels does not count as a change', () => {
    const { job } = graphToJob(meta, [...ends, stepNode('a', 't0', 10.4, 19.6)], [], drafts('x'));
    expect(job.steps[0]).toMatchObject({ x: 10, y: 20 });
  });
});

describe('jobToGraph', () => {
  it('is the inverse of graphToJob: Input feeds root steps, leaves feed Output', () => {
    const job: Pick<Job, 'steps'> = {
      steps: [
        { id: 1, key: 'a', task: 'list_tmp', ordering: 0, after: [], x: 100, y: 0 },
        { id: 2, key: 'b', task: 'count_lines', ordering: 1, after: ['a'], x: 400, y: 0 },
      ],
    };
    let n = 0;
    const graph = jobToGraph(job, [task(1, 'list_tmp'), task(2, 'count_lines')], () => `t${++n}`);
    expect(graph.edges.map((e) => e.id).sort()).toEqual([`${INPUT_ID}->a`, 'a->b', `b->${OUTPUT_ID}`].sort());
    expect(Object.values(graph.drafts).map((d) => [d.name, d.original])).toEqual([
      ['list_tmp', 'list_tmp'],
      ['count_lines', 'count_lines'],
    ]);
    const back = graphToJob({ name: 'j', description: null, validators: [] }, graph.nodes, graph.edges, graph.drafts);
    expect(back.job.steps.map((s) => ({ key: s.key, task: s.task, after: s.after, x: s.x, y: s.y }))).toEqual(
      job.steps.map((s) => ({ key: s.key, task: s.task, after: s.after, x: s.x, y: s.y })),
    );
  });

  it('shares one Task draft between steps that use the same Task', () => {
    const job = {
      steps: [
        { id: 1, key: 'a', task: 'same', ordering: 0, after: [], x: null, y: null },
        { id: 2, key: 'b', task: 'same', ordering: 0, after: [], x: null, y: null },
      ],
    };
    let n = 0;
    const graph = jobToGraph(job, [task(1, 'same')], () => `t${++n}`);
    expect(Object.keys(graph.drafts)).toHaveLength(1);
  });

  it('lays out steps that have no stored position (A_A imports)', () => {
    const job = {
      steps: [
        { id: 1, key: 'a', task: 'x', ordering: 0, after: [], x: null, y: null },
        { id: 2, key: 'b', task: 'x', ordering: 1, after: ['a'], x: null, y: null },
      ],
    };
    const graph = jobToGraph(job, [task(1, 'x')], () => 't1');
    const pos = Object.fromEntries(graph.nodes.map((node) => [node.id, node.position.x]));
    expect(pos[INPUT_ID]).toBeLessThan(pos.a);
    expect(pos.a).toBeLessThan(pos.b);
    expect(pos.b).toBeLessThan(pos[OUTPUT_ID]);
  });
});

describe('stagesOf and autoLayout', () => {
  const nodes = [...ends, stepNode('a', 't0'), stepNode('b', 't0'), stepNode('c', 't0')];
  const edges: DesignEdge[] = [makeEdge(INPUT_ID, 'a'), makeEdge(INPUT_ID, 'b'), makeEdge('a', 'c'), makeEdge('b', 'c')];

  it('numbers stages by the longest upstream path', () => {
    expect(Object.fromEntries(stagesOf(nodes, edges))).toEqual({ a: 0, b: 0, c: 1 });
  });

  it('still numbers a graph with a cycle (the check reports the cycle)', () => {
    const cyclic = [...edges, makeEdge('c', 'a')];
    expect(stagesOf(nodes, cyclic).size).toBe(3);
  });

  it('puts parallel steps in one column and stacks them', () => {
    const laid = Object.fromEntries(autoLayout(nodes, edges).map((n) => [n.id, n.position]));
    expect(laid.a.x).toBe(laid.b.x);
    expect(laid.a.y).not.toBe(laid.b.y);
    expect(laid.c.x).toBeGreaterThan(laid.a.x);
    expect(laid[OUTPUT_ID].x).toBeGreaterThan(laid.c.x);
    expect(laid[INPUT_ID].x).toBeLessThan(laid.a.x);
  });
});

describe('connection rules and names', () => {
  it('refuses self edges, duplicates, edges into the Input and out of the Output', () => {
    const edges = [makeEdge('a', 'b')];
    expect(canConnect('a', 'a', edges)).toBe(false);
    expect(canConnect('a', 'b', edges)).toBe(false);
    expect(canConnect('a', INPUT_ID, edges)).toBe(false);
    expect(canConnect(OUTPUT_ID, 'a', edges)).toBe(false);
    expect(canConnect(INPUT_ID, OUTPUT_ID, edges)).toBe(false);
    expect(canConnect('b', 'a', edges)).toBe(true);
  });

  it('picks the first free step key and task name', () => {
    expect(nextStepKey(['step_1', 'step_3'])).toBe('step_2');
    expect(nextTaskName([])).toBe('new_task');
    expect(nextTaskName(['new_task', 'new_task_2'])).toBe('new_task_3');
  });
});
