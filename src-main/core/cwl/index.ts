// CWL interchange: import CommandLineTools as Tasks and Workflows as Jobs (all or nothing), export them as CWL v1.2.
import YAML from 'yaml';
import type { Db } from '../store/db';
import { AppError, notFound } from '../errors';
import { EXECUTION_BEHAVIOURS } from '../model/types';
import type { ExecutionBehaviour, Job } from '../model/types';
import { getBackend, getJob, getQueueType, getTask } from '../store/config-repo';
import type { TaskInput } from '../store/config-repo';
import { emptyBundle, type Entry } from '../config/bundle';
import { importRead, type ImportSummary } from '../config';
import { type CwlFile, type CwlProcess, readCwl } from './read';
import { runRefOf, type Site, toolToTask, workflowEnvironment, workflowToJob } from './to-config';
import { jobToWorkflow, type ToolShape, taskToTool } from './from-config';

export type { CwlFile } from './read';
export { AA_NAMESPACE } from './read';

export interface CwlImportOptions {
  /** Jobs made from workflows accept submissions at once (A_A v2 does this); default false. */
  runnable?: boolean;
}

export interface CwlImportSummary extends ImportSummary {
  /** What was left out or ignored, per file (nothing of it stops the import). */
  notes: string[];
}

const baseName = (file: string): string => file.replace(/^.*[\\/]/, '').replace(/\.(cwl|ya?ml|json)$/i, '');

/**
 * Imports `.cwl` files together: tools become Tasks (named by their id, else the file name), workflows Jobs whose
 * steps run tools of the same upload (`run: tool.cwl`, `run: '#id'` in a `$graph`, or inline) or stored Tasks of
 * that name. Names already stored are replaced. Nothing is written unless every file is valid.
 */
