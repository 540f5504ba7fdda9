// The designer's state and every decision it makes: the open Job's graph, Task drafts, history, clipboard, checks, test runs.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from '@xyflow/react';
import { api, ApiError } from '../../api/client';
import { isFinalState, stateLabel } from '../../components/format';
import type {
  Backend,
  Job,
  PreviewCommandResponse,
  Problem,
  QueueType,
  RunEvent,
  Task,
  TaskInput,
  ValidatorTypeInfo,
} from '../../api/types';
import {
  INPUT_ID,
  OUTPUT_ID,
  autoLayout,
  blankTask,
  canConnect,
  draftOf,
  graphToJob,
  isStep,
  jobToGraph,
  makeEdge,
  nextStepKey,
  nextTaskName,
  stagesOf,
  taskInputOf,
  type DesignEdge,
  type DesignNode,
  type StepNode,
  type TaskDraft,
} from './graph';

/** Everything undo/redo restores. */
export interface DesignerDoc {
  name: string;
  description: string | null;
  validators: string[];
  nodes: DesignNode[];
  edges: DesignEdge[];
  drafts: Record<string, TaskDraft>;
}

export type StepRunState = 'waiting' | 'queued' | 'running' | 'done' | 'failed' | 'crash' | 'cancelled' | 'skipped';

export interface TestRun {
  submission_uuid: string;
  batch_uuid: string;
  status: string;
  message: string;
  steps: Record<string, { state: StepRunState; attempt_id: number | null }>;
}

export interface StageInfo {
  stage: number;
  /** Steps in this stage, which run in parallel. */
  width: number;
}

export function stageInfo(doc: DesignerDoc): Record<string, StageInfo> {
  const stages = stagesOf(doc.nodes, doc.edges);
  const width = new Map<number, number>();
  for (const s of stages.values()) width.set(s, (width.get(s) ?? 0) + 1);
  const out: Record<string, StageInfo> = {};
  for (const [id, stage] of stages) out[id] = { stage, width: width.get(stage) ?? 1 };
  return out;
}

export interface DesignerState {
  jobs: Job[];
  tasks: Task[];
  backends: Backend[];
  queueTypes: QueueType[];
  validatorTypes: ValidatorTypeInfo[];
  catalogLoaded: boolean;

  /** Stored name of the open Job; null while it has never been saved. */
  original: string | null;
  published: boolean;
  doc: DesignerDoc | null;
  /** Serialised form of what is stored; `dirty` compares against it. */
  saved: string;
  dirty: boolean;
  past: DesignerDoc[];
  future: DesignerDoc[];
  /** Coalesces typing into one undo step per field. */
  lastEdit: { key: string; at: number } | null;
  clipboard: { nodes: StepNode[]; edges: DesignEdge[] } | null;

  problems: Problem[];
  checkedSerial: string | null;
  samples: Record<string, Record<string, string>>;
  previews: Record<string, PreviewCommandResponse>;
  testRun: TestRun | null;
  busy: 'loading' | 'saving' | 'publishing' | 'running' | null;
  error: string | null;
  /** Stage of each step and how many steps share it (derived from the edges). */
  stages: Record<string, StageInfo>;
  /** Bumped when the canvas should fit the view (after open or auto-layout). */
  fitRequest: number;
  tidCounter: number;

  loadCatalog(): Promise<void>;
  open(name: string): Promise<void>;
  newJob(name: string): void;
  close(): void;
  /** Deletes a stored Job (its steps and validators; Tasks and runs stay). */
  deleteJob(name: string): Promise<boolean>;
  /** Deletes a stored Task: the server removes the steps that use it and joins their neighbours. */
  deleteTask(name: string): Promise<boolean>;

