// Owns the designer graph ↔ Job conversion, stage numbering and auto-layout (pure: no React, no network).
import type { Edge, Node } from '@xyflow/react';
import type { Job, JobInput, Task, TaskInput } from '../../api/types';

export const INPUT_ID = '__input';
export const OUTPUT_ID = '__output';

export type StepData = { tid: string };
// Not 'input'/'output': React Flow styles its built-in node types by those names.
export type InputNode = Node<Record<string, unknown>, 'jobInput'>;
export type StepNode = Node<StepData, 'step'>;
export type OutputNode = Node<Record<string, unknown>, 'jobOutput'>;
export type DesignNode = InputNode | StepNode | OutputNode;
export type DesignEdge = Edge;

/** A Task as the designer edits it: `tid` is stable across renames, `original` is the stored name (null if new). */
export interface TaskDraft extends TaskInput {
  tid: string;
  original: string | null;
}

export const isStep = (n: DesignNode): n is StepNode => n.type === 'step';
export const edgeId = (source: string, target: string): string => `${source}->${target}`;
export const makeEdge = (source: string, target: string): DesignEdge => ({ id: edgeId(source, target), source, target });

export const COLUMN = 280;
export const ROW = 130;

export function blankTask(name: string, backend: string | null): TaskInput {
  return {
    name,
    description: null,
    backend,
    in_glob: '.input',
    out_glob: '',
    stdout_glob: null,
    executable: '',
    incomplete_outputs_behaviour: 3,
    custom_exit_status: null,
    custom_exit_behaviour: null,
    timeout: null,
    retries: 0,
    parameters: [],
    environment: [],
    configuration: [],
  };
}

export function draftOf(task: Task, tid: string): TaskDraft {
  const { id: _id, ...rest } = task;
  return { ...rest, tid, original: task.name };
}

/** The stored shape of a draft (what PUT /tasks takes). */
export function taskInputOf(draft: TaskDraft): TaskInput {
  const { tid: _tid, original: _original, ...input } = draft;
  return input;
}

/**
 * Stage (layer) of each step: 0 for steps fed only by the Input, else one more than the deepest
 * upstream step. Tolerates cycles (a back edge is ignored) so a broken draft still lays out.
 */
export function stagesOf(nodes: DesignNode[], edges: DesignEdge[]): Map<string, number> {
  const steps = new Set(nodes.filter(isStep).map((n) => n.id));
  const upstream = new Map<string, string[]>();
  for (const id of steps) upstream.set(id, []);
  for (const e of edges) if (steps.has(e.source) && steps.has(e.target)) upstream.get(e.target)?.push(e.source);
  const stage = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = stage.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return -1;
    visiting.add(id);
    let s = 0;
    for (const u of upstream.get(id) ?? []) s = Math.max(s, visit(u) + 1);
    visiting.delete(id);
    stage.set(id, s);
    return s;
  };
  for (const id of steps) visit(id);
  return stage;
}

export interface Conversion {
  job: JobInput;
  /** Steps wired from the Input node. */
  entry: string[];
  /** Steps wired to the Output node. */
  exit: string[];
}

/**
 * Graph → Job: each Step node is a step whose `after` is its upstream Step nodes; the Input node
 * feeds the steps with no upstream and the Output node is implicit (steps with no downstream).
 */
export function graphToJob(
  meta: { name: string; description: string | null; validators: string[] },
  nodes: DesignNode[],
  edges: DesignEdge[],
  drafts: Record<string, TaskDraft>,
): Conversion {
  const stepNodes = nodes.filter(isStep);
  const ids = new Set(stepNodes.map((n) => n.id));
  const stage = stagesOf(nodes, edges);
  const upstream = new Map<string, string[]>();
  for (const e of edges) if (ids.has(e.source) && ids.has(e.target)) upstream.set(e.target, [...(upstream.get(e.target) ?? []), e.source]);
  const steps = stepNodes.map((n) => ({
    key: n.id,
    task: drafts[n.data.tid]?.name ?? '',
    after: upstream.get(n.id) ?? [],
    ordering: stage.get(n.id) ?? 0,
    x: Math.round(n.position.x),
    y: Math.round(n.position.y),
  }));
  return {
    job: { name: meta.name, description: meta.description, validators: meta.validators, steps },
    entry: edges.filter((e) => e.source === INPUT_ID && ids.has(e.target)).map((e) => e.target),
    exit: edges.filter((e) => e.target === OUTPUT_ID && ids.has(e.source)).map((e) => e.source),
  };
}

export interface Graph {
  nodes: DesignNode[];
  edges: DesignEdge[];
  drafts: Record<string, TaskDraft>;
}