export async function importCwl(db: Db, files: CwlFile[], options: CwlImportOptions = {}): Promise<CwlImportSummary> {
  if (files.length === 0) throw new AppError('Invalid', 'No CWL files given.', undefined, [{ path: 'files', message: 'at least one .cwl file is required' }]);
  const problems: Site['problems'] = [];
  const notes: string[] = [];
  const processes: CwlProcess[] = [];
  for (const file of files) {
    const read = await readCwl(file);
    problems.push(...read.problems);
    processes.push(...read.processes);
  }
  const bundle = emptyBundle();
  const where = (p: CwlProcess): string => (p.element ? `${p.file}#${p.element}` : p.file);
  const entryAt = (site: string) => (path: string) => (path ? `${site}: ${path}` : site);

  // Tools first, so workflows can name them.
  const taskNameOf = new Map<CwlProcess, string>();
  const taskEntries = new Map<string, Entry<TaskInput>>();
  for (const p of processes.filter((x) => x.class === 'CommandLineTool')) {
    const name = p.id ?? p.element ?? baseName(p.file);
    const site: Site = { where: where(p), problems, notes };
    const entry: Entry<TaskInput> = { value: toolToTask(p.doc, p.ext, name, site), at: entryAt(site.where) };
    taskNameOf.set(p, name);
    taskEntries.set(name, entry);
    bundle.tasks.push(entry);
  }

  const find = (file: string, element: string | null): CwlProcess | undefined => {
    const inFile = processes.filter((p) => p.file === file);
    if (element) return inFile.find((p) => p.element === element || p.id === element);
    return inFile.length === 1 ? inFile[0] : inFile.find((p) => p.element === 'main');
  };

  for (const wf of processes.filter((x) => x.class === 'Workflow')) {
    // A packed workflow is `#main`; its label then carries the Job's name when it is one.
    const label = wf.element && typeof wf.doc.label === 'string' && /^[\w.-]{1,64}$/.test(wf.doc.label) ? wf.doc.label : null;
    const name = wf.id && wf.id !== 'main' ? wf.id : (label ?? baseName(wf.file));
    const site: Site = { where: where(wf), problems, notes };
    const inherited = workflowEnvironment(wf.doc);
    const taskOf = new Map<string, string>();
    const steps = Array.isArray(wf.doc.steps) ? (wf.doc.steps as Array<Record<string, unknown>>) : [];
    for (const step of steps) {
      const key = String(step.id ?? '').replace(/^.*[#/]/, '');
      const field = `steps.${key}.run`;
      const ref = runRefOf(step.run, wf.file);
      if (ref.kind === 'bad') {
        problems.push({ path: `${site.where}: ${field}`, message: ref.message });
        continue;
      }
      if (ref.kind === 'inline') {
        const ext = wf.inline.get(key) ?? { own: {}, inputs: new Map(), steps: new Map() };
        const own = typeof ref.tool.id === 'string' ? ref.tool.id.replace(/^.*[#/]/, '') : '';
        const taskName = own && !/^_/.test(own) ? own : `${name}_${key}`;
        const toolSite: Site = { where: `${site.where}#${field}`, problems, notes };
        const entry: Entry<TaskInput> = { value: toolToTask(ref.tool, ext, taskName, toolSite, inherited), at: entryAt(toolSite.where) };
        bundle.tasks.push(entry);
        taskOf.set(key, taskName);
        continue;
      }
      const target = find(ref.file, ref.element);
      if (target && target.class === 'CommandLineTool') {
        const taskName = taskNameOf.get(target) as string;
        const entry = taskEntries.get(taskName);
        // Tools of this upload take the workflow's environment; a stored Task is used as it is.
        if (entry) for (const e of inherited) if (!(entry.value.environment ?? []).some((x) => x.env === e.env)) entry.value.environment?.push(e);
        taskOf.set(key, taskName);
      } else if (target) {
        problems.push({ path: `${site.where}: ${field}`, message: 'runs a Workflow: only CommandLineTool steps are supported (no nested workflows)' });
      } else {
        const stored = ref.element ?? baseName(ref.file);
        if (getTask(db, stored)) taskOf.set(key, stored);
        else {
          problems.push({
            path: `${site.where}: ${field}`,
            message: `"${String(step.run)}" is neither a file of this upload nor a stored task "${stored}": upload the tool together with the workflow`,
          });
        }
      }
    }
    bundle.jobs.push({ value: workflowToJob(wf.doc, wf.ext, name, taskOf, site, options.runnable ?? false), at: entryAt(site.where) });
  }
  const summary = importRead(db, 'cwl', { bundle, problems });
  return { ...summary, notes };
}

// ---------------------------------------------------------------------------------------------
// Export

function behaviourOf(db: Db, backend: string | null): ExecutionBehaviour {
  const queue = backend ? getBackend(db, backend)?.queue_type : null;
  return (queue ? getQueueType(db, queue)?.execution_behaviour : null) ?? EXECUTION_BEHAVIOURS.localhost;
}

function shapeOf(db: Db, name: string): ToolShape {
  const task = getTask(db, name);
  if (!task) throw notFound(`no task named "${name}"`);
  return taskToTool(task, behaviourOf(db, task.backend));
}

/** CWL text: a YAML document behind the shebang cwl-runner uses. */
function cwlText(doc: unknown): string {
  return `#!/usr/bin/env cwl-runner\n\n${new YAML.Document(doc, { aliasDuplicateObjects: false }).toString({ lineWidth: 0, flowCollectionPadding: false })}`;
}

/** Every document written is read back by the CWL parser first, so an export is valid CWL or an error. */
async function checked(file: CwlFile): Promise<CwlFile> {
  const read = await readCwl(file);
  if (read.problems.length) {
    throw new AppError('Internal', `exported CWL of ${file.name} does not parse: ${read.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
  return file;
}

/** A Task as one CommandLineTool file (`<task>.cwl`). */
export async function exportTaskCwl(db: Db, name: string): Promise<CwlFile> {
  return checked({ name: `${name}.cwl`, text: cwlText(shapeOf(db, name).tool) });
}

function jobOrThrow(db: Db, name: string): Job {
  const job = getJob(db, name);
  if (!job) throw notFound(`no job named "${name}"`);
  if (job.steps.length === 0) throw new AppError('Invalid', `job "${name}" has no steps: a CWL workflow needs at least one`);
  return job;
}

function shapesOf(db: Db, job: Job): Map<string, ToolShape> {
  return new Map([...new Set(job.steps.map((s) => s.task))].map((t) => [t, shapeOf(db, t)]));
}

/** A Job as one packed document: `$graph` with a tool per Task and the workflow as `#main`. */
export async function exportJobCwl(db: Db, name: string): Promise<CwlFile> {
  const job = jobOrThrow(db, name);
  const shapes = shapesOf(db, job);
  const workflow = jobToWorkflow(job, shapes, (task) => `#${task}`, job.validators);
  const { $namespaces: wfNamespaces, cwlVersion, ...main } = workflow;
  const tools = [...shapes.values()].map(({ tool }) => {
    const { $namespaces, cwlVersion: _version, ...rest } = tool;
    void $namespaces;
    void _version;
    return { ...rest, id: `#${String(rest.id)}` };
  });
  const namespaces = Object.assign(
    {},
    wfNamespaces as Record<string, string> | undefined,
    ...[...shapes.values()].map((s) => (s.tool.$namespaces as Record<string, string> | undefined) ?? {}),
  );
  const doc = {
    ...(Object.keys(namespaces).length ? { $namespaces: namespaces } : {}),
    cwlVersion,
    $graph: [...tools, { ...main, id: '#main', label: job.name }],
  };
  return checked({ name: `${name}.cwl`, text: cwlText(doc) });
}

/** A Job as separate files, as A_A v2's download gives them: `<job>.cwl` running `<task>.cwl` beside it. */
export async function exportJobCwlFiles(db: Db, name: string): Promise<CwlFile[]> {
  const job = jobOrThrow(db, name);
  const shapes = shapesOf(db, job);
  const tools = [...shapes.entries()].map(([task, { tool }]) => ({ name: `${task}.cwl`, text: cwlText(tool) }));
  const workflow = { name: `${name}.cwl`, text: cwlText(jobToWorkflow(job, shapes, (task) => `${task}.cwl`, job.validators)) };
  if (tools.some((t) => t.name === workflow.name)) workflow.name = `${name}.workflow.cwl`;
  for (const file of [...tools, workflow]) await checked(file);
  return [workflow, ...tools];
}