  applyNodeChanges(changes: NodeChange[]): void;
  applyEdgeChanges(changes: EdgeChange[]): void;
  beginDrag(): void;
  connect(connection: Connection): void;
  addStep(taskName: string | null, position: { x: number; y: number }): string;
  setStepTask(nodeId: string, taskName: string): void;
  addValidator(name: string): void;
  removeValidator(name: string): void;
  setMeta(patch: Partial<Pick<DesignerDoc, 'name' | 'description'>>): void;
  updateTask(tid: string, patch: Partial<TaskInput>, field?: string): void;
  select(ids: string[]): void;
  deleteSelection(): void;
  copySelection(): void;
  paste(): void;
  duplicateSelection(): void;
  undo(): void;
  redo(): void;
  layout(): void;
  requestFit(): void;

  save(): Promise<boolean>;
  publish(): Promise<void>;
  unpublish(): Promise<void>;
  refreshProblems(): Promise<void>;
  setSample(tid: string, alias: string, value: string): void;
  refreshPreview(tid: string): Promise<void>;
  startTestRun(file: File, values: Record<string, string>): Promise<void>;
  applyRunEvent(event: RunEvent): void;
  clearTestRun(): void;
  clearError(): void;
}

const HISTORY_LIMIT = 100;
const COALESCE_MS = 1200;

/** The persisted projection of a doc: what Save would write. */
export function serialise(doc: DesignerDoc): string {
  const { job } = graphToJob(doc, doc.nodes, doc.edges, doc.drafts);
  const used = [...new Set(doc.nodes.filter(isStep).map((n) => n.data.tid))].sort();
  return JSON.stringify({ job, tasks: used.map((tid) => (doc.drafts[tid] ? taskInputOf(doc.drafts[tid]) : null)) });
}

const indexes = new WeakMap<Problem[], Map<string, { count: number; first: string }>>();
/** Problems by step key, built once per check so each node looks itself up in O(1). */
export function problemIndex(problems: Problem[]): Map<string, { count: number; first: string }> {
  let index = indexes.get(problems);
  if (!index) {
    index = new Map();
    for (const p of problems) {
      for (const key of p.keys) {
        const known = index.get(key);
        index.set(key, known ? { count: known.count + 1, first: known.first } : { count: 1, first: p.message });
      }
    }
    indexes.set(problems, index);
  }
  return index;
}

export const selectedNodes = (doc: DesignerDoc | null): DesignNode[] => doc?.nodes.filter((n) => n.selected) ?? [];

/** Drafts of the Tasks the open Job's steps use. */
export const usedDrafts = (doc: DesignerDoc): TaskDraft[] => {
  const tids = new Set(doc.nodes.filter(isStep).map((n) => n.data.tid));
  return [...tids].map((tid) => doc.drafts[tid]).filter((d): d is TaskDraft => !!d);
};

const sameTask = (draft: TaskDraft, task: Task | undefined): boolean => {
  if (!task) return false;
  const { id: _id, ...stored } = task;
  return JSON.stringify(stored) === JSON.stringify(taskInputOf({ ...draft, name: task.name }));
};

/** Stored Jobs with a step that uses the Task, by name. */
export const jobsUsingTask = (jobs: Job[], task: string): string[] => jobs.filter((j) => j.steps.some((st) => st.task === task)).map((j) => j.name);

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const FINAL_STEP: ReadonlySet<StepRunState> = new Set(['done', 'failed', 'crash', 'cancelled', 'skipped']);

/**
 * A step's newer news wins: a later attempt, or a final state of the same attempt. Events and
 * the catch-up read race each other, so an older "running" must never undo a "done".
 */
export function withStep(run: TestRun, key: string, next: TestRun['steps'][string]): TestRun {
  const current = run.steps[key];
  if (current && current.attempt_id !== null && next.attempt_id !== null) {
    if (next.attempt_id < current.attempt_id) return run;
    if (next.attempt_id === current.attempt_id && FINAL_STEP.has(current.state) && !FINAL_STEP.has(next.state)) return run;
  }
  return { ...run, steps: { ...run.steps, [key]: next } };
}