/** Job → graph: the inverse of graphToJob; steps without stored positions are auto-laid out. */
export function jobToGraph(job: Pick<Job, 'steps'>, tasks: Task[], newTid: () => string): Graph {
  const drafts: Record<string, TaskDraft> = {};
  const tidByName = new Map<string, string>();
  const tidFor = (name: string): string => {
    const known = tidByName.get(name);
    if (known) return known;
    const tid = newTid();
    const task = tasks.find((t) => t.name === name);
    drafts[tid] = task ? draftOf(task, tid) : { ...blankTask(name, null), tid, original: name };
    tidByName.set(name, tid);
    return tid;
  };
  const nodes: DesignNode[] = [
    { id: INPUT_ID, type: 'jobInput', position: { x: 0, y: 0 }, data: {}, deletable: false },
    ...job.steps.map(
      (s): StepNode => ({ id: s.key, type: 'step', position: { x: s.x ?? 0, y: s.y ?? 0 }, data: { tid: tidFor(s.task) } }),
    ),
    { id: OUTPUT_ID, type: 'jobOutput', position: { x: 0, y: 0 }, data: {}, deletable: false },
  ];
  const keys = new Set(job.steps.map((s) => s.key));
  const downstream = new Set(job.steps.flatMap((s) => s.after));
  const edges: DesignEdge[] = [];
  for (const s of job.steps) {
    const after = s.after.filter((a) => keys.has(a));
    if (after.length === 0) edges.push(makeEdge(INPUT_ID, s.key));
    for (const a of after) edges.push(makeEdge(a, s.key));
  }
  for (const s of job.steps) if (!downstream.has(s.key)) edges.push(makeEdge(s.key, OUTPUT_ID));
  const positioned = job.steps.length > 0 && job.steps.every((s) => s.x !== null && s.y !== null);
  if (!positioned) return { nodes: autoLayout(nodes, edges), edges, drafts };
  return { nodes: placeEnds(nodes), edges, drafts };
}

/** Input left of the leftmost step and Output right of the rightmost, both vertically centred. */
export function placeEnds(nodes: DesignNode[]): DesignNode[] {
  const steps = nodes.filter(isStep);
  if (steps.length === 0) {
    return nodes.map((n) =>
      n.id === INPUT_ID ? { ...n, position: { x: 0, y: 0 } } : n.id === OUTPUT_ID ? { ...n, position: { x: COLUMN * 2, y: 0 } } : n,
    );
  }
  const xs = steps.map((n) => n.position.x);
  const ys = steps.map((n) => n.position.y);
  const mid = (Math.min(...ys) + Math.max(...ys)) / 2;
  return nodes.map((n) => {
    if (n.id === INPUT_ID) return { ...n, position: { x: Math.min(...xs) - COLUMN, y: mid } };
    if (n.id === OUTPUT_ID) return { ...n, position: { x: Math.max(...xs) + COLUMN, y: mid } };
    return n;
  });
}

/**
 * Columns by stage (Input first, Output last), rows within a column ordered by the mean row of
 * each step's upstream nodes, which keeps most edges from crossing.
 */
export function autoLayout(nodes: DesignNode[], edges: DesignEdge[]): DesignNode[] {
  const stage = stagesOf(nodes, edges);
  const columns = new Map<number, string[]>();
  for (const n of nodes.filter(isStep)) {
    const s = stage.get(n.id) ?? 0;
    columns.set(s, [...(columns.get(s) ?? []), n.id]);
  }
  const row = new Map<string, number>([[INPUT_ID, 0]]);
  const position = new Map<string, { x: number; y: number }>();
  const order = [...columns.keys()].sort((a, b) => a - b);
  for (const s of order) {
    const ids = columns.get(s) ?? [];
    const weight = (id: string): number => {
      const ups = edges.filter((e) => e.target === id && row.has(e.source)).map((e) => row.get(e.source) as number);
      return ups.length ? ups.reduce((a, b) => a + b, 0) / ups.length : 0;
    };
    const sorted = ids
      .map((id, i) => ({ id, w: weight(id), i }))
      .sort((a, b) => a.w - b.w || a.i - b.i)
      .map((x) => x.id);
    sorted.forEach((id, i) => {
      const r = i - (sorted.length - 1) / 2;
      row.set(id, r);
      position.set(id, { x: (s + 1) * COLUMN, y: r * ROW });
    });
  }
  const last = order.length ? order[order.length - 1] + 2 : 2;
  return nodes.map((n) => {
    if (n.id === INPUT_ID) return { ...n, position: { x: 0, y: 0 } };
    if (n.id === OUTPUT_ID) return { ...n, position: { x: last * COLUMN, y: 0 } };
    const p = position.get(n.id);
    return p ? { ...n, position: p } : n;
  });
}

/** A step key not yet used: step_1, step_2, … */
export function nextStepKey(taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let i = 1; ; i++) if (!used.has(`step_${i}`)) return `step_${i}`;
}

/** A task name not yet used: new_task, new_task_2, … */
export function nextTaskName(taken: Iterable<string>, base = 'new_task'): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** Whether an edge from `source` to `target` is allowed at all (cycles are allowed: the check reports them). */
export function canConnect(source: string | null, target: string | null, edges: DesignEdge[]): boolean {
  if (!source || !target || source === target) return false;
  if (source === OUTPUT_ID || target === INPUT_ID) return false;
  if (source === INPUT_ID && target === OUTPUT_ID) return false;
  return !edges.some((e) => e.source === source && e.target === target);
}