/** The run's state; a final state is never replaced by an earlier one, and steps that never started did not run. */
export function withStatus(run: TestRun, status: number, message: string): TestRun {
  const label = stateLabel(status);
  if (isFinalState(run.status) && !isFinalState(label)) return run;
  const steps = { ...run.steps };
  if (isFinalState(label)) for (const k of Object.keys(steps)) if (steps[k].state === 'waiting') steps[k] = { ...steps[k], state: 'skipped' };
  return { ...run, status: label, message, steps };
}

// Run events seen lately, replayed when a test run's id becomes known after its first events.
const RECENT_EVENTS = 200;
const recentEvents: RunEvent[] = [];

export function createDesignerStore() {
  return createStore<DesignerState>()((set, get) => {
    const newTid = (): string => {
      const n = get().tidCounter + 1;
      set({ tidCounter: n });
      return `t${n}`;
    };

    /** Stages change only with the edges or the set of nodes; dragging keeps the old ones. */
    const stagesFor = (doc: DesignerDoc, prev: DesignerDoc | null): Record<string, StageInfo> =>
      prev && prev.edges === doc.edges && prev.nodes.length === doc.nodes.length ? get().stages : stageInfo(doc);

    /** Replace the doc; `history` records the previous one for undo (optionally coalesced by key). */
    const commit = (doc: DesignerDoc, history: boolean | string = true, dirty?: boolean): void => {
      const s = get();
      if (!s.doc) return;
      let past = s.past;
      let lastEdit = s.lastEdit;
      if (history) {
        const now = Date.now();
        const coalesce = typeof history === 'string' && lastEdit?.key === history && now - lastEdit.at < COALESCE_MS;
        if (!coalesce) past = [...past.slice(-(HISTORY_LIMIT - 1)), s.doc];
        lastEdit = typeof history === 'string' ? { key: history, at: now } : null;
      }
      set({
        doc,
        past,
        future: history ? [] : s.future,
        lastEdit,
        dirty: dirty ?? serialise(doc) !== s.saved,
        stages: stagesFor(doc, s.doc),
      });
    };

    const withDoc = <T>(fn: (doc: DesignerDoc) => T): T | undefined => {
      const doc = get().doc;
      return doc ? fn(doc) : undefined;
    };

    const openGraph = (job: Pick<Job, 'name' | 'description' | 'validators' | 'steps'>, original: string | null, published: boolean) => {
      const graph = jobToGraph(job, get().tasks, newTid);
      const doc: DesignerDoc = { name: job.name, description: job.description, validators: job.validators, ...graph };
      set({
        original,
        published,
        doc,
        stages: stageInfo(doc),
        saved: original === null ? '' : serialise(doc),
        dirty: original === null,
        past: [],
        future: [],
        lastEdit: null,
        problems: [],
        checkedSerial: null,
        previews: {},
        testRun: null,
        error: null,
        fitRequest: get().fitRequest + 1,
      });
    };

    return {
      jobs: [],
      tasks: [],
      backends: [],
      queueTypes: [],
      validatorTypes: [],
      catalogLoaded: false,
      original: null,
      published: false,
      doc: null,
      saved: '',
      dirty: false,
      past: [],
      future: [],
      lastEdit: null,
      clipboard: null,
      problems: [],
      checkedSerial: null,
      samples: {},
      previews: {},
      testRun: null,
      busy: null,
      error: null,
      stages: {},
      fitRequest: 0,
      tidCounter: 0,

      async loadCatalog() {
        try {
          const [jobs, tasks, backends, queueTypes, validatorTypes] = await Promise.all([
            api.jobs(),
            api.tasks(),
            api.backends(),
            api.queueTypes(),
            api.validatorTypes(),
          ]);
          set({ jobs, tasks, backends, queueTypes, validatorTypes, catalogLoaded: true });
        } catch (error) {
          set({ error: errorText(error) });
        }
      },

      async open(name) {
        set({ busy: 'loading', error: null });
        try {
          if (!get().catalogLoaded) await get().loadCatalog();
          const job = await api.job(name);
          openGraph(job, job.name, job.runnable);
        } catch (error) {
          set({ error: errorText(error), doc: null, original: null });
        } finally {
          set({ busy: null });
        }
      },

      newJob(name) {
        openGraph({ name, description: null, validators: [], steps: [] }, null, false);
      },

      async deleteJob(name) {
        try {
          await api.deleteJob(name);
          if (get().original === name) get().close();
          set({ jobs: await api.jobs() });
          return true;
        } catch (error) {
          set({ error: errorText(error) });
          return false;
        }
      },

      close() {
        set({ doc: null, original: null, dirty: false, past: [], future: [], testRun: null, problems: [] });
      },

      async deleteTask(name) {
        const storedUsers = jobsUsingTask(get().jobs, name);
        try {
          await api.deleteTask(name);
          const [jobs, tasks] = await Promise.all([api.jobs(), api.tasks()]);
          set({ jobs, tasks, error: null });
        } catch (error) {
          set({ error: errorText(error) });
          return false;
        }
        const { doc, original } = get();
        if (!doc || !Object.values(doc.drafts).some((d) => d.original === name)) return true;
        if (original !== null && storedUsers.includes(original)) {
          // The stored Job just lost those steps: show it as it now is.
          try {
            const job = await api.job(original);
            openGraph(job, job.name, job.runnable);
          } catch (error) {
            set({ error: errorText(error) });
          }
        } else {
          // Only unsaved work uses it: the draft stays and would be saved as a new Task.
          const drafts = Object.fromEntries(Object.entries(doc.drafts).map(([tid, d]) => [tid, d.original === name ? { ...d, original: null } : d]));
          set({ doc: { ...doc, drafts }, dirty: true });
        }
        return true;
      },

      applyNodeChanges(changes) {
        withDoc((doc) => {
          const kept = changes.filter((c) => !(c.type === 'remove' && (c.id === INPUT_ID || c.id === OUTPUT_ID)));
          if (kept.length === 0) return;
          const nodes = applyNodeChanges(kept, doc.nodes) as DesignNode[];
          const removed = new Set(kept.filter((c) => c.type === 'remove').map((c) => (c as { id: string }).id));
          const edges = removed.size ? doc.edges.filter((e) => !removed.has(e.source) && !removed.has(e.target)) : doc.edges;
          // Moves are recorded once at drag start (beginDrag); selection and measuring are not edits.
          // Mid-drag frames skip re-serialising the whole job: a move is a change until the drop says otherwise.
          const cosmetic = kept.every((c) => c.type === 'select' || c.type === 'dimensions');
          const dragging = kept.every((c) => c.type === 'position' && c.dragging);
          commit({ ...doc, nodes, edges }, removed.size > 0, cosmetic ? get().dirty : dragging ? true : undefined);
        });
      },

      applyEdgeChanges(changes) {
        withDoc((doc) => {
          const edges = applyEdgeChanges(changes, doc.edges);
          commit({ ...doc, edges }, changes.some((c) => c.type === 'remove'));
        });
      },

      beginDrag() {
        withDoc((doc) => {
          set({ past: [...get().past.slice(-(HISTORY_LIMIT - 1)), doc], future: [], lastEdit: null });
        });
      },

      connect({ source, target }) {
        withDoc((doc) => {
          if (!canConnect(source, target, doc.edges)) return;
          commit({ ...doc, edges: [...doc.edges, makeEdge(source as string, target as string)] });
        });
      },

      addStep(taskName, position) {
        return (
          withDoc((doc) => {
            const drafts = { ...doc.drafts };
            let tid = taskName ? Object.values(drafts).find((d) => d.name === taskName)?.tid : undefined;
            if (!tid) {
              tid = newTid();
              const stored = taskName ? get().tasks.find((t) => t.name === taskName) : undefined;
              if (stored) drafts[tid] = draftOf(stored, tid);
              else {
                const taken = [...get().tasks.map((t) => t.name), ...Object.values(drafts).map((d) => d.name)];
                const name = taskName ?? nextTaskName(taken);
                drafts[tid] = { ...blankTask(name, get().backends[0]?.name ?? null), tid, original: null };
              }
            }
            const key = nextStepKey(doc.nodes.map((n) => n.id));
            const node: StepNode = { id: key, type: 'step', position, data: { tid }, selected: true };
            const nodes = [...doc.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node];
            commit({ ...doc, nodes, drafts });
            return key;
          }) ?? ''
        );
      },

      setStepTask(nodeId, taskName) {
        withDoc((doc) => {
          const drafts = { ...doc.drafts };
          let tid = Object.values(drafts).find((d) => d.name === taskName)?.tid;
          if (!tid) {
            const stored = get().tasks.find((t) => t.name === taskName);
            if (!stored) return;
            tid = newTid();
            drafts[tid] = draftOf(stored, tid);
          }
          const t = tid;
          const nodes = doc.nodes.map((n) => (n.id === nodeId && isStep(n) ? { ...n, data: { tid: t } } : n));
          commit({ ...doc, nodes, drafts });
        });
      },

      addValidator(name) {
        withDoc((doc) => {
          if (doc.validators.includes(name)) return;
          commit({ ...doc, validators: [...doc.validators, name] });
        });
      },

      removeValidator(name) {
        withDoc((doc) => commit({ ...doc, validators: doc.validators.filter((v) => v !== name) }));
      },

      setMeta(patch) {
        withDoc((doc) => commit({ ...doc, ...patch }, `meta:${Object.keys(patch).join(',')}`));
      },

      updateTask(tid, patch, field) {
        withDoc((doc) => {
          const draft = doc.drafts[tid];
          if (!draft) return;
          commit({ ...doc, drafts: { ...doc.drafts, [tid]: { ...draft, ...patch } } }, `task:${tid}:${field ?? Object.keys(patch).join(',')}`);
        });
      },

      select(ids) {
        withDoc((doc) => {
          const want = new Set(ids);
          const nodes = doc.nodes.map((n) => (!!n.selected === want.has(n.id) ? n : { ...n, selected: want.has(n.id) }));
          const edges = doc.edges.map((e) => (e.selected ? { ...e, selected: false } : e));
          commit({ ...doc, nodes, edges }, false);
        });
      },

      deleteSelection() {
        withDoc((doc) => {
          const removed = new Set(doc.nodes.filter((n) => n.selected && isStep(n)).map((n) => n.id));
          const edges = doc.edges.filter((e) => !e.selected && !removed.has(e.source) && !removed.has(e.target));
          if (removed.size === 0 && edges.length === doc.edges.length) return;
          commit({ ...doc, nodes: doc.nodes.filter((n) => !removed.has(n.id)), edges });
        });
      },

      copySelection() {
        withDoc((doc) => {
          const nodes = doc.nodes.filter((n): n is StepNode => !!n.selected && isStep(n));
          if (nodes.length === 0) return;
          const ids = new Set(nodes.map((n) => n.id));
          set({ clipboard: { nodes, edges: doc.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) } });
        });
      },

      paste() {
        const clip = get().clipboard;
        withDoc((doc) => {
          if (!clip || clip.nodes.length === 0) return;
          const taken = doc.nodes.map((n) => n.id);
          const rename = new Map<string, string>();
          for (const n of clip.nodes) {
            const key = nextStepKey(taken);
            taken.push(key);
            rename.set(n.id, key);
          }
          // Pasted steps keep their Task; a Task copied from another Job comes along as its draft.
          const pasted: StepNode[] = clip.nodes.map((n) => ({
            id: rename.get(n.id) as string,
            type: 'step',
            position: { x: n.position.x + 40, y: n.position.y + 40 },
            data: { tid: n.data.tid },
            selected: true,
          }));
          const edges = clip.edges.map((e) => makeEdge(rename.get(e.source) as string, rename.get(e.target) as string));
          const nodes = [...doc.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...pasted];
          commit({ ...doc, nodes, edges: [...doc.edges, ...edges] });
          set({ clipboard: { nodes: pasted.map((n) => ({ ...n, selected: false })), edges } });
        });
      },

      duplicateSelection() {
        get().copySelection();
        get().paste();
      },

      undo() {
        const { past, future, doc, saved } = get();
        if (!doc || past.length === 0) return;
        const previous = past[past.length - 1];
        set({
          doc: previous,
          past: past.slice(0, -1),
          future: [doc, ...future],
          lastEdit: null,
          dirty: serialise(previous) !== saved,
          stages: stageInfo(previous),
        });
      },

      redo() {
        const { past, future, doc, saved } = get();
        if (!doc || future.length === 0) return;
        const next = future[0];
        set({ doc: next, past: [...past, doc], future: future.slice(1), lastEdit: null, dirty: serialise(next) !== saved, stages: stageInfo(next) });
      },

      layout() {
        withDoc((doc) => {
          commit({ ...doc, nodes: autoLayout(doc.nodes, doc.edges) });
          set({ fitRequest: get().fitRequest + 1 });
        });
      },

      requestFit() {
        set({ fitRequest: get().fitRequest + 1 });
      },

      async save() {
        const s = get();
        const doc = s.doc;
        if (!doc) return false;
        if (!doc.name.trim()) {
          set({ error: 'Give the job a name before saving.' });
          return false;
        }
        set({ busy: 'saving', error: null });
        try {
          const drafts = usedDrafts(doc);
          const names = drafts.map((d) => d.name);
          const clash = names.find((n, i) => names.indexOf(n) !== i);
          if (clash) throw new Error(`two different tasks are both named "${clash}"`);
          for (const draft of drafts) {
            const stored = draft.original ? s.tasks.find((t) => t.name === draft.original) : undefined;
            if (stored && sameTask(draft, stored) && draft.name === stored.name) continue;
            await api.saveTask(draft.original ?? draft.name, taskInputOf(draft));
          }
          const { job } = graphToJob(doc, doc.nodes, doc.edges, doc.drafts);
          const stored = await api.saveJob(s.original ?? job.name, job);
          const tasks = await api.tasks();
          const jobs = await api.jobs();
          // Drafts now match what is stored under their (possibly new) names.
          const savedDrafts = Object.fromEntries(Object.entries(get().doc?.drafts ?? doc.drafts).map(([tid, d]) => [tid, { ...d, original: d.name }]));
          const current = get().doc ?? doc;
          const next = { ...current, drafts: savedDrafts };
          const serial = serialise({ ...doc, drafts: savedDrafts });
          set({
            tasks,
            jobs,
            original: stored.name,
            published: stored.runnable,
            doc: next,
            saved: serial,
            dirty: serialise(next) !== serial,
            busy: null,
          });
          return true;
        } catch (error) {
          const problems = error instanceof ApiError ? error.problems.map((p) => ('path' in p ? `${p.path}: ${p.message}` : p.message)) : [];
          set({ busy: null, error: [errorText(error), ...problems].join('\n') });
          return false;
        }
      },

      async publish() {
        const { original, dirty } = get();
        if (!original || dirty) {
          set({ error: 'Save the job before publishing it.' });
          return;
        }
        set({ busy: 'publishing', error: null });
        try {
          const job = await api.publish(original);
          set({ published: job.runnable, jobs: await api.jobs() });
        } catch (error) {
          if (error instanceof ApiError) {
            const problems = error.problems.filter((p): p is Problem => 'code' in p);
            if (problems.length) set({ problems });
          }
          set({ error: errorText(error) });
        } finally {
          set({ busy: null });
        }
      },

      async unpublish() {
        const { original } = get();
        if (!original) return;
        try {
          const job = await api.unpublish(original);
          set({ published: job.runnable, jobs: await api.jobs() });
        } catch (error) {
          set({ error: errorText(error) });
        }
      },

      async refreshProblems() {
        const doc = get().doc;
        if (!doc) return;
        const serial = serialise(doc) + JSON.stringify(doc.edges.map((e) => e.id));
        if (serial === get().checkedSerial) return;
        const { job, entry, exit } = graphToJob(doc, doc.nodes, doc.edges, doc.drafts);
        try {
          const { problems } = await api.checkJob(job.name, { job, entry, exit, tasks: usedDrafts(doc).map(taskInputOf) });
          // A slower, older answer must not overwrite a newer one.
          const now = get().doc;
          if (now && serialise(now) + JSON.stringify(now.edges.map((e) => e.id)) === serial) set({ problems, checkedSerial: serial });
        } catch (error) {
          set({ error: errorText(error) });
        }
      },

      setSample(tid, alias, value) {
        set({ samples: { ...get().samples, [tid]: { ...(get().samples[tid] ?? {}), [alias]: value } } });
      },

      async refreshPreview(tid) {
        const draft = get().doc?.drafts[tid];
        if (!draft) return;
        const samples = get().samples[tid] ?? {};
        const values: Record<string, string> = {};
        for (const p of draft.parameters) values[p.alias] = samples[p.alias] ?? p.default ?? (p.bool_valued ? 'TRUE' : '');
        try {
          const preview = await api.previewCommand({
            executable: draft.executable,
            parameters: draft.parameters,
            values,
            task: draft.name,
            in_glob: draft.in_glob,
            out_glob: draft.out_glob,
            stdout_glob: draft.stdout_glob,
          });
          set({ previews: { ...get().previews, [tid]: preview } });
        } catch (error) {
          set({ previews: { ...get().previews, [tid]: { error: errorText(error) } } });
        }
      },

      async startTestRun(file, values) {
        const { original, dirty, doc } = get();
        if (!original || dirty || !doc) {
          set({ error: 'Save the job before a test run.' });
          return;
        }
        set({ busy: 'running', error: null });
        const form = new FormData();
        form.append('job', original);
        form.append('submission_name', 'designer test run');
        for (const [field, value] of Object.entries(values)) form.append(field, value);
        form.append('input_data', file, file.name);
        const steps: TestRun['steps'] = {};
        for (const n of doc.nodes.filter(isStep)) steps[n.id] = { state: 'waiting', attempt_id: null };
        try {
          const started = await api.testRun(form);
          set({
            testRun: { submission_uuid: started.submission_uuid, batch_uuid: started.batch_uuid, status: 'Submitted', message: 'Submitted', steps },
          });
          // Events that arrived before the reply named a run we did not know yet: replay them.
          for (const event of recentEvents) get().applyRunEvent(event);
          // And the run may have moved on before the event stream connected at all.
          const detail = await api.run(started.submission_uuid);
          set((s) => {
            if (!s.testRun || s.testRun.submission_uuid !== started.submission_uuid) return {};
            let run = s.testRun;
            for (const a of detail.attempts) {
              run = withStep(run, a.step_key, { state: a.state as StepRunState, attempt_id: a.id });
            }
            return { testRun: withStatus(run, detail.run.status, detail.run.last_message) };
          });
        } catch (error) {
          set({ error: errorText(error) });
        } finally {
          set({ busy: null });
        }
      },

      applyRunEvent(event) {
        recentEvents.push(event);
        if (recentEvents.length > RECENT_EVENTS) recentEvents.shift();
        const run = get().testRun;
        if (!run) return;
        if (event.type === 'attempt' && event.submission_uuid === run.submission_uuid) {
          // 0: the attempt's row is not written yet (a quick attempt is stored once it ends).
          set({ testRun: withStep(run, event.step_key, { state: event.state, attempt_id: event.attempt_id || null }) });
        } else if (event.type === 'submission' && event.uuid === run.submission_uuid) {
          set({ testRun: withStatus(run, event.status, event.last_message) });
        }
      },

      clearTestRun() {
        set({ testRun: null });
      },

      clearError() {
        set({ error: null });
      },
    };
  });
}

export type DesignerStore = ReturnType<typeof createDesignerStore>;
export const designerStore = createDesignerStore();
export const useDesigner = <T>(selector: (s: DesignerState) => T): T => useStore(designerStore, selector);
